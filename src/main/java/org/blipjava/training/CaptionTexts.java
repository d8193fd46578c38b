package org.blipjava.training;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.blipjava.tokenizer.Batch;
import org.blipjava.tokenizer.BertTokenizer;
import org.blipjava.tokenizer.Padding;

/**
 * Decoder inputs for captioning as BLIP's {@code BLIP_Decoder.forward} builds them: the text is
 * {@code prompt + caption} after BLIP's caption clean-up ({@link #preCaption}), tokenized as
 * {@code [CLS] ... [SEP]}, truncated and padded to the
 * longest row; {@code [CLS]} is replaced by {@code [DEC]}; labels are the ids with padding and
 * the {@code [DEC] + prompt} positions set to -100, so only the caption and its {@code [SEP]} are
 * learned.
 *
 * @param ids    decoder input ids [rows][len]
 * @param mask   attention mask [rows][len]
 * @param labels labels [rows][len], -100 where ignored
 */
public record CaptionTexts(int[][] ids, int[][] mask, int[][] labels) {
    /** The label of positions the loss ignores. */
    public static final int IGNORE = -100;

    /**
     * Encodes captions.
     *
     * @param prompt    prefix of every caption (null for none)
     * @param maxLength the most ids per row, special tokens included
     * @param bosId     the decoder's start id ([DEC])
     */
    public static CaptionTexts encode(List<String> captions, BertTokenizer tokenizer, String prompt, int maxLength,
                                      int bosId) {
        return encode(captions, tokenizer, prompt, maxLength, bosId, true);
    }

    /**
     * As {@link #encode(List, BertTokenizer, String, int, int)}, with {@code clean} choosing whether
     * {@link #preCaption} applies (BLIP leaves VQA answers as they are).
     */
    public static CaptionTexts encode(List<String> captions, BertTokenizer tokenizer, String prompt, int maxLength,
                                      int bosId, boolean clean) {
        List<String> texts = new ArrayList<>(captions.size());
        for (String c : captions) {
            String text = clean ? preCaption(c, MAX_WORDS) : c;
            texts.add(prompt == null ? text : prompt + text);
        }
        Batch b = tokenizer.encodeBatch(texts, maxLength, Padding.LONGEST);
        int promptLength = promptLength(tokenizer, prompt);
        int[][] ids = b.inputIds();
        int[][] mask = b.attentionMask();
        int[][] labels = new int[ids.length][];
        for (int r = 0; r < ids.length; r++) {
            ids[r][0] = bosId;
            labels[r] = ids[r].clone();
            for (int j = 0; j < labels[r].length; j++) {
                if (mask[r][j] == 0 || j < promptLength) {
                    labels[r][j] = IGNORE;
                }
            }
        }
        return new CaptionTexts(ids, mask, labels);
    }

    /** The most words BLIP keeps of a training caption ({@code max_words=30}). */
    public static final int MAX_WORDS = 30;

    /**
     * BLIP's {@code pre_caption}: lower case, the characters {@code .!"()*#:;~} become spaces, runs of
     * whitespace collapse to one space, the ends are trimmed, and at most {@code maxWords} words are kept.
     */
    public static String preCaption(String caption, int maxWords) {
        String s = caption.toLowerCase(java.util.Locale.ROOT).replaceAll("[.!\"()*#:;~]", " ");
        s = s.replaceAll("\\s{2,}", " ").strip();
        String[] words = s.split(" ");
        return words.length > maxWords ? String.join(" ", Arrays.copyOf(words, maxWords)) : s;
    }

    /** Positions taken by [DEC] and the prompt's tokens (BLIP: {@code len(tokenizer(prompt).input_ids) - 1}). */
    public static int promptLength(BertTokenizer tokenizer, String prompt) {
        return prompt == null ? 1 : tokenizer.encode(prompt).length - 1;
    }

    /** The generation start ids: [DEC] then the prompt's tokens without [SEP]. */
    public static int[] decoderStart(BertTokenizer tokenizer, String prompt, int bosId) {
        if (prompt == null) {
            return new int[] {bosId};
        }
        int[] ids = tokenizer.encode(prompt);
        int[] out = Arrays.copyOf(ids, ids.length - 1);
        out[0] = bosId;
        return out;
    }

    /** Decodes a generated sequence without the padding that ends it (kept at position 0: [DEC] may share pad's id). */
    static String decodeGenerated(BertTokenizer tokenizer, int[] seq, int padId) {
        int end = seq.length;
        while (end > 1 && seq[end - 1] == padId) {
            end--;
        }
        return tokenizer.decode(Arrays.copyOf(seq, end), true).strip();
    }

    /** Number of labels the shifted LM loss averages over (every non-ignored label after the first position). */
    public int targetCount() {
        int n = 0;
        for (int[] row : labels) {
            for (int j = 1; j < row.length; j++) {
                if (row[j] != IGNORE) {
                    n++;
                }
            }
        }
        return n;
    }
}
