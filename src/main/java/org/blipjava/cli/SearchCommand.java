package org.blipjava.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.logging.Logger;
import org.blipjava.retrieval.ImageIndex;
import org.blipjava.retrieval.ImageSearcher;
import org.blipjava.retrieval.IndexException;
import org.blipjava.retrieval.IndexInfo;
import org.blipjava.retrieval.Indexer;
import org.blipjava.retrieval.ModelFingerprint;
import org.blipjava.retrieval.PathKeys;
import org.blipjava.retrieval.SearchHit;
import org.blipjava.retrieval.SearchResults;
import org.blipjava.serve.ResultJson;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.ImageTextModel;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** {@code blip search}: text-to-image and image-to-image search of an index built by {@code blip index}. */
@Command(name = "search", mixinStandardHelpOptions = true,
        description = {"Searches an index built by 'blip index': by --text (images matching the text) or by --image"
                + " (similar images, and images whose stored caption matches the query image).",
            "Scores are ITC cosines; --rerank N re-scores the best N with the ITM head (re-reading those images, or"
                + " taking their vision states from the index's cache when it was built with --cache-itm-states).",
            "The model is the one the index was built with, recognized by its weights wherever its folder lies;"
                + " another --model is refused (--force-model uses it anyway, with a warning).",
            "Paths that are not valid UTF-8 are shown as file: URIs (each byte outside ASCII percent-encoded).",
            "An index up to 256 MB is verified against its checksums first; 'blip index --check' checks any."})
final class SearchCommand extends ModelCommand {
    static final Logger LUCENE_LOG = IndexCommand.quietLucene();
    /**
     * Indexes up to this size (about 200,000 images of 256 dimensions) are verified against their
     * checksums on every search, while the model loads (a sequential read: 0.3 s for 100,000
     * images in a fresh JVM); larger ones are verified by 'blip index' and 'blip index --check'.
     */
    static final long VERIFY_UP_TO_BYTES = 256L << 20;

    @Option(names = "--index", required = true, paramLabel = "PATH", description = "The index directory.")
    Path index;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Query query;

    static final class Query {
        @Option(names = {"-t", "--text"}, paramLabel = "TEXT", description = "Find images matching this text.")
        String text;

        @Option(names = "--image", paramLabel = "FILE", description = "Find images similar to this image.")
        Path image;
    }

    @Option(names = {"-k", "--k"}, paramLabel = "K", defaultValue = "10",
            description = "Results to show (default: ${DEFAULT-VALUE}); a K beyond the index's size shows every image.")
    int k;

    @Option(names = "--rerank", paramLabel = "N", defaultValue = "0",
            description = "Re-rank the best N by ITC with the ITM match probability (default: off; an N beyond the "
                    + "index's size re-ranks every image); with --image this applies to the caption matches, since "
                    + "ITM scores an image against a text.")
    int rerank;

    @Option(names = "--force-model",
            description = "Search with --model even though the index was built with another model (of the same "
                    + "embedding size), with a warning. Only meaningful for the same weights in another form.")
    boolean forceModel;

    private IndexInfo info;
    /** The checksum verification running while the model loads; its failure is the search's. */
    private CompletableFuture<Void> verification;

    private static CompletableFuture<Void> verifyInBackground(Path index) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try (ImageIndex idx = ImageIndex.open(index)) {
                if (idx.bytes() <= VERIFY_UP_TO_BYTES) {
                    idx.verifyChecksums();
                }
                done.complete(null);
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        }, "verify-index");
        t.setDaemon(true);
        t.start();
        return done;
    }

    @Override
    String defaultModel() {
        return info.modelId();
    }

    @Override
    void validate() {
        if (k < 1) {
            throw new ParameterException(spec.commandLine(), "--k must be at least 1, got " + k);
        }
        if (rerank < 0) {
            throw new ParameterException(spec.commandLine(), "--rerank must be 0 (off) or positive, got " + rerank);
        }
        info = ImageIndex.readInfo(index);
        if (model == null) {
            requireRecordedModel();
        } else {
            refuseEarly();
        }
        verification = verifyInBackground(index);
    }

    /** The index's own model, when it was a folder, must still be there. */
    private void requireRecordedModel() {
        Path recorded;
        try {
            recorded = Path.of(info.modelId());
        } catch (InvalidPathException e) {
            return;
        }
        if (recorded.isAbsolute() && !Files.exists(recorded)) {
            throw new IndexException(index + " was built with the model at " + info.modelId() + ", which is not there any "
                    + "more; give its new location with --model (a model is recognized by its weights, wherever its folder "
                    + "lies; 'blip index' with it then records the new location)");
        }
    }

    /**
     * Refuses another model before spending time loading it, where that can be told without
     * loading: a model folder is compared by its weights; a Hub id with the name, for an index
     * that recorded no weights.
     */
    private void refuseEarly() {
        String id = IndexInfo.modelId(model);
        String fingerprint = null;
        Path dir;
        try {
            dir = Path.of(id);
        } catch (InvalidPathException e) {
            return;
        }
        if (Files.isDirectory(dir)) {
            try {
                fingerprint = ModelFingerprint.of(dir);
            } catch (IOException | RuntimeException e) {
                return; // Loading it reports what is wrong with it.
            }
        } else if (info.fingerprint() != null) {
            return; // A Hub model's weights are known once it is located.
        }
        // The dimension is known only once the model is loaded; it is checked then.
        info.checkModel(new IndexInfo(id, info.dimension(), false, fingerprint), index, forceModel);
    }

    @Override
    int run(ImageTextModel loaded) {
        try (ImageIndex idx = ImageIndex.open(index)) {
            try {
                verification.join();
            } catch (CompletionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : e;
            }
            ImageSearcher searcher = new ImageSearcher(loaded, model == null ? defaultModel() : model, idx, common.batchSize,
                    forceModel);
            if (searcher.modelWarning() != null) {
                err().println("blip: " + PlainText.message(searcher.modelWarning()));
                err().flush();
            }
            ObjectNode doc = JSON.createObjectNode();
            StringBuilder text = new StringBuilder();
            List<Indexer.Failure> failed = new ArrayList<>();
            if (query.text != null) {
                doc.putObject("query").put("text", query.text);
                SearchResults r = searcher.byText(query.text, k, rerank);
                failed.addAll(r.failed());
                table(text, null, r.hits());
                doc.set("results", ResultJson.hits(r.hits()));
            } else {
                doc.putObject("query").put("image", query.image.toString());
                var image = Blip.readImage(query.image);
                SearchResults images = searcher.byImage(image, k);
                table(text, "similar images", images.hits());
                doc.set("results", ResultJson.hits(images.hits()));
                SearchResults captions = searcher.byImageCaptions(image, k, rerank);
                if (!captions.hits().isEmpty()) {
                    text.append(System.lineSeparator());
                    table(text, "matching captions", captions.hits());
                    doc.set("caption_results", ResultJson.hits(captions.hits()));
                }
            }
            for (Indexer.Failure f : failed) {
                err().println("blip: " + PlainText.message(f.error()) + " (kept in ITC order)");
            }
            err().flush();
            if (!failed.isEmpty()) {
                ArrayNode errors = doc.putArray("errors");
                failed.forEach(f -> errors.addObject().put("image", PathKeys.display(f.path())).put("error", f.error()));
            }
            if (common.json) {
                emitJson(doc);
            } else {
                emit(text.toString());
            }
            return failed.isEmpty() ? 0 : 1;
        }
    }

    private static void table(StringBuilder out, String title, List<SearchHit> hits) {
        String nl = System.lineSeparator();
        if (title != null) {
            out.append("# ").append(title).append(nl);
        }
        boolean itm = hits.stream().anyMatch(SearchHit::reranked);
        out.append(itm ? "rank\titc\titm\tpath" : "rank\titc\tpath").append(nl);
        int rank = 1;
        for (SearchHit h : hits) {
            out.append(rank++).append('\t').append(String.format(Locale.ROOT, "%.4f", h.itc()));
            if (itm) {
                out.append('\t').append(h.reranked() ? String.format(Locale.ROOT, "%.4f", h.itm()) : "-");
            }
            out.append('\t').append(PlainText.field(h.path()));
            if (h.caption() != null) {
                out.append('\t').append(PlainText.field(h.caption()));
            }
            out.append(nl);
        }
        if (hits.isEmpty()) {
            out.append("(no results: the index is empty)").append(nl);
        }
    }
}
