package org.blipjava.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/** File helpers shared by the dataset readers: locating the file of a folder, JSON, JSONL and CSV. */
final class DatasetFiles {
    static final ObjectMapper JSON = new ObjectMapper();

    private DatasetFiles() {}

    /** Extensions a dataset folder's only file may have when none of the preferred names exists. */
    static final List<String> DATA_EXTENSIONS = List.of("json", "jsonl", "csv", "txt");

    /**
     * The dataset file: {@code source} itself, or in a folder the first of {@code preferred}
     * that exists, else its only .json/.jsonl/.csv/.txt file.
     */
    static Path locate(Path source, List<String> preferred) {
        return locate(source, preferred, DATA_EXTENSIONS);
    }

    /**
     * As {@link #locate(Path, List)}, the folder's only file taken among the given extensions
     * (lower case, without the dot).
     */
    static Path locate(Path source, List<String> preferred, List<String> extensions) {
        if (Files.isRegularFile(source)) {
            return source;
        }
        if (!Files.isDirectory(source)) {
            throw new DatasetException(source + ": no such dataset file or folder");
        }
        for (String name : preferred) {
            Path p = source.resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        List<Path> candidates;
        try (Stream<Path> s = Files.list(source)) {
            candidates = s.filter(Files::isRegularFile).filter(p -> extensions.contains(ext(p))).sorted().toList();
        } catch (IOException e) {
            throw new DatasetException("cannot list the dataset folder " + source + ": " + e.getMessage(), e);
        }
        if (candidates.size() != 1) {
            throw new DatasetException("the dataset folder " + source + " holds " + candidates.size() + " "
                    + String.join("/", extensions.stream().map(x -> "." + x).toList())
                    + " files; name one of " + preferred + " or pass the file itself");
        }
        return candidates.get(0);
    }

    static String ext(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot < 0 ? "" : n.substring(dot + 1).toLowerCase(Locale.ROOT);
    }

    static JsonNode readJson(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new DatasetException(file + ": not valid JSON (" + e.getMessage() + ")", e);
        }
    }

    /** Non-blank lines of a JSONL file parsed; a bad line is an error naming its number. */
    static List<JsonNode> readJsonLines(Path file) {
        List<JsonNode> out = new ArrayList<>();
        List<String> lines = lines(file);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) {
                continue;
            }
            try {
                out.add(JSON.readTree(line));
            } catch (IOException e) {
                throw new DatasetException(file + " line " + (i + 1) + ": not a JSON object (" + e.getMessage() + ")", e);
            }
        }
        return out;
    }

    static List<String> lines(Path file) {
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            if (text.startsWith("\uFEFF")) {
                text = text.substring(1);
            }
            return text.lines().toList();
        } catch (IOException e) {
            throw new DatasetException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** One CSV record (RFC 4180 quoting within the line): fields separated by {@code sep}. */
    static List<String> csvFields(String line, char sep) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"') {
                    if (i + 1 < line.length() && line.charAt(i + 1) == '"') {
                        cur.append('"');
                        i++;
                    } else {
                        quoted = false;
                    }
                } else {
                    cur.append(c);
                }
            } else if (c == '"' && cur.toString().isBlank()) {
                cur.setLength(0);
                quoted = true;
            } else if (c == sep) {
                out.add(cur.toString().strip());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        out.add(cur.toString().strip());
        return out;
    }

    /** Text of a field that may be a string or absent. */
    static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    /** A string or an array of strings as a list (empty when absent). */
    static List<String> strings(JsonNode node, String field) {
        JsonNode v = node.get(field);
        List<String> out = new ArrayList<>();
        if (v == null || v.isNull()) {
            return out;
        }
        if (v.isArray()) {
            for (JsonNode x : v) {
                // VQAv2-style answers may be objects {"answer": ..}.
                out.add(x.isObject() && x.has("answer") ? x.get("answer").asText() : x.asText());
            }
        } else {
            out.add(v.asText());
        }
        return out;
    }
}
