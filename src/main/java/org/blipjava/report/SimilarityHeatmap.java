package org.blipjava.report;

import java.awt.Color;
import java.awt.Dimension;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Locale;

/**
 * An image x text score matrix as a labelled heatmap: one row per image, one column per text,
 * each cell coloured (viridis, scaled to the matrix's range) and printed with its value.
 */
public final class SimilarityHeatmap {
    /** Side of one cell in pixels. */
    public static final int CELL = 56;
    static final int LEFT = 200;
    static final int TOP = 170;
    static final int LEGEND = 90;
    static final int BOTTOM = 16;

    private SimilarityHeatmap() {}

    /** The picture's size for a matrix of {@code rows x cols}. */
    public static Dimension size(int rows, int cols) {
        return new Dimension(LEFT + cols * CELL + LEGEND, TOP + rows * CELL + BOTTOM);
    }

    /**
     * Draws the heatmap.
     *
     * @param scores [images][texts] scores (any range, e.g. ITM match probabilities or ITC cosines)
     * @param imageLabels one label per row
     * @param textLabels one label per column
     * @param title drawn at the top left, e.g. "ITM match probability"
     * @throws IllegalArgumentException when the labels do not match the matrix
     */
    public static BufferedImage render(float[][] scores, List<String> imageLabels, List<String> textLabels, String title) {
        int rows = scores.length;
        int cols = rows == 0 ? 0 : scores[0].length;
        if (rows == 0 || cols == 0) {
            throw new IllegalArgumentException("a heatmap needs at least one image and one text");
        }
        if (imageLabels.size() != rows || textLabels.size() != cols) {
            throw new IllegalArgumentException("the heatmap has " + rows + "x" + cols + " scores but "
                    + imageLabels.size() + " image labels and " + textLabels.size() + " text labels");
        }
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (float[] row : scores) {
            if (row.length != cols) {
                throw new IllegalArgumentException("score rows must all have " + cols + " columns");
            }
            for (float v : row) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
        }
        double range = max > min ? max - min : 1;
        Dimension dim = size(rows, cols);
        BufferedImage img = new BufferedImage(dim.width, dim.height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = Drawing.canvas(img);
        try {
            g.setColor(Color.BLACK);
            g.setFont(Drawing.TITLE_FONT);
            g.drawString(Drawing.fit(title, g.getFontMetrics(), dim.width - 10), 8, 20);
            g.setFont(Drawing.FONT);
            FontMetrics fm = g.getFontMetrics();
            for (int r = 0; r < rows; r++) {
                String label = Drawing.fit(imageLabels.get(r), fm, LEFT - 12);
                g.drawString(label, LEFT - 6 - fm.stringWidth(label), TOP + r * CELL + CELL / 2 + fm.getAscent() / 2 - 2);
            }
            // Column labels rotated so long texts fit above narrow columns.
            AffineTransform saved = g.getTransform();
            for (int c = 0; c < cols; c++) {
                g.setTransform(saved);
                g.translate(LEFT + c * CELL + CELL / 2 + fm.getAscent() / 2 - 2, TOP - 6);
                g.rotate(-Math.PI / 3);
                g.drawString(Drawing.fit(textLabels.get(c), fm, (int) ((TOP - 30) / Math.sin(Math.PI / 3))), 0, 0);
            }
            g.setTransform(saved);
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    int rgb = Drawing.viridis((scores[r][c] - min) / range);
                    int x = LEFT + c * CELL;
                    int y = TOP + r * CELL;
                    g.setColor(new Color(rgb));
                    g.fillRect(x, y, CELL, CELL);
                    g.setColor(Drawing.textOn(rgb));
                    String v = String.format(Locale.ROOT, "%.3f", scores[r][c]);
                    g.drawString(v, x + (CELL - fm.stringWidth(v)) / 2, y + CELL / 2 + fm.getAscent() / 2 - 2);
                }
            }
            g.setColor(Color.GRAY);
            g.drawRect(LEFT, TOP, cols * CELL, rows * CELL);
            // Colour bar with the matrix's minimum and maximum.
            int bx = LEFT + cols * CELL + 16;
            int bh = rows * CELL;
            for (int y = 0; y < bh; y++) {
                g.setColor(new Color(Drawing.viridis(1 - y / (double) Math.max(1, bh - 1))));
                g.fillRect(bx, TOP + y, 14, 1);
            }
            g.setColor(Color.BLACK);
            g.drawString(String.format(Locale.ROOT, "%.3f", max), bx + 18, TOP + fm.getAscent());
            g.drawString(String.format(Locale.ROOT, "%.3f", min), bx + 18, TOP + bh);
        } finally {
            g.dispose();
        }
        return img;
    }
}
