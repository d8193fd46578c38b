package org.blipjava.training;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.blipjava.checkpoint.Checkpoints;
import org.blipjava.checkpoint.LoadedWeights;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.generation.GenerationConfig;
import org.blipjava.image.RgbImage;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.GeneratedText;
import org.blipjava.tasks.LoadOptions;
import org.blipjava.testing.Fixtures;
import org.blipjava.testing.Fixtures.FixtureSet;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** save_pretrained round trips through the fixture models: same keys as the reference wrote, same outputs. */
class CheckpointingTest {
    static Stream<FixtureSet> sets() {
        return Fixtures.parameters(Fixtures.Kind.BLIP);
    }

    private static List<RgbImage> images(FixtureSet set, int n) {
        List<RgbImage> out = new ArrayList<>();
        for (JsonNode name : set.expected().get("images")) {
            if (out.size() < n) {
                out.add(Blip.readImage(set.image(name.asText())));
            }
        }
        return out;
    }

    private static final String DECODER_BIAS = "cls.predictions.decoder.bias";

    /**
     * The keys the reference's safetensors writer keeps of a model's weights, in whichever format
     * the set ships them: a pytorch_model.bin also holds the tied alias cls.predictions.decoder.bias
     * (the same tensor as cls.predictions.bias), which save_pretrained's safetensors drops.
     */
    private static Set<String> sourceKeys(Path modelDir) throws Exception {
        try (LoadedWeights w = Checkpoints.open(modelDir)) {
            return withoutTiedAlias(w.stateDict().tensors().keySet());
        }
    }

    private static Set<String> withoutTiedAlias(Set<String> names) {
        Set<String> out = new TreeSet<>(names);
        out.removeIf(k -> k.endsWith(DECODER_BIAS)
                && names.contains(k.substring(0, k.length() - DECODER_BIAS.length()) + "cls.predictions.bias"));
        return out;
    }

    private static Set<String> keys(Path file) throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            return new TreeSet<>(f.tensors().keySet());
        }
    }

    @ParameterizedTest
    @MethodSource("sets")
    void savedCaptionModelHasTheReferenceKeysAndIdenticalOutputs(FixtureSet set, @TempDir Path tmp) throws Exception {
        Path src = set.model("tiny-caption");
        Path out = tmp.resolve("saved");
        Checkpointing.savePretrained(Parameters.load(src), src, out);

        assertThat(keys(out.resolve("model.safetensors"))).isEqualTo(sourceKeys(src));
        assertThat(keys(out.resolve("model.safetensors"))).noneMatch(k -> k.endsWith(DECODER_BIAS));
        if (Files.isRegularFile(src.resolve("model.safetensors"))) {
            // Same header layout and data order as the reference's writer: the very same bytes.
            assertThat(Files.mismatch(out.resolve("model.safetensors"), src.resolve("model.safetensors")))
                    .isEqualTo(-1L);
        }
        try (SafetensorsFile f = SafetensorsFile.open(out.resolve("model.safetensors"))) {
            assertThat(f.metadata()).containsEntry("format", "pt");
        }
        for (String side : Checkpointing.SIDE_FILES) {
            if (Files.exists(src.resolve(side))) {
                assertThat(out.resolve(side)).hasSameBinaryContentAs(src.resolve(side));
            }
        }
        List<RgbImage> imgs = images(set, 4);
        try (Blip a = Blip.load(src, LoadOptions.defaults().withThreads(2));
             Blip b = Blip.load(out, LoadOptions.defaults().withThreads(2))) {
            for (GenerationConfig g : List.of(a.generationDefaults(),
                    a.generationDefaults().toBuilder().numBeams(3).maxLength(12).build())) {
                List<GeneratedText> ra = a.caption(imgs, null, g);
                List<GeneratedText> rb = b.caption(imgs, null, g);
                assertThat(rb).hasSameSizeAs(ra);
                for (int i = 0; i < ra.size(); i++) {
                    assertThat(rb.get(i).tokenIds()).isEqualTo(ra.get(i).tokenIds());
                    assertThat(Double.compare(rb.get(i).score(), ra.get(i).score())).isZero();
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("sets")
    void savedVqaModelAnswersIdentically(FixtureSet set, @TempDir Path tmp) throws Exception {
        Path src = set.model("tiny-vqa");
        Path out = tmp.resolve("saved");
        Checkpointing.savePretrained(Parameters.load(src), src, out);
        assertThat(keys(out.resolve("model.safetensors"))).isEqualTo(sourceKeys(src));
        List<String> questions = new ArrayList<>();
        set.expected().at("/vqa/questions").forEach(q -> questions.add(q.asText()));
        List<RgbImage> imgs = images(set, questions.size());
        try (Blip a = Blip.load(src, LoadOptions.defaults().withThreads(2));
             Blip b = Blip.load(out, LoadOptions.defaults().withThreads(2))) {
            List<GeneratedText> ra = a.answer(imgs, questions, a.generationDefaults());
            List<GeneratedText> rb = b.answer(imgs, questions, b.generationDefaults());
            for (int i = 0; i < ra.size(); i++) {
                assertThat(rb.get(i).tokenIds()).isEqualTo(ra.get(i).tokenIds());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("sets")
    void changedWeightsAreWhatIsSavedAndSavingReplacesTheOldDirectory(FixtureSet set, @TempDir Path tmp)
            throws Exception {
        Path src = set.model("tiny-caption");
        Path out = tmp.resolve("saved");
        Parameters params = Parameters.load(src);
        Checkpointing.savePretrained(params, src, out);
        for (Parameter p : params.unique()) {
            float[] v = p.value();
            for (int i = 0; i < v.length; i++) {
                v[i] = v[i] * 0.5f + i * 1e-3f;
            }
        }
        Checkpointing.savePretrained(params, src, out);
        Parameters back = Parameters.load(out);
        // Every name but a tied alias the source's pytorch_model.bin may carry (saved once, as the bias).
        assertThat(back.names()).isEqualTo(withoutTiedAlias(params.names()));
        for (String name : back.names()) {
            assertThat(back.get(name).value()).as(name).isEqualTo(params.get(name).value());
        }
        try (var siblings = Files.list(tmp)) {
            assertThat(siblings.map(p -> p.getFileName().toString()).toList()).containsExactly("saved");
        }
    }
}
