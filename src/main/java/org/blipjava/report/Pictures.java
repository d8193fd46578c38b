package org.blipjava.report;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.Base64;
import org.blipjava.image.RgbImage;

/** Conversions between the project's images and Java2D, and thumbnails as data URIs. */
public final class Pictures {
    private Pictures() {}

    /** The image as a Java2D RGB image. */
    public static BufferedImage toBufferedImage(RgbImage image) {
        int w = image.width();
        int h = image.height();
        byte[] rgb = image.rgb();
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = 3 * (y * w + x);
                row[x] = (rgb[i] & 0xff) << 16 | (rgb[i + 1] & 0xff) << 8 | (rgb[i + 2] & 0xff);
            }
            out.setRGB(0, y, w, 1, row, 0, w);
        }
        return out;
    }

    /** Scales an image to {@code width x height} with bilinear interpolation. */
    public static BufferedImage scale(BufferedImage image, int width, int height) {
        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            g.drawImage(image, 0, 0, width, height, null);
        } finally {
            g.dispose();
        }
        return out;
    }

    /** Scales so the longer side is {@code maxSide} (never enlarges). */
    public static BufferedImage fit(BufferedImage image, int maxSide) {
        int w = image.getWidth();
        int h = image.getHeight();
        double f = Math.min(1.0, maxSide / (double) Math.max(w, h));
        return scale(image, Math.max(1, (int) Math.round(w * f)), Math.max(1, (int) Math.round(h * f)));
    }

    /** A JPEG thumbnail whose longer side is at most {@code maxSide}, as a {@code data:} URI. */
    public static String thumbnailDataUri(RgbImage image, int maxSide) {
        if (maxSide < 1) {
            throw new IllegalArgumentException("thumbnail size must be positive, not " + maxSide);
        }
        byte[] jpeg = ReportFiles.encode(fit(toBufferedImage(image), maxSide), "jpg");
        return "data:image/jpeg;base64," + Base64.getEncoder().encodeToString(jpeg);
    }
}
