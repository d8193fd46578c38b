package org.blipjava.image;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.MultiPixelPackedSampleModel;
import java.awt.image.Raster;
import java.awt.image.SampleModel;
import java.awt.image.SinglePixelPackedSampleModel;
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
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
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
 *
 * <p><b>Huge images.</b> An image of up to {@link #FULL_RESOLUTION_PIXELS} pixels is decoded at
 * full resolution, so the processors' Pillow-exact resize sees exactly the reference's pixels.
 * A larger one (but still within {@link #maxPixels()}) is decoded reduced by the integer
 * {@link #reductionFactor}: the largest that keeps its shorter side at least
 * {@link #REDUCED_MIN_SIDE} pixels, four times the largest input any processor here needs, in the
 * spirit of Pillow's {@code draft()} and {@code reducing_gap}. The decoder keeps every k-th pixel
 * of every k-th row (ImageIO source subsampling, starting at k/2 so each kept pixel sits near the
 * middle of the k x k block it stands for), so such an image never occupies memory at full
 * size. This is a deviation from the reference, which decodes everything in full: it picks
 * pixels rather than averaging them, so detail finer than the reduced grid can alias, and the
 * processed pixels of such an image differ slightly from the reference's. GIF frames are never
 * reduced (the frame sits on a logical screen); like every image, they are bounded by memory.
 *
 * <p><b>Memory.</b> Before decoding, the memory the decode needs is estimated from the header
 * (the decoded raster, the RGB result and the cached encoded bytes) and an image over
 * {@link #maxDecodeBytes()} (by default half the Java heap) is refused with a message, as is an
 * image whose decoding runs out of memory anyway: one image never ends a batch with an
 * {@link OutOfMemoryError}.
 */
public final class ImageDecoder {
    /** Pillow's {@code Image.MAX_IMAGE_PIXELS}; Pillow refuses images over twice this. */
    public static final long PILLOW_MAX_IMAGE_PIXELS = 89_478_485L;
    /** The default limit: Pillow's DecompressionBombError threshold. */
    public static final long DEFAULT_MAX_PIXELS = 2 * PILLOW_MAX_IMAGE_PIXELS;
    /**
     * Images with at most this many pixels (8192 x 8192, more than any camera photo up to 64
     * megapixels) are decoded at full resolution, exactly as the reference sees them.
     */
    public static final long FULL_RESOLUTION_PIXELS = 1L << 26;
    /**
     * The shorter side a larger image keeps at least when it is decoded reduced: four times 384,
     * the largest input size of the image processors here (BLIP; CLIP and FLAVA take 224), so the
     * bicubic resize still shrinks it by a factor of four or more.
     */
    public static final int REDUCED_MIN_SIDE = 4 * 384;

    /** The longest byte array the JVM allocates: the encoded file and the RGB result are each one. */
    private static final long MAX_ARRAY_BYTES = Integer.MAX_VALUE - 16;

    private static final Set<String> FORMATS = Set.of("png", "jpeg", "gif", "bmp", "webp");
    private static final String SUPPORTED = "PNG, JPEG, GIF, BMP or WebP";
    private static final ImageDecoder DEFAULT = new ImageDecoder(DEFAULT_MAX_PIXELS);
    private static final long MIB = 1L << 20;
    /** What to do when an image needs more memory than there is. */
    private static final String MORE_MEMORY = "give Java a larger heap (-Xmx; for the blip command"
            + " BLIP_JAVA_OPTS=-Xmx8g) or use a smaller image";

    private final long maxPixels;
    private final long maxDecodeBytes;
    private final boolean heapDerivedLimit;
    private final long fullResolutionPixels;
    private final int reducedMinSide;

    /**
     * A decoder refusing images with more than {@code maxPixels} pixels, or whose decoding needs
     * more than {@link #defaultMaxDecodeBytes()}.
     *
     * @throws IllegalArgumentException when {@code maxPixels} is not positive
     */
    public ImageDecoder(long maxPixels) {
        this(maxPixels, defaultMaxDecodeBytes(), true, FULL_RESOLUTION_PIXELS, REDUCED_MIN_SIDE);
    }

    /**
     * A decoder refusing images with more than {@code maxPixels} pixels, or whose decoding is
     * estimated to need more than {@code maxDecodeBytes} bytes of heap.
     *
     * @throws IllegalArgumentException when a limit is not positive
     */
    public ImageDecoder(long maxPixels, long maxDecodeBytes) {
        this(maxPixels, maxDecodeBytes, false, FULL_RESOLUTION_PIXELS, REDUCED_MIN_SIDE);
    }

    /**
     * Every setting; the reduction rule's two numbers are fixed for users (they decide which
     * pixels the model sees) and set here only to exercise the reduced path on small images.
     */
    ImageDecoder(long maxPixels, long maxDecodeBytes, boolean heapDerivedLimit, long fullResolutionPixels,
            int reducedMinSide) {
        if (maxPixels <= 0) {
            throw new IllegalArgumentException("maxPixels must be positive, got " + maxPixels);
        }
        if (maxDecodeBytes <= 0) {
            throw new IllegalArgumentException("maxDecodeBytes must be positive, got " + maxDecodeBytes);
        }
        this.maxPixels = maxPixels;
        this.maxDecodeBytes = maxDecodeBytes;
        this.heapDerivedLimit = heapDerivedLimit;
        this.fullResolutionPixels = fullResolutionPixels;
        this.reducedMinSide = reducedMinSide;
    }

    /**
     * Half the Java heap's maximum size: what one image may take while it is decoded. The other
     * half is left to the model and to the other images of a batch, so that an image refused
     * here does not make some other allocation run out of memory instead.
     */
    public static long defaultMaxDecodeBytes() {
        return Runtime.getRuntime().maxMemory() / 2;
    }

    /** The decoder with {@link #DEFAULT_MAX_PIXELS}. */
    public static ImageDecoder defaults() {
        return DEFAULT;
    }

    /** The largest pixel count this decoder accepts. */
    public long maxPixels() {
        return maxPixels;
    }

    /** The most memory, in bytes, one image's decoding may take (estimated from its header). */
    public long maxDecodeBytes() {
        return maxDecodeBytes;
    }

    /**
     * The factor k by which an image of this size is decoded reduced (1: full resolution): 1 up
     * to {@link #FULL_RESOLUTION_PIXELS} pixels, otherwise the largest k whose reduced shorter
     * side, {@code min(width, height) / k}, is still at least {@link #REDUCED_MIN_SIDE} (1 when
     * even the full shorter side is shorter).
     */
    public int reductionFactor(long width, long height) {
        if (width * height <= fullResolutionPixels) {
            return 1;
        }
        return (int) Math.max(1, Math.min(width, height) / reducedMinSide);
    }

    /** The length of a side of {@code size} pixels decoded reduced by {@code factor}. */
    static int reducedSize(int size, int factor) {
        // What ImageIO returns for a subsampling period of factor starting at factor / 2.
        return (size - factor / 2 + factor - 1) / factor;
    }

    /** Decodes a file; errors name it. */
    public RgbImage read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ImageException(file + ": no such image file");
        }
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (size > MAX_ARRAY_BYTES) {
                throw new ImageException(file + ": " + size + " bytes is too large for an image file (limit "
                        + MAX_ARRAY_BYTES + ")");
            }
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ImageException(file + ": no such image file");
        } catch (IOException e) {
            throw new ImageException(file + ": cannot be read: " + e.getMessage(), e);
        } catch (OutOfMemoryError e) {
            // The array that did not fit is garbage now: report this file, let the batch go on.
            throw new ImageException(file + ": not enough memory to read the file; " + MORE_MEMORY, e);
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
        } catch (OutOfMemoryError e) {
            throw new ImageException(name + ": not enough memory to read the image; " + MORE_MEMORY, e);
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
        String image = "image";
        try {
            reader.setInput(in, true, false);
            String format = reader.getFormatName().toLowerCase(Locale.ROOT);
            int width = reader.getWidth(0);
            int height = reader.getHeight(0);
            image = width + "x" + height + " image";
            checkPixels(name, width, height);
            int factor = reductionFactor(width, height);
            ImageReadParam reduced = reduction(reader, factor);
            switch (format) {
                case "jpeg" -> {
                    JpegColor.Header header = JpegColor.Header.parse(encoded);
                    // The undecoded raster holds one byte per component; 4 when the header is unreadable.
                    int components = header.componentIds().length == 0 ? 4 : header.componentIds().length;
                    checkDecode(name, width, height, factor, components, encoded.length);
                    return JpegColor.decode(reader, header, reduced, name);
                }
                case "gif" -> {
                    return decodeGif(reader, name, encoded.length);
                }
                default -> {
                    checkDecode(name, width, height, factor, bytesPerPixel(reader), encoded.length);
                    return fromBufferedImage(reader.read(0, reduced), name);
                }
            }
        } catch (OutOfMemoryError e) {
            // Above the estimate yet too much for the heap as it is now (other images, the model):
            // the arrays of this decode are garbage once we leave, so report the image and go on.
            throw new ImageException(name + ": not enough memory to decode the " + image + "; " + MORE_MEMORY, e);
        } catch (ImageException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new ImageException(name + ": corrupt or unsupported " + reader.getFormatName().toUpperCase(Locale.ROOT)
                    + " data: " + e.getMessage(), e);
        } finally {
            reader.dispose();
        }
    }

    /** Source subsampling by {@code factor}, or null (the reader's plain full-resolution path) for 1. */
    private static ImageReadParam reduction(ImageReader reader, int factor) {
        if (factor == 1) {
            return null;
        }
        ImageReadParam param = reader.getDefaultReadParam();
        param.setSourceSubsampling(factor, factor, factor / 2, factor / 2);
        return param;
    }

    /**
     * Refuses an image whose decoding would take more than {@link #maxDecodeBytes}: the decoded
     * raster ({@code rasterBytesPerPixel}) and the RGB result for each decoded pixel, plus
     * {@code extraBytes} (the stream's cached copy of the encoded file).
     */
    private void checkDecode(String name, int width, int height, int factor, double rasterBytesPerPixel,
            long extraBytes) {
        int w = reducedSize(width, factor);
        int h = reducedSize(height, factor);
        long pixels = (long) w * h;
        String image = width + "x" + height + " image"
                + (factor > 1 ? " (reduced 1/" + factor + " to " + w + "x" + h + ")" : "");
        checkMemory(name, image, pixels, (long) Math.ceil(pixels * (rasterBytesPerPixel + 3)) + extraBytes);
    }

    /**
     * Refuses an image ({@code image} describes it) whose decoding needs {@code neededBytes},
     * more than {@link #maxDecodeBytes}, or an RGB array of {@code arrayPixels} pixels that is
     * longer than a Java array can be.
     */
    private void checkMemory(String name, String image, long arrayPixels, long neededBytes) {
        if (arrayPixels * 3 > MAX_ARRAY_BYTES) {
            throw new ImageException(name + ": the " + image + " has too many pixels to hold in one array;"
                    + " lower the decoder's maxPixels or use a smaller image");
        }
        if (neededBytes > maxDecodeBytes) {
            throw new ImageException(name + ": decoding the " + image + " needs about " + ceilMib(neededBytes)
                    + " MiB, more than the limit of " + (maxDecodeBytes / MIB) + " MiB"
                    + (heapDerivedLimit ? " (half the Java heap)" : "") + "; " + MORE_MEMORY);
        }
    }

    private static long ceilMib(long bytes) {
        return (bytes + MIB - 1) / MIB;
    }

    /** Bytes per pixel of the raster {@code reader} decodes image 0 into. */
    private static double bytesPerPixel(ImageReader reader) throws IOException {
        Iterator<ImageTypeSpecifier> types = reader.getImageTypes(0);
        ImageTypeSpecifier type = types != null && types.hasNext() ? types.next() : reader.getRawImageType(0);
        if (type == null) {
            return 8; // no type known before decoding: assume the widest common one, 16-bit RGBA
        }
        return bytesPerPixel(type.getSampleModel());
    }

    private static double bytesPerPixel(SampleModel sm) {
        double element = DataBuffer.getDataTypeSize(sm.getDataType()) / 8.0;
        if (sm instanceof MultiPixelPackedSampleModel packed) {
            return packed.getPixelBitStride() / 8.0;
        }
        if (sm instanceof SinglePixelPackedSampleModel) {
            return element;
        }
        return sm.getNumBands() * element;
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
    private RgbImage decodeGif(ImageReader reader, String name, long encodedBytes) throws IOException {
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
        int frameW = reader.getWidth(0);
        int frameH = reader.getHeight(0);
        boolean onScreen = left == 0 && top == 0 && screenW == frameW && screenH == frameH;
        // The frame's raster and its RGB copy, plus the screen's RGB canvas when it differs.
        long framePixels = (long) frameW * frameH;
        long screenPixels = onScreen ? 0 : (long) screenW * screenH;
        checkMemory(name, screenW + "x" + screenH + " GIF", Math.max(framePixels, screenPixels),
                (long) Math.ceil(framePixels * (bytesPerPixel(reader) + 3)) + screenPixels * 3 + encodedBytes);
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
