package org.blipjava.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.blipjava.testing.FixtureInputs.ints;
import static org.blipjava.testing.FixtureInputs.strings;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;
import org.blipjava.checkpoint.CheckpointException;
import org.blipjava.checkpoint.Checkpoints;
import org.blipjava.checkpoint.LoadedWeights;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.checkpoint.StateDict;
import org.blipjava.checkpoint.TensorData;
import org.blipjava.checkpoint.TorchBinWriter;
import org.blipjava.config.ClipConfig;
import org.blipjava.tensor.WeightPrecision;
import org.blipjava.testing.ComputeThreads;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Loading {@link ClipModel} from model folders: both weight formats, hostile pickles, wrong keys. */
class ClipCheckpointTest {
    @RegisterExtension
    static final ComputeThreads THREADS = new ComputeThreads(2);

    @TempDir
    Path tmp;

    /** The loading path of a model folder, as an application takes it: config, weights, model. */
    private static ClipModel loadFolder(Path dir) throws IOException {
        ClipConfig cfg = ClipConfig.read(dir.resolve("config.json"));
        try (LoadedWeights w = Checkpoints.open(dir)) {
            return ClipModel.load(w.stateDict(), cfg, THREADS.get(), WeightPrecision.F32);
        }
    }

    /** A fixture model's tensors (from whichever weight file it has), copied so they outlive the file. */
    private static List<TensorData> tensorsOf(Path dir) throws IOException {
        List<TensorData> out = new ArrayList<>();
        try (LoadedWeights w = Checkpoints.open(dir)) {
            for (TensorData t : w.stateDict().tensors().values()) {
                out.add(new TensorData(t.name(), t.dtype(), t.shape(),
                        java.lang.foreign.MemorySegment.ofArray(t.bytes().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE))));
            }
        }
        return out;
    }

    private Path folderWithConfigOf(ClipParityTest.Case c, String name) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Files.copy(c.dir().resolve("config.json"), dir.resolve("config.json"));
        return dir;
    }

    @Test
    void aClipFolderWithAMaliciousPytorchModelBinIsRefusedAndNothingRuns() throws Exception {
        ClipParityTest.Case c = ClipParityTest.cases().get(0);
        List<TensorData> real = tensorsOf(c.dir());
        Path marker = tmp.resolve("pwned");
        String shell = "touch " + marker;
        String[][] payloads = {
                {"os", "system", shell},
                {"posix", "system", shell},
                {"builtins", "eval", "__import__('os').system('" + shell + "')"},
                {"subprocess", "getoutput", shell},
        };
        for (String[] call : payloads) {
            String global = call[0] + "." + call[1];
            Path dir = folderWithConfigOf(c, "evil-" + global);
            TorchBinWriter.writeWithCall(dir.resolve("pytorch_model.bin"), real, call[0], call[1], call[2]);
            assertThatThrownBy(() -> loadFolder(dir)).as(global)
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("pytorch_model.bin")
                    .hasMessageContaining("'" + global + "'");
            assertThat(marker).as("the payload calling " + global + " must not have run").doesNotExist();
        }
    }

    @Test
    void safetensorsConvertedToPytorchModelBinLoadsIdentically() throws Exception {
        for (ClipParityTest.Case c : ClipParityTest.cases()) {
            List<TensorData> tensors = new ArrayList<>(tensorsOf(c.dir()));
            // torch.save of a CLIPModel from older transformers also holds the position_ids buffers.
            addPositionIds(tensors, "text_model.embeddings.position_ids", c.config().text().maxPositionEmbeddings());
            addPositionIds(tensors, "vision_model.embeddings.position_ids", c.config().vision().numPositions());
            Path dir = folderWithConfigOf(c, "bin-" + c.set().name() + "-" + c.name());
            TorchBinWriter.write(dir.resolve("pytorch_model.bin"), tensors);
            try (LoadedWeights w = Checkpoints.open(dir)) {
                assertThat(w.format()).isEqualTo(LoadedWeights.Format.PYTORCH);
            }
            ClipModel fromBin = loadFolder(dir);
            ClipModel original = loadFolder(c.dir());

            JsonNode clip = c.set().expected().get("clip");
            List<String> images = strings(clip.get("images"));
            int[][] ids = ints(clip.get("input_ids"));
            int[][] mask = ints(clip.get("attention_mask"));
            int size = c.config().vision().imageSize();
            try (SafetensorsFile f = c.set().openTensors()) {
                float[] px = ClipParityTest.pixels(f, ClipParityTest.pixelPrefix(c), images, size);
                ClipVisionModel.Output a = original.vision(px, images.size(), size, size);
                ClipVisionModel.Output b = fromBin.vision(px, images.size(), size, size);
                assertThat(b.lastHiddenState()).as("%s vision", c).containsExactly(a.lastHiddenState());
                assertThat(fromBin.imageEmbeds(b)).as("%s image embeds", c).containsExactly(original.imageEmbeds(a));
                ClipTextModel.Output ta = original.text(ids, mask);
                ClipTextModel.Output tb = fromBin.text(ids, mask);
                assertThat(tb.lastHiddenState()).as("%s text", c).containsExactly(ta.lastHiddenState());
                assertThat(fromBin.textEmbeds(tb)).as("%s text embeds", c).containsExactly(original.textEmbeds(ta));
                assertThat(fromBin.logitScale()).isEqualTo(original.logitScale());
            }
        }
    }

    private static void addPositionIds(List<TensorData> tensors, String name, int n) {
        if (tensors.stream().noneMatch(t -> t.name().equals(name))) {
            tensors.add(TorchBinWriter.i64(name, new long[] {1, n}, LongStream.range(0, n).toArray()));
        }
    }

    @Test
    void unexpectedMissingAndMisshapenKeysAreNamed() throws Exception {
        ClipParityTest.Case c = ClipParityTest.cases().get(0);
        Map<String, TensorData> real = new LinkedHashMap<>();
        for (TensorData t : tensorsOf(c.dir())) {
            real.put(t.name(), t);
        }
        // A head this model does not have (as a CLIPForImageClassification checkpoint would carry).
        Map<String, TensorData> extra = new LinkedHashMap<>(real);
        TensorData head = real.get("visual_projection.weight");
        extra.put("classifier.weight", new TensorData("classifier.weight", head.dtype(), head.shape(), head.bytes()));
        assertThatThrownBy(() -> ClipModel.load(new StateDict("extra", extra), c.config(), THREADS.get(),
                WeightPrecision.F32))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("unexpected keys")
                .hasMessageContaining("classifier.weight");

        Map<String, TensorData> missing = new LinkedHashMap<>(real);
        missing.remove("text_projection.weight");
        assertThatThrownBy(() -> ClipModel.load(new StateDict("missing", missing), c.config(), THREADS.get(),
                WeightPrecision.F32))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("missing key 'text_projection.weight'");

        ClipConfig wider = withField(c, null, "projection_dim", c.config().projectionDim() + 1);
        assertThatThrownBy(() -> ClipModel.load(new StateDict("shape", real), wider, THREADS.get(), WeightPrecision.F32))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("visual_projection.weight")
                .hasMessageContaining("shape");

        // The position_ids buffers are accepted and ignored, whatever else the file holds.
        Map<String, TensorData> buffers = new LinkedHashMap<>(real);
        int n = c.config().vision().numPositions();
        buffers.put("vision_model.embeddings.position_ids", TorchBinWriter.i64("vision_model.embeddings.position_ids",
                new long[] {1, n}, LongStream.range(0, n).toArray()));
        assertThat(ClipModel.load(new StateDict("buffers", buffers), c.config(), THREADS.get(), WeightPrecision.F32))
                .isNotNull();
    }

    @Test
    void anActivationThisPortDoesNotRunIsRefusedByName() throws Exception {
        ClipParityTest.Case c = ClipParityTest.cases().get(0);
        List<TensorData> real = tensorsOf(c.dir());
        Map<String, TensorData> byName = new LinkedHashMap<>();
        real.forEach(t -> byName.put(t.name(), t));
        for (String tower : List.of("text_config", "vision_config")) {
            ClipConfig cfg = withField(c, tower, "hidden_act", "gelu_new");
            assertThatThrownBy(() -> ClipModel.load(new StateDict("act", byName), cfg, THREADS.get(),
                    WeightPrecision.F32))
                    .as(tower)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(tower)
                    .hasMessageContaining("'gelu_new'")
                    .hasMessageContaining("quick_gelu");
        }
    }

    /** The fixture model's config with one field changed (top level when {@code section} is null). */
    private static ClipConfig withField(ClipParityTest.Case c, String section, String field, Object value)
            throws IOException {
        ObjectNode root = (ObjectNode) new ObjectMapper().readTree(c.dir().resolve("config.json").toFile());
        ObjectNode target = section == null ? root
                : root.has(section) ? (ObjectNode) root.get(section) : root.putObject(section);
        if (value instanceof Integer i) {
            target.put(field, i);
        } else {
            target.put(field, value.toString());
        }
        return ClipConfig.fromJson(root, "edited config.json");
    }
}
