package org.blipjava.data;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads captioning datasets, detecting the format from the file:
 *
 * <ul>
 *   <li>COCO Karpathy {@code dataset_coco.json} (also Flickr30k's {@code dataset_flickr30k.json}):
 *       {@code {"images":[{"filepath","filename","split","sentences":[{"raw"}]}]}}; the image is
 *       {@code root/filepath/filename}.</li>
 *   <li>BLIP's {@code coco_karpathy_test.json}: {@code [{"image": path, "caption": [..] or ".."}]}.</li>
 *   <li>Flickr30k {@code results.csv}: {@code image_name| comment_number| comment} lines.</li>
 *   <li>JSONL: one {@code {"image": path, "caption": ".." or [..], "split"?: ..}} per line.</li>
 *   <li>CSV with a header naming an {@code image} and a {@code caption} column (and optionally {@code split}).</li>
 * </ul>
 *
 * Rows of the same image are merged into one sample with all its captions. Image paths are
 * relative to the image root. Entries whose image file does not exist, or that have no caption,
 * are skipped and listed in {@link Dataset#skipped()}.
 */
public final class CaptionDatasets {
    /** File names looked for, in order, when the dataset is a folder. */
    public static final List<String> FOLDER_FILES = List.of("captions.jsonl", "captions.csv", "dataset_coco.json",
            "dataset_flickr30k.json", "results.csv", "annotations.json");

    /**
     * The annotation file of a dataset: {@code source} itself, or in a folder the first of
     * {@link #FOLDER_FILES} that exists, else its only file with one of {@code extensions}
     * (lower case, without the dot).
     *
     * @throws DatasetException naming the folder when there is no such file or more than one
     */
    public static Path locateFile(Path source, List<String> extensions) {
        return DatasetFiles.locate(source, FOLDER_FILES, extensions);
    }

    private CaptionDatasets() {}

    /**
     * Reads a captioning dataset.
     *
     * @param source the dataset file, or a folder holding one (see {@link #FOLDER_FILES})
     * @param imageRoot folder image paths are relative to; null for the dataset file's folder
     * @param split keep only entries of this split (Karpathy's "train" includes "restval"); null
     *     for all. Formats without splits, and entries without one, are kept whatever the split.
     * @throws DatasetException when the file cannot be read or has none of the formats
     */
    public static Dataset<CaptionSample> read(Path source, Path imageRoot, String split) {
        return read(source, imageRoot, split, true);
    }

    /**
     * Reads a captioning dataset, optionally keeping entries whose image file does not exist
     * (for callers that check the images themselves and report unreadable ones as they go).
     *
     * @param requireImages when true, entries whose image file does not exist are skipped
     * @see #read(Path, Path, String)
     */
    public static Dataset<CaptionSample> read(Path source, Path imageRoot, String split, boolean requireImages) {
        Path file = DatasetFiles.locate(source, FOLDER_FILES);
        Path root = imageRoot != null ? imageRoot : file.toAbsolutePath().getParent();
        Collector c = new Collector(root, requireImages);
        String format;
        String ext = DatasetFiles.ext(file);
        if (ext.equals("json")) {
            JsonNode doc = DatasetFiles.readJson(file);
            if (doc.isObject() && doc.has("images") && doc.get("images").isArray()) {
                format = "coco-karpathy";
                karpathy(doc.get("images"), split, c);
            } else if (doc.isArray()) {
                format = "blip-json";
                for (int i = 0; i < doc.size(); i++) {
                    entry(doc.get(i), file + " entry " + i, split, c);
                }
            } else {
                throw new DatasetException(file + ": expected Karpathy's {\"images\": [...]} or a list of "
                        + "{\"image\", \"caption\"} objects");
            }
        } else if (ext.equals("jsonl")) {
            format = "jsonl";
            List<JsonNode> rows = DatasetFiles.readJsonLines(file);
            for (int i = 0; i < rows.size(); i++) {
                entry(rows.get(i), file + " record " + (i + 1), split, c);
            }
        } else {
            List<String> lines = DatasetFiles.lines(file);
            if (lines.isEmpty()) {
                throw new DatasetException(file + ": empty dataset file");
            }
            if (lines.get(0).contains("|")) {
                format = "flickr30k-csv";
                flickr(file, lines, c);
            } else {
                format = "csv";
                csv(file, lines, split, c);
            }
        }
        return new Dataset<>(format, c.samples(), c.skipped);
    }

    private static void karpathy(JsonNode images, String split, Collector c) {
        for (JsonNode img : images) {
            String s = DatasetFiles.text(img, "split");
            if (!splitMatches(s, split)) {
                continue;
            }
            String name = DatasetFiles.text(img, "filename");
            if (name == null) {
                c.skipped.add(new Skipped("image entry " + img.path("imgid").asText("?"), "no filename"));
                continue;
            }
            String dir = DatasetFiles.text(img, "filepath");
            String rel = dir == null || dir.isEmpty() ? name : dir + "/" + name;
            List<String> caps = new ArrayList<>();
            for (JsonNode sent : img.path("sentences")) {
                String raw = sent.has("raw") ? sent.get("raw").asText() : null;
                if (raw != null && !raw.isBlank()) {
                    caps.add(raw.strip());
                }
            }
            c.add(rel, caps);
        }
    }

    private static void entry(JsonNode row, String where, String split, Collector c) {
        if (!row.isObject() || DatasetFiles.text(row, "image") == null) {
            c.skipped.add(new Skipped(where, "not an object with an \"image\" field"));
            return;
        }
        if (!splitMatches(DatasetFiles.text(row, "split"), split)) {
            return;
        }
        List<String> caps = DatasetFiles.strings(row, row.has("caption") ? "caption" : "captions");
        c.add(DatasetFiles.text(row, "image"), caps.stream().filter(s -> !s.isBlank()).map(String::strip).toList());
    }

    private static void flickr(Path file, List<String> lines, Collector c) {
        int start = lines.get(0).toLowerCase(Locale.ROOT).startsWith("image_name") ? 1 : 0;
        for (int i = start; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            String[] parts = line.split("\\|", 3);
            String comment = parts.length == 3 ? parts[2].strip()
                    // The public results.csv has a few lines that lack the second '|'
                    // ("name| 4 A dog runs ..."): the comment follows the number.
                    : parts.length == 2 ? parts[1].strip().replaceFirst("^\\d+\\s*", "") : "";
            if (comment.isEmpty()) {
                c.skipped.add(new Skipped(file + " line " + (i + 1), "not 'image_name| comment_number| comment'"));
                continue;
            }
            c.add(parts[0].strip(), List.of(comment));
        }
    }

    private static void csv(Path file, List<String> lines, String split, Collector c) {
        List<String> header = DatasetFiles.csvFields(lines.get(0), ',').stream()
                .map(h -> h.toLowerCase(Locale.ROOT)).toList();
        int image = header.indexOf("image");
        int caption = header.indexOf("caption");
        int splitCol = header.indexOf("split");
        if (image < 0 || caption < 0) {
            throw new DatasetException(file + ": the CSV header must name an 'image' and a 'caption' column, not "
                    + header);
        }
        for (int i = 1; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            List<String> f = DatasetFiles.csvFields(lines.get(i), ',');
            if (f.size() <= Math.max(image, caption)) {
                c.skipped.add(new Skipped(file + " line " + (i + 1), "fewer columns than the header"));
                continue;
            }
            if (splitCol >= 0 && splitCol < f.size() && !splitMatches(f.get(splitCol), split)) {
                continue;
            }
            String cap = f.get(caption);
            c.add(f.get(image), cap.isBlank() ? List.of() : List.of(cap));
        }
    }

    static boolean splitMatches(String entrySplit, String wanted) {
        if (wanted == null || entrySplit == null || entrySplit.isEmpty()) {
            return true;
        }
        return entrySplit.equalsIgnoreCase(wanted) || (wanted.equalsIgnoreCase("train") && entrySplit.equalsIgnoreCase("restval"));
    }

    /** Merges rows by image and checks that each image exists. */
    private static final class Collector {
        final Path root;
        final boolean requireImages;
        final Map<String, List<String>> captions = new LinkedHashMap<>();
        final List<Skipped> skipped = new ArrayList<>();

        Collector(Path root, boolean requireImages) {
            this.root = root;
            this.requireImages = requireImages;
        }

        void add(String image, List<String> caps) {
            captions.computeIfAbsent(image, k -> new ArrayList<>()).addAll(caps);
        }

        List<CaptionSample> samples() {
            List<CaptionSample> out = new ArrayList<>();
            for (var e : captions.entrySet()) {
                Path p = root.resolve(e.getKey());
                if (e.getValue().isEmpty()) {
                    skipped.add(new Skipped(e.getKey(), "no reference caption"));
                } else if (requireImages && !Files.isRegularFile(p)) {
                    skipped.add(new Skipped(e.getKey(), "image file not found: " + p));
                } else {
                    out.add(new CaptionSample(e.getKey(), p, e.getValue()));
                }
            }
            return out;
        }
    }
}
