package org.blipjava.checkpoint;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A checkpoint's tensors by name, remembering which ones a model took, so that a model can
 * report missing keys (when it asks for one that is absent) and unexpected keys (those it never
 * took) with their names.
 */
public final class StateDict {
    private final String source;
    private final Map<String, TensorData> tensors;
    private final Set<String> taken = ConcurrentHashMap.newKeySet();

    /**
     * @param source  what the tensors came from (a file or directory), named in errors
     * @param tensors tensors by checkpoint key
     */
    public StateDict(String source, Map<String, TensorData> tensors) {
        this.source = source;
        this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }

    public String source() {
        return source;
    }

    /** All tensors by name. */
    public Map<String, TensorData> tensors() {
        return tensors;
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** Takes a tensor, checking its shape when {@code expectedShape} is given (null: any shape). */
    public TensorData take(String name, long... expectedShape) {
        TensorData t = tensors.get(name);
        if (t == null) {
            throw new CheckpointException(source + ": missing key '" + name + "'");
        }
        if (expectedShape != null && expectedShape.length > 0
                && !java.util.Arrays.equals(t.shape(), expectedShape)) {
            throw new CheckpointException(source + ": key '" + name + "' has shape "
                    + java.util.Arrays.toString(t.shape()) + " but the config needs "
                    + java.util.Arrays.toString(expectedShape));
        }
        taken.add(name);
        return t;
    }

    /**
     * Takes a weight that may be saved under several tied names, such as
     * {@code cls.predictions.bias} and its alias {@code cls.predictions.decoder.bias}:
     * {@code save_pretrained} writes only one of them to safetensors, while a
     * {@code pytorch_model.bin} holds both (sharing storage). Returns {@code primary} when present,
     * otherwise the first alias present, and marks every present name as taken.
     *
     * @throws CheckpointException when none of the names is present, or when two present names
     *                             hold different values (the checkpoint is not tied after all)
     */
    public TensorData takeTied(String primary, String... aliases) {
        TensorData chosen = tensors.get(primary);
        String chosenName = primary;
        for (String alias : aliases) {
            TensorData t = tensors.get(alias);
            if (t == null) {
                continue;
            }
            if (chosen == null) {
                chosen = t;
                chosenName = alias;
            } else if (t.dtype() != chosen.dtype() || !java.util.Arrays.equals(t.shape(), chosen.shape())
                    || t.bytes().mismatch(chosen.bytes()) != -1) {
                throw new CheckpointException(source + ": '" + alias + "' should be tied to '" + chosenName
                        + "' but holds different values; this checkpoint does not tie them");
            }
        }
        if (chosen == null) {
            throw new CheckpointException(source + ": missing key '" + primary + "'"
                    + (aliases.length == 0 ? "" : " (nor its tied aliases " + java.util.Arrays.toString(aliases) + ")"));
        }
        if (tensors.containsKey(primary)) {
            taken.add(primary);
        }
        for (String alias : aliases) {
            if (tensors.containsKey(alias)) {
                taken.add(alias);
            }
        }
        return chosen;
    }

    /** Takes a tensor as float32 values (widening F16/BF16), checking the shape when given. */
    public float[] floats(String name, long... expectedShape) {
        return take(name, expectedShape).toFloatArray();
    }

    /** Marks keys the model deliberately ignores (for example buffers such as position_ids). */
    public void ignore(String name) {
        if (tensors.containsKey(name)) {
            taken.add(name);
        }
    }

    /** Keys present but never taken or ignored, sorted. */
    public List<String> untaken() {
        Set<String> out = new TreeSet<>(tensors.keySet());
        out.removeAll(taken);
        return List.copyOf(out);
    }

    /** Throws naming every key the model did not use. */
    public void requireAllTaken() {
        List<String> rest = untaken();
        if (!rest.isEmpty()) {
            throw new CheckpointException(source + ": unexpected keys " + rest
                    + "; is this checkpoint for another BLIP architecture?");
        }
    }
}
