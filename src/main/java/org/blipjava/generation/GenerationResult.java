package org.blipjava.generation;

import java.util.Arrays;
import java.util.List;

/**
 * What {@link Generator} returns: sequences as the reference's {@code generate} returns them (prompt
 * included, padded with the pad id to one common length), beam search's {@code sequences_scores}, and
 * which input each sequence belongs to. Sequences of one input are adjacent: sequence {@code i} belongs
 * to input {@code inputIndex(i)}, and for several sequences per input they come best first (beam
 * search) or in sampling order. Immutable.
 */
public final class GenerationResult {
    private final int[][] sequences;
    private final float[] sequencesScores;
    private final int[] inputIndex;
    private final int promptLength;
    private final List<Integer> eosTokenIds;
    private final Integer padTokenId;

    GenerationResult(int[][] sequences, float[] sequencesScores, int[] inputIndex, int promptLength,
                     List<Integer> eosTokenIds, Integer padTokenId) {
        this.sequences = sequences;
        this.sequencesScores = sequencesScores;
        this.inputIndex = inputIndex;
        this.promptLength = promptLength;
        this.eosTokenIds = List.copyOf(eosTokenIds);
        this.padTokenId = padTokenId;
    }

    /** Number of sequences (inputs x sequences per input). */
    public int size() {
        return sequences.length;
    }

    /** Sequence {@code i}, prompt included, padded to the common length. */
    public int[] sequence(int i) {
        return sequences[i].clone();
    }

    /** All sequences, prompt included, padded to the common length ([size, length]). */
    public int[][] sequences() {
        int[][] out = new int[sequences.length][];
        for (int i = 0; i < out.length; i++) {
            out[i] = sequences[i].clone();
        }
        return out;
    }

    /** The common length of the sequences. */
    public int length() {
        return sequences.length == 0 ? 0 : sequences[0].length;
    }

    /**
     * Beam search's {@code sequences_scores}: each returned hypothesis's summed log-probability divided by
     * (generated length)^lengthPenalty; null for greedy search and sampling.
     */
    public float[] sequencesScores() {
        return sequencesScores == null ? null : sequencesScores.clone();
    }

    /** Which input (an index into the batch) sequence {@code i} was generated for. */
    public int inputIndex(int i) {
        return inputIndex[i];
    }

    /** The prompt's length: the sequences' first {@code promptLength()} ids are the prompt. */
    public int promptLength() {
        return promptLength;
    }

    /**
     * The tokens generated for sequence {@code i}, ready for decoding: the prompt removed, cut before the
     * first eos id, and trailing pad ids removed.
     */
    public int[] generatedTokens(int i) {
        int[] s = sequences[i];
        int end = s.length;
        for (int j = promptLength; j < s.length; j++) {
            if (eosTokenIds.contains(s[j])) {
                end = j;
                break;
            }
        }
        if (padTokenId != null) {
            while (end > promptLength && s[end - 1] == padTokenId) {
                end--;
            }
        }
        return Arrays.copyOfRange(s, promptLength, Math.max(promptLength, end));
    }

    /**
     * Sequence {@code i} with the prompt kept but the first eos after the prompt and everything after it
     * removed, as the reference's decode with {@code skip_special_tokens} sees a prompted caption (the
     * prompt is part of the text; the start id is a special token the tokenizer drops).
     */
    public int[] withoutPadding(int i) {
        return Arrays.copyOf(sequences[i], promptLength + generatedTokens(i).length);
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("GenerationResult[");
        for (int i = 0; i < sequences.length; i++) {
            b.append(i == 0 ? "" : ", ").append(Arrays.toString(sequences[i]));
            if (sequencesScores != null) {
                b.append(" score=").append(sequencesScores[i]);
            }
        }
        return b.append(']').toString();
    }
}
