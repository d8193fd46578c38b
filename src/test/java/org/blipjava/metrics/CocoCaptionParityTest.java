package org.blipjava.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.blipjava.testing.Fixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * BLEU-1..4, ROUGE-L and CIDEr-D against the coco-caption toolkit's values in every metrics
 * fixture file, per image and at corpus level, to 1e-6.
 */
class CocoCaptionParityTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final double TOL = 1e-6;

    /** Every metrics fixture file; a placeholder that aborts when there is none (reported skipped). */
    static Stream<Fixtures.MetricsFile> files() {
        return Fixtures.metricsParameters();
    }

    /** The fixture's gts/res as a caption set, ordered as the gts keys (the toolkit's order). */
    static CaptionSet captions(JsonNode doc) {
        Map<String, List<String>> refs = new LinkedHashMap<>();
        doc.get("gts").properties().forEach(e -> {
            List<String> r = new ArrayList<>();
            e.getValue().forEach(v -> r.add(v.asText()));
            refs.put(e.getKey(), r);
        });
        Map<String, String> cands = new LinkedHashMap<>();
        doc.get("res").properties().forEach(e -> {
            assertThat(e.getValue().size()).as("candidates of " + e.getKey()).isEqualTo(1);
            cands.put(e.getKey(), e.getValue().get(0).asText());
        });
        return CaptionSet.of(refs, cands);
    }

    static List<Double> doubles(JsonNode array) {
        List<Double> out = new ArrayList<>();
        array.forEach(v -> out.add(v.asDouble()));
        return out;
    }

    static void assertClose(String what, List<Double> actual, List<Double> expected) {
        assertThat(actual).as(what + " size").hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) {
            assertThat(actual.get(i)).as(what + "[" + i + "]").isCloseTo(expected.get(i), within(TOL));
        }
    }

    @ParameterizedTest
    @MethodSource("files")
    void bleu(Fixtures.MetricsFile fixture) throws IOException {
        Path file = fixture.path();
        JsonNode doc = JSON.readTree(file.toFile());
        Bleu.Result r = Bleu.score(captions(doc));
        JsonNode want = doc.get("bleu");
        assertClose("corpus bleu", r.corpus(), doubles(want.get("corpus")));
        JsonNode per = want.get("per_image");
        assertThat(r.perImage()).hasSize(per.size());
        for (int n = 0; n < per.size(); n++) {
            assertClose("bleu-" + (n + 1) + " per image", r.perImage().get(n), doubles(per.get(n)));
        }
    }

    @ParameterizedTest
    @MethodSource("files")
    void rougeL(Fixtures.MetricsFile fixture) throws IOException {
        Path file = fixture.path();
        JsonNode doc = JSON.readTree(file.toFile());
        MetricResult r = RougeL.score(captions(doc));
        JsonNode want = doc.get("rouge_l");
        assertThat(r.corpus()).isCloseTo(want.get("corpus").asDouble(), within(TOL));
        assertClose("rouge_l per image", r.perImage(), doubles(want.get("per_image")));
    }

    @ParameterizedTest
    @MethodSource("files")
    void ciderD(Fixtures.MetricsFile fixture) throws IOException {
        Path file = fixture.path();
        JsonNode doc = JSON.readTree(file.toFile());
        MetricResult r = CiderD.score(captions(doc));
        JsonNode want = doc.get("cider_d");
        assertThat(r.corpus()).isCloseTo(want.get("corpus").asDouble(), within(TOL));
        assertClose("cider_d per image", r.perImage(), doubles(want.get("per_image")));
    }

    @ParameterizedTest
    @MethodSource("files")
    void fixtureCaptionsAreAlreadyTokenized(Fixtures.MetricsFile fixture) throws IOException {
        Path file = fixture.path();
        // The fixture says its captions are tokenized; tokenizing again must not change them,
        // which is what makes scoring without --pretokenized agree with the toolkit here too.
        CaptionSet set = captions(JSON.readTree(file.toFile()));
        assertThat(set.tokenized()).isEqualTo(set);
    }
}
