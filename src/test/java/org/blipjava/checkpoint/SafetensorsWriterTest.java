package org.blipjava.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.blipjava.testing.Fixtures;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsWriterTest {
    @Test
    void writtenTensorsReadBackWithMetadataAndAlignedHeader(@TempDir Path tmp) throws Exception {
        float[] a = {1.5f, -2f, Float.MIN_VALUE, Float.MAX_VALUE, 0f, -0f};
        long[] longs = {7, -9};
        MemorySegment ls = MemorySegment.ofArray(new byte[16]);
        ls.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN).putLong(longs[0]).putLong(longs[1]);
        TensorData ids = new TensorData("ids", DType.I64, new long[] {2}, ls);
        Path file = tmp.resolve("w.safetensors");
        SafetensorsWriter.write(file, List.of(SafetensorsWriter.f32("b.weight", new int[] {2, 3}, a), ids,
                SafetensorsWriter.f32("a.scalar", new int[] {}, new float[] {3f})), SafetensorsWriter.PT_METADATA);

        byte[] raw = Files.readAllBytes(file);
        long headerLen = ByteBuffer.wrap(raw, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertThat(headerLen % 8).as("header padded to 8 bytes").isZero();
        String header = new String(raw, 8, (int) headerLen, StandardCharsets.UTF_8);
        assertThat(header).startsWith("{\"__metadata__\":{\"format\":\"pt\"}");
        // Wider dtypes first, then names, as the reference lays tensors out.
        assertThat(header.indexOf("\"ids\"")).isLessThan(header.indexOf("\"a.scalar\""));
        assertThat(header.indexOf("\"a.scalar\"")).isLessThan(header.indexOf("\"b.weight\""));

        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.metadata()).isEqualTo(Map.of("format", "pt"));
            assertThat(f.tensors().get("b.weight").shape()).containsExactly(2, 3);
            assertThat(f.tensors().get("b.weight").toFloatArray()).containsExactly(a);
            assertThat(f.tensors().get("a.scalar").shape()).isEmpty();
            assertThat(f.tensors().get("a.scalar").toFloatArray()).containsExactly(3f);
            assertThat(f.tensors().get("ids").toFloatArray()).containsExactly(7f, -9f);
        }
        try (var files = Files.list(tmp)) {
            assertThat(files.map(p -> p.getFileName().toString()).toList()).containsExactly("w.safetensors");
        }
    }

    @Test
    void rewritingAFixtureModelKeepsEveryTensorBitForBit(@TempDir Path tmp) throws Exception {
        // Any fixture model shipped as safetensors (a set may ship some models as pytorch_model.bin only).
        Path src = null;
        for (Fixtures.FixtureSet set : Fixtures.sets(Fixtures.Kind.BLIP)) {
            try (var models = Files.list(set.dir().resolve("models"))) {
                src = models.sorted().map(d -> d.resolve("model.safetensors")).filter(Files::isRegularFile)
                        .findFirst().orElse(null);
            }
            if (src != null) {
                break;
            }
        }
        Assumptions.assumeTrue(src != null, "no fixture model under " + Fixtures.root() + " has model.safetensors");
        Path out = tmp.resolve("copy.safetensors");
        try (SafetensorsFile in = SafetensorsFile.open(src)) {
            SafetensorsWriter.write(out, in.tensors().values(), in.metadata());
            try (SafetensorsFile back = SafetensorsFile.open(out)) {
                assertThat(back.tensors().keySet()).containsExactlyInAnyOrderElementsOf(in.tensors().keySet());
                assertThat(back.metadata()).isEqualTo(in.metadata());
                for (TensorData t : in.tensors().values()) {
                    TensorData b = back.tensors().get(t.name());
                    assertThat(b.dtype()).isEqualTo(t.dtype());
                    assertThat(b.shape()).isEqualTo(t.shape());
                    assertThat(b.bytes().mismatch(t.bytes())).as(t.name()).isEqualTo(-1L);
                }
            }
        }
    }

    @Test
    void refusesDuplicateNamesAndWrongShapes(@TempDir Path tmp) {
        TensorData x = SafetensorsWriter.f32("x", new int[] {1}, new float[] {1});
        assertThatThrownBy(() -> SafetensorsWriter.write(tmp.resolve("d.safetensors"), List.of(x, x), null))
                .hasMessageContaining("'x'");
        assertThatThrownBy(() -> SafetensorsWriter.f32("y", new int[] {2, 2}, new float[3]))
                .hasMessageContaining("'y'");
        assertThat(tmp.resolve("d.safetensors")).doesNotExist();
    }
}
