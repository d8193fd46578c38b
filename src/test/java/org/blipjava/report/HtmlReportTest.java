package org.blipjava.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.blipjava.image.RgbImage;
import org.blipjava.report.HtmlReport.Column;
import org.blipjava.report.HtmlReport.Kind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HtmlReportTest {
    @Test
    void escapesTextAndKeepsNumbersSortable(@TempDir Path dir) throws Exception {
        byte[] rgb = new byte[4 * 3 * 3];
        Arrays.fill(rgb, (byte) 200);
        String thumb = Pictures.thumbnailDataUri(new RgbImage(4, 3, rgb), 2);
        HtmlReport r = HtmlReport.builder("t <x>").summary("a&b", "\"q\"").note("n'1")
                .columns(List.of(new Column("img", Kind.IMAGE), new Column("text", Kind.TEXT),
                        new Column("refs", Kind.TEXT), new Column("score", Kind.NUMBER)))
                .row(Arrays.asList(thumb, "<script>alert(1)</script>", List.of("r1", "r&2"), 0.123456))
                .row(Arrays.asList(null, "plain", List.of(), null))
                .build();
        String html = r.render();
        assertThat(r.rowCount()).isEqualTo(2);
        assertThat(html).contains("<title>t &lt;x&gt;</title>", "<th>a&amp;b</th><td>&quot;q&quot;</td>",
                "<li>n&#39;1</li>", "&lt;script&gt;alert(1)&lt;/script&gt;", "<li>r&amp;2</li>",
                "data-v=\"0.123456\" class=\"num\">0.1235</td>", "data-v=\"\" class=\"num\">&ndash;</td>",
                "src=\"" + thumb + "\"", "onclick=\"sortBy(3)\"")
                .doesNotContain("<script>alert");
        assertThat(thumb).startsWith("data:image/jpeg;base64,");
        new EvalReport(new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode().put("k", 1), r).write(dir);
        assertThat(Files.readString(dir.resolve(EvalReport.HTML_FILE))).isEqualTo(html);
        assertThat(Files.readString(dir.resolve(EvalReport.JSON_FILE))).contains("\"k\" : 1");
        try (var s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString()).toList()).containsExactlyInAnyOrder("report.json",
                    "report.html");
        }
    }

    @Test
    void rejectsMalformedRows() {
        HtmlReport.Builder b = HtmlReport.builder("x").columns(List.of(new Column("img", Kind.IMAGE)));
        assertThatThrownBy(() -> b.row(List.of("a", "b"))).hasMessageContaining("2 cells but the table has 1 columns");
        assertThatThrownBy(() -> b.row(List.of("http://example.com/x.png")).build().render())
                .hasMessageContaining("data:image/");
    }
}
