package org.blipjava.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a tokenizer directory as {@code save_pretrained} writes it (slow or fast BERT tokenizer) into a
 * {@link Definition}. Stateless.
 */
final class TokenizerFiles {
    static final String VOCAB_TXT = "vocab.txt";
    static final String TOKENIZER_JSON = "tokenizer.json";
    static final String TOKENIZER_CONFIG = "tokenizer_config.json";
    static final String SPECIAL_TOKENS_MAP = "special_tokens_map.json";
    static final String ADDED_TOKENS = "added_tokens.json";

    private TokenizerFiles() {}

    /**
     * Everything a {@link BertTokenizer} is built from.
     *
     * @param vocab         the WordPiece vocabulary (vocab.txt or tokenizer.json's model.vocab)
     * @param addedTokens   added tokens by id, in the order the reference registers them
     * @param modelMaxLength {@code model_max_length}, or {@link Integer#MAX_VALUE} when unset
     */
    record Definition(Path dir, Map<String, Integer> vocab, String unkForWordPiece, String continuingPrefix,
            int maxInputCharsPerWord, boolean doBasicTokenize, boolean doLowerCase, Boolean stripAccents,
            boolean tokenizeChineseChars, Set<String> neverSplit, SpecialTokens specials,
            LinkedHashMap<Integer, AddedToken> addedTokens, int modelMaxLength, boolean cleanUpTokenizationSpaces) {}

    static Definition read(Path dir) {
        if (dir == null || !Files.isDirectory(dir)) {
            throw new TokenizerException("tokenizer directory " + dir + " does not exist or is not a directory;"
                    + " pass the folder that holds " + VOCAB_TXT + " (or " + TOKENIZER_JSON + ")");
        }
        ObjectMapper json = new ObjectMapper();
        JsonNode config = readJsonObject(json, dir.resolve(TOKENIZER_CONFIG));
        JsonNode specialsMap = readJsonObject(json, dir.resolve(SPECIAL_TOKENS_MAP));

        Path vocabTxt = dir.resolve(VOCAB_TXT);
        Path tokenizerJson = dir.resolve(TOKENIZER_JSON);
        Map<String, Integer> vocab;
        JsonNode fast = null;
        String wpUnk = null;
        String prefix = "##";
        int maxChars = 100;
        if (Files.isRegularFile(vocabTxt)) {
            vocab = readVocabTxt(vocabTxt);
        } else if (Files.isRegularFile(tokenizerJson)) {
            fast = readJsonObject(json, tokenizerJson);
            JsonNode model = fast.path("model");
            String type = model.path("type").asText("WordPiece");
            if (!type.equals("WordPiece")) {
                throw new TokenizerException(tokenizerJson + ": model.type is \"" + type
                        + "\"; only WordPiece (BERT) tokenizers are supported");
            }
            vocab = readJsonVocab(tokenizerJson, model.path("vocab"));
            if (model.hasNonNull("unk_token")) {
                wpUnk = model.get("unk_token").asText();
            }
            if (model.hasNonNull("continuing_subword_prefix")) {
                prefix = model.get("continuing_subword_prefix").asText();
            }
            if (model.hasNonNull("max_input_chars_per_word")) {
                maxChars = model.get("max_input_chars_per_word").asInt();
            }
        } else {
            throw new TokenizerException("no " + VOCAB_TXT + " or " + TOKENIZER_JSON + " in tokenizer directory "
                    + dir + "; pass the folder written by the reference's save_pretrained");
        }

        JsonNode normalizer = fast == null ? null : bertNormalizer(fast.path("normalizer"));
        Path configFile = dir.resolve(TOKENIZER_CONFIG);
        boolean doLowerCase = bool(config, "do_lower_case", configFile,
                normalizer != null ? normalizer.path("lowercase").asBoolean(true) : true);
        boolean doBasic = bool(config, "do_basic_tokenize", configFile, true);
        boolean chinese = bool(config, "tokenize_chinese_chars", configFile,
                normalizer != null ? normalizer.path("handle_chinese_chars").asBoolean(true) : true);
        Boolean stripAccents;
        if (config != null && config.has("strip_accents")) {
            stripAccents = nullableBool(config.get("strip_accents"), configFile, "strip_accents");
        } else if (normalizer != null && normalizer.has("strip_accents")) {
            stripAccents = nullableBool(normalizer.get("strip_accents"), tokenizerJson, "normalizer.strip_accents");
        } else {
            stripAccents = null;
        }
        Set<String> neverSplit = new HashSet<>();
        if (config != null && config.hasNonNull("never_split")) {
            JsonNode ns = config.get("never_split");
            if (!ns.isArray()) {
                throw new TokenizerException(configFile + ": never_split must be a list of strings or null");
            }
            ns.forEach(n -> neverSplit.add(n.asText()));
        }
        int modelMaxLength = Integer.MAX_VALUE;
        if (config != null && config.hasNonNull("model_max_length")) {
            JsonNode m = config.get("model_max_length");
            if (!m.isNumber() || m.asDouble() < 0) {
                throw new TokenizerException(configFile + ": model_max_length must be a non-negative number, got " + m);
            }
            modelMaxLength = m.asDouble() >= Integer.MAX_VALUE ? Integer.MAX_VALUE : m.asInt();
        }
        boolean cleanUp = bool(config, "clean_up_tokenization_spaces", configFile, true);

        // Roles: BERT defaults, then tokenizer_config.json, then special_tokens_map.json (which wins, as in the reference).
        SpecialTokens specials = SpecialTokens.bertDefaults();
        if (wpUnk != null) {
            specials = specials.with("unk_token", wpUnk);
        }
        specials = applyRoles(specials, config, configFile);
        specials = applyRoles(specials, specialsMap, dir.resolve(SPECIAL_TOKENS_MAP));
        if (wpUnk == null) {
            wpUnk = specials.unk();
        }

        LinkedHashMap<Integer, AddedToken> added = new LinkedHashMap<>();
        Map<String, Integer> addedByContent = new HashMap<>();
        if (config != null && config.hasNonNull("added_tokens_decoder")) {
            JsonNode dec = config.get("added_tokens_decoder");
            for (Iterator<Map.Entry<String, JsonNode>> it = dec.properties().iterator(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                int id;
                try {
                    id = Integer.parseInt(e.getKey());
                } catch (NumberFormatException ex) {
                    throw new TokenizerException(configFile + ": added_tokens_decoder key \"" + e.getKey()
                            + "\" is not an integer id");
                }
                putAdded(added, addedByContent, addedToken(e.getValue(), id, configFile, "added_tokens_decoder." + id),
                        false);
            }
        }
        if (fast != null && fast.has("added_tokens")) {
            for (JsonNode t : fast.get("added_tokens")) {
                if (!t.path("id").isInt()) {
                    throw new TokenizerException(tokenizerJson + ": every added_tokens entry needs an integer id, got " + t);
                }
                putAdded(added, addedByContent, addedToken(t, t.get("id").asInt(), tokenizerJson, "added_tokens"), true);
            }
        }
        if (fast != null) {
            // The fast tokenizer treats every added token flagged special as special (matched verbatim, skipped
            // when decoding); without a role for it in the config files it becomes an additional special token.
            List<String> extra = new ArrayList<>(specials.additional());
            Set<String> roles = new HashSet<>(specials.all());
            added.values().stream().filter(AddedToken::special).sorted(java.util.Comparator.comparingInt(AddedToken::id))
                    .map(AddedToken::content).filter(c -> !roles.contains(c)).forEach(extra::add);
            specials = specials.withAdditional(extra);
        }
        Set<String> allSpecial = new HashSet<>(specials.all());
        Path addedFile = dir.resolve(ADDED_TOKENS);
        JsonNode legacyAdded = readJsonObject(json, addedFile);
        if (legacyAdded != null) {
            for (Map.Entry<String, JsonNode> e : legacyAdded.properties()) {
                if (!e.getValue().isInt() || e.getValue().asInt() < 0) {
                    throw new TokenizerException(addedFile + ": the id of \"" + e.getKey()
                            + "\" must be a non-negative integer, got " + e.getValue());
                }
                boolean special = allSpecial.contains(e.getKey());
                putAdded(added, addedByContent, new AddedToken(e.getKey(), e.getValue().asInt(), special, false,
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
            putAdded(added, addedByContent, AddedToken.special(s, id != null ? id : nextId++), false);
        }
        return new Definition(dir, vocab, wpUnk, prefix, maxChars, doBasic, doLowerCase, stripAccents, chinese,
                neverSplit, specials, added, modelMaxLength, cleanUp);
    }

    static void putAdded(LinkedHashMap<Integer, AddedToken> added, Map<String, Integer> byContent,
            AddedToken t, boolean onlyIfNew) {
        if (onlyIfNew && (added.containsKey(t.id()) || byContent.containsKey(t.content()))) {
            return;
        }
        added.put(t.id(), t);
        byContent.put(t.content(), t.id());
    }

    /** One line per token; the line number is the id (a repeated token keeps its last id, as in the reference). */
    private static Map<String, Integer> readVocabTxt(Path file) {
        Map<String, Integer> vocab = new HashMap<>(1 << 16);
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            int id = 0;
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                vocab.put(line, id++);
            }
        } catch (IOException e) {
            throw new TokenizerException("cannot read " + file + " (one UTF-8 token per line expected): " + e, e);
        }
        if (vocab.isEmpty()) {
            throw new TokenizerException(file + " is empty; it must list one token per line");
        }
        return Map.copyOf(vocab);
    }

    private static Map<String, Integer> readJsonVocab(Path file, JsonNode node) {
        if (!node.isObject() || node.isEmpty()) {
            throw new TokenizerException(file + ": model.vocab must be a non-empty object of token -> id");
        }
        Map<String, Integer> vocab = new HashMap<>(node.size() * 2);
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isInt() || e.getValue().asInt() < 0) {
                throw new TokenizerException(file + ": model.vocab[\"" + e.getKey()
                        + "\"] must be a non-negative integer id, got " + e.getValue());
            }
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        return Map.copyOf(vocab);
    }

    /** The BertNormalizer of a tokenizer.json, top level or inside a Sequence; null when there is none. */
    private static JsonNode bertNormalizer(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) {
            return null;
        }
        if ("BertNormalizer".equals(n.path("type").asText())) {
            return n;
        }
        for (JsonNode child : n.path("normalizers")) {
            JsonNode found = bertNormalizer(child);
            if (found != null) {
                return found;
            }
        }
        return null;
    }

    static SpecialTokens applyRoles(SpecialTokens specials, JsonNode node, Path file) {
        if (node == null) {
            return specials;
        }
        for (String role : SpecialTokens.ROLES) {
            if (node.has(role)) {
                specials = specials.with(role, tokenContent(node.get(role), file, role));
            }
        }
        if (node.has("additional_special_tokens")) {
            JsonNode list = node.get("additional_special_tokens");
            List<String> extra = new ArrayList<>();
            if (!list.isNull()) {
                if (!list.isArray()) {
                    throw new TokenizerException(file + ": additional_special_tokens must be a list");
                }
                for (JsonNode t : list) {
                    String s = tokenContent(t, file, "additional_special_tokens");
                    if (s != null && !extra.contains(s)) {
                        extra.add(s);
                    }
                }
            }
            specials = specials.withAdditional(extra);
        }
        return specials;
    }

    /** A token given either as a plain string or as an AddedToken object with "content". */
    static String tokenContent(JsonNode v, Path file, String key) {
        if (v == null || v.isNull()) {
            return null;
        }
        if (v.isTextual()) {
            return v.asText();
        }
        if (v.isObject() && v.path("content").isTextual()) {
            return v.get("content").asText();
        }
        throw new TokenizerException(file + ": " + key + " must be a string or an object with \"content\", got " + v);
    }

    static AddedToken addedToken(JsonNode v, int id, Path file, String key) {
        String content = tokenContent(v, file, key);
        if (content == null || id < 0) {
            throw new TokenizerException(file + ": " + key + " needs a content string and a non-negative id, got " + v);
        }
        boolean special = v.path("special").asBoolean(false);
        return new AddedToken(content, id, special, v.path("lstrip").asBoolean(false),
                v.path("rstrip").asBoolean(false), v.path("single_word").asBoolean(false),
                v.path("normalized").asBoolean(!special));
    }

    private static boolean bool(JsonNode node, String key, Path file, boolean dflt) {
        if (node == null || !node.has(key) || node.get(key).isNull()) {
            return dflt;
        }
        JsonNode v = node.get(key);
        if (!v.isBoolean()) {
            throw new TokenizerException(file + ": " + key + " must be true or false, got " + v);
        }
        return v.asBoolean();
    }

    private static Boolean nullableBool(JsonNode v, Path file, String key) {
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isBoolean()) {
            throw new TokenizerException(file + ": " + key + " must be true, false or null, got " + v);
        }
        return v.asBoolean();
    }

    /** The file's JSON object, or null when the file does not exist. */
    static JsonNode readJsonObject(ObjectMapper json, Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        JsonNode n;
        try {
            n = json.readTree(file.toFile());
        } catch (IOException e) {
            throw new TokenizerException("cannot parse " + file + " as JSON: " + e.getMessage(), e);
        }
        if (n == null || !n.isObject()) {
            throw new TokenizerException(file + " must hold a JSON object");
        }
        return n;
    }
}
