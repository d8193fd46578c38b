package org.blipjava.training;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Polygon;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * A small captioning dataset the project renders itself, for demonstrations and tests of
 * training: coloured shapes (circle, square, triangle) at random positions and sizes on a light
 * background, each with two templated captions ("a red circle", "a circle that is red"), written
 * as PNG files and a BLIP annotation list ({@code [{"image", "caption": [..]}]}) that
 * {@link CaptionData#read} reads.
 */
public final class ShapesData {
    /** Colour names and their RGB values. */
    public static final List<String> COLOURS = List.of("red", "green", "blue", "yellow");
    private static final List<Color> RGB = List.of(new Color(220, 30, 30), new Color(30, 170, 50),
            new Color(30, 60, 220), new Color(235, 210, 20));
    /** Shape names. */
    public static final List<String> SHAPES = List.of("circle", "square", "triangle");

    private ShapesData() {}

    /** Number of distinct (colour, shape) captions. */
    public static int kinds() {
        return COLOURS.size() * SHAPES.size();
    }

    /**
     * Renders {@code count} images into {@code dir} (created if needed) and writes
     * {@code dir/<name>.json}; image {@code i} shows kind {@code i % kinds()}, so any
     * {@code kinds()} consecutive images cover every kind.
     *
     * @param size image width and height in pixels
     * @param seed position, size and background jitter
     * @return the annotation file
     */
    public static Path write(Path dir, String name, int count, int size, long seed) throws IOException {
        if (count < 1 || size < 16) {
            throw new IllegalArgumentException("need at least one image of at least 16 pixels, got " + count + " of "
                    + size);
        }
        Files.createDirectories(dir);
        TrainingRandom rng = new TrainingRandom(seed);
        ObjectMapper json = new ObjectMapper();
        ArrayNode list = json.createArrayNode();
        for (int i = 0; i < count; i++) {
            int kind = i % kinds();
            String colour = COLOURS.get(kind / SHAPES.size());
            String shape = SHAPES.get(kind % SHAPES.size());
            String file = String.format(java.util.Locale.ROOT, "%s-%04d.png", name, i);
            ImageIO.write(render(kind, size, rng), "png", dir.resolve(file).toFile());
            ObjectNode e = list.addObject();
            e.put("image", file);
            e.putArray("caption").add("a " + colour + " " + shape).add("a " + shape + " that is " + colour);
        }
        Path ann = dir.resolve(name + ".json");
        json.writerWithDefaultPrettyPrinter().writeValue(ann.toFile(), list);
        return ann;
    }

    /**
     * Renders a categorized set as a person would make one by hand: one folder per shape
     * ({@code circle/}, {@code square/}, ...) holding {@code perCategory} images of that shape in
     * turning colours, and {@code dir/captions.csv} ({@code image,caption}) with one caption per
     * image ("a red circle"). {@code blip compare} reads it, taking each image's folder as its
     * category.
     *
     * @return the captions file
     */
    public static Path writeCategorized(Path dir, int perCategory, int size, long seed) throws IOException {
        if (perCategory < 1 || size < 16) {
            throw new IllegalArgumentException("need at least one image per category of at least 16 pixels, got "
                    + perCategory + " of " + size);
        }
        TrainingRandom rng = new TrainingRandom(seed);
        StringBuilder csv = new StringBuilder("image,caption\n");
        for (int s = 0; s < SHAPES.size(); s++) {
            String shape = SHAPES.get(s);
            Path folder = Files.createDirectories(dir.resolve(shape));
            for (int i = 0; i < perCategory; i++) {
                int colour = i % COLOURS.size();
                String file = String.format(java.util.Locale.ROOT, "%s-%02d.png", COLOURS.get(colour), i);
                ImageIO.write(render(colour * SHAPES.size() + s, size, rng), "png", folder.resolve(file).toFile());
                csv.append(shape).append('/').append(file).append(",a ").append(COLOURS.get(colour)).append(' ')
                        .append(shape).append('\n');
            }
        }
        Path file = dir.resolve("captions.csv");
        Files.writeString(file, csv);
        return file;
    }

    /**
     * Renders {@code count} images as {@link #write} does and writes {@code dir/<name>.json} in
     * BLIP's VQA format with two questions per image, "what color is the shape?" and "what shape
     * is it?", each answered (four times, as by four annotators) by the colour or shape name.
     *
     * @return the annotation file
     */
    public static Path writeVqa(Path dir, String name, int count, int size, long seed) throws IOException {
        Path captions = write(dir, name + "-images", count, size, seed);
        ObjectMapper json = new ObjectMapper();
        ArrayNode list = json.createArrayNode();
        for (int i = 0; i < count; i++) {
            int kind = i % kinds();
            String file = String.format(java.util.Locale.ROOT, "%s-images-%04d.png", name, i);
            list.addObject().put("image", file).put("question", "what color is the shape?")
                    .set("answer", answers(json, COLOURS.get(kind / SHAPES.size())));
            list.addObject().put("image", file).put("question", "what shape is it?")
                    .set("answer", answers(json, SHAPES.get(kind % SHAPES.size())));
        }
        Files.delete(captions);
        Path ann = dir.resolve(name + ".json");
        json.writerWithDefaultPrettyPrinter().writeValue(ann.toFile(), list);
        return ann;
    }

    /** Four annotators giving the same answer, so VQA accuracy (which needs three agreeing others) can reach 1. */
    private static ArrayNode answers(ObjectMapper json, String answer) {
        ArrayNode a = json.createArrayNode();
        for (int i = 0; i < 4; i++) {
            a.add(answer);
        }
        return a;
    }

    private static BufferedImage render(int kind, int size, TrainingRandom rng) {
        BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            int bg = 200 + rng.nextInt(56);
            g.setColor(new Color(bg, bg, bg));
            g.fillRect(0, 0, size, size);
            int s = size * 2 / 5 + rng.nextInt(size / 4);
            int x = rng.nextInt(size - s + 1);
            int y = rng.nextInt(size - s + 1);
            g.setColor(RGB.get(kind / SHAPES.size()));
            switch (SHAPES.get(kind % SHAPES.size())) {
                case "circle" -> g.fillOval(x, y, s, s);
                case "square" -> g.fillRect(x, y, s, s);
                default -> g.fillPolygon(new Polygon(new int[] {x, x + s / 2, x + s}, new int[] {y + s, y, y + s}, 3));
            }
        } finally {
            g.dispose();
        }
        return img;
    }
}
