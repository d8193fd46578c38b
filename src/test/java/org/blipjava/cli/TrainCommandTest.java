package org.blipjava.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.LoadOptions;
import org.blipjava.testing.Fixtures;
import org.blipjava.training.ShapesData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code blip train} end to end on the fixture's tiny captioner. */
class TrainCommandTest {
    private static String tinyCaption() {
        return Fixtures.sets(Fixtures.Kind.BLIP).getFirst().model("tiny-caption").toString();
    }

    @Test
    void shapesDemoTrainsValidatesAndSavesALoadableModel(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run");
        CliRun r = CliRun.run("train", "--model", tinyCaption(), "--shapes-demo", "--output", out.toString(),
                "--epochs", "1", "--batch-size", "8", "--lr", "1e-3", "--prompt", "a picture of ", "--threads", "2",
                "--no-progress", "--log-every", "4", "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode doc = r.json();
        assertThat(doc.get("completed").asBoolean()).isTrue();
        assertThat(doc.get("steps").asInt()).isEqualTo(2 * 48 / 8);
        assertThat(doc.get("losses")).hasSize(doc.get("steps").asInt());
        assertThat(doc.get("validations")).hasSize(1);
        assertThat(doc.at("/validations/0/outputs")).hasSize(ShapesData.kinds());
        assertThat(r.err()).contains("step 4/12").contains("validation at step 12");
        try (Blip blip = Blip.load(Path.of(doc.get("final_model").asText()), LoadOptions.defaults().withThreads(1))) {
            assertThat(blip.caption(out.resolve("shapes-data").resolve("val-0000.png")).text()).isNotNull();
        }
    }

    @Test
    void vqaShapesDemoReportsAccuracy(@TempDir Path tmp) throws Exception {
        String vqaModel = Fixtures.sets(Fixtures.Kind.BLIP).getFirst().model("tiny-vqa").toString();
        CliRun r = CliRun.run("train", "--task", "vqa", "--model", vqaModel, "--shapes-demo", "--output",
                tmp.resolve("run").toString(), "--epochs", "1", "--batch-size", "16", "--threads", "2", "--no-progress");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("VQA accuracy").contains("trained model:");
    }

    @Test
    void retrievalShapesDemoReportsRecall(@TempDir Path tmp) throws Exception {
        String itm = Fixtures.sets(Fixtures.Kind.BLIP).getFirst().model("tiny-itm").toString();
        CliRun r = CliRun.run("train", "--task", "retrieval", "--model", itm, "--shapes-demo", "--output",
                tmp.resolve("run").toString(), "--epochs", "1", "--batch-size", "16", "--queue-size", "16",
                "--threads", "2", "--no-progress", "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode v = r.json().at("/validations/0");
        assertThat(v.has("t2i_r1") && v.has("i2t_r1")).isTrue();
        assertThat(Path.of(r.json().get("last_checkpoint").asText()).resolve("task_state.safetensors")).isRegularFile();
        // BLIP's learned temperature: reported, and written beside the model (not into it).
        double temp = r.json().get("itc_temperature").asDouble();
        assertThat(temp).isBetween(0.001, 0.5).isNotEqualTo((double) 0.07f);
        JsonNode vs = r.json().get("validations");
        assertThat(vs.get(vs.size() - 1).get("itc_temperature").asDouble()).isEqualTo(temp);
        assertThat(Path.of(r.json().get("final_model").asText()).resolve("itc_temperature.json")).isRegularFile();
    }

    @Test
    void retrievalWithAFixedTemperatureKeepsIt(@TempDir Path tmp) throws Exception {
        String itm = Fixtures.sets(Fixtures.Kind.BLIP).getFirst().model("tiny-itm").toString();
        CliRun r = CliRun.run("train", "--task", "retrieval", "--model", itm, "--shapes-demo", "--output",
                tmp.resolve("run").toString(), "--epochs", "1", "--batch-size", "16", "--queue-size", "16",
                "--temperature", "0.05", "--fixed-temperature", "--threads", "2", "--no-progress");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("ITC temperature at the end: 0.0500000");

        CliRun bad = CliRun.run("train", "--task", "retrieval", "--model", itm, "--shapes-demo", "--output",
                tmp.resolve("bad").toString(), "--temperature", "0.9", "--no-progress");
        assertThat(bad.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(bad.err()).contains("0.9").contains("clamp");
    }

    @Test
    void configFileSettingsStopEarlyAndResumeContinues(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("data");
        ShapesData.write(data, "train", 8, 64, 9);
        Path cfg = tmp.resolve("train.json");
        Files.writeString(cfg, "{\"model\": \"" + tinyCaption().replace("\\", "\\\\") + "\", \"train\": \"data/train.json\","
                + " \"epochs\": 2, \"batch-size\": 4, \"max-steps\": 3, \"no-augment\": true, \"threads\": 1}");
        Path out = tmp.resolve("run");
        CliRun first = CliRun.run("train", "--config", cfg.toString(), "--output", out.toString(),
                "--no-progress", "--json");
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(first.json().get("steps").asInt()).isEqualTo(3);
        assertThat(first.json().get("completed").asBoolean()).isFalse();

        CliRun again = CliRun.run("train", "--config", cfg.toString(), "--output", out.toString(), "--no-progress");
        assertThat(again.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(again.err()).contains("--resume");

        // The command line wins over the file: --max-steps 0 runs the schedule to its end.
        CliRun resumed = CliRun.run("train", "--config", cfg.toString(), "--output", out.toString(), "--resume",
                "--max-steps", "0", "--no-progress", "--json");
        assertThat(resumed.exit()).as(resumed.err()).isZero();
        assertThat(resumed.json().get("steps").asInt()).isEqualTo(8);
        assertThat(resumed.json().get("losses")).hasSize(8);
        assertThat(resumed.json().get("completed").asBoolean()).isTrue();
        assertThat(resumed.err()).contains("resuming at step 3 of 8");
    }

    @Test
    void resumingWithoutTheRandAugmentOfTheCheckpointIsRefused(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("data");
        ShapesData.write(data, "train", 8, 64, 9);
        Path out = tmp.resolve("run");
        String[] common = {"train", "--model", tinyCaption(), "--train", data.resolve("train.json").toString(),
            "--output", out.toString(), "--epochs", "1", "--batch-size", "4", "--threads", "1", "--no-progress"};
        CliRun first = CliRun.run(concat(common, "--randaugment", "3,7", "--max-steps", "1"));
        assertThat(first.exit()).as(first.err()).isZero();

        CliRun without = CliRun.run(concat(common, "--resume", "--no-randaugment"));
        assertThat(without.exit()).isNotZero();
        assertThat(without.err()).contains("randaugment = \"3,7:Identity").contains("(off)");
        CliRun other = CliRun.run(concat(common, "--resume"));
        assertThat(other.exit()).isNotZero();
        assertThat(other.err()).contains("randaugment").contains("2,5:Identity");
        CliRun same = CliRun.run(concat(common, "--resume", "--randaugment", "3,7"));
        assertThat(same.exit()).as(same.err()).isZero();
        assertThat(same.err()).contains("resuming at step 1");
    }

    /** A quick run's arguments: 8 shapes with 2 captions each, batch 4, one epoch (4 steps). */
    private static String[] quick(Path tmp, Path out) throws Exception {
        Path data = tmp.resolve("data");
        if (!Files.exists(data.resolve("train.json"))) {
            ShapesData.write(data, "train", 8, 64, 9);
        }
        return new String[] {"train", "--model", tinyCaption(), "--train", data.resolve("train.json").toString(),
            "--output", out.toString(), "--epochs", "1", "--batch-size", "4", "--no-augment", "--threads", "1",
            "--no-progress"};
    }

    @Test
    void resumeWithoutACheckpointStartsOnlyInANewOrEmptyFolder(@TempDir Path tmp) throws Exception {
        // A folder with other things in it: probably the wrong --output, so refused before any training.
        Path other = tmp.resolve("other");
        Files.createDirectories(other);
        Files.writeString(other.resolve("notes.txt"), "not a training run");
        CliRun refused = CliRun.run(concat(quick(tmp, other), "--resume", "--max-steps", "1"));
        assertThat(refused.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(refused.err()).contains("--resume: " + other + " holds no checkpoint")
                .contains("leave out --resume").doesNotContain("step 1/").doesNotContain("\tat ");
        assertThat(other.resolve("checkpoints")).doesNotExist();

        // A new folder: the run starts at step 0 and says so.
        Path fresh = tmp.resolve("fresh");
        CliRun started = CliRun.run(concat(quick(tmp, fresh), "--resume", "--max-steps", "1"));
        assertThat(started.exit()).as(started.err()).isZero();
        assertThat(started.err()).contains("blip: --resume: " + fresh + " holds no checkpoint yet; training starts"
                + " at step 0");
        CliRun again = CliRun.run(concat(quick(tmp, fresh), "--resume", "--max-steps", "2"));
        assertThat(again.exit()).as(again.err()).isZero();
        assertThat(again.err()).contains("resuming at step 1 of 4").doesNotContain("holds no checkpoint");
    }

    @Test
    void anOutputThatIsAFileIsRefusedBeforeTheModelIsLoaded(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("out.txt");
        Files.writeString(file, "x");
        // The model does not exist either: the output is checked first, without loading anything.
        String[] args = quick(tmp, file);
        args[2] = tmp.resolve("no-such-model").toString();
        CliRun r = CliRun.run(args);
        assertThat(r.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(r.err()).contains("--output " + file + " is a file").doesNotContain("no-such-model");

        CliRun under = CliRun.run(quick(tmp, file.resolve("run")));
        assertThat(under.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(under.err()).contains(file + " is a file, so the directory cannot be created")
                .doesNotContain("step 1/");

        Path run = tmp.resolve("run");
        Files.createDirectories(run);
        Files.writeString(run.resolve("checkpoints"), "x");
        CliRun blocked = CliRun.run(quick(tmp, run));
        assertThat(blocked.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(blocked.err()).contains(run.resolve("checkpoints") + " is a file where the run writes a directory")
                .doesNotContain("step 1/");

        CliRun noData = CliRun.run("train", "--model", tmp.resolve("no-such-model").toString(), "--train",
                tmp.resolve("missing.json").toString(), "--output", tmp.resolve("o").toString());
        assertThat(noData.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(noData.err()).contains("--train " + tmp.resolve("missing.json") + ": no such file");
    }

    @Test
    void aDamagedCheckpointIsNamedAndTheRunFallsBackToTheOneBefore(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run");
        CliRun first = CliRun.run(concat(quick(tmp, out), "--checkpoint-every", "1", "--max-steps", "2"));
        assertThat(first.exit()).as(first.err()).isZero();
        Path step1 = out.resolve("checkpoints/step-00000001");
        Path step2 = out.resolve("checkpoints/step-00000002");
        Files.writeString(step2.resolve("trainer_state.json"), "garbage{");

        CliRun resumed = CliRun.run(concat(quick(tmp, out), "--checkpoint-every", "1", "--resume", "--max-steps", "3"));
        assertThat(resumed.exit()).as(resumed.err()).isZero();
        assertThat(resumed.err()).contains("blip: checkpoint " + step2 + " is damaged, so the run resumes from an"
                + " earlier one: " + step2.resolve("trainer_state.json") + ": not valid JSON")
                .contains("resuming at step 1 of 4");

        // With no intact checkpoint left (step 1 was pruned, two are kept): one line naming every damaged
        // file, and no training.
        assertThat(step1).doesNotExist();
        Files.writeString(out.resolve("checkpoints/step-00000003/trainer_state.json"), "[]");
        Files.delete(out.resolve("checkpoints/step-00000002/model.safetensors"));
        CliRun none = CliRun.run(concat(quick(tmp, out), "--checkpoint-every", "1", "--resume"));
        assertThat(none.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(none.err().lines().toList()).hasSize(1);
        assertThat(none.err()).contains(out.resolve("checkpoints/step-00000003/trainer_state.json")
                + ": not a JSON object").contains(step2.resolve("model.safetensors") + " is missing");
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    @Test
    void badSettingsEndWithOneLine(@TempDir Path tmp) throws Exception {
        CliRun task = CliRun.run("train", "--task", "pretrain", "--model", tinyCaption(), "--shapes-demo",
                "--output", tmp.toString());
        assertThat(task.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(task.err()).contains("--task pretrain is not supported");

        CliRun wrongModel = CliRun.run("train", "--task", "vqa", "--model", tinyCaption(), "--shapes-demo",
                "--output", tmp.resolve("w").toString(), "--no-progress");
        assertThat(wrongModel.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(wrongModel.err()).contains("BlipForQuestionAnswering");

        Path cfg = tmp.resolve("c.json");
        Files.writeString(cfg, "{\"epochz\": 3}");
        CliRun unknown = CliRun.run("train", "--config", cfg.toString());
        assertThat(unknown.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(unknown.err()).contains("unknown setting 'epochz'");

        Files.writeString(cfg, "{\"epochs\": \"three\"}");
        CliRun typed = CliRun.run("train", "--config", cfg.toString());
        assertThat(typed.err()).contains("'epochs' must be a whole number");

        CliRun lr = CliRun.run("train", "--model", tinyCaption(), "--shapes-demo", "--output", tmp.toString(),
                "--lr", "-1");
        assertThat(lr.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(lr.err()).contains("lr");

        CliRun ra = CliRun.run("train", "--model", tinyCaption(), "--shapes-demo", "--output", tmp.toString(),
                "--randaugment", "2,12");
        assertThat(ra.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(ra.err()).contains("--randaugment").contains("magnitude");
    }
}
