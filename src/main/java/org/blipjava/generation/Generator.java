package org.blipjava.generation;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Text generation over a {@link StepDecoder} with the semantics of transformers 4.40.2
 * {@code generate()}: greedy search, multinomial sampling, beam search and beam sampling.
 *
 * <p><b>How BLIP calls it.</b> In the reference, {@code BlipForConditionalGeneration.generate} builds
 * {@code input_ids} as {@code [DEC]} (30522) followed by the prompt's ids without the tokenizer's final
 * {@code [SEP]} (it replaces {@code [CLS]} by {@code [DEC]} and drops the last id), or just {@code [DEC]}
 * without a prompt; {@code BlipForQuestionAnswering.generate} starts from {@code [DEC]} alone. Both call
 * the text decoder's {@code generate} with {@code eos_token_id = sep_token_id} (102) and
 * {@code pad_token_id} (0). {@code BlipTextLMHeadModel.prepare_inputs_for_generation} feeds the whole
 * prompt on the first step and only the newest token afterwards (key/value cache), which is what
 * {@link StepDecoder#forward} does. {@code max_length}/{@code min_length} count the whole sequence,
 * {@code [DEC]} and prompt included; the returned sequences start with the prompt.
 *
 * <p><b>Semantics reproduced.</b>
 * <ul>
 *   <li>Greedy and sampling: processors act on raw logits; a row that produced eos keeps receiving the pad
 *   id; generation stops when every row is finished or the length reaches {@code max_length}, so the
 *   result is as long as the longest row. At least one token is always generated.</li>
 *   <li>Beam search: scores are log-softmax, then the processors, then the beam's running score is added;
 *   the best {@code 2 * num_beams} candidates (more with several eos ids) are examined in order; an eos
 *   candidate ranked within the first {@code num_beams} becomes a finished hypothesis scored
 *   {@code sum_logprobs / generated_len^length_penalty}, where {@code generated_len} counts the tokens
 *   after the prompt including the eos; the first {@code num_beams} non-eos candidates continue. Initially
 *   only the first beam is live (the others start at -1e9). An input is done per {@link EarlyStopping};
 *   at {@code max_length} the running beams are offered as hypotheses with their length after the
 *   prompt. Returned sequences get the eos id appended when they are shorter than the common length, which
 *   is the longest hypothesis plus one, capped at {@code max_length}; shorter ones are padded.</li>
 *   <li>Sampling draws from a {@link SplittableRandom} seeded by {@link GenerationConfig#seed()}:
 *   deterministic for a seed, but not the same draws as torch.</li>
 * </ul>
 *
 * <p>Stateless and thread-safe: every call opens its own decoder (closed on return) and buffers.
 */
public final class Generator {
    // The reference starts beams 2..n at this score so that the first step expands only beam 1.
    private static final float INACTIVE_BEAM_SCORE = -1e9f;

    private Generator() {}

    /**
     * Generates for {@code batch} inputs that all start from the same prompt.
     *
     * @param factory opens the decoder; row r of it must read input {@code rowInputs[r]}
     * @param batch   number of conditioning inputs (images, or questions)
     * @param prompt  the decoder's start ids, e.g. {@code [30522]} for BLIP
     * @param cfg     the settings; for BLIP eos must be the [SEP] id and pad 0
     */
    public static GenerationResult generate(StepDecoder.Factory factory, int batch, int[] prompt, GenerationConfig cfg) {
        if (prompt == null) {
            throw new IllegalArgumentException("prompt must not be null; BLIP starts from [DEC] (30522)");
        }
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        }
        int[][] prompts = new int[batch][];
        Arrays.fill(prompts, prompt);
        return generate(factory, prompts, cfg);
    }

    /**
     * Generates for {@code prompts.length} inputs, input {@code i} starting from {@code prompts[i]}. The
     * prompts must have one length: the reference pads unequal prompts and masks the padding, which a
     * {@link StepDecoder} has no mask for.
     */
    public static GenerationResult generate(StepDecoder.Factory factory, int[][] prompts, GenerationConfig cfg) {
        if (factory == null || cfg == null) {
            throw new IllegalArgumentException("factory and cfg must not be null");
        }
        if (prompts == null || prompts.length == 0) {
            throw new IllegalArgumentException("prompts must hold at least one prompt (one per input)");
        }
        int promptLength = -1;
        for (int i = 0; i < prompts.length; i++) {
            if (prompts[i] == null || prompts[i].length == 0) {
                throw new IllegalArgumentException("prompts[" + i + "] is empty; BLIP starts from [DEC] (30522)");
            }
            if (promptLength >= 0 && prompts[i].length != promptLength) {
                throw new IllegalArgumentException("prompts[" + i + "] has " + prompts[i].length
                        + " ids but prompts[0] has " + promptLength + "; all prompts must have the same length");
            }
            promptLength = prompts[i].length;
        }
        return switch (cfg.mode()) {
            case GREEDY, SAMPLE -> sampleOrGreedy(factory, prompts, cfg);
            case BEAM_SEARCH, BEAM_SAMPLE -> beam(factory, prompts, cfg);
        };
    }

    // ---------------------------------------------------------------------------------------------
    // Greedy search and multinomial sampling

    private static GenerationResult sampleOrGreedy(StepDecoder.Factory factory, int[][] prompts, GenerationConfig cfg) {
        boolean sample = cfg.doSample();
        int perInput = sample ? cfg.numReturnSequences() : 1;
        int batch = prompts.length;
        int rows = batch * perInput;
        int promptLength = prompts[0].length;
        int maxLength = cfg.maxLengthFor(promptLength);
        boolean hasEos = !cfg.eosTokenIds().isEmpty();
        Integer pad = cfg.effectivePadTokenId();

        int[] rowInputs = new int[rows];
        int[][] ids = new int[rows][Math.max(maxLength, promptLength + 1)];
        int[][] feed = new int[rows][];
        for (int r = 0; r < rows; r++) {
            rowInputs[r] = r / perInput;
            System.arraycopy(prompts[rowInputs[r]], 0, ids[r], 0, promptLength);
            feed[r] = prompts[rowInputs[r]].clone();
        }
        List<LogitsProcessor> processors = LogitsProcessors.processors(cfg, promptLength);
        List<LogitsProcessor> warpers = LogitsProcessors.warpers(cfg);
        SplittableRandom rng = sample ? newRandom(cfg) : null;

        boolean[] finished = new boolean[rows];
        int length = promptLength;
        try (StepDecoder decoder = open(factory, rowInputs)) {
            int vocab = decoder.vocabSize();
            checkIds(prompts, vocab, cfg);
            float[] scores = new float[rows * vocab];
            double[] weights = sample ? new double[vocab] : null;
            int[][] next = new int[rows][1];
            while (true) {
                float[] logits = decoder.forward(feed);
                checkLogits(logits, rows, vocab);
                System.arraycopy(logits, 0, scores, 0, rows * vocab);
                LogitsProcessors.apply(processors, ids, length, scores, vocab);
                LogitsProcessors.apply(warpers, ids, length, scores, vocab);
                int unfinished = 0;
                for (int r = 0; r < rows; r++) {
                    int token;
                    if (finished[r]) {
                        token = pad;
                    } else {
                        token = sample ? sampleRow(scores, r * vocab, vocab, weights, rng) : argmax(scores, r * vocab, vocab);
                        if (hasEos && cfg.isEos(token)) {
                            finished[r] = true;
                        } else {
                            unfinished++;
                        }
                    }
                    ids[r][length] = token;
                    next[r][0] = token;
                }
                length++;
                if (unfinished == 0 || length >= maxLength) {
                    break;
                }
                feed = next;
            }
        }
        int[][] sequences = new int[rows][];
        for (int r = 0; r < rows; r++) {
            sequences[r] = Arrays.copyOf(ids[r], length);
        }
        return new GenerationResult(sequences, null, rowInputs, promptLength, cfg.eosTokenIds(), pad);
    }

    /** The first index of the highest score (torch.argmax's choice among ties). */
    static int argmax(float[] scores, int from, int n) {
        int best = 0;
        float bestScore = scores[from];
        for (int v = 1; v < n; v++) {
            float s = scores[from + v];
            if (s > bestScore) {
                bestScore = s;
                best = v;
            }
        }
        return best;
    }

    /** Draws a token from softmax(scores[from..from+n)). */
    private static int sampleRow(float[] scores, int from, int n, double[] weights, SplittableRandom rng) {
        float max = Float.NEGATIVE_INFINITY;
        for (int v = 0; v < n; v++) {
            max = Math.max(max, scores[from + v]);
        }
        if (max == Float.NEGATIVE_INFINITY || Float.isNaN(max)) {
            throw new IllegalStateException("every token has probability 0 (all scores are -inf or NaN); "
                    + "check min_length, no_repeat_ngram_size and the model's logits");
        }
        double total = 0;
        for (int v = 0; v < n; v++) {
            double w = Math.exp((double) scores[from + v] - max);
            weights[v] = w;
            total += w;
        }
        return draw(weights, n, total, rng);
    }

    /** Index i with probability weights[i] / total. */
    private static int draw(double[] weights, int n, double total, SplittableRandom rng) {
        double u = rng.nextDouble() * total;
        double cumulative = 0;
        int last = -1;
        for (int v = 0; v < n; v++) {
            if (weights[v] > 0) {
                cumulative += weights[v];
                last = v;
                if (u < cumulative) {
                    return v;
                }
            }
        }
        // Rounding can leave u just above the accumulated total: take the last possible token.
        return last;
    }

    private static SplittableRandom newRandom(GenerationConfig cfg) {
        return cfg.seed() != null ? new SplittableRandom(cfg.seed()) : new SplittableRandom();
    }

    // ---------------------------------------------------------------------------------------------
    // Beam search and beam sampling

    private static GenerationResult beam(StepDecoder.Factory factory, int[][] prompts, GenerationConfig cfg) {
        boolean sample = cfg.doSample();
        int batch = prompts.length;
        int beams = cfg.numBeams();
        int rows = batch * beams;
        int promptLength = prompts[0].length;
        int maxLength = cfg.maxLengthFor(promptLength);
        int capacity = Math.max(maxLength, promptLength + 1);
        Integer pad = cfg.effectivePadTokenId();
        int candidates = Math.max(2, 1 + cfg.eosTokenIds().size()) * beams;
        if (sample) {
            // The reference's beam sampling draws exactly 2 * num_beams candidates.
            candidates = 2 * beams;
        }

        int[] rowInputs = new int[rows];
        int[][] ids = new int[rows][capacity];
        int[][] spare = new int[rows][capacity];
        int[][] feed = new int[rows][];
        float[] beamScores = new float[rows];
        for (int r = 0; r < rows; r++) {
            rowInputs[r] = r / beams;
            System.arraycopy(prompts[rowInputs[r]], 0, ids[r], 0, promptLength);
            feed[r] = prompts[rowInputs[r]].clone();
            beamScores[r] = r % beams == 0 ? 0f : INACTIVE_BEAM_SCORE;
        }
        List<LogitsProcessor> processors = LogitsProcessors.processors(cfg, promptLength);
        List<LogitsProcessor> warpers = LogitsProcessors.warpers(cfg);
        SplittableRandom rng = sample ? newRandom(cfg) : null;
        BeamHypotheses[] hypotheses = new BeamHypotheses[batch];
        boolean[] done = new boolean[batch];
        for (int b = 0; b < batch; b++) {
            hypotheses[b] = new BeamHypotheses(beams, cfg.lengthPenalty(), cfg.earlyStopping(), maxLength);
        }

        float[] candScore = new float[candidates];
        int[] candFlat = new int[candidates];
        float[] nextScores = new float[rows];
        int[] nextTokens = new int[rows];
        int[] sources = new int[rows];
        int[][] next = new int[rows][1];
        int length = promptLength;
        try (StepDecoder decoder = open(factory, rowInputs)) {
            int vocab = decoder.vocabSize();
            checkIds(prompts, vocab, cfg);
            if ((long) beams * vocab < candidates) {
                throw new IllegalArgumentException("num_beams (" + beams + ") needs a vocabulary of at least "
                        + candidates / beams + " tokens per beam; the decoder has " + vocab);
            }
            float[] scores = new float[rows * vocab];
            double[] weights = sample ? new double[beams * vocab] : null;
            while (true) {
                float[] logits = decoder.forward(feed);
                checkLogits(logits, rows, vocab);
                for (int r = 0; r < rows; r++) {
                    logSoftmax(logits, scores, r * vocab, vocab);
                }
                LogitsProcessors.apply(processors, ids, length, scores, vocab);
                // Beam sampling warps the step's scores before the running totals are added (as the
                // reference does since 4.35), so a low temperature does not blow up the totals.
                LogitsProcessors.apply(warpers, ids, length, scores, vocab);
                for (int r = 0; r < rows; r++) {
                    float add = beamScores[r];
                    int base = r * vocab;
                    for (int v = 0; v < vocab; v++) {
                        scores[base + v] += add;
                    }
                }

                for (int b = 0; b < batch; b++) {
                    int rowBase = b * beams;
                    if (done[b]) {
                        // A finished input keeps its rows busy with pad tokens; its results are already kept.
                        for (int k = 0; k < beams; k++) {
                            nextScores[rowBase + k] = 0f;
                            nextTokens[rowBase + k] = pad;
                            sources[rowBase + k] = rowBase;
                        }
                        continue;
                    }
                    if (sample) {
                        sampleCandidates(scores, rowBase * vocab, beams * vocab, candidates, weights, rng,
                                candScore, candFlat);
                    } else {
                        topCandidates(scores, rowBase * vocab, beams * vocab, candidates, candScore, candFlat);
                    }
                    int kept = 0;
                    for (int c = 0; c < candidates && kept < beams; c++) {
                        int token = candFlat[c] % vocab;
                        int row = rowBase + candFlat[c] / vocab;
                        if (cfg.isEos(token)) {
                            // Only an eos ranked among the best num_beams candidates finishes a hypothesis.
                            if (c < beams) {
                                hypotheses[b].add(Arrays.copyOf(ids[row], length), candScore[c],
                                        length + 1 - promptLength);
                            }
                        } else {
                            nextScores[rowBase + kept] = candScore[c];
                            nextTokens[rowBase + kept] = token;
                            sources[rowBase + kept] = row;
                            kept++;
                        }
                    }
                    if (kept < beams) {
                        throw new IllegalStateException("fewer than num_beams non-eos candidates for input " + b
                                + "; the scores hold too many eos or -inf entries");
                    }
                    done[b] = hypotheses[b].isDone(candScore[0], length + 1, promptLength);
                }

                for (int r = 0; r < rows; r++) {
                    System.arraycopy(ids[sources[r]], 0, spare[r], 0, length);
                    spare[r][length] = nextTokens[r];
                    next[r][0] = nextTokens[r];
                }
                int[][] t = ids;
                ids = spare;
                spare = t;
                System.arraycopy(nextScores, 0, beamScores, 0, rows);
                length++;
                if (allTrue(done) || length >= maxLength) {
                    break;
                }
                if (!isIdentity(sources)) {
                    decoder.select(sources.clone());
                }
                feed = next;
            }
        }

        // Running beams of unfinished inputs compete with the finished hypotheses.
        for (int b = 0; b < batch; b++) {
            if (done[b]) {
                continue;
            }
            for (int k = 0; k < beams; k++) {
                int r = b * beams + k;
                hypotheses[b].add(Arrays.copyOf(ids[r], length), beamScores[r], length - promptLength);
            }
        }
        return finish(hypotheses, cfg, promptLength, maxLength, pad);
    }

    private static GenerationResult finish(BeamHypotheses[] hypotheses, GenerationConfig cfg, int promptLength,
                                           int maxLength, Integer pad) {
        int keep = cfg.numReturnSequences();
        int n = hypotheses.length * keep;
        int[][] best = new int[n][];
        float[] scores = new float[n];
        int[] inputIndex = new int[n];
        int longest = 0;
        int shortest = Integer.MAX_VALUE;
        for (int b = 0; b < hypotheses.length; b++) {
            List<BeamHypotheses.Hypothesis> ranked = hypotheses[b].bestFirst();
            for (int j = 0; j < keep; j++) {
                BeamHypotheses.Hypothesis h = ranked.get(j);
                int i = b * keep + j;
                best[i] = h.tokens();
                scores[i] = (float) h.score();
                inputIndex[i] = b;
                longest = Math.max(longest, h.tokens().length);
                shortest = Math.min(shortest, h.tokens().length);
            }
        }
        // The reference makes room for one eos after the longest hypothesis, within max_length.
        int width = Math.max(longest, Math.min(longest + 1, maxLength));
        if (shortest != longest && pad == null) {
            throw new IllegalStateException("hypotheses of different lengths need a pad id; set pad_token_id");
        }
        int[][] sequences = new int[n][width];
        for (int i = 0; i < n; i++) {
            int len = best[i].length;
            System.arraycopy(best[i], 0, sequences[i], 0, len);
            if (len < width) {
                sequences[i][len] = cfg.eosTokenIds().get(0);
                Arrays.fill(sequences[i], len + 1, width, pad == null ? 0 : pad);
            }
        }
        return new GenerationResult(sequences, scores, inputIndex, promptLength, cfg.eosTokenIds(), pad);
    }

    /** Row-wise log-softmax of {@code in[from..from+n)} into {@code out}, in float32 like the reference. */
    static void logSoftmax(float[] in, float[] out, int from, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, in[from + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp((double) in[from + i] - max);
        }
        float logSum = (float) Math.log(sum);
        for (int i = 0; i < n; i++) {
            out[from + i] = in[from + i] - max - logSum;
        }
    }

    /**
     * The {@code count} highest of {@code scores[from..from+n)}, highest first (the lower flat index first
     * among ties), through a size-count min-heap rather than a sort of beams x vocab entries.
     */
    static void topCandidates(float[] scores, int from, int n, int count, float[] outScore, int[] outIndex) {
        int size = 0;
        for (int i = 0; i < n; i++) {
            float s = scores[from + i];
            if (size < count) {
                outScore[size] = s;
                outIndex[size] = i;
                siftUp(outScore, outIndex, size);
                size++;
            } else if (s > outScore[0]) {
                // Equal scores never displace: the earlier (lower) index wins ties.
                outScore[0] = s;
                outIndex[0] = i;
                siftDown(outScore, outIndex, 0, size);
            }
        }
        // Pop the min-heap from the back to get the best first.
        for (int end = size - 1; end > 0; end--) {
            swap(outScore, outIndex, 0, end);
            siftDown(outScore, outIndex, 0, end);
        }
    }

    /** Whether heap entry a ranks below entry b: lower score, or equal score and higher index. */
    private static boolean below(float[] s, int[] idx, int a, int b) {
        return s[a] < s[b] || (s[a] == s[b] && idx[a] > idx[b]);
    }

    private static void siftUp(float[] s, int[] idx, int i) {
        while (i > 0) {
            int parent = (i - 1) / 2;
            if (!below(s, idx, i, parent)) {
                break;
            }
            swap(s, idx, i, parent);
            i = parent;
        }
    }

    private static void siftDown(float[] s, int[] idx, int i, int size) {
        while (true) {
            int c = 2 * i + 1;
            if (c >= size) {
                return;
            }
            if (c + 1 < size && below(s, idx, c + 1, c)) {
                c++;
            }
            if (!below(s, idx, c, i)) {
                return;
            }
            swap(s, idx, i, c);
            i = c;
        }
    }

    private static void swap(float[] s, int[] idx, int a, int b) {
        float ts = s[a];
        s[a] = s[b];
        s[b] = ts;
        int ti = idx[a];
        idx[a] = idx[b];
        idx[b] = ti;
    }

    /**
     * Beam sampling's candidates: {@code count} distinct entries drawn without replacement from
     * softmax(scores[from..from+n)), then ordered by score, highest first.
     */
    private static void sampleCandidates(float[] scores, int from, int n, int count, double[] weights,
                                         SplittableRandom rng, float[] outScore, int[] outIndex) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, scores[from + i]);
        }
        double total = 0;
        int possible = 0;
        for (int i = 0; i < n; i++) {
            double w = max == Float.NEGATIVE_INFINITY ? 0 : Math.exp((double) scores[from + i] - max);
            weights[i] = w;
            total += w;
            if (w > 0) {
                possible++;
            }
        }
        if (possible < count) {
            throw new IllegalStateException("beam sampling needs " + count + " tokens with non-zero probability "
                    + "but only " + possible + " remain; relax top_k/top_p or lower num_beams");
        }
        for (int c = 0; c < count; c++) {
            int i = draw(weights, n, total, rng);
            total -= weights[i];
            weights[i] = 0;
            outScore[c] = scores[from + i];
            outIndex[c] = i;
        }
        // Insertion sort by score, descending; count is small (2 x num_beams).
        for (int a = 1; a < count; a++) {
            float s = outScore[a];
            int idx = outIndex[a];
            int b = a - 1;
            while (b >= 0 && outScore[b] < s) {
                outScore[b + 1] = outScore[b];
                outIndex[b + 1] = outIndex[b];
                b--;
            }
            outScore[b + 1] = s;
            outIndex[b + 1] = idx;
        }
    }

    // ---------------------------------------------------------------------------------------------

    private static StepDecoder open(StepDecoder.Factory factory, int[] rowInputs) {
        StepDecoder decoder = factory.open(rowInputs.clone());
        if (decoder == null) {
            throw new IllegalStateException("the StepDecoder.Factory returned null");
        }
        if (decoder.rows() != rowInputs.length) {
            decoder.close();
            throw new IllegalStateException("the StepDecoder.Factory opened " + decoder.rows() + " rows, "
                    + rowInputs.length + " were asked for");
        }
        return decoder;
    }

    private static void checkIds(int[][] prompts, int vocab, GenerationConfig cfg) {
        for (int i = 0; i < prompts.length; i++) {
            for (int id : prompts[i]) {
                if (id < 0 || id >= vocab) {
                    throw new IllegalArgumentException("prompts[" + i + "] holds id " + id
                            + ", outside the decoder's vocabulary [0, " + vocab + ")");
                }
            }
        }
        for (int e : cfg.eosTokenIds()) {
            if (e >= vocab) {
                throw new IllegalArgumentException("eos_token_id " + e + " is outside the decoder's vocabulary [0, "
                        + vocab + ")");
            }
        }
        Integer pad = cfg.effectivePadTokenId();
        if (pad != null && pad >= vocab) {
            throw new IllegalArgumentException("pad_token_id " + pad + " is outside the decoder's vocabulary [0, "
                    + vocab + ")");
        }
    }

    private static void checkLogits(float[] logits, int rows, int vocab) {
        if (logits == null || logits.length < rows * vocab) {
            throw new IllegalStateException("the decoder returned " + (logits == null ? "null" : logits.length + " logits")
                    + ", expected rows x vocab = " + rows + " x " + vocab);
        }
    }

    private static boolean allTrue(boolean[] a) {
        for (boolean x : a) {
            if (!x) {
                return false;
            }
        }
        return true;
    }

    private static boolean isIdentity(int[] sources) {
        for (int i = 0; i < sources.length; i++) {
            if (sources[i] != i) {
                return false;
            }
        }
        return true;
    }
}
