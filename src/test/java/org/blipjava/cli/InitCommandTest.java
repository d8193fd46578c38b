package org.blipjava.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code blip init}: writes loadable tiny models, and refuses bad input with one line and exit 2. */
class InitCommandTest {
    @Test
    void writesAModelTheOtherCommandsLoad(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("tiny-vqa");
        CliRun r = CliRun.run("init", "--tiny", "--head", "vqa", "--seed", "3", "--output", out.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("BlipForQuestionAnswering").contains("seed 3");
        assertThat(out.resolve("model.safetensors")).isRegularFile();
        assertThat(out.resolve("generation_config.json")).isRegularFile();
        Path image = tmp.resolve("grey.png");
        javax.imageio.ImageIO.write(new java.awt.image.BufferedImage(64, 64, java.awt.image.BufferedImage.TYPE_INT_RGB),
                "png", image.toFile());
        CliRun vqa = CliRun.run("vqa", "--model", out.toString(), "--json", "--question", "what is it?", image.toString());
        assertThat(vqa.exit()).as(vqa.err()).isZero();
        assertThat(vqa.json().isContainerNode()).isTrue();
    }

    @Test
    void headAllWritesEveryHeadIntoOneFolder(@TempDir Path tmp) {
        Path out = tmp.resolve("models");
        CliRun r = CliRun.run("init", "--tiny", "--head", "all", "--output", out.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        for (String head : new String[] {"tiny-caption", "tiny-vqa", "tiny-itm", "tiny-contrastive"}) {
            assertThat(out.resolve(head).resolve("config.json")).isRegularFile();
        }
        assertThat(out.resolve("tiny-itm").resolve("generation_config.json")).doesNotExist();
    }

    @Test
    void badInputIsOneLineAndExitTwo(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("m");
        CliRun noTiny = CliRun.run("init", "--output", out.toString());
        assertThat(noTiny.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(noTiny.err()).contains("--tiny is required");
        CliRun badHead = CliRun.run("init", "--tiny", "--head", "pooh", "--output", out.toString());
        assertThat(badHead.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(badHead.err()).contains("--head pooh: unknown head");
        assertThat(out).doesNotExist();

        Files.createDirectories(out);
        Files.writeString(out.resolve("keep.txt"), "x");
        CliRun taken = CliRun.run("init", "--tiny", "--output", out.toString());
        assertThat(taken.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(taken.err().strip()).startsWith("blip: ").contains("is not empty").doesNotContain("\n");
        assertThat(Files.readString(out.resolve("keep.txt"))).isEqualTo("x");
    }
}
