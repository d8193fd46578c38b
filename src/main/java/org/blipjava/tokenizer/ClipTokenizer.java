package org.blipjava.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * CLIP's text tokenizer: byte-level BPE with {@code <|startoftext|>}/{@code <|endoftext|>}, behaving as the
 * reference's slow {@code CLIPTokenizer} (transformers 4.40.2 with ftfy installed) does.
 *
 * <p>Tokenizing runs in this order: added tokens ({@code <|startoftext|>}, {@code <|endoftext|>}, ...) are
 * cut out of the raw text and kept verbatim; every other piece is cleaned as ftfy's {@code fix_text} does
 * (see {@link ClipTextFixer} for what is and is not covered: NFC normalization, HTML entities, curly quotes,
 * ligatures, width forms and control characters are; repair of mis-decoded text is not), whitespace runs are
 * collapsed, the text is lower-cased, split into words, single digits, contractions ({@code 's}, {@code 're},
 * ...) and runs of other symbols, and each piece's UTF-8 bytes are merged by BPE.
 *
 * <p>{@link #encode} frames the tokens as {@code <|startoftext|> ... <|endoftext|>} and truncates to
 * {@link #modelMaxLength()} (77 for CLIP), keeping the final {@code <|endoftext|>}, as the reference's
 * {@code tokenizer(text, truncation=True)} does.
 *
 * <p>Instances are immutable apart from a concurrent word cache, and safe to share between threads.
 */
public final class ClipTokenizer {
    static final String VOCAB_JSON = "vocab.json";
    static final String MERGES_TXT = "merges.txt";
    static final String TOKENIZER_CONFIG = "tokenizer_config.json";
    static final String SPECIAL_TOKENS_MAP = "special_tokens_map.json";
    static final String ADDED_TOKENS = "added_tokens.json";

    /** The reference reads at most this many merges: {@code merges[1 : 49152 - 256 - 2 + 1]}. */
    static final int MAX_MERGES = 49152 - 256 - 2;
    /** model_max_length when tokenizer_config.json does not give one: CLIP's 77 text positions. */
    static final int DEFAULT_MODEL_MAX_LENGTH = 77;
    /** Upper bound (exclusive) on vocabulary ids, far above any real vocabulary. */
    private static final int MAX_VOCAB_ID = 1 << 24;

    private static final String START_OF_TEXT = "<|startoftext|>";
    private static final String END_OF_TEXT = "<|endoftext|>";

    private enum Errors { REPLACE, IGNORE, STRICT }

    private final Path dir;
    private final Map<String, Integer> vocab;
    private final String[] vocabById;
    private final ClipBpe bpe;
    /** BPE symbol id to token id (added token, else vocabulary, else the unknown id; -1 when none). */
    private final int[] symbolToId;
    private final Map<String, Integer> addedSymbols;
    private final Map<String, Integer> addedEncoder;
    private final Map<Integer, AddedToken> addedDecoder;
    /** Added-token contents by first char, longest first (leftmost-longest matching). */
    private final AddedTokenSplitter addedSplitter;
    private final SpecialTokens specials;
    private final Set<String> allSpecialTokens;
    private final Set<Integer> allSpecialIds;
    private final Set<String> legacyAddedTokens;
    private final int vocabSize;
    private final int modelMaxLength;
    private final boolean cleanUpTokenizationSpaces;
    private final Errors errors;

    private ClipTokenizer(Path dir, Map<String, Integer> vocab, List<String[]> merges, SpecialTokens specials,
            LinkedHashMap<Integer, AddedToken> added, int modelMaxLength, boolean cleanUp, Errors errors) {
        this.dir = dir;
        this.vocab = vocab;
        int maxId = -1;
        for (int id : vocab.values()) {
            maxId = Math.max(maxId, id);
        }
        this.vocabById = new String[maxId + 1];
        vocab.forEach((token, id) -> vocabById[id] = token);
        this.specials = specials;
        this.modelMaxLength = modelMaxLength;
        this.cleanUpTokenizationSpaces = cleanUp;
        this.errors = errors;

        Map<String, Integer> enc = new HashMap<>();
        Map<Integer, AddedToken> dec = new HashMap<>();
        for (AddedToken t : added.values()) {
            enc.put(t.content(), t.id());
            dec.put(t.id(), t);
        }
        this.addedEncoder = Map.copyOf(enc);
        this.addedDecoder = Map.copyOf(dec);

        // Added tokens get BPE symbol ids too, so that a tokenized text is one array of symbols. The two CLIP
        // markers are also verbatim words: the reference seeds its BPE cache with them, so a marker that
        // reaches the word splitter (written in another case, say) still becomes that one token.
        List<String> contents = new ArrayList<>(addedEncoder.keySet());
        contents.sort(Comparator.naturalOrder());
        this.bpe = new ClipBpe(merges, List.of(START_OF_TEXT, END_OF_TEXT), contents);
        Map<String, Integer> syms = new HashMap<>();
        for (String c : contents) {
            syms.put(c, bpe.symbolId(c));
        }
        this.addedSymbols = Map.copyOf(syms);

        List<String> all = specials.all();
        this.allSpecialTokens = Set.copyOf(new LinkedHashSet<>(all));
        Integer unk = specials.unk() == null ? null : lookup(specials.unk());
        this.symbolToId = new int[bpe.symbolCount()];
        for (int s = 0; s < symbolToId.length; s++) {
            Integer id = lookup(bpe.symbol(s));
            symbolToId[s] = id != null ? id : unk != null ? unk : -1;
        }
        Set<Integer> ids = new HashSet<>();
        for (String s : all) {
            ids.add(tokenToId(s));
        }
        this.allSpecialIds = Set.copyOf(ids);

        // Tokens the reference decodes apart from the byte-level text around them (see decode).
        Set<String> legacy = new HashSet<>(addedEncoder.keySet());
        legacy.removeAll(allSpecialTokens);
        for (String s : specials.additional()) {
            if (tokenToId(s) >= vocab.size()) {
                legacy.add(s);
            }
        }
        this.legacyAddedTokens = Set.copyOf(legacy);

        this.addedSplitter = new AddedTokenSplitter(added.values());

        Set<String> union = new HashSet<>(vocab.keySet());
        union.addAll(addedEncoder.keySet());
        this.vocabSize = union.size();
    }

    // ------------------------------------------------------------------ loading

    /**
     * Loads a CLIP tokenizer (or CLIP model) directory as the reference's {@code save_pretrained} writes it:
     * {@code vocab.json} and {@code merges.txt}, with the optional {@code tokenizer_config.json}
     * ({@code model_max_length}, {@code errors}, {@code clean_up_tokenization_spaces}, token roles,
     * {@code added_tokens_decoder}), {@code special_tokens_map.json} (token roles; it wins over the config, as
     * in the reference) and {@code added_tokens.json}. Roles default to CLIP's: {@code <|startoftext|>} as bos,
     * {@code <|endoftext|>} as eos, unk and pad; {@code model_max_length} defaults to 77.
     *
     * @param modelDir the directory holding the tokenizer files
     * @return the tokenizer
     * @throws TokenizerException naming the file, when the directory, {@code vocab.json} or {@code merges.txt}
     *                            is missing, or a file is malformed
     */
    public static ClipTokenizer load(Path modelDir) {
        if (modelDir == null || !Files.isDirectory(modelDir)) {
            throw new TokenizerException("CLIP tokenizer directory " + modelDir + " does not exist or is not a"
                    + " directory; pass the folder that holds " + VOCAB_JSON + " and " + MERGES_TXT);
        }
        ObjectMapper json = new ObjectMapper();
        Map<String, Integer> vocab = readVocab(json, modelDir.resolve(VOCAB_JSON));
        List<String[]> merges = readMerges(modelDir.resolve(MERGES_TXT));

        Path configFile = modelDir.resolve(TOKENIZER_CONFIG);
        Path mapFile = modelDir.resolve(SPECIAL_TOKENS_MAP);
        JsonNode config = TokenizerFiles.readJsonObject(json, configFile);
        JsonNode map = TokenizerFiles.readJsonObject(json, mapFile);

        int modelMaxLength = DEFAULT_MODEL_MAX_LENGTH;
        if (config != null && config.hasNonNull("model_max_length")) {
            JsonNode m = config.get("model_max_length");
            if (!m.isNumber() || m.asDouble() < 0) {
                throw new TokenizerException(configFile + ": model_max_length must be a non-negative number, got " + m);
            }
            // The reference writes a huge number (1e30) for "no limit".
            modelMaxLength = m.asDouble() >= Integer.MAX_VALUE ? Integer.MAX_VALUE : m.asInt();
        }
        boolean cleanUp = true;
        if (config != null && config.hasNonNull("clean_up_tokenization_spaces")) {
            JsonNode v = config.get("clean_up_tokenization_spaces");
            if (!v.isBoolean()) {
                throw new TokenizerException(configFile + ": clean_up_tokenization_spaces must be true or false, got " + v);
            }
            cleanUp = v.asBoolean();
        }
        Errors errors = Errors.REPLACE;
        if (config != null && config.hasNonNull("errors")) {
            String e = config.get("errors").asText();
            errors = switch (e) {
                case "replace" -> Errors.REPLACE;
                case "ignore" -> Errors.IGNORE;
                case "strict" -> Errors.STRICT;
                default -> throw new TokenizerException(configFile + ": errors \"" + e
                        + "\" is not supported; use \"replace\" (the default), \"ignore\" or \"strict\"");
            };
        }

        // Roles: CLIP's defaults, then tokenizer_config.json, then special_tokens_map.json.
        SpecialTokens specials = new SpecialTokens(START_OF_TEXT, END_OF_TEXT, END_OF_TEXT, null, END_OF_TEXT,
                null, null, List.of());
        specials = TokenizerFiles.applyRoles(specials, config, configFile);
        specials = TokenizerFiles.applyRoles(specials, map, mapFile);

        LinkedHashMap<Integer, AddedToken> added = new LinkedHashMap<>();
        Map<String, Integer> addedByContent = new HashMap<>();
        if (config != null && config.hasNonNull("added_tokens_decoder")) {
            JsonNode decoder = config.get("added_tokens_decoder");
            if (!decoder.isObject()) {
                throw new TokenizerException(configFile + ": added_tokens_decoder must be an object of id -> token");
            }
            for (Map.Entry<String, JsonNode> e : decoder.properties()) {
                int id;
                try {
                    id = Integer.parseInt(e.getKey());
                } catch (NumberFormatException ex) {
                    throw new TokenizerException(configFile + ": added_tokens_decoder key \"" + e.getKey()
                            + "\" is not an integer id");
                }
                TokenizerFiles.putAdded(added, addedByContent,
                        TokenizerFiles.addedToken(e.getValue(), id, configFile, "added_tokens_decoder." + id), false);
            }
        }
        Set<String> allSpecial = new HashSet<>(specials.all());
        Path addedFile = modelDir.resolve(ADDED_TOKENS);
        JsonNode legacyAdded = TokenizerFiles.readJsonObject(json, addedFile);
        if (legacyAdded != null) {
            for (Map.Entry<String, JsonNode> e : legacyAdded.properties()) {
                if (!e.getValue().isInt() || e.getValue().asInt() < 0) {
                    throw new TokenizerException(addedFile + ": the id of \"" + e.getKey()
                            + "\" must be a non-negative integer, got " + e.getValue());
                }
                boolean special = allSpecial.contains(e.getKey());
                TokenizerFiles.putAdded(added, addedByContent, new AddedToken(e.getKey(), e.getValue().asInt(), special, false,
                        false, false, !special), true);
            }
        }
        // Special tokens not registered yet get their vocabulary id, or a new id after everything known.
        Set<String> known = new HashSet<>(vocab.keySet());
        known.addAll(addedByContent.keySet());
        int nextId = known.size();
        for (String s : specials.all()) {
            if (s.isEmpty() || addedByContent.containsKey(s)) {
                continue;
            }
            Integer id = vocab.get(s);
            TokenizerFiles.putAdded(added, addedByContent, AddedToken.special(s, id != null ? id : nextId++), false);
        }
        return new ClipTokenizer(modelDir, vocab, merges, specials, added, modelMaxLength, cleanUp, errors);
    }

    private static Map<String, Integer> readVocab(ObjectMapper json, Path file) {
        if (!Files.isRegularFile(file)) {
            throw new TokenizerException("no " + VOCAB_JSON + " in CLIP tokenizer directory " + file.getParent()
                    + " (expected " + file + ", a JSON object of token -> id)");
        }
        JsonNode node = TokenizerFiles.readJsonObject(json, file);
        if (node.isEmpty()) {
            throw new TokenizerException(file + " is empty; it must map every token to its id");
        }
        Map<String, Integer> vocab = new HashMap<>(node.size() * 2);
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            // Ids index a dense array; a far-out id is a broken file, not a vocabulary.
            if (!e.getValue().isInt() || e.getValue().asInt() < 0 || e.getValue().asInt() >= MAX_VOCAB_ID) {
                throw new TokenizerException(file + ": the id of \"" + e.getKey()
                        + "\" must be an integer from 0 to " + (MAX_VOCAB_ID - 1) + ", got " + e.getValue());
            }
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        return Map.copyOf(vocab);
    }

    /**
     * The merges as the reference reads them: the whole file stripped, split into lines, the first line (the
     * "#version" header) skipped, at most {@link #MAX_MERGES} lines kept, each split on whitespace. A line that
     * is not a pair keeps its rank but can never match, as in the reference (it is null in the list).
     */
    private static List<String[]> readMerges(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new TokenizerException("no " + MERGES_TXT + " in CLIP tokenizer directory " + file.getParent()
                    + " (expected " + file + ", the BPE merges one pair a line after a \"#version\" header)");
        }
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (MalformedInputException e) {
            throw new TokenizerException(file + " is not valid UTF-8", e);
        } catch (IOException e) {
            throw new TokenizerException("cannot read " + file + ": " + e, e);
        }
        // Python's text mode reads "\r\n" and "\r" as "\n".
        String[] lines = CharClasses.pythonStrip(text.replace("\r\n", "\n").replace('\r', '\n')).split("\n", -1);
        int count = Math.min(MAX_MERGES, lines.length - 1);
        List<String[]> merges = new ArrayList<>(Math.max(count, 0));
        int pairs = 0;
        for (int i = 1; i <= count; i++) {
            List<String> parts = new ArrayList<>(2);
            CharClasses.splitPythonWhitespace(lines[i], parts);
            if (parts.size() == 2) {
                merges.add(parts.toArray(String[]::new));
                pairs++;
            } else {
                merges.add(null);
            }
        }
        if (pairs == 0) {
            throw new TokenizerException(file + " holds no merges after its header line; it must list the BPE"
                    + " merges one pair a line (\"a b\") after a \"#version\" header");
        }
        return merges;
    }

    // The config files are read as for the WordPiece tokenizer: TokenizerFiles holds the readers.

    // ------------------------------------------------------------------ tokenizing

    /**
     * Splits a text into BPE tokens, without {@code <|startoftext|>}/{@code <|endoftext|>} around it (the
     * reference's {@code tokenize}).
     *
     * @param text any text; added tokens written in it (such as {@code <|endoftext|>}) stay single tokens
     * @return the tokens; a word's last token ends in {@code </w>}
     */
    public List<String> tokenize(String text) {
        Objects.requireNonNull(text, "text");
        IntBuffer syms = new IntBuffer();
        tokenizeSymbols(text, syms, Integer.MAX_VALUE);
        List<String> out = new ArrayList<>(syms.size);
        for (int i = 0; i < syms.size; i++) {
            out.add(bpe.symbol(syms.data[i]));
        }
        return out;
    }

    /**
     * Encodes one text as {@code <|startoftext|> tokens <|endoftext|>}, truncated to
     * {@link #modelMaxLength()} ids (the final {@code <|endoftext|>} is kept).
     *
     * @param text the text
     * @return the token ids
     */
    public int[] encode(String text) {
        return encode(text, modelMaxLength);
    }

    /**
     * Encodes one text as {@code <|startoftext|> tokens <|endoftext|>}, truncating the tokens on the right so
     * that the result, both markers included, has at most {@code maxLength} ids (the reference's
     * {@code truncation=True, max_length=maxLength}). As in the reference, when {@code maxLength} is 2 and the
     * text has tokens, nothing can be removed sensibly and the text is left untruncated.
     *
     * @param text      the text
     * @param maxLength the largest length wanted, at least 2 ({@link Integer#MAX_VALUE}: no truncation)
     * @return the token ids
     */
    public int[] encode(String text, int maxLength) {
        Objects.requireNonNull(text, "text");
        if (maxLength < 2) {
            throw new IllegalArgumentException("maxLength must be at least 2 (room for <|startoftext|> and"
                    + " <|endoftext|>), got " + maxLength);
        }
        IntBuffer syms = new IntBuffer();
        // Words are tokenized independently, so once the kept tokens are known the rest of the text cannot
        // change them; only a limit of 2 needs the full count (the reference then leaves the text whole).
        int keep = maxLength == 2 || maxLength == Integer.MAX_VALUE ? Integer.MAX_VALUE : maxLength - 2;
        tokenizeSymbols(text, syms, keep);
        int count = maxLength == 2 ? syms.size : Math.min(syms.size, maxLength - 2);
        int[] out = new int[count + 2];
        out[0] = bosTokenId();
        for (int i = 0; i < count; i++) {
            out[i + 1] = idOfSymbol(syms.data[i]);
        }
        out[count + 1] = eosTokenId();
        return out;
    }

    /**
     * Encodes several texts as a batch (the reference's {@code tokenizer(texts, padding=..., truncation=True,
     * max_length=...)}), padding on the right with the pad id ({@code <|endoftext|>} for CLIP), attention 0
     * there.
     *
     * @param texts     the texts, one row each
     * @param maxLength every row is truncated to at most this many ids (see {@link #encode(String, int)}), and
     *                  {@link Padding#MAX_LENGTH} pads to it; when null, {@link #modelMaxLength()} is used for
     *                  both
     * @param padding   how to pad the rows
     * @return the ids and the attention mask
     */
    public Batch encodeBatch(List<String> texts, Integer maxLength, Padding padding) {
        Objects.requireNonNull(texts, "texts");
        Objects.requireNonNull(padding, "padding");
        int limit = maxLength != null ? maxLength : modelMaxLength;
        int[][] rows = new int[texts.size()][];
        for (int i = 0; i < rows.length; i++) {
            String text = texts.get(i);
            if (text == null) {
                throw new IllegalArgumentException("texts[" + i + "] is null");
            }
            rows[i] = encode(text, limit);
        }
        // padTokenId() is only asked for when padding: a tokenizer without a pad token can still encode.
        return Batch.padded(rows, padding, limit, padding == Padding.NONE ? 0 : padTokenId(), dir);
    }

    /**
     * The reference's {@code tokenize} as BPE symbol ids, stopping once {@code limit} symbols are collected:
     * added tokens are cut out of the raw text first; every other piece is cleaned, split into words and
     * merged.
     */
    private void tokenizeSymbols(String text, IntBuffer out, int limit) {
        List<String> pieces = addedSplitter.split(text);
        for (String piece : pieces) {
            if (out.size >= limit) {
                return;
            }
            if (piece.isEmpty()) {
                continue;
            }
            Integer added = addedSymbols.get(piece);
            if (added != null) {
                out.add(added);
            } else {
                splitWords(ClipTextFixer.clean(piece), out, limit);
            }
        }
    }

    /**
     * The reference's word pattern, applied to cleaned, lower-cased text:
     * {@code <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+}
     * (case-insensitive), leftmost alternative first at each position; each match goes through BPE.
     */
    private void splitWords(String s, IntBuffer out, int limit) {
        int n = s.length();
        int i = 0;
        while (i < n && out.size < limit) {
            int cp = s.codePointAt(i);
            int end = -1;
            if (cp == '<') {
                end = matchMarker(s, i);
            } else if (cp == '\'') {
                end = matchContraction(s, i + 1);
            }
            if (end < 0) {
                if (Character.isLetter(cp)) {
                    end = i + Character.charCount(cp);
                    while (end < n && Character.isLetter(s.codePointAt(end))) {
                        end += Character.charCount(s.codePointAt(end));
                    }
                } else if (isNumber(cp)) {
                    end = i + Character.charCount(cp);
                } else if (isOther(cp)) {
                    end = i + Character.charCount(cp);
                    while (end < n && isOther(s.codePointAt(end))) {
                        end += Character.charCount(s.codePointAt(end));
                    }
                } else {
                    // Whitespace (and U+0345, see isOther) belongs to no alternative and is skipped.
                    i += Character.charCount(cp);
                    continue;
                }
            }
            for (int sym : bpe.encode(s.substring(i, end))) {
                out.add(sym);
            }
            i = end;
        }
    }

    /** End of {@code <|startoftext|>} or {@code <|endoftext|>} at {@code i} (case-insensitive), else -1. */
    private static int matchMarker(String s, int i) {
        for (String marker : new String[] {START_OF_TEXT, END_OF_TEXT}) {
            if (s.length() - i >= marker.length()) {
                boolean ok = true;
                for (int k = 0; k < marker.length() && ok; k++) {
                    ok = foldEquals(s.charAt(i + k), marker.charAt(k));
                }
                if (ok) {
                    return i + marker.length();
                }
            }
        }
        return -1;
    }

    /** End of {@code s|t|re|ve|m|ll|d} (after an apostrophe) at {@code i}, tried in that order, else -1. */
    private static int matchContraction(String s, int i) {
        for (String suffix : new String[] {"s", "t", "re", "ve", "m", "ll", "d"}) {
            if (s.length() - i >= suffix.length()) {
                boolean ok = true;
                for (int k = 0; k < suffix.length() && ok; k++) {
                    ok = foldEquals(s.charAt(i + k), suffix.charAt(k));
                }
                if (ok) {
                    return i + suffix.length();
                }
            }
        }
        return -1;
    }

    /**
     * Case-insensitive equality with an ASCII pattern character as the {@code regex} module's IGNORECASE
     * decides it: ASCII case, plus U+017F (long s) for "s", the only other code point that folds onto a letter
     * of the pattern.
     */
    private static boolean foldEquals(char c, char pattern) {
        if (c == pattern) {
            return true;
        }
        if (pattern >= 'a' && pattern <= 'z') {
            return c == pattern - 32 || (pattern == 's' && c == '\u017f');
        }
        return false;
    }

    /** {@code \p{N}}: decimal digits, letter numbers and other numbers. */
    private static boolean isNumber(int cp) {
        int t = Character.getType(cp);
        return t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER || t == Character.OTHER_NUMBER;
    }

    /**
     * {@code [^\s\p{L}\p{N}]} under IGNORECASE. U+0345 (combining ypogegrammeni) is excluded: it case-folds
     * to the letter iota, so the case-insensitive negated class rejects it while {@code [\p{L}]} does not take it
     * either; the reference drops it.
     */
    private static boolean isOther(int cp) {
        return !ClipTextFixer.isRegexSpace(cp) && !Character.isLetter(cp) && !isNumber(cp) && cp != 0x0345;
    }

    private int idOfSymbol(int sym) {
        int id = symbolToId[sym];
        if (id < 0) {
            throw new TokenizerException("token \"" + bpe.symbol(sym) + "\" is not in " + dir.resolve(VOCAB_JSON)
                    + " and no unk_token is configured to stand for it");
        }
        return id;
    }

    // ------------------------------------------------------------------ decoding

    /**
     * Turns ids back into text as the reference's slow {@code decode} does: the tokens are joined, their
     * characters mapped back to bytes and decoded as UTF-8 (invalid sequences become U+FFFD, per the config's
     * {@code errors}), every {@code </w>} becomes a space and the ends are stripped; when the config asks for it
     * (CLIP's does), spaces before {@code . ? ! ,} and before the contractions {@code n't 'm 's 've 're} are
     * removed. Non-special added tokens are decoded on their own and joined with spaces.
     *
     * @param ids               token ids (an id the tokenizer does not know decodes as the unknown token,
     *                          where the reference would fail)
     * @param skipSpecialTokens drop every special token ({@code <|startoftext|>}, {@code <|endoftext|>}, ...)
     * @return the text
     */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        Objects.requireNonNull(ids, "ids");
        List<String> tokens = convertIdsToTokens(ids, skipSpecialTokens);
        if (skipSpecialTokens) {
            tokens = tokens.stream().filter(t -> !allSpecialTokens.contains(t)).toList();
        }
        return DecodedText.join(tokens, legacyAddedTokens, this::tokensToString, cleanUpTokenizationSpaces);
    }

    /**
     * Converts ids to tokens (the reference's {@code convert_ids_to_tokens}).
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

    /** The reference's {@code convert_tokens_to_string}: bytes back from token characters, UTF-8, {@code </w>}. */
    private String tokensToString(List<String> tokens) {
        int len = 0;
        for (String t : tokens) {
            len += t.length();
        }
        byte[] bytes = new byte[len * 3];
        int n = 0;
        for (String t : tokens) {
            for (int i = 0; i < t.length(); i++) {
                char c = t.charAt(i);
                int b = ClipBpe.charByte(c);
                if (b >= 0) {
                    bytes[n++] = (byte) b;
                } else {
                    // Not one of the 256 byte characters (the reference would fail): keep the character.
                    int cp = t.codePointAt(i);
                    byte[] utf8 = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
                    if (n + utf8.length > bytes.length) {
                        bytes = Arrays.copyOf(bytes, bytes.length * 2 + utf8.length);
                    }
                    System.arraycopy(utf8, 0, bytes, n, utf8.length);
                    n += utf8.length;
                    i += Character.charCount(cp) - 1;
                }
            }
        }
        String text = decodeUtf8(bytes, n, errors);
        return CharClasses.pythonStrip(text.replace(ClipBpe.END_OF_WORD, " "));
    }

    /**
     * UTF-8 decoding as Python's {@code bytes.decode("utf-8", errors)}: each maximal invalid subsequence (a
     * byte that cannot start a sequence, or a valid start cut short) is one error, replaced by one U+FFFD,
     * dropped, or thrown on.
     */
    private static String decodeUtf8(byte[] bytes, int length, Errors errors) {
        StringBuilder sb = new StringBuilder(length);
        int i = 0;
        while (i < length) {
            int b = bytes[i] & 0xFF;
            if (b < 0x80) {
                sb.append((char) b);
                i++;
                continue;
            }
            int need;
            int lo = 0x80;
            int hi = 0xBF;
            int cp;
            if (b >= 0xC2 && b <= 0xDF) {
                need = 1;
                cp = b & 0x1F;
            } else if (b >= 0xE0 && b <= 0xEF) {
                need = 2;
                cp = b & 0x0F;
                if (b == 0xE0) {
                    lo = 0xA0;
                } else if (b == 0xED) {
                    hi = 0x9F;
                }
            } else if (b >= 0xF0 && b <= 0xF4) {
                need = 3;
                cp = b & 0x07;
                if (b == 0xF0) {
                    lo = 0x90;
                } else if (b == 0xF4) {
                    hi = 0x8F;
                }
            } else {
                invalid(sb, errors, bytes, i, 1);
                i++;
                continue;
            }
            int j = i + 1;
            boolean ok = true;
            for (int k = 0; k < need; k++, j++) {
                if (j >= length) {
                    ok = false;
                    break;
                }
                int c = bytes[j] & 0xFF;
                int min = k == 0 ? lo : 0x80;
                int max = k == 0 ? hi : 0xBF;
                if (c < min || c > max) {
                    ok = false;
                    break;
                }
                cp = (cp << 6) | (c & 0x3F);
            }
            if (!ok) {
                invalid(sb, errors, bytes, i, j - i);
                i = j;
                continue;
            }
            sb.appendCodePoint(cp);
            i = j;
        }
        return sb.toString();
    }

    private static void invalid(StringBuilder sb, Errors errors, byte[] bytes, int at, int count) {
        switch (errors) {
            case REPLACE -> sb.append('\ufffd');
            case IGNORE -> { }
            case STRICT -> throw new IllegalArgumentException("the decoded tokens are not valid UTF-8: "
                    + count + " invalid byte(s) starting with 0x" + Integer.toHexString(bytes[at] & 0xFF)
                    + " at byte " + at + " (the tokenizer config sets errors=\"strict\")");
        }
    }

    // ------------------------------------------------------------------ vocabulary and special tokens

    private Integer lookup(String token) {
        Integer id = addedEncoder.get(token);
        return id != null ? id : vocab.get(token);
    }

    /**
     * The id of a token: an added token's id, else its vocabulary id, else the unknown token's id (as the
     * reference's {@code convert_tokens_to_ids}).
     *
     * @param token the token
     * @return its id
     * @throws TokenizerException when the token is unknown and no unk_token is configured
     */
    public int tokenToId(String token) {
        Integer id = lookup(token);
        if (id == null && specials.unk() != null) {
            id = lookup(specials.unk());
        }
        if (id == null) {
            throw new TokenizerException("token \"" + token + "\" is not in the vocabulary of " + dir
                    + " and no unk_token is configured to stand for it");
        }
        return id;
    }

    /**
     * The token of an id: an added token's text, else the vocabulary entry, else the unknown token (the
     * reference has no token for such an id and fails later).
     *
     * @param id the id
     * @return the token
     * @throws IllegalArgumentException when the id is unknown and no unk_token is configured
     */
    public String idToToken(int id) {
        AddedToken added = addedDecoder.get(id);
        if (added != null) {
            return added.content();
        }
        if (id >= 0 && id < vocabById.length && vocabById[id] != null) {
            return vocabById[id];
        }
        if (specials.unk() == null) {
            throw new IllegalArgumentException("id " + id + " is not in the vocabulary of " + dir
                    + " and no unk_token is configured to stand for it");
        }
        return specials.unk();
    }

    /** @return the id that starts an encoded text ({@code <|startoftext|>}, 49406 for CLIP) */
    public int bosTokenId() {
        return roleId(specials.bos(), "bos_token");
    }

    /** @return the id that ends an encoded text ({@code <|endoftext|>}, 49407 for CLIP) */
    public int eosTokenId() {
        return roleId(specials.eos(), "eos_token");
    }

    /** @return the padding id ({@code <|endoftext|>}, 49407, for CLIP) */
    public int padTokenId() {
        return roleId(specials.pad(), "pad_token");
    }

    /** @return the unknown token's id ({@code <|endoftext|>}, 49407, for CLIP) */
    public int unkTokenId() {
        return roleId(specials.unk(), "unk_token");
    }

    /** @return {@code model_max_length} from tokenizer_config.json (77 when unset; {@link Integer#MAX_VALUE}
     * when the config gives the reference's "no limit" value) */
    public int modelMaxLength() {
        return modelMaxLength;
    }

    /** @return the number of distinct tokens, added tokens included (49408 for CLIP) */
    public int vocabSize() {
        return vocabSize;
    }

    private int roleId(String token, String role) {
        if (token == null) {
            throw new TokenizerException("CLIP tokenizer " + dir + " configures no " + role + "; add it to "
                    + SPECIAL_TOKENS_MAP + " or " + TOKENIZER_CONFIG);
        }
        return tokenToId(token);
    }

    @Override
    public String toString() {
        return "ClipTokenizer[" + dir + ", " + vocabSize + " tokens, " + bpe.mergeCount() + " merges]";
    }

    /** A growable int array. */
    private static final class IntBuffer {
        int[] data = new int[32];
        int size;

        void add(int v) {
            if (size == data.length) {
                data = Arrays.copyOf(data, size * 2);
            }
            data[size++] = v;
        }
    }
}
