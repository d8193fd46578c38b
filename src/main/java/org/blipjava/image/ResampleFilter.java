package org.blipjava.image;

/**
 * The resampling filters of Pillow's {@code Image.resize} that this library reproduces exactly,
 * with their PIL codes ({@code resample} in preprocessor_config.json) and support radii.
 */
public enum ResampleFilter {
    /** PIL.Image.BOX (4). */
    BOX(4, 0.5),
    /** PIL.Image.BILINEAR (2): the triangle filter. */
    BILINEAR(2, 1.0),
    /** PIL.Image.BICUBIC (3): Keys' cubic with a = -0.5, BLIP's filter. */
    BICUBIC(3, 2.0);

    private final int pilCode;
    private final double support;

    ResampleFilter(int pilCode, double support) {
        this.pilCode = pilCode;
        this.support = support;
    }

    /** The PIL constant ({@code PIL.Image.Resampling}). */
    public int pilCode() {
        return pilCode;
    }

    /** Radius of the filter at scale 1, in source pixels. */
    public double support() {
        return support;
    }

    /** The filter's weight at distance {@code x}; the same double arithmetic as Pillow's Resample.c. */
    double weight(double x) {
        switch (this) {
            case BOX:
                return x > -0.5 && x <= 0.5 ? 1.0 : 0.0;
            case BILINEAR:
                if (x < 0.0) {
                    x = -x;
                }
                return x < 1.0 ? 1.0 - x : 0.0;
            case BICUBIC: {
                final double a = -0.5;
                if (x < 0.0) {
                    x = -x;
                }
                if (x < 1.0) {
                    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
                }
                if (x < 2.0) {
                    return (((x - 5) * x + 8) * x - 4) * a;
                }
                return 0.0;
            }
            default:
                throw new AssertionError(this);
        }
    }

    /**
     * The filter for a PIL resample code.
     *
     * @throws IllegalArgumentException naming the code when it is not one of 2 (bilinear),
     *                                  3 (bicubic) or 4 (box)
     */
    public static ResampleFilter fromPilCode(int code) {
        for (ResampleFilter f : values()) {
            if (f.pilCode == code) {
                return f;
            }
        }
        String name = switch (code) {
            case 0 -> " (nearest)";
            case 1 -> " (lanczos)";
            case 5 -> " (hamming)";
            default -> "";
        };
        throw new IllegalArgumentException("resample " + code + name + " is not supported; use 3 (bicubic, BLIP's"
                + " default), 2 (bilinear) or 4 (box)");
    }
}
