package org.blipjava.generation;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.blipjava.config.BlipTextConfig;
import org.blipjava.config.ConfigException;

/**
 * Generation settings with the meaning and defaults of transformers 4.40 {@code GenerationConfig}.
 *
 * <p>Lengths count the whole sequence, prompt included, as for any decoder-only model in the
 * reference: BLIP's decoder starts from {@code [DEC]} (plus the prompt's ids for a prompted
 * caption), so {@code maxLength=20} allows 19 generated tokens after {@code [DEC]}.
 * {@code maxNewTokens}, when set, replaces {@code maxLength} by prompt length + maxNewTokens;
 * {@code minNewTokens}, when set, replaces {@code minLength} by prompt length + minNewTokens.
 *
 * <p>BLIP's {@code generate} always passes {@code eos_token_id = sep_token_id} (102) and
 * {@code pad_token_id} (0) from the text config, overriding the {@code eos_token_id} (2) that its
 * generation_config.json carries; callers generating for BLIP should do the same
 * ({@link #withEos(int)}).
 *
 * <p>{@code temperature}, {@code topK} and {@code topP} act only when sampling, as in the
 * reference (where {@code top_k=50} is the default and therefore applies to every sampling run
 * unless set to 0).
 *
 * @param maxLength          the longest sequence, prompt included (default 20)
 * @param maxNewTokens       when not null, the most tokens to generate after the prompt
 * @param minLength          eos is forbidden while the sequence is shorter than this (default 0)
 * @param minNewTokens       when not null, eos is forbidden until this many tokens were generated
 * @param doSample           sample from the distribution instead of taking the best tokens
 * @param numBeams           beams per input; 1 means greedy search or plain sampling
 * @param numReturnSequences sequences returned per input (at most numBeams for beam search)
 * @param temperature        divides the logits before sampling; must be positive when sampling
 * @param topK               sampling keeps the k most likely tokens (0 disables; default 50)
 * @param topP               sampling keeps the smallest set of tokens whose probability reaches p (1 disables)
 * @param repetitionPenalty  CTRL penalty for tokens already in the sequence (1 disables)
 * @param lengthPenalty      beam scores are divided by (generated length)^lengthPenalty
 * @param noRepeatNgramSize  forbids repeating any n-gram of this size (0 disables)
 * @param earlyStopping      beam search stopping rule
 * @param seed               sampling seed; null draws a random one
 * @param eosTokenIds        ids that end a sequence (empty: none)
 * @param padTokenId         id that fills finished sequences; null falls back to the first eos id
 * @param bosTokenId         the model's start id (informational: generation starts from the prompt)
 */
public record GenerationConfig(
        int maxLength,
        Integer maxNewTokens,
        int minLength,
        Integer minNewTokens,
        boolean doSample,
        int numBeams,
        int numReturnSequences,
        double temperature,
        int topK,
        double topP,
        double repetitionPenalty,
        double lengthPenalty,
        int noRepeatNgramSize,
        EarlyStopping earlyStopping,
        Long seed,
        List<Integer> eosTokenIds,
        Integer padTokenId,
        Integer bosTokenId) {

    /** Which decoding algorithm a configuration selects (transformers' {@code GenerationMode}). */
    public enum Mode {
        /** numBeams = 1, no sampling: the most likely token at each step. */
        GREEDY,
        /** numBeams = 1 with sampling: multinomial sampling. */
        SAMPLE,
        /** numBeams &gt; 1, no sampling: beam search. */
        BEAM_SEARCH,
        /** numBeams &gt; 1 with sampling: beam search whose candidates are sampled. */
        BEAM_SAMPLE
    }

    /** Validates every field; the message names the setting by its generation_config.json key. */
    public GenerationConfig {
        if (maxLength < 1) {
            throw new IllegalArgumentException("max_length must be at least 1, got " + maxLength);
        }
        if (maxNewTokens != null && maxNewTokens < 1) {
            throw new IllegalArgumentException("max_new_tokens must be greater than 0, got " + maxNewTokens);
        }
        if (minLength < 0) {
            throw new IllegalArgumentException("min_length must be >= 0, got " + minLength);
        }
        if (minNewTokens != null && minNewTokens < 0) {
            throw new IllegalArgumentException("min_new_tokens must be >= 0, got " + minNewTokens);
        }
        if (numBeams < 1) {
            throw new IllegalArgumentException("num_beams must be >= 1, got " + numBeams);
        }
        if (numReturnSequences < 1) {
            throw new IllegalArgumentException("num_return_sequences must be >= 1, got " + numReturnSequences);
        }
        if (numBeams == 1 && !doSample && numReturnSequences != 1) {
            throw new IllegalArgumentException("greedy search returns one sequence per input, but num_return_sequences is "
                    + numReturnSequences + "; set do_sample=true, or num_beams >= " + numReturnSequences
                    + " for beam search");
        }
        if (numBeams > 1 && numReturnSequences > numBeams) {
            throw new IllegalArgumentException("num_return_sequences (" + numReturnSequences
                    + ") must be <= num_beams (" + numBeams + ") for beam search; raise num_beams");
        }
        if (doSample && !(temperature > 0 && Double.isFinite(temperature))) {
            throw new IllegalArgumentException("temperature must be a positive number when sampling, got " + temperature
                    + "; for the most likely tokens use do_sample=false");
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top_k must be >= 0 (0 disables it), got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top_p must be in (0, 1] (1 disables it), got " + topP);
        }
        if (!(repetitionPenalty > 0 && Double.isFinite(repetitionPenalty))) {
            throw new IllegalArgumentException("repetition_penalty must be a positive number (1 disables it), got "
                    + repetitionPenalty);
        }
        if (!Double.isFinite(lengthPenalty)) {
            throw new IllegalArgumentException("length_penalty must be a finite number, got " + lengthPenalty);
        }
        if (noRepeatNgramSize < 0) {
            throw new IllegalArgumentException("no_repeat_ngram_size must be >= 0 (0 disables it), got "
                    + noRepeatNgramSize);
        }
        if (earlyStopping == null) {
            throw new IllegalArgumentException("early_stopping must be set (true, false or \"never\")");
        }
        if (eosTokenIds == null) {
            eosTokenIds = List.of();
        }
        for (Integer id : eosTokenIds) {
            if (id == null || id < 0) {
                throw new IllegalArgumentException("eos_token_id must be non-negative ids, got " + eosTokenIds);
            }
        }
        eosTokenIds = List.copyOf(eosTokenIds);
        if (padTokenId != null && padTokenId < 0) {
            throw new IllegalArgumentException("pad_token_id must be >= 0, got " + padTokenId);
        }
        if (bosTokenId != null && bosTokenId < 0) {
            throw new IllegalArgumentException("bos_token_id must be >= 0, got " + bosTokenId);
        }
    }

    /** transformers' defaults: greedy, max_length 20, top_k 50, no eos/pad/bos. */
    public static GenerationConfig defaults() {
        return new GenerationConfig(20, null, 0, null, false, 1, 1, 1.0, 50, 1.0, 1.0, 1.0, 0,
                EarlyStopping.HEURISTIC, null, List.of(), null, null);
    }

    /**
     * The settings BLIP's {@code generate} uses before any caller options: the reference's defaults with
     * eos = the text config's {@code sep_token_id}, pad = its {@code pad_token_id} and bos = its
     * {@code bos_token_id} ([DEC]).
     */
    public static GenerationConfig forBlip(BlipTextConfig text) {
        return builder().eosTokenId(text.sepTokenId()).padTokenId(text.padTokenId()).bosTokenId(text.bosTokenId())
                .build();
    }

    /** A builder starting from {@link #defaults()}. */
    public static Builder builder() {
        return new Builder(defaults());
    }

    /** A builder starting from this configuration. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** This configuration with a single eos id (BLIP: the [SEP] id) and the given pad id. */
    public GenerationConfig withEos(int eosTokenId, int padTokenId) {
        return toBuilder().eosTokenId(eosTokenId).padTokenId(padTokenId).build();
    }

    /** This configuration with a single eos id (BLIP: the [SEP] id). */
    public GenerationConfig withEos(int eosTokenId) {
        return toBuilder().eosTokenId(eosTokenId).build();
    }

    /** The algorithm these settings select. */
    public Mode mode() {
        if (numBeams == 1) {
            return doSample ? Mode.SAMPLE : Mode.GREEDY;
        }
        return doSample ? Mode.BEAM_SAMPLE : Mode.BEAM_SEARCH;
    }

    /** The longest sequence (prompt included) for a prompt of this length. */
    public int maxLengthFor(int promptLength) {
        return maxNewTokens != null ? promptLength + maxNewTokens : maxLength;
    }

    /** The sequence length (prompt included) below which eos is forbidden, for a prompt of this length. */
    public int minLengthFor(int promptLength) {
        return minNewTokens != null ? promptLength + minNewTokens : minLength;
    }

    /** The id that fills finished sequences: {@code padTokenId}, else the first eos id (as the reference), else null. */
    public Integer effectivePadTokenId() {
        if (padTokenId != null) {
            return padTokenId;
        }
        return eosTokenIds.isEmpty() ? null : eosTokenIds.get(0);
    }

    /** Whether {@code token} is one of the eos ids. */
    public boolean isEos(int token) {
        for (int e : eosTokenIds) {
            if (e == token) {
                return true;
            }
        }
        return false;
    }

    /** Reads generation_config.json over {@link #defaults()}. */
    public static GenerationConfig fromJson(Path generationConfigJson) throws IOException {
        return fromJson(generationConfigJson, defaults());
    }

    /**
     * Reads generation_config.json over {@code base}: keys present in the file replace base's values,
     * unknown bookkeeping keys ({@code transformers_version}, {@code _from_model_config}, ...) are ignored,
     * and settings this library does not implement are refused when set to a non-default value.
     *
     * @throws ConfigException naming the file and key when the file is missing, malformed, or a value is invalid
     */
    public static GenerationConfig fromJson(Path generationConfigJson, GenerationConfig base) throws IOException {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readAllBytes(generationConfigJson));
        } catch (NoSuchFileException e) {
            throw new ConfigException(generationConfigJson + ": not found");
        } catch (JsonProcessingException e) {
            throw new ConfigException(generationConfigJson + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new ConfigException(generationConfigJson + ": not a JSON object");
        }
        return fromJson(root, base, generationConfigJson.toString());
    }

    /** Settings of the reference this library does not implement, with the value that means "off". */
    private static final Map<String, Object> UNSUPPORTED_UNLESS = Map.ofEntries(
            Map.entry("num_beam_groups", 1),
            Map.entry("diversity_penalty", 0.0),
            Map.entry("penalty_alpha", "null"),
            Map.entry("typical_p", 1.0),
            Map.entry("epsilon_cutoff", 0.0),
            Map.entry("eta_cutoff", 0.0),
            Map.entry("min_p", "null"),
            Map.entry("encoder_repetition_penalty", 1.0),
            Map.entry("encoder_no_repeat_ngram_size", 0),
            Map.entry("bad_words_ids", "null"),
            Map.entry("force_words_ids", "null"),
            Map.entry("constraints", "null"),
            Map.entry("forced_bos_token_id", "null"),
            Map.entry("forced_eos_token_id", "null"),
            Map.entry("suppress_tokens", "null"),
            Map.entry("begin_suppress_tokens", "null"),
            Map.entry("forced_decoder_ids", "null"),
            Map.entry("sequence_bias", "null"),
            Map.entry("guidance_scale", "null"),
            Map.entry("exponential_decay_length_penalty", "null"),
            Map.entry("renormalize_logits", false),
            Map.entry("remove_invalid_values", false));

    /**
     * Reads a generation_config.json object over {@code base}; {@code source} names the file in errors.
     *
     * @throws ConfigException naming source and key for an invalid or unsupported value
     */
    public static GenerationConfig fromJson(JsonNode root, GenerationConfig base, String source) {
        for (var e : UNSUPPORTED_UNLESS.entrySet()) {
            JsonNode v = root.get(e.getKey());
            if (v == null || v.isNull()) {
                continue;
            }
            Object off = e.getValue();
            boolean isOff = (off instanceof Integer i && v.isIntegralNumber() && v.asInt() == i)
                    || (off instanceof Double d && v.isNumber() && v.asDouble() == d)
                    || (off instanceof Boolean b && v.isBoolean() && v.asBoolean() == b)
                    || (v.isArray() && v.isEmpty());
            if (!isOff) {
                throw new ConfigException(source + ": '" + e.getKey() + "' = " + v
                        + " is not supported by this library; remove it or set it to its default");
            }
        }
        Builder b = base.toBuilder();
        if (has(root, "max_length")) b.maxLength(intField(root, "max_length", source));
        if (root.has("max_new_tokens")) b.maxNewTokens(nullableInt(root, "max_new_tokens", source));
        if (has(root, "min_length")) b.minLength(intField(root, "min_length", source));
        if (root.has("min_new_tokens")) b.minNewTokens(nullableInt(root, "min_new_tokens", source));
        if (has(root, "do_sample")) b.doSample(boolField(root, "do_sample", source));
        if (has(root, "num_beams")) b.numBeams(intField(root, "num_beams", source));
        if (has(root, "num_return_sequences")) b.numReturnSequences(intField(root, "num_return_sequences", source));
        if (has(root, "temperature")) b.temperature(numField(root, "temperature", source));
        if (root.has("top_k")) {
            // null means "disabled" in the reference, as 0 does.
            Integer k = nullableInt(root, "top_k", source);
            b.topK(k == null ? 0 : k);
        }
        if (has(root, "top_p")) b.topP(numField(root, "top_p", source));
        if (has(root, "repetition_penalty")) b.repetitionPenalty(numField(root, "repetition_penalty", source));
        if (has(root, "length_penalty")) b.lengthPenalty(numField(root, "length_penalty", source));
        if (has(root, "no_repeat_ngram_size")) b.noRepeatNgramSize(intField(root, "no_repeat_ngram_size", source));
        if (has(root, "early_stopping")) b.earlyStopping(earlyStoppingField(root.get("early_stopping"), source));
        if (root.has("seed")) {
            JsonNode s = root.get("seed");
            if (s.isNull()) {
                b.seed(null);
            } else if (s.isIntegralNumber()) {
                b.seed(s.asLong());
            } else {
                throw new ConfigException(source + ": 'seed' must be an integer, got " + s);
            }
        }
        if (root.has("eos_token_id")) b.eosTokenIds(eosField(root.get("eos_token_id"), source));
        if (root.has("pad_token_id")) b.padTokenId(nullableInt(root, "pad_token_id", source));
        if (root.has("bos_token_id")) b.bosTokenId(nullableInt(root, "bos_token_id", source));
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new ConfigException(source + ": " + e.getMessage());
        }
    }

    private static boolean has(JsonNode root, String key) {
        JsonNode v = root.get(key);
        return v != null && !v.isNull();
    }

    private static int intField(JsonNode root, String key, String source) {
        JsonNode v = root.get(key);
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new ConfigException(source + ": '" + key + "' must be an integer, got " + v);
        }
        return v.asInt();
    }

    private static Integer nullableInt(JsonNode root, String key, String source) {
        JsonNode v = root.get(key);
        return v == null || v.isNull() ? null : intField(root, key, source);
    }

    private static double numField(JsonNode root, String key, String source) {
        JsonNode v = root.get(key);
        if (!v.isNumber()) {
            throw new ConfigException(source + ": '" + key + "' must be a number, got " + v);
        }
        return v.asDouble();
    }

    private static boolean boolField(JsonNode root, String key, String source) {
        JsonNode v = root.get(key);
        if (!v.isBoolean()) {
            throw new ConfigException(source + ": '" + key + "' must be true or false, got " + v);
        }
        return v.asBoolean();
    }

    private static EarlyStopping earlyStoppingField(JsonNode v, String source) {
        if (v.isBoolean()) {
            return v.asBoolean() ? EarlyStopping.EARLY : EarlyStopping.HEURISTIC;
        }
        if (v.isTextual() && v.asText().equals("never")) {
            return EarlyStopping.NEVER;
        }
        throw new ConfigException(source + ": 'early_stopping' must be true, false or \"never\", got " + v);
    }

    private static List<Integer> eosField(JsonNode v, String source) {
        if (v.isNull()) {
            return List.of();
        }
        if (v.isIntegralNumber() && v.canConvertToInt()) {
            return List.of(v.asInt());
        }
        if (v.isArray()) {
            List<Integer> ids = new ArrayList<>();
            for (JsonNode e : v) {
                if (!e.isIntegralNumber() || !e.canConvertToInt()) {
                    throw new ConfigException(source + ": 'eos_token_id' must be an id or a list of ids, got " + v);
                }
                ids.add(e.asInt());
            }
            return ids;
        }
        throw new ConfigException(source + ": 'eos_token_id' must be an id or a list of ids, got " + v);
    }

    /** Mutable builder for {@link GenerationConfig}; {@link #build()} validates. */
    public static final class Builder {
        private int maxLength;
        private Integer maxNewTokens;
        private int minLength;
        private Integer minNewTokens;
        private boolean doSample;
        private int numBeams;
        private int numReturnSequences;
        private double temperature;
        private int topK;
        private double topP;
        private double repetitionPenalty;
        private double lengthPenalty;
        private int noRepeatNgramSize;
        private EarlyStopping earlyStopping;
        private Long seed;
        private List<Integer> eosTokenIds;
        private Integer padTokenId;
        private Integer bosTokenId;

        private Builder(GenerationConfig c) {
            maxLength = c.maxLength;
            maxNewTokens = c.maxNewTokens;
            minLength = c.minLength;
            minNewTokens = c.minNewTokens;
            doSample = c.doSample;
            numBeams = c.numBeams;
            numReturnSequences = c.numReturnSequences;
            temperature = c.temperature;
            topK = c.topK;
            topP = c.topP;
            repetitionPenalty = c.repetitionPenalty;
            lengthPenalty = c.lengthPenalty;
            noRepeatNgramSize = c.noRepeatNgramSize;
            earlyStopping = c.earlyStopping;
            seed = c.seed;
            eosTokenIds = c.eosTokenIds;
            padTokenId = c.padTokenId;
            bosTokenId = c.bosTokenId;
        }

        /** See {@link GenerationConfig#maxLength()}. */
        public Builder maxLength(int v) { maxLength = v; return this; }
        /** See {@link GenerationConfig#maxNewTokens()}. */
        public Builder maxNewTokens(Integer v) { maxNewTokens = v; return this; }
        /** See {@link GenerationConfig#minLength()}. */
        public Builder minLength(int v) { minLength = v; return this; }
        /** See {@link GenerationConfig#minNewTokens()}. */
        public Builder minNewTokens(Integer v) { minNewTokens = v; return this; }
        /** See {@link GenerationConfig#doSample()}. */
        public Builder doSample(boolean v) { doSample = v; return this; }
        /** See {@link GenerationConfig#numBeams()}. */
        public Builder numBeams(int v) { numBeams = v; return this; }
        /** See {@link GenerationConfig#numReturnSequences()}. */
        public Builder numReturnSequences(int v) { numReturnSequences = v; return this; }
        /** See {@link GenerationConfig#temperature()}. */
        public Builder temperature(double v) { temperature = v; return this; }
        /** See {@link GenerationConfig#topK()}. */
        public Builder topK(int v) { topK = v; return this; }
        /** See {@link GenerationConfig#topP()}. */
        public Builder topP(double v) { topP = v; return this; }
        /** See {@link GenerationConfig#repetitionPenalty()}. */
        public Builder repetitionPenalty(double v) { repetitionPenalty = v; return this; }
        /** See {@link GenerationConfig#lengthPenalty()}. */
        public Builder lengthPenalty(double v) { lengthPenalty = v; return this; }
        /** See {@link GenerationConfig#noRepeatNgramSize()}. */
        public Builder noRepeatNgramSize(int v) { noRepeatNgramSize = v; return this; }
        /** See {@link GenerationConfig#earlyStopping()}. */
        public Builder earlyStopping(EarlyStopping v) { earlyStopping = v; return this; }
        /** See {@link GenerationConfig#seed()}. */
        public Builder seed(Long v) { seed = v; return this; }
        /** See {@link GenerationConfig#eosTokenIds()}. */
        public Builder eosTokenIds(List<Integer> v) { eosTokenIds = v; return this; }
        /** A single eos id. */
        public Builder eosTokenId(int v) { eosTokenIds = List.of(v); return this; }
        /** See {@link GenerationConfig#padTokenId()}. */
        public Builder padTokenId(Integer v) { padTokenId = v; return this; }
        /** See {@link GenerationConfig#bosTokenId()}. */
        public Builder bosTokenId(Integer v) { bosTokenId = v; return this; }

        /** Validates and builds. */
        public GenerationConfig build() {
            return new GenerationConfig(maxLength, maxNewTokens, minLength, minNewTokens, doSample, numBeams,
                    numReturnSequences, temperature, topK, topP, repetitionPenalty, lengthPenalty,
                    noRepeatNgramSize, earlyStopping, seed, eosTokenIds, padTokenId, bosTokenId);
        }
    }
}
