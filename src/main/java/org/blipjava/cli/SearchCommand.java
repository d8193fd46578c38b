package org.blipjava.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.logging.Logger;
import org.blipjava.retrieval.ImageIndex;
import org.blipjava.retrieval.ImageSearcher;
import org.blipjava.retrieval.IndexInfo;
import org.blipjava.retrieval.Indexer;
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
            "The model is the one the index was built with; another --model is refused."})
final class SearchCommand extends ModelCommand {
    static final Logger LUCENE_LOG = IndexCommand.quietLucene();

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

    @Option(names = {"-k", "--k"}, paramLabel = "K", defaultValue = "10", description = "Results to show (default: ${DEFAULT-VALUE}).")
    int k;

    @Option(names = "--rerank", paramLabel = "N", defaultValue = "0",
            description = "Re-rank the best N by ITC with the ITM match probability (default: off); with --image "
                    + "this applies to the caption matches, since ITM scores an image against a text.")
    int rerank;

    private IndexInfo info;

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
        // Refuse a different model before spending time loading it.
        if (model != null && !IndexInfo.modelId(model).equals(info.modelId())) {
            info.requireSameModel(IndexInfo.modelId(model), info.dimension(), index);
        }
    }

    @Override
    int run(ImageTextModel loaded) {
        try (ImageIndex idx = ImageIndex.open(index)) {
            ImageSearcher searcher = new ImageSearcher(loaded, model == null ? defaultModel() : model, idx, common.batchSize);
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
                err().println("blip: " + f.error() + " (kept in ITC order)");
            }
            err().flush();
            if (!failed.isEmpty()) {
                ArrayNode errors = doc.putArray("errors");
                failed.forEach(f -> errors.addObject().put("image", f.path().toString()).put("error", f.error()));
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
            out.append('\t').append(h.path());
            if (h.caption() != null) {
                out.append('\t').append(h.caption());
            }
            out.append(nl);
        }
        if (hits.isEmpty()) {
            out.append("(no results: the index is empty)").append(nl);
        }
    }
}
