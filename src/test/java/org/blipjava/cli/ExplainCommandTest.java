package org.blipjava.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.blipjava.cli.CliRun.run;

import java.awt.Dimension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.blipjava.generation.GenerationConfig;
import org.blipjava.report.AttentionOverlay;
import org.blipjava.report.Explain;
import org.blipjava.report.PngChecks;
import org.blipjava.report.SimilarityHeatmap;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.LoadOptions;
import org.blipjava.testing.FixtureInputs;
import org.blipjava.testing.Fixtures;
import org.blipjava.testing.Fixtures.FixtureSet;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code blip explain} writes PNGs that decode, have the expected size and are not blank. */
class ExplainCommandTest {
    static Stream<FixtureSet> sets() {
        return Fixtures.parameters(Fixtures.Kind.BLIP);
    }

    static List<Path> images(FixtureSet set, int n) {
        return FixtureInputs.targetImages(set, n).stream().map(set::image).toList();
    }

    @ParameterizedTest
    @MethodSource("sets")
    void heatmapEmbeddingsAndAttentionPngs(FixtureSet set, @TempDir Path tmp) throws Exception {
        List<Path> imgs = images(set, 3);
        List<String> texts = new ArrayList<>();
        set.expected().get("itm").get("texts").forEach(t -> texts.add(t.asText()));
        String itm = set.model("tiny-itm").toString();

        List<String> args = new ArrayList<>(List.of("explain", "heatmap", "-m", itm, "--no-progress", "--score", "itc",
                "-o", tmp.resolve("heat.png").toString()));
        texts.forEach(t -> args.addAll(List.of("-t", t)));
        imgs.forEach(p -> args.add(p.toString()));
        CliRun r = run(args.toArray(String[]::new));
        assertThat(r.exit()).as(r.err()).isZero();
        Dimension d = SimilarityHeatmap.size(imgs.size(), texts.size());
        PngChecks.decodeAndCheck(tmp.resolve("heat.png"), d.width, d.height);

        List<String> emb = new ArrayList<>(List.of("explain", "embeddings", "-m", itm, "--no-progress", "--size", "420",
                "--iterations", "200", "--categories-from-folders", "-o", tmp.resolve("map.png").toString()));
        texts.forEach(t -> emb.addAll(List.of("-t", t)));
        imgs.forEach(p -> emb.add(p.toString()));
        r = run(emb.toArray(String[]::new));
        assertThat(r.exit()).as(r.err()).isZero();
        PngChecks.decodeAndCheck(tmp.resolve("map.png"), 420, 420);

        Path caption = set.model("tiny-caption");
        r = run("explain", "attention", "-m", caption.toString(), "--no-progress", "--max-length", "9", "--panel", "64",
                "-o", tmp.resolve("att.png").toString(), imgs.get(0).toString());
        assertThat(r.exit()).as(r.err()).isZero();
        int words;
        try (Blip blip = Blip.load(caption, LoadOptions.defaults())) {
            GenerationConfig g = blip.generationDefaults().toBuilder().maxLength(9).build();
            words = Explain.captionAttention(blip, Blip.readImage(imgs.get(0)), null, g, null).words().size();
        }
        Dimension a = AttentionOverlay.size(words, 64);
        PngChecks.decodeAndCheck(tmp.resolve("att.png"), a.width, a.height);

        r = run("explain", "gradcam", "-m", itm, "--no-progress", "--panel", "64", "-t", texts.get(0),
                "-o", tmp.resolve("cam.png").toString(), imgs.get(0).toString());
        assertThat(r.exit()).as(r.err()).isZero();
        int camWords;
        try (Blip blip = Blip.load(set.model("tiny-itm"), LoadOptions.defaults())) {
            camWords = Explain.itmGradCam(blip, Blip.readImage(imgs.get(0)), texts.get(0), null).words().size();
        }
        Dimension c = AttentionOverlay.size(camWords, 64);
        PngChecks.decodeAndCheck(tmp.resolve("cam.png"), c.width, c.height);

        // Several images: one picture each in the --output folder; an unreadable one is reported.
        Path bad = tmp.resolve("bad.png");
        Files.write(bad, new byte[] {0});
        r = run("explain", "attention", "-m", caption.toString(), "--no-progress", "--max-length", "5", "--panel", "48",
                "-o", tmp.resolve("many").toString(), imgs.get(0).toString(), imgs.get(1).toString(), bad.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("bad.png");
        try (Stream<Path> s = Files.list(tmp.resolve("many"))) {
            assertThat(s.map(p -> p.getFileName().toString()).toList()).hasSize(2)
                    .allMatch(n -> n.endsWith("-attention.png"));
        }
    }

    @ParameterizedTest
    @MethodSource("sets")
    void argumentErrorsAreOneLine(FixtureSet set, @TempDir Path tmp) {
        CliRun r = run("explain", "heatmap", "-m", set.model("tiny-caption").toString(), "--no-progress", "-t", "x",
                "-o", tmp.resolve("h.png").toString(), images(set, 1).get(0).toString());
        assertThat(r.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(r.err()).contains("scores no image-text pairs").contains("BlipForImageTextRetrieval");
        r = run("explain", "heatmap", "-m", set.model("tiny-contrastive").toString(), "--score", "itm", "-t", "x",
                "-o", tmp.resolve("h.png").toString(), images(set, 1).get(0).toString());
        assertThat(r.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(r.err()).contains("ITM scores need a BlipForImageTextRetrieval");
        r = run("explain", "heatmap", "-m", set.model("tiny-itm").toString(), "-t", "x", images(set, 1).get(0).toString());
        assertThat(r.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(r.err()).contains("--output");
        assertThat(Files.exists(tmp.resolve("h.png"))).isFalse();
    }
}
