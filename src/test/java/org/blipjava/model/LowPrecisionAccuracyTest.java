package org.blipjava.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.blipjava.testing.FixtureInputs.config;
import static org.blipjava.testing.FixtureInputs.firstImages;
import static org.blipjava.testing.FixtureInputs.ints;
import static org.blipjava.model.ModelFixtures.load;
import static org.blipjava.testing.FixtureInputs.pixels;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Locale;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.config.BlipConfig;
import org.blipjava.generation.GenerationConfig;
import org.blipjava.generation.GenerationResult;
import org.blipjava.generation.Generator;
import org.blipjava.tensor.WeightPrecision;
import org.blipjava.testing.ComputeThreads;
import org.blipjava.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Measures what bfloat16 and int8 weight storage cost against float32 on the fixtures: the largest
 * teacher-forced logit difference and the agreement of greedy captions, token by token. Prints
 * the figures (the accuracy report) and holds them to loose bounds.
 */
class LowPrecisionAccuracyTest {
    @RegisterExtension
    static final ComputeThreads THREADS = new ComputeThreads(2);

    @Test
    void lowerPrecisionWeightsStayCloseToFloat32() {
        for (Fixtures.FixtureSet set : Fixtures.sets(Fixtures.Kind.BLIP)) {
            JsonNode ex = set.expected();
            Path dir = set.model("tiny-caption");
            BlipConfig cfg = config(dir);
            JsonNode tf = ex.at("/caption/teacher_forced");
            int[][] ids = ints(tf.get("input_ids"));
            int[][] mask = ints(tf.get("attention_mask"));
            int n = ids.length;
            int size = cfg.vision().imageSize();
            float[] px;
            try (SafetensorsFile f = set.openTensors()) {
                px = pixels(f, size, firstImages(ex, n));
            }
            int steps = ex.at("/caption/greedy/kwargs/max_length").asInt();
            GenerationConfig greedy = GenerationConfig.forBlip(cfg.text()).toBuilder().maxLength(steps)
                    .minLength(steps).build();
            float[] refLogits = null;
            int[][] refTokens = null;
            for (WeightPrecision p : WeightPrecision.values()) {
                BlipForConditionalGeneration model = load(dir, sd -> BlipForConditionalGeneration.load(sd, cfg,
                        THREADS.get(), p));
                BlipVisionModel.Output vis = model.vision(px, n, size, size);
                float[] logits = model.teacherForcedLogits(vis, ids, mask);
                GenerationResult r = Generator.generate(model.decoderFactory(vis.lastHiddenState(), n, steps), n,
                        new int[] {cfg.text().bosTokenId()}, greedy);
                int[][] tokens = new int[n][];
                for (int i = 0; i < n; i++) {
                    tokens[i] = r.generatedTokens(i);
                }
                if (p == WeightPrecision.F32) {
                    refLogits = logits;
                    refTokens = tokens;
                    continue;
                }
                double maxDiff = 0;
                double maxRef = 0;
                for (int i = 0; i < logits.length; i++) {
                    maxDiff = Math.max(maxDiff, Math.abs(logits[i] - refLogits[i]));
                    maxRef = Math.max(maxRef, Math.abs(refLogits[i]));
                }
                int same = 0;
                int total = 0;
                for (int i = 0; i < n; i++) {
                    for (int t = 0; t < Math.min(tokens[i].length, refTokens[i].length); t++) {
                        same += tokens[i][t] == refTokens[i][t] ? 1 : 0;
                    }
                    total += Math.max(tokens[i].length, refTokens[i].length);
                }
                double agreement = (double) same / total;
                System.out.printf(Locale.ROOT, "%s %s: max |logit - f32 logit| = %.3g (largest f32 logit %.3g),"
                        + " greedy token agreement %d/%d = %.1f%%%n", set, p, maxDiff, maxRef, same, total,
                        100 * agreement);
                assertThat(maxDiff).as("%s %s logit difference", set, p).isFinite()
                        .isLessThan(p == WeightPrecision.BF16 ? 0.05 * maxRef : 0.1 * maxRef);
                assertThat(maxDiff).as("%s %s differs from f32 at all", set, p).isPositive();
            }
        }
    }
}
