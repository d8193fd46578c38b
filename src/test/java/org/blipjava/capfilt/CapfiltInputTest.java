package org.blipjava.capfilt;

import static org.blipjava.capfilt.CapfiltTest.caption;
import static org.blipjava.capfilt.CapfiltTest.picture;
import static org.blipjava.testing.TestFiles.assertSameFiles;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.LoadOptions;
import org.blipjava.testing.Fixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CapFilt on bad input: nested input and output folders, tar members with unsafe names, links
 * and captions without images, damaged shards, captions longer than the filter reads.
 */
class CapfiltInputTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Blip captioner;
    private static Blip filter;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() {
        Fixtures.FixtureSet set = Fixtures.sets(Fixtures.Kind.BLIP).get(0);
        LoadOptions o = LoadOptions.defaults().withThreads(2);
        captioner = Blip.load(set.model("tiny-caption"), o);
        filter = Blip.load(set.model("tiny-itm"), o);
    }

    @AfterAll
    static void close() {
        captioner.close();
        filter.close();
    }

    /** Web captions only, every one kept: what is in the output depends on the input alone. */
    private static CapFilter keepAll() {
        return new CapFilter(captioner, filter, new CapfiltSettings(0, 0.9, 0, null, 0.0, null));
    }

    // ------------------------------------------------------------------ raw tar archives

    /**
     * Appends one ustar entry of any type and name, unlike {@link TarShards.Writer}, which
     * refuses the unsafe names these tests need.
     */
    static void rawEntry(OutputStream out, String name, char type, String link, byte[] data) throws IOException {
        byte[] h = new byte[512];
        put(h, 0, name);
        put(h, 100, "0000644");
        put(h, 108, "0000000");
        put(h, 116, "0000000");
        put(h, 124, String.format("%011o", data.length));
        put(h, 136, "00000000000");
        h[156] = (byte) type;
        put(h, 157, link);
        put(h, 257, "ustar");
        put(h, 263, "00");
        Arrays.fill(h, 148, 156, (byte) ' ');
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        put(h, 148, String.format("%06o", sum));
        out.write(h);
        out.write(data);
        out.write(new byte[(512 - data.length % 512) % 512]);
    }

    private static void put(byte[] h, int off, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(b, 0, h, off, b.length);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The names of the regular files of a tar file. */
    private static List<String> memberNames(Path tar) throws IOException {
        List<String> names = new ArrayList<>();
        try (InputStream in = Files.newInputStream(tar)) {
            TarShards.Reader r = new TarShards.Reader(in, tar.toString());
            for (TarShards.Entry e = r.next(); e != null; e = r.next()) {
                names.add(e.name());
            }
        }
        return names;
    }

    private static List<JsonNode> jsonLines(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            out.add(JSON.readTree(line));
        }
        return out;
    }

    /** Records what the run reports as skipped. */
    private static final class Recorder implements CapfiltRun.Listener {
        final List<Skipped> skipped = new ArrayList<>();

        @Override
        public void skipped(Skipped s) {
            skipped.add(s);
        }
    }

    // ------------------------------------------------------------------ nested input and output

    @Test
    void nestedInputAndOutputAreRefusedByRealPath() throws IOException {
        Path data = Files.createDirectories(tmp.resolve("data"));
        Files.writeString(data.resolve("captions.jsonl"), "");
        Path file = data.resolve("captions.jsonl");
        Map<String, Path[]> refused = new LinkedHashMap<>();
        refused.put("the same folder", new Path[] {data, data});
        refused.put("an output inside the input, not there yet", new Path[] {data, data.resolve("clean/deeper")});
        refused.put("an output holding the input", new Path[] {data, tmp});
        refused.put("an output holding the input file", new Path[] {file, data});
        refused.put("the input file as the output", new Path[] {file, file});
        refused.put("a lexical detour", new Path[] {data, tmp.resolve("elsewhere/../data/out")});
        Path link = Files.createSymbolicLink(tmp.resolve("link"), data);
        refused.put("a link to the input", new Path[] {data, link});
        refused.put("below a link to the input, not there yet", new Path[] {data, link.resolve("new/out")});
        refused.put("the input through a link, the output real", new Path[] {link, data.resolve("out")});
        Path dangling = Files.createSymbolicLink(tmp.resolve("dangling"), data.resolve("not-yet"));
        refused.put("a dangling link into the input", new Path[] {data, dangling.resolve("out")});
        for (var e : refused.entrySet()) {
            Path in = e.getValue()[0];
            Path out = e.getValue()[1];
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                    () -> CapfiltRun.requireSeparate(in, out), e.getKey());
            assertTrue(ex.getMessage().contains("--output " + out) && ex.getMessage().contains("--input " + in),
                    e.getKey() + ": " + ex.getMessage());
        }
        IllegalArgumentException viaLink = assertThrows(IllegalArgumentException.class,
                () -> CapfiltRun.requireSeparate(data, link.resolve("new/out")));
        assertTrue(viaLink.getMessage().contains("real paths " + data.toRealPath().resolve("new/out")),
                viaLink.getMessage());

        // Siblings, even with a common name prefix, are separate.
        assertDoesNotThrow(() -> CapfiltRun.requireSeparate(data, tmp.resolve("data2")));
        assertDoesNotThrow(() -> CapfiltRun.requireSeparate(file, tmp.resolve("out")));
        assertDoesNotThrow(() -> CapfiltRun.requireSeparate(link, tmp.resolve("out")));
    }

    @Test
    void aRunIntoItsInputWritesNothing() throws IOException {
        Path data = Files.createDirectories(tmp.resolve("data"));
        Files.write(data.resolve("a.png"), picture(0, "png"));
        String jsonl = "{\"image\": \"a.png\", \"caption\": \"a red circle\"}\n";
        Files.writeString(data.resolve("captions.jsonl"), jsonl);
        assertThrows(IllegalArgumentException.class, () -> new CapfiltRun(keepAll(), data, data,
                CapfiltRun.Options.defaults()).run(new CapfiltRun.Listener() {}));
        assertEquals(jsonl, Files.readString(data.resolve("captions.jsonl")));
        try (Stream<Path> s = Files.list(data)) {
            assertEquals(List.of("a.png", "captions.jsonl"), s.map(p -> p.getFileName().toString()).sorted().toList(),
                    "nothing written into the input");
        }
    }

    // ------------------------------------------------------------------ tar members

    /**
     * A shard with two good samples among members with unsafe names, links, a directory and
     * captions without images (some after the last image).
     */
    private Path unsafeShard() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("shards"));
        try (OutputStream out = Files.newOutputStream(dir.resolve("data-000.tar"))) {
            rawEntry(out, "s0.jpg", '0', "", picture(0, "jpeg"));
            rawEntry(out, "s0.txt", '0', "", utf8(caption(0)));
            rawEntry(out, "dir/", '5', "", new byte[0]);
            rawEntry(out, "../evil.jpg", '0', "", picture(1, "jpeg"));
            rawEntry(out, "../evil.txt", '0', "", utf8("escaped"));
            rawEntry(out, "/abs.png", '0', "", picture(2, "png"));
            rawEntry(out, "x/../../up.png", '0', "", picture(3, "png"));
            rawEntry(out, "s1.png", '0', "", picture(4, "png"));
            rawEntry(out, "s1.txt", '0', "", utf8(caption(4)));
            rawEntry(out, "orphan.txt", '0', "", utf8("a caption without its image"));
            rawEntry(out, "link.jpg", '2', "s0.jpg", new byte[0]);
            rawEntry(out, "hard.png", '1', "s1.png", new byte[0]);
            rawEntry(out, "hard.txt", '0', "", utf8("the hard link's caption"));
            out.write(new byte[1024]);
        }
        return dir;
    }

    @Test
    void unsafeLinkedAndImagelessMembersAreSkippedAndReported() throws IOException {
        Path in = unsafeShard();
        Path out = tmp.resolve("out");
        Recorder rec = new Recorder();
        CapfiltRun.Summary sum = new CapfiltRun(keepAll(), in, out, new CapfiltRun.Options(1, 1, null)).run(rec);
        assertEquals(2, sum.images());
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("../evil.jpg", "'..' segment");
        expected.put("../evil.txt", "'..' segment");
        expected.put("/abs.png", "absolute");
        expected.put("x/../../up.png", "'..' segment");
        expected.put("orphan.txt", "has no image");
        expected.put("link.jpg", "symbolic link (to s0.jpg)");
        expected.put("hard.png", "hard link (to s1.png)");
        expected.put("hard.txt", "has no image");
        assertEquals(new ArrayList<>(expected.keySet()), rec.skipped.stream().map(Skipped::member).toList());
        for (Skipped k : rec.skipped) {
            assertEquals("data-000.tar", k.shard());
            assertFalse(k.unreadable());
            assertTrue(k.reason().contains(expected.get(k.member())), k.describe());
        }
        assertEquals(expected.size(), sum.counts().skipped());
        assertEquals(0, sum.counts().unreadable());
        assertFalse(sum.counts().inputFailed(), "set-aside members are not failures");

        // decisions.jsonl lists them beside the captions, in input order.
        List<String> skippedLines = new ArrayList<>();
        for (JsonNode d : jsonLines(out.resolve(CapfiltRun.DECISIONS))) {
            if (d.has("skipped")) {
                assertEquals("data-000.tar", d.get("shard").asText());
                skippedLines.add(d.get("member").asText());
            }
        }
        assertEquals(new ArrayList<>(expected.keySet()), skippedLines);
        assertEquals(expected.size(), JSON.readTree(out.resolve(CapfiltReport.SUMMARY).toFile()).get("skipped").asLong());
        assertTrue(Files.readString(out.resolve(CapfiltReport.HTML)).contains("orphan.txt"));

        // The output shards hold the good samples under their own names only.
        List<String> written = new ArrayList<>();
        try (Stream<Path> s = Files.list(out)) {
            for (Path p : s.filter(p -> p.toString().endsWith(".tar")).sorted().toList()) {
                written.addAll(memberNames(p));
            }
        }
        assertEquals(List.of("s0.jpg", "s0.txt", "s1.png", "s1.txt"), written);

        // Stopped after the first shard and resumed: every skipped member reported once, same bytes.
        Path resumed = tmp.resolve("resumed");
        Recorder first = new Recorder();
        Recorder second = new Recorder();
        assertFalse(new CapfiltRun(keepAll(), in, resumed, new CapfiltRun.Options(1, 1, 1)).run(first).complete());
        new CapfiltRun(keepAll(), in, resumed, new CapfiltRun.Options(1, 1, null)).run(second);
        assertEquals(rec.skipped, Stream.concat(first.skipped.stream(), second.skipped.stream()).toList());
        assertSameFiles(out, resumed);
    }

    @Test
    void tarWriterRefusesNamesThatLeaveTheFolder() {
        for (String name : List.of("../x.jpg", "a/../../x.jpg", "/etc/x.jpg", "\\x.jpg", "C:x.jpg", "a\\..\\..\\x.jpg", "")) {
            assertThrows(IllegalArgumentException.class, () -> new TarShards.Writer(new ByteArrayOutputStream())
                    .add(name, new byte[1]), name);
            assertTrue(TarShards.unsafeName(name) != null, name);
        }
        for (String name : List.of("x.jpg", "a/b.c.jpg", "a..b.jpg", "./x.jpg")) {
            assertNull(TarShards.unsafeName(name), name);
        }
    }

    // ------------------------------------------------------------------ damaged shards

    /** Two samples per shard; the second shard is cut inside its third sample's image, the fourth is no tar. */
    private Path damagedShards() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("damaged"));
        int image = 0;
        for (int s = 0; s < 3; s++) {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            TarShards.Writer w = new TarShards.Writer(buf);
            long cut = -1;
            for (int i = 0; i < (s == 1 ? 3 : 2); i++, image++) {
                if (s == 1 && i == 2) {
                    cut = buf.size() + 512 + 40; // inside the image data after the header
                }
                String key = String.format("shard%d-%02d", s, i);
                w.add(key + ".png", picture(image, "png"));
                w.add(key + ".txt", utf8(caption(image)));
            }
            w.finish();
            byte[] bytes = buf.toByteArray();
            Files.write(dir.resolve(String.format("data-%03d.tar", s)), cut < 0 ? bytes : Arrays.copyOf(bytes, (int) cut));
        }
        Files.writeString(dir.resolve("data-003.tar"), "this is not a tar archive\n".repeat(40));
        return dir;
    }

    @Test
    void aDamagedShardGivesItsGoodMembersAndTheRunGoesOn() throws IOException {
        Path in = damagedShards();
        Path out = tmp.resolve("out");
        Recorder rec = new Recorder();
        CapfiltRun.Summary sum = new CapfiltRun(keepAll(), in, out, new CapfiltRun.Options(4, 2, null)).run(rec);
        assertTrue(sum.complete());
        assertEquals(6, sum.images(), "2 + the 2 whole samples before the damage + 2 after it");
        assertEquals(0, sum.counts().failed());
        assertEquals(2, sum.counts().unreadable());
        assertTrue(sum.counts().inputFailed());
        assertEquals(List.of("data-001.tar", "data-003.tar"), rec.skipped.stream().map(Skipped::shard).toList());
        Skipped cut = rec.skipped.get(0);
        assertTrue(cut.unreadable());
        assertNull(cut.member());
        long damage = 2 * (2 * 512L) + (picture(2, "png").length + 511) / 512 * 512
                + (picture(3, "png").length + 511) / 512 * 512 + (utf8(caption(2)).length + 511) / 512 * 512
                + (utf8(caption(3)).length + 511) / 512 * 512;
        assertTrue(cut.reason().contains("from byte " + damage + " on"), cut.reason());
        assertTrue(cut.reason().contains("truncated"), cut.reason());
        assertTrue(rec.skipped.get(1).reason().contains("from byte 0 on"), rec.skipped.get(1).reason());

        List<String> images = new ArrayList<>();
        long unreadable = 0;
        for (JsonNode d : jsonLines(out.resolve(CapfiltRun.DECISIONS))) {
            if (d.has("unreadable")) {
                unreadable++;
            } else {
                images.add(d.get("image").asText());
            }
        }
        assertEquals(2, unreadable);
        assertEquals(List.of("shard0-00.png", "shard0-01.png", "shard1-00.png", "shard1-01.png", "shard2-00.png",
                "shard2-01.png"), images);
    }

    // ------------------------------------------------------------------ long captions

    @Test
    void captionsLongerThanTheFilterReadsAreTruncatedForScoring() throws IOException {
        CapFilter f = keepAll();
        int limit = f.textLimit();
        // A word of one token, so that the caption cut to the limit is known as text.
        String word = Stream.of("red", "a", "circle", "blue").filter(w -> filter.tokenizer().tokenize(w).size() == 1)
                .findFirst().orElseThrow();
        String cut = String.join(" ", java.util.Collections.nCopies(limit - 2, word));
        String whole = String.join(" ", java.util.Collections.nCopies(limit + 7, word));
        assertTrue(filter.tokenizer().encode(whole).length > limit);
        WebPair pair = new WebPair("long.png", null, picture(1, "png"), "png", List.of(whole, cut), null);
        List<Decision> d = f.decide(f.prepare(pair));
        assertEquals(whole, d.get(0).caption(), "the caption is kept whole");
        assertTrue(d.get(0).truncated());
        assertFalse(d.get(1).truncated(), "a caption that just fits is not cut");
        var reference = filter.match(List.of(Blip.readImage(writeTemp(pair))), List.of(cut));
        assertEquals(reference.itm(0, 0), d.get(0).itm(), 1e-6);
        assertEquals(reference.itc(0, 0), d.get(0).itc(), 1e-6);

        // In a run the image is scored, not failed, and decisions.jsonl says what was cut.
        Path data = Files.createDirectories(tmp.resolve("long"));
        Files.write(data.resolve("a.png"), picture(1, "png"));
        Files.writeString(data.resolve("captions.jsonl"), JSON.writeValueAsString(Map.of("image", "a.png",
                "caption", List.of(whole, cut))) + "\n");
        Path out = tmp.resolve("out");
        CapfiltRun.Summary sum = new CapfiltRun(f, data, out, CapfiltRun.Options.defaults())
                .run(new CapfiltRun.Listener() {});
        assertEquals(0, sum.counts().failed());
        List<JsonNode> lines = jsonLines(out.resolve(CapfiltRun.DECISIONS));
        assertEquals(whole, lines.get(0).get("caption").asText());
        assertTrue(lines.get(0).get("truncated").asBoolean());
        assertFalse(lines.get(1).has("truncated"));
    }

    private Path writeTemp(WebPair p) throws IOException {
        Path file = Files.createTempFile(tmp, "img", "." + p.imageExt());
        Files.write(file, p.imageBytes());
        return file;
    }

    @Test
    void truncatedTarEntriesAreReportedWithTheirOffset() throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        TarShards.Writer w = new TarShards.Writer(buf);
        w.add("a.txt", new byte[700]);
        w.add("b.txt", new byte[10]);
        w.finish();
        byte[] cut = Arrays.copyOf(buf.toByteArray(), 1536 + 100);
        TarShards.Reader r = new TarShards.Reader(new ByteArrayInputStream(cut), "cut.tar");
        assertArrayEquals(new byte[700], r.next().data());
        assertThrows(IOException.class, r::next);
        assertEquals(1536, r.position(), "the damaged entry starts after a.txt's header and two data blocks");
    }
}
