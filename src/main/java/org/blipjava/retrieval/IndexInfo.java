package org.blipjava.retrieval;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.blipjava.tasks.ImageTextModel;
import org.blipjava.tasks.TaskException;

/**
 * What an index was built with, stored in every Lucene commit's user data so that a query is
 * only ever compared with vectors from the same model.
 *
 * <p>A model is identified by its weights ({@link ModelFingerprint}), so the same model is
 * recognized wherever its folder lies: moved, renamed, or a local copy of a Hub model. The name
 * ({@code modelId}) is what {@code blip search} loads when no model is named, and what messages
 * show. Indexes written before fingerprints were recorded compare names only (and get the
 * fingerprint on their next {@code blip index} run).
 *
 * @param modelId     the model as {@link #modelId(String)} normalizes it: a Hub id, or the absolute
 *                    path of a model directory
 * @param dimension   length of the stored embeddings
 * @param itmCache    whether the index has an {@link ItmStateCache} of vision states for ITM
 *                    re-ranking (entries may still be missing or stale; each is checked when read)
 * @param fingerprint the model's {@link ModelFingerprint}, or null when unknown (an older index,
 *                    or an info made by name only)
 */
public record IndexInfo(String modelId, int dimension, boolean itmCache, String fingerprint) {
    static final String KEY_FORMAT = "blip.index.format";
    static final String KEY_MODEL = "blip.model";
    static final String KEY_DIMENSION = "blip.dimension";
    /** Absent in indexes written before the cache existed, which read as having none. */
    static final String KEY_ITM_CACHE = "blip.itm_cache";
    /** Absent in indexes written before fingerprints, which compare model names only. */
    static final String KEY_FINGERPRINT = "blip.model_fingerprint";
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

    /** An index without an ITM state cache, its model known by name only. */
    public IndexInfo(String modelId, int dimension) {
        this(modelId, dimension, false, null);
    }

    /** An index whose model is known by name only. */
    public IndexInfo(String modelId, int dimension, boolean itmCache) {
        this(modelId, dimension, itmCache, null);
    }

    /** This info with the ITM state cache on or off. */
    public IndexInfo withItmCache(boolean on) {
        return new IndexInfo(modelId, dimension, on, fingerprint);
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
     * The info of an index built with this loaded model, with the fingerprint of its weights.
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
        String fingerprint;
        try {
            fingerprint = ModelFingerprint.of(model.directory());
        } catch (IOException | RuntimeException e) {
            // The model loaded, so its weights are readable; should they not be now, compare by name.
            fingerprint = null;
        }
        return new IndexInfo(modelId(modelArgument), model.embeddingDimension(), false, fingerprint);
    }

    Map<String, String> toUserData() {
        Map<String, String> data = new HashMap<>(Map.of(KEY_FORMAT, FORMAT, KEY_MODEL, modelId,
                KEY_DIMENSION, Integer.toString(dimension), KEY_ITM_CACHE, Boolean.toString(itmCache)));
        if (fingerprint != null) {
            data.put(KEY_FINGERPRINT, fingerprint);
        }
        return data;
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
                    + FORMAT + "; rebuild it with 'blip index --rebuild'");
        }
        try {
            return new IndexInfo(model, Integer.parseInt(dim), Boolean.parseBoolean(data.get(KEY_ITM_CACHE)),
                    data.get(KEY_FINGERPRINT));
        } catch (IllegalArgumentException e) {
            throw new IndexException(where + ": bad embedding size '" + dim + "' in the index metadata; rebuild the index");
        }
    }

    /**
     * Whether {@code other} is this index's model: the same weights when both fingerprints are
     * known (whatever the names), otherwise the same name.
     */
    public boolean sameModel(IndexInfo other) {
        if (fingerprint != null && other.fingerprint != null) {
            return fingerprint.equals(other.fingerprint);
        }
        return modelId.equals(other.modelId);
    }

    /**
     * Refuses a model other than the one the index was built with.
     *
     * @throws IndexException naming both models and what to do
     */
    public void requireSameModel(IndexInfo other, Path where) {
        checkModel(other, where, false);
    }

    /**
     * Checks a model against the index's: a model of another embedding size is always refused;
     * another model of the same size is refused unless {@code acceptOther}, and then described in
     * the returned warning.
     *
     * @return null for the index's own model, else the warning to show
     * @throws IndexException naming both models and what to do
     */
    public String checkModel(IndexInfo other, Path where, boolean acceptOther) {
        if (dimension != other.dimension) {
            throw new IndexException(where + " holds " + dimension + "-dimensional embeddings but model "
                    + other.modelId + " makes " + other.dimension + "-dimensional ones; query it with --model "
                    + modelId + ", or build a new index (--rebuild replaces this one)");
        }
        if (sameModel(other)) {
            return null;
        }
        boolean changed = modelId.equals(other.modelId);
        String what = changed
                ? where + " was built with model " + modelId + ", whose weights have changed since (fingerprint "
                        + fingerprint + " then, " + other.fingerprint + " now)"
                : where + " was built with model " + modelId + ", not " + other.modelId
                        + (fingerprint == null ? "" : " (a model is recognized by its weights, wherever its folder lies)");
        if (acceptOther) {
            return "warning: " + what + "; --force-model compares their vectors anyway, which is only meaningful "
                    + "for the same weights in another form";
        }
        throw new IndexException(what + "; vectors of different models are not comparable, so query it with --model "
                + (changed ? "holding the weights it was built with" : modelId + " (or leave --model out)")
                + ", or build a new index (--rebuild replaces this one); --force-model uses the model anyway "
                + "(for the same weights in another form, e.g. converted to another file format)");
    }
}
