package org.blipjava.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.blipjava.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageDecoderTest {

    private static byte[] png(BufferedImage img) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThat(ImageIO.write(img, "png", out)).isTrue();
        return out.toByteArray();
    }

    private static int[] pixel(RgbImage img, int x, int y) {
        return new int[] {img.sample(x, y, 0), img.sample(x, y, 1), img.sample(x, y, 2)};
    }

    @Test
    void scalesSixteenBitSamplesByRoundingDivisionBy257() throws IOException {
        // 385/257 = 1.498 -> 1, 386/257 = 1.502 -> 2, 65535 -> 255, 128/257 = 0.498 -> 0.
        BufferedImage img = new BufferedImage(2, 2, BufferedImage.TYPE_USHORT_GRAY);
        WritableRaster r = img.getRaster();
        r.setSample(0, 0, 0, 385);
        r.setSample(1, 0, 0, 386);
        r.setSample(0, 1, 0, 65535);
        r.setSample(1, 1, 0, 128);
        RgbImage out = Images.read(png(img), "gray16.png");
        assertThat(pixel(out, 0, 0)).containsExactly(1, 1, 1);
        assertThat(pixel(out, 1, 0)).containsExactly(2, 2, 2);
        assertThat(pixel(out, 0, 1)).containsExactly(255, 255, 255);
        assertThat(pixel(out, 1, 1)).containsExactly(0, 0, 0);
    }

    @Test
    void scalesSixteenBitRgbaAndDropsAlpha() throws IOException {
        ComponentColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_sRGB), true, false,
                Transparency.TRANSLUCENT, DataBuffer.TYPE_USHORT);
        WritableRaster r = cm.createCompatibleWritableRaster(1, 1);
        r.setPixel(0, 0, new int[] {257 * 10, 257 * 200 + 128, 129, 0});
        RgbImage out = Images.read(png(new BufferedImage(cm, r, false, null)), "rgba16.png");
        assertThat(pixel(out, 0, 0)).containsExactly(10, 200, 1);
    }

    /**
     * The fixture's 16-bit images (those the reference clips, listed in
     * {@code pixel_values_not_a_target}): decoded samples are round(v / 257) of the stored ones,
     * and preprocessing continues exactly as for that 8-bit image.
     */
    @Test
    void fixtureSixteenBitImagesAreScaledThenPreprocessedAsEightBit() throws IOException {
        int checked = 0;
        for (Fixtures.FixtureSet set : Fixtures.sets(Fixtures.Kind.BLIP)) {
            JsonNode expected = set.expected();
            ImageProcessorConfig base = ImageProcessorConfig.read(BlipImageProcessorParityTest.anyPreprocessorConfig(set));
            for (Iterator<String> it = expected.path("pixel_values_not_a_target").fieldNames(); it.hasNext(); ) {
                Path file = set.image(it.next());
                BufferedImage raw = ImageIO.read(file.toFile());
                Raster r = raw.getRaster();
                if (r.getTransferType() != DataBuffer.TYPE_USHORT) {
                    continue;
                }
                RgbImage got = Images.read(file);
                int colours = raw.getColorModel().getNumColorComponents();
                byte[] want = new byte[got.width() * got.height() * 3];
                boolean anyBelowWhite = false;
                for (int y = 0; y < r.getHeight(); y++) {
                    for (int x = 0; x < r.getWidth(); x++) {
                        for (int c = 0; c < 3; c++) {
                            int v = (int) Math.round(r.getSample(x, y, colours == 1 ? 0 : c) / 257.0);
                            want[(y * r.getWidth() + x) * 3 + c] = (byte) v;
                            anyBelowWhite |= v < 255;
                        }
                    }
                }
                assertThat(got).isEqualTo(new RgbImage(r.getWidth(), r.getHeight(), want));
                assertThat(anyBelowWhite).as("scaled, not clipped to white").isTrue();
                // "Then continue exactly as for an 8-bit image": the same samples saved as an 8-bit
                // RGB PNG and decoded by the 8-bit path must give bit-identical pixel values at every
                // size the set lists (a separate decode, so a 16-bit path that rescales, converts
                // colour or resizes differently fails here).
                BufferedImage eight = new BufferedImage(r.getWidth(), r.getHeight(), BufferedImage.TYPE_3BYTE_BGR);
                for (int y = 0; y < r.getHeight(); y++) {
                    for (int x = 0; x < r.getWidth(); x++) {
                        for (int c = 0; c < 3; c++) {
                            eight.getRaster().setSample(x, y, c, want[(y * r.getWidth() + x) * 3 + c] & 0xFF);
                        }
                    }
                }
                RgbImage eightBit = Images.read(png(eight), "eight-bit-copy.png");
                assertThat(eight.getRaster().getTransferType()).isEqualTo(DataBuffer.TYPE_BYTE);
                for (JsonNode size : expected.path("pixel_sizes")) {
                    BlipImageProcessor p = new BlipImageProcessor(base.withSize(size.asInt(), size.asInt()));
                    float[] values = p.preprocess(Images.read(file));
                    assertThat(values).as("%s at %s", file.getFileName(), size).isEqualTo(p.preprocess(eightBit));
                    // ...and not the reference's (clipped, mostly white) values for this file.
                    assertThat(values).as("%s at %s differs from the clipped reference", file.getFileName(), size)
                            .isNotEqualTo(p.preprocess(clipped(r, colours)));
                }
                checked++;
            }
        }
        assertThat(checked).as("16-bit fixture images").isPositive();
    }

    /** What Pillow makes of a 16-bit raster (the reference's bug): each sample clipped to 255. */
    private static RgbImage clipped(Raster r, int colours) {
        byte[] out = new byte[r.getWidth() * r.getHeight() * 3];
        for (int y = 0; y < r.getHeight(); y++) {
            for (int x = 0; x < r.getWidth(); x++) {
                for (int c = 0; c < 3; c++) {
                    out[(y * r.getWidth() + x) * 3 + c] = (byte) Math.min(255, r.getSample(x, y, colours == 1 ? 0 : c));
                }
            }
        }
        return new RgbImage(r.getWidth(), r.getHeight(), out);
    }

    @Test
    void dropsAlphaWithoutCompositing() throws IOException {
        BufferedImage rgba = new BufferedImage(2, 1, BufferedImage.TYPE_INT_ARGB);
        rgba.setRGB(0, 0, 0x00_10_20_30); // fully transparent
        rgba.setRGB(1, 0, 0x80_C8_64_32);
        RgbImage out = Images.read(png(rgba), "rgba.png");
        assertThat(pixel(out, 0, 0)).containsExactly(0x10, 0x20, 0x30);
        assertThat(pixel(out, 1, 0)).containsExactly(200, 100, 50);

        ComponentColorModel la = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_GRAY), true, false,
                Transparency.TRANSLUCENT, DataBuffer.TYPE_BYTE);
        WritableRaster r = la.createCompatibleWritableRaster(1, 1);
        r.setPixel(0, 0, new int[] {77, 0});
        RgbImage grey = Images.read(png(new BufferedImage(la, r, false, null)), "la.png");
        assertThat(pixel(grey, 0, 0)).containsExactly(77, 77, 77);
    }

    @Test
    void mapsPaletteIndicesToColoursIncludingTransparentOnes() throws IOException {
        byte[] red = {(byte) 250, 0, 9};
        byte[] green = {3, (byte) 128, 9};
        byte[] blue = {7, 1, 9};
        byte[] alpha = {(byte) 255, 0, (byte) 255};
        IndexColorModel icm = new IndexColorModel(2, 3, red, green, blue, alpha);
        BufferedImage img = new BufferedImage(3, 1, BufferedImage.TYPE_BYTE_INDEXED, icm);
        img.getRaster().setSamples(0, 0, 3, 1, 0, new int[] {1, 0, 2});
        for (String format : new String[] {"png", "gif"}) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            assertThat(ImageIO.write(img, format, out)).as(format).isTrue();
            RgbImage rgb = Images.read(out.toByteArray(), "palette." + format);
            assertThat(pixel(rgb, 0, 0)).as(format).containsExactly(0, 128, 1);
            assertThat(pixel(rgb, 1, 0)).as(format).containsExactly(250, 3, 7);
            assertThat(pixel(rgb, 2, 0)).as(format).containsExactly(9, 9, 9);
        }
    }

    @Test
    void convertsCmykAsPillowDoes() {
        byte[] out = new byte[3];
        JpegColor.cmyk(0, 0, 0, 0, out, 0);
        assertThat(out).containsExactly((byte) 255, (byte) 255, (byte) 255);
        JpegColor.cmyk(255, 0, 0, 0, out, 0);
        assertThat(out).containsExactly((byte) 0, (byte) 255, (byte) 255);
        // nk = 127; 128 * 127 / 255 = 63.75, Pillow's rounding division gives 64 -> 127 - 64 = 63.
        JpegColor.cmyk(128, 0, 255, 128, out, 0);
        assertThat(out).containsExactly((byte) 63, (byte) 127, (byte) 0);
        JpegColor.cmyk(0, 0, 0, 255, out, 0);
        assertThat(out).containsExactly((byte) 0, (byte) 0, (byte) 0);
    }

    @Test
    void readsFromPathBytesAndStreamAlike() throws IOException {
        Fixtures.FixtureSet set = Fixtures.sets(Fixtures.Kind.BLIP).getFirst();
        Path file = set.image(set.expected().path("images").get(0).asText());
        RgbImage a = Images.read(file);
        RgbImage b = Images.read(Files.readAllBytes(file), file.toString());
        RgbImage c;
        try (var in = Files.newInputStream(file)) {
            c = Images.read(in, file.toString());
        }
        assertThat(b).isEqualTo(a);
        assertThat(c).isEqualTo(a);
        try (ImageInputStream iis = ImageIO.createImageInputStream(file.toFile())) {
            ImageReader reader = ImageIO.getImageReaders(iis).next();
            reader.setInput(iis);
            assertThat(a.width()).isEqualTo(reader.getWidth(0));
            assertThat(a.height()).isEqualTo(reader.getHeight(0));
            reader.dispose();
        }
    }

    @Test
    void refusesFilesThatAreNotImages(@TempDir Path tmp) throws IOException {
        Path text = tmp.resolve("notes.png");
        Files.writeString(text, "this is not an image\n");
        assertThatThrownBy(() -> Images.read(text))
                .isInstanceOf(ImageException.class)
                .hasMessageContaining("notes.png")
                .hasMessageContaining("PNG, JPEG, GIF, BMP or WebP");

        // A format the JDK reads but Pillow-exact decoding is not provided for.
        Path tiff = tmp.resolve("picture.tif");
        ImageIO.write(new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB), "tiff", tiff.toFile());
        assertThatThrownBy(() -> Images.read(tiff))
                .isInstanceOf(ImageException.class)
                .hasMessageContaining("picture.tif")
                .hasMessageContaining("TIF");

        Path missing = tmp.resolve("missing.jpg");
        assertThatThrownBy(() -> Images.read(missing))
                .isInstanceOf(ImageException.class).hasMessageContaining("missing.jpg");
    }

    @Test
    void refusesCorruptData(@TempDir Path tmp) throws IOException {
        Fixtures.FixtureSet set = Fixtures.sets(Fixtures.Kind.BLIP).getFirst();
        Path src = set.image(set.expected().path("images").get(0).asText());
        byte[] all = Files.readAllBytes(src);
        Path cut = tmp.resolve("cut" + src.getFileName());
        Files.write(cut, java.util.Arrays.copyOf(all, all.length / 3));
        assertThatThrownBy(() -> Images.read(cut))
                .isInstanceOf(ImageException.class).hasMessageContaining(cut.getFileName().toString());
    }

    @Test
    void refusesImagesOverThePixelLimit() {
        Fixtures.FixtureSet set = Fixtures.sets(Fixtures.Kind.BLIP).getFirst();
        Path file = set.image(set.expected().path("images").get(0).asText());
        RgbImage img = Images.read(file);
        long pixels = (long) img.width() * img.height();
        assertThat(new ImageDecoder(pixels).read(file)).isEqualTo(img);
        assertThatThrownBy(() -> new ImageDecoder(pixels - 1).read(file))
                .isInstanceOf(ImageException.class)
                .hasMessageContaining(file.getFileName().toString())
                .hasMessageContaining("exceeds the limit of " + (pixels - 1));
        assertThat(ImageDecoder.defaults().maxPixels()).isEqualTo(2 * 89_478_485L);
    }

    /**
     * The reduction rule: camera photos up to 64 megapixels stay whole (so their pixels are the
     * reference's); larger images shrink by the largest integer factor that keeps the shorter
     * side at least 1536 pixels; images too thin for that stay whole.
     */
    @Test
    void reducesOnlyImagesOverSixtyFourMegapixelsKeepingTheShortSideAtLeast1536() {
        ImageDecoder d = ImageDecoder.defaults();
        assertThat(d.reductionFactor(8192, 8192)).isEqualTo(1);
        assertThat(d.reductionFactor(9248, 6936)).isEqualTo(1); // a 64 MP phone photo
        assertThat(d.reductionFactor(8193, 8193)).isEqualTo(5); // 8193 / 5 = 1638 >= 1536 > 8193 / 6
        assertThat(d.reductionFactor(13000, 13000)).isEqualTo(8);
        assertThat(d.reductionFactor(30000, 5000)).isEqualTo(3);
        assertThat(d.reductionFactor(65000, 2000)).isEqualTo(1);
        assertThat(ImageDecoder.reducedSize(13000, 8)).isEqualTo(1625);
        assertThat(ImageDecoder.reducedSize(10000, 6)).isEqualTo(1667);
        assertThat(ImageDecoder.reducedSize(500, 1)).isEqualTo(500);
    }

    /**
     * Decoded reduced by k, every format but GIF keeps pixel (k/2 + k*i, k/2 + k*j) of the
     * full-resolution decode, JPEG colour conversion (YCbCr, CMYK, progressive) included. The
     * rule's thresholds are lowered so the fixture images are "huge"; GIF stays whole.
     */
    @Test
    void reducedDecodingKeepsEveryKthPixelFromTheMiddleOfEachBlock() throws IOException {
        ImageDecoder small = new ImageDecoder(ImageDecoder.DEFAULT_MAX_PIXELS, Long.MAX_VALUE, false, 1, 16);
        java.util.Set<String> reducedFormats = new java.util.TreeSet<>();
        for (Fixtures.FixtureSet set : Fixtures.sets(Fixtures.Kind.BLIP)) {
            for (JsonNode name : set.expected().path("images")) {
                Path file = set.image(name.asText());
                RgbImage full = Images.read(file);
                RgbImage reduced = small.read(file);
                String format = format(file);
                int k = small.reductionFactor(full.width(), full.height());
                if (format.equals("gif") || k == 1) {
                    assertThat(reduced).as(file.toString()).isEqualTo(full);
                    continue;
                }
                assertThat(reduced.width()).as(file.toString()).isEqualTo(ImageDecoder.reducedSize(full.width(), k));
                assertThat(reduced.height()).as(file.toString()).isEqualTo(ImageDecoder.reducedSize(full.height(), k));
                for (int j = 0; j < reduced.height(); j++) {
                    for (int i = 0; i < reduced.width(); i++) {
                        assertThat(pixel(reduced, i, j)).as(file + " (" + i + ", " + j + ") of 1/" + k)
                                .containsExactly(pixel(full, k / 2 + k * i, k / 2 + k * j));
                    }
                }
                reducedFormats.add(format + (k % 2 == 0 ? " even" : " odd"));
            }
        }
        assertThat(reducedFormats).as("formats and parities of k exercised")
                .anyMatch(f -> f.startsWith("jpeg")).anyMatch(f -> !f.startsWith("jpeg"))
                .anyMatch(f -> f.endsWith("even")).anyMatch(f -> f.endsWith("odd"));
    }

    private static String format(Path file) throws IOException {
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            ImageReader reader = ImageIO.getImageReaders(in).next();
            String format = reader.getFormatName().toLowerCase(java.util.Locale.ROOT);
            reader.dispose();
            return format;
        }
    }

    /**
     * The memory estimate of a JPEG is its components' bytes and 3 RGB bytes per pixel plus the
     * encoded file: a limit of exactly that decodes it, one byte less refuses it with a message
     * naming the file, the need and what to do.
     */
    @Test
    void refusesImagesWhoseDecodingNeedsMoreThanTheMemoryLimit() throws IOException {
        Path file = null;
        for (Fixtures.FixtureSet set : Fixtures.sets(Fixtures.Kind.BLIP)) {
            for (JsonNode name : set.expected().path("images")) {
                if (file == null && format(set.image(name.asText())).equals("jpeg")) {
                    file = set.image(name.asText());
                }
            }
        }
        assertThat(file).as("a JPEG fixture image").isNotNull();
        byte[] bytes = Files.readAllBytes(file);
        RgbImage img = Images.read(file);
        long need = (long) img.width() * img.height() * (JpegColor.Header.parse(bytes).componentIds().length + 3)
                + bytes.length;
        assertThat(new ImageDecoder(ImageDecoder.DEFAULT_MAX_PIXELS, need).read(file)).isEqualTo(img);
        Path named = file;
        assertThatThrownBy(() -> new ImageDecoder(ImageDecoder.DEFAULT_MAX_PIXELS, need - 1).read(named))
                .isInstanceOf(ImageException.class)
                .hasMessageStartingWith(file + ": decoding the " + img.width() + "x" + img.height() + " image needs about "
                        + ((need + (1 << 20) - 1) >> 20) + " MiB, more than the limit of " + ((need - 1) >> 20) + " MiB; ")
                .hasMessageContaining("-Xmx");
        assertThat(ImageDecoder.defaults().maxDecodeBytes()).isEqualTo(Runtime.getRuntime().maxMemory() / 2);
        assertThatThrownBy(() -> new ImageDecoder(10, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    /** A PNG whose header claims 60000 x 60000 pixels but holds no pixel data: refused from the header. */
    @Test
    void refusesDecompressionBombsFromTheHeader() {
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(60_000).putInt(60_000)
                .put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        png.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        chunk(png, "IHDR", ihdr.array());
        chunk(png, "IDAT", new byte[] {0x78, (byte) 0x9c, 0x03, 0x00});
        chunk(png, "IEND", new byte[0]);
        assertThatThrownBy(() -> Images.read(png.toByteArray(), "bomb.png"))
                .isInstanceOf(ImageException.class)
                .hasMessageContaining("bomb.png")
                .hasMessageContaining("60000x60000")
                .hasMessageContaining("decompression bomb");
    }

    /** Appends a PNG chunk: length, type, data and CRC. */
    static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] t = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
        out.writeBytes(t);
        out.writeBytes(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }
}
