package org.blipjava.image;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import java.util.Set;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import org.w3c.dom.Node;

/**
 * Decodes image files to 8-bit RGB exactly as Pillow's {@code Image.open(f).convert("RGB")}
 * does, which is what the reference BLIP image processor sees.
 *
 * <ul>
 *   <li>grayscale is replicated to R, G and B; alpha (LA, RGBA) is dropped, not composited;</li>
 *   <li>palette images (PNG, GIF, BMP) map each index to its palette colour;</li>
 *   <li>16-bit samples become {@code round(v / 257)} (Pillow would clip them to 255; scaling is
 *       the intended behaviour, see the fixtures README);</li>
 *   <li>JPEG samples are read undecoded and converted with libjpeg's own YCbCr table arithmetic;
 *       CMYK/YCCK JPEGs are taken as Adobe-inverted, as Pillow always does, and converted with
 *       Pillow's {@code cmyk2rgb} formula; no ICC profile, gamma or EXIF orientation is applied;</li>
 *   <li>GIF yields its first frame on the logical screen.</li>
 * </ul>
 *
 * <p>Supported formats: PNG, JPEG (baseline, progressive, CMYK), GIF, BMP, WebP. The pixel count
 * is checked from the header before any pixel is decoded, so decompression bombs are refused
 * cheaply. Instances are immutable and thread-safe.
 */
public final class ImageDecoder {
    /** Pillow's {@code Image.MAX_IMAGE_PIXELS}; Pillow refuses images over twice this. */
    public static final long PILLOW_MAX_IMAGE_PIXELS = 89_478_485L;
    /** The default limit: Pillow's DecompressionBombError threshold. */
    public static final long DEFAULT_MAX_PIXELS = 2 * PILLOW_MAX_IMAGE_PIXELS;

    /** Encoded files are held in one array while decoding. */
    private static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 16;

    private static final Set<String> FORMATS = Set.of("png", "jpeg", "gif", "bmp", "webp");
    private static final String SUPPORTED = "PNG, JPEG, GIF, BMP or WebP";
    private static final ImageDecoder DEFAULT = new ImageDecoder(DEFAULT_MAX_PIXELS);

    private final long maxPixels;

    /**
     * A decoder refusing images with more than {@code maxPixels} pixels.
     *
     * @throws IllegalArgumentException when {@code maxPixels} is not positive
     */
    public ImageDecoder(long maxPixels) {
        if (maxPixels <= 0) {
            throw new IllegalArgumentException("maxPixels must be positive, got " + maxPixels);
        }
        this.maxPixels = maxPixels;
    }

    /** The decoder with {@link #DEFAULT_MAX_PIXELS}. */
    public static ImageDecoder defaults() {
        return DEFAULT;
    }

    /** The largest pixel count this decoder accepts. */
    public long maxPixels() {
        return maxPixels;
    }

    /** Decodes a file; errors name it. */
    public RgbImage read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ImageException(file + ": no such image file");
        }
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (size > MAX_FILE_BYTES) {
                throw new ImageException(file + ": " + size + " bytes is too large for an image file (limit "
                        + MAX_FILE_BYTES + ")");
            }
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ImageException(file + ": no such image file");
        } catch (IOException e) {
            throw new ImageException(file + ": cannot be read: " + e.getMessage(), e);
        }
        return read(bytes, file.toString());
    }

    /** Decodes an encoded image held in memory; {@code name} identifies it in errors. */
    public RgbImage read(byte[] encoded, String name) {
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(encoded))) {
            return decode(in, name, encoded);
        } catch (IOException e) {
            throw new ImageException(name + ": cannot be decoded: " + e.getMessage(), e);
        }
    }

    /** Reads the stream to its end (the caller closes it) and decodes it; {@code name} identifies it in errors. */
    public RgbImage read(InputStream encoded, String name) {
        byte[] bytes;
        try {
            bytes = encoded.readAllBytes();
        } catch (IOException e) {
            throw new ImageException(name + ": cannot be read: " + e.getMessage(), e);
        }
        return read(bytes, name);
    }

    private RgbImage decode(ImageInputStream in, String name, byte[] encoded) throws IOException {
        Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
        ImageReader reader = null;
        String detected = null;
        while (readers.hasNext()) {
            ImageReader r = readers.next();
            String format = r.getFormatName().toLowerCase(Locale.ROOT);
            if (FORMATS.contains(format)) {
                reader = r;
                break;
            }
            detected = format;
            r.dispose();
        }
        if (reader == null) {
            throw new ImageException(name + ": not a supported image"
                    + (detected != null ? " (detected " + detected.toUpperCase(Locale.ROOT) + ")" : "")
                    + "; expected a " + SUPPORTED + " file");
        }
        try {
            reader.setInput(in, true, false);
            String format = reader.getFormatName().toLowerCase(Locale.ROOT);
            int width = reader.getWidth(0);
            int height = reader.getHeight(0);
            checkPixels(name, width, height);
            return switch (format) {
                case "jpeg" -> JpegColor.decode(reader, JpegColor.Header.parse(encoded), name);
                case "gif" -> decodeGif(reader, name);
                default -> fromBufferedImage(reader.read(0), name);
            };
        } catch (ImageException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new ImageException(name + ": corrupt or unsupported " + reader.getFormatName().toUpperCase(Locale.ROOT)
                    + " data: " + e.getMessage(), e);
        } finally {
            reader.dispose();
        }
    }

    void checkPixels(String name, long width, long height) {
        if (width <= 0 || height <= 0) {
            throw new ImageException(name + ": invalid image size " + width + "x" + height);
        }
        if (width * height > maxPixels) {
            throw new ImageTooLargeException(name + ": " + width + "x" + height + " = " + (width * height)
                    + " pixels exceeds the limit of " + maxPixels
                    + " (possible decompression bomb); raise the decoder's maxPixels if the image is trusted");
        }
    }

    /** GIF: the first frame placed on the logical screen, as Pillow shows frame 0. */
    private RgbImage decodeGif(ImageReader reader, String name) throws IOException {
        IIOMetadata streamMeta = reader.getStreamMetadata();
        IIOMetadata imageMeta = reader.getImageMetadata(0);
        int left = 0;
        int top = 0;
        int screenW = reader.getWidth(0);
        int screenH = reader.getHeight(0);
        int transparent = -1;
        if (streamMeta != null) {
            Node lsd = child(streamMeta.getAsTree("javax_imageio_gif_stream_1.0"), "LogicalScreenDescriptor");
            if (lsd != null) {
                screenW = intAttr(lsd, "logicalScreenWidth", screenW);
                screenH = intAttr(lsd, "logicalScreenHeight", screenH);
            }
        }
        if (imageMeta != null) {
            Node root = imageMeta.getAsTree("javax_imageio_gif_image_1.0");
            Node desc = child(root, "ImageDescriptor");
            if (desc != null) {
                left = intAttr(desc, "imageLeftPosition", 0);
                top = intAttr(desc, "imageTopPosition", 0);
            }
            Node gce = child(root, "GraphicControlExtension");
            if (gce != null && "TRUE".equalsIgnoreCase(attr(gce, "transparentColorFlag"))) {
                transparent = intAttr(gce, "transparentColorIndex", -1);
            }
        }
        // A zero logical screen (seen in the wild) means "the frame's size".
        if (screenW <= 0 || screenH <= 0) {
            screenW = reader.getWidth(0);
            screenH = reader.getHeight(0);
        }
        checkPixels(name, screenW, screenH);
        BufferedImage frame = reader.read(0);
        RgbImage pixels = fromBufferedImage(frame, name);
        if (left == 0 && top == 0 && screenW == pixels.width() && screenH == pixels.height()) {
            return pixels;
        }
        // Pillow fills the rest of frame 0's canvas with the transparent index, else index 0.
        byte[] fill = new byte[3];
        if (frame.getColorModel() instanceof IndexColorModel icm) {
            int idx = transparent >= 0 && transparent < icm.getMapSize() ? transparent : 0;
            fill[0] = (byte) icm.getRed(idx);
            fill[1] = (byte) icm.getGreen(idx);
            fill[2] = (byte) icm.getBlue(idx);
        }
        byte[] out = new byte[screenW * screenH * 3];
        for (int i = 0; i < screenW * screenH; i++) {
            System.arraycopy(fill, 0, out, i * 3, 3);
        }
        byte[] src = pixels.data();
        for (int y = 0; y < pixels.height(); y++) {
            int ty = top + y;
            if (ty < 0 || ty >= screenH) {
                continue;
            }
            for (int x = 0; x < pixels.width(); x++) {
                int tx = left + x;
                if (tx >= 0 && tx < screenW) {
                    System.arraycopy(src, (y * pixels.width() + x) * 3, out, (ty * screenW + tx) * 3, 3);
                }
            }
        }
        return new RgbImage(screenW, screenH, out, true);
    }

    /**
     * Reads the raw samples of a decoded image (never its colour-managed RGB): palette lookup,
     * grey replication, alpha dropped, samples of other depths scaled to 8 bits.
     */
    static RgbImage fromBufferedImage(BufferedImage image, String name) {
        Raster raster = image.getRaster();
        ColorModel cm = image.getColorModel();
        int w = raster.getWidth();
        int h = raster.getHeight();
        byte[] out = new byte[w * h * 3];
        int[] row = null;
        int bands = raster.getNumBands();
        if (cm instanceof IndexColorModel icm) {
            int size = icm.getMapSize();
            byte[][] lut = new byte[3][size];
            icm.getReds(lut[0]);
            icm.getGreens(lut[1]);
            icm.getBlues(lut[2]);
            for (int y = 0; y < h; y++) {
                row = raster.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    int idx = row[x];
                    int o = (y * w + x) * 3;
                    if (idx < size) { // out-of-palette indices stay black, as in Pillow
                        out[o] = lut[0][idx];
                        out[o + 1] = lut[1][idx];
                        out[o + 2] = lut[2][idx];
                    }
                }
            }
            return new RgbImage(w, h, out, true);
        }
        int colours = cm.getNumColorComponents();
        if (colours != 1 && colours != 3) {
            throw new ImageException(name + ": unsupported colour model with " + colours
                    + " colour components; expected grey or RGB");
        }
        if (bands < colours) {
            throw new ImageException(name + ": raster has " + bands + " bands for " + colours + " colours");
        }
        for (int c = 0; c < 3; c++) {
            int band = colours == 1 ? 0 : c;
            int bits = cm.getComponentSize(band);
            boolean sixteen = raster.getDataBuffer().getDataType() == DataBuffer.TYPE_USHORT && bits == 16;
            for (int y = 0; y < h; y++) {
                row = raster.getSamples(0, y, w, 1, band, row);
                for (int x = 0; x < w; x++) {
                    out[(y * w + x) * 3 + c] = (byte) to8Bit(row[x], sixteen ? 16 : bits);
                }
            }
        }
        return new RgbImage(w, h, out, true);
    }

    /** Scales a sample of {@code bits} bits to 8 bits the way Pillow's unpackers do. */
    static int to8Bit(int v, int bits) {
        if (bits == 8) {
            return v & 0xff;
        }
        if (bits == 16) {
            // round(v / 257): no ties exist since 257 is odd, so (v + 128) / 257 is exact.
            return (v + 128) / 257;
        }
        int max = (1 << bits) - 1;
        if (bits < 8) {
            return v * 255 / max; // Pillow's BGR;15 / BGR;16 unpackers truncate
        }
        return (int) Math.round(v * 255.0 / max);
    }

    private static Node child(Node parent, String name) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (name.equals(n.getNodeName())) {
                return n;
            }
        }
        return null;
    }

    private static String attr(Node n, String name) {
        Node a = n.getAttributes() == null ? null : n.getAttributes().getNamedItem(name);
        return a == null ? null : a.getNodeValue();
    }

    private static int intAttr(Node n, String name, int dflt) {
        String v = attr(n, name);
        if (v == null) {
            return dflt;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            return dflt;
        }
    }
}
