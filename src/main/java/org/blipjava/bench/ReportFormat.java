package org.blipjava.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;

/** Prints a {@link Benchmark.Report} as a markdown table or as JSON. */
public final class ReportFormat {
    private ReportFormat() {}

    /** A markdown table with the machine in a header line, ready for the README. */
    public static String markdown(Benchmark.Report r) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s, %s, %d cores, %d threads, %s, %d-bit vectors, shapes %s%n%n",
                r.date(), r.cpu(), r.cores(), r.threads(), r.jvm(), r.vectorBits(), r.shapes()));
        sb.append("| measurement | unit | Java (median, spread) | reference (median, spread) | Java vs reference |\n");
        sb.append("| --- | --- | --- | --- | --- |\n");
        for (Benchmark.Metric m : r.metrics()) {
            sb.append("| ").append(m.label()).append(" | ").append(m.unit()).append(" | ")
                    .append(cell(m.java())).append(" | ");
            if (m.reference() == null) {
                sb.append("| |\n");
            } else {
                sb.append(m.referenceName()).append(": ").append(cell(m.reference())).append(" | ");
                double ratio = m.ratio();
                sb.append(m.key().startsWith("matmul")
                        ? String.format(Locale.ROOT, "%.0f%% of OpenBLAS", 100 * ratio)
                        : String.format(Locale.ROOT, "%.2fx %s", ratio, ratio >= 1 ? "better" : "worse"))
                        .append(" |\n");
            }
        }
        for (String n : r.notes()) {
            sb.append("\n- ").append(n);
        }
        sb.append('\n');
        return sb.toString();
    }

    private static String cell(Stats s) {
        if (s.values().length == 1) {
            return num(s.median());
        }
        return String.format(Locale.ROOT, "%s ±%.0f%%", num(s.median()), s.spreadPercent() / 2);
    }

    private static String num(double v) {
        double a = Math.abs(v);
        if (a >= 100) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        if (a >= 1) {
            return String.format(Locale.ROOT, "%.2f", v);
        }
        return String.format(Locale.ROOT, "%.3f", v);
    }

    /** The report as a JSON document (every run's values included). */
    public static String json(Benchmark.Report r) {
        ObjectMapper om = new ObjectMapper();
        ObjectNode root = om.createObjectNode();
        root.put("date", r.date());
        root.put("cpu", r.cpu());
        root.put("cores", r.cores());
        root.put("threads", r.threads());
        root.put("jvm", r.jvm());
        root.put("vector_bits", r.vectorBits());
        root.put("shapes", r.shapes());
        ObjectNode ms = root.putObject("metrics");
        for (Benchmark.Metric m : r.metrics()) {
            ObjectNode o = ms.putObject(m.key());
            o.put("label", m.label());
            o.put("unit", m.unit());
            put(o.putObject("java"), m.java());
            if (m.reference() != null) {
                ObjectNode ref = o.putObject("reference");
                ref.put("name", m.referenceName());
                put(ref, m.reference());
                o.put("ratio", m.ratio());
            }
        }
        ArrayNode notes = root.putArray("notes");
        r.notes().forEach(notes::add);
        try {
            return om.writerWithDefaultPrettyPrinter().writeValueAsString(root);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void put(ObjectNode o, Stats s) {
        o.put("median", s.median());
        o.put("min", s.min());
        o.put("max", s.max());
        ArrayNode v = o.putArray("values");
        for (double d : s.values()) {
            v.add(d);
        }
    }
}
