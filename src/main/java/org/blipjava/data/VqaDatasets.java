package org.blipjava.data;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads BLIP-style VQA datasets: a JSON list (or JSONL file) of
 * {@code {"image": path, "question": "..", "answer": [..] or "..", "question_id"?: .., "split"?: ..}}.
 * Answers may also be VQAv2 objects {@code {"answer": ..}}. Image paths are relative to the image
 * root; entries whose image is missing or that have no question are skipped and listed.
 */
public final class VqaDatasets {
    /** File names looked for, in order, when the dataset is a folder. */
    public static final List<String> FOLDER_FILES = List.of("questions.jsonl", "questions.json", "vqa.json",
            "vqa_test.json", "vqa_val.json");

    private VqaDatasets() {}

    /**
     * Reads a VQA dataset.
     *
     * @param source the dataset file, or a folder holding one (see {@link #FOLDER_FILES})
     * @param imageRoot folder image paths are relative to; null for the dataset file's folder
     * @param split keep only entries of this split (entries without one are kept); null for all
     * @throws DatasetException when the file cannot be read or is not such a list
     */
    public static Dataset<VqaSample> read(Path source, Path imageRoot, String split) {
        Path file = DatasetFiles.locate(source, FOLDER_FILES);
        Path root = imageRoot != null ? imageRoot : file.toAbsolutePath().getParent();
        List<JsonNode> rows = new ArrayList<>();
        if (DatasetFiles.ext(file).equals("jsonl")) {
            rows.addAll(DatasetFiles.readJsonLines(file));
        } else {
            JsonNode doc = DatasetFiles.readJson(file);
            if (!doc.isArray()) {
                throw new DatasetException(file + ": expected a list of {\"image\", \"question\", \"answer\"} objects");
            }
            doc.forEach(rows::add);
        }
        List<VqaSample> out = new ArrayList<>();
        List<Skipped> skipped = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            JsonNode row = rows.get(i);
            String where = file.getFileName() + " entry " + i;
            String image = row.isObject() ? DatasetFiles.text(row, "image") : null;
            String question = row.isObject() ? DatasetFiles.text(row, "question") : null;
            if (image == null || question == null || question.isBlank()) {
                skipped.add(new Skipped(where, "needs \"image\" and \"question\""));
                continue;
            }
            if (!CaptionDatasets.splitMatches(DatasetFiles.text(row, "split"), split)) {
                continue;
            }
            Path p = root.resolve(image);
            if (!Files.isRegularFile(p)) {
                skipped.add(new Skipped(image, "image file not found: " + p));
                continue;
            }
            String id = row.has("question_id") ? row.get("question_id").asText() : String.valueOf(i);
            List<String> answers = DatasetFiles.strings(row, row.has("answer") ? "answer" : "answers");
            out.add(new VqaSample(id, p, question.strip(), answers));
        }
        return new Dataset<>("blip-vqa", out, skipped);
    }
}
