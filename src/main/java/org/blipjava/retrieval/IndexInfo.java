package org.blipjava.retrieval;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import org.blipjava.tasks.ImageTextModel;
import org.blipjava.tasks.TaskException;

/**
 * What an index was built with, stored in every Lucene commit's user data so that a query is
 * only ever compared with vectors from the same model.
 *
 * @param modelId   the model as {@link #modelId(String)} normalizes it: a Hub id, or the absolute
 *                  path of a model directory
 * @param dimension length of the stored embeddings
 * @param itmCache  whether the index has an {@link ItmStateCache} of vision states for ITM
 *                  re-ranking (entries may still be missing or stale; each is checked when read)
 */
public record IndexInfo(String modelId, int dimension, boolean itmCache) {
    static final String KEY_FORMAT = "blip.index.format";
    static final String KEY_MODEL = "blip.model";
    static final String KEY_DIMENSION = "blip.dimension";
    /** Absent in indexes written before the cache existed, which read as having none. */
    static final String KEY_ITM_CACHE = "blip.itm_cache";
    /** Bumped when the document layout changes; older indexes are refused with a rebuild hint. */
    static final String FORMAT = "1";

    public IndexInfo {
        Objects.requireNonNull(modelId, "modelId");
        if (modelId.isBlank()) {
            throw new IllegalArgumentException("index model id must not be blank");
        }
        if (dimension < 1) {
            throw new IllegalArgumentException("index embedding dimension must be positive, got " + dimension);
        }
    }

    /** An index without an ITM state cache. */
    public IndexInfo(String modelId, int dimension) {
        this(modelId, dimension, false);
    }

    /** This info with the ITM state cache on or off. */
    public IndexInfo withItmCache(boolean on) {
        return new IndexInfo(modelId, dimension, on);
    }

    /**
     * The id under which a model argument is recorded: an existing directory becomes its absolute
     * normalized path (so the same model given by another relative path still matches), anything
     * else is taken as a Hub id as given.
     */
    public static String modelId(String modelArgument) {
        Objects.requireNonNull(modelArgument, "modelArgument");
        try {
            Path p = Path.of(modelArgument);
            if (Files.isDirectory(p)) {
                return p.toAbsolutePath().normalize().toString();
            }
        } catch (InvalidPathException e) {
            // Not a path on this system: a Hub id.
        }
        return modelArgument;
    }

    /**
     * The info of an index built with this loaded model.
     *
     * @param modelArgument the model as the user named it (see {@link #modelId(String)})
     * @throws org.blipjava.tasks.TaskException when the model makes no embeddings (a captioning or VQA head)
     */
    public static IndexInfo forModel(String modelArgument, ImageTextModel model) {
        if (!model.embeds()) {
            throw new TaskException(modelArgument + " is a " + model.architecture() + " model and makes no image "
                    + "embeddings; index with a BlipForImageTextRetrieval checkpoint such as "
                    + "Salesforce/blip-itm-base-coco, a BlipModel, CLIP or FLAVA checkpoint");
        }
        return new IndexInfo(modelId(modelArgument), model.embeddingDimension());
    }

    Map<String, String> toUserData() {
        return Map.of(KEY_FORMAT, FORMAT, KEY_MODEL, modelId, KEY_DIMENSION, Integer.toString(dimension),
                KEY_ITM_CACHE, Boolean.toString(itmCache));
    }

    /** Reads the info back from commit user data; {@code where} names the index in errors. */
    static IndexInfo fromUserData(Map<String, String> data, Path where) {
        String format = data.get(KEY_FORMAT);
        String model = data.get(KEY_MODEL);
        String dim = data.get(KEY_DIMENSION);
        if (format == null || model == null || dim == null) {
            throw new IndexException(where + " is a Lucene index but not one written by 'blip index' "
                    + "(its commit has no model id or embedding size); use a new --index directory");
        }
        if (!FORMAT.equals(format)) {
            throw new IndexException(where + " was written in index format " + format + ", this version reads format "
                    + FORMAT + "; rebuild it with 'blip index' into a new directory");
        }
        try {
            return new IndexInfo(model, Integer.parseInt(dim), Boolean.parseBoolean(data.get(KEY_ITM_CACHE)));
        } catch (IllegalArgumentException e) {
            throw new IndexException(where + ": bad embedding size '" + dim + "' in the index metadata; rebuild the index");
        }
    }

    /**
     * Refuses a model other than the one the index was built with.
     *
     * @throws IndexException naming both models and what to do
     */
    public void requireSameModel(String otherModelId, int otherDimension, Path where) {
        if (!modelId.equals(otherModelId)) {
            throw new IndexException(where + " was built with model " + modelId + ", not " + otherModelId
                    + "; its vectors are not comparable with that model's, so query it with --model " + modelId
                    + " (or leave --model out), or build a new index");
        }
        if (dimension != otherDimension) {
            throw new IndexException(where + " holds " + dimension + "-dimensional embeddings but model "
                    + otherModelId + " makes " + otherDimension + "-dimensional ones; build a new index");
        }
    }
}
