package org.blipjava.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.Polygon;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A 2-D map of image and text embeddings (placed by {@link Tsne}): images are circles, texts are
 * triangles, coloured by category when one is given (otherwise images and texts get one colour
 * each), each with a short label and a legend.
 */
public final class EmbeddingMap {
    private static final int MARGIN = 40;
    private static final int LEGEND_WIDTH = 180;
    private static final int LABEL_ROOM = 150;

    private EmbeddingMap() {}

    /**
     * One point of the map.
     *
     * @param embedding the feature vector
     * @param label short text drawn beside the point
     * @param category colour group, or null
     * @param image true for an image, false for a text
     */
    public record Point(float[] embedding, String label, String category, boolean image) {
        public Point {
            Objects.requireNonNull(embedding, "embedding");
            Objects.requireNonNull(label, "label");
        }
    }

    /**
     * Lays out the points with t-SNE and draws them on a {@code size x size} canvas.
     *
     * @throws IllegalArgumentException when there are no points or size is below 200
     */
    public static BufferedImage render(List<Point> points, int size, String title, Tsne.Options options) {
        if (points.isEmpty()) {
            throw new IllegalArgumentException("an embedding map needs at least one point");
        }
        if (size < 200) {
            throw new IllegalArgumentException("an embedding map needs at least 200 pixels, not " + size);
        }
        float[][] x = points.stream().map(Point::embedding).toArray(float[][]::new);
        double[][] y = Tsne.embed(x, options);
        Map<String, Color> colours = new LinkedHashMap<>();
        boolean byCategory = points.stream().anyMatch(p -> p.category() != null);
        for (Point p : points) {
            String key = key(p, byCategory);
            colours.computeIfAbsent(key, k -> Drawing.category(colours.size()));
        }
        double minX = Double.POSITIVE_INFINITY;
        double maxX = Double.NEGATIVE_INFINITY;
        double minY = Double.POSITIVE_INFINITY;
        double maxY = Double.NEGATIVE_INFINITY;
        for (double[] p : y) {
            minX = Math.min(minX, p[0]);
            maxX = Math.max(maxX, p[0]);
            minY = Math.min(minY, p[1]);
            maxY = Math.max(maxY, p[1]);
        }
        int plot = size - 2 * MARGIN;
        int plotW = Math.max(LABEL_ROOM + 20, size - LEGEND_WIDTH - 2 * MARGIN);
        // Points stay left of the last LABEL_ROOM pixels so their labels do not run into the legend.
        double sx = maxX > minX ? (plotW - LABEL_ROOM) / (maxX - minX) : 0;
        double sy = maxY > minY ? (plot - 20) / (maxY - minY) : 0;
        BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = Drawing.canvas(img);
        try {
            g.setColor(Color.BLACK);
            g.setFont(Drawing.TITLE_FONT);
            g.drawString(Drawing.fit(title, g.getFontMetrics(), size - 16), 8, 20);
            g.setFont(Drawing.FONT);
            FontMetrics fm = g.getFontMetrics();
            g.setColor(new Color(0xdddddd));
            g.drawRect(MARGIN - 10, MARGIN, plotW + 20, plot);
            g.setStroke(new BasicStroke(1.2f));
            List<int[]> xy = new ArrayList<>();
            for (int i = 0; i < points.size(); i++) {
                int px = (int) Math.round(MARGIN + (sx == 0 ? (plotW - LABEL_ROOM) / 2.0 : (y[i][0] - minX) * sx));
                int py = (int) Math.round(MARGIN + 10 + (sy == 0 ? (plot - 20) / 2.0 : (y[i][1] - minY) * sy));
                xy.add(new int[] {px, py});
                Point p = points.get(i);
                g.setColor(colours.get(key(p, byCategory)));
                if (p.image()) {
                    g.fillOval(px - 6, py - 6, 12, 12);
                } else {
                    g.fillPolygon(new Polygon(new int[] {px, px - 7, px + 7}, new int[] {py - 7, py + 6, py + 6}, 3));
                }
            }
            g.setColor(new Color(0x333333));
            for (int i = 0; i < points.size(); i++) {
                g.drawString(Drawing.fit(points.get(i).label(), fm, LABEL_ROOM - 12), xy.get(i)[0] + 9, xy.get(i)[1] + 4);
            }
            // Legend: shapes, then colours.
            int lx = size - LEGEND_WIDTH + 10;
            int ly = MARGIN + 10;
            g.setColor(Color.DARK_GRAY);
            g.fillOval(lx, ly - 9, 10, 10);
            g.drawString("image", lx + 16, ly);
            ly += 18;
            g.fillPolygon(new Polygon(new int[] {lx + 5, lx, lx + 10}, new int[] {ly - 10, ly, ly}, 3));
            g.drawString("text", lx + 16, ly);
            ly += 26;
            for (var e : colours.entrySet()) {
                if (ly > size - 10) {
                    break;
                }
                g.setColor(e.getValue());
                g.fillRect(lx, ly - 10, 10, 10);
                g.setColor(Color.BLACK);
                g.drawString(Drawing.fit(e.getKey(), fm, LEGEND_WIDTH - 30), lx + 16, ly);
                ly += 18;
            }
        } finally {
            g.dispose();
        }
        return img;
    }

    private static String key(Point p, boolean byCategory) {
        if (byCategory) {
            return p.category() == null ? "(none)" : p.category();
        }
        return p.image() ? "images" : "texts";
    }
}
