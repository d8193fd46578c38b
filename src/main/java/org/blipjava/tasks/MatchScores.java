package org.blipjava.tasks;

/**
 * Image-text matching scores for every image x text pair.
 *
 * @param itm ITM match probabilities {@code [image][text]} (softmax of the ITM head, class 1), or
 *            null when the model has no matching head (CLIP, {@code BlipModel}, {@code FlavaModel})
 * @param itc cosine similarities of the normalized ITC features {@code [image][text]}
 */
public record MatchScores(float[][] itm, float[][] itc) {
    public MatchScores {
        itm = deepCopy(itm);
        itc = deepCopy(itc);
    }

    @Override
    public float[][] itm() {
        return deepCopy(itm);
    }

    @Override
    public float[][] itc() {
        return deepCopy(itc);
    }

    /** Whether ITM probabilities are present (the model has a matching head). */
    public boolean hasItm() {
        return itm != null;
    }

    /** ITM probability of image {@code i} and text {@code t}; fails when {@link #hasItm()} is false. */
    public float itm(int i, int t) {
        if (itm == null) {
            throw new IllegalStateException("these scores have no ITM probabilities: the model has no matching head");
        }
        return itm[i][t];
    }

    /** ITC cosine of image {@code i} and text {@code t}. */
    public float itc(int i, int t) {
        return itc[i][t];
    }

    private static float[][] deepCopy(float[][] a) {
        if (a == null) {
            return null;
        }
        float[][] out = new float[a.length][];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i].clone();
        }
        return out;
    }
}
