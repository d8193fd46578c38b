package org.blipjava.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reading {@code preprocessor_config.json} fields for the CLIP and FLAVA processors and for
 * {@link ImageProcessor#fromPretrained}. Every error is an {@link ImageException} that names the
 * file, the key and what was found.
 */
final class PreprocessorJson {
    static final String FILE_NAME = "preprocessor_config.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private PreprocessorJson() {}

    /** {@code dirOrFile}'s preprocessor_config.json (a directory is taken to hold one). */
    static Path locate(Path dirOrFile) {
        return Files.isDirectory(dirOrFile) ? dirOrFile.resolve(FILE_NAME) : dirOrFile;
    }

    /** Parses the file to a JSON object. */
    static JsonNode readObject(Path json) {
        if (!Files.isRegularFile(json)) {
            throw new ImageException(json + ": not found; a model directory needs " + FILE_NAME
                    + " to say how its images are preprocessed");
        }
        JsonNode root;
        try {
            root = JSON.readTree(json.toFile());
        } catch (IOException e) {
            throw new ImageException(json + ": not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new ImageException(json + ": not a JSON object");
        }
        return root;
    }

    /** Absent or null counts as unset. */
    static boolean present(JsonNode root, String key) {
        JsonNode v = root.get(key);
        return v != null && !v.isNull();
    }

    static boolean bool(JsonNode root, String key, boolean dflt, String source) {
        if (!present(root, key)) {
            return dflt;
        }
        JsonNode v = root.get(key);
        if (!v.isBoolean()) {
            throw new ImageException(source + ": key '" + key + "' must be true or false, got " + v);
        }
        return v.asBoolean();
    }

    static double number(JsonNode root, String key, double dflt, String source) {
        if (!present(root, key)) {
            return dflt;
        }
        JsonNode v = root.get(key);
        if (!v.isNumber()) {
            throw new ImageException(source + ": key '" + key + "' must be a number, got " + v);
        }
        return v.asDouble();
    }

    /** A positive integer (JSON integral number). */
    static int positive(JsonNode v, String source, String key) {
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() <= 0) {
            throw new ImageException(source + ": key '" + key + "' must be a positive integer, got " + v);
        }
        return v.asInt();
    }

    /** A list of three numbers, or one number for all channels (transformers accepts both). */
    static double[] triple(JsonNode root, String key, double[] dflt, String source, boolean nonZero) {
        if (!present(root, key)) {
            return dflt.clone();
        }
        JsonNode v = root.get(key);
        double[] out;
        if (v.isNumber()) {
            out = new double[] {v.asDouble(), v.asDouble(), v.asDouble()};
        } else {
            if (!v.isArray() || v.size() != 3) {
                throw new ImageException(source + ": key '" + key + "' must be 3 numbers (R, G, B), got " + v);
            }
            out = new double[3];
            for (int i = 0; i < 3; i++) {
                if (!v.get(i).isNumber()) {
                    throw new ImageException(source + ": key '" + key + "' must be 3 numbers (R, G, B), got " + v);
                }
                out[i] = v.get(i).asDouble();
            }
        }
        if (nonZero && (out[0] == 0 || out[1] == 0 || out[2] == 0)) {
            throw new ImageException(source + ": key '" + key + "' must not contain 0 (it divides), got " + v);
        }
        return out;
    }

    /** A Pillow filter code that {@link ResampleFilter} reproduces. */
    static ResampleFilter resample(JsonNode root, String source) {
        if (!present(root, "resample")) {
            return ResampleFilter.BICUBIC;
        }
        JsonNode v = root.get("resample");
        if (!v.isIntegralNumber()) {
            throw new ImageException(source + ": key 'resample' must be a PIL filter code (3 = bicubic), got " + v);
        }
        try {
            return ResampleFilter.fromPilCode(v.asInt());
        } catch (IllegalArgumentException e) {
            throw new ImageException(source + ": key 'resample': " + e.getMessage());
        }
    }
}
