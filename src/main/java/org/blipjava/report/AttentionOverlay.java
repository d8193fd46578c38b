package org.blipjava.report;

import java.awt.AlphaComposite;
import java.awt.Color;
import java.awt.Composite;
import java.awt.Dimension;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.List;

/**
 * Attention or saliency maps over an image: a grid of square panels, the first showing the
 * image with a caption, then one per map with the map (viridis, upsampled bilinearly) blended
 * over the image and its label underneath.
 */
public final class AttentionOverlay {
    /** Panels per row at most. */
    public static final int COLUMNS = 4;
    /** Height of the label strip under each panel. */
    public static final int LABEL_HEIGHT = 22;

    private AttentionOverlay() {}

    /** The picture's size for {@code maps} maps (plus the plain image panel) of {@code panel} pixels. */
    public static Dimension size(int maps, int panel) {
        int panels = maps + 1;
        int cols = Math.min(COLUMNS, panels);
        int rows = (panels + COLUMNS - 1) / COLUMNS;
        return new Dimension(cols * panel, rows * (panel + LABEL_HEIGHT));
    }

    /**
     * Draws the panels.
     *
     * @param image the image (shown stretched to a square, as the model sees it)
     * @param caption label of the plain image panel
     * @param labels one label per map
     * @param maps per map {@code gridH * gridW} non-negative weights, row by row
     * @param gridH map rows
     * @param gridW map columns
     * @param panel side of a panel in pixels (at least 32)
     * @throws IllegalArgumentException when the sizes do not agree
     */
    public static BufferedImage render(BufferedImage image, String caption, List<String> labels, List<float[]> maps,
            int gridH, int gridW, int panel) {
        if (labels.size() != maps.size()) {
            throw new IllegalArgumentException(maps.size() + " maps but " + labels.size() + " labels");
        }
        if (panel < 32) {
            throw new IllegalArgumentException("panels need at least 32 pixels, not " + panel);
        }
        BufferedImage base = Pictures.scale(image, panel, panel);
        Dimension dim = size(maps.size(), panel);
        BufferedImage out = new BufferedImage(dim.width, dim.height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = Drawing.canvas(out);
        try {
            FontMetrics fm = g.getFontMetrics();
            for (int k = 0; k <= maps.size(); k++) {
                int x = (k % COLUMNS) * panel;
                int y = (k / COLUMNS) * (panel + LABEL_HEIGHT);
                g.drawImage(base, x, y, null);
                String label = caption;
                if (k > 0) {
                    float[] m = maps.get(k - 1);
                    if (m.length != gridH * gridW) {
                        throw new IllegalArgumentException("map " + (k - 1) + " has " + m.length + " values, expected "
                                + gridH + "x" + gridW);
                    }
                    Composite c = g.getComposite();
                    g.setComposite(AlphaComposite.getInstance(AlphaComposite.SRC_OVER, 0.55f));
                    g.drawImage(heat(m, gridH, gridW), x, y, panel, panel, null);
                    g.setComposite(c);
                    label = labels.get(k - 1);
                }
                g.setColor(Color.BLACK);
                g.drawString(Drawing.fit(label, fm, panel - 6), x + 3, y + panel + fm.getAscent() + 3);
            }
        } finally {
            g.dispose();
        }
        return out;
    }

    /** The map normalized to its own range and coloured, one pixel per cell. */
    private static BufferedImage heat(float[] m, int h, int w) {
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (float v : m) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        double range = max > min ? max - min : 1;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < h; i++) {
            for (int j = 0; j < w; j++) {
                img.setRGB(j, i, Drawing.viridis((m[i * w + j] - min) / range));
            }
        }
        return img;
    }
}
