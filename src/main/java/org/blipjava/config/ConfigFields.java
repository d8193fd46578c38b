package org.blipjava.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Typed access to one object of a config.json: absent or null keys take the reference's default,
 * and a value of the wrong type or out of range is a {@link ConfigException} naming the file, the
 * section and the key, so that a bad config fails when it is read instead of as an arithmetic or
 * index error deep inside a model.
 *
 * @param node   the JSON object
 * @param source the file and section, e.g. {@code ".../config.json text_config"}
 */
record ConfigFields(JsonNode node, String source) {

    /** Reads a config.json that must hold a JSON object; errors name the file. */
    static JsonNode readObject(Path configJson) {
        if (Files.isDirectory(configJson)) {
            throw new ConfigException(configJson + ": is a directory; expected a model's config.json");
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(configJson.toFile());
        } catch (NoSuchFileException | java.io.FileNotFoundException e) {
            throw new ConfigException(configJson + ": not found; a model directory needs config.json");
        } catch (IOException e) {
            throw new ConfigException(configJson + ": not valid JSON: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new ConfigException(configJson + ": not a JSON object");
        }
        return root;
    }

    int integer(String name, int dflt) {
        JsonNode v = node.get(name);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isNumber() || !v.canConvertToInt() || v.asDouble() != Math.rint(v.asDouble())) {
            throw new ConfigException(source + ": field '" + name + "' must be an integer, got " + v);
        }
        return v.asInt();
    }

    /** A size or count that must be at least 1. */
    int positive(String name, int dflt) {
        int v = integer(name, dflt);
        if (v < 1) {
            throw new ConfigException(source + ": field '" + name + "' must be at least 1, got " + v);
        }
        return v;
    }

    /** A count that may be 0 (e.g. a tower without layers). */
    int nonNegative(String name, int dflt) {
        int v = integer(name, dflt);
        if (v < 0) {
            throw new ConfigException(source + ": field '" + name + "' must not be negative, got " + v);
        }
        return v;
    }

    /** A token id the model looks up in its embedding table: from 0 to {@code vocabSize - 1}. */
    int tokenId(String name, int dflt, int vocabSize) {
        int v = integer(name, dflt);
        if (v < 0 || v >= vocabSize) {
            throw new ConfigException(source + ": field '" + name + "' is " + v + ", outside the vocabulary (vocab_size "
                    + vocabSize + ")");
        }
        return v;
    }

    double number(String name, double dflt) {
        JsonNode v = node.get(name);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isNumber()) {
            throw new ConfigException(source + ": field '" + name + "' must be a number, got " + v);
        }
        return v.asDouble();
    }

    String text(String name, String dflt) {
        JsonNode v = node.get(name);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isTextual()) {
            throw new ConfigException(source + ": field '" + name + "' must be a string, got " + v);
        }
        return v.asText();
    }

    boolean bool(String name, boolean dflt) {
        JsonNode v = node.get(name);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isBoolean()) {
            throw new ConfigException(source + ": field '" + name + "' must be true or false, got " + v);
        }
        return v.asBoolean();
    }

    /** Attention splits the width into equal heads. */
    void requireHeadsDivide(int hidden, int heads) {
        if (hidden % heads != 0) {
            throw new ConfigException(source + ": hidden_size " + hidden + " is not a multiple of num_attention_heads "
                    + heads);
        }
    }

    /** A square image must hold at least one patch. */
    void requirePatchFits(int imageSize, int patchSize) {
        if (patchSize > imageSize) {
            throw new ConfigException(source + ": patch_size " + patchSize + " is larger than image_size " + imageSize
                    + ", which leaves no patch");
        }
    }
}
