package org.blipjava.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import javax.imageio.ImageIO;

/** Checks shared by the picture tests: a PNG decodes, has the expected size and is not blank. */
public final class PngChecks {
    private PngChecks() {}

    /** Decodes PNG bytes and checks signature, size and that the picture has real content. */
    public static BufferedImage decodeAndCheck(byte[] png, int width, int height) throws IOException {
        assertThat(png).startsWith(0x89, 'P', 'N', 'G');
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
        assertThat(img).as("PNG decodes").isNotNull();
        assertThat(img.getWidth()).isEqualTo(width);
        assertThat(img.getHeight()).isEqualTo(height);
        Set<Integer> colours = new HashSet<>();
        long nonWhite = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int rgb = img.getRGB(x, y) & 0xffffff;
                colours.add(rgb);
                if (rgb != 0xffffff) {
                    nonWhite++;
                }
            }
        }
        assertThat(colours.size()).as("distinct colours").isGreaterThan(20);
        assertThat(nonWhite).as("non-white pixels").isGreaterThan((long) img.getWidth() * img.getHeight() / 100);
        return img;
    }

    public static BufferedImage decodeAndCheck(Path file, int width, int height) throws IOException {
        return decodeAndCheck(Files.readAllBytes(file), width, height);
    }
}
