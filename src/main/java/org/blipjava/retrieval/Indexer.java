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
import org.blipjava.tasks.GeneratedText;
import org.blipjava.tasks.ModelKind;

/**
 * Embeds image files into an {@link ImageIndex}, incrementally.
 *
 * <p>A file is embedded when the index has no entry for its absolute path or when its size or
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
     */
    public record Options(int batchSize, Duration commitInterval, boolean removeMissing) {
        public Options {
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
            }
            Objects.requireNonNull(commitInterval, "commitInterval");
            if (commitInterval.isNegative()) {
                throw new IllegalArgumentException("commit interval must not be negative, got " + commitInterval);
            }
        }

        /** Batches of 8, a commit at least every 10 seconds, missing files removed. */
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
     * @param failed    unreadable images, left out
     */
    public record Report(int added, int updated, int unchanged, int removed, List<Failure> failed) {
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

    private final Blip model;
    private final Blip captioner;
    private final Options options;

    /**
     * @param model     the embedding model (retrieval or BlipModel head), the one the index was built with
     * @param captioner a captioning model whose captions are stored (and embedded by {@code model}
     *                  for image-to-caption search), or null for no captions
     */
    public Indexer(Blip model, Blip captioner, Options options) {
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
     * @param images image files; duplicates are indexed once
     */
    public Report index(ImageIndex index, List<Path> images, Listener listener) {
        Listener l = listener == null ? new Listener() {} : listener;
        Map<String, FileStamp> stored = index.stamps();
        Map<String, Path> named = new LinkedHashMap<>();
        for (Path p : images) {
            named.putIfAbsent(p.toAbsolutePath().normalize().toString(), p);
        }
        List<Failure> failed = new ArrayList<>();
        List<Pending> todo = new ArrayList<>();
        int unchanged = 0;
        for (Map.Entry<String, Path> e : named.entrySet()) {
            FileStamp now;
            try {
                now = stamp(Path.of(e.getKey()));
            } catch (IOException ex) {
                Failure f = new Failure(e.getValue(), e.getValue() + ": " + describe(ex));
                failed.add(f);
                l.failed(f);
                continue;
            }
            FileStamp before = stored.get(e.getKey());
            if (now.equals(before)) {
                unchanged++;
            } else {
                todo.add(new Pending(e.getKey(), e.getValue(), now, before != null));
            }
        }
        int removed = 0;
        if (options.removeMissing()) {
            for (String path : stored.keySet()) {
                if (!named.containsKey(path) && !Files.exists(Path.of(path))) {
                    index.remove(path);
                    removed++;
                }
            }
        }
        l.planned(named.size(), todo.size());
        int added = 0;
        int updated = 0;
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
                float[][] feats = model.embedImages(pixels);
                List<String> captions = captioner == null ? null
                        : captioner.caption(pixels, null, captioner.generationDefaults()).stream()
                                .map(GeneratedText::text).toList();
                float[][] captionFeats = captions == null ? null : model.embedTexts(captions);
                for (int i = 0; i < ok.size(); i++) {
                    Pending p = ok.get(i);
                    index.add(new IndexedImage(p.key(), p.stamp().size(), p.stamp().modified(),
                            captions == null ? null : captions.get(i), feats[i],
                            captionFeats == null ? null : captionFeats[i]));
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
        return new Report(added, updated, unchanged, removed, failed);
    }

    private record Pending(String key, Path file, FileStamp stamp, boolean replacing) {}

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
