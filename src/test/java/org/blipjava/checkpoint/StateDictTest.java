package org.blipjava.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StateDictTest {
    private static TensorData f32(String name, float... v) {
        return new TensorData(name, DType.F32, new long[] {v.length}, MemorySegment.ofArray(TorchFiles.f32(v)));
    }

    private static StateDict dict(TensorData... ts) {
        Map<String, TensorData> m = new LinkedHashMap<>();
        for (TensorData t : ts) {
            m.put(t.name(), t);
        }
        return new StateDict("ck.bin", m);
    }

    @Test
    void takeTiedAcceptsTheAliasPresentOrAbsent() {
        StateDict both = dict(f32("p.bias", 1, 2), f32("p.decoder.bias", 1, 2), f32("other", 0));
        assertThat(both.takeTied("p.bias", "p.decoder.bias").toFloatArray()).containsExactly(1, 2);
        assertThat(both.untaken()).containsExactly("other");

        StateDict primaryOnly = dict(f32("p.bias", 3));
        assertThat(primaryOnly.takeTied("p.bias", "p.decoder.bias").toFloatArray()).containsExactly(3);
        assertThat(primaryOnly.untaken()).isEmpty();

        StateDict aliasOnly = dict(f32("p.decoder.bias", 4));
        assertThat(aliasOnly.takeTied("p.bias", "p.decoder.bias").toFloatArray()).containsExactly(4);
        assertThat(aliasOnly.untaken()).isEmpty();
    }

    @Test
    void takeTiedRefusesUntiedValuesAndMissingKeys() {
        StateDict untied = dict(f32("p.bias", 1, 2), f32("p.decoder.bias", 1, 3));
        assertThatThrownBy(() -> untied.takeTied("p.bias", "p.decoder.bias"))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("ck.bin").hasMessageContaining("p.decoder.bias").hasMessageContaining("p.bias");
        StateDict none = dict(f32("x", 1));
        assertThatThrownBy(() -> none.takeTied("p.bias", "p.decoder.bias"))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("missing key 'p.bias'");
    }
}
