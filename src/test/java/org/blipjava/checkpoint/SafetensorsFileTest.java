package org.blipjava.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.blipjava.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SafetensorsFileTest {
    @Test
    void readsExpectedTensorsOfEveryFixtureSet() throws Exception {
        for (Fixtures.FixtureSet set : Fixtures.sets(Fixtures.Kind.BLIP)) {
            try (SafetensorsFile f = set.openTensors()) {
                assertThat(f.tensors()).isNotEmpty();
                for (TensorData t : f.tensors().values()) {
                    assertThat(t.toFloatArray()).hasSize((int) t.numel());
                }
            }
        }
    }

    @Test
    void refusesTruncatedFile(@TempDir Path tmp) throws Exception {
        Path src = Fixtures.sets(Fixtures.Kind.BLIP).getFirst().dir().resolve("expected.safetensors");
        byte[] all = Files.readAllBytes(src);
        Path cut = tmp.resolve("cut.safetensors");
        Files.write(cut, java.util.Arrays.copyOf(all, all.length / 2));
        assertThatThrownBy(() -> SafetensorsFile.open(cut))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("cut.safetensors");
    }

    /** A safetensors file with this header and {@code dataBytes} data bytes counting 0, 1, 2, ... */
    private static Path file(Path dir, String header, int dataBytes) throws Exception {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        for (int i = 0; i < dataBytes; i++) {
            b.put((byte) i);
        }
        return Files.write(dir.resolve("weights.safetensors"), b.array());
    }

    @Test
    void readsTensorsWhoseOffsetsAreNotInHeaderOrder(@TempDir Path tmp) throws Exception {
        Path f = file(tmp, """
                {"__metadata__": {"format": "pt"},
                 "b": {"dtype": "U8", "shape": [2], "data_offsets": [4, 6]},
                 "a": {"dtype": "U8", "shape": [2, 2], "data_offsets": [0, 4]},
                 "empty": {"dtype": "F32", "shape": [0, 3], "data_offsets": [6, 6]}}""", 6);
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertThat(st.tensors().keySet()).containsExactly("b", "a", "empty");
            assertThat(st.tensors().get("b").bytes().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE))
                    .containsExactly(4, 5);
            assertThat(st.tensors().get("a").shape()).containsExactly(2, 2);
            assertThat(st.metadata()).containsEntry("format", "pt");
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        // Two tensors over the same bytes: the safetensors library refuses them (InvalidOffset).
        "overlap|{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]},"
            + " \"b\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [8, 24]}}|24"
            + "|tensor 'b' has data_offsets [8, 24] overlapping tensor 'a' [0, 16]",
        "same bytes|{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]},"
            + " \"b\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}|16"
            + "|overlapping tensor 'a' [0, 16]",
        "gap|{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]},"
            + " \"b\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [20, 36]}}|36"
            + "|tensor 'b' starts at data byte 20 but the tensors before it end at 16; safetensors data must be contiguous",
        "trailing bytes|{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}|20"
            + "|the tensors end at data byte 16 but the file holds 20 data bytes",
        "past the end|{\"a\": {\"dtype\": \"F32\", \"shape\": [250], \"data_offsets\": [0, 1000]}}|16"
            + "|tensor 'a' has data_offsets [0, 1000] past the end of the data (16 bytes); the file is truncated",
        "size mismatch|{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 16]}}|16"
            + "|tensor 'a' has data_offsets [0, 16] holding 16 bytes, but its shape [3] of F32 needs 12",
        // 2^62 elements of 4 bytes: the byte size overflows (the library's ValidationOverflow).
        "huge shape|{\"huge\": {\"dtype\": \"F32\", \"shape\": [4611686018427387904], \"data_offsets\": [0, 16]}}|16"
            + "|tensor 'huge' has shape [4611686018427387904] whose size in bytes overflows a 64-bit integer",
        "huge numel|{\"huge\": {\"dtype\": \"U8\", \"shape\": [4294967296, 4294967296], \"data_offsets\": [0, 16]}}|16"
            + "|tensor 'huge' has shape [4294967296, 4294967296] whose size in bytes overflows",
        "fractional dimension|{\"a\": {\"dtype\": \"U8\", \"shape\": [1.5], \"data_offsets\": [0, 1]}}|1"
            + "|tensor 'a' has dimension 1.5; dimensions must be non-negative integers",
        "negative offset|{\"a\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [-1, 0]}}|1"
            + "|tensor 'a' has data_offsets [-1,0]; they must be two non-negative integers",
        "no shape|{\"a\": {\"dtype\": \"U8\", \"data_offsets\": [0, 1]}}|1|tensor 'a' lacks a shape",
        "metadata not strings|{\"__metadata__\": {\"format\": 1}}|0"
            + "|safetensors __metadata__ value 'format' must be a string, got 1"
    })
    void refusesHeadersTheSafetensorsLibraryRefuses(String what, String header, int dataBytes, String message,
            @TempDir Path tmp) throws Exception {
        Path f = file(tmp, header, dataBytes);
        assertThatThrownBy(() -> SafetensorsFile.open(f))
                .isInstanceOf(CheckpointException.class)
                .hasMessageStartingWith(f + ": ")
                .hasMessageContaining(message)
                .hasMessageNotContaining("long overflow");
    }
}
