package org.blipjava.image;

import java.awt.image.Raster;
import java.io.IOException;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;

/**
 * JPEG colour handling as libjpeg and Pillow do it. The samples are read undecoded
 * ({@code readRaster}: no ICC profile, no colour conversion by Java2D), the JPEG colour space is
 * guessed from the markers with libjpeg's rules, and the conversion to RGB uses libjpeg's
 * fixed-point YCbCr tables and Pillow's CMYK formula.
 */
final class JpegColor {
    /** libjpeg's fixed-point scale of the YCbCr tables. */
    private static final int SCALEBITS = 16;
    private static final int ONE_HALF = 1 << (SCALEBITS - 1);
    private static final int[] CR_R = new int[256];
    private static final int[] CB_B = new int[256];
    private static final int[] CR_G = new int[256];
    private static final int[] CB_G = new int[256];

    static {
        for (int i = 0; i < 256; i++) {
            int x = i - 128;
            CR_R[i] = (fix(1.40200) * x + ONE_HALF) >> SCALEBITS;
            CB_B[i] = (fix(1.77200) * x + ONE_HALF) >> SCALEBITS;
            CR_G[i] = -fix(0.71414) * x;
            CB_G[i] = -fix(0.34414) * x + ONE_HALF;
        }
    }

    private JpegColor() {}

    private static int fix(double v) {
        return (int) (v * (1 << SCALEBITS) + 0.5);
    }

    /** Colour spaces libjpeg distinguishes when decoding. */
    enum Space { GRAY, RGB, YCBCR, CMYK, YCCK }

    /** What the markers before the first scan say about the colour space. */
    record Header(boolean jfif, int adobeTransform, int[] componentIds) {

        /** libjpeg's default_decompress_parms guess of the stored colour space. */
        Space space(String name) {
            int n = componentIds.length;
            switch (n) {
                case 1:
                    return Space.GRAY;
                case 3:
                    if (jfif) {
                        return Space.YCBCR;
                    }
                    if (adobeTransform >= 0) {
                        return adobeTransform == 0 ? Space.RGB : Space.YCBCR;
                    }
                    if (componentIds[0] == 'R' && componentIds[1] == 'G' && componentIds[2] == 'B') {
                        return Space.RGB;
                    }
                    return Space.YCBCR;
                case 4:
                    if (adobeTransform >= 0) {
                        return adobeTransform == 0 ? Space.CMYK : Space.YCCK;
                    }
                    return Space.CMYK;
                default:
                    throw new ImageException(name + ": JPEG with " + n
                            + " components is not supported; expected 1 (grey), 3 (colour) or 4 (CMYK)");
            }
        }

        /** Scans the marker segments up to the first scan; unknown layouts give an empty header. */
        static Header parse(byte[] b) {
            boolean jfif = false;
            int adobe = -1;
            int[] ids = new int[0];
            int i = 2;
            if (b.length < 4 || (b[0] & 0xff) != 0xFF || (b[1] & 0xff) != 0xD8) {
                return new Header(false, -1, ids);
            }
            while (i + 4 <= b.length) {
                if ((b[i] & 0xff) != 0xFF) {
                    break;
                }
                int marker = b[i + 1] & 0xff;
                if (marker == 0xFF) { // fill byte
                    i++;
                    continue;
                }
                if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
                    i += 2;
                    continue;
                }
                if (marker == 0xDA || marker == 0xD9) {
                    break;
                }
                int len = ((b[i + 2] & 0xff) << 8) | (b[i + 3] & 0xff);
                int p = i + 4;
                int dataLen = len - 2;
                if (dataLen < 0 || p + dataLen > b.length) {
                    break;
                }
                if (marker == 0xE0 && dataLen >= 5 && b[p] == 'J' && b[p + 1] == 'F' && b[p + 2] == 'I'
                        && b[p + 3] == 'F' && b[p + 4] == 0) {
                    jfif = true;
                } else if (marker == 0xEE && dataLen >= 12 && b[p] == 'A' && b[p + 1] == 'd' && b[p + 2] == 'o'
                        && b[p + 3] == 'b' && b[p + 4] == 'e') {
                    adobe = b[p + 11] & 0xff;
                } else if (isSof(marker) && dataLen >= 6) {
                    int n = b[p + 5] & 0xff;
                    if (dataLen >= 6 + 3 * n) {
                        ids = new int[n];
                        for (int k = 0; k < n; k++) {
                            ids[k] = b[p + 6 + 3 * k] & 0xff;
                        }
                    }
                }
                i = p + dataLen;
            }
            return new Header(jfif, adobe, ids);
        }

        private static boolean isSof(int m) {
            return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
        }
    }

    /**
     * Reads the undecoded samples and converts them to RGB as Pillow's JPEG path would;
     * {@code param} (null: the whole image) may subsample them, which the colour conversion,
     * being per pixel, does not notice.
     */
    static RgbImage decode(ImageReader reader, Header header, ImageReadParam param, String name) throws IOException {
        Raster raster = reader.readRaster(0, param);
        int w = raster.getWidth();
        int h = raster.getHeight();
        int bands = raster.getNumBands();
        Space space = header.componentIds().length == 0
                ? switch (bands) {
                    case 1 -> Space.GRAY;
                    case 3 -> Space.YCBCR;
                    case 4 -> Space.CMYK;
                    default -> header.space(name);
                }
                : header.space(name);
        int expectedBands = switch (space) {
            case GRAY -> 1;
            case RGB, YCBCR -> 3;
            case CMYK, YCCK -> 4;
        };
        if (bands != expectedBands) {
            throw new ImageException(name + ": JPEG decoder returned " + bands + " bands for a " + space
                    + " image; the file is unusual or corrupt");
        }
        byte[] out = new byte[w * h * 3];
        int[] px = new int[w * bands];
        for (int y = 0; y < h; y++) {
            raster.getPixels(raster.getMinX(), raster.getMinY() + y, w, 1, px);
            for (int x = 0; x < w; x++) {
                int o = (y * w + x) * 3;
                int s = x * bands;
                switch (space) {
                    case GRAY -> {
                        byte g = (byte) px[s];
                        out[o] = g;
                        out[o + 1] = g;
                        out[o + 2] = g;
                    }
                    case RGB -> {
                        out[o] = (byte) px[s];
                        out[o + 1] = (byte) px[s + 1];
                        out[o + 2] = (byte) px[s + 2];
                    }
                    case YCBCR -> ycc(px[s], px[s + 1], px[s + 2], out, o);
                    case CMYK -> cmyk(255 - px[s], 255 - px[s + 1], 255 - px[s + 2], 255 - px[s + 3], out, o);
                    case YCCK -> {
                        // libjpeg turns YCCK into CMYK: the complement of the YCC->RGB result;
                        // Pillow then inverts all four (its "CMYK;I" raw mode).
                        ycc(px[s], px[s + 1], px[s + 2], out, o);
                        cmyk(out[o] & 0xff, out[o + 1] & 0xff, out[o + 2] & 0xff, 255 - px[s + 3], out, o);
                    }
                    default -> throw new AssertionError(space);
                }
            }
        }
        return new RgbImage(w, h, out, true);
    }

    /** libjpeg's ycc_rgb_convert for one pixel. */
    private static void ycc(int y, int cb, int cr, byte[] out, int o) {
        out[o] = (byte) clamp(y + CR_R[cr]);
        out[o + 1] = (byte) clamp(y + ((CB_G[cb] + CR_G[cr]) >> SCALEBITS));
        out[o + 2] = (byte) clamp(y + CB_B[cb]);
    }

    /** Pillow's cmyk2rgb: {@code r = (255 - k) - c * (255 - k) / 255} with its rounding division. */
    static void cmyk(int c, int m, int yel, int k, byte[] out, int o) {
        int nk = 255 - k;
        out[o] = (byte) clamp(nk - mulDiv255(c, nk));
        out[o + 1] = (byte) clamp(nk - mulDiv255(m, nk));
        out[o + 2] = (byte) clamp(nk - mulDiv255(yel, nk));
    }

    /** {@code round(a * b / 255)} in Pillow's integer form. */
    private static int mulDiv255(int a, int b) {
        int t = a * b + 128;
        return ((t >> 8) + t) >> 8;
    }

    private static int clamp(int v) {
        return v < 0 ? 0 : Math.min(v, 255);
    }
}
