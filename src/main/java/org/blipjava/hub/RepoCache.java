package org.blipjava.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * One repository's folder in the Hub cache, laid out exactly as {@code huggingface_hub} does:
 * {@code blobs/<etag>}, {@code snapshots/<commit>/<file>} (a relative symlink to the blob),
 * {@code refs/<revision>} (the commit), {@code .no_exist/<commit>/<file>} (known-missing files).
 */
final class RepoCache {
    static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path root;
    private final Path locks;

    RepoCache(Path cacheDir, RepoId repo) {
        this.root = cacheDir.resolve(repo.cacheFolderName());
        this.locks = cacheDir.resolve(".locks").resolve(repo.cacheFolderName());
    }

    Path root() {
        return root;
    }

    Path snapshot(String commit) {
        return root.resolve("snapshots").resolve(commit);
    }

    Path blob(String etag) {
        return root.resolve("blobs").resolve(etag);
    }

    Path lockFile(String etag) {
        return locks.resolve(etag + ".lock");
    }

    /** The commit a revision points to: the revision itself when it is a commit, else refs/. */
    String commitFor(String revision) {
        if (COMMIT.matcher(revision).matches()) {
            return revision;
        }
        Path ref = root.resolve("refs").resolve(revision);
        if (!Files.isRegularFile(ref)) {
            return null;
        }
        try {
            String c = Files.readString(ref, StandardCharsets.UTF_8).strip();
            return c.isEmpty() ? null : c;
        } catch (IOException e) {
            return null;
        }
    }

    /** Records that {@code revision} now points to {@code commit} (skipped for commit revisions). */
    void writeRef(String revision, String commit) throws IOException {
        if (revision.equals(commit)) {
            return;
        }
        Path ref = root.resolve("refs").resolve(revision);
        if (commit.equals(commitFor(revision))) {
            return;
        }
        Files.createDirectories(ref.getParent());
        Path tmp = Files.createTempFile(ref.getParent(), ".ref", ".tmp");
        Files.writeString(tmp, commit, StandardCharsets.UTF_8);
        moveReplacing(tmp, ref);
    }

    /** The snapshot file when it is present and readable (a dangling symlink is not). */
    Path cachedFile(String commit, String file) {
        Path p = snapshot(commit).resolve(file);
        return Files.isRegularFile(p) ? p : null;
    }

    boolean knownMissing(String commit, String file) {
        return Files.exists(root.resolve(".no_exist").resolve(commit).resolve(file), LinkOption.NOFOLLOW_LINKS);
    }

    void markMissing(String commit, String file) throws IOException {
        Path p = root.resolve(".no_exist").resolve(commit).resolve(file);
        Files.createDirectories(p.getParent());
        try {
            Files.createFile(p);
        } catch (FileAlreadyExistsException e) {
            // Already recorded, possibly by another process.
        }
    }

    /**
     * Makes {@code snapshots/<commit>/<file>} point to the blob: a relative symlink, or a copy on
     * file systems without symlinks.
     */
    Path link(String commit, String file, Path blob) throws IOException {
        Path pointer = snapshot(commit).resolve(file);
        Files.createDirectories(pointer.getParent());
        if (Files.exists(pointer, LinkOption.NOFOLLOW_LINKS)) {
            if (Files.isRegularFile(pointer)) {
                return pointer;
            }
            // A dangling link, e.g. its blob was deleted by a cache cleanup.
            Files.delete(pointer);
        }
        Path target = pointer.getParent().relativize(blob);
        try {
            Files.createSymbolicLink(pointer, target);
        } catch (FileAlreadyExistsException e) {
            // Another process linked it first; its link points to the same content.
        } catch (UnsupportedOperationException | FileSystemException e) {
            Path tmp = Files.createTempFile(pointer.getParent(), ".copy", ".tmp");
            Files.copy(blob, tmp, StandardCopyOption.REPLACE_EXISTING);
            moveReplacing(tmp, pointer);
        }
        return pointer;
    }

    /**
     * The snapshot of {@code revision} when it holds every file {@code files} needs, else null.
     * Reads only the local disk.
     */
    Path completeSnapshot(String revision, ModelFiles files) {
        String commit = commitFor(revision);
        if (commit == null || !Files.isDirectory(snapshot(commit))) {
            return null;
        }
        for (String f : files.required()) {
            if (cachedFile(commit, f) == null) {
                return null;
            }
        }
        if (files.weights() && !cachedWeights(commit)) {
            return null;
        }
        return snapshot(commit);
    }

    private boolean cachedWeights(String commit) {
        return cachedFile(commit, ModelFiles.SAFETENSORS) != null
                || cachedShards(commit, ModelFiles.SAFETENSORS_INDEX)
                || cachedFile(commit, ModelFiles.PYTORCH) != null
                || cachedShards(commit, ModelFiles.PYTORCH_INDEX);
    }

    private boolean cachedShards(String commit, String indexName) {
        Path index = cachedFile(commit, indexName);
        if (index == null) {
            return false;
        }
        try {
            for (String shard : shardsOf(index)) {
                if (cachedFile(commit, shard) == null) {
                    return false;
                }
            }
            return true;
        } catch (HubException e) {
            return false;
        }
    }

    /** The distinct shard files a weights index ({@code weight_map}) refers to, sorted. */
    static List<String> shardsOf(Path index) {
        JsonNode map;
        try {
            map = JSON.readTree(index.toFile()).path("weight_map");
        } catch (IOException e) {
            throw new HubException("cannot read weights index " + index + ": " + e.getMessage()
                    + "; delete it so that it is downloaded again");
        }
        if (!map.isObject() || map.isEmpty()) {
            throw new HubException("weights index " + index + " has no 'weight_map' object"
                    + "; delete it so that it is downloaded again");
        }
        TreeSet<String> shards = new TreeSet<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            String shard = e.getValue().asText("");
            try {
                ModelFiles.checkRepoPath(shard);
            } catch (IllegalArgumentException bad) {
                throw new HubException("weights index " + index + " maps '" + e.getKey()
                        + "' to an unsafe or empty file name '" + shard + "'; the repository is broken");
            }
            shards.add(shard);
        }
        return List.copyOf(shards);
    }

    static void moveReplacing(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            Files.deleteIfExists(from);
            throw e;
        }
    }
}
