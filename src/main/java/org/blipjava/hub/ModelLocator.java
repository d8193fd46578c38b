package org.blipjava.hub;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import org.blipjava.hub.HubHttp.Answer;
import org.blipjava.hub.HubHttp.Metadata;
import org.blipjava.hub.HubHttp.NetworkException;

/**
 * Turns a model argument into a local directory: an existing directory as is, or a Hub repository
 * id ({@code org/name}) as a snapshot folder of the standard Hugging Face cache, downloading what
 * is missing. Files cached by Python's {@code huggingface_hub} are reused and the files this class
 * downloads are usable by Python: same layout, same locks folder, same {@code refs/} and
 * {@code .no_exist/} markers.
 *
 * <p>Online, the first file of a request is checked with the Hub to learn the commit the revision
 * points to; every other file is then taken from that commit's snapshot when present. Offline
 * ({@code HF_HUB_OFFLINE}) or when the Hub cannot be reached, a complete cached snapshot of the
 * revision is used, else a {@link HubUnreachableException} is thrown.
 *
 * <p>Thread-safe; concurrent downloads of one file (also by other processes) are serialized by a
 * lock file. Close it to release the HTTP client.
 */
public final class ModelLocator implements AutoCloseable {
    /** The revision used when none is given. */
    public static final String DEFAULT_REVISION = "main";

    private static final int DOWNLOAD_ATTEMPTS = 4;
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern WINDOWS_DRIVE = Pattern.compile("^[A-Za-z]:.*");

    private final HubEnvironment env;
    private final DownloadListener listener;
    private final HubHttp http;
    private final Path userHome;

    /** A locator for {@code env} that reports nothing about downloads. */
    public ModelLocator(HubEnvironment env) {
        this(builder(env));
    }

    /** A locator for {@code env} that reports downloads to {@code listener}. */
    public ModelLocator(HubEnvironment env, DownloadListener listener) {
        this(builder(env).listener(listener));
    }

    private ModelLocator(Builder b) {
        this.env = b.env;
        this.listener = b.listener;
        this.userHome = b.userHome;
        this.http = new HubHttp(env.endpoint(), env.token(), b.connectTimeout, b.metadataTimeout, b.downloadTimeout,
                b.stallTimeout);
    }

    /**
     * A locator configured from the process environment ({@link HubEnvironment#fromSystem()}) that
     * shows a progress bar on stderr when stderr is a terminal.
     */
    public static ModelLocator fromSystem() {
        return fromSystem(ConsoleProgressListener.forStderr(false));
    }

    /** A locator configured from the process environment that reports downloads to {@code listener}. */
    public static ModelLocator fromSystem(DownloadListener listener) {
        return builder(HubEnvironment.fromSystem()).listener(listener).build();
    }

    /** A builder for a locator over {@code env}, for tests and callers that tune timeouts. */
    public static Builder builder(HubEnvironment env) {
        return new Builder(env);
    }

    /** The settings this locator uses. */
    public HubEnvironment environment() {
        return env;
    }

    /** {@link #resolve(String, String, ModelFiles)} for a BLIP model at the default revision. */
    public Path resolve(String modelArg) {
        return resolve(modelArg, null, ModelFiles.BLIP);
    }

    /** {@link #resolve(String, String, ModelFiles)} for a BLIP model. */
    public Path resolve(String modelArg, String revision) {
        return resolve(modelArg, revision, ModelFiles.BLIP);
    }

    /**
     * Resolves a model argument to a directory.
     *
     * @param modelArg a local directory, or a Hub repository id such as {@code Salesforce/blip-vqa-base}
     * @param revision branch, tag or commit; null for {@value #DEFAULT_REVISION}
     * @param files the files needed, all required; null for {@link ModelFiles#BLIP}
     * @return the directory holding the files
     */
    public Path resolve(String modelArg, String revision, List<String> files) {
        return resolve(modelArg, revision, files == null ? ModelFiles.BLIP : ModelFiles.of(files));
    }

    /**
     * Resolves a model argument to a directory.
     *
     * @param modelArg a local directory, or a Hub repository id such as {@code Salesforce/blip-vqa-base}
     * @param revision branch, tag or commit; null for {@value #DEFAULT_REVISION}
     * @param files which files are needed (ignored for a local directory)
     * @return the directory: {@code modelArg} itself, or {@code <cache>/models--org--name/snapshots/<commit>}
     * @throws ModelNotFoundException no such directory, invalid id, or the repository, revision or a
     *     required file does not exist
     * @throws HubAccessException the Hub refused access (401/403)
     * @throws HubUnreachableException offline or no connection, and the cache lacks files
     * @throws HubException a corrupt download or an unusable cache
     */
    public Path resolve(String modelArg, String revision, ModelFiles files) {
        Objects.requireNonNull(modelArg, "modelArg");
        Objects.requireNonNull(files, "files");
        Path local = localDirectory(modelArg);
        if (local != null) {
            return local;
        }
        RepoId repo = new RepoId(modelArg);
        String rev = revision == null || revision.isBlank() ? DEFAULT_REVISION : revision.strip();
        checkRevision(rev);
        RepoCache cache = new RepoCache(env.cacheDir(), repo);
        if (env.offline()) {
            Path snapshot = cache.completeSnapshot(rev, files);
            if (snapshot != null) {
                return snapshot;
            }
            throw new HubUnreachableException("HF_HUB_OFFLINE is set and " + describe(repo, rev)
                    + " is not complete in the cache at " + cache.root()
                    + "; unset HF_HUB_OFFLINE to download it, or pass --model with a local directory", null);
        }
        try {
            return new Fetch(repo, rev, cache).run(files);
        } catch (NetworkException e) {
            Path snapshot = cache.completeSnapshot(rev, files);
            if (snapshot != null) {
                return snapshot;
            }
            throw new HubUnreachableException("cannot reach " + env.endpoint() + " to download " + describe(repo, rev)
                    + " (" + e.getMessage() + ") and it is not in the cache at " + cache.root()
                    + "; connect to the internet, or pass --model with a local directory", e);
        } catch (IOException e) {
            throw new HubException("cannot write to the Hub cache at " + env.cacheDir() + " (" + e
                    + "); check its permissions and free space, or set HF_HUB_CACHE to another directory", e);
        }
    }

    @Override
    public void close() {
        http.close();
    }

    /** The directory {@code arg} names, null when it should be taken as a repository id. */
    private Path localDirectory(String arg) {
        String expanded = arg;
        if (arg.equals("~") || arg.startsWith("~/") || arg.startsWith("~" + File.separator)) {
            expanded = userHome + arg.substring(1);
        }
        Path p = null;
        try {
            p = Path.of(expanded);
        } catch (InvalidPathException e) {
            // Not a path on this OS; it may still be a repository id (checked next).
        }
        if (p != null && Files.isDirectory(p)) {
            return p.toAbsolutePath().normalize();
        }
        if (p != null && Files.exists(p)) {
            throw new ModelNotFoundException(p.toAbsolutePath() + " is a file, not a model directory; pass the "
                    + "directory that holds config.json, or a Hub id such as Salesforce/blip-image-captioning-base");
        }
        if (looksLikePath(arg)) {
            String shown = p == null ? arg : p.toAbsolutePath().normalize().toString();
            throw new ModelNotFoundException("no such model directory: " + shown + "; check the path, or pass a "
                    + "Hub id such as Salesforce/blip-image-captioning-base");
        }
        return null;
    }

    private static boolean looksLikePath(String arg) {
        if (arg.equals(".") || arg.equals("..") || arg.startsWith("./") || arg.startsWith("../")
                || arg.startsWith("/") || arg.startsWith("~") || arg.contains("\\")
                || WINDOWS_DRIVE.matcher(arg).matches()) {
            return true;
        }
        if (File.separatorChar != '/' && arg.indexOf(File.separatorChar) >= 0) {
            return true;
        }
        return arg.indexOf('/') != arg.lastIndexOf('/'); // more than the one org/name slash
    }

    // refs/<revision> is a file path: refuse revisions that could leave the refs folder.
    private static void checkRevision(String rev) {
        boolean bad = rev.startsWith("/") || rev.endsWith("/") || rev.contains("\\")
                || rev.chars().anyMatch(c -> c < 0x20 || c == 0x7f);
        for (String part : rev.split("/")) {
            bad |= part.isEmpty() || part.equals(".") || part.equals("..");
        }
        if (bad) {
            throw new ModelNotFoundException("invalid revision '" + rev
                    + "'; use a branch, tag or commit such as main, v1.0 or a 40-character commit sha");
        }
    }

    private static String describe(RepoId repo, String rev) {
        return DEFAULT_REVISION.equals(rev) ? repo.id() : repo.id() + " (revision " + rev + ")";
    }

    /** One resolve call's state: the commit the revision resolved to, once known. */
    private final class Fetch {
        private final RepoId repo;
        private final String revision;
        private final RepoCache cache;
        private String commit;

        Fetch(RepoId repo, String revision, RepoCache cache) {
            this.repo = repo;
            this.revision = revision;
            this.cache = cache;
            this.commit = RepoCache.COMMIT.matcher(revision).matches() ? revision : null;
        }

        Path run(ModelFiles files) throws NetworkException, IOException {
            for (String f : files.required()) {
                if (fetch(f) == null) {
                    throw missingFile(f);
                }
            }
            for (String f : files.optional()) {
                fetch(f);
            }
            if (files.weights()) {
                fetchWeights();
            }
            if (commit == null) {
                throw new HubException(env.endpoint() + " did not say which commit " + describe(repo, revision)
                        + " is at; HF_ENDPOINT must be a Hugging Face Hub");
            }
            Path snapshot = cache.snapshot(commit);
            Files.createDirectories(snapshot);
            return snapshot;
        }

        private void fetchWeights() throws NetworkException, IOException {
            if (fetch(ModelFiles.SAFETENSORS) != null || fetchSharded(ModelFiles.SAFETENSORS_INDEX)
                    || fetch(ModelFiles.PYTORCH) != null || fetchSharded(ModelFiles.PYTORCH_INDEX)) {
                return;
            }
            throw new ModelNotFoundException(describe(repo, revision) + " on " + env.endpoint()
                    + " has no weights: none of " + ModelFiles.SAFETENSORS + ", " + ModelFiles.SAFETENSORS_INDEX
                    + ", " + ModelFiles.PYTORCH + " or " + ModelFiles.PYTORCH_INDEX
                    + " exists; pass a repository holding a transformers BLIP checkpoint");
        }

        private boolean fetchSharded(String indexName) throws NetworkException, IOException {
            Path index = fetch(indexName);
            if (index == null) {
                return false;
            }
            for (String shard : RepoCache.shardsOf(index)) {
                if (fetch(shard) == null) {
                    throw missingFile(shard + " (listed in " + indexName + ")");
                }
            }
            return true;
        }

        /** The snapshot path of {@code file}, or null when the repository does not have it. */
        private Path fetch(String file) throws NetworkException, IOException {
            if (commit != null) {
                Path cached = cache.cachedFile(commit, file);
                if (cached != null) {
                    return cached;
                }
                if (cache.knownMissing(commit, file)) {
                    return null;
                }
            }
            URI url = resolveUrl(commit != null ? commit : revision, file);
            switch (http.head(url)) {
                case Metadata m -> {
                    adopt(m.commit());
                    Path cached = cache.cachedFile(commit, file);
                    if (cached != null) {
                        return cached;
                    }
                    return cache.link(commit, file, fetchBlob(m, file));
                }
                case Answer a -> {
                    explain(a, file);
                    String c = a.header("X-Repo-Commit");
                    if (c != null && RepoCache.COMMIT.matcher(c.strip()).matches()) {
                        adopt(c.strip());
                    }
                    if (commit != null) {
                        cache.markMissing(commit, file);
                    }
                    return null;
                }
            }
        }

        private void adopt(String newCommit) throws IOException {
            if (commit == null) {
                commit = newCommit;
                cache.writeRef(revision, newCommit);
            }
        }

        /** Throws for every answer except "this file does not exist". */
        private void explain(Answer a, String file) {
            String code = a.errorCode();
            boolean noToken = env.token() == null;
            if (a.status() == 401) {
                throw new HubAccessException(noToken
                        ? "repository " + repo + " was not found on " + env.endpoint() + " or needs authentication "
                                + "(HTTP 401); check the id, and if it is private or gated set HF_TOKEN to an access "
                                + "token that can read it"
                        : "the Hub token (HF_TOKEN or the token file in HF_HOME) was refused for " + repo + " on "
                                + env.endpoint() + " (HTTP 401); check the id, and that HF_TOKEN is a valid token "
                                + "that can read the repository", 401);
            }
            if (a.status() == 403) {
                throw new HubAccessException("GatedRepo".equals(code)
                        ? "access to " + repo + " is gated (HTTP 403); request access on its page on "
                                + env.endpoint() + " and set HF_TOKEN to a token of an account that was granted access"
                        : env.endpoint() + " refused access to " + repo + " (HTTP 403); set HF_TOKEN to an access "
                                + "token with read access to it", 403);
            }
            if (a.status() == 404 && "RepoNotFound".equals(code)) {
                throw new ModelNotFoundException("repository not found: " + repo + " on " + env.endpoint()
                        + "; check the id (org/name)" + (noToken ? ", set HF_TOKEN if it is private," : "")
                        + " or pass --model with a local directory");
            }
            if (a.status() == 404 && "RevisionNotFound".equals(code)) {
                throw new ModelNotFoundException("revision '" + revision + "' not found in " + repo + " on "
                        + env.endpoint() + "; use an existing branch, tag or commit (default " + DEFAULT_REVISION + ")");
            }
            if (a.status() != 404) {
                throw new HubException("unexpected HTTP " + a.status() + " for " + a.url()
                        + "; check HF_ENDPOINT and the model id");
            }
        }

        private ModelNotFoundException missingFile(String file) {
            return new ModelNotFoundException("file " + file + " not found in " + describe(repo, revision) + " on "
                    + env.endpoint() + "; is it a transformers BLIP repository?");
        }

        private Path fetchBlob(Metadata m, String file) throws NetworkException, IOException {
            Path blob = cache.blob(m.etag());
            if (Files.isRegularFile(blob)) {
                return blob;
            }
            Files.createDirectories(blob.getParent());
            Path lockFile = cache.lockFile(m.etag());
            Files.createDirectories(lockFile.getParent());
            // Closing the channel releases the lock, also when the download fails.
            try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                acquire(channel, lockFile);
                if (Files.isRegularFile(blob)) {
                    return blob; // another thread or process finished it while we waited
                }
                Path partial = blob.resolveSibling(m.etag() + ".incomplete");
                for (int attempt = 1; ; attempt++) {
                    long before = Files.exists(partial) ? Files.size(partial) : 0;
                    try {
                        http.download(m.location(), partial, m.size(), file, listener);
                        break;
                    } catch (NetworkException e) {
                        long after = Files.exists(partial) ? Files.size(partial) : 0;
                        // Resume at once while bytes keep coming; give up on a dead connection.
                        if (attempt >= DOWNLOAD_ATTEMPTS || (after <= before && attempt > 1)) {
                            throw e;
                        }
                    }
                }
                verify(partial, m, file);
                RepoCache.moveReplacing(partial, blob);
                return blob;
            }
        }

        private void verify(Path partial, Metadata m, String file) throws IOException {
            long size = Files.size(partial);
            if (m.size() >= 0 && size != m.size()) {
                Files.deleteIfExists(partial);
                throw new HubException("the download of " + file + " from " + repo + " has " + size
                        + " bytes but the Hub announced " + m.size() + "; it was deleted, try again");
            }
            if (SHA256.matcher(m.etag()).matches()) {
                String actual = sha256(partial);
                if (!actual.equals(m.etag())) {
                    Files.deleteIfExists(partial);
                    throw new HubException("the download of " + file + " from " + repo
                            + " failed its SHA-256 check (expected " + m.etag() + ", got " + actual
                            + "); it was deleted, try again");
                }
            }
        }

        private URI resolveUrl(String rev, String file) {
            return URI.create(env.endpoint() + "/" + repo.id() + "/resolve/" + encode(rev, false) + "/"
                    + encode(file, true));
        }
    }

    private static void acquire(FileChannel channel, Path lockFile) throws IOException {
        while (true) {
            try {
                channel.lock();
                return;
            } catch (OverlappingFileLockException e) {
                // Another thread of this JVM holds it; JVM file locks are per process, so wait here.
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new HubException("interrupted while waiting for the download lock " + lockFile);
                }
            }
        }
    }

    static String sha256(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Percent-encodes all but RFC 3986 unreserved characters (and '/' when {@code keepSlash}). */
    static String encode(String s, boolean keepSlash) {
        StringBuilder out = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '.' || c == '_' || c == '~' || (keepSlash && c == '/')) {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
        return out.toString();
    }

    /** Settings of a {@link ModelLocator}. */
    public static final class Builder {
        private final HubEnvironment env;
        private DownloadListener listener = DownloadListener.NONE;
        private Duration connectTimeout = Duration.ofSeconds(10);
        private Duration metadataTimeout = Duration.ofSeconds(10);
        private Duration downloadTimeout = Duration.ofSeconds(60);
        private Duration stallTimeout = Duration.ofSeconds(60);
        private Path userHome = Path.of(System.getProperty("user.home"));

        private Builder(HubEnvironment env) {
            this.env = Objects.requireNonNull(env, "env");
        }

        /** Who hears about downloads (default: nobody). */
        public Builder listener(DownloadListener l) {
            this.listener = Objects.requireNonNull(l, "listener");
            return this;
        }

        /** How long to wait for a connection (default 10 s). */
        public Builder connectTimeout(Duration d) {
            this.connectTimeout = positive(d, "connectTimeout");
            return this;
        }

        /** How long to wait for the answer to a metadata request (default 10 s, as huggingface_hub). */
        public Builder metadataTimeout(Duration d) {
            this.metadataTimeout = positive(d, "metadataTimeout");
            return this;
        }

        /** How long to wait for a download to start answering (default 60 s). */
        public Builder downloadTimeout(Duration d) {
            this.downloadTimeout = positive(d, "downloadTimeout");
            return this;
        }

        /** How long a download may go without receiving a byte before it is retried (default 60 s). */
        public Builder stallTimeout(Duration d) {
            this.stallTimeout = positive(d, "stallTimeout");
            return this;
        }

        /** The directory a leading {@code ~} in a model argument stands for (default: user.home). */
        public Builder userHome(Path home) {
            this.userHome = Objects.requireNonNull(home, "home");
            return this;
        }

        /** The locator; close it when done. */
        public ModelLocator build() {
            return new ModelLocator(this);
        }

        private static Duration positive(Duration d, String what) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " must be a positive duration, got " + d);
            }
            return d;
        }
    }
}
