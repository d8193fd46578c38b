package org.blipjava.training;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.blipjava.checkpoint.Checkpoints;
import org.blipjava.checkpoint.DType;
import org.blipjava.checkpoint.LoadedWeights;
import org.blipjava.checkpoint.StateDict;
import org.blipjava.checkpoint.TensorData;

/**
 * A model's trainable weights by checkpoint key, each with a gradient.
 *
 * <p>Tied weights are one {@link Parameter} under several names, as in the reference: the LM
 * head's {@code cls.predictions.decoder.bias} is {@code cls.predictions.bias}, and a missing
 * {@code cls.predictions.decoder.weight} (deduplicated on save) is the word embedding table.
 * Integer buffers such as {@code position_ids} are not parameters and are skipped.
 *
 * <p>Not thread-safe: values and gradients change during training.
 */
public final class Parameters {
    private static final String DECODER_BIAS = "cls.predictions.decoder.bias";
    private static final String BIAS = "cls.predictions.bias";
    private static final String DECODER_WEIGHT = "cls.predictions.decoder.weight";
    private static final String TRANSFORM = "cls.predictions.transform.dense.weight";
    private static final String WORD_EMBEDDINGS = "bert.embeddings.word_embeddings.weight";

    private final String source;
    private final Map<String, Parameter> byName;

    private Parameters(String source, Map<String, Parameter> byName) {
        this.source = source;
        this.byName = byName;
    }

    /** Loads the weights of a model directory (or weight file) through {@link Checkpoints#open}. */
    public static Parameters load(Path modelDir) throws IOException {
        try (LoadedWeights w = Checkpoints.open(modelDir)) {
            return fromStateDict(w.stateDict());
        }
    }

    /** Copies every floating-point tensor of a state dict into a parameter. */
    public static Parameters fromStateDict(StateDict sd) {
        Map<String, Parameter> map = new LinkedHashMap<>();
        List<String> names = new ArrayList<>(sd.tensors().keySet());
        Collections.sort(names);
        for (String name : names) {
            TensorData t = sd.tensors().get(name);
            if (!isFloat(t.dtype())) {
                continue;
            }
            if (name.endsWith(DECODER_BIAS)) {
                String bias = name.substring(0, name.length() - DECODER_BIAS.length()) + BIAS;
                if (sd.contains(bias)) {
                    continue; // tied: registered as an alias below
                }
            }
            map.put(name, new Parameter(name, t.toFloatArray(), t.intShape()));
        }
        for (String name : names) {
            if (name.endsWith(DECODER_BIAS)) {
                String bias = name.substring(0, name.length() - DECODER_BIAS.length()) + BIAS;
                if (map.containsKey(bias)) {
                    map.put(name, map.get(bias));
                }
            }
            if (name.endsWith(TRANSFORM)) {
                String prefix = name.substring(0, name.length() - TRANSFORM.length());
                if (!map.containsKey(prefix + DECODER_WEIGHT) && map.containsKey(prefix + WORD_EMBEDDINGS)) {
                    map.put(prefix + DECODER_WEIGHT, map.get(prefix + WORD_EMBEDDINGS));
                }
            }
        }
        return new Parameters(sd.source(), map);
    }

    /** Parameters from already built values (each under its own name), for tests and fresh models. */
    static Parameters of(String source, List<Parameter> params) {
        Map<String, Parameter> map = new LinkedHashMap<>();
        for (Parameter p : params) {
            if (map.put(p.name(), p) != null) {
                throw new IllegalArgumentException("parameter '" + p.name() + "' given twice");
            }
        }
        return new Parameters(source, map);
    }

    /**
     * These parameters plus {@code extra} (shared, not copied), for an optimizer that also trains
     * values a task owns beside the model's weights.
     *
     * @throws IllegalArgumentException when an extra name is already a parameter here
     */
    Parameters with(List<Parameter> extra) {
        if (extra.isEmpty()) {
            return this;
        }
        Map<String, Parameter> map = new LinkedHashMap<>(byName);
        for (Parameter p : extra) {
            if (map.put(p.name(), p) != null) {
                throw new IllegalArgumentException(source + " already has a parameter '" + p.name()
                        + "'; a task's own parameter must not shadow a model weight");
            }
        }
        return new Parameters(source, map);
    }

    private static boolean isFloat(DType d) {
        return d == DType.F32 || d == DType.F16 || d == DType.BF16 || d == DType.F64;
    }

    /** The parameter under a checkpoint key; the error names the key and the checkpoint. */
    public Parameter get(String name) {
        Parameter p = byName.get(name);
        if (p == null) {
            throw new IllegalArgumentException(source + ": no parameter '" + name
                    + "'; is this checkpoint for the BLIP architecture being trained?");
        }
        return p;
    }

    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    /** Every name, tied aliases included, sorted. */
    public Set<String> names() {
        return Collections.unmodifiableSet(byName.keySet());
    }

    /** Each distinct parameter once (tied names share one), in name order. */
    public List<Parameter> unique() {
        Map<Parameter, Boolean> seen = new IdentityHashMap<>();
        List<Parameter> out = new ArrayList<>();
        for (Parameter p : byName.values()) {
            if (seen.put(p, Boolean.TRUE) == null) {
                out.add(p);
            }
        }
        return out;
    }

    /** Sets every gradient to zero. */
    public void zeroGrad() {
        for (Parameter p : unique()) {
            p.zeroGrad();
        }
    }

    /** Where the weights came from. */
    public String source() {
        return source;
    }
}
