package org.blipjava.retrieval;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.blipjava.image.RgbImage;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.ImageTextModel;
import org.blipjava.tasks.GeneratedText;
import org.blipjava.tasks.ImageStates;
import org.blipjava.tasks.ModelKind;

/**
 * Embeds image files into an {@link ImageIndex}, incrementally.
 *
 * <p>Files are keyed by their absolute path ({@link PathKeys#key}: a name that is not valid UTF-8
 * is kept as a {@code file:} URI of its bytes, so it is indexed and found whatever the locale).
 * A file is embedded when the index has no entry for its key or when its size or
 * modification time differ from the stored ones; unchanged files are skipped, so re-running on
 * the same folder embeds only what is new or changed. Entries whose file no longer exists are
 * removed (unless {@link Options#removeMissing()} is false); entries of files that still exist
 * but were not named in this run are kept, so one index can be filled from several folders.
 * Unreadable images are reported and left out (and tried again on the next run).
 *
 * <p>Work is committed at least every {@link Options#commitInterval()}, and after the last
 * batch, so an interrupted run leaves a usable index holding everything up to its last commit.
 */
public final class Indexer {
    /**
     * How to index.
     *
     * @param batchSize      images embedded per model call
     * @param commitInterval commit after a batch when this much time has passed since the last
     *                       commit; {@link Duration#ZERO} commits after every batch
     * @param removeMissing  remove entries whose file no longer exists
     * @param cacheItmStates also store every image's vision states in the index's
     *                       {@link ItmStateCache} (the index must be opened with
     *                       {@link IndexInfo#withItmCache} on), filling in entries missing for
     *                       images indexed earlier
     */
    public record Options(int batchSize, Duration commitInterval, boolean removeMissing, boolean cacheItmStates) {
        public Options {
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
            }
            Objects.requireNonNull(commitInterval, "commitInterval");
            if (commitInterval.isNegative()) {
                throw new IllegalArgumentException("commit interval must not be negative, got " + commitInterval);
            }
        }

        /** Options without the ITM state cache. */
        public Options(int batchSize, Duration commitInterval, boolean removeMissing) {
            this(batchSize, commitInterval, removeMissing, false);
        }

        /** These options with the ITM state cache on or off. */
        public Options withCacheItmStates(boolean on) {
            return new Options(batchSize, commitInterval, removeMissing, on);
        }

        /** Batches of 8, a commit at least every 10 seconds, missing files removed, no ITM cache. */
        public static Options defaults() {
            return new Options(8, Duration.ofSeconds(10), true);
        }
    }

    /** An image that could not be indexed and why. */
    public record Failure(Path path, String error) {}

    /**
     * What a run did.
     *
     * @param added     images new to the index
     * @param updated   images embedded again because their file changed
     * @param unchanged images skipped because the index already holds them as they are
     * @param removed   entries removed because their file is gone
     * @param cached    ITM state cache entries written (for embedded images and for unchanged ones
     *                  that had none)
     * @param failed    unreadable images, left out
     */
    public record Report(int added, int updated, int unchanged, int removed, int cached, List<Failure> failed) {
        public Report {
            failed = List.copyOf(failed);
        }

        /** Images embedded in this run. */
        public int embedded() {
            return added + updated;
        }
    }

    /** Told about progress; every method may be left out. Called on the indexing thread. */
    public interface Listener {
        /** Before embedding: how many images were named and how many need embedding. */
        default void planned(int images, int toEmbed) {}

        /** After each batch: how many of the images to embed were handled (embedded or failed). */
        default void progressed(int done) {}

        /** An image that could not be read. */
        default void failed(Failure failure) {}
    }

    private final ImageTextModel model;
    private final Blip captioner;
    private final Options options;

    /**
     * @param model     the embedding model (BLIP retrieval or BlipModel head, CLIP, FLAVA), the one the index
     *                  was built with
     * @param captioner a captioning model whose captions are stored (and embedded by {@code model}
     *                  for image-to-caption search), or null for no captions
     */
    public Indexer(ImageTextModel model, Blip captioner, Options options) {
        this.model = Objects.requireNonNull(model, "model");
        if (captioner != null && captioner.kind() != ModelKind.CAPTIONING) {
            throw new IllegalArgumentException(captioner.directory() + " is a " + captioner.kind().architecture()
                    + " model; captions need a BlipForConditionalGeneration checkpoint");
        }
        this.captioner = captioner;
        this.options = Objects.requireNonNull(options, "options");
    }

    /**
     * Brings the index up to date with these image files.
     *
     * <p>When the index has an {@link ItmStateCache}, entries of removed images are deleted;
     * with {@link Options#cacheItmStates()} every embedded image gets a fresh entry and unchanged
     * images without a valid one are encoded for it (their index entry is left as it is);
     * without it, the entries of re-embedded images are deleted, as they describe the old file.
     *
     * @param images image files; duplicates are indexed once
     * @throws IllegalArgumentException when caching is asked for but the index was not opened with it
     */
    public Report index(ImageIndex index, List<Path> images, Listener listener) {
        Listener l = listener == null ? new Listener() {} : listener;
        boolean fill = options.cacheItmStates();
        if (fill && !index.info().itmCache()) {
            throw new IllegalArgumentException(index.location() + " was opened without the ITM state cache; "
                    + "open it with IndexInfo.withItmCache(true) to cache states");
        }
        ItmStateCache cache = index.info().itmCache() ? ItmStateCache.of(index, stateModel().imageStateShape()) : null;
        if (fill) {
            cache.removeTemporaries();
        }
        Map<String, FileStamp> stored = index.stamps();
        // Keyed by PathKeys.key; the value is the path as given, which keeps the file's name as
        // the file system spelled it even when no string can (see PathKeys).
        Map<String, Path> named = new LinkedHashMap<>();
        List<Failure> failed = new ArrayList<>();
        for (Path p : images) {
            String key;
            try {
                key = PathKeys.key(p);
            } catch (RuntimeException ex) {
                Failure f = new Failure(p, PathKeys.display(p) + ": cannot name this file: " + describe(ex));
                failed.add(f);
                l.failed(f);
                continue;
            }
            named.putIfAbsent(key, p);
        }
        List<Pending> todo = new ArrayList<>();
        int unchanged = 0;
        for (Map.Entry<String, Path> e : named.entrySet()) {
            FileStamp now;
            try {
                now = stamp(e.getValue());
            } catch (IOException | RuntimeException ex) {
                Failure f = new Failure(e.getValue(), PathKeys.display(e.getValue()) + ": " + describe(ex));
                failed.add(f);
                l.failed(f);
                continue;
            }
            FileStamp before = stored.get(e.getKey());
            if (now.equals(before)) {
                unchanged++;
                if (fill && !cache.holds(e.getKey(), now)) {
                    todo.add(new Pending(e.getKey(), e.getValue(), now, true, true));
                }
            } else {
                todo.add(new Pending(e.getKey(), e.getValue(), now, before != null, false));
            }
        }
        int removed = 0;
        if (options.removeMissing()) {
            for (String path : stored.keySet()) {
                if (!named.containsKey(path) && !exists(path)) {
                    index.remove(path);
                    if (cache != null) {
                        cache.remove(path);
                    }
                    removed++;
                }
            }
        }
        l.planned(named.size(), todo.size());
        int added = 0;
        int updated = 0;
        int cached = 0;
        int done = 0;
        long lastCommit = System.nanoTime();
        for (int start = 0; start < todo.size(); start += options.batchSize()) {
            List<Pending> batch = todo.subList(start, Math.min(todo.size(), start + options.batchSize()));
            List<Pending> ok = new ArrayList<>();
            List<RgbImage> pixels = new ArrayList<>();
            for (Pending p : batch) {
                try {
                    pixels.add(Blip.readImage(p.file()));
                    ok.add(p);
                } catch (RuntimeException ex) {
                    Failure f = new Failure(p.file(), describe(ex));
                    failed.add(f);
                    l.failed(f);
                }
            }
            if (!ok.isEmpty()) {
                float[][] feats;
                if (fill) {
                    // One vision pass gives both the cached states and the ITC features.
                    Blip blip = stateModel();
                    ImageStates states = blip.imageStates(blip.pixels(pixels));
                    feats = blip.embedImages(states);
                    for (int i = 0; i < ok.size(); i++) {
                        cache.put(ok.get(i).key(), ok.get(i).stamp(), states.image(i));
                        cached++;
                    }
                } else {
                    feats = model.embedImages(pixels);
                }
                List<Integer> toIndex = new ArrayList<>();
                for (int i = 0; i < ok.size(); i++) {
                    if (!ok.get(i).cacheOnly()) {
                        toIndex.add(i);
                    }
                }
                List<String> captions = captioner == null || toIndex.isEmpty() ? null
                        : captioner.caption(toIndex.stream().map(pixels::get).toList(), null,
                                captioner.generationDefaults()).stream().map(GeneratedText::text).toList();
                float[][] captionFeats = captions == null ? null : model.embedTexts(captions);
                for (int j = 0; j < toIndex.size(); j++) {
                    Pending p = ok.get(toIndex.get(j));
                    if (cache != null && !fill) {
                        cache.remove(p.key());
                    }
                    index.add(new IndexedImage(p.key(), p.stamp().size(), p.stamp().modified(),
                            captions == null ? null : captions.get(j), feats[toIndex.get(j)],
                            captionFeats == null ? null : captionFeats[j]));
                    if (p.replacing()) {
                        updated++;
                    } else {
                        added++;
                    }
                }
            }
            done += batch.size();
            if (System.nanoTime() - lastCommit >= options.commitInterval().toNanos()) {
                index.commit();
                lastCommit = System.nanoTime();
            }
            l.progressed(done);
        }
        index.commit();
        return new Report(added, updated, unchanged, removed, cached, failed);
    }

    /** The model as a BLIP retrieval model: only its ITM head reads cached vision states. */
    private Blip stateModel() {
        if (model instanceof Blip blip && blip.hasMatchHead()) {
            return blip;
        }
        throw new IllegalArgumentException(model.directory() + " is a " + model.architecture()
                + " model; the ITM state cache holds the vision states of a BlipForImageTextRetrieval checkpoint");
    }

    /** An image to encode; {@code cacheOnly} when its index entry is current and only its cache entry is missing. */
    private record Pending(String key, Path file, FileStamp stamp, boolean replacing, boolean cacheOnly) {}

    /** Whether the file of an index key exists (false for a key that names no file here). */
    private static boolean exists(String key) {
        try {
            return Files.exists(PathKeys.path(key));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static FileStamp stamp(Path p) throws IOException {
        if (!Files.isRegularFile(p)) {
            throw new java.nio.file.NoSuchFileException(p.toString(), null, Files.exists(p) ? "not a regular file" : "no such file");
        }
        return new FileStamp(Files.size(p), Files.getLastModifiedTime(p).toMillis());
    }

    private static String describe(Exception e) {
        if (e instanceof java.nio.file.NoSuchFileException n) {
            return n.getReason() == null ? "no such file" : n.getReason();
        }
        Throwable t = e;
        while (t.getCause() != null && (t.getMessage() == null || t instanceof java.io.UncheckedIOException)) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}
