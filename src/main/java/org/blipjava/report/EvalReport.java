package org.blipjava.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * An evaluation's results as a machine-readable JSON document and a human-readable HTML report,
 * written side by side as {@value #JSON_FILE} and {@value #HTML_FILE}.
 *
 * @param json the JSON document
 * @param html the HTML report
 */
public record EvalReport(ObjectNode json, HtmlReport html) {
    /** Name of the JSON report in the report folder. */
    public static final String JSON_FILE = "report.json";
    /** Name of the HTML report in the report folder. */
    public static final String HTML_FILE = "report.html";
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public EvalReport {
        Objects.requireNonNull(json, "json");
        Objects.requireNonNull(html, "html");
    }

    /** Writes both files into {@code dir} (created when missing), each atomically. */
    public void write(Path dir) {
        String text;
        try {
            text = MAPPER.writeValueAsString(json) + "\n";
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
        ReportFiles.writeString(dir.resolve(JSON_FILE), text);
        ReportFiles.writeString(dir.resolve(HTML_FILE), html.render());
    }
}
