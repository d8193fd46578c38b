package org.blipjava.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.blipjava.cli.Main;
import org.junit.jupiter.api.Test;

class BenchCommandTest {
    @Test
    void quickBenchReportsEveryFigureAsJson() throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new String[] {"bench", "--quick", "--repeat", "2", "--threads", "2", "--json"},
                new PrintWriter(out), new PrintWriter(err));
        assertThat(code).as(err.toString()).isZero();
        JsonNode root = new ObjectMapper().readTree(out.toString());
        assertThat(root.path("threads").asInt()).isEqualTo(2);
        JsonNode m = root.path("metrics");
        for (String key : new String[] {"caption_greedy_s", "caption_beam_s", "vision_b1_s_per_image",
            "vision_b2_s_per_image", "itm_s", "itc_texts_per_s", "peak_rss_caption_mb"}) {
            assertThat(m.has(key)).as(key).isTrue();
            assertThat(m.path(key).path("java").path("median").asDouble()).as(key).isPositive();
        }
        assertThat(m.path("caption_greedy_s").path("java").path("values").size()).isEqualTo(2);
        assertThat(root.toString()).contains("matmul_");
    }

    @Test
    void torchBaselineOutputIsParsedByMetricKey() {
        TorchBaseline.Result r = TorchBaseline.parse("progress\n{\"metrics\": {\"itm_s\": [2.0, 4.0, 3.0]},"
                + " \"notes\": [\"PyTorch x\"]}\n");
        assertThat(r.metrics().get("itm_s").median()).isEqualTo(3.0);
        assertThat(r.notes()).containsExactly("PyTorch x");
    }

    @Test
    void statsSummarizeRuns() {
        Stats s = new Stats(new double[] {4, 1, 2, 3});
        assertThat(s.median()).isEqualTo(2.5);
        assertThat(s.spreadPercent()).isEqualTo(120.0);
        assertThat(s.map(v -> 1 / v).max()).isEqualTo(1.0);
    }
}
