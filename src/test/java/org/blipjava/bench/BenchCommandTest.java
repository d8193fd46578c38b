package org.blipjava.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.blipjava.cli.Main;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
            "vision_b2_s_per_image", "itm_s", "itc_texts_per_s", "peak_rss_caption_mb", "clip_images_per_s"}) {
            assertThat(m.has(key)).as(key).isTrue();
            assertThat(m.path(key).path("java").path("median").asDouble()).as(key).isPositive();
        }
        assertThat(m.path("caption_greedy_s").path("java").path("values").size()).isEqualTo(2);
        assertThat(root.toString()).contains("matmul_");
        assertThat(m.path("clip_images_per_s").path("label").asText())
                .isEqualTo("CLIP tiny ViT image embeddings, batch 2 (64x64)");
        assertThat(m.path("clip_images_per_s").path("unit").asText()).isEqualTo("images/s");
        assertThat(m.path("clip_images_per_s").has("reference")).isFalse();
    }

    @Test
    void clipAloneWithoutTheBaselineIsAJavaOnlyRow() throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new String[] {"bench", "--quick", "--repeat", "1", "--threads", "1", "--only", "clip"},
                new PrintWriter(out), new PrintWriter(err));
        assertThat(code).as(err.toString()).isZero();
        assertThat(out.toString()).contains("| CLIP tiny ViT image embeddings, batch 2 (64x64) | images/s | ")
                .doesNotContain("matmul").doesNotContain("caption");
        assertThat(err.toString()).contains("bench: building CLIP tiny ViT with random weights");
    }

    /** A stand-in for the baseline script speaking its --serve protocol, run by /bin/sh. */
    private static Path fakeBaseline(Path dir, String itmAnswer) throws Exception {
        Path script = dir.resolve("fake_baseline.sh");
        Files.writeString(script, String.join("\n",
                "echo '{\"ready\": true, \"notes\": [\"fake baseline\"]}'",
                "while read -r line; do",
                "  case \"$line\" in",
                "    *quit*) exit 0 ;;",
                "    *peak_rss_mb*) echo '{\"op\": \"peak_rss_mb\", \"value\": 123}' ;;",
                "    *caption_greedy*) echo '{\"value\": 2.0}' ;;",
                "    *clip_image_b2*) echo '{\"value\": 0.5}' ;;",
                "    *'\"itm\"'*) echo '" + itmAnswer + "' ;;",
                "    *vision_b1*|*vision_b2*|*caption_beam*|*'\"itc\"'*) echo '{\"value\": 1.0}' ;;",
                "    *) echo '{\"error\": \"unknown op\"}' ;;",
                "  esac",
                "done", ""));
        return script;
    }

    @Test
    void baselineRunsAlternateWithJavaAndBecomeRatios(@TempDir Path tmp) throws Exception {
        Path script = fakeBaseline(tmp, "{\"value\": 3.0}");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new String[] {"bench", "--quick", "--repeat", "2", "--threads", "1", "--json",
            "--only", "caption,retrieval,clip", "--torch", "--python", "/bin/sh", "--torch-script", script.toString()},
                new PrintWriter(out), new PrintWriter(err));
        assertThat(code).as(err.toString()).isZero();
        JsonNode m = new ObjectMapper().readTree(out.toString()).path("metrics");
        JsonNode greedy = m.path("caption_greedy_s");
        assertThat(greedy.path("reference").path("name").asText()).isEqualTo("PyTorch");
        assertThat(greedy.path("reference").path("values").size()).isEqualTo(2);
        assertThat(greedy.path("reference").path("median").asDouble()).isEqualTo(2.0);
        assertThat(greedy.path("ratio").asDouble())
                .isCloseTo(2.0 / greedy.path("java").path("median").asDouble(), within(1e-9));
        // Batch 2 per image: the baseline's 1.0 s per call over two images.
        assertThat(m.path("vision_b2_s_per_image").path("reference").path("median").asDouble()).isEqualTo(0.5);
        assertThat(m.path("itm_s").path("reference").path("median").asDouble()).isEqualTo(3.0);
        // ITC as a rate: 6 texts per 1.0 s call.
        assertThat(m.path("itc_texts_per_s").path("reference").path("median").asDouble()).isEqualTo(6.0);
        assertThat(m.path("peak_rss_caption_mb").path("reference").path("median").asDouble()).isEqualTo(123.0);
        // CLIP as a rate: a batch of 2 images per 0.5 s call; higher is better, so the ratio is Java over PyTorch.
        JsonNode clip = m.path("clip_images_per_s");
        assertThat(clip.path("reference").path("values").size()).isEqualTo(2);
        assertThat(clip.path("reference").path("median").asDouble()).isEqualTo(4.0);
        assertThat(clip.path("ratio").asDouble())
                .isCloseTo(clip.path("java").path("median").asDouble() / 4.0, within(1e-9));
        assertThat(out.toString()).contains("fake baseline");
    }

    @Test
    void aBaselineErrorNamesTheWorkloadAndFailsTheCommand(@TempDir Path tmp) throws Exception {
        Path script = fakeBaseline(tmp, "{\"error\": \"RuntimeError: boom\"}");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new String[] {"bench", "--quick", "--repeat", "1", "--threads", "1",
            "--only", "retrieval", "--torch", "--python", "/bin/sh", "--torch-script", script.toString()},
                new PrintWriter(out), new PrintWriter(err));
        assertThat(code).isNotZero();
        assertThat(err.toString()).contains("'itm'").contains("boom");
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void aBaselineThatDiesAtStartUpIsReported(@TempDir Path tmp) throws Exception {
        Path script = tmp.resolve("dies.sh");
        Files.writeString(script, "echo 'no torch here' >&2\nexit 3\n");
        StringWriter err = new StringWriter();
        int code = Main.run(new String[] {"bench", "--quick", "--repeat", "1", "--threads", "1",
            "--only", "caption", "--torch", "--python", "/bin/sh", "--torch-script", script.toString()},
                new PrintWriter(new StringWriter()), new PrintWriter(err));
        assertThat(code).isNotZero();
        assertThat(err.toString()).contains("no torch here").contains("status 3");
    }

    /**
     * Without --torch-script, the baseline built into blip runs from any working directory: here a
     * separate JVM started in an empty folder, with a stand-in python that keeps a copy of the
     * script it is given and then speaks the --serve protocol.
     */
    @Test
    void theBuiltInBaselineRunsFromAnyWorkingDirectory(@TempDir Path tmp) throws Exception {
        Path python = tmp.resolve("fake-python");
        Path given = tmp.resolve("given-path.txt");
        Path copy = tmp.resolve("given-script.py");
        Files.writeString(python, String.join("\n",
                "#!/bin/sh",
                "printf '%s' \"$1\" > '" + given + "'",
                "cat \"$1\" > '" + copy + "'",
                "echo '{\"ready\": true, \"notes\": [\"stand-in python\"]}'",
                "while read -r line; do",
                "  case \"$line\" in",
                "    *quit*) exit 0 ;;",
                "    *peak_rss_mb*) echo '{\"value\": 100}' ;;",
                "    *) echo '{\"value\": 0.5}' ;;",
                "  esac",
                "done", ""));
        assertThat(python.toFile().setExecutable(true)).isTrue();
        Path elsewhere = Files.createDirectories(tmp.resolve("elsewhere"));
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx1g",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "bench", "--quick", "--repeat",
                "1", "--threads", "1", "--only", "clip", "--json", "--torch", "--python", python.toString())
                .directory(elsewhere.toFile()).redirectErrorStream(false);
        Process p = pb.start();
        p.getOutputStream().close();
        java.util.concurrent.CompletableFuture<String> err = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(err.get()).isZero();
        JsonNode clip = new ObjectMapper().readTree(out).path("metrics").path("clip_images_per_s");
        assertThat(clip.path("reference").path("median").asDouble()).isEqualTo(4.0);
        assertThat(err.get()).contains("bench/torch_baseline.py, built in");
        // The script it ran is bench/torch_baseline.py, from a temporary copy that is gone afterwards.
        assertThat(Files.readString(copy)).isEqualTo(Files.readString(Path.of("bench/torch_baseline.py")));
        Path script = Path.of(Files.readString(given));
        assertThat(script).isAbsolute().doesNotExist();
        assertThat(script.startsWith(elsewhere)).isFalse();
    }

    @Test
    void aMissingTorchScriptIsRefusedBeforeAnyTiming(@TempDir Path tmp) throws Exception {
        StringWriter err = new StringWriter();
        int code = Main.run(new String[] {"bench", "--quick", "--repeat", "1", "--threads", "1", "--torch",
            "--torch-script", tmp.resolve("nope.py").toString()}, new PrintWriter(new StringWriter()),
                new PrintWriter(err));
        assertThat(code).isNotZero();
        assertThat(err.toString()).contains("--torch-script " + tmp.resolve("nope.py") + ": no such file")
                .doesNotContain("matmul");
    }

    /** The real script against Debian's python3-torch, where it is installed (not needed to build or test). */
    @Test
    void realBaselineScriptAnswersEveryWorkload() throws Exception {
        Path python = Path.of("/usr/bin/python3");
        Assumptions.assumeTrue(Files.isExecutable(python)
                && new ProcessBuilder(python.toString(), "-c", "import torch").start().waitFor() == 0,
                "python3-torch is not installed");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new String[] {"bench", "--quick", "--repeat", "1", "--threads", "1", "--json",
            "--only", "caption,retrieval,clip", "--torch"}, new PrintWriter(out), new PrintWriter(err));
        assertThat(code).as(err.toString()).isZero();
        JsonNode m = new ObjectMapper().readTree(out.toString()).path("metrics");
        for (String key : new String[] {"caption_greedy_s", "caption_beam_s", "vision_b1_s_per_image",
            "vision_b2_s_per_image", "itm_s", "itc_texts_per_s", "peak_rss_caption_mb", "peak_rss_mb",
            "clip_images_per_s"}) {
            assertThat(m.path(key).path("reference").path("median").asDouble()).as(key).isPositive();
        }
    }

    @Test
    void statsSummarizeRuns() {
        Stats s = new Stats(new double[] {4, 1, 2, 3});
        assertThat(s.median()).isEqualTo(2.5);
        assertThat(s.spreadPercent()).isEqualTo(120.0);
        assertThat(s.map(v -> 1 / v).max()).isEqualTo(1.0);
    }
}
