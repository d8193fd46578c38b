package org.blipjava.capfilt;

import static org.blipjava.testing.TestFiles.assertSameFiles;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.blipjava.data.CaptionDatasets;
import org.blipjava.data.CaptionSample;
import org.blipjava.data.Dataset;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.LoadOptions;
import org.blipjava.tasks.MatchScores;
import org.blipjava.testing.Fixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** CapFilt with the fixture's tiny captioner and filter on small generated datasets. */
class CapfiltTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] COLOURS = {"red", "green", "blue", "yellow", "black", "white", "purple"};
    private static final Color[] RGB = {Color.RED, Color.GREEN, Color.BLUE, Color.YELLOW, Color.BLACK, Color.WHITE,
        new Color(128, 0, 128)};
    private static final List<Blip[]> MODELS = new ArrayList<>();

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() {
        for (Fixtures.FixtureSet set : Fixtures.sets(Fixtures.Kind.BLIP)) {
            LoadOptions o = LoadOptions.defaults().withThreads(2);
            MODELS.add(new Blip[] {Blip.load(set.model("tiny-caption"), o), Blip.load(set.model("tiny-itm"), o)});
        }
    }

    @AfterAll
    static void close() {
        for (Blip[] m : MODELS) {
            m[0].close();
            m[1].close();
        }
    }

    private static CapFilter capFilter(Blip[] m, CapfiltSettings s) {
        return new CapFilter(m[0], m[1], s);
    }

    private static CapfiltSettings settings(int numCaptions, Integer topK) {
        return new CapfiltSettings(numCaptions, 0.9, 7, "a picture of ", 0.5, topK);
    }

    // ------------------------------------------------------------------ generated inputs

    static byte[] picture(int i, String format) throws IOException {
        BufferedImage img = new BufferedImage(20 + i % 5, 18 + i % 3, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.LIGHT_GRAY);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setColor(RGB[i % RGB.length]);
        g.fillOval(2 + i % 4, 2, 12, 12);
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, format, out);
        return out.toByteArray();
    }

    static String caption(int i) {
        return "a " + COLOURS[i % COLOURS.length] + " circle";
    }

    /** A folder of PNG images with captions.jsonl (two web captions on image 0 over two rows). */
    private Path jsonlDataset(Path dir, int n) throws IOException {
        Files.createDirectories(dir.resolve("img"));
        StringBuilder jsonl = new StringBuilder();
        for (int i = 0; i < n; i++) {
            Files.write(dir.resolve("img/p" + i + ".png"), picture(i, "png"));
            jsonl.append(JSON.writeValueAsString(Map.of("image", "img/p" + i + ".png", "caption", caption(i))))
                    .append('\n');
            if (i == 0) {
                jsonl.append(JSON.writeValueAsString(Map.of("image", "img/p0.png", "caption", "two, \"quoted\" words")))
                        .append('\n');
            }
        }
        Files.writeString(dir.resolve("captions.jsonl"), jsonl);
        return dir;
    }

    /** WebDataset shards: {@code n} samples over {@code shards} tar files, alternating JPEG and PNG. */
    private Path tarDataset(Path dir, int n, int shards) throws IOException {
        Files.createDirectories(dir);
        int per = (n + shards - 1) / shards;
        for (int s = 0; s < shards; s++) {
            try (OutputStream out = Files.newOutputStream(dir.resolve(String.format("data-%03d.tar", s)))) {
                TarShards.Writer w = new TarShards.Writer(out);
                for (int i = s * per; i < Math.min(n, (s + 1) * per); i++) {
                    String ext = i % 2 == 0 ? "jpg" : "png";
                    String key = String.format("sample%04d", i);
                    w.add(key + "." + ext, picture(i, ext.equals("jpg") ? "jpeg" : "png"));
                    w.add(key + ".txt", caption(i).getBytes(StandardCharsets.UTF_8));
                    w.add(key + ".json", "{}".getBytes(StandardCharsets.UTF_8));
                }
                w.finish();
            }
        }
        return dir;
    }

    private static List<JsonNode> jsonLines(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            if (!line.isBlank()) {
                out.add(JSON.readTree(line));
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ tests

    @Test
    void tarRoundTripKeepsEntriesAndRejectsLongNames() throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        TarShards.Writer w = new TarShards.Writer(buf);
        byte[] big = new byte[1500];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) (i * 31);
        }
        w.add("a/b.c.jpg", big);
        w.add("empty.txt", new byte[0]);
        assertThrows(IllegalArgumentException.class, () -> w.add("x".repeat(101), new byte[1]));
        w.finish();
        assertEquals(0, buf.size() % 512);
        TarShards.Reader r = new TarShards.Reader(new ByteArrayInputStream(buf.toByteArray()), "mem");
        TarShards.Entry e1 = r.next();
        assertEquals("a/b.c.jpg", e1.name());
        assertArrayEquals(big, e1.data());
        assertEquals("empty.txt", r.next().name());
        assertNull(r.next());
        assertArrayEquals(new String[] {"a/b", "c.jpg"}, TarShards.splitName("a/b.c.jpg"));
        byte[] cut = java.util.Arrays.copyOf(buf.toByteArray(), 900);
        TarShards.Reader truncated = new TarShards.Reader(new ByteArrayInputStream(cut), "cut.tar");
        IOException ex = assertThrows(IOException.class, truncated::next);
        assertTrue(ex.getMessage().contains("cut.tar"), ex.getMessage());
    }

    @Test
    void jsonlDecisionsMatchTheFilterAndTheOutputIsTheKeptCaptions() throws IOException {
        for (Blip[] m : MODELS) {
            Path in = jsonlDataset(tmp.resolve("in"), 5);
            Path out = tmp.resolve("out");
            CapfiltSettings s = settings(2, null);
            CapfiltRun.Summary sum = new CapfiltRun(capFilter(m, s), in, out, new CapfiltRun.Options(2, 2, null))
                    .run(new CapfiltRun.Listener() {});
            assertTrue(sum.complete());
            assertEquals(InputFormat.JSONL, sum.format());
            assertEquals(5, sum.images());
            try (Stream<Path> parts = Files.list(out.resolve(CapfiltRun.PARTS))) {
                assertEquals(3, parts.count(), "5 images in shards of 2");
            }

            List<JsonNode> decisions = jsonLines(out.resolve(CapfiltRun.DECISIONS));
            Map<String, List<JsonNode>> byImage = new HashMap<>();
            for (JsonNode d : decisions) {
                byImage.computeIfAbsent(d.get("image").asText(), k -> new ArrayList<>()).add(d);
            }
            assertEquals(5, byImage.size());
            long web = decisions.stream().filter(d -> d.get("source").asText().equals("web")).count();
            assertEquals(6, web, "every web caption, both rows of image 0 merged");
            // The filter's scores, recomputed directly, and the threshold rule.
            for (var e : byImage.entrySet()) {
                Path image = out.resolve(e.getKey()).normalize();
                assertTrue(Files.isRegularFile(image), "refs resolve from the output folder: " + e.getKey());
                List<String> texts = e.getValue().stream().map(d -> d.get("caption").asText()).toList();
                MatchScores ms = m[1].match(List.of(Blip.readImage(image)), texts);
                long synthetic = e.getValue().stream().filter(d -> d.get("source").asText().equals("synthetic")).count();
                assertTrue(synthetic <= 2);
                for (int t = 0; t < texts.size(); t++) {
                    JsonNode d = e.getValue().get(t);
                    assertEquals(ms.itm(0, t), d.get("itm").floatValue(), 1e-6, texts.get(t));
                    assertEquals(ms.itc(0, t), d.get("itc").floatValue(), 1e-6, texts.get(t));
                    assertEquals(d.get("itm").floatValue() >= 0.5f, d.get("kept").asBoolean());
                    assertFalse(texts.get(t).startsWith("a picture of"), "the prompt is cut: " + texts.get(t));
                }
            }
            // The new dataset holds exactly the kept captions, in the input's format, readable again.
            Dataset<CaptionSample> ds = CaptionDatasets.read(out, null, null);
            assertEquals("jsonl", ds.format());
            Map<String, List<String>> kept = new HashMap<>();
            decisions.stream().filter(d -> d.get("kept").asBoolean()).forEach(d -> kept
                    .computeIfAbsent(d.get("image").asText(), k -> new ArrayList<>()).add(d.get("caption").asText()));
            kept.replaceAll((k, v) -> v.stream().distinct().toList());
            Map<String, List<String>> written = new HashMap<>();
            ds.samples().forEach(x -> written.put(x.id(), x.captions()));
            assertEquals(kept, written);
            assertTrue(ds.skipped().isEmpty(), "every written image exists: " + ds.skipped());
            // Report files.
            BufferedImage png = ImageIO.read(out.resolve(CapfiltReport.HISTOGRAM).toFile());
            assertNotNull(png);
            String html = Files.readString(out.resolve(CapfiltReport.HTML));
            assertTrue(html.contains("web captions kept"));
            JsonNode summary = JSON.readTree(out.resolve(CapfiltReport.SUMMARY).toFile());
            assertEquals(web, summary.get("web").asLong());
            assertEquals(decisions.stream().filter(d -> d.get("kept").asBoolean()).count(),
                    summary.get("webKept").asLong() + summary.get("syntheticKept").asLong());
            long histTotal = 0;
            for (JsonNode x : summary.get("itm_histogram_web")) {
                histTotal += x.asLong();
            }
            assertEquals(web, histTotal);
            deleteRecursively(tmp);
        }
    }

    @Test
    void syntheticCaptionsAreSeededPerImageAndTopKKeepsK() throws IOException {
        for (Blip[] m : MODELS) {
            CapFilter f = capFilter(m, settings(3, 2));
            WebPair a = new WebPair("img/a.png", null, picture(1, "png"), "png", List.of(caption(1)), null);
            WebPair b = new WebPair("img/b.png", null, picture(1, "png"), "png", List.of(caption(1)), null);
            List<String> a1 = f.synthesize(f.prepare(a));
            List<String> a2 = f.synthesize(f.prepare(a));
            assertEquals(a1, a2, "same key, same seed, same captions");
            List<Decision> d = f.decide(f.prepare(a));
            assertEquals(2, d.stream().filter(Decision::kept).count());
            float minKept = (float) d.stream().filter(Decision::kept).mapToDouble(Decision::itm).min().orElseThrow();
            float maxRemoved = (float) d.stream().filter(x -> !x.kept()).mapToDouble(Decision::itm).max().orElse(-1);
            assertTrue(minKept >= maxRemoved);
            assertTrue(f.settings().imageSeed(a.key()) != f.settings().imageSeed(b.key()));
            assertTrue(f.settings().imageSeed(a.key()) != new CapfiltSettings(3, 0.9, 8, null, 0.5, 2)
                    .imageSeed(a.key()));
        }
    }

    @Test
    void interruptedWebDatasetRunResumesToTheSameBytes() throws IOException {
        for (Blip[] m : MODELS) {
            Path in = tarDataset(tmp.resolve("shards"), 7, 2);
            CapfiltSettings s = settings(1, null);
            Path whole = tmp.resolve("whole");
            new CapfiltRun(capFilter(m, s), in, whole, new CapfiltRun.Options(3, 2, null))
                    .run(new CapfiltRun.Listener() {});

            // Stopped after one shard, then resumed with another batch size.
            Path stopped = tmp.resolve("stopped");
            CapfiltRun.Summary first = new CapfiltRun(capFilter(m, s), in, stopped, new CapfiltRun.Options(3, 2, 1))
                    .run(new CapfiltRun.Listener() {});
            assertFalse(first.complete());
            assertEquals(3, first.images());
            assertFalse(Files.exists(stopped.resolve(CapfiltRun.DECISIONS)));
            CapfiltRun.Summary second = new CapfiltRun(capFilter(m, s), in, stopped, new CapfiltRun.Options(3, 1, null))
                    .run(new CapfiltRun.Listener() {});
            assertEquals(4, second.imagesThisRun());
            assertSameFiles(whole, stopped);

            // Killed inside the second shard (an exception mid-run), then rerun.
            Path crashed = tmp.resolve("crashed");
            RuntimeException boom = assertThrows(RuntimeException.class, () -> new CapfiltRun(capFilter(m, s), in,
                    crashed, new CapfiltRun.Options(3, 1, null)).run(new CapfiltRun.Listener() {
                        @Override
                        public void progress(long images) {
                            if (images == 5) {
                                throw new IllegalStateException("killed");
                            }
                        }
                    }));
            assertEquals("killed", boom.getMessage());
            new CapfiltRun(capFilter(m, s), in, crashed, new CapfiltRun.Options(3, 2, null))
                    .run(new CapfiltRun.Listener() {});
            assertSameFiles(whole, crashed);

            // The output is WebDataset shards of the kept pairs, readable as input again.
            List<String> keys = new ArrayList<>();
            try (PairReader r = PairReader.open(whole)) {
                assertEquals(InputFormat.WEBDATASET, r.format());
                for (WebPair p = r.next(); p != null; p = r.next()) {
                    keys.add(p.key());
                    assertFalse(p.captions().isEmpty());
                    assertNotNull(Blip.readImage(writeTemp(p)));
                }
            }
            long imagesKept = JSON.readTree(whole.resolve(CapfiltReport.SUMMARY).toFile()).get("imagesKept").asLong();
            assertEquals(imagesKept, keys.size());

            // Resuming with other settings is refused, naming the folder.
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> new CapfiltRun(
                    capFilter(m, settings(2, null)), in, whole, new CapfiltRun.Options(3, 2, null))
                    .run(new CapfiltRun.Listener() {}));
            assertTrue(ex.getMessage().contains(whole.toString()), ex.getMessage());
            deleteRecursively(tmp);
        }
    }

    private Path writeTemp(WebPair p) throws IOException {
        Path f = Files.createTempFile(tmp, "img", "." + p.imageExt());
        Files.write(f, p.imageBytes());
        return f;
    }

    @Test
    void csvAndJsonFormatsAreWrittenBackInTheirFormatAndBadImagesAreReported() throws IOException {
        for (Blip[] m : MODELS) {
            Path in = tmp.resolve("in");
            Files.createDirectories(in);
            for (int i = 0; i < 3; i++) {
                Files.write(in.resolve("i" + i + ".png"), picture(i, "png"));
            }
            Files.writeString(in.resolve("broken.png"), "not an image");
            Files.writeString(in.resolve("captions.csv"), "image,caption\ni0.png,\"a red, round thing\"\n"
                    + "broken.png,nothing\ni1.png,a green circle\ni2.png,a blue circle\n");
            CapfiltSettings s = new CapfiltSettings(0, 0.9, 0, null, 0.0, null);
            Path out = tmp.resolve("out-csv");
            CapfiltRun.Summary sum = new CapfiltRun(capFilter(m, s), in.resolve("captions.csv"), out,
                    new CapfiltRun.Options(10, 4, null)).run(new CapfiltRun.Listener() {});
            assertEquals(1, sum.counts().failed());
            assertEquals(3, sum.counts().webKept(), "threshold 0 keeps every web caption");
            Dataset<CaptionSample> ds = CaptionDatasets.read(out.resolve("captions.csv"), null, null);
            assertEquals(List.of("a red, round thing"), ds.samples().get(0).captions());
            assertTrue(Files.readString(out.resolve(CapfiltReport.HTML)).contains("broken.png"));

            Files.writeString(in.resolve("karpathy.json"), "{\"info\": {\"x\": [1, 2]}, \"images\": ["
                    + "{\"filepath\": \"\", \"filename\": \"i0.png\", \"split\": \"train\", \"sentences\": [{\"raw\": \"a red circle\"}]},"
                    + "{\"filepath\": \"\", \"filename\": \"i1.png\", \"split\": \"val\", \"sentences\": [{\"raw\": \"a green circle\"}]}]}");
            Path outK = tmp.resolve("out-k");
            new CapfiltRun(capFilter(m, s), in.resolve("karpathy.json"), outK, new CapfiltRun.Options(10, 4, null))
                    .run(new CapfiltRun.Listener() {});
            Dataset<CaptionSample> k = CaptionDatasets.read(outK, null, "val");
            assertEquals("coco-karpathy", k.format());
            assertEquals(1, k.samples().size());
            assertEquals(List.of("a green circle"), k.samples().get(0).captions());
            try (PairReader r = PairReader.open(outK)) {
                assertEquals(InputFormat.COCO_KARPATHY, r.format());
            }

            Files.writeString(in.resolve("blip.json"), "[{\"image\": \"i2.png\", \"caption\": [\"a blue circle\", "
                    + "\"round and blue\"]}, {\"image\": \"i0.png\", \"caption\": \"a red circle\"}]");
            Path outB = tmp.resolve("out-b");
            new CapfiltRun(capFilter(m, s), in.resolve("blip.json"), outB, new CapfiltRun.Options(1, 1, null))
                    .run(new CapfiltRun.Listener() {});
            Dataset<CaptionSample> bl = CaptionDatasets.read(outB, null, null);
            assertEquals("blip-json", bl.format());
            assertEquals(List.of("a blue circle", "round and blue"), bl.samples().get(0).captions());
            assertEquals(2, bl.samples().size());
            deleteRecursively(tmp);
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                if (!p.equals(dir)) {
                    Files.delete(p);
                }
            }
        }
    }
}
