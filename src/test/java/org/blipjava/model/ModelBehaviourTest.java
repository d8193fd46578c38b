package org.blipjava.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.blipjava.testing.FixtureInputs.config;
import static org.blipjava.testing.FixtureInputs.firstImages;
import static org.blipjava.testing.FixtureInputs.pixels;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.blipjava.checkpoint.CheckpointException;
import org.blipjava.checkpoint.DType;
import org.blipjava.checkpoint.Checkpoints;
import org.blipjava.checkpoint.LoadedWeights;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.checkpoint.StateDict;
import org.blipjava.checkpoint.TensorData;
import org.blipjava.config.BlipConfig;
import org.blipjava.generation.StepDecoder;
import org.blipjava.tensor.Parallel;
import org.blipjava.testing.FixtureInputs;
import org.blipjava.testing.Fixtures;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Loading errors, thread-count independence, position interpolation and decoder bounds. */
class ModelBehaviourTest {
    private Fixtures.FixtureSet set;

    @BeforeEach
    void findSet() {
        set = Fixtures.sets(Fixtures.Kind.BLIP).getFirst();
    }

    @Test
    void unexpectedAndMissingKeysAreNamed() throws IOException {
        Path dir = set.model("tiny-caption");
        BlipConfig cfg = config(dir);
        // Whichever weight file the set ships (a pytorch_model.bin also holds the tied alias
        // cls.predictions.decoder.bias, removed with the bias below so the key is really missing).
        try (LoadedWeights f = Checkpoints.open(dir); Parallel p = new Parallel(1)) {
            Map<String, TensorData> tensors = f.stateDict().tensors();
            Map<String, TensorData> extra = new LinkedHashMap<>(tensors);
            extra.put("text_encoder.stray.weight",
                    new TensorData("text_encoder.stray.weight", DType.F32, new long[] {1}, MemorySegment.ofArray(new byte[4])));
            assertThatThrownBy(() -> BlipForConditionalGeneration.load(new StateDict("extra", extra), cfg, p))
                    .isInstanceOf(CheckpointException.class).hasMessageContaining("text_encoder.stray.weight");

            Map<String, TensorData> missing = new LinkedHashMap<>(tensors);
            missing.remove("text_decoder.cls.predictions.bias");
            missing.remove("text_decoder.cls.predictions.decoder.bias");
            assertThatThrownBy(() -> BlipForConditionalGeneration.load(new StateDict("missing", missing), cfg, p))
                    .isInstanceOf(CheckpointException.class).hasMessageContaining("text_decoder.cls.predictions.bias");

            // A captioning checkpoint is not a VQA one: the text encoder is missing.
            assertThatThrownBy(() -> BlipForQuestionAnswering.load(new StateDict("caption", tensors), cfg, p))
                    .isInstanceOf(CheckpointException.class).hasMessageContaining("text_encoder.");
        }
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        Path dir = set.model("tiny-caption");
        BlipConfig cfg = config(dir);
        int size = cfg.vision().imageSize();
        var tf = set.expected().at("/caption/teacher_forced");
        int[][] ids = FixtureInputs.ints(tf.get("input_ids"));
        int[][] mask = FixtureInputs.ints(tf.get("attention_mask"));
        int n = ids.length;
        float[][] logits = new float[2][];
        float[][] hidden = new float[2][];
        try (SafetensorsFile f = set.openTensors()) {
            float[] px = pixels(f, size, firstImages(set.expected(), n));
            int[] threads = {1, 3};
            for (int i = 0; i < 2; i++) {
                try (Parallel p = new Parallel(threads[i])) {
                    BlipForConditionalGeneration m =
                            ModelFixtures.load(dir, sd -> BlipForConditionalGeneration.load(sd, cfg, p));
                    BlipVisionModel.Output vis = m.vision(px, n, size, size);
                    hidden[i] = vis.lastHiddenState();
                    logits[i] = m.teacherForcedLogits(vis, ids, mask);
                }
            }
        }
        // Arrays.equals rather than containsExactly: the arrays are large and a failure message would be huge.
        assertThat(java.util.Arrays.equals(hidden[1], hidden[0])).as("vision output identical for 1 and 3 threads").isTrue();
        assertThat(java.util.Arrays.equals(logits[1], logits[0])).as("logits identical for 1 and 3 threads").isTrue();
    }

    @Test
    void bicubicInterpolationHasTorchSemantics() {
        // torch.nn.functional.interpolate([[1, 2], [3, 4]], size=4, mode="bicubic", align_corners=False)
        float[] grid = {1, 2, 3, 4};
        float[] up = Interpolation.bicubic(grid, 0, 2, 2, 1, 4, 4);
        assertThat(up[0]).isCloseTo(0.68359375f, within(1e-6f));
        assertThat(up[1]).isCloseTo(1.015625f, within(1e-6f));
        assertThat(up[2]).isCloseTo(1.5625f, within(1e-6f));
        assertThat(up[3]).isCloseTo(1.89453125f, within(1e-6f));
        float[] same = Interpolation.bicubic(grid, 0, 2, 2, 1, 2, 2);
        assertThat(same).containsExactly(grid);
        float[] constant = Interpolation.bicubic(new float[] {5, 5, 5, 5, 5, 5}, 0, 2, 3, 1, 5, 7);
        for (float v : constant) {
            assertThat(v).isCloseTo(5f, within(1e-5f));
        }
    }

    @Test
    void visionAcceptsOtherResolutionsByInterpolatingPositions() {
        Path dir = set.model("tiny-caption");
        BlipConfig cfg = config(dir);
        int configured = cfg.vision().imageSize();
        int other = 0;
        for (var s : set.expected().get("pixel_sizes")) {
            if (s.asInt() != configured) {
                other = s.asInt();
            }
        }
        if (other == 0) {
            return; // this fixture set has no second size to try
        }
        try (SafetensorsFile f = set.openTensors(); Parallel p = new Parallel(2)) {
            BlipForConditionalGeneration m = ModelFixtures.load(dir, sd -> BlipForConditionalGeneration.load(sd, cfg, p));
            BlipVisionModel.Output vis = m.vision(pixels(f, other, firstImages(set.expected(), 1)), 1, other, other);
            int grid = other / cfg.vision().patchSize();
            assertThat(vis.seqLen()).isEqualTo(grid * grid + 1);
            assertThat(vis.lastHiddenState()).hasSize((grid * grid + 1) * cfg.vision().hiddenSize());
            for (float v : vis.lastHiddenState()) {
                assertThat(Float.isFinite(v)).isTrue();
            }
        }
    }

    @Test
    void decoderRejectsSequencesLongerThanItsCache() {
        Path dir = set.model("tiny-caption");
        BlipConfig cfg = config(dir);
        int size = cfg.vision().imageSize();
        try (SafetensorsFile f = set.openTensors(); Parallel p = new Parallel(1)) {
            BlipForConditionalGeneration m = ModelFixtures.load(dir, sd -> BlipForConditionalGeneration.load(sd, cfg, p));
            BlipVisionModel.Output vis = m.vision(pixels(f, size, firstImages(set.expected(), 1)), 1, size, size);
            int bos = set.expected().at("/special_ids/bos_dec").asInt();
            try (StepDecoder dec = m.decoderFactory(vis.lastHiddenState(), 1, 2).open(new int[] {0})) {
                assertThat(dec.forward(new int[][] {{bos, bos}})).hasSize(dec.vocabSize());
                assertThatThrownBy(() -> dec.forward(new int[][] {{bos}}))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxLength");
            }
            assertThatThrownBy(() -> m.decoderFactory(vis.lastHiddenState(), 1, 4).open(new int[] {1}))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("input 1");
        }
    }
}
