package org.blipjava.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;
import static org.blipjava.testing.FixtureInputs.ints;
import static org.blipjava.testing.FixtureInputs.strings;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.stream.Stream;
import org.blipjava.checkpoint.CheckpointException;
import org.blipjava.checkpoint.Checkpoints;
import org.blipjava.checkpoint.LoadedWeights;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.checkpoint.StateDict;
import org.blipjava.checkpoint.TensorData;
import org.blipjava.config.ConfigException;
import org.blipjava.config.FlavaConfig;
import org.blipjava.tensor.Kernels;
import org.blipjava.tensor.WeightPrecision;
import org.blipjava.testing.ComputeThreads;
import org.blipjava.testing.Fixtures;
import org.blipjava.tokenizer.Batch;
import org.blipjava.tokenizer.BertTokenizer;
import org.blipjava.tokenizer.Padding;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * FLAVA parity with the reference fixtures: every model folder of every FLAVA fixture set whose
 * config.json says {@code model_type "flava"} is checked against the set's {@code flava/*} tensors
 * (the FlavaModel outputs for all of them, the ITM head for those whose architectures name
 * FlavaForPreTraining).
 */
class FlavaParityTest {
    @RegisterExtension
    static final ComputeThreads THREADS = new ComputeThreads(2);

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void everyFlavaModelMatchesTheReference() throws IOException {
        for (Fixtures.FixtureSet set : Fixtures.sets(Fixtures.Kind.FLAVA)) {
            List<Path> dirs = flavaModels(set);
            assertThat(dirs).as("%s: model folders with model_type flava", set).isNotEmpty();
            JsonNode fx = set.expected().get("flava");
            List<String> images = strings(fx.get("images"));
            List<String> texts = strings(fx.get("texts"));
            int[][] ids = ints(fx.get("input_ids"));
            int[][] mask = ints(fx.get("attention_mask"));
            int[][] types = fx.has("token_type_ids") ? ints(fx.get("token_type_ids")) : null;
            for (Path dir : dirs) {
                String what = set + "/" + dir.getFileName();
                FlavaConfig cfg = FlavaConfig.read(dir.resolve("config.json"));
                checkTokenizer(what, dir, texts, ids, mask);
                FlavaModel model;
                try (LoadedWeights w = Checkpoints.open(dir)) {
                    model = FlavaModel.load(w.stateDict(), cfg, THREADS.get(), WeightPrecision.F32);
                }
                int size = cfg.imageConfig().imageSize();
                try (SafetensorsFile f = set.openTensors()) {
                    float[] px = pixels(f, size, images, cfg.imageConfig().numChannels());
                    FlavaModel.Encoded img = model.encodeImages(px, images.size(), size, size);
                    FlavaModel.Encoded txt = model.encodeTexts(ids, mask, types);
                    check(what, "flava/image_embeddings", img.lastHiddenState(), f);
                    check(what, "flava/text_embeddings", txt.lastHiddenState(), f);
                    float[] imgF = model.imageFeatures(img);
                    float[] txtF = model.textFeatures(txt);
                    check(what, "flava/image_features", imgF, f);
                    check(what, "flava/text_features", txtF, f);
                    float[] logits = model.logitsPerImage(imgF, txtF);
                    float[] cosine = logits.clone();
                    float inv = (float) Math.exp(-model.logitScale());
                    for (int i = 0; i < cosine.length; i++) {
                        cosine[i] *= inv;
                    }
                    check(what, "flava/cosine", cosine, f);
                    check(what, "flava/logits_per_image", logits, f);
                    check(what, "flava/mean_pooled_image", FlavaModel.meanPooled(img), f);
                    check(what, "flava/mean_pooled_text", FlavaModel.meanPooled(txt), f);
                    FlavaModel.Encoded mm = model.multimodal(img, 0, txt, mask);
                    assertThat(mm.seqLen()).as("%s multimodal length", what)
                            .isEqualTo(1 + img.seqLen() + txt.seqLen());
                    check(what, "flava/multimodal_embeddings_image0", mm.lastHiddenState(), f);
                    boolean preTraining = cfg.architectures().contains("FlavaForPreTraining");
                    assertThat(model.hasItmHead()).as("%s has an ITM head", what).isEqualTo(preTraining);
                    if (preTraining) {
                        float[] itm = model.itmLogits(img, txt, mask);
                        check(what, "flava/itm_logits", itm, f);
                        float[] prob = new float[itm.length / 2];
                        for (int i = 0; i < prob.length; i++) {
                            float[] pair = {itm[2 * i], itm[2 * i + 1]};
                            Kernels.softmaxRow(pair, 0, 2);
                            prob[i] = pair[1];
                        }
                        check(what, "flava/itm_prob_match", prob, f);
                    } else {
                        assertThatThrownBy(() -> model.itmLogits(img, txt, mask))
                                .isInstanceOf(IllegalStateException.class).hasMessageContaining("FlavaModel")
                                .hasMessageContaining("no ITM head");
                    }
                }
            }
        }
    }

    @Test
    void loadingNamesMissingAndUnexpectedKeysAndMismatchedConfigs() throws IOException {
        for (Fixtures.FixtureSet set : Fixtures.sets(Fixtures.Kind.FLAVA)) {
            for (Path dir : flavaModels(set)) {
                FlavaConfig cfg = FlavaConfig.read(dir.resolve("config.json"));
                boolean preTraining = cfg.architectures().contains("FlavaForPreTraining");
                String p = preTraining ? "flava." : "";
                try (LoadedWeights w = Checkpoints.open(dir)) {
                    Map<String, TensorData> all = w.stateDict().tensors();
                    String required = p + "multimodal_model.encoder.layer.0.attention.attention.key.weight";
                    assertThatThrownBy(() -> FlavaModel.load(without(all, required), cfg, THREADS.get(),
                            WeightPrecision.F32)).isInstanceOf(CheckpointException.class).hasMessageContaining(required);
                    Map<String, TensorData> extra = new LinkedHashMap<>(all);
                    extra.put(p + "surprise.weight", all.get(p + "logit_scale"));
                    assertThatThrownBy(() -> FlavaModel.load(new StateDict("extra", extra), cfg, THREADS.get(),
                            WeightPrecision.F32)).isInstanceOf(CheckpointException.class)
                            .hasMessageContaining(p + "surprise.weight");
                    if (preTraining) {
                        assertThatThrownBy(() -> FlavaModel.load(without(all, "itm_head.seq_relationship.weight"), cfg,
                                THREADS.get(), WeightPrecision.F32)).isInstanceOf(CheckpointException.class)
                                .hasMessageContaining("itm_head.seq_relationship.weight");
                    } else {
                        FlavaConfig claimsPreTraining = new FlavaConfig(List.of("FlavaForPreTraining"), cfg.hiddenSize(),
                                cfg.layerNormEps(), cfg.projectionDim(), cfg.initCodebook(), cfg.logitScaleInitValue(),
                                cfg.initializerRange(), cfg.ceIgnoreIndex(), cfg.mimWeight(), cfg.mlmWeight(),
                                cfg.globalContrastiveWeight(), cfg.itmWeight(), cfg.mmmImageWeight(), cfg.mmmTextWeight(),
                                cfg.skipUnmaskedMultimodalEncoder(), cfg.returnLoss(), cfg.imageConfig(),
                                cfg.textConfig(), cfg.multimodalConfig());
                        assertThatThrownBy(() -> FlavaModel.load(w.stateDict(), claimsPreTraining, THREADS.get(),
                                WeightPrecision.F32)).isInstanceOf(CheckpointException.class)
                                .hasMessageContaining("FlavaForPreTraining");
                    }
                }
            }
        }
    }

    @Test
    void otherImageSizesInterpolatePositionsAndTokenTypesDefaultToZeros() throws IOException {
        for (Fixtures.FixtureSet set : Fixtures.sets(Fixtures.Kind.FLAVA)) {
            Path dir = flavaModels(set).getFirst();
            FlavaConfig cfg = FlavaConfig.read(dir.resolve("config.json"));
            FlavaModel model;
            try (LoadedWeights w = Checkpoints.open(dir)) {
                model = FlavaModel.load(w.stateDict(), cfg, THREADS.get(), WeightPrecision.F32);
            }
            FlavaConfig.ImageConfig ic = cfg.imageConfig();
            int h = ic.imageSize() + 2 * ic.patchSize();
            int w = ic.imageSize() + ic.patchSize();
            float[] px = new float[ic.numChannels() * h * w];
            for (int i = 0; i < px.length; i++) {
                px[i] = (float) Math.sin(0.37 * i);
            }
            FlavaModel.Encoded img = model.encodeImages(px, 1, h, w);
            assertThat(img.seqLen()).isEqualTo(model.imageSeqLen(h, w))
                    .isEqualTo((h / ic.patchSize()) * (w / ic.patchSize()) + 1);
            for (float v : img.lastHiddenState()) {
                assertThat(Float.isFinite(v)).as("finite image output").isTrue();
            }
            JsonNode fx = set.expected().get("flava");
            int[][] ids = ints(fx.get("input_ids"));
            int[][] mask = ints(fx.get("attention_mask"));
            float[] implicit = model.encodeTexts(ids, mask, null).lastHiddenState();
            float[] zeros = model.encodeTexts(ids, mask, new int[ids.length][ids[0].length]).lastHiddenState();
            assertThat(implicit).isEqualTo(zeros);
            assertThatThrownBy(() -> model.encodeTexts(ids, new int[ids.length][ids[0].length + 1], null))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("attention mask");
        }
    }

    @Test
    void configDefaultsAndLegacyDictsFollowTheReference() throws IOException {
        FlavaConfig d = FlavaConfig.fromJson(JSON.readTree("{\"model_type\": \"flava\"}"), "test");
        assertThat(d).isEqualTo(FlavaConfig.defaults());
        assertThat(d.projectionDim()).isEqualTo(768);
        assertThat(d.imageConfig().imageSize()).isEqualTo(224);
        assertThat(d.multimodalConfig().numHiddenLayers()).isEqualTo(6);
        assertThat(d.textConfig().layerNormEps()).isEqualTo(1e-12);
        // A pre-4.27 config: the *_config_dict rebuilt with defaults replaces *_config.
        FlavaConfig legacy = FlavaConfig.fromJson(JSON.readTree("""
                {"model_type": "flava",
                 "text_config": {"hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 3},
                 "text_config_dict": {"hidden_size": 32, "num_attention_heads": 4}}"""), "test");
        assertThat(legacy.textConfig().hiddenSize()).isEqualTo(32);
        assertThat(legacy.textConfig().numHiddenLayers()).isEqualTo(12);
        assertThatThrownBy(() -> FlavaConfig.fromJson(JSON.readTree("{\"model_type\": \"clip\"}"), "test"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("flava");
        assertThatThrownBy(() -> FlavaConfig.fromJson(JSON.readTree(
                "{\"model_type\": \"flava\", \"image_config\": {\"hidden_size\": 30}}"), "test"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("image_config");
    }

    private static StateDict without(Map<String, TensorData> all, String key) {
        assertThat(all).containsKey(key);
        Map<String, TensorData> m = new LinkedHashMap<>(all);
        m.remove(key);
        return new StateDict("without " + key, m);
    }

    /** BertTokenizer from the model folder pads and truncates the texts to the fixture's row width. */
    private static void checkTokenizer(String what, Path dir, List<String> texts, int[][] ids, int[][] mask) {
        Batch b = BertTokenizer.load(dir).encodeBatch(texts, ids[0].length, Padding.MAX_LENGTH);
        assertThat(b.inputIds()).as("%s input_ids", what).isDeepEqualTo(ids);
        assertThat(b.attentionMask()).as("%s attention_mask", what).isDeepEqualTo(mask);
    }

    /** Folders under models/ whose config.json has model_type "flava", in name order. */
    private static List<Path> flavaModels(Fixtures.FixtureSet set) throws IOException {
        List<Path> out = new ArrayList<>();
        Path models = set.dir().resolve("models");
        try (Stream<Path> s = Files.list(models)) {
            for (Path p : s.sorted().toList()) {
                Path c = p.resolve("config.json");
                if (Files.isRegularFile(c) && "flava".equals(JSON.readTree(c.toFile()).path("model_type").asText())) {
                    out.add(p);
                }
            }
        }
        return out;
    }

    /** The fixture's FlavaImageProcessor outputs for the named images at {@code size}, [n, channels, size, size]. */
    private static float[] pixels(SafetensorsFile f, int size, List<String> images, int channels) {
        int one = channels * size * size;
        float[] out = new float[images.size() * one];
        for (int i = 0; i < images.size(); i++) {
            float[] px = Fixtures.floats(f, "flava/pixel_values/" + size + "/" + images.get(i));
            assertThat(px).as("flava pixel_values of %s at %d", images.get(i), size).hasSize(one);
            System.arraycopy(px, 0, out, i * one, one);
        }
        return out;
    }

    /** Within the fixtures' tolerance (1e-4 absolute or relative); prints the largest absolute difference. */
    private static void check(String what, String name, float[] actual, SafetensorsFile f) {
        float[] expected = Fixtures.floats(f, name);
        assertThat(actual.length).as("%s %s length", what, name).isEqualTo(expected.length);
        double maxAbs = 0;
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < actual.length; i++) {
            double abs = Math.abs(actual[i] - expected[i]);
            maxAbs = Math.max(maxAbs, abs);
            double err = abs / Math.max(1.0, Math.abs(expected[i]));
            if (!(err <= worst)) {
                worst = err;
                worstAt = i;
            }
        }
        System.out.printf(Locale.ROOT, "%s %s max abs diff %.3g%n", what, name, maxAbs);
        if (worst > ModelFixtures.TOL || Double.isNaN(worst)) {
            fail("%s %s differs at %d: %s vs expected %s (error %s)", what, name, worstAt, actual[worstAt],
                    expected[worstAt], worst);
        }
    }
}
