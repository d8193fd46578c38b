package org.blipjava.tokenizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * BLIP's text tokenizer: BERT's uncased WordPiece tokenizer with BLIP's extra tokens ({@code [DEC]} as the
 * bos token, {@code [ENC]} as an additional special token), behaving as the reference's slow
 * {@code BertTokenizer} (transformers 4.40.2) does.
 *
 * <p>Tokenizing runs in this order: added tokens ({@code [CLS]}, {@code [DEC]}, ...) are cut out of the raw
 * text first and kept verbatim; every other piece is cleaned (control characters dropped, whitespace
 * unified), CJK ideographs are isolated, words are lower-cased and stripped of accents, split on whitespace
 * and punctuation, and finally split into WordPiece sub-words ({@code ##} continuation, {@code [UNK]} for a
 * word that cannot be covered or is longer than 100 code points).
 *
 * <p>Instances are immutable and safe to share between threads.
 */
public final class BertTokenizer {
    private static final String ENC = "[ENC]";
    private final Path dir;
    private final Map<String, Integer> vocab;
    private final String[] vocabById;
    private final BasicTokenizer basic;
    private final WordPiece wordPiece;
    private final boolean lowerBeforeSplit;
    private final Map<String, Integer> addedEncoder;
    private final Map<Integer, AddedToken> addedDecoder;
    private final SpecialTokens specials;
    private final Set<String> allSpecialTokens;
    private final Set<Integer> allSpecialIds;
    private final Set<String> legacyAddedTokens;
    /** Added-token contents by first char, longest first (leftmost-longest matching). */
    private final AddedTokenSplitter addedSplitter;
    /** Texts kept out of the pre-lower-casing, by first char, in the reference's alternation order. */
    private final Map<Character, String[]> protectedByFirstChar;
    private final int vocabSize;
    private final int modelMaxLength;
    private final boolean cleanUpTokenizationSpaces;

    private BertTokenizer(TokenizerFiles.Definition def) {
        this.dir = def.dir();
        this.vocab = def.vocab();
        int maxId = -1;
        for (int id : vocab.values()) {
            maxId = Math.max(maxId, id);
        }
        this.vocabById = new String[maxId + 1];
        vocab.forEach((token, id) -> vocabById[id] = token);
        this.basic = def.doBasicTokenize()
                ? new BasicTokenizer(def.doLowerCase(), def.stripAccents(), def.tokenizeChineseChars(), def.neverSplit())
                : null;
        this.wordPiece = WordPiece.of(vocab, def.unkForWordPiece(), def.continuingPrefix(), def.maxInputCharsPerWord());
        // The reference lower-cases the raw text (outside special tokens) only when it has a basic tokenizer.
        this.lowerBeforeSplit = def.doBasicTokenize() && def.doLowerCase();
        this.specials = def.specials();

        Map<String, Integer> enc = new HashMap<>();
        Map<Integer, AddedToken> dec = new HashMap<>();
        for (AddedToken t : def.addedTokens().values()) {
            enc.put(t.content(), t.id());
            dec.put(t.id(), t);
        }
        this.addedEncoder = Map.copyOf(enc);
        this.addedDecoder = Map.copyOf(dec);

        List<String> all = specials.all();
        this.allSpecialTokens = Collections.unmodifiableSet(new LinkedHashSet<>(all));
        Set<Integer> ids = new HashSet<>();
        for (String s : all) {
            ids.add(tokenToId(s));
        }
        this.allSpecialIds = Set.copyOf(ids);

        int baseVocabSize = vocab.size();
        Set<String> legacy = new HashSet<>(addedEncoder.keySet());
        legacy.removeAll(allSpecialTokens);
        for (String s : specials.additional()) {
            if (tokenToId(s) >= baseVocabSize) {
                legacy.add(s);
            }
        }
        this.legacyAddedTokens = Set.copyOf(legacy);

        this.addedSplitter = new AddedTokenSplitter(def.addedTokens().values());
        List<String> protect = new ArrayList<>(all);
        for (AddedToken t : def.addedTokens().values()) {
            if (!t.special() && t.normalized()) {
                protect.add(t.content());
            }
        }
        protect.removeIf(String::isEmpty);
        this.protectedByFirstChar = AddedTokenSplitter.byFirstChar(protect);

        Set<String> union = new HashSet<>(vocab.keySet());
        union.addAll(addedEncoder.keySet());
        this.vocabSize = union.size();
        this.modelMaxLength = def.modelMaxLength();
        this.cleanUpTokenizationSpaces = def.cleanUpTokenizationSpaces();
    }

    /**
     * Loads a tokenizer directory as the reference's {@code save_pretrained} writes it: {@code vocab.txt}
     * with the optional {@code tokenizer_config.json}, {@code special_tokens_map.json} and
     * {@code added_tokens.json}; when {@code vocab.txt} is absent, the fast tokenizer's {@code tokenizer.json}
     * (its {@code model.vocab}, {@code added_tokens} and normalizer flags) is used instead. A model
     * directory of a BLIP checkpoint holds these files too.
     *
     * @param dir the directory holding the tokenizer files
     * @return the tokenizer
     * @throws TokenizerException when the directory or the vocabulary is missing or a file is malformed
     */
    public static BertTokenizer load(Path dir) {
        return new BertTokenizer(TokenizerFiles.read(dir));
    }

    // ------------------------------------------------------------------ tokenizing

    /**
     * Splits a text into tokens, without {@code [CLS]}/{@code [SEP]}.
     *
     * @param text any text; added tokens written in it (such as {@code [SEP]}) stay single tokens
     * @return the tokens, each a vocabulary entry, an added token or the unknown token
     */
    public List<String> tokenize(String text) {
        Objects.requireNonNull(text, "text");
        String t = lowerBeforeSplit ? lowerOutsideProtected(text) : text;
        List<String> pieces = addedSplitter.split(t);
        List<String> out = new ArrayList<>();
        for (String piece : pieces) {
            if (piece.isEmpty()) {
                continue;
            }
            if (addedEncoder.containsKey(piece)) {
                out.add(piece);
            } else if (basic != null) {
                for (String word : basic.tokenize(piece, allSpecialTokens)) {
                    if (basic.neverSplit().contains(word)) {
                        out.add(word);
                    } else {
                        wordPiece.tokenizeWord(word, out);
                    }
                }
            } else {
                List<String> words = new ArrayList<>();
                CharClasses.splitPythonWhitespace(piece, words);
                for (String word : words) {
                    wordPiece.tokenizeWord(word, out);
                }
            }
        }
        return out;
    }

    /**
     * Encodes one text as {@code [CLS] tokens [SEP]}, without truncation.
     *
     * @param text the text
     * @return the token ids
     */
    public int[] encode(String text) {
        return withSpecials(convertTokensToIds(tokenize(text)));
    }

    /**
     * Encodes one text as {@code [CLS] tokens [SEP]}, truncating the tokens on the right so that the result,
     * special tokens included, has at most {@code maxLength} ids (the reference's
     * {@code truncation=True, max_length=maxLength}). As in the reference, when {@code maxLength} is 2 and
     * the text has tokens, nothing can be removed sensibly and the text is left untruncated.
     *
     * @param text      the text
     * @param maxLength the largest length wanted, at least 2
     * @return the token ids
     */
    public int[] encode(String text, int maxLength) {
        if (maxLength < 2) {
            throw new IllegalArgumentException("maxLength must be at least 2 (room for [CLS] and [SEP]), got "
                    + maxLength);
        }
        return withSpecials(truncate(convertTokensToIds(tokenize(text)), maxLength));
    }

    /**
     * Encodes several texts as a batch (the reference's {@code tokenizer(texts, padding=..., truncation=...,
     * max_length=...)}), padding on the right with the pad id.
     *
     * @param texts     the texts, one row each
     * @param maxLength when non-null, every row is truncated to at most this many ids (see
     *                  {@link #encode(String, int)}) and {@link Padding#MAX_LENGTH} pads to it; when null, rows
     *                  are not truncated and {@link Padding#MAX_LENGTH} pads to {@link #modelMaxLength()}
     * @param padding   how to pad the rows
     * @return the ids and the attention mask
     */
    public Batch encodeBatch(List<String> texts, Integer maxLength, Padding padding) {
        Objects.requireNonNull(texts, "texts");
        Objects.requireNonNull(padding, "padding");
        int[][] rows = new int[texts.size()][];
        for (int i = 0; i < rows.length; i++) {
            String text = texts.get(i);
            if (text == null) {
                throw new IllegalArgumentException("texts[" + i + "] is null");
            }
            rows[i] = maxLength == null ? encode(text) : encode(text, maxLength);
        }
        // padTokenId() is only asked for when padding: a tokenizer without a pad token can still encode.
        return Batch.padded(rows, padding, maxLength != null ? maxLength : modelMaxLength,
                padding == Padding.NONE ? 0 : padTokenId(), dir);
    }

    /**
     * Converts tokens to ids: added tokens first, then the vocabulary; anything else becomes the unknown id.
     *
     * @param tokens the tokens
     * @return one id per token
     */
    public int[] convertTokensToIds(List<String> tokens) {
        int[] ids = new int[tokens.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = tokenToId(tokens.get(i));
        }
        return ids;
    }

    // ------------------------------------------------------------------ decoding

    /**
     * Turns ids back into text as the reference's slow {@code decode} does: WordPiece pieces are joined
     * ({@code "##"} continuations glued to the previous piece), non-special added tokens and additional
     * special tokens beyond the vocabulary are kept as separate words, and, when the tokenizer config asks for
     * it (the default), spaces before {@code . ? ! ,} and English contractions are removed.
     *
     * @param ids               token ids (ids unknown to the tokenizer decode as the unknown token)
     * @param skipSpecialTokens drop every special token ({@code [CLS] [SEP] [PAD] [UNK] [MASK] [DEC] [ENC]})
     * @return the text
     */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        List<String> tokens = convertIdsToTokens(ids, skipSpecialTokens);
        return DecodedText.join(tokens, legacyAddedTokens, BertTokenizer::joinWordPieces, cleanUpTokenizationSpaces);
    }

    /**
     * Decodes every row of a batch with {@link #decode(int[], boolean)}.
     *
     * @param ids               one row of token ids per text (padding included; it is a special token)
     * @param skipSpecialTokens drop every special token
     * @return one text per row
     */
    public List<String> decodeBatch(int[][] ids, boolean skipSpecialTokens) {
        List<String> out = new ArrayList<>(ids.length);
        for (int[] row : ids) {
            out.add(decode(row, skipSpecialTokens));
        }
        return out;
    }

    /**
     * Converts ids to tokens.
     *
     * @param ids               token ids
     * @param skipSpecialTokens leave out special tokens
     * @return the tokens (the unknown token for ids the tokenizer does not know)
     */
    public List<String> convertIdsToTokens(int[] ids, boolean skipSpecialTokens) {
        List<String> out = new ArrayList<>(ids.length);
        for (int id : ids) {
            if (skipSpecialTokens && allSpecialIds.contains(id)) {
                continue;
            }
            out.add(idToToken(id));
        }
        return out;
    }

    /** BERT's join: pieces separated by spaces, then every " ##" removed. */
    private static String joinWordPieces(List<String> tokens) {
        return CharClasses.pythonStrip(String.join(" ", tokens).replace(" ##", ""));
    }

    // ------------------------------------------------------------------ vocabulary and special tokens

    /**
     * The id of a token: an added token's id, else its vocabulary id, else the unknown token's id (as the
     * reference's {@code convert_tokens_to_ids}). Use {@link #hasToken} to tell unknown tokens apart.
     *
     * @param token the token
     * @return its id
     */
    public int tokenToId(String token) {
        Integer id = addedEncoder.get(token);
        if (id == null) {
            id = vocab.get(token);
        }
        if (id == null) {
            id = specials.unk() == null ? null : vocab.get(specials.unk());
            if (id == null) {
                id = specials.unk() == null ? null : addedEncoder.get(specials.unk());
            }
            if (id == null) {
                throw new TokenizerException("token \"" + token + "\" is not in the vocabulary of " + dir
                        + " and no unk_token is configured to stand for it");
            }
        }
        return id;
    }

    /**
     * Whether the token is an added token or a vocabulary entry.
     *
     * @param token the token
     * @return true when {@link #tokenToId} does not fall back to the unknown id for it
     */
    public boolean hasToken(String token) {
        return addedEncoder.containsKey(token) || vocab.containsKey(token);
    }

    /**
     * The token of an id: an added token's text, else the vocabulary entry, else the unknown token (as the
     * reference does for ids outside the vocabulary).
     *
     * @param id the id
     * @return the token
     */
    public String idToToken(int id) {
        AddedToken added = addedDecoder.get(id);
        if (added != null) {
            return added.content();
        }
        if (id >= 0 && id < vocabById.length && vocabById[id] != null) {
            return vocabById[id];
        }
        return specials.unk();
    }

    /**
     * Whether an id belongs to a special token (those {@code decode(ids, true)} drops).
     *
     * @param id the id
     * @return true for the ids of [CLS], [SEP], [PAD], [UNK], [MASK], the bos token and additional specials
     */
    public boolean isSpecialTokenId(int id) {
        return allSpecialIds.contains(id);
    }

    /** @return the padding id ({@code [PAD]}, 0) */
    public int padTokenId() {
        return roleId(specials.pad(), "pad_token");
    }

    /** @return the id that starts an encoded text ({@code [CLS]}, 101) */
    public int clsTokenId() {
        return roleId(specials.cls(), "cls_token");
    }

    /** @return the id that ends an encoded text ({@code [SEP]}, 102); BLIP's generation stops on it */
    public int sepTokenId() {
        return roleId(specials.sep(), "sep_token");
    }

    /** @return the unknown token's id ({@code [UNK]}, 100) */
    public int unkTokenId() {
        return roleId(specials.unk(), "unk_token");
    }

    /** @return the mask token's id ({@code [MASK]}, 103) */
    public int maskTokenId() {
        return roleId(specials.mask(), "mask_token");
    }

    /**
     * @return the bos token's id: BLIP's {@code [DEC]} (30522), which starts the text decoder's input
     * @throws TokenizerException when the tokenizer files configure no bos_token
     */
    public int bosTokenId() {
        return roleId(specials.bos(), "bos_token");
    }

    /**
     * @return BLIP's {@code [ENC]} id (30523): the additional special token {@code [ENC]}, else the first one
     * @throws TokenizerException when the tokenizer files configure no additional special token
     */
    public int encTokenId() {
        if (specials.additional().isEmpty()) {
            throw new TokenizerException("tokenizer " + dir + " has no additional special token for [ENC];"
                    + " add \"additional_special_tokens\": [\"[ENC]\"] to " + TokenizerFiles.SPECIAL_TOKENS_MAP);
        }
        // BLIP takes the first additional special token; prefer [ENC] by name when a tokenizer.json without
        // config files listed other special tokens first.
        return tokenToId(specials.additional().contains(ENC) ? ENC : specials.additional().get(0));
    }

    /** @return the number of distinct tokens, added tokens included (30524 for BLIP) */
    public int vocabSize() {
        return vocabSize;
    }

    /** @return {@code model_max_length} from tokenizer_config.json, or {@link Integer#MAX_VALUE} when unset */
    public int modelMaxLength() {
        return modelMaxLength;
    }

    private int roleId(String token, String role) {
        if (token == null) {
            throw new TokenizerException("tokenizer " + dir + " configures no " + role + "; add it to "
                    + TokenizerFiles.SPECIAL_TOKENS_MAP + " or " + TokenizerFiles.TOKENIZER_CONFIG);
        }
        return tokenToId(token);
    }

    // ------------------------------------------------------------------ internals

    private int[] withSpecials(int[] ids) {
        int[] out = new int[ids.length + 2];
        out[0] = clsTokenId();
        System.arraycopy(ids, 0, out, 1, ids.length);
        out[out.length - 1] = sepTokenId();
        return out;
    }

    /** The reference's longest_first truncation of a single sequence (from the right). */
    private static int[] truncate(int[] ids, int maxLength) {
        int toRemove = ids.length + 2 - maxLength;
        if (toRemove <= 0 || ids.length <= toRemove) {
            // In the reference the second case only logs an error and keeps the ids as they are.
            return ids;
        }
        return Arrays.copyOf(ids, ids.length - toRemove);
    }

    /**
     * Lower-cases the text one code point at a time except where a special token (or a normalized
     * non-special added token) starts, which is copied verbatim; the reference does this before it looks for
     * added tokens, so "[SEP]" survives while the rest is lower-cased.
     */
    private String lowerOutsideProtected(String text) {
        StringBuilder sb = null;
        int n = text.length();
        for (int i = 0; i < n; ) {
            char c = text.charAt(i);
            String[] cands = protectedByFirstChar.get(c);
            if (cands != null) {
                String hit = null;
                for (String s : cands) {
                    if (text.startsWith(s, i)) {
                        hit = s;
                        break;
                    }
                }
                if (hit != null) {
                    if (sb != null) {
                        sb.append(hit);
                    }
                    i += hit.length();
                    continue;
                }
            }
            int cp = text.codePointAt(i);
            int len = Character.charCount(cp);
            // Python's "." does not match a newline, so the reference leaves it (and its case) alone.
            boolean changes = cp != '\n' && (cp < 128 ? (cp >= 'A' && cp <= 'Z')
                    : (cp == 0x130 || Character.toLowerCase(cp) != cp));
            if (changes && sb == null) {
                sb = new StringBuilder(n + 8);
                sb.append(text, 0, i);
            }
            if (sb != null) {
                if (changes) {
                    CharClasses.appendLower(sb, cp);
                } else {
                    sb.append(text, i, i + len);
                }
            }
            i += len;
        }
        return sb == null ? text : sb.toString();
    }

    @Override
    public String toString() {
        return "BertTokenizer[" + dir + ", " + vocabSize + " tokens]";
    }
}
