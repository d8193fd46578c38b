package org.blipjava.capfilt;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns the finished shards of a run into the output dataset (the input's format),
 * {@code decisions.jsonl} and the report, reading the part files line by line.
 */
final class Assembler {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path output;
    private final InputFormat format;
    private final int shards;
    private final Double threshold;

    Assembler(Path output, InputFormat format, int shards, Double threshold) {
        this.output = output;
        this.format = format;
        this.shards = shards;
        this.threshold = threshold;
    }

    /** The dataset file CapFilt writes for each format (none for WebDataset: the shards are the dataset). */
    static String datasetFile(InputFormat format) {
        return switch (format) {
            case JSONL -> "captions.jsonl";
            case CSV -> "captions.csv";
            case COCO_KARPATHY -> "dataset_coco.json";
            case BLIP_JSON -> "annotations.json";
            case WEBDATASET -> null;
        };
    }

    CapfiltReport.Counts assemble() throws IOException {
        CapfiltReport report = new CapfiltReport(output, threshold);
        Path decisionsFile = output.resolve(CapfiltRun.DECISIONS);
        Path decisionsTmp = CapfiltRun.temporary(decisionsFile);
        String datasetName = datasetFile(format);
        Path datasetFile = datasetName == null ? null : output.resolve(datasetName);
        Path datasetTmp = datasetFile == null ? null : CapfiltRun.temporary(datasetFile);
        try {
            try (Writer decisions = new BufferedWriter(Files.newBufferedWriter(decisionsTmp, StandardCharsets.UTF_8));
                    DatasetWriter dataset = datasetTmp == null ? null : new DatasetWriter(format, datasetTmp)) {
                for (int i = 0; i < shards; i++) {
                    try (BufferedReader in = Files.newBufferedReader(CapfiltRun.partFile(output, i),
                            StandardCharsets.UTF_8)) {
                        String s;
                        while ((s = in.readLine()) != null) {
                            JsonNode line = JSON.readTree(s);
                            if (!line.has("image")) { // skipped input: recorded as it is
                                report.addSkipped(line);
                                decisions.write(s);
                                decisions.write('\n');
                                continue;
                            }
                            report.add(line);
                            List<String> kept = new ArrayList<>();
                            for (JsonNode c : line.path("captions")) {
                                ObjectNode d = JSON.createObjectNode();
                                d.put("image", line.get("image").asText());
                                d.set("caption", c.get("caption"));
                                d.set("source", c.get("source"));
                                d.set("itm", c.get("itm"));
                                d.set("itc", c.get("itc"));
                                d.set("kept", c.get("kept"));
                                if (c.has("truncated")) {
                                    d.set("truncated", c.get("truncated"));
                                }
                                decisions.write(JSON.writeValueAsString(d));
                                decisions.write('\n');
                                String text = c.get("caption").asText();
                                if (c.get("kept").asBoolean() && !kept.contains(text)) {
                                    kept.add(text);
                                }
                            }
                            if (dataset != null && !kept.isEmpty()) {
                                dataset.add(line.get("image").asText(), kept,
                                        line.hasNonNull("split") ? line.get("split").asText() : null);
                            }
                        }
                    }
                }
            }
            CapfiltRun.commit(decisionsTmp, decisionsFile);
            if (datasetTmp != null) {
                CapfiltRun.commit(datasetTmp, datasetFile);
            }
        } finally {
            Files.deleteIfExists(decisionsTmp);
            if (datasetTmp != null) {
                Files.deleteIfExists(datasetTmp);
            }
        }
        report.write();
        return report.counts();
    }

    /** Writes one image with its kept captions at a time in the input's layout. */
    private static final class DatasetWriter implements AutoCloseable {
        private final InputFormat format;
        private final OutputStream out;
        private final JsonGenerator json;
        private final Writer text;

        DatasetWriter(InputFormat format, Path file) throws IOException {
            this.format = format;
            this.out = Files.newOutputStream(file);
            switch (format) {
                case JSONL, CSV -> {
                    json = null;
                    text = new BufferedWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8));
                    if (format == InputFormat.CSV) {
                        text.write("image,caption\n");
                    }
                }
                default -> {
                    text = null;
                    json = JSON.getFactory().createGenerator(out, JsonEncoding.UTF8);
                    json.useDefaultPrettyPrinter();
                    if (format == InputFormat.COCO_KARPATHY) {
                        json.writeStartObject();
                        json.writeArrayFieldStart("images");
                    } else {
                        json.writeStartArray();
                    }
                }
            }
        }

        void add(String image, List<String> captions, String split) throws IOException {
            switch (format) {
                case JSONL -> {
                    ObjectNode n = JSON.createObjectNode();
                    n.put("image", image);
                    n.set("caption", JSON.valueToTree(captions));
                    if (split != null) {
                        n.put("split", split);
                    }
                    text.write(JSON.writeValueAsString(n));
                    text.write('\n');
                }
                case CSV -> {
                    for (String c : captions) {
                        text.write(csv(image) + "," + csv(c) + "\n");
                    }
                }
                case COCO_KARPATHY -> {
                    json.writeStartObject();
                    json.writeStringField("filepath", "");
                    json.writeStringField("filename", image);
                    if (split != null) {
                        json.writeStringField("split", split);
                    }
                    json.writeArrayFieldStart("sentences");
                    for (String c : captions) {
                        json.writeStartObject();
                        json.writeStringField("raw", c);
                        json.writeEndObject();
                    }
                    json.writeEndArray();
                    json.writeEndObject();
                }
                default -> {
                    json.writeStartObject();
                    json.writeStringField("image", image);
                    json.writeArrayFieldStart("caption");
                    for (String c : captions) {
                        json.writeString(c);
                    }
                    json.writeEndArray();
                    if (split != null) {
                        json.writeStringField("split", split);
                    }
                    json.writeEndObject();
                }
            }
        }

        private static String csv(String s) {
            return s.contains(",") || s.contains("\"") || s.startsWith(" ") || s.endsWith(" ")
                    ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
        }

        @Override
        public void close() throws IOException {
            if (json != null) {
                json.writeEndArray();
                if (format == InputFormat.COCO_KARPATHY) {
                    json.writeEndObject();
                }
                json.writeRaw('\n');
                json.close();
            } else {
                text.close();
            }
            out.close();
        }
    }
}
