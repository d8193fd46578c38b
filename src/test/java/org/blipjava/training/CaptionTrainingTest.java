package org.blipjava.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.blipjava.generation.GenerationConfig;
import org.blipjava.image.Images;
import org.blipjava.image.RgbImage;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.GeneratedText;
import org.blipjava.tasks.LoadOptions;
import org.blipjava.tensor.Parallel;
import org.blipjava.testing.TinyTestModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fine-tuning a freshly initialised tiny captioner on rendered shapes: held-out loss and caption metrics
 * improve, the saved model generates what validation generated, and an interrupted run resumes to
 * the same losses and weights as an uninterrupted one.
 */
class CaptionTrainingTest {
    private static final String PROMPT = "a picture of ";
    /** Held-out loss must end below this fraction of its value before training. */
    private static final double LOSS_FRACTION = 0.25;
    /** CIDEr-D on held-out images must rise by at least this much. */
    private static final double CIDER_GAIN = 1.0;

    @TempDir
    static Path models;
    private static Path tinyCaption;

    /** A freshly initialised captioner, so the outcome does not depend on a fixture set's weights. */
    @BeforeAll
    static void makeModel() throws Exception {
        tinyCaption = TinyTestModels.write(models, TinyModels.Head.CAPTION);
    }

    private static Path tinyCaption() {
        return tinyCaption;
    }

    private static RgbImage read(Path p) {
        return Images.read(p);
    }

    @Test
    void trainingOnRenderedShapesLowersHeldOutLossAndImprovesCaptions(@TempDir Path tmp) throws Exception {
        Path model = tinyCaption();
        CaptionData train = CaptionData.read(ShapesData.write(tmp.resolve("data"), "train", 48, 72, 1), null, null);
        CaptionData val = CaptionData.read(ShapesData.write(tmp.resolve("data"), "val", ShapesData.kinds(), 72, 2),
                null, null);
        // 96 captions, batch 4, 10 epochs: 240 optimizer steps.
        TrainingSettings s = TrainingSettings.defaults().withEpochs(10).withBatch(4, 1)
                .withOptimizer(3e-3, 0, 0.05, 10, 1.0).withText(0.1, PROMPT, 40);
        try (Parallel parallel = new Parallel(2)) {
            Trainer trainer = new Trainer(model, s, parallel);
            ValidationResult before = trainer.validator(val).evaluate(Parameters.load(model), 0,
                    CaptionTrainingTest::read);
            List<TrainingListener.StepEvent> steps = new ArrayList<>();
            TrainingResult r = trainer.train(train, val, tmp.resolve("out"), false, new TrainingListener() {
                @Override
                public void onStep(StepEvent e) {
                    steps.add(e);
                }
            });
            assertThat(r.completed()).isTrue();
            assertThat(r.steps()).isEqualTo(240);
            assertThat(steps).hasSize(240);
            assertThat(steps.getFirst().lr()).isZero(); // warm-up starts at 0
            assertThat(steps.getLast().lr()).isLessThan(s.lr() * 0.01); // cosine decays to ~0
            ValidationResult after = r.validations().getLast();
            assertThat(after.step()).isEqualTo(240);
            assertThat(after.loss()).as("held-out loss before %s, after %s", before.loss(), after.loss())
                    .isLessThan(before.loss() * LOSS_FRACTION);
            assertThat(after.ciderD()).as("CIDEr-D before %s, after %s; captions %s", before.ciderD(),
                    after.ciderD(), after.outputs()).isGreaterThan(before.ciderD() + CIDER_GAIN);
            assertThat(after.bleu4()).isGreaterThan(before.bleu4());

            // The saved model is the trained one: Blip generates exactly what validation generated.
            try (Blip blip = Blip.load(r.finalModel(), LoadOptions.defaults().withThreads(2))) {
                List<RgbImage> imgs = val.images().stream().map(CaptionTrainingTest::read).toList();
                int startLength = CaptionTexts.decoderStart(blip.tokenizer(), PROMPT, blip.config().text().bosTokenId()).length;
                GenerationConfig g = blip.generationDefaults().toBuilder()
                        .maxLength(s.maxGenerationLength() + startLength - 1)
                        .numBeams(1).doSample(false).build();
                List<GeneratedText> out = blip.caption(imgs, PROMPT, g);
                for (int i = 0; i < imgs.size(); i++) {
                    String text = out.get(i).text();
                    assertThat(text).startsWith(PROMPT.strip());
                    assertThat(text.substring(PROMPT.strip().length()).strip())
                            .isEqualTo(after.outputs().get(val.images().get(i).toString()));
                }
            }
        }
    }

    private static TrainingSettings resumeSettings() {
        // 25 readable captions, batch 4, accumulation 2, 3 epochs: 9 steps; checkpoints every 2.
        return TrainingSettings.defaults().withEpochs(3).withBatch(4, 2).withOptimizer(2e-3, 1e-5, 0.05, 2, 0.5)
                .withText(0.1, null, 40).withIntervals(3, 2, 2).withValidation(8, 4);
    }

    /** Shapes plus one listed image that does not exist and one that is not an image. */
    private static Path dataWithBadImages(Path dir) throws Exception {
        Path ann = ShapesData.write(dir, "train", 12, 64, 3);
        ObjectMapper json = new ObjectMapper();
        ArrayNode list = (ArrayNode) json.readTree(ann.toFile());
        list.addObject().put("image", "missing.png").put("caption", "a red circle");
        list.addObject().put("image", "broken.png").put("caption", "a blue square");
        Files.writeString(dir.resolve("broken.png"), "not a png");
        json.writeValue(ann.toFile(), list);
        return ann;
    }

    @Test
    void aKilledRunResumesToTheSameLossesAndWeights(@TempDir Path tmp) throws Exception {
        Path model = tinyCaption();
        CaptionData train = CaptionData.read(dataWithBadImages(tmp.resolve("data")), null, null);
        CaptionData val = CaptionData.read(ShapesData.write(tmp.resolve("data"), "val", 4, 64, 4), null, null);
        assertThat(train.missingImages()).extracting(p -> p.getFileName().toString()).containsExactly("missing.png");
        TrainingSettings s = resumeSettings();
        try (Parallel parallel = new Parallel(2)) {
            Trainer trainer = new Trainer(model, s, parallel);
            List<Path> failedReports = new ArrayList<>();
            TrainingResult full = trainer.train(train, val, tmp.resolve("full"), false, new TrainingListener() {
                @Override
                public void onImageFailed(Path image, String error) {
                    failedReports.add(image);
                }
            });
            assertThat(full.steps()).isEqualTo(9);
            assertThat(failedReports).extracting(p -> p.getFileName().toString()).containsExactly("broken.png");
            assertThat(full.failedImages()).hasSize(1);

            // The "killed" run dies right after step 5, with its step-4 checkpoint on disk.
            Path out = tmp.resolve("killed");
            assertThatThrownBy(() -> trainer.train(train, val, out, false, new TrainingListener() {
                @Override
                public void onStep(StepEvent e) {
                    if (e.step() == 5) {
                        throw new IllegalStateException("killed");
                    }
                }
            })).hasMessage("killed");
            assertThat(Trainer.latestCheckpoint(out.resolve(Trainer.CHECKPOINTS)).getFileName().toString())
                    .isEqualTo("step-00000004");
            assertThatThrownBy(() -> trainer.train(train, val, out, false, null))
                    .hasMessageContaining("--resume");

            TrainingResult resumed = trainer.train(train, val, out, true, null);
            assertThat(resumed.losses()).isEqualTo(full.losses());
            assertThat(full.validations()).extracting(ValidationResult::step).containsExactly(0, 3, 6, 9);
            assertThat(resumed.validations().stream().map(ValidationResult::loss).toList())
                    .isEqualTo(full.validations().stream().map(ValidationResult::loss).toList());
            assertThat(resumed.failedImages()).isEqualTo(full.failedImages());
            Parameters a = Parameters.load(full.finalModel());
            Parameters b = Parameters.load(resumed.finalModel());
            for (String name : a.names()) {
                assertThat(b.get(name).value()).as(name).isEqualTo(a.get(name).value());
            }
            // Only the newest checkpoints are kept, and no temporary directory is left behind.
            try (var dirs = Files.list(out.resolve(Trainer.CHECKPOINTS))) {
                assertThat(dirs.map(p -> p.getFileName().toString()).sorted().toList())
                        .containsExactly("step-00000008", "step-00000009");
            }
        }
    }

    @Test
    void resumingWithOtherSettingsIsRefusedNamingTheSetting(@TempDir Path tmp) throws Exception {
        Path model = tinyCaption();
        CaptionData train = CaptionData.read(ShapesData.write(tmp.resolve("data"), "train", 8, 64, 5), null, null);
        try (Parallel parallel = new Parallel(2)) {
            TrainingSettings s = resumeSettings().withStopAfterSteps(1);
            TrainingResult r = new Trainer(model, s, parallel).train(train, null, tmp.resolve("out"), false, null);
            assertThat(r.completed()).isFalse();
            assertThat(r.finalModel()).isNull();
            assertThat(r.lastCheckpoint()).isDirectory();
            assertThatThrownBy(() -> new Trainer(model, s.withSeed(7), parallel)
                    .train(train, null, tmp.resolve("out"), true, null))
                    .hasMessageContaining("seed");
        }
    }

    @Test
    void weightDecaySkipsBiasesAndNorms() {
        Parameters p = Parameters.of("t", List.of(
                new Parameter("a.dense.weight", new float[4], 2, 2),
                new Parameter("a.dense.bias", new float[2], 2),
                new Parameter("a.LayerNorm.weight", new float[2], 2),
                new Parameter("vision_model.post_layernorm.weight", new float[4], 2, 2)));
        Map<String, Boolean> decays = new java.util.TreeMap<>();
        for (Parameter q : p.unique()) {
            decays.put(q.name(), Trainer.decays(q));
        }
        assertThat(decays).containsExactlyInAnyOrderEntriesOf(Map.of("a.dense.weight", true, "a.dense.bias", false,
                "a.LayerNorm.weight", false, "vision_model.post_layernorm.weight", false));
    }
}
