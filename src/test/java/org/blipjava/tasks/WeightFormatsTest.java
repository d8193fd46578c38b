package org.blipjava.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.blipjava.checkpoint.Checkpoints;
import org.blipjava.checkpoint.LoadedWeights;
import org.blipjava.checkpoint.TensorData;
import org.blipjava.checkpoint.TorchBinWriter;
import org.blipjava.image.RgbImage;
import org.blipjava.testing.FixtureInputs;
import org.blipjava.testing.Fixtures;
import org.blipjava.testing.Fixtures.FixtureSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every CLIP and FLAVA fixture model re-saved as {@code pytorch_model.bin} alone (the only
 * weight file other fixture sets carry) gives the same embeddings and scores, bit for bit,
 * through the family-independent API.
 */
class WeightFormatsTest {
    @TempDir
    Path tmp;

    @Test
    void pytorchModelBinAloneLoadsEveryFamilyIdentically() throws Exception {
        for (FixtureSet set : Fixtures.sets(Fixtures.Kind.CLIP)) {
            List<RgbImage> images = FixtureInputs.strings(set.expected().get("images")).stream()
                    .map(n -> Blip.readImage(set.image(n))).limit(3).toList();
            List<String> texts = FixtureInputs.strings(set.expected().get("texts")).stream().limit(3).toList();
            try (Stream<Path> models = Files.list(set.dir().resolve("models"))) {
                for (Path model : models.sorted().toList()) {
                    ModelFamily family = ModelFamily.of(model);
                    if (family == ModelFamily.BLIP) {
                        continue; // BLIP's formats are covered by the checkpoint tests
                    }
                    Path copy = Files.createDirectories(tmp.resolve(set.name() + "-" + model.getFileName()));
                    try (Stream<Path> files = Files.list(model)) {
                        for (Path f : files.toList()) {
                            String name = f.getFileName().toString();
                            if (!name.endsWith(".safetensors") && !name.endsWith(".bin") && !name.endsWith(".json.index")) {
                                Files.copy(f, copy.resolve(name));
                            }
                        }
                    }
                    TorchBinWriter.write(copy.resolve("pytorch_model.bin"), tensorsOf(model));
                    try (LoadedWeights w = Checkpoints.open(copy)) {
                        assertThat(w.format()).isEqualTo(LoadedWeights.Format.PYTORCH);
                    }
                    try (ImageTextModel a = ImageTextModel.load(model, LoadOptions.defaults().withThreads(1));
                         ImageTextModel b = ImageTextModel.load(copy, LoadOptions.defaults().withThreads(1))) {
                        assertThat(b.family()).isEqualTo(family);
                        MatchScores sa = a.match(images, texts);
                        MatchScores sb = b.match(images, texts);
                        for (int i = 0; i < images.size(); i++) {
                            assertThat(sb.itc()[i]).as("%s itc", copy).containsExactly(sa.itc()[i]);
                            if (sa.hasItm()) {
                                assertThat(sb.itm()[i]).as("%s itm", copy).containsExactly(sa.itm()[i]);
                            }
                        }
                        assertThat(b.logitScale()).isEqualTo(a.logitScale());
                    }
                }
            }
        }
    }

    private static List<TensorData> tensorsOf(Path dir) throws Exception {
        List<TensorData> out = new ArrayList<>();
        try (LoadedWeights w = Checkpoints.open(dir)) {
            for (TensorData t : w.stateDict().tensors().values()) {
                out.add(new TensorData(t.name(), t.dtype(), t.shape(),
                        MemorySegment.ofArray(t.bytes().toArray(ValueLayout.JAVA_BYTE))));
            }
        }
        return out;
    }
}
