package org.blipjava.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import javax.imageio.ImageIO;
import org.blipjava.capfilt.TarShards;
import org.blipjava.testing.ChildJvm;
import org.blipjava.testing.Fixtures;
import org.blipjava.testing.TestFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code blip capfilt} through {@link Main#run} with the fixture's tiny captioner and filter. */
class CapfiltCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    record Run(int exit, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(exit, out.toString(), err.toString());
    }

    private Path dataset(int n) throws IOException {
        Path dir = tmp.resolve("data");
        Files.createDirectories(dir);
        StringBuilder jsonl = new StringBuilder();
        for (int i = 0; i < n; i++) {
            BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = img.createGraphics();
            g.setColor(new Color((40 * i) % 256, Math.floorMod(200 - 30 * i, 256), 90));
            g.fillRect(0, 0, 16, 16);
            g.dispose();
            ImageIO.write(img, "png", dir.resolve(i + ".png").toFile());
            jsonl.append(JSON.writeValueAsString(Map.of("image", i + ".png", "caption", "a square number " + i)))
                    .append('\n');
        }
        Files.writeString(dir.resolve("captions.jsonl"), jsonl);
        return dir;
    }

    @Test
    void runsStopsResumesAndPrintsCounts() throws IOException {
        for (Fixtures.FixtureSet set : Fixtures.sets(Fixtures.Kind.BLIP)) {
            Path data = dataset(5);
            String cap = set.model("tiny-caption").toString();
            String itm = set.model("tiny-itm").toString();
            Path out = tmp.resolve("out-" + set.name());
            String[] base = {"capfilt", "--captioner", cap, "--filter", itm, "--input", data.toString(), "--output",
                out.toString(), "--num-captions", "2", "--top-k", "1", "--shard-size", "2", "--threads", "2",
                "--no-progress"};
            String[] stop = concat(base, "--stop-after-shards", "1");
            Run first = run(stop);
            assertEquals(0, first.exit(), first.err());
            assertTrue(first.out().contains("run the same command again"), first.out());
            Run second = run(concat(base, "--json"));
            assertEquals(0, second.exit(), second.err());
            JsonNode doc = JSON.readTree(second.out());
            assertTrue(doc.get("complete").asBoolean());
            assertEquals(5, doc.get("images").asInt());
            assertEquals(3, doc.get("images_this_run").asInt());
            JsonNode counts = doc.get("counts");
            assertEquals(5, counts.get("webKept").asInt() + counts.get("syntheticKept").asInt(), "top-1 per image");
            assertTrue(Files.isRegularFile(out.resolve("captions.jsonl")));
            assertTrue(Files.isRegularFile(out.resolve("report.html")));
        }
    }

    /**
     * A run killed with SIGKILL (no shutdown hooks, no finally blocks) in a separate JVM, then
     * run again, leaves exactly the files of an uninterrupted run.
     */
    @Test
    void aRunKilledWithSigkillResumesToTheSameBytes() throws Exception {
        Fixtures.FixtureSet set = Fixtures.sets(Fixtures.Kind.BLIP).get(0);
        Path data = dataset(24);
        Path whole = tmp.resolve("whole");
        Path killed = tmp.resolve("killed");
        java.util.function.Function<Path, String[]> args = out -> new String[] {"capfilt", "--captioner",
            set.model("tiny-caption").toString(), "--filter", set.model("tiny-itm").toString(), "--input",
            data.toString(), "--output", out.toString(), "--num-captions", "2", "--top-k", "2", "--shard-size", "2",
            "--batch-size", "1", "--threads", "1", "--no-progress"};
        Run reference = run(args.apply(whole));
        assertEquals(0, reference.exit(), reference.err());

        java.util.List<String> cmd = ChildJvm.command(Main.class, java.util.List.of(args.apply(killed)));
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("child.log").toFile()).start();
        Path parts = killed.resolve("parts");
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (child.isAlive() && !hasFile(parts) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(child.isAlive(), "the child finished (or failed) before it could be killed: "
                + Files.readString(tmp.resolve("child.log")));
        child.destroyForcibly();
        assertEquals(137, child.waitFor(), "killed by SIGKILL");
        assertTrue(hasFile(parts), "at least one shard was written before the kill");
        assertFalse(Files.exists(killed.resolve("decisions.jsonl")), "the killed run had not finished");

        Run resumed = run(args.apply(killed));
        assertEquals(0, resumed.exit(), resumed.err());
        TestFiles.assertSameFiles(whole, killed);
    }

    private static boolean hasFile(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (var s = Files.list(dir)) {
            return s.anyMatch(f -> !f.getFileName().toString().startsWith("."));
        }
    }

    @Test
    void wrongModelsAndFlagsFailWithOneLine() throws IOException {
        Fixtures.FixtureSet set = Fixtures.sets(Fixtures.Kind.BLIP).get(0);
        Path data = dataset(1);
        String cap = set.model("tiny-caption").toString();
        String itm = set.model("tiny-itm").toString();
        Run swapped = run("capfilt", "--captioner", itm, "--filter", cap, "--input", data.toString(), "--output",
                tmp.resolve("o").toString(), "--no-progress");
        assertEquals(Main.EXIT_USAGE, swapped.exit());
        assertTrue(swapped.err().contains("--captioner"), swapped.err());
        assertEquals(1, swapped.err().strip().lines().count(), swapped.err());
        Run both = run("capfilt", "--captioner", cap, "--filter", itm, "--input", data.toString(), "--output",
                tmp.resolve("o").toString(), "--threshold", "0.3", "--top-k", "2");
        assertEquals(Main.EXIT_USAGE, both.exit());
        assertTrue(both.err().contains("exclude each other"), both.err());
        Run badP = run("capfilt", "--captioner", cap, "--filter", itm, "--input", data.toString(), "--output",
                tmp.resolve("o").toString(), "--top-p", "1.5");
        assertEquals(Main.EXIT_USAGE, badP.exit());
        assertTrue(badP.err().contains("--top-p"), badP.err());
        Run missing = run("capfilt", "--captioner", cap, "--filter", itm, "--input", tmp.resolve("nope").toString(),
                "--output", tmp.resolve("o2").toString(), "--no-progress");
        assertEquals(Main.EXIT_USAGE, missing.exit());
        assertTrue(missing.err().contains("nope"), missing.err());
        assertFalse(missing.err().contains("Exception"), missing.err());
    }

    /** Regression: an output folder equal to the input replaced the input's captions.jsonl. */
    @Test
    void anOutputInsideTheInputIsRefusedBeforeAnythingIsWritten() throws IOException {
        Fixtures.FixtureSet set = Fixtures.sets(Fixtures.Kind.BLIP).get(0);
        Path data = dataset(2);
        String before = Files.readString(data.resolve("captions.jsonl"));
        Run same = run("capfilt", "--captioner", set.model("tiny-caption").toString(), "--filter",
                set.model("tiny-itm").toString(), "--input", data.toString(), "--output", data.toString(), "--no-progress");
        assertEquals(Main.EXIT_USAGE, same.exit(), same.err());
        assertEquals(1, same.err().strip().lines().count(), same.err());
        assertTrue(same.err().contains("--output " + data) && same.err().contains("outside the input"), same.err());
        assertEquals(before, Files.readString(data.resolve("captions.jsonl")));
        assertFalse(Files.exists(data.resolve("parts")), "nothing written");

        // Tar shards with the output below them, through a link, before the models load (bogus names).
        Path shards = Files.createDirectories(tmp.resolve("shards"));
        try (var out = Files.newOutputStream(shards.resolve("data-000.tar"))) {
            TarShards.Writer w = new TarShards.Writer(out);
            w.add("a.png", Files.readAllBytes(data.resolve("0.png")));
            w.add("a.txt", "a square".getBytes(StandardCharsets.UTF_8));
            w.finish();
        }
        Path link = Files.createSymbolicLink(tmp.resolve("link"), shards);
        Run nested = run("capfilt", "--captioner", "no-such-model", "--filter", "no-such-model", "--input",
                shards.toString(), "--output", link.resolve("clean").toString(), "--no-progress");
        assertEquals(Main.EXIT_USAGE, nested.exit(), nested.err());
        assertTrue(nested.err().contains("is inside --input"), nested.err());
        assertFalse(Files.exists(shards.resolve("clean")), "nothing written");
    }

    /**
     * A truncated shard among good ones: the run uses what can be read, names the damage and a
     * caption without its image on stderr, and exits 1.
     */
    @Test
    void aDamagedShardAndAnOrphanCaptionAreReportedAndExitOne() throws IOException {
        Fixtures.FixtureSet set = Fixtures.sets(Fixtures.Kind.BLIP).get(0);
        Path data = dataset(4);
        Path shards = Files.createDirectories(tmp.resolve("shards"));
        for (int s = 0; s < 2; s++) {
            java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
            TarShards.Writer w = new TarShards.Writer(buf);
            for (int i = 2 * s; i < 2 * s + 2; i++) {
                w.add("k" + i + ".png", Files.readAllBytes(data.resolve(i + ".png")));
                w.add("k" + i + ".txt", ("a square number " + i).getBytes(StandardCharsets.UTF_8));
            }
            w.add("orphan" + s + ".txt", "no image".getBytes(StandardCharsets.UTF_8));
            w.finish();
            byte[] bytes = buf.toByteArray();
            // The first shard is cut in its second image.
            Files.write(shards.resolve("data-00" + s + ".tar"), s == 0 ? java.util.Arrays.copyOf(bytes, 3 * 512 + 100
                    + (Files.readAllBytes(data.resolve("0.png")).length + 511) / 512 * 512) : bytes);
        }
        Path out = tmp.resolve("out");
        Run r = run("capfilt", "--captioner", set.model("tiny-caption").toString(), "--filter",
                set.model("tiny-itm").toString(), "--input", shards.toString(), "--output", out.toString(),
                "--num-captions", "0", "--threads", "2", "--no-progress");
        assertEquals(1, r.exit(), r.err());
        assertTrue(r.err().contains("blip: data-000.tar: unreadable from byte"), r.err());
        assertTrue(r.err().contains("blip: data-001.tar: orphan1.txt skipped: sample orphan1 has no image"), r.err());
        assertFalse(r.err().contains("Exception"), r.err());
        assertTrue(r.out().contains("tar members skipped: 1; unreadable shard parts: 1"), r.out());
        assertTrue(r.out().contains(": 3 images"), "k0 before the damage, k2 and k3 after it: " + r.out());
    }

    @Test
    void missingRequiredOptionIsNamed() {
        Run r = run("capfilt", "--captioner", "x", "--filter", "y", "--input", tmp.toString());
        assertEquals(Main.EXIT_USAGE, r.exit());
        assertTrue(r.err().contains("missing --output"), r.err());
    }

    @Test
    void benchmarkWritesItsTable() throws IOException {
        Fixtures.FixtureSet set = Fixtures.sets(Fixtures.Kind.BLIP).get(0);
        Path out = tmp.resolve("bench");
        Run r = run("capfilt", "benchmark", "--captioner", set.model("tiny-caption").toString(), "--filter",
                set.model("tiny-itm").toString(), "--output", out.toString(), "--images", "10", "--noise", "0.5",
                "--train-images", "12", "--train-epochs", "1", "--batch-size", "6", "--queue-size", "12", "--threads", "2",
                "--caption-epochs", "1");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("| 10 | 5 |"), r.out());
        assertEquals(r.out(), Files.readString(out.resolve("benchmark.md")));
        assertTrue(r.out().contains("| noisy web captions | 10 |"), r.out());
        assertTrue(r.out().contains("| CapFilt bootstrapped |"), r.out());
        // The filter is fine-tuned by the retrieval trainer: 24 captions in batches of 6 for one epoch.
        assertTrue(Files.isRegularFile(out.resolve("filter/final/model.safetensors")));
        // As BLIP's filter, with a learned ITC temperature, recorded beside the model.
        assertTrue(Files.readString(out.resolve("filter/final/itc_temperature.json")).contains("\"learnable\": true"));
        assertTrue(Files.isRegularFile(out.resolve("filter/checkpoints/step-00000004/trainer_state.json")));
        assertTrue(r.out().contains("1 epochs of batch 6"), r.out());
    }

    @Test
    void benchmarkRejectsBadFineTuningSettings() {
        Run r = run("capfilt", "benchmark", "--captioner", "x", "--filter", "y", "--output", tmp.toString(),
                "--queue-size", "-1");
        assertEquals(Main.EXIT_USAGE, r.exit());
        assertTrue(r.err().contains("queue size"), r.err());
        r = run("capfilt", "benchmark", "--captioner", "x", "--filter", "y", "--output", tmp.toString(),
                "--train-epochs", "-2");
        assertEquals(Main.EXIT_USAGE, r.exit());
        assertTrue(r.err().contains("--train-epochs"), r.err());
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
