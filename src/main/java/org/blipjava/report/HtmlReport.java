package org.blipjava.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * A self-contained HTML report: a title, a summary table (corpus scores, settings), notes (such
 * as skipped entries) and a per-item table whose columns sort on a click. CSS, JavaScript and
 * thumbnails are inline, so the one file can be mailed or archived. Immutable; build with
 * {@link #builder(String)}.
 */
public final class HtmlReport {
    /** What a column holds and how it is drawn and sorted. */
    public enum Kind {
        /** A {@code data:} URI (or null), drawn as a thumbnail; not sortable. */
        IMAGE,
        /** A string, or a list of strings drawn as a list; sorted alphabetically. */
        TEXT,
        /** A number (or null), drawn with four decimals; sorted numerically. */
        NUMBER
    }

    /**
     * A column of the per-item table.
     *
     * @param name header text
     * @param kind what its cells hold
     */
    public record Column(String name, Kind kind) {
        public Column {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(kind, "kind");
        }
    }

    private final String title;
    private final Map<String, String> summary;
    private final List<String> notes;
    private final List<Column> columns;
    private final List<List<Object>> rows;

    private HtmlReport(Builder b) {
        this.title = b.title;
        this.summary = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(b.summary));
        this.notes = List.copyOf(b.notes);
        this.columns = List.copyOf(b.columns);
        this.rows = b.rows.stream().map(r -> java.util.Collections.unmodifiableList(new ArrayList<>(r))).toList();
    }

    /** Starts a report with this title. */
    public static Builder builder(String title) {
        return new Builder(title);
    }

    /** Collects the parts of a report. */
    public static final class Builder {
        private final String title;
        private final Map<String, String> summary = new LinkedHashMap<>();
        private final List<String> notes = new ArrayList<>();
        private final List<Column> columns = new ArrayList<>();
        private final List<List<Object>> rows = new ArrayList<>();

        private Builder(String title) {
            this.title = Objects.requireNonNull(title, "title");
        }

        /** Adds a summary line (e.g. a corpus score or a setting). */
        public Builder summary(String name, String value) {
            summary.put(name, value);
            return this;
        }

        /** Adds a note shown under the summary. */
        public Builder note(String note) {
            notes.add(note);
            return this;
        }

        /** Sets the per-item table's columns. */
        public Builder columns(List<Column> cols) {
            columns.clear();
            columns.addAll(cols);
            return this;
        }

        /**
         * Adds a row: one cell per column, of the column's kind.
         *
         * @throws IllegalArgumentException when the cell count differs from the column count
         */
        public Builder row(List<?> cells) {
            if (cells.size() != columns.size()) {
                throw new IllegalArgumentException("a row has " + cells.size() + " cells but the table has "
                        + columns.size() + " columns");
            }
            rows.add(new ArrayList<>(cells));
            return this;
        }

        public HtmlReport build() {
            return new HtmlReport(this);
        }
    }

    /** The number of per-item rows. */
    public int rowCount() {
        return rows.size();
    }

    /** The report as one HTML document. */
    public String render() {
        StringBuilder h = new StringBuilder(8192);
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
                .append(esc(title)).append("</title>\n<style>\n").append(CSS).append("</style></head><body>\n");
        h.append("<h1>").append(esc(title)).append("</h1>\n<table class=\"summary\">\n");
        summary.forEach((k, v) -> h.append("<tr><th>").append(esc(k)).append("</th><td>").append(esc(v))
                .append("</td></tr>\n"));
        h.append("</table>\n");
        if (!notes.isEmpty()) {
            h.append("<details class=\"notes\"><summary>").append(notes.size()).append(" note")
                    .append(notes.size() == 1 ? "" : "s").append("</summary><ul>\n");
            for (String n : notes) {
                h.append("<li>").append(esc(n)).append("</li>\n");
            }
            h.append("</ul></details>\n");
        }
        h.append("<p class=\"hint\">Click a column header to sort; click again to reverse.</p>\n");
        h.append("<table id=\"items\" class=\"items\"><thead><tr>");
        for (int c = 0; c < columns.size(); c++) {
            Column col = columns.get(c);
            h.append("<th data-kind=\"").append(col.kind().name().toLowerCase(Locale.ROOT)).append("\"");
            if (col.kind() != Kind.IMAGE) {
                h.append(" onclick=\"sortBy(").append(c).append(")\" class=\"sortable\"");
            }
            h.append(">").append(esc(col.name())).append("</th>");
        }
        h.append("</tr></thead>\n<tbody>\n");
        for (List<Object> row : rows) {
            h.append("<tr>");
            for (int c = 0; c < columns.size(); c++) {
                cell(h, columns.get(c).kind(), row.get(c));
            }
            h.append("</tr>\n");
        }
        h.append("</tbody></table>\n<script>\n").append(JS).append("</script>\n</body></html>\n");
        return h.toString();
    }

    private static void cell(StringBuilder h, Kind kind, Object v) {
        switch (kind) {
            case IMAGE -> {
                h.append("<td>");
                if (v != null) {
                    String uri = v.toString();
                    if (!uri.startsWith("data:image/")) {
                        throw new IllegalArgumentException("an IMAGE cell must be a data:image/ URI");
                    }
                    h.append("<img class=\"thumb\" alt=\"\" src=\"").append(esc(uri)).append("\">");
                }
                h.append("</td>");
            }
            case NUMBER -> {
                if (v == null) {
                    h.append("<td data-v=\"\" class=\"num\">&ndash;</td>");
                } else {
                    double d = ((Number) v).doubleValue();
                    h.append("<td data-v=\"").append(d).append("\" class=\"num\">")
                            .append(String.format(Locale.ROOT, "%.4f", d)).append("</td>");
                }
            }
            case TEXT -> {
                if (v instanceof List<?> list) {
                    String key = list.isEmpty() ? "" : String.valueOf(list.get(0));
                    h.append("<td data-v=\"").append(esc(key)).append("\"><ul>");
                    for (Object o : list) {
                        h.append("<li>").append(esc(String.valueOf(o))).append("</li>");
                    }
                    h.append("</ul></td>");
                } else {
                    String s = v == null ? "" : v.toString();
                    h.append("<td data-v=\"").append(esc(s)).append("\">").append(esc(s)).append("</td>");
                }
            }
        }
    }

    /** Escapes text for HTML element content and attribute values. */
    static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    private static final String CSS = """
            body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
            h1{font-size:1.4em}
            table{border-collapse:collapse}
            .summary th{text-align:left;padding:2px 12px 2px 0;color:#555;font-weight:600}
            .items th,.items td{border:1px solid #ddd;padding:4px 6px;vertical-align:top}
            .items th{background:#f3f3f3;position:sticky;top:0}
            .items th.sortable{cursor:pointer}
            .items th.asc::after{content:" \\25B2"}
            .items th.desc::after{content:" \\25BC"}
            .items tr:nth-child(even) td{background:#fafafa}
            .items ul{margin:0;padding-left:1.1em}
            td.num{text-align:right;font-variant-numeric:tabular-nums}
            img.thumb{max-width:160px;max-height:160px;display:block}
            .hint{color:#777;font-size:.9em}
            .notes{margin:.6em 0;color:#a33}
            """;

    // Sorts rows by the clicked column: numerically for number columns (empty cells last), else by text.
    private static final String JS = """
            function sortBy(c){
              var t=document.getElementById('items'),th=t.tHead.rows[0].cells[c],b=t.tBodies[0];
              var asc=!th.classList.contains('asc');
              for(var x of t.tHead.rows[0].cells){x.classList.remove('asc','desc');}
              th.classList.add(asc?'asc':'desc');
              var num=th.dataset.kind==='number';
              var rows=Array.from(b.rows);
              rows.sort(function(r1,r2){
                var a=r1.cells[c].dataset.v,z=r2.cells[c].dataset.v;
                if(num){
                  if(a===''&&z==='')return 0; if(a==='')return 1; if(z==='')return -1;
                  return asc?a-z:z-a;
                }
                return asc?a.localeCompare(z):z.localeCompare(a);
              });
              rows.forEach(function(r){b.appendChild(r);});
            }
            """;
}
