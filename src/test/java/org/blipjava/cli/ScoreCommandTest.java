package org.blipjava.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.blipjava.cli.CliRun.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.blipjava.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code blip score} through {@link Main#run} on the metrics fixtures' gts/res. */
class ScoreCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final double TOL = 1e-6;

    @TempDir
    Path tmp;

    /** The metrics fixture files; aborts the test (reported skipped) when there are none. */
    static List<Path> fixtures() {
        return Fixtures.metricsFiles();
    }

    private Path write(String name, Object json) throws IOException {
        Path p = tmp.resolve(name);
        JSON.writeValue(p.toFile(), json);
        return p;
    }

    private static void assertClose(String what, JsonNode actual, JsonNode expected) {
        if (expected.isArray()) {
            assertThat(actual.size()).as(what + " size").isEqualTo(expected.size());
            for (int i = 0; i < expected.size(); i++) {
                assertClose(what + "[" + i + "]", actual.get(i), expected.get(i));
            }
        } else {
            assertThat(actual.asDouble()).as(what).isCloseTo(expected.asDouble(), within(TOL));
        }
    }

    @Test
    void jsonMatchesTheToolkitAtCorpusLevelAndPerImage() throws IOException {
        for (Path file : fixtures()) {
            JsonNode doc = JSON.readTree(file.toFile());
            Path refs = write("R.json", doc.get("gts"));
            Path cands = write("C.json", doc.get("res"));
            // The fixture's captions are already tokenized: both modes must give the toolkit's numbers.
            for (boolean pretokenized : new boolean[] {true, false}) {
                CliRun r = pretokenized
                        ? run("score", "--references", refs.toString(), "--candidates", cands.toString(),
                                "--pretokenized", "--per-image", "--json")
                        : run("score", "--references", refs.toString(), "--candidates", cands.toString(),
                                "--per-image", "--json");
                assertThat(r.exit()).as(r.err()).isZero();
                JsonNode got = JSON.readTree(r.out());
                assertClose(file + " bleu", got.get("bleu"), doc.get("bleu").get("corpus"));
                assertClose(file + " rouge_l", got.get("rouge_l"), doc.get("rouge_l").get("corpus"));
                assertClose(file + " cider_d", got.get("cider_d"), doc.get("cider_d").get("corpus"));
                double meteor = got.get("meteor").asDouble();
                assertThat(meteor).isBetween(0.0, 1.0);

                JsonNode per = got.get("per_image");
                assertThat(per.size()).isEqualTo(doc.get("gts").size());
                Iterator<String> ids = doc.get("gts").fieldNames();
                for (int i = 0; ids.hasNext(); i++) {
                    String id = ids.next();
                    JsonNode img = per.get(id);
                    assertThat(img).as("per_image " + id).isNotNull();
                    for (int n = 0; n < img.get("bleu").size(); n++) {
                        assertClose(id + " bleu-" + (n + 1), img.get("bleu").get(n),
                                doc.get("bleu").get("per_image").get(n).get(i));
                    }
                    assertClose(id + " rouge_l", img.get("rouge_l"), doc.get("rouge_l").get("per_image").get(i));
                    assertClose(id + " cider_d", img.get("cider_d"), doc.get("cider_d").get("per_image").get(i));
                    assertThat(img.get("meteor").asDouble()).isBetween(0.0, 1.0);
                }
            }
        }
    }

    @Test
    void textOutputAndOutputFile() throws IOException {
        Path file = fixtures().get(0);
        JsonNode doc = JSON.readTree(file.toFile());
        Path refs = write("R.json", doc.get("gts"));
        Path cands = write("C.json", doc.get("res"));
        CliRun r = run("score", "--references", refs.toString(), "--candidates", cands.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("BLEU-1", "BLEU-4", "ROUGE-L", "CIDEr-D", "METEOR")
                .contains(String.format(java.util.Locale.ROOT, "%.6f", doc.get("cider_d").get("corpus").asDouble()));
        Path out = tmp.resolve("sub/scores.json");
        CliRun w = run("score", "--references", refs.toString(), "--candidates", cands.toString(), "--json",
                "-o", out.toString());
        assertThat(w.exit()).as(w.err()).isZero();
        assertThat(w.out()).isEmpty();
        assertThat(JSON.readTree(out.toFile()).get("bleu").size()).isEqualTo(4);
        assertThat(JSON.readTree(out.toFile()).has("per_image")).isFalse();
    }

    @Test
    void identicalCaptionsScorePerfectly() throws IOException {
        Path refs = write("R.json", Map.of("1", List.of("A dog runs on the beach."), "2", List.of("Two cats.")));
        Path cands = write("C.json", Map.of("1", List.of("a dog runs on the beach"), "2", List.of("two cats")));
        CliRun r = run("score", "--references", refs.toString(), "--candidates", cands.toString(), "--json",
                "--per-image");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode got = JSON.readTree(r.out());
        assertThat(got.get("rouge_l").asDouble()).isCloseTo(1.0, within(1e-12));
        assertThat(got.get("per_image").get("1").get("meteor").asDouble()).isCloseTo(1.0, within(1e-12));
        assertThat(got.get("per_image").get("2").get("meteor").asDouble()).isCloseTo(1.0, within(1e-12));
        // METEOR's corpus score comes from summed statistics: 8 of 8 words in 2 chunks is penalized
        // (only a single chunk covering everything escapes the fragmentation penalty).
        assertThat(got.get("meteor").asDouble()).isCloseTo(1 - 0.6 * Math.pow(2 / 8.0, 0.2), within(1e-12));
        assertThat(got.get("bleu").get(0).asDouble()).isCloseTo(1.0, within(1e-8));
    }

    @Test
    void clearOneLineErrors() throws IOException {
        Path refs = write("R.json", Map.of("1", List.of("a dog"), "2", List.of("a cat")));
        Path cands = write("C.json", Map.of("1", List.of("a dog")));
        assertError(run("score", "--references", refs.toString(), "--candidates", cands.toString()),
                "no candidate caption for image id(s) '2'");
        Path extra = write("X.json", Map.of("1", List.of("a dog"), "2", List.of("a cat"), "3", List.of("a cow")));
        assertError(run("score", "--references", refs.toString(), "--candidates", extra.toString()),
                "no reference captions for image id(s) '3'");
        Path two = write("T.json", Map.of("1", List.of("a dog", "a cat"), "2", List.of("a cat")));
        assertError(run("score", "--references", refs.toString(), "--candidates", two.toString()),
                "image id '1': expected a one-element list");
        Path bad = tmp.resolve("bad.json");
        Files.writeString(bad, "{\"1\": [\"a dog\"");
        assertError(run("score", "--references", bad.toString(), "--candidates", cands.toString()),
                "bad.json: not valid JSON");
        Path array = write("A.json", List.of("a dog"));
        assertError(run("score", "--references", array.toString(), "--candidates", cands.toString()),
                "A.json: expected a JSON object");
        Path notList = write("N.json", Map.of("1", "a dog"));
        assertError(run("score", "--references", notList.toString(), "--candidates", cands.toString()),
                "image id '1': expected a list of caption strings");
        assertError(run("score", "--references", tmp.resolve("missing.json").toString(), "--candidates",
                cands.toString()), "missing.json: no such file");
        // A folder where a file is expected names the option and what it takes, not "Is a directory".
        assertError(run("score", "--references", tmp.toString(), "--candidates", cands.toString()),
                "--references " + tmp + ": is a directory; expected a JSON file mapping image ids to lists");
        assertError(run("score", "--references", refs.toString(), "--candidates", tmp.toString()),
                "--candidates " + tmp + ": is a directory; expected a JSON file");
        CliRun noArgs = run("score");
        assertThat(noArgs.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(noArgs.err()).contains("--references");
    }

    private static void assertError(CliRun r, String message) {
        assertThat(r.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).contains(message);
        assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
    }
}
