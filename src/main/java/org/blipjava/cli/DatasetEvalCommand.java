package org.blipjava.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.blipjava.data.Skipped;
import org.blipjava.image.RgbImage;
import org.blipjava.report.HtmlReport;
import org.blipjava.report.Pictures;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * What {@code blip eval caption} and {@code blip eval vqa} share: the dataset, report and
 * generation options, their checks, and how skipped entries reach the reports.
 */
abstract class DatasetEvalCommand extends ModelCommand {
    @Option(names = "--dataset", required = true, paramLabel = "D", description = "Dataset file or folder.")
    Path dataset;

    @Option(names = "--images", paramLabel = "DIR", description = "Folder image paths are relative to (default: the dataset file's folder).")
    Path images;

    @Option(names = "--report-dir", required = true, paramLabel = "DIR", description = "Folder for report.json and report.html.")
    Path reportDir;

    @Option(names = "--thumbnail-size", paramLabel = "PX", defaultValue = "160",
            description = "Longest side of the HTML thumbnails; 0 for none (default: ${DEFAULT-VALUE}).")
    int thumbnailSize;

    @Mixin
    GenerationFlags generation;

    /** The --limit option (declared by each command: its help names what is counted), or null. */
    abstract Integer limit();

    @Override
    void validate() {
        Integer limit = limit();
        if (limit != null && limit < 1) {
            throw new ParameterException(spec.commandLine(), "--limit must be at least 1, not " + limit);
        }
        if (thumbnailSize < 0) {
            throw new ParameterException(spec.commandLine(), "--thumbnail-size must be 0 or more, not " + thumbnailSize);
        }
    }

    /** The HTML thumbnail of an image as a data URI, or null with --thumbnail-size 0. */
    String thumbnail(RgbImage image) {
        return thumbnailSize > 0 ? Pictures.thumbnailDataUri(image, thumbnailSize) : null;
    }

    /** The error when every image of the {@code total} read failed. */
    ParameterException noneReadable(int total, List<Skipped> unreadable) {
        return new ParameterException(spec.commandLine(), dataset + ": none of the " + total
                + " images could be read" + skippedHint(unreadable));
    }

    /** Lists the entries the dataset reader dropped and the unreadable images in both reports. */
    static void reportSkipped(ArrayNode json, HtmlReport.Builder html, List<Skipped> dropped, List<Skipped> unreadable) {
        for (Skipped k : dropped) {
            json.addObject().put("entry", k.entry()).put("reason", k.reason());
            html.note("skipped " + k.entry() + ": " + k.reason());
        }
        for (Skipped k : unreadable) {
            json.addObject().put("entry", k.entry()).put("reason", "unreadable image: " + k.reason());
            html.note("unreadable " + k.entry() + ": " + k.reason());
        }
    }

    /** How many entries were skipped, and the first one's reason, for an error message; empty when none. */
    static String skippedHint(List<Skipped> skipped) {
        if (skipped.isEmpty()) {
            return "";
        }
        Skipped first = skipped.get(0);
        return " (" + skipped.size() + " skipped, e.g. " + first.entry() + ": " + first.reason() + ")";
    }

    /** A score as the reports print it. */
    static String fmt(double v) {
        return String.format(Locale.ROOT, "%.4f", v);
    }
}
