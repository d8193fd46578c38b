package org.blipjava.report;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;

/** Shared Java2D helpers: canvases, a perceptual colour map, a categorical palette, label fitting. */
final class Drawing {
    static final Font FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    static final Font TITLE_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 14);

    // Ten well-separated colours (Tableau 10) for categories.
    private static final int[] PALETTE = {0x4e79a7, 0xf28e2b, 0xe15759, 0x76b7b2, 0x59a14f, 0xedc948, 0xb07aa1,
        0xff9da7, 0x9c755f, 0xbab0ac};
    // Anchor colours of viridis at 0, 0.25, 0.5, 0.75, 1; linear in between is close enough for reading.
    private static final int[] VIRIDIS = {0x440154, 0x3b528b, 0x21918c, 0x5ec962, 0xfde725};

    private Drawing() {}

    /** A white canvas with antialiased text and shapes; the caller disposes the graphics. */
    static Graphics2D canvas(BufferedImage img) {
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setFont(FONT);
        return g;
    }

    /** Viridis colour of {@code t} in [0, 1] (clamped). */
    static int viridis(double t) {
        double x = Double.isNaN(t) ? 0 : Math.max(0, Math.min(1, t)) * (VIRIDIS.length - 1);
        int i = Math.min((int) x, VIRIDIS.length - 2);
        double f = x - i;
        int a = VIRIDIS[i];
        int b = VIRIDIS[i + 1];
        int r = (int) Math.round(((a >> 16) & 0xff) * (1 - f) + ((b >> 16) & 0xff) * f);
        int gr = (int) Math.round(((a >> 8) & 0xff) * (1 - f) + ((b >> 8) & 0xff) * f);
        int bl = (int) Math.round((a & 0xff) * (1 - f) + (b & 0xff) * f);
        return r << 16 | gr << 8 | bl;
    }

    static Color category(int index) {
        return new Color(PALETTE[Math.floorMod(index, PALETTE.length)]);
    }

    /** The text cut with an ellipsis so it is at most {@code width} pixels wide. */
    static String fit(String text, FontMetrics fm, int width) {
        if (fm.stringWidth(text) <= width) {
            return text;
        }
        String s = text;
        while (!s.isEmpty() && fm.stringWidth(s + "\u2026") > width) {
            s = s.substring(0, s.length() - 1);
        }
        return s + "\u2026";
    }

    /** Black or white, whichever reads better on {@code rgb}. */
    static Color textOn(int rgb) {
        double lum = 0.299 * ((rgb >> 16) & 0xff) + 0.587 * ((rgb >> 8) & 0xff) + 0.114 * (rgb & 0xff);
        return lum > 140 ? Color.BLACK : Color.WHITE;
    }
}
