package org.blipjava.hub;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * Which files of a repository a caller needs.
 *
 * @param required files that must exist; a missing one is an error
 * @param optional files used when present; a 404 for one is remembered and skipped
 * @param weights whether to fetch the model weights too, in the order of preference
 *     {@code model.safetensors}, {@code model.safetensors.index.json} and its shards,
 *     {@code pytorch_model.bin}, {@code pytorch_model.bin.index.json} and its shards
 */
public record ModelFiles(List<String> required, List<String> optional, boolean weights) {
    /** The single-file safetensors weights. */
    public static final String SAFETENSORS = "model.safetensors";
    /** The index of sharded safetensors weights. */
    public static final String SAFETENSORS_INDEX = "model.safetensors.index.json";
    /** The single-file PyTorch weights. */
    public static final String PYTORCH = "pytorch_model.bin";
    /** The index of sharded PyTorch weights. */
    public static final String PYTORCH_INDEX = "pytorch_model.bin.index.json";

    /** What a BLIP model needs: configs, the WordPiece tokenizer and the weights. */
    public static final ModelFiles BLIP = new ModelFiles(
            List.of("config.json", "preprocessor_config.json", "vocab.txt"),
            List.of("tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
                    "tokenizer.json", "generation_config.json"),
            true);

    /** What a CLIP model needs: configs, the byte-level BPE files and the weights. */
    public static final ModelFiles CLIP = new ModelFiles(
            List.of("config.json", "preprocessor_config.json", "vocab.json", "merges.txt"),
            List.of("tokenizer_config.json", "special_tokens_map.json", "tokenizer.json"),
            true);

    /** What a FLAVA model needs: configs, the WordPiece vocabulary and the weights. */
    public static final ModelFiles FLAVA = new ModelFiles(
            List.of("config.json", "preprocessor_config.json", "vocab.txt"),
            List.of("tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "tokenizer.json"),
            true);

    /** config.json alone: enough to tell which family a repository holds. */
    public static final ModelFiles CONFIG = new ModelFiles(List.of("config.json"), List.of(), false);

    public ModelFiles {
        required = checked(required, "required");
        optional = checked(optional, "optional");
        if (required.isEmpty() && optional.isEmpty() && !weights) {
            throw new IllegalArgumentException("ModelFiles asks for no file at all; list at least one file or the weights");
        }
    }

    /** Exactly these files, all required, and no weights unless listed. */
    public static ModelFiles of(List<String> files) {
        return new ModelFiles(files, List.of(), false);
    }

    static List<String> checked(List<String> files, String what) {
        if (files == null) {
            throw new IllegalArgumentException(what + " file list is null; pass an empty list instead");
        }
        List<String> out = new ArrayList<>(new LinkedHashSet<>(files));
        for (String f : out) {
            checkRepoPath(f);
        }
        return List.copyOf(out);
    }

    /**
     * Rejects paths that could leave the snapshot folder, since they become file names in the cache
     * (including shard names read from a downloaded index).
     */
    static void checkRepoPath(String f) {
        if (f == null || f.isBlank() || f.startsWith("/") || f.contains("\\") || f.contains(":")
                || f.endsWith("/")) {
            throw new IllegalArgumentException("invalid file name in repository: '" + f
                    + "'; use a relative path such as config.json");
        }
        for (String part : f.split("/")) {
            if (part.isEmpty() || part.equals(".") || part.equals("..")) {
                throw new IllegalArgumentException("invalid file name in repository: '" + f
                        + "'; it must not contain empty, '.' or '..' segments");
            }
        }
    }
}
