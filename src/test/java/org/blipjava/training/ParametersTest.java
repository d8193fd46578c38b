package org.blipjava.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.blipjava.checkpoint.DType;
import org.blipjava.checkpoint.Checkpoints;
import org.blipjava.checkpoint.LoadedWeights;
import org.blipjava.checkpoint.StateDict;
import org.blipjava.checkpoint.TensorData;
import org.blipjava.testing.Fixtures;
import org.junit.jupiter.api.Test;

/** Loading parameters: names as checkpoint keys, tied aliases, skipped buffers. */
class ParametersTest {
    private static TensorData f32(String name, float[] v, long... shape) {
        return new TensorData(name, DType.F32, shape, MemorySegment.ofArray(v));
    }

    @Test
    void everyFloatTensorOfEachFixtureModelIsAParameterUnderItsKey() throws IOException {
        for (Fixtures.FixtureSet set : Fixtures.sets(Fixtures.Kind.BLIP)) {
            for (String model : new String[] {"tiny-caption", "tiny-vqa", "tiny-itm", "tiny-contrastive"}) {
                Path dir = set.model(model);
                Parameters ps = Parameters.load(dir);
                Set<String> keys = new TreeSet<>();
                // The weights in whichever format the set ships them.
                try (LoadedWeights f = Checkpoints.open(dir)) {
                    for (var e : f.stateDict().tensors().entrySet()) {
                        if (e.getValue().dtype() == DType.F32) {
                            keys.add(e.getKey());
                            assertThat(Arrays.equals(ps.get(e.getKey()).value(), e.getValue().toFloatArray()))
                                    .as("%s %s holds the checkpoint's values", model, e.getKey()).isTrue();
                        }
                    }
                }
                assertThat(ps.names()).as("%s parameter names", model).containsAll(keys);
                for (Parameter p : ps.unique()) {
                    assertThat(Arrays.equals(p.grad(), new float[p.size()])).as("%s fresh gradient is zero", p.name())
                            .isTrue();
                }
            }
        }
    }

    @Test
    void tiedLmHeadWeightsShareOneParameterAndBuffersAreSkipped() {
        Map<String, TensorData> m = new LinkedHashMap<>();
        m.put("text_decoder.bert.embeddings.word_embeddings.weight", f32("w", new float[] {1, 2, 3, 4}, 2, 2));
        m.put("text_decoder.cls.predictions.transform.dense.weight", f32("t", new float[] {1, 0, 0, 1}, 2, 2));
        m.put("text_decoder.cls.predictions.bias", f32("b", new float[] {5, 6}, 2));
        m.put("text_decoder.cls.predictions.decoder.bias", f32("db", new float[] {5, 6}, 2));
        m.put("text_decoder.bert.embeddings.position_ids",
                new TensorData("p", DType.I64, new long[] {1, 2}, MemorySegment.ofArray(new long[] {0, 1})));
        Parameters ps = Parameters.fromStateDict(new StateDict("test", m));
        assertThat(ps.get("text_decoder.cls.predictions.decoder.bias"))
                .isSameAs(ps.get("text_decoder.cls.predictions.bias"));
        assertThat(ps.get("text_decoder.cls.predictions.decoder.weight"))
                .as("a decoder weight deduplicated on save is the word embedding table")
                .isSameAs(ps.get("text_decoder.bert.embeddings.word_embeddings.weight"));
        assertThat(ps.contains("text_decoder.bert.embeddings.position_ids")).isFalse();
        assertThat(ps.unique()).hasSize(3);
        assertThat(ps.names()).hasSize(5);
        assertThatThrownBy(() -> ps.get("text_decoder.nope")).hasMessageContaining("text_decoder.nope")
                .hasMessageContaining("test");
    }

    @Test
    void extraParametersJoinWithoutShadowingTheModel() {
        Parameter w = new Parameter("w", new float[] {1, 2}, 2);
        Parameters model = Parameters.of("model", java.util.List.of(w));
        Parameter temp = new Parameter("temp", new float[] {0.07f});
        Parameters all = model.with(java.util.List.of(temp));
        assertThat(all.unique()).containsExactly(w, temp);
        assertThat(model.names()).containsExactly("w");
        assertThat(model.with(java.util.List.of())).isSameAs(model);
        assertThatThrownBy(() -> model.with(java.util.List.of(new Parameter("w", new float[] {0}))))
                .hasMessageContaining("'w'");
    }
}
