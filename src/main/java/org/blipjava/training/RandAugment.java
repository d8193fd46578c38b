package org.blipjava.training;

import java.util.List;
import java.util.Locale;
import org.blipjava.image.RgbImage;

/**
 * BLIP's {@code RandomAugment(N, M)} (its {@code transform/randaugment.py}, applied after the random
 * resized crop and flip of {@code transform_train}): {@code numOps} operations are drawn uniformly,
 * with replacement, from {@code ops}; each is then applied with probability 1/2, in the drawn
 * order, at strength {@code magnitude} out of 10. The geometric ops get a random sign (half of the
 * time the shear, shift or angle is negated) and fill uncovered pixels with grey (128, 128, 128).
 *
 * <p>Parameters at magnitude {@code m}: Brightness and Sharpness use the enhancement factor
 * {@code m / 10 * 1.8 + 0.1} (so 1.0, i.e. no change, at BLIP's m = 5); ShearX/ShearY the shear
 * {@code m / 10 * 0.3}; TranslateX/TranslateY {@code m} pixels (not a fraction of the size); Rotate
 * {@code m / 10 * 30} degrees about the point (width / 2, height / 2); Identity, AutoContrast and
 * Equalize have none.
 *
 * <p>Each op follows the reference's numpy/OpenCV code: Equalize is PIL's per-channel histogram
 * equalization; Brightness scales samples in float32 and truncates; Sharpness blends with the
 * image smoothed by the 3x3 kernel (1 1 1; 1 5 1; 1 1 1) / 13 and leaves the one-pixel border
 * alone; the geometric ops are {@code cv2.warpAffine} with bilinear interpolation, reproduced with
 * OpenCV's fixed-point arithmetic (source positions rounded to 1/32 pixel, 15-bit weights; the
 * algorithm of OpenCV 4.x before 4.11). Deviations, each documented where it applies:
 * <ul>
 *   <li>AutoContrast stretches each channel's min..max to 0..255 as PIL's
 *       {@code ImageOps.autocontrast} does, which is what the reference says it does; the reference's
 *       code negates a {@code uint8} minimum, which wraps around, so there any channel whose minimum
 *       is above 0 turns entirely white.</li>
 *   <li>Sharpness with a factor above 1 clamps to 0..255 where the reference's float-to-uint8 cast
 *       wraps around (undefined in C); its smoothing sums in double precision and rounds half to
 *       even, where OpenCV's {@code filter2D} may sum in another order in float32, so rare samples
 *       at exactly .5 may differ by one.</li>
 * </ul>
 * Random numbers come from the {@link TrainingRandom} passed in, drawn in the reference's order
 * (the op choices, then per op the coin and, if applied, the sign), so training stays
 * reproducible and resumable.
 *
 * @param numOps    operations drawn per image (BLIP: 2)
 * @param magnitude strength, 0 to 10 (BLIP: 5)
 * @param ops       the operations drawn from (repeat one to make it likelier)
 */
public record RandAugment(int numOps, int magnitude, List<Op> ops) {
    /** The reference's {@code MAX_LEVEL}: a magnitude of 10 is each op's full strength. */
    public static final int MAX_MAGNITUDE = 10;
    private static final double APPLY_PROBABILITY = 0.5;
    private static final int FILL = 128;

    /** The operations, with the reference's names. */
    public enum Op {
        IDENTITY("Identity"),
        AUTO_CONTRAST("AutoContrast"),
        EQUALIZE("Equalize"),
        BRIGHTNESS("Brightness"),
        SHARPNESS("Sharpness"),
        SHEAR_X("ShearX"),
        SHEAR_Y("ShearY"),
        TRANSLATE_X("TranslateX"),
        TRANSLATE_Y("TranslateY"),
        ROTATE("Rotate");

        private final String referenceName;

        Op(String referenceName) {
            this.referenceName = referenceName;
        }

        /** The name in BLIP's {@code augs} list, e.g. "ShearX". */
        public String referenceName() {
            return referenceName;
        }

        /**
         * The op's parameter at {@code magnitude} before the random sign: the enhancement factor,
         * shear, shift in pixels or angle in degrees (0 for ops without one).
         */
        public double parameter(int magnitude) {
            double level = (double) magnitude / MAX_MAGNITUDE;
            return switch (this) {
                case BRIGHTNESS, SHARPNESS -> level * 1.8 + 0.1;
                case SHEAR_X, SHEAR_Y -> level * 0.3;
                case TRANSLATE_X, TRANSLATE_Y -> level * 10;
                case ROTATE -> level * 30;
                case IDENTITY, AUTO_CONTRAST, EQUALIZE -> 0;
            };
        }

        /** Whether the reference negates the parameter half of the time. */
        public boolean signed() {
            return switch (this) {
                case SHEAR_X, SHEAR_Y, TRANSLATE_X, TRANSLATE_Y, ROTATE -> true;
                default -> false;
            };
        }

        /**
         * Applies this op with an explicit (already signed) {@code parameter}: factor for
         * Brightness/Sharpness, shear for ShearX/ShearY, pixels for TranslateX/TranslateY (positive
         * moves the content left/up, as the reference's offset does), degrees counter-clockwise for
         * Rotate; ignored by the others.
         */
        public RgbImage apply(RgbImage image, double parameter) {
            int w = image.width();
            int h = image.height();
            byte[] px = image.rgb();
            byte[] out = switch (this) {
                case IDENTITY -> px;
                case AUTO_CONTRAST -> perChannelTable(px, RandAugment::autoContrastTable);
                case EQUALIZE -> perChannelTable(px, RandAugment::equalizeTable);
                case BRIGHTNESS -> brightness(px, parameter);
                case SHARPNESS -> sharpness(px, w, h, parameter);
                case SHEAR_X -> warp(px, w, h, new double[] {1, f32(parameter), 0, 0, 1, 0});
                case SHEAR_Y -> warp(px, w, h, new double[] {1, 0, 0, f32(parameter), 1, 0});
                case TRANSLATE_X -> warp(px, w, h, new double[] {1, 0, -f32(parameter), 0, 1, 0});
                case TRANSLATE_Y -> warp(px, w, h, new double[] {1, 0, 0, 0, 1, -f32(parameter)});
                case ROTATE -> warp(px, w, h, rotation(w, h, parameter));
            };
            return new RgbImage(w, h, out);
        }

        /** Parses a reference name such as "ShearX" (case-insensitive). */
        public static Op fromReferenceName(String name) {
            for (Op op : values()) {
                if (op.referenceName.equalsIgnoreCase(name)) {
                    return op;
                }
            }
            throw new IllegalArgumentException("unknown RandAugment op '" + name + "'; known: "
                    + java.util.Arrays.stream(values()).map(Op::referenceName).toList());
        }
    }

    public RandAugment {
        if (numOps < 1) {
            throw new IllegalArgumentException("RandAugment needs at least 1 op per image, got " + numOps
                    + "; turn it off instead of asking for 0");
        }
        if (magnitude < 0 || magnitude > MAX_MAGNITUDE) {
            throw new IllegalArgumentException("RandAugment magnitude must be 0 to " + MAX_MAGNITUDE + ", got " + magnitude);
        }
        if (ops == null || ops.isEmpty()) {
            throw new IllegalArgumentException("RandAugment needs at least one op to draw from");
        }
        ops = List.copyOf(ops);
    }

    /** BLIP's fine-tuning setting: 2 ops at magnitude 5 from its ten ops. */
    public static RandAugment blip() {
        return blip(2, 5);
    }

    /** {@code numOps} ops at {@code magnitude} from BLIP's ten ops (in BLIP's order). */
    public static RandAugment blip(int numOps, int magnitude) {
        return new RandAugment(numOps, magnitude, List.of(Op.IDENTITY, Op.AUTO_CONTRAST, Op.EQUALIZE, Op.BRIGHTNESS,
                Op.SHARPNESS, Op.SHEAR_X, Op.SHEAR_Y, Op.TRANSLATE_X, Op.TRANSLATE_Y, Op.ROTATE));
    }

    /**
     * Parses {@code "N,M"} (e.g. "2,5") into {@link #blip(int, int)}.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static RandAugment parse(String spec) {
        String[] parts = spec == null ? new String[0] : spec.trim().split("\\s*,\\s*");
        if (parts.length != 2) {
            throw new IllegalArgumentException("expected N,M (ops per image, magnitude 0-" + MAX_MAGNITUDE
                    + "), e.g. 2,5; got '" + spec + "'");
        }
        try {
            return blip(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expected N,M as two whole numbers, e.g. 2,5; got '" + spec + "'");
        }
    }

    /** A stable text form, e.g. "2,5:Identity,AutoContrast,...", for checkpoints to compare. */
    public String describe() {
        StringBuilder sb = new StringBuilder().append(numOps).append(',').append(magnitude).append(':');
        for (int i = 0; i < ops.size(); i++) {
            sb.append(i == 0 ? "" : ",").append(ops.get(i).referenceName());
        }
        return sb.toString();
    }

    /** Draws and applies the ops, taking every random number from {@code rng}. */
    public RgbImage apply(RgbImage image, TrainingRandom rng) {
        RgbImage out = image;
        for (Step step : draw(rng)) {
            out = step.op().apply(out, step.parameter());
        }
        return out;
    }

    /** One op that {@link #draw} decided to apply, with its signed parameter. */
    record Step(Op op, double parameter) {}

    /** The ops one call applies, in order: {@code numOps} choices, then per choice a coin and a sign. */
    List<Step> draw(TrainingRandom rng) {
        Op[] chosen = new Op[numOps];
        for (int i = 0; i < numOps; i++) {
            chosen[i] = ops.get(rng.nextInt(ops.size()));
        }
        List<Step> steps = new java.util.ArrayList<>(numOps);
        for (Op op : chosen) {
            if (rng.nextDouble() > APPLY_PROBABILITY) {
                continue;
            }
            double p = op.parameter(magnitude);
            if (op.signed() && rng.nextDouble() < 0.5) {
                p = -p;
            }
            steps.add(new Step(op, p));
        }
        return steps;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "RandAugment[%s]", describe());
    }

    // ---- colour ops ----

    private interface ChannelTable {
        /** A 256-entry lookup table from the channel's histogram. */
        int[] table(long[] histogram, int pixels);
    }

    private static byte[] perChannelTable(byte[] px, ChannelTable maker) {
        int pixels = px.length / 3;
        byte[] out = new byte[px.length];
        for (int c = 0; c < 3; c++) {
            long[] hist = new long[256];
            for (int i = c; i < px.length; i += 3) {
                hist[px[i] & 0xff]++;
            }
            int[] lut = maker.table(hist, pixels);
            for (int i = c; i < px.length; i += 3) {
                out[i] = (byte) lut[px[i] & 0xff];
            }
        }
        return out;
    }

    /** PIL's autocontrast without cut-off: min..max to 0..255, truncating; a flat channel is kept. */
    private static int[] autoContrastTable(long[] hist, int pixels) {
        int lo = 0;
        while (hist[lo] == 0) {
            lo++;
        }
        int hi = 255;
        while (hist[hi] == 0) {
            hi--;
        }
        int[] lut = new int[256];
        double scale = 255.0 / (hi - lo);
        double offset = -lo * scale;
        for (int i = 0; i < 256; i++) {
            lut[i] = hi <= lo ? i : (int) Math.clamp(i * scale + offset, 0, 255);
        }
        return lut;
    }

    /**
     * PIL's equalize: the step is the pixel count without the last occupied bin, over 255; a value
     * maps to (step / 2 + pixels below it) / step. With a step of 0 the channel is kept.
     */
    private static int[] equalizeTable(long[] hist, int pixels) {
        long last = 0;
        for (int v = 255; v >= 0; v--) {
            if (hist[v] != 0) {
                last = hist[v];
                break;
            }
        }
        long step = (pixels - last) / 255;
        int[] lut = new int[256];
        long below = step / 2;
        for (int v = 0; v < 256; v++) {
            lut[v] = step == 0 ? v : (int) Math.min(255, below / step);
            below += hist[v];
        }
        return lut;
    }

    private static byte[] brightness(byte[] px, double factor) {
        float f = (float) factor;
        byte[] out = new byte[px.length];
        for (int i = 0; i < px.length; i++) {
            out[i] = (byte) (int) Math.clamp((px[i] & 0xff) * f, 0f, 255f);
        }
        return out;
    }

    /**
     * Blend with the smoothed image: factor 1 keeps the image, 0 gives the smoothed image (border
     * included, OpenCV reflecting without repeating the edge), others blend the interior only.
     */
    private static byte[] sharpness(byte[] px, int w, int h, double factor) {
        if (factor == 1.0) {
            return px;
        }
        float edge = 1f / 13f;
        float centre = 5f / 13f;
        float f = (float) factor;
        byte[] out = factor == 0.0 ? new byte[px.length] : px.clone();
        for (int y = 0; y < h; y++) {
            boolean innerRow = y > 0 && y < h - 1;
            for (int x = 0; x < w; x++) {
                boolean inner = innerRow && x > 0 && x < w - 1;
                if (factor != 0.0 && !inner) {
                    continue;
                }
                for (int c = 0; c < 3; c++) {
                    double sum = 0;
                    for (int dy = -1; dy <= 1; dy++) {
                        int sy = reflect101(y + dy, h);
                        for (int dx = -1; dx <= 1; dx++) {
                            int v = px[(sy * w + reflect101(x + dx, w)) * 3 + c] & 0xff;
                            sum += v * (double) (dx == 0 && dy == 0 ? centre : edge);
                        }
                    }
                    int smooth = (int) Math.clamp(Math.rint(sum), 0, 255);
                    int i = (y * w + x) * 3 + c;
                    if (factor == 0.0) {
                        out[i] = (byte) smooth;
                    } else {
                        float blended = smooth + f * ((px[i] & 0xff) - smooth);
                        out[i] = (byte) (int) Math.clamp(blended, 0f, 255f);
                    }
                }
            }
        }
        return out;
    }

    private static int reflect101(int i, int n) {
        if (n == 1) {
            return 0;
        }
        if (i < 0) {
            return -i;
        }
        return i >= n ? 2 * n - 2 - i : i;
    }

    // ---- geometric ops ----

    /** The reference builds shear and shift matrices in float32. */
    private static double f32(double v) {
        return (float) v;
    }

    /** {@code cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1)}: counter-clockwise on screen. */
    private static double[] rotation(int w, int h, double degrees) {
        double cx = w / 2.0;
        double cy = h / 2.0;
        double rad = degrees * Math.PI / 180;
        double a = Math.cos(rad);
        double b = Math.sin(rad);
        return new double[] {a, b, (1 - a) * cx - b * cy, -b, a, b * cx + (1 - a) * cy};
    }

    private static final int AB_BITS = 10;
    private static final int INTER_BITS = 5;
    private static final int INTER_TAB = 1 << INTER_BITS;
    private static final int COEF_BITS = 15;

    /**
     * {@code cv2.warpAffine(img, m, (w, h), INTER_LINEAR, BORDER_CONSTANT, 128)}, {@code m} mapping
     * source to destination: OpenCV inverts it, steps through the destination in 1/1024 pixel fixed
     * point, rounds source positions to 1/32 pixel and blends the four neighbours with integer
     * weights summing to 2^15, taking the fill value for neighbours outside the image.
     */
    private static byte[] warp(byte[] px, int w, int h, double[] m) {
        double det = m[0] * m[4] - m[1] * m[3];
        det = det != 0 ? 1 / det : 0;
        double i0 = m[4] * det;
        double i1 = -m[1] * det;
        double i3 = -m[3] * det;
        double i4 = m[0] * det;
        double i2 = -i0 * m[2] - i1 * m[5];
        double i5 = -i3 * m[2] - i4 * m[5];
        int scale = 1 << AB_BITS;
        int roundDelta = scale / INTER_TAB / 2;
        int[] adelta = new int[w];
        int[] bdelta = new int[w];
        for (int x = 0; x < w; x++) {
            adelta[x] = cvRound(i0 * x * scale);
            bdelta[x] = cvRound(i3 * x * scale);
        }
        byte[] out = new byte[px.length];
        for (int y = 0; y < h; y++) {
            int x0 = cvRound((i1 * y + i2) * scale) + roundDelta;
            int y0 = cvRound((i4 * y + i5) * scale) + roundDelta;
            for (int x = 0; x < w; x++) {
                int fxAll = (x0 + adelta[x]) >> (AB_BITS - INTER_BITS);
                int fyAll = (y0 + bdelta[x]) >> (AB_BITS - INTER_BITS);
                int sx = fxAll >> INTER_BITS;
                int sy = fyAll >> INTER_BITS;
                int fx = fxAll & (INTER_TAB - 1);
                int fy = fyAll & (INTER_TAB - 1);
                // (a/32)(b/32) * 2^15 = a*b*32: OpenCV's weight table holds exactly these integers.
                int w00 = (INTER_TAB - fx) * (INTER_TAB - fy) * INTER_TAB;
                int w01 = fx * (INTER_TAB - fy) * INTER_TAB;
                int w10 = (INTER_TAB - fx) * fy * INTER_TAB;
                int w11 = fx * fy * INTER_TAB;
                int d = (y * w + x) * 3;
                for (int c = 0; c < 3; c++) {
                    int v = at(px, w, h, sx, sy, c) * w00 + at(px, w, h, sx + 1, sy, c) * w01
                            + at(px, w, h, sx, sy + 1, c) * w10 + at(px, w, h, sx + 1, sy + 1, c) * w11;
                    out[d + c] = (byte) Math.clamp((v + (1 << (COEF_BITS - 1))) >> COEF_BITS, 0, 255);
                }
            }
        }
        return out;
    }

    private static int at(byte[] px, int w, int h, int x, int y, int c) {
        return x < 0 || y < 0 || x >= w || y >= h ? FILL : px[(y * w + x) * 3 + c] & 0xff;
    }

    /** OpenCV's {@code cvRound}: to nearest, halves to even, saturating to int. */
    private static int cvRound(double v) {
        return (int) Math.clamp(Math.rint(v), Integer.MIN_VALUE, Integer.MAX_VALUE);
    }
}
