package org.blipjava.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.logging.Level;
import java.util.logging.Logger;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.blipjava.retrieval.ImageIndex;
import org.blipjava.retrieval.IndexInfo;
import org.blipjava.retrieval.Indexer;
import org.blipjava.retrieval.ItmStateCache;
import org.blipjava.retrieval.PathKeys;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.ImageTextModel;
import org.blipjava.tasks.TaskException;
import org.blipjava.tasks.ImageStates;
import org.blipjava.tasks.LoadOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** {@code blip index}: embeds a collection of images into a searchable Lucene index. */
@Command(name = "index", mixinStandardHelpOptions = true,
        description = {"Embeds images (normalized ITC features) into a Lucene vector index for 'blip search'.",
            "Re-running skips unchanged files, re-embeds changed ones and drops entries whose file is gone"
                + " (--keep-missing keeps them). Unreadable images are listed and skipped. Work is committed every"
                + " --commit-every seconds, so an interrupted run keeps what it did.",
            "--cache-itm-states also keeps each image's vision states for 'blip search --rerank' (size printed).",
            "Each run first verifies the index's checksums and refuses a damaged index (--rebuild starts it again);"
                + " --check checks it thoroughly without indexing.",
            "The model is recognized by its weights, so a moved model folder is still the index's model.",
            "Default model: Salesforce/blip-itm-base-coco."})
final class IndexCommand extends ModelCommand {
    /** Lucene announces its SIMD support on stderr at INFO; that line is noise for a command. */
    static final Logger LUCENE_LOG = quietLucene();

    @Option(names = "--images", paramLabel = "DIR_OR_LIST",
            description = "Image files, directories (recursive), globs, or .txt/.lst files listing one image path per line "
                    + "(relative to the list). Repeat for several.")
    List<String> imageArgs;

    @Option(names = "--index", required = true, paramLabel = "PATH", description = "The index directory (created if missing).")
    Path index;

    @Option(names = "--check",
            description = "Check the index instead of indexing: read every file against its checksum and decode every "
                    + "segment (Lucene's CheckIndex); prints OK or what is damaged, exit 1 when damaged. Needs no model.")
    boolean check;

    @Option(names = "--rebuild",
            description = "Delete the index (and its ITM state cache) and build it again from --images: for a damaged "
                    + "index, or to change its model.")
    boolean rebuild;

    @Option(names = "--force-model",
            description = "Index with --model even though the index was built with another model (of the same embedding "
                    + "size), with a warning; the index then records the new model. Only meaningful for the same weights "
                    + "in another form (e.g. converted to another file format).")
    boolean forceModel;

    @Option(names = "--caption-model", paramLabel = "MODEL",
            description = "Also caption every image with this captioning model and store the caption "
                    + "(searchable from 'blip search --image').")
    String captionModel;

    @Option(names = "--keep-missing", description = "Keep entries whose image file no longer exists.")
    boolean keepMissing;

    @Option(names = "--commit-every", paramLabel = "SECONDS", defaultValue = "10",
            description = "Commit at least this often (default: ${DEFAULT-VALUE}); 0 commits after every batch.")
    double commitEvery;

    @Option(names = "--cache-itm-states",
            description = "Also store each image's vision-tower states (seq x hidden float32, 1.77 MB per image for "
                    + "BLIP-base at 384 px) in INDEX/" + ItmStateCache.DIRECTORY + ", so 'blip search --rerank' "
                    + "need not re-read and re-encode the images; fills in entries missing from earlier runs.")
    boolean cacheItmStates;

    @Option(names = "--drop-itm-cache",
            description = "Delete the index's ITM state cache and record that it has none (re-ranking then re-reads"
                    + " the images), then index as usual.")
    boolean dropItmCache;

    static Logger quietLucene() {
        Logger l = Logger.getLogger("org.apache.lucene.internal.vectorization");
        l.setLevel(Level.WARNING);
        return l;
    }

    @Override
    String defaultModel() {
        return "Salesforce/blip-itm-base-coco";
    }

    @Override
    void validate() {
        if (check) {
            if (imageArgs != null || rebuild || forceModel || cacheItmStates || dropItmCache || captionModel != null) {
                throw new ParameterException(spec.commandLine(), "--check only checks the index; give it with --index alone");
            }
            return;
        }
        if (imageArgs == null || imageArgs.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "Missing required option: '--images=DIR_OR_LIST'");
        }
        if (commitEvery < 0 || Double.isNaN(commitEvery)) {
            throw new ParameterException(spec.commandLine(), "--commit-every must be 0 or more seconds, got " + commitEvery);
        }
        if (cacheItmStates && dropItmCache) {
            throw new ParameterException(spec.commandLine(), "--cache-itm-states and --drop-itm-cache exclude each other");
        }
    }

    @Override
    Integer runWithoutModel() {
        return check ? check() : null;
    }

    /** {@code --check}: Lucene's CheckIndex over the whole index. */
    private int check() {
        ImageIndex.CheckReport r = ImageIndex.check(index);
        String rebuildHint = "rebuild it: 'blip index --rebuild --index " + index + " --images ...' (or delete the folder "
                + "and index again), which embeds every image again";
        if (common.json) {
            ObjectNode doc = JSON.createObjectNode();
            doc.put("index", index.toString()).put("ok", r.ok()).put("images", r.images()).put("segments", r.segments());
            if (r.info() != null) {
                doc.put("model", r.info().modelId()).put("dimension", r.info().dimension());
            }
            if (!r.ok()) {
                var problems = doc.putArray("problems");
                r.problems().forEach(problems::add);
                doc.put("hint", rebuildHint);
            }
            emitJson(doc);
        } else if (r.ok()) {
            emit(String.format(Locale.ROOT, "%s: OK: %d images in %d segment%s%s; every file matches its checksum and every "
                            + "segment decodes%n", PlainText.path(index), r.images(), r.segments(), r.segments() == 1 ? "" : "s",
                    r.info() == null ? "" : ", model " + PlainText.field(r.info().modelId()) + " (" + r.info().dimension()
                            + "-dimensional)"));
        } else {
            StringBuilder sb = new StringBuilder(PlainText.path(index)).append(": DAMAGED").append(System.lineSeparator());
            for (String problem : r.problems()) {
                sb.append("  ").append(PlainText.message(problem)).append(System.lineSeparator());
            }
            sb.append(PlainText.message(rebuildHint)).append(System.lineSeparator());
            emit(sb.toString());
        }
        return r.ok() ? 0 : 1;
    }

    @Override
    int run(ImageTextModel loaded) {
        String modelArg = model == null ? defaultModel() : model;
        IndexInfo info = IndexInfo.forModel(modelArg, loaded);
        if (cacheItmStates && !(loaded instanceof Blip b && b.hasMatchHead())) {
            // Refuses a model without BLIP's ITM head before the index records a cache.
            throw new TaskException(modelArg + " is a " + loaded.architecture() + " model; --cache-itm-states "
                    + "stores the vision states BLIP's ITM head reads, so it needs a BlipForImageTextRetrieval checkpoint");
        }
        info = info.withItmCache(cacheItmStates);
        List<Path> paths = expandImages(expandLists(imageArgs));
        Indexer.Options options = new Indexer.Options(common.batchSize,
                Duration.ofMillis(Math.round(commitEvery * 1000)), !keepMissing).withCacheItmStates(cacheItmStates);
        Blip captioner = null;
        try (ImageIndex idx = ImageIndex.openForWriting(index, info, new ImageIndex.WriteOptions(rebuild, forceModel))) {
            if (idx.modelWarning() != null) {
                err().println("blip: " + PlainText.message(idx.modelWarning()));
                err().flush();
            }
            if (dropItmCache) {
                idx.dropItmCache();
            }
            if (captionModel != null) {
                captioner = Blip.load(captionModel, LoadOptions.defaults().withRevision(common.revision)
                        .withThreads(common.threads == null ? 0 : common.threads));
            }
            Listener listener = new Listener();
            Indexer.Report report;
            try {
                report = new Indexer(loaded, captioner, options).index(idx, paths, listener);
            } finally {
                listener.close();
            }
            int size = idx.size();
            Blip blip = loaded instanceof Blip b && b.hasMatchHead() ? b : null;
            ItmStateCache.Usage cache = idx.info().itmCache() && blip != null
                    ? ItmStateCache.of(idx, blip.imageStateShape()).usage() : null;
            if (common.json) {
                ObjectNode doc = JSON.createObjectNode();
                doc.put("index", index.toString()).put("model", info.modelId()).put("dimension", info.dimension())
                        .put("added", report.added()).put("updated", report.updated())
                        .put("unchanged", report.unchanged()).put("removed", report.removed()).put("size", size);
                if (cache != null) {
                    ImageStates.Shape shape = blip.imageStateShape();
                    doc.putObject("itm_cache").put("written", report.cached()).put("entries", cache.entries())
                            .put("bytes", cache.bytes()).put("bytes_per_image", cache.bytesPerImage())
                            .put("seq_len", shape.seqLen()).put("hidden", shape.hidden());
                }
                if (!report.failed().isEmpty()) {
                    var errors = doc.putArray("errors");
                    report.failed().forEach(f -> errors.addObject().put("image", f.path().toString()).put("error", f.error()));
                }
                emitJson(doc);
            } else {
                emit(String.format(Locale.ROOT, "%s: %d added, %d updated, %d unchanged, %d removed, %d failed; %d images indexed%n",
                        PlainText.path(index), report.added(), report.updated(), report.unchanged(), report.removed(),
                        report.failed().size(), size) + (cache == null ? "" : cacheLine(blip, report.cached(), cache)));
            }
            if (report.failed().isEmpty()) {
                return 0;
            }
            return report.failed().size() == paths.size() ? Main.EXIT_USAGE : 1;
        } finally {
            if (captioner != null) {
                captioner.close();
            }
        }
    }

    /** The size cost of the cache, e.g. "ITM cache: 1.77 MB per image (577 x 768 float32 at 384x384 px) ...". */
    private String cacheLine(Blip blip, int written, ItmStateCache.Usage cache) {
        ImageStates.Shape shape = blip.imageStateShape();
        var px = blip.imageProcessor().config();
        return String.format(Locale.ROOT, "ITM cache: %.2f MB per image (%d x %d float32 at %dx%d px); "
                        + "%d written, %d entries, %.2f MB in %s%n",
                cache.bytesPerImage() / 1e6, shape.seqLen(), shape.hidden(), px.width(), px.height(),
                written, cache.entries(), cache.bytes() / 1e6, PlainText.path(index.resolve(ItmStateCache.DIRECTORY)));
    }

    /**
     * Replaces list files (.txt, .lst, .list) by the paths they name. A line is a file name in
     * bytes, relative to the list: one that is not UTF-8 (a list written on a Latin-1 system, say)
     * names its file all the same, passed on as a {@code file:} URI of its bytes.
     */
    static List<String> expandLists(List<String> args) {
        List<String> out = new ArrayList<>();
        for (String a : args) {
            Path p;
            try {
                p = ImageArgs.toPath(a);
            } catch (IllegalArgumentException e) {
                out.add(a);
                continue;
            }
            String name = p.getFileName() == null ? "" : p.getFileName().toString().toLowerCase(Locale.ROOT);
            if (Files.isRegularFile(p) && (name.endsWith(".txt") || name.endsWith(".lst") || name.endsWith(".list"))) {
                Path base = p.toAbsolutePath().getParent();
                byte[] bytes;
                try {
                    bytes = Files.readAllBytes(p);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read image list " + a + ": " + e.getMessage(), e);
                }
                int start = 0;
                for (int i = 0; i <= bytes.length; i++) {
                    if (i < bytes.length && bytes[i] != '\n') {
                        continue;
                    }
                    byte[] line = trim(Arrays.copyOfRange(bytes, start, i));
                    start = i + 1;
                    if (line.length == 0 || line[0] == '#') {
                        continue;
                    }
                    String text = new String(line, StandardCharsets.UTF_8);
                    try {
                        out.add(PathKeys.key(PathKeys.resolve(base, line)));
                    } catch (IllegalArgumentException e) {
                        // A NUL in the line: ImageArgs reports it as naming no file.
                        out.add(text);
                    }
                }
            } else {
                out.add(a);
            }
        }
        return out;
    }

    /** The line without leading and trailing ASCII white space (a CR of a CRLF file included). */
    private static byte[] trim(byte[] line) {
        int from = 0;
        int to = line.length;
        while (from < to && (line[from] == ' ' || line[from] == '\t' || line[from] == '\r')) {
            from++;
        }
        while (to > from && (line[to - 1] == ' ' || line[to - 1] == '\t' || line[to - 1] == '\r')) {
            to--;
        }
        return Arrays.copyOfRange(line, from, to);
    }

    /** Progress bar over the images to embed, and one stderr line per unreadable image. */
    private final class Listener implements Indexer.Listener {
        private ProgressBar bar;

        @Override
        public void planned(int images, int toEmbed) {
            if (showProgress() && toEmbed > common.batchSize) {
                bar = new ProgressBarBuilder().setTaskName("index").setInitialMax(toEmbed)
                        .setStyle(ProgressBarStyle.ASCII).setConsumer(new ConsoleProgressBarConsumer(System.err))
                        .setUnit(" images", 1).build();
            }
        }

        @Override
        public void progressed(int done) {
            if (bar != null) {
                bar.stepTo(done);
            }
        }

        @Override
        public void failed(Indexer.Failure failure) {
            err().println("blip: " + PlainText.message(failure.error()));
            err().flush();
        }

        void close() {
            if (bar != null) {
                bar.close();
            }
        }
    }
}
