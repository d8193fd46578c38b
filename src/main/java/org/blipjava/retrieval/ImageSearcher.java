package org.blipjava.retrieval;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import org.blipjava.image.RgbImage;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.ImageStates;
import org.blipjava.tasks.ImageTextModel;
import org.blipjava.tasks.MatchScores;

/**
 * Searches an {@link ImageIndex} with the model it was built with: text to image, image to
 * image, and image to stored captions, ranked by ITC cosine and optionally re-ranked by ITM.
 *
 * <p>Asking for more results ({@code k}) or re-ranked candidates ({@code rerank}) than the index
 * holds gives all of them.
 *
 * <p>Re-ranking ({@code rerank > 0}) takes the best {@code max(k, rerank)} ITC candidates,
 * scores the first {@code rerank} with the image-grounded matching head, orders those by ITM
 * match probability and puts the remaining candidates after them in ITC order. The head needs
 * each image's vision states: taken from the index's {@link ItmStateCache} when it holds a valid
 * entry for the image as indexed (same size and modification time), otherwise computed by
 * reading and encoding the image file again. Both give the same scores, bit for bit.
 *
 * <p>Thread-safe when the model and the index are.
 */
public final class ImageSearcher {
    private final ImageTextModel model;
    private final ImageIndex index;
    private final int batchSize;
    private final ItmStateCache cache;
    private final String modelWarning;

    /**
     * @param model     the embedding model
     * @param modelId   the model as the user named it, checked against the index's model
     * @param batchSize images per model call when re-ranking
     * @throws IndexException when the index was built with another model
     */
    public ImageSearcher(ImageTextModel model, String modelId, ImageIndex index, int batchSize) {
        this(model, modelId, index, batchSize, false);
    }

    /**
     * @param acceptOtherModel search an index built with another model of the same embedding
     *                         size anyway ({@link #modelWarning()} then says so)
     * @throws IndexException when the index was built with another model and that is not accepted
     */
    public ImageSearcher(ImageTextModel model, String modelId, ImageIndex index, int batchSize, boolean acceptOtherModel) {
        this.model = Objects.requireNonNull(model, "model");
        this.index = Objects.requireNonNull(index, "index");
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        this.batchSize = batchSize;
        IndexInfo mine = IndexInfo.forModel(modelId, model);
        this.modelWarning = index.info().checkModel(mine, index.location(), acceptOtherModel);
        // Only a retrieval model has an ITM head; an index can only carry a cache made by one.
        this.cache = index.info().itmCache() && model instanceof Blip blip && blip.hasMatchHead()
                ? ItmStateCache.of(index, blip.imageStateShape()) : null;
    }

    /** Why the model is in doubt when another model was accepted; null for the index's own model. */
    public String modelWarning() {
        return modelWarning;
    }

    /** Images best matching a text. */
    public SearchResults byText(String text, int k, int rerank) {
        Objects.requireNonNull(text, "text");
        checkArgs(k, rerank);
        requireMatchHead(rerank);
        float[] q = model.embedTexts(List.of(text))[0];
        List<SearchHit> candidates = index.search(q, Math.max(k, rerank));
        if (rerank == 0) {
            return new SearchResults(first(candidates, k), List.of());
        }
        List<SearchHit> head = candidates.subList(0, Math.min(rerank, candidates.size()));
        List<SearchHit> scored = new ArrayList<>();
        List<SearchHit> unreadable = new ArrayList<>();
        List<Indexer.Failure> failed = new ArrayList<>();
        for (int start = 0; start < head.size(); start += batchSize) {
            List<SearchHit> batch = head.subList(start, Math.min(head.size(), start + batchSize));
            List<SearchHit> ok = new ArrayList<>();
            List<float[]> states = new ArrayList<>();
            List<Integer> toEncode = new ArrayList<>();
            List<RgbImage> images = new ArrayList<>();
            for (SearchHit h : batch) {
                float[] cached = cache == null ? null : cache.get(h.path(), new FileStamp(h.size(), h.modified()));
                if (cached == null) {
                    try {
                        images.add(Blip.readImage(PathKeys.path(h.path())));
                        toEncode.add(ok.size());
                    } catch (RuntimeException e) {
                        unreadable.add(h);
                        failed.add(new Indexer.Failure(failurePath(h.path()), e.getMessage()));
                        continue;
                    }
                }
                ok.add(h);
                states.add(cached);
            }
            if (!ok.isEmpty()) {
                MatchScores s = itm(images, toEncode, states, text);
                for (int i = 0; i < ok.size(); i++) {
                    scored.add(ok.get(i).withItm(s.itm(i, 0)));
                }
            }
        }
        return new SearchResults(first(merge(scored, unreadable, candidates.subList(head.size(), candidates.size())), k), failed);
    }

    /**
     * ITM scores of a batch of candidates against the text. A BLIP retrieval model scores the
     * vision states (cached ones as they are, the rest encoded from {@code images}); another
     * model with a matching head (FLAVA) scores the images, which then are all of the candidates.
     */
    private MatchScores itm(List<RgbImage> images, List<Integer> toEncode, List<float[]> states, String text) {
        if (!(model instanceof Blip blip)) {
            return model.match(images, List.of(text));
        }
        if (!images.isEmpty()) {
            ImageStates encoded = blip.imageStates(blip.pixels(images));
            for (int i = 0; i < toEncode.size(); i++) {
                states.set(toEncode.get(i), encoded.image(i));
            }
        }
        return blip.match(ImageStates.stack(states, blip.imageStateShape()), List.of(text));
    }

    private void requireMatchHead(int rerank) {
        if (rerank > 0 && !model.hasMatchHead()) {
            throw new IllegalArgumentException(model.directory() + " is a " + model.architecture()
                    + " model without an image-text matching head, so it cannot re-rank; use --rerank 0");
        }
    }

    /** Indexed images most similar to a query image (image-image ITC cosine). */
    public SearchResults byImage(RgbImage query, int k) {
        checkArgs(k, 0);
        float[] q = model.embedImages(List.of(query))[0];
        return new SearchResults(index.search(q, k), List.of());
    }

    /**
     * Indexed images whose stored captions best match a query image (image-text ITC cosine),
     * optionally re-ranked by the ITM probability of the query image and each caption. Only
     * images indexed with captions take part.
     */
    public SearchResults byImageCaptions(RgbImage query, int k, int rerank) {
        checkArgs(k, rerank);
        requireMatchHead(rerank);
        float[] q = model.embedImages(List.of(query))[0];
        List<SearchHit> candidates = index.searchCaptions(q, Math.max(k, rerank));
        if (rerank == 0 || candidates.isEmpty()) {
            return new SearchResults(first(candidates, k), List.of());
        }
        List<SearchHit> head = candidates.subList(0, Math.min(rerank, candidates.size()));
        MatchScores s = model.match(List.of(query), head.stream().map(SearchHit::caption).toList());
        List<SearchHit> scored = new ArrayList<>();
        for (int i = 0; i < head.size(); i++) {
            scored.add(head.get(i).withItm(s.itm(0, i)));
        }
        return new SearchResults(first(merge(scored, List.of(), candidates.subList(head.size(), candidates.size())), k), List.of());
    }

    private static Path failurePath(String key) {
        try {
            return PathKeys.path(key);
        } catch (IllegalArgumentException e) {
            return Path.of(key.replace('\0', '?'));
        }
    }

    private static List<SearchHit> merge(List<SearchHit> scored, List<SearchHit> unreadable, List<SearchHit> rest) {
        List<SearchHit> out = new ArrayList<>(scored);
        // Stable sort: equal ITM probabilities keep their ITC order.
        out.sort(Comparator.comparingDouble(SearchHit::itm).reversed());
        out.addAll(unreadable);
        out.addAll(rest);
        return out;
    }

    private static List<SearchHit> first(List<SearchHit> hits, int k) {
        return List.copyOf(hits.subList(0, Math.min(k, hits.size())));
    }

    private static void checkArgs(int k, int rerank) {
        if (k < 1) {
            throw new IllegalArgumentException("k must be at least 1, got " + k);
        }
        if (rerank < 0) {
            throw new IllegalArgumentException("rerank must be 0 (off) or positive, got " + rerank);
        }
    }
}
