package org.blipjava.capfilt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.blipjava.image.Images;
import org.blipjava.report.HtmlReport;
import org.blipjava.report.Pictures;
import org.blipjava.report.ReportFiles;

/**
 * The run's report, gathered one image at a time: caption counts, ITM histograms of web and
 * synthetic captions ({@value #HISTOGRAM}), and an HTML page ({@value #HTML}) with the counts and
 * the first examples of kept and removed captions of each source. Memory is bounded by the
 * number of examples, not the dataset.
 */
public final class CapfiltReport {
    /** The report page. */
    public static final String HTML = "report.html";
    /** The ITM histogram. */
    public static final String HISTOGRAM = "scores.png";
    /** The counts as JSON. */
    public static final String SUMMARY = "summary.json";
    /** Histogram bins over [0, 1]. */
    public static final int BINS = 20;
    private static final int EXAMPLES = 8;
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Caption counts of a run.
     *
     * @param images input images
     * @param failed images that could not be read or scored
     * @param imagesKept images with at least one kept caption
     * @param web web captions scored
     * @param webKept web captions kept
     * @param synthetic synthetic captions scored
     * @param syntheticKept synthetic captions kept
     * @param skipped tar members set aside (links, unsafe names, samples without an image)
     * @param unreadable shards, or rests of shards, that could not be read
     */
    public record Counts(long images, long failed, long imagesKept, long web, long webKept, long synthetic,
            long syntheticKept, long skipped, long unreadable) {
        /** Whether some input could not be used: images that failed or shard data that could not be read. */
        public boolean inputFailed() {
            return failed > 0 || unreadable > 0;
        }
    }

    private record Example(String image, String caption, String source, double itm, double itc, boolean kept) {}

    private final Path output;
    private final long[] webHist = new long[BINS];
    private final long[] synHist = new long[BINS];
    private final List<Example> examples = new ArrayList<>();
    private final int[] exampleCounts = new int[4];
    private final List<String> failures = new ArrayList<>();
    private final List<String> skips = new ArrayList<>();
    private long images;
    private long failed;
    private long imagesKept;
    private long web;
    private long webKept;
    private long synthetic;
    private long syntheticKept;
    private long skipped;
    private long unreadable;

    private final Double threshold;

    /** @param threshold the ITM threshold drawn on the histogram, or null (top-k selection) */
    CapfiltReport(Path output, Double threshold) {
        this.output = output;
        this.threshold = threshold;
    }

    /** Adds one image's line of a part file. */
    void add(JsonNode line) {
        images++;
        if (line.hasNonNull("error")) {
            failed++;
            if (failures.size() < 20) {
                failures.add(line.get("image").asText() + ": " + line.get("error").asText());
            }
            return;
        }
        boolean any = false;
        for (JsonNode c : line.path("captions")) {
            boolean isWeb = c.get("source").asText().equals(Decision.Source.WEB.label());
            boolean kept = c.get("kept").asBoolean();
            double itm = c.get("itm").asDouble();
            any |= kept;
            int bin = Math.min(BINS - 1, Math.max(0, (int) (itm * BINS)));
            if (isWeb) {
                web++;
                webKept += kept ? 1 : 0;
                webHist[bin]++;
            } else {
                synthetic++;
                syntheticKept += kept ? 1 : 0;
                synHist[bin]++;
            }
            int kind = (isWeb ? 0 : 2) + (kept ? 1 : 0);
            if (exampleCounts[kind] < EXAMPLES) {
                exampleCounts[kind]++;
                examples.add(new Example(line.get("image").asText(), c.get("caption").asText(),
                        c.get("source").asText(), itm, c.get("itc").asDouble(), kept));
            }
        }
        imagesKept += any ? 1 : 0;
    }

    /** Adds one skipped-input line of a part file (see {@link Skipped}). */
    void addSkipped(JsonNode line) {
        Skipped k = new Skipped(line.get("shard").asText(), line.hasNonNull("member") ? line.get("member").asText() : null,
                line.has("unreadable") ? line.get("unreadable").asText() : line.path("skipped").asText(),
                line.has("unreadable"));
        if (k.unreadable()) {
            unreadable++;
        } else {
            skipped++;
        }
        if (skips.size() < 20) {
            skips.add(k.describe());
        }
    }

    Counts counts() {
        return new Counts(images, failed, imagesKept, web, webKept, synthetic, syntheticKept, skipped, unreadable);
    }

    /** Writes the histogram, the summary and the HTML page (each atomically). */
    void write() {
        ReportFiles.writePng(output.resolve(HISTOGRAM), histogram(webHist, synHist, threshold));
        Counts c = counts();
        ObjectNode s = JSON.valueToTree(c);
        s.set("itm_histogram_web", JSON.valueToTree(webHist));
        s.set("itm_histogram_synthetic", JSON.valueToTree(synHist));
        try {
            ReportFiles.writeString(output.resolve(SUMMARY), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(s) + "\n");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        HtmlReport.Builder b = HtmlReport.builder("CapFilt report")
                .summary("images", Long.toString(c.images()))
                .summary("images with a kept caption", Long.toString(c.imagesKept()))
                .summary("images that failed", Long.toString(c.failed()))
                .summary("web captions kept", c.webKept() + " of " + c.web() + percent(c.webKept(), c.web()))
                .summary("synthetic captions kept", c.syntheticKept() + " of " + c.synthetic()
                        + percent(c.syntheticKept(), c.synthetic()))
                .summary("ITM histogram", HISTOGRAM + " (web and synthetic captions, " + BINS + " bins over [0, 1])");
        if (c.skipped() > 0 || c.unreadable() > 0) { // only WebDataset shards can have either
            b.summary("tar members skipped", Long.toString(c.skipped()))
                    .summary("unreadable shard parts", Long.toString(c.unreadable()));
        }
        failures.forEach(f -> b.note("failed: " + f));
        skips.forEach(b::note);
        b.columns(List.of(new HtmlReport.Column("image", HtmlReport.Kind.IMAGE),
                new HtmlReport.Column("file", HtmlReport.Kind.TEXT),
                new HtmlReport.Column("caption", HtmlReport.Kind.TEXT),
                new HtmlReport.Column("source", HtmlReport.Kind.TEXT),
                new HtmlReport.Column("verdict", HtmlReport.Kind.TEXT),
                new HtmlReport.Column("ITM", HtmlReport.Kind.NUMBER),
                new HtmlReport.Column("ITC", HtmlReport.Kind.NUMBER)));
        for (Example e : examples) {
            b.row(java.util.Arrays.asList(thumbnail(e.image()), e.image(), e.caption(), e.source(),
                    e.kept() ? "kept" : "removed", e.itm(), e.itc()));
        }
        ReportFiles.writeString(output.resolve(HTML), b.build().render());
    }

    private static String percent(long part, long whole) {
        return whole == 0 ? "" : String.format(Locale.ROOT, " (%.1f%%)", 100.0 * part / whole);
    }

    /** A thumbnail of an image file the output refers to; null for images inside tar shards or unreadable ones. */
    private String thumbnail(String ref) {
        Path p = output.resolve(ref);
        if (!Files.isRegularFile(p)) {
            return null;
        }
        try {
            return Pictures.thumbnailDataUri(Images.read(p), 96);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** Two overlaid bar series: web captions and synthetic captions per ITM bin. */
    static BufferedImage histogram(long[] webCounts, long[] synCounts, Double threshold) {
        int w = 640;
        int h = 360;
        int left = 56;
        int right = 16;
        int top = 40;
        int bottom = 48;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, w, h);
            long max = 1;
            for (int i = 0; i < webCounts.length; i++) {
                max = Math.max(max, Math.max(webCounts[i], synCounts[i]));
            }
            int plotW = w - left - right;
            int plotH = h - top - bottom;
            double binW = plotW / (double) webCounts.length;
            Color webColor = new Color(0x4e, 0x79, 0xa7, 170);
            Color synColor = new Color(0xf2, 0x8e, 0x2b, 170);
            for (int i = 0; i < webCounts.length; i++) {
                int x = left + (int) Math.round(i * binW);
                int bw = Math.max(1, (int) Math.round(binW / 2) - 1);
                int hw = (int) Math.round(plotH * webCounts[i] / (double) max);
                int hs = (int) Math.round(plotH * synCounts[i] / (double) max);
                g.setColor(webColor);
                g.fillRect(x + 1, top + plotH - hw, bw, hw);
                g.setColor(synColor);
                g.fillRect(x + 1 + bw, top + plotH - hs, bw, hs);
            }
            if (threshold != null) {
                int x = left + (int) Math.round(plotW * threshold);
                g.setColor(new Color(0xe1, 0x57, 0x59));
                g.setStroke(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {5f, 4f}, 0f));
                g.drawLine(x, top, x, top + plotH);
                g.drawString("threshold", x + 4, top + 12);
            }
            g.setColor(Color.DARK_GRAY);
            g.setStroke(new BasicStroke(1f));
            g.drawLine(left, top + plotH, left + plotW, top + plotH);
            g.drawLine(left, top, left, top + plotH);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            for (int t = 0; t <= 10; t += 2) {
                int x = left + plotW * t / 10;
                g.drawLine(x, top + plotH, x, top + plotH + 4);
                g.drawString(String.format(Locale.ROOT, "%.1f", t / 10.0), x - 8, top + plotH + 18);
            }
            g.drawString(Long.toString(max), 6, top + 10);
            g.drawString("0", left - 14, top + plotH);
            g.drawString("ITM match probability", left + plotW / 2 - 60, h - 10);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
            g.drawString("CapFilt: ITM scores of web and synthetic captions", left, 20);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            g.setColor(webColor);
            g.fillRect(w - 190, 28, 12, 12);
            g.setColor(synColor);
            g.fillRect(w - 100, 28, 12, 12);
            g.setColor(Color.DARK_GRAY);
            g.drawString("web", w - 172, 39);
            g.drawString("synthetic", w - 82, 39);
        } finally {
            g.dispose();
        }
        return img;
    }
}
