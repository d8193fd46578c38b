package org.blipjava.retrieval;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.blipjava.data.DatasetException;
import org.blipjava.image.RgbImage;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.ImageTextModel;
import org.blipjava.tasks.MatchScores;

/**
 * Evaluates a retrieval model on a {@link RetrievalDataset}: Recall@1/5/10 in both directions
 * from ITC similarities over all images and texts, and optionally after ITM re-ranking of each
 * query's top {@code k} candidates, plus top-1 matching accuracy.
 *
 * <p>Images that cannot be read are reported and left out together with their captions. For
 * re-ranking each image is decoded and encoded once more and scored against every text it must
 * be compared with, so the ITM cost is about {@code images * 2k} text-encoder passes.
 */
public final class RetrievalEvaluator {
    /**
     * @param batchSize images or texts per model call
     * @param rerankK   candidates re-ranked by ITM per query; 0 for ITC only
     */
    public record Options(int batchSize, int rerankK) {
        public Options {
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
            }
            if (rerankK < 0) {
                throw new IllegalArgumentException("re-rank k must be 0 (off) or positive, got " + rerankK);
            }
        }
    }

    /**
     * The evaluation's outcome.
     *
     * @param dataset the images and texts evaluated (unreadable images left out)
     * @param itc     metrics from ITC similarity
     * @param itm     metrics after ITM re-ranking, or null when not asked for
     * @param failed  images left out
     */
    public record Report(RetrievalDataset dataset, RetrievalMetrics.Result itc, RetrievalMetrics.Result itm,
                         List<Indexer.Failure> failed) {
        public Report {
            failed = List.copyOf(failed);
        }
    }

    /** Told about progress; called on the evaluating thread. */
    public interface Listener {
        /** {@code done} of {@code total} units of a phase ("images", "texts", "rerank"). */
        default void progressed(String phase, int done, int total) {}

        default void failed(Indexer.Failure failure) {}
    }

    private static final int ITM_TEXTS_PER_CALL = 128;

    private final ImageTextModel model;
    private final Options options;

    /**
     * @param model any model that embeds (BLIP retrieval or BlipModel, CLIP, FLAVA); re-ranking
     *              ({@code options.rerankK() > 0}) needs one with a matching head (BLIP retrieval,
     *              FLAVA pre-training)
     */
    public RetrievalEvaluator(ImageTextModel model, Options options) {
        this.model = Objects.requireNonNull(model, "model");
        this.options = Objects.requireNonNull(options, "options");
        if (options.rerankK() > 0 && !model.hasMatchHead()) {
            throw new IllegalArgumentException(model.directory() + " is a " + model.architecture()
                    + " model without an image-text matching head; re-ranking needs a BlipForImageTextRetrieval or "
                    + "FlavaForPreTraining checkpoint (or use --rerank 0)");
        }
    }

    public Report evaluate(RetrievalDataset dataset, Listener listener) {
        Listener l = listener == null ? new Listener() {} : listener;
        int b = options.batchSize();
        List<Path> images = dataset.images();
        List<float[]> imageFeats = new ArrayList<>();
        Set<Integer> dropped = new HashSet<>();
        List<Indexer.Failure> failed = new ArrayList<>();
        for (int start = 0; start < images.size(); start += b) {
            List<RgbImage> batch = new ArrayList<>();
            for (int i = start; i < Math.min(images.size(), start + b); i++) {
                try {
                    batch.add(Blip.readImage(images.get(i)));
                } catch (RuntimeException e) {
                    dropped.add(i);
                    Indexer.Failure f = new Indexer.Failure(images.get(i), e.getMessage());
                    failed.add(f);
                    l.failed(f);
                }
            }
            if (!batch.isEmpty()) {
                imageFeats.addAll(List.of(model.embedImages(batch)));
            }
            l.progressed("images", Math.min(images.size(), start + b), images.size());
        }
        RetrievalDataset ds = dataset.without(dropped);
        if (ds.images().isEmpty() || ds.texts().isEmpty()) {
            throw new DatasetException("no readable image with captions is left to evaluate");
        }
        List<String> texts = ds.texts();
        List<float[]> textFeats = new ArrayList<>();
        for (int start = 0; start < texts.size(); start += b) {
            textFeats.addAll(List.of(model.embedTexts(texts.subList(start, Math.min(texts.size(), start + b)))));
            l.progressed("texts", Math.min(texts.size(), start + b), texts.size());
        }
        float[][] sim = new float[imageFeats.size()][texts.size()];
        for (int i = 0; i < sim.length; i++) {
            float[] a = imageFeats.get(i);
            for (int t = 0; t < texts.size(); t++) {
                float[] c = textFeats.get(t);
                float s = 0;
                for (int d = 0; d < a.length; d++) {
                    s += a[d] * c[d];
                }
                sim[i][t] = s;
            }
        }
        int[] links = ds.textImage();
        RetrievalMetrics.Result itc = RetrievalMetrics.itc(sim, links);
        RetrievalMetrics.Result itm = null;
        if (options.rerankK() > 0) {
            int[] done = {0};
            int total = ds.images().size();
            itm = RetrievalMetrics.reranked(sim, links, options.rerankK(), (image, textIdx) -> {
                RgbImage img = Blip.readImage(ds.images().get(image));
                float[] out = new float[textIdx.length];
                // One vision pass per chunk: chunks are large since the image is the costly part.
                for (int start = 0; start < textIdx.length; start += ITM_TEXTS_PER_CALL) {
                    int end = Math.min(textIdx.length, start + ITM_TEXTS_PER_CALL);
                    List<String> chunk = new ArrayList<>();
                    for (int j = start; j < end; j++) {
                        chunk.add(texts.get(textIdx[j]));
                    }
                    MatchScores s = model.match(List.of(img), chunk);
                    for (int j = start; j < end; j++) {
                        out[j] = s.itm(0, j - start);
                    }
                }
                l.progressed("rerank", ++done[0], total);
                return out;
            });
        }
        return new Report(ds, itc, itm, failed);
    }
}
