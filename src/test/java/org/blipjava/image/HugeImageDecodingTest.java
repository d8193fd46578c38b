package org.blipjava.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import org.blipjava.testing.ChildJvm;
import org.blipjava.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Images whose header claims a huge size but which are small on disk, decoded in a child JVM
 * with a 256 MB heap, where any of them decoded at full size would not fit: each is decoded
 * reduced or refused with a message, never an {@link OutOfMemoryError}, and the images after it
 * are still decoded.
 */
class HugeImageDecodingTest {
    private static final String HEAP = "256m";

    @Test
    void hugeImagesAreDecodedReducedOrRefusedAndTheRunGoesOn(@TempDir Path tmp) throws Exception {
        Path photo = fixtureImage(b -> isSequentialJpeg(b) && JpegColor.Header.parse(b).componentIds().length == 3);
        byte[] photoBytes = Files.readAllBytes(photo);
        List<String> files = new ArrayList<>();
        List<Expect> expected = new ArrayList<>();

        // A 42 KB photo whose header claims 13000 x 13000 (under the pixel limit): the missing
        // scan data decodes as flat colour. Full size would be 507 MB of RGB alone; reduced 1/8
        // (13000 / 1536 = 8) it is 1625 x 1625.
        files.add(write(tmp, "photo-13000.jpg", resizeJpeg(photoBytes, 13000, 13000)));
        expected.add(new Expect("OK photo-13000.jpg 1625x1625 ", ""));
        Path cmyk = fixtureImageOrNull(b -> isSequentialJpeg(b) && JpegColor.Header.parse(b).componentIds().length == 4);
        if (cmyk != null) {
            files.add(write(tmp, "cmyk-13000.jpg", resizeJpeg(Files.readAllBytes(cmyk), 13000, 13000)));
            expected.add(new Expect("OK cmyk-13000.jpg 1625x1625 ", ""));
        }
        // A real 10000 x 10000 PNG (pixel (x, y) = (x mod 256, y mod 256, 7)), reduced 1/6 to
        // 1667 x 1667 by keeping pixels 3, 9, 15, ... of rows 3, 9, 15, ...
        files.add(write(tmp, "pattern-10000.png", patternPng(10000, 10000)));
        expected.add(new Expect("OK pattern-10000.png 1667x1667 crc=" + Long.toHexString(patternCrc(1667, 6, 3)), ""));
        // 65000 x 2000 cannot be reduced (its short side is near 1536) and needs about 750 MB:
        // refused from the header.
        Path wide = Path.of(write(tmp, "wide-65000x2000.jpg", resizeJpeg(photoBytes, 65000, 2000)));
        files.add(wide.toString());
        expected.add(new Expect("ERR wide-65000x2000.jpg ",
                "wide-65000x2000.jpg: decoding the 65000x2000 image needs about "));
        Path gif = fixtureImageOrNull(HugeImageDecodingTest::isGif);
        Path bigGif = null;
        if (gif != null) {
            bigGif = Path.of(write(tmp, "screen-12000.gif", resizeGif(Files.readAllBytes(gif), 12000, 12000)));
            files.add(bigGif.toString());
            expected.add(new Expect("ERR screen-12000.gif ", "screen-12000.gif: decoding the 12000x12000 GIF needs about "));
        }
        // A normal image after them all: decoded whole, to the same pixels as in this JVM.
        files.add(photo.toString());
        RgbImage whole = Images.read(photo);
        String wholeLine = "OK " + photo.getFileName() + " " + whole.width() + "x" + whole.height() + " crc="
                + Long.toHexString(crc(whole));
        expected.add(new Expect(wholeLine, ""));

        List<String> lines = probe(tmp, files);
        assertThat(lines).hasSameSizeAs(expected);
        for (int i = 0; i < lines.size(); i++) {
            assertThat(lines.get(i)).startsWith(expected.get(i).prefix()).contains(expected.get(i).fragment());
            if (lines.get(i).startsWith("ERR")) {
                assertThat(lines.get(i)).contains("(half the Java heap)").contains("-Xmx");
            }
        }

        // Without the limit, decoding these runs out of memory: reported per image, run goes on.
        List<String> unbounded = new ArrayList<>(List.of("--unbounded", wide.toString()));
        if (bigGif != null) {
            unbounded.add(bigGif.toString());
        }
        unbounded.add(photo.toString());
        List<String> oom = probe(tmp, unbounded);
        assertThat(oom).hasSize(unbounded.size() - 1);
        assertThat(oom.getFirst()).startsWith("ERR wide-65000x2000.jpg ")
                .contains("wide-65000x2000.jpg: not enough memory to decode the 65000x2000 image; ");
        if (bigGif != null) {
            assertThat(oom.get(1)).startsWith("ERR screen-12000.gif ")
                    .contains("screen-12000.gif: not enough memory to decode the 12000x12000 image; ");
        }
        assertThat(oom.getLast()).isEqualTo(wholeLine);
    }

    /** One expected line of the probe: how it starts and a fragment of the rest. */
    private record Expect(String prefix, String fragment) {}

    /** Runs {@link HugeImageProbe} in a child JVM with a {@value #HEAP} heap; its output lines. */
    private static List<String> probe(Path tmp, List<String> args) throws IOException, InterruptedException {
        Path err = Files.createTempFile(tmp, "probe", ".err");
        Process p = new ProcessBuilder(ChildJvm.command(HugeImageProbe.class, HEAP, args))
                .redirectError(err.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        String errors = Files.readString(err);
        assertThat(p.exitValue()).as(out + errors).isZero();
        assertThat(out + errors).doesNotContain("OutOfMemoryError");
        return out.lines().toList();
    }

    private static String write(Path dir, String name, byte[] bytes) throws IOException {
        Path file = dir.resolve(name);
        Files.write(file, bytes);
        return file.toString();
    }

    private static Path fixtureImage(Predicate<byte[]> kind) throws IOException {
        Path found = fixtureImageOrNull(kind);
        assertThat(found).as("a fixture image of the kind this test needs").isNotNull();
        return found;
    }

    /** The first image listed in a BLIP fixture set's expected.json whose encoded bytes match. */
    private static Path fixtureImageOrNull(Predicate<byte[]> kind) throws IOException {
        for (Fixtures.FixtureSet set : Fixtures.sets(Fixtures.Kind.BLIP)) {
            for (var name : set.expected().path("images")) {
                Path file = set.image(name.asText());
                if (kind.test(Files.readAllBytes(file))) {
                    return file;
                }
            }
        }
        return null;
    }

    private static boolean isGif(byte[] b) {
        return b.length > 6 && b[0] == 'G' && b[1] == 'I' && b[2] == 'F';
    }

    /** A baseline or extended sequential JPEG (a progressive one of 13000 x 13000 decodes for seconds). */
    private static boolean isSequentialJpeg(byte[] b) {
        int sof = sofOffset(b);
        return sof >= 0 && ((b[sof + 1] & 0xff) == 0xC0 || (b[sof + 1] & 0xff) == 0xC1);
    }

    /** The offset of the JPEG's start-of-frame marker, or -1. */
    private static int sofOffset(byte[] b) {
        if (b.length < 4 || (b[0] & 0xff) != 0xFF || (b[1] & 0xff) != 0xD8) {
            return -1;
        }
        int i = 2;
        while (i + 4 <= b.length && (b[i] & 0xff) == 0xFF) {
            int marker = b[i + 1] & 0xff;
            if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
                return i;
            }
            if (marker == 0xDA) {
                return -1;
            }
            i += 2 + (((b[i + 2] & 0xff) << 8) | (b[i + 3] & 0xff));
        }
        return -1;
    }

    /** The JPEG with its frame header claiming {@code width x height}; the scan data is kept. */
    static byte[] resizeJpeg(byte[] jpeg, int width, int height) {
        byte[] b = jpeg.clone();
        int sof = sofOffset(b);
        assertThat(sof).isNotNegative();
        b[sof + 5] = (byte) (height >> 8);
        b[sof + 6] = (byte) height;
        b[sof + 7] = (byte) (width >> 8);
        b[sof + 8] = (byte) width;
        return b;
    }

    /** The GIF with its logical screen and first frame claiming {@code width x height}. */
    private static byte[] resizeGif(byte[] gif, int width, int height) {
        byte[] b = gif.clone();
        putLe16(b, 6, width);
        putLe16(b, 8, height);
        int i = 13;
        if ((b[10] & 0x80) != 0) { // global colour table
            i += 3 * (1 << ((b[10] & 7) + 1));
        }
        while (b[i] == 0x21) { // extensions: label, then sub-blocks up to an empty one
            i += 2;
            while (b[i] != 0) {
                i += (b[i] & 0xff) + 1;
            }
            i++;
        }
        assertThat(b[i]).as("image descriptor").isEqualTo((byte) 0x2C);
        putLe16(b, i + 1, 0);
        putLe16(b, i + 3, 0);
        putLe16(b, i + 5, width);
        putLe16(b, i + 7, height);
        return b;
    }

    private static void putLe16(byte[] b, int at, int v) {
        b[at] = (byte) v;
        b[at + 1] = (byte) (v >> 8);
    }

    /**
     * An 8-bit RGB PNG with pixel (x, y) = (x mod 256, y mod 256, 7): the first row stored
     * plainly, every other as "Up" differences (all (0, 1, 0)), so it deflates to a few hundred KB.
     */
    private static byte[] patternPng(int width, int height) throws IOException {
        ByteArrayOutputStream idat = new ByteArrayOutputStream();
        Deflater deflater = new Deflater(Deflater.BEST_SPEED);
        try (DeflaterOutputStream z = new DeflaterOutputStream(idat, deflater, 1 << 16)) {
            byte[] first = new byte[1 + 3 * width];
            byte[] up = new byte[1 + 3 * width];
            up[0] = 2;
            for (int x = 0; x < width; x++) {
                first[1 + 3 * x] = (byte) x;
                first[3 + 3 * x] = 7;
                up[2 + 3 * x] = 1;
            }
            z.write(first);
            for (int y = 1; y < height; y++) {
                z.write(up);
            }
        } finally {
            deflater.end();
        }
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        png.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        ImageDecoderTest.chunk(png, "IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height)
                .put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0).array());
        ImageDecoderTest.chunk(png, "IDAT", idat.toByteArray());
        ImageDecoderTest.chunk(png, "IEND", new byte[0]);
        return png.toByteArray();
    }

    /** CRC-32 of the {@link #patternPng} pattern sampled at {@code start + k * i} in both directions. */
    private static long patternCrc(int size, int k, int start) {
        byte[] rgb = new byte[size * size * 3];
        for (int j = 0; j < size; j++) {
            for (int i = 0; i < size; i++) {
                int o = (j * size + i) * 3;
                rgb[o] = (byte) (start + k * i);
                rgb[o + 1] = (byte) (start + k * j);
                rgb[o + 2] = 7;
            }
        }
        CRC32 crc = new CRC32();
        crc.update(rgb);
        return crc.getValue();
    }

    private static long crc(RgbImage image) {
        CRC32 crc = new CRC32();
        crc.update(image.data());
        return crc.getValue();
    }
}
