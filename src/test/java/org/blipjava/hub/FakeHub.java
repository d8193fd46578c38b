package org.blipjava.hub;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback stand-in for the Hugging Face Hub: {@code /<repo>/resolve/<rev>/<file>} answers HEAD
 * and GET with the Hub's headers (X-Repo-Commit, ETag, X-Error-Code); "LFS" files are a 302 to a
 * second server (the "CDN", another port, so another host for the client) carrying X-Linked-Etag
 * (sha256) and X-Linked-Size. Both servers honour Range. Every request is logged.
 */
final class FakeHub implements AutoCloseable {
    /** One logged request. */
    record Request(String server, String method, String path, String authorization, String range) {}

    /** A repository: commits with their files, and branch/tag names pointing to commits. */
    static final class Repo {
        final Map<String, Map<String, byte[]>> commits = new ConcurrentHashMap<>();
        final Map<String, String> refs = new ConcurrentHashMap<>();
        final Set<String> lfs = ConcurrentHashMap.newKeySet();
    }

    private final HttpServer hub;
    private final ServerSocket cdn;
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final CountDownLatch closing = new CountDownLatch(1);
    private final List<Request> log = new ArrayList<>();
    private final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private final Map<String, String> renamed = new ConcurrentHashMap<>();
    private final Map<String, byte[]> blobsBySha256 = new ConcurrentHashMap<>();

    /** When set, the hub answers 401 to requests without {@code Bearer <token>}. */
    volatile String requiredToken;
    /** When true (and the token is right), the hub answers 403 GatedRepo. */
    volatile boolean gated;
    /** How many upcoming CDN GETs send only half of their bytes and then drop the connection. */
    final AtomicInteger truncateNextGets = new AtomicInteger();
    /** How many upcoming CDN GETs send half of their bytes and then go silent (connection kept open). */
    final AtomicInteger stallNextGets = new AtomicInteger();
    /** When true the CDN flips one byte of every body (same size, wrong sha256). */
    volatile boolean corruptBodies;
    /** Extra bytes the CDN appends to every full body (wrong size). */
    volatile int extraBytes;

    FakeHub() throws IOException {
        InetSocketAddress loopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        hub = HttpServer.create(loopback, 0);
        hub.createContext("/", this::handleHub);
        hub.setExecutor(pool);
        hub.start();
        // The CDN is a raw socket server: only that way can it drop or stall a connection mid-body.
        cdn = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        pool.execute(this::acceptCdn);
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + hub.getAddress().getPort());
    }

    URI cdnBase() {
        return URI.create("http://127.0.0.1:" + cdn.getLocalPort());
    }

    /** Adds a commit of {@code repoId} with {@code files}; names in {@code lfsFiles} are served as LFS. */
    void addCommit(String repoId, String commit, Map<String, byte[]> files, Set<String> lfsFiles) {
        Repo r = repos.computeIfAbsent(repoId, k -> new Repo());
        r.commits.put(commit, new LinkedHashMap<>(files));
        r.lfs.addAll(lfsFiles);
        for (String f : lfsFiles) {
            blobsBySha256.put(sha256(files.get(f)), files.get(f));
        }
    }

    void setRef(String repoId, String ref, String commit) {
        repos.get(repoId).refs.put(ref, commit);
    }

    /** Requests for {@code oldId} are answered with a relative redirect to {@code newId}. */
    void rename(String oldId, String newId) {
        renamed.put(oldId, newId);
    }

    synchronized List<Request> requests() {
        return List.copyOf(log);
    }

    synchronized void clearLog() {
        log.clear();
    }

    long count(String server, String method) {
        return requests().stream().filter(r -> r.server().equals(server) && r.method().equals(method)).count();
    }

    @Override
    public void close() {
        closing.countDown();
        hub.stop(0);
        try {
            cdn.close();
        } catch (IOException e) {
            // closing anyway
        }
        pool.shutdownNow();
    }

    static String sha256(byte[] data) {
        return HexFormat.of().formatHex(digest("SHA-256", data));
    }

    /** The git blob id of {@code data}: the ETag the Hub gives regular files. */
    static String gitSha1(byte[] data) {
        byte[] head = ("blob " + data.length + "\0").getBytes(StandardCharsets.UTF_8);
        byte[] all = Arrays.copyOf(head, head.length + data.length);
        System.arraycopy(data, 0, all, head.length, data.length);
        return HexFormat.of().formatHex(digest("SHA-1", all));
    }

    private static byte[] digest(String algorithm, byte[] data) {
        try {
            return MessageDigest.getInstance(algorithm).digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private void record(String server, HttpExchange ex) {
        record(new Request(server, ex.getRequestMethod(), ex.getRequestURI().getRawPath(),
                ex.getRequestHeaders().getFirst("Authorization"), ex.getRequestHeaders().getFirst("Range")));
    }

    private synchronized void record(Request r) {
        log.add(r);
    }

    private void handleHub(HttpExchange ex) throws IOException {
        try (ex) {
            record("hub", ex);
            String raw = ex.getRequestURI().getRawPath();
            int at = raw.indexOf("/resolve/");
            if (at < 0) {
                error(ex, 404, null, null);
                return;
            }
            String repoId = raw.substring(1, at);
            String rest = raw.substring(at + "/resolve/".length());
            String newId = renamed.get(repoId);
            if (newId != null) {
                ex.getResponseHeaders().set("Location", "/" + newId + "/resolve/" + rest);
                ex.sendResponseHeaders(307, -1);
                return;
            }
            if (requiredToken != null && !("Bearer " + requiredToken).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
                error(ex, 401, null, null);
                return;
            }
            if (gated) {
                error(ex, 403, "GatedRepo", null);
                return;
            }
            Repo repo = repos.get(repoId);
            if (repo == null) {
                error(ex, 404, "RepoNotFound", null);
                return;
            }
            int slash = rest.indexOf('/');
            String rev = URLDecoder.decode(rest.substring(0, slash), StandardCharsets.UTF_8);
            String file = URLDecoder.decode(rest.substring(slash + 1), StandardCharsets.UTF_8);
            String commit = repo.refs.containsKey(rev) ? repo.refs.get(rev) : repo.commits.containsKey(rev) ? rev : null;
            if (commit == null) {
                error(ex, 404, "RevisionNotFound", null);
                return;
            }
            byte[] data = repo.commits.get(commit).get(file);
            if (data == null) {
                error(ex, 404, "EntryNotFound", commit);
                return;
            }
            ex.getResponseHeaders().set("X-Repo-Commit", commit);
            if (repo.lfs.contains(file)) {
                String sha = sha256(data);
                // The Hub's own ETag of an LFS file is the pointer file's; the blob is X-Linked-Etag.
                ex.getResponseHeaders().set("ETag", "\"" + gitSha1(("pointer " + sha).getBytes(StandardCharsets.UTF_8)) + "\"");
                ex.getResponseHeaders().set("X-Linked-Etag", "\"" + sha + "\"");
                ex.getResponseHeaders().set("X-Linked-Size", Long.toString(data.length));
                ex.getResponseHeaders().set("Location", cdnBase() + "/blobs/" + sha + "?signature=xyz");
                ex.sendResponseHeaders(302, -1);
                return;
            }
            ex.getResponseHeaders().set("ETag", "\"" + gitSha1(data) + "\"");
            serve(ex, data);
        }
    }

    private void acceptCdn() {
        while (!cdn.isClosed()) {
            try {
                Socket socket = cdn.accept();
                pool.execute(() -> handleCdn(socket));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void handleCdn(Socket socket) {
        try (socket) {
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
            String[] requestLine = in.readLine().split(" ");
            Map<String, String> headers = new HashMap<>();
            for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
                int colon = line.indexOf(':');
                headers.put(line.substring(0, colon).strip().toLowerCase(Locale.ROOT), line.substring(colon + 1).strip());
            }
            String method = requestLine[0];
            String path = URI.create(requestLine[1]).getRawPath();
            String range = headers.get("range");
            record(new Request("cdn", method, path, headers.get("authorization"), range));
            OutputStream out = socket.getOutputStream();
            byte[] data = path.startsWith("/blobs/") ? blobsBySha256.get(path.substring("/blobs/".length())) : null;
            if (data == null || !method.equals("GET")) {
                out.write("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                return;
            }
            if (corruptBodies) {
                data = data.clone();
                data[data.length / 2] ^= 0x5a;
            }
            if (extraBytes > 0) {
                data = Arrays.copyOf(data, data.length + extraBytes);
            }
            int from = 0;
            String status = "200 OK";
            String extra = "";
            if (range != null && range.startsWith("bytes=") && range.endsWith("-")) {
                from = Integer.parseInt(range.substring(6, range.length() - 1));
                if (from >= data.length) {
                    out.write(("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */" + data.length
                            + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    return;
                }
                status = "206 Partial Content";
                extra = "Content-Range: bytes " + from + "-" + (data.length - 1) + "/" + data.length + "\r\n";
            }
            int length = data.length - from;
            out.write(("HTTP/1.1 " + status + "\r\nContent-Length: " + length + "\r\n" + extra
                    + "Connection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            boolean truncate = truncateNextGets.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
            boolean stall = !truncate && stallNextGets.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
            if (truncate || stall) {
                out.write(data, from, length / 2);
                out.flush();
                if (stall) {
                    closing.await(30, TimeUnit.SECONDS);
                }
                return; // closing the socket with bytes missing
            }
            out.write(data, from, length);
            out.flush();
        } catch (IOException | RuntimeException e) {
            // The client went away; nothing to answer.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Sends {@code data} (or the requested range of it). */
    private static void serve(HttpExchange ex, byte[] data) throws IOException {
        int from = 0;
        String range = ex.getRequestHeaders().getFirst("Range");
        if (range != null && range.startsWith("bytes=") && range.endsWith("-")) {
            from = Integer.parseInt(range.substring(6, range.length() - 1));
            if (from >= data.length) {
                ex.getResponseHeaders().set("Content-Range", "bytes */" + data.length);
                ex.sendResponseHeaders(416, -1);
                return;
            }
            ex.getResponseHeaders().set("Content-Range", "bytes " + from + "-" + (data.length - 1) + "/" + data.length);
        }
        int status = range != null ? 206 : 200;
        int length = data.length - from;
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.getResponseHeaders().set("Content-Length", Integer.toString(length));
            ex.sendResponseHeaders(status, -1);
            return;
        }
        ex.sendResponseHeaders(status, length);
        ex.getResponseBody().write(data, from, length);
    }

    private static void error(HttpExchange ex, int status, String code, String commit) throws IOException {
        if (code != null) {
            ex.getResponseHeaders().set("X-Error-Code", code);
        }
        if (commit != null) {
            ex.getResponseHeaders().set("X-Repo-Commit", commit);
        }
        ex.sendResponseHeaders(status, -1);
    }
}
