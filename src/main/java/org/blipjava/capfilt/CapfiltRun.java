package org.blipjava.capfilt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedOutputStream;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.blipjava.capfilt.CapFilter.Prepared;

/**
 * Runs CapFilt over a whole dataset with bounded memory and restarts.
 *
 * <p>A decoding thread reads pairs from the input and decodes and preprocesses their images into
 * a bounded queue; the calling thread takes them a batch at a time and runs the models. Results
 * go to shards of {@code shardSize} input images, each written to a temporary file and renamed
 * when complete, after which {@value #MANIFEST} records how many shards and images are done. A
 * run that finds a manifest with the same settings skips the images already done and continues
 * with the next shard, so an interrupted run followed by a rerun writes exactly the files an
 * uninterrupted run writes. When the input is exhausted the shards are assembled into the output
 * dataset (the input's format), {@value #DECISIONS} and the report.
 *
 * <p>Output folder: {@code parts/part-NNNNN.jsonl} (per image: its captions with scores and
 * decisions; per {@link Skipped skipped input}: what and why), {@code shard-NNNNN.tar} for
 * WebDataset inputs, {@value #MANIFEST}, {@value #DECISIONS}, the dataset file,
 * {@code report.html} and {@code scores.png}. The output folder and the input may not contain
 * each other (see {@link #requireSeparate}).
 */
public final class CapfiltRun {
    /** The progress file that makes a run resumable. */
    public static final String MANIFEST = "progress.json";
    /** Every caption with its source, scores and verdict, one JSON object per line. */
    public static final String DECISIONS = "decisions.jsonl";
    static final String PARTS = "parts";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** An image for the model thread with the input skipped while reading up to it. */
    private record Item(Prepared prepared, List<Skipped> skipped) {}

    /** The end of the input with what was skipped after the last image. */
    private record End(List<Skipped> skipped) {}

    /**
     * How a run is cut up.
     *
     * @param shardSize input images per output shard (the unit of resumption)
     * @param batchSize images taken from the decoding queue at a time; the queue holds two batches
     * @param stopAfterShards stop (resumably) after writing this many new shards; null runs to the end
     */
    public record Options(int shardSize, int batchSize, Integer stopAfterShards) {
        public Options {
            if (shardSize < 1) {
                throw new IllegalArgumentException("--shard-size must be at least 1, got " + shardSize);
            }
            if (batchSize < 1) {
                throw new IllegalArgumentException("--batch-size must be at least 1, got " + batchSize);
            }
            if (stopAfterShards != null && stopAfterShards < 1) {
                throw new IllegalArgumentException("--stop-after-shards must be at least 1, got " + stopAfterShards);
            }
        }

        public static Options defaults() {
            return new Options(1000, 8, null);
        }
    }

    /** Progress callbacks, called on the model thread. */
    public interface Listener {
        /** Before the first image; {@code imagesDone} were done by earlier runs. */
        default void started(long imagesDone) {}

        /** After each batch: images handled by this run so far. */
        default void progress(long images) {}

        /** After shard {@code index} is on disk and recorded in the manifest. */
        default void shardWritten(int index, long imagesDone) {}

        /** For input this run skipped or could not read, when it is written to its shard. */
        default void skipped(Skipped skipped) {}
    }

    /**
     * What a run did.
     *
     * @param format the input's (and output's) format
     * @param complete whether the input was exhausted and the output assembled
     * @param images input images done, including earlier runs
     * @param imagesThisRun images this run processed
     * @param seconds wall time of this run
     * @param counts caption counts of the whole output (null when not complete)
     */
    public record Summary(InputFormat format, boolean complete, long images, long imagesThisRun, double seconds,
            CapfiltReport.Counts counts) {
        /** Images per second this run. */
        public double imagesPerSecond() {
            return seconds > 0 ? imagesThisRun / seconds : 0;
        }
    }

    private final CapFilter filter;
    private final Path input;
    private final Path output;
    private final Options options;

    /**
     * @param filter the models and settings
     * @param input the dataset (see {@link PairReader#open})
     * @param output the output folder (created; may hold an earlier run of the same settings)
     */
    public CapfiltRun(CapFilter filter, Path input, Path output, Options options) {
        this.filter = Objects.requireNonNull(filter, "filter");
        this.input = absolute(input);
        this.output = absolute(output);
        this.options = Objects.requireNonNull(options, "options");
    }

    /**
     * Refuses an output folder that is, or lies inside, the input (its folder, or the input file
     * itself), and an input that lies inside the output folder, comparing real paths: symbolic
     * links are resolved, also in the part of {@code output} that does not exist yet. Either
     * nesting makes CapFilt overwrite its input (a folder's {@code captions.jsonl}) or read its
     * own output shards as input on the next run.
     *
     * @throws IllegalArgumentException naming both paths
     */
    public static void requireSeparate(Path input, Path output) throws IOException {
        // The paths a run reads and writes (see the constructor), then their real locations.
        Path in = realPath(absolute(input));
        Path out = realPath(absolute(output));
        String how = null;
        if (out.equals(in)) {
            how = "is the same path as";
        } else if (out.startsWith(in)) {
            how = "is inside";
        } else if (in.startsWith(out)) {
            how = "contains";
        }
        if (how != null) {
            String real = in.equals(absolute(input)) && out.equals(absolute(output))
                    ? "" : " (real paths " + out + " and " + in + ")";
            throw new IllegalArgumentException("--output " + output + " " + how + " --input " + input + real
                    + "; CapFilt would overwrite its input or read its own output back; choose an output folder "
                    + "outside the input");
        }
    }

    private static Path absolute(Path p) {
        return p.toAbsolutePath().normalize();
    }

    /**
     * The path with every symbolic link resolved, component by component, so that the part that
     * does not exist yet is kept as given (it cannot hold links) after the real path of the part
     * that does. {@code ..} after a link goes to the link target's parent, as the file system does.
     */
    static Path realPath(Path path) throws IOException {
        return realPath(path.toAbsolutePath(), 0);
    }

    private static Path realPath(Path abs, int depth) throws IOException {
        if (depth > 40) {
            throw new IOException(abs + ": too many levels of symbolic links");
        }
        Path cur = abs.getRoot();
        for (Path name : abs) {
            String n = name.toString();
            if (n.equals(".")) {
                continue;
            }
            if (n.equals("..")) {
                cur = cur.getParent() == null ? cur : cur.getParent();
                continue;
            }
            Path next = cur.resolve(n);
            if (Files.exists(next)) {
                cur = next.toRealPath();
            } else if (Files.isSymbolicLink(next)) { // a dangling link: where it would create the folder
                cur = realPath(cur.resolve(Files.readSymbolicLink(next)), depth + 1);
            } else {
                cur = next;
            }
        }
        return cur;
    }

    /** Runs (or resumes) CapFilt; see the class comment. */
    public Summary run(Listener listener) throws IOException {
        long start = System.nanoTime();
        requireSeparate(input, output);
        Files.createDirectories(output.resolve(PARTS));
        removeTemporaries();
        try (PairReader reader = PairReader.open(input)) {
            InputFormat format = reader.format();
            ObjectNode fingerprint = fingerprint(format);
            Manifest m = Manifest.read(output.resolve(MANIFEST), fingerprint);
            listener.started(m.imagesDone);
            long before = m.imagesDone;
            if (!m.complete) {
                boolean finished = process(reader, format, m, fingerprint, listener);
                if (!finished) {
                    return new Summary(format, false, m.imagesDone, m.imagesDone - before, seconds(start), null);
                }
            }
            CapfiltReport.Counts counts = new Assembler(output, format, m.shardsDone,
                    filter.settings().topK() == null ? filter.settings().threshold() : null).assemble();
            m.complete = true;
            m.write(output.resolve(MANIFEST), fingerprint);
            return new Summary(format, true, m.imagesDone, m.imagesDone - before, seconds(start), counts);
        }
    }

    private static double seconds(long start) {
        return (System.nanoTime() - start) / 1e9;
    }

    /** What must not change between a run and its resumption. */
    private ObjectNode fingerprint(InputFormat format) {
        CapfiltSettings s = filter.settings();
        ObjectNode n = JSON.createObjectNode();
        n.put("input", input.toString());
        n.put("format", format.name());
        n.put("shard_size", options.shardSize());
        n.put("num_captions", s.numCaptions());
        n.put("top_p", s.topP());
        n.put("seed", s.seed());
        n.put("prompt", s.prompt());
        if (s.topK() != null) {
            n.put("top_k", s.topK());
        } else {
            n.put("threshold", s.threshold());
        }
        return n;
    }

    /** Processes the remaining input; false when it stopped early as asked. */
    private boolean process(PairReader reader, InputFormat format, Manifest m, ObjectNode fingerprint,
            Listener listener) throws IOException {
        BlockingQueue<Object> queue = new ArrayBlockingQueue<>(Math.max(2, 2 * options.batchSize()));
        AtomicBoolean stop = new AtomicBoolean();
        long skip = m.imagesDone;
        Thread decoder = Thread.ofPlatform().name("capfilt-decode").daemon().start(() -> {
            try {
                long index = 0;
                WebPair pair;
                while (!stop.get() && (pair = reader.next()) != null) {
                    // Taken after each image, whatever it was skipped with stays with it, so
                    // every run puts it in the same shard as the image, whatever the batching.
                    List<Skipped> skipped = reader.takeSkipped();
                    if (index++ < skip) {
                        continue; // done by an earlier run
                    }
                    if (!offer(queue, new Item(filter.prepare(pair), skipped), stop)) {
                        return;
                    }
                }
                offer(queue, new End(reader.takeSkipped()), stop);
            } catch (Throwable e) {
                offer(queue, e, stop);
            }
        });
        long thisRun = 0;
        int newShards = 0;
        ShardWriter shard = null;
        try {
            List<Object> batch = new ArrayList<>(options.batchSize());
            while (true) {
                batch.clear();
                // A batch never crosses a shard boundary, so every shard sees the same batches on a rerun.
                int room = Math.min(options.batchSize(), options.shardSize() - (shard == null ? 0 : shard.images));
                batch.add(queue.take());
                queue.drainTo(batch, room - 1);
                boolean ended = false;
                for (Object o : batch) {
                    if (o instanceof End end) {
                        ended = true;
                        if (!end.skipped().isEmpty()) {
                            if (shard == null) {
                                shard = new ShardWriter(output, m.shardsDone, format);
                            }
                            for (Skipped k : end.skipped()) {
                                shard.skipped(k);
                                listener.skipped(k);
                            }
                        }
                        break;
                    }
                    if (o instanceof Throwable t) {
                        if (t instanceof IOException io) {
                            throw io;
                        }
                        if (t instanceof RuntimeException r) {
                            throw r;
                        }
                        throw new IOException("reading " + input + ": " + t, t);
                    }
                    if (shard == null) {
                        shard = new ShardWriter(output, m.shardsDone, format);
                    }
                    Item item = (Item) o;
                    for (Skipped k : item.skipped()) {
                        shard.skipped(k);
                        listener.skipped(k);
                    }
                    shard.add(item.prepared(), decide(item.prepared()));
                    thisRun++;
                }
                listener.progress(thisRun);
                if (shard != null && (shard.images == options.shardSize() || ended)) {
                    shard.commit();
                    m.shardsDone++;
                    m.imagesDone += shard.images;
                    m.write(output.resolve(MANIFEST), fingerprint);
                    listener.shardWritten(m.shardsDone - 1, m.imagesDone);
                    shard = null;
                    newShards++;
                    if (!ended && options.stopAfterShards() != null && newShards >= options.stopAfterShards()) {
                        return false;
                    }
                }
                if (ended) {
                    return true;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted; run the same command again to resume", e);
        } finally {
            stop.set(true);
            queue.clear();
            decoder.interrupt();
            try {
                decoder.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (shard != null) {
                shard.abandon();
            }
        }
    }

    /** The image's decisions, or the error that kept it from being scored. */
    private Object decide(Prepared p) {
        if (p.error() != null) {
            return p.error();
        }
        try {
            return filter.decide(p);
        } catch (RuntimeException e) {
            return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        }
    }

    private static boolean offer(BlockingQueue<Object> q, Object item, AtomicBoolean stop) {
        try {
            while (!stop.get()) {
                if (q.offer(item, 100, TimeUnit.MILLISECONDS)) {
                    return true;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return false;
    }

    /** Deletes temporary files an interrupted run left behind (names start with a dot, end in .tmp). */
    private void removeTemporaries() throws IOException {
        for (Path dir : List.of(output, output.resolve(PARTS))) {
            try (Stream<Path> s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    String n = p.getFileName().toString();
                    if (n.startsWith(".") && n.endsWith(".tmp")) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        }
    }

    static Path partFile(Path output, int shard) {
        return output.resolve(PARTS).resolve(String.format(Locale.ROOT, "part-%05d.jsonl", shard));
    }

    static Path tarFile(Path output, int shard) {
        return output.resolve(String.format(Locale.ROOT, "shard-%05d.tar", shard));
    }

    /** A temporary file next to {@code target} that becomes it on {@link #commit}. */
    static Path temporary(Path target) throws IOException {
        return Files.createTempFile(target.getParent(), "." + target.getFileName(), ".tmp");
    }

    static void commit(Path tmp, Path target) throws IOException {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** One shard being written: its part file and, for WebDataset, its tar of kept pairs. */
    private static final class ShardWriter {
        final Path output;
        final int index;
        final InputFormat format;
        final Path partTmp;
        final Writer part;
        final Path tarTmp;
        final OutputStream tarOut;
        final TarShards.Writer tar;
        int images;

        ShardWriter(Path output, int index, InputFormat format) throws IOException {
            this.output = output;
            this.index = index;
            this.format = format;
            this.partTmp = temporary(partFile(output, index));
            this.part = new BufferedWriter(Files.newBufferedWriter(partTmp, StandardCharsets.UTF_8));
            if (format == InputFormat.WEBDATASET) {
                tarTmp = temporary(tarFile(output, index));
                tarOut = new BufferedOutputStream(Files.newOutputStream(tarTmp), 1 << 16);
                tar = new TarShards.Writer(tarOut);
            } else {
                tarTmp = null;
                tarOut = null;
                tar = null;
            }
        }

        /** Records input that was not used; a line of its own in the part file, before the image it came with. */
        void skipped(Skipped k) throws IOException {
            ObjectNode line = JSON.createObjectNode();
            line.put("shard", k.shard());
            if (k.member() != null) {
                line.put("member", k.member());
            }
            line.put(k.unreadable() ? "unreadable" : "skipped", k.reason());
            part.write(JSON.writeValueAsString(line));
            part.write('\n');
        }

        @SuppressWarnings("unchecked")
        void add(Prepared p, Object result) throws IOException {
            images++;
            WebPair pair = p.pair();
            ObjectNode line = JSON.createObjectNode();
            line.put("key", pair.key());
            line.put("image", pair.imageFile() != null ? ref(pair.imageFile()) : pair.key() + "." + pair.imageExt());
            if (pair.split() != null) {
                line.put("split", pair.split());
            }
            if (result instanceof String error) {
                line.put("error", error);
            } else {
                ArrayNode caps = line.putArray("captions");
                List<String> kept = new ArrayList<>();
                for (Decision d : (List<Decision>) result) {
                    ObjectNode c = caps.addObject().put("caption", d.caption()).put("source", d.source().label())
                            .put("itm", d.itm()).put("itc", d.itc()).put("kept", d.kept());
                    if (d.truncated()) { // only then, so that other lines stay as they were
                        c.put("truncated", true);
                    }
                    if (d.kept() && !kept.contains(d.caption())) {
                        kept.add(d.caption());
                    }
                }
                if (tar != null && !kept.isEmpty()) {
                    tar.add(pair.key() + "." + pair.imageExt(), pair.imageBytes());
                    tar.add(pair.key() + ".txt", String.join("\n", kept).getBytes(StandardCharsets.UTF_8));
                }
            }
            part.write(JSON.writeValueAsString(line));
            part.write('\n');
        }

        /** The image's path relative to the output folder, with '/' separators. */
        private String ref(Path image) {
            Path abs = image.toAbsolutePath().normalize();
            try {
                return output.relativize(abs).toString().replace('\\', '/');
            } catch (IllegalArgumentException e) { // another drive: keep it absolute
                return abs.toString();
            }
        }

        void commit() throws IOException {
            part.close();
            if (tar != null) {
                tar.finish();
                tarOut.close();
                CapfiltRun.commit(tarTmp, tarFile(output, index));
            }
            // The part file last: its presence (with the manifest) says the whole shard is written.
            CapfiltRun.commit(partTmp, partFile(output, index));
        }

        void abandon() {
            try {
                part.close();
                Files.deleteIfExists(partTmp);
                if (tar != null) {
                    tarOut.close();
                    Files.deleteIfExists(tarTmp);
                }
            } catch (IOException ignored) {
                // Leftover temporaries are removed by the next run.
            }
        }
    }

    /** The progress file: settings and how far the run got. */
    private static final class Manifest {
        int shardsDone;
        long imagesDone;
        boolean complete;

        static Manifest read(Path file, ObjectNode fingerprint) {
            Manifest m = new Manifest();
            if (!Files.isRegularFile(file)) {
                return m;
            }
            JsonNode n;
            try {
                n = JSON.readTree(file.toFile());
            } catch (IOException e) {
                throw new UncheckedIOException(file + ": unreadable progress file (" + e.getMessage()
                        + "); delete the output folder to start over", e);
            }
            // Compared as text: numbers read back may have another node type (int for a small long).
            if (!fingerprint.toString().equals(String.valueOf(n.get("settings")))) {
                throw new IllegalArgumentException(file.getParent() + " holds a CapFilt run with other settings ("
                        + n.get("settings") + ", now " + fingerprint + "); use another --output, or delete it to start over");
            }
            m.shardsDone = n.path("shards_done").asInt();
            m.imagesDone = n.path("images_done").asLong();
            m.complete = n.path("complete").asBoolean();
            for (int i = 0; i < m.shardsDone; i++) {
                if (!Files.isRegularFile(partFile(file.getParent(), i))) {
                    throw new IllegalArgumentException(file + " records " + m.shardsDone + " shards but "
                            + partFile(file.getParent(), i) + " is missing; delete the output folder to start over");
                }
            }
            return m;
        }

        void write(Path file, ObjectNode fingerprint) throws IOException {
            ObjectNode n = JSON.createObjectNode();
            n.put("version", 1);
            n.set("settings", fingerprint);
            n.put("shards_done", shardsDone);
            n.put("images_done", imagesDone);
            n.put("complete", complete);
            Path tmp = temporary(file);
            try {
                Files.writeString(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n");
                commit(tmp, file);
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
    }
}
