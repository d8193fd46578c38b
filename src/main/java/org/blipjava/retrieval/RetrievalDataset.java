package org.blipjava.retrieval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * An image-caption retrieval test set: images, captions, and which image each caption belongs to.
 *
 * <p>{@link #read} understands three layouts, told apart by content:
 * <ul>
 *   <li>Karpathy splits ({@code dataset_coco.json}, {@code dataset_flickr30k.json}): an object
 *       with {@code images[]}, each with {@code filename}, optional {@code filepath},
 *       {@code sentences[].raw} and {@code split};</li>
 *   <li>BLIP's annotation files ({@code coco_karpathy_test.json}): an array of
 *       {@code {"image": path, "caption": [..] or "..."}};</li>
 *   <li>Flickr30k's {@code results.csv}: lines {@code image_name| comment_number| comment}
 *       after a header line.</li>
 * </ul>
 *
 * @param images     image files
 * @param texts      captions
 * @param textImage  for each caption, the index of its image in {@code images}
 */
public record RetrievalDataset(List<Path> images, List<String> texts, int[] textImage) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public RetrievalDataset {
        images = List.copyOf(images);
        texts = List.copyOf(texts);
        textImage = textImage.clone();
        if (textImage.length != texts.size()) {
            throw new IllegalArgumentException(texts.size() + " texts but " + textImage.length + " image links");
        }
        for (int t = 0; t < textImage.length; t++) {
            if (textImage[t] < 0 || textImage[t] >= images.size()) {
                throw new IllegalArgumentException("text " + t + " links to image " + textImage[t] + " of " + images.size());
            }
        }
    }

    @Override
    public int[] textImage() {
        return textImage.clone();
    }

    /** The image of caption {@code t}. */
    public int imageOf(int t) {
        return textImage[t];
    }

    /** The dataset without the given images and their captions (for images that cannot be read). */
    public RetrievalDataset without(java.util.Set<Integer> dropped) {
        if (dropped.isEmpty()) {
            return this;
        }
        int[] newIndex = new int[images.size()];
        List<Path> keptImages = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            newIndex[i] = dropped.contains(i) ? -1 : keptImages.size();
            if (!dropped.contains(i)) {
                keptImages.add(images.get(i));
            }
        }
        List<String> keptTexts = new ArrayList<>();
        List<Integer> links = new ArrayList<>();
        for (int t = 0; t < texts.size(); t++) {
            if (newIndex[textImage[t]] >= 0) {
                keptTexts.add(texts.get(t));
                links.add(newIndex[textImage[t]]);
            }
        }
        return new RetrievalDataset(keptImages, keptTexts, links.stream().mapToInt(Integer::intValue).toArray());
    }

    /**
     * Reads a dataset file.
     *
     * @param file      a Karpathy JSON, a BLIP annotation JSON or a Flickr30k CSV
     * @param imageRoot directory image paths are relative to; null for the file's directory
     * @param split     for Karpathy files, the split to take; null for "test" when the file has
     *                  one, else every image
     */
    public static RetrievalDataset read(Path file, Path imageRoot, String split) {
        Objects.requireNonNull(file, "file");
        Path root = imageRoot != null ? imageRoot : file.toAbsolutePath().getParent();
        String head;
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            char[] buf = new char[256];
            int n = r.read(buf);
            head = n <= 0 ? "" : new String(buf, 0, n).stripLeading();
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read the dataset: " + e.getMessage(), e);
        }
        RetrievalDataset ds;
        if (head.startsWith("{") || head.startsWith("[")) {
            JsonNode json;
            try {
                json = JSON.readTree(file.toFile());
            } catch (IOException e) {
                throw new DatasetException(file + ": not valid JSON: " + e.getMessage());
            }
            ds = json.isArray() ? fromAnnotations(json, root, file) : fromKarpathy(json, root, split, file);
        } else {
            ds = fromFlickrCsv(file, root);
        }
        if (ds.images().isEmpty() || ds.texts().isEmpty()) {
            throw new DatasetException(file + ": no images with captions" + (split != null ? " in split '" + split + "'" : ""));
        }
        return ds;
    }

    private static RetrievalDataset fromKarpathy(JsonNode json, Path root, String split, Path file) {
        JsonNode images = json.get("images");
        if (images == null || !images.isArray()) {
            throw new DatasetException(file + ": a JSON object without an 'images' array; expected a Karpathy split file "
                    + "(dataset_coco.json) or an array of {\"image\", \"caption\"}");
        }
        String wanted = split;
        if (wanted == null) {
            for (JsonNode im : images) {
                if ("test".equals(im.path("split").asText(null))) {
                    wanted = "test";
                    break;
                }
            }
        }
        Builder b = new Builder();
        int i = 0;
        for (JsonNode im : images) {
            if (wanted != null && !wanted.equals(im.path("split").asText(null))) {
                i++;
                continue;
            }
            String name = text(im, "filename", file, "images[" + i + "]");
            String dir = im.path("filepath").asText("");
            Path path = dir.isEmpty() ? root.resolve(name) : root.resolve(dir).resolve(name);
            JsonNode sentences = im.get("sentences");
            if (sentences == null || !sentences.isArray()) {
                throw new DatasetException(file + ": images[" + i + "] has no 'sentences' array");
            }
            List<String> caps = new ArrayList<>();
            for (JsonNode s : sentences) {
                caps.add(s.isTextual() ? s.asText() : text(s, "raw", file, "images[" + i + "].sentences[]"));
            }
            b.add(path, caps);
            i++;
        }
        return b.build();
    }

    private static RetrievalDataset fromAnnotations(JsonNode json, Path root, Path file) {
        Builder b = new Builder();
        int i = 0;
        for (JsonNode e : json) {
            String image = text(e, "image", file, "[" + i + "]");
            JsonNode cap = e.get("caption");
            if (cap == null) {
                throw new DatasetException(file + ": entry [" + i + "] has no 'caption'");
            }
            List<String> caps = new ArrayList<>();
            if (cap.isArray()) {
                cap.forEach(c -> caps.add(c.asText()));
            } else {
                caps.add(cap.asText());
            }
            b.add(root.resolve(image), caps);
            i++;
        }
        return b.build();
    }

    private static RetrievalDataset fromFlickrCsv(Path file, Path root) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read the dataset: " + e.getMessage(), e);
        }
        Builder b = new Builder();
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n);
            if (line.isBlank() || (n == 0 && line.toLowerCase(Locale.ROOT).startsWith("image_name"))) {
                continue;
            }
            String[] parts = line.split("\\|", 3);
            String comment;
            if (parts.length == 3) {
                comment = parts[2].strip();
            } else if (parts.length == 2) {
                // A known defect of results.csv: a row missing its second '|' ("name| 4 A dog ...").
                comment = parts[1].strip().replaceFirst("^\\d+\\s+", "");
            } else {
                throw new DatasetException(file + ": line " + (n + 1) + " is not 'image_name| comment_number| comment'");
            }
            if (comment.isEmpty()) {
                continue;
            }
            b.add(root.resolve(parts[0].strip()), List.of(comment));
        }
        return b.build();
    }

    private static String text(JsonNode node, String field, Path file, String where) {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual()) {
            throw new DatasetException(file + ": " + where + " has no text field '" + field + "'");
        }
        return v.asText();
    }

    /** Groups captions by image in order of first appearance. */
    private static final class Builder {
        private final Map<Path, Integer> index = new LinkedHashMap<>();
        private final List<String> texts = new ArrayList<>();
        private final List<Integer> links = new ArrayList<>();

        void add(Path image, List<String> captions) {
            int i = index.computeIfAbsent(image.normalize(), k -> index.size());
            for (String c : captions) {
                texts.add(c);
                links.add(i);
            }
        }

        RetrievalDataset build() {
            return new RetrievalDataset(new ArrayList<>(index.keySet()), texts,
                    links.stream().mapToInt(Integer::intValue).toArray());
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RetrievalDataset d && images.equals(d.images) && texts.equals(d.texts)
                && Arrays.equals(textImage, d.textImage);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * images.hashCode() + texts.hashCode()) + Arrays.hashCode(textImage);
    }

    @Override
    public String toString() {
        return "RetrievalDataset[" + images.size() + " images, " + texts.size() + " texts]";
    }
}
