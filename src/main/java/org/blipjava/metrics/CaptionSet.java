package org.blipjava.metrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Captions to score: for each image id, in a fixed order, the reference captions and the one
 * candidate caption.
 *
 * <p>The order of the ids is the order of the per-image scores (the coco-caption scorers use the
 * order of the references' keys). Immutable.
 *
 * @param ids image ids in scoring order
 * @param references references per id (at least one each)
 * @param candidates the candidate caption per id
 */
public record CaptionSet(List<String> ids, Map<String, List<String>> references, Map<String, String> candidates) {

    /** Copies and checks the arguments; see {@link #of}. */
    public CaptionSet {
        ids = List.copyOf(ids);
        Map<String, List<String>> refs = new LinkedHashMap<>();
        Map<String, String> cands = new LinkedHashMap<>();
        for (String id : ids) {
            List<String> r = references.get(id);
            if (r == null || r.isEmpty()) {
                throw new IllegalArgumentException("image id '" + id + "' has no reference captions");
            }
            String c = candidates.get(id);
            if (c == null) {
                throw new IllegalArgumentException("image id '" + id + "' has no candidate caption");
            }
            refs.put(id, List.copyOf(r));
            cands.put(id, c);
        }
        references = java.util.Collections.unmodifiableMap(refs);
        candidates = java.util.Collections.unmodifiableMap(cands);
    }

    /**
     * Pairs references and candidates, ordered as the references are.
     *
     * @throws IllegalArgumentException when the two maps do not have the same ids or an image has
     *     no references; the message names the ids
     */
    public static CaptionSet of(Map<String, List<String>> references, Map<String, String> candidates) {
        List<String> missingCandidates = new ArrayList<>();
        for (String id : references.keySet()) {
            if (!candidates.containsKey(id)) {
                missingCandidates.add(id);
            }
        }
        List<String> missingReferences = new ArrayList<>();
        for (String id : candidates.keySet()) {
            if (!references.containsKey(id)) {
                missingReferences.add(id);
            }
        }
        if (!missingCandidates.isEmpty()) {
            throw new IllegalArgumentException("no candidate caption for image id(s) " + sample(missingCandidates)
                    + "; candidates and references must have the same image ids");
        }
        if (!missingReferences.isEmpty()) {
            throw new IllegalArgumentException("no reference captions for image id(s) " + sample(missingReferences)
                    + "; candidates and references must have the same image ids");
        }
        if (references.isEmpty()) {
            throw new IllegalArgumentException("no images to score");
        }
        return new CaptionSet(new ArrayList<>(references.keySet()), references, candidates);
    }

    private static String sample(List<String> ids) {
        List<String> shown = ids.subList(0, Math.min(5, ids.size()));
        return "'" + String.join("', '", shown) + "'" + (ids.size() > shown.size() ? " and " + (ids.size() - shown.size()) + " more" : "");
    }

    /** Number of images. */
    public int size() {
        return ids.size();
    }

    /** The same set with every caption passed through {@code f} (e.g. {@link PtbTokenizer#tokenize}). */
    public CaptionSet map(UnaryOperator<String> f) {
        Map<String, List<String>> refs = new LinkedHashMap<>();
        Map<String, String> cands = new LinkedHashMap<>();
        for (String id : ids) {
            refs.put(id, references.get(id).stream().map(f).toList());
            cands.put(id, f.apply(candidates.get(id)));
        }
        return new CaptionSet(ids, refs, cands);
    }

    /** The set after the coco-caption PTB tokenization ({@link PtbTokenizer}). */
    public CaptionSet tokenized() {
        return map(PtbTokenizer::tokenize);
    }
}
