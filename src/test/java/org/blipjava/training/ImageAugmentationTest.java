package org.blipjava.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import org.blipjava.image.BicubicResampler;
import org.blipjava.image.RgbImage;
import org.junit.jupiter.api.Test;

class ImageAugmentationTest {
    private static RgbImage gradient(int w, int h) {
        byte[] rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = (y * w + x) * 3;
                rgb[i] = (byte) (x * 255 / (w - 1));
                rgb[i + 1] = (byte) (y * 255 / (h - 1));
                rgb[i + 2] = (byte) ((x + y) & 0xff);
            }
        }
        return new RgbImage(w, h, rgb);
    }

    @Test
    void cropsCoverHalfToAllOfTheAreaWithBoundedAspectAndStayInside() {
        ImageAugmentation aug = ImageAugmentation.blip(32, 32);
        TrainingRandom rng = new TrainingRandom(5);
        double minFrac = 1;
        double maxFrac = 0;
        for (int i = 0; i < 2000; i++) {
            int[] b = aug.cropBox(120, 90, rng);
            assertThat(b[0]).isBetween(0, 120 - b[2]);
            assertThat(b[1]).isBetween(0, 90 - b[3]);
            double frac = (double) b[2] * b[3] / (120 * 90);
            double ratio = (double) b[2] / b[3];
            minFrac = Math.min(minFrac, frac);
            maxFrac = Math.max(maxFrac, frac);
            // Rounding the sides to pixels moves area and ratio a little past the sampled ranges.
            assertThat(frac).isBetween(0.47, 1.0);
            assertThat(ratio).isBetween(0.72, 1.36);
        }
        assertThat(minFrac).isLessThan(0.55);
        assertThat(maxFrac).isGreaterThan(0.9);
    }

    @Test
    void extremeAspectFallsBackToACentreCropOfTheLargestAllowedRatio() {
        ImageAugmentation aug = new ImageAugmentation(8, 8, 0.99, 1.0, false);
        int[] b = aug.cropBox(400, 10, new TrainingRandom(1));
        assertThat(b).containsExactly((400 - 13) / 2, 0, 13, 10);
    }

    @Test
    void outputHasTheTargetSizeIsSeededAndFlipsMirrorTheCrop() {
        RgbImage img = gradient(50, 40);
        ImageAugmentation aug = ImageAugmentation.blip(24, 24);
        RgbImage a = aug.apply(img, new TrainingRandom(9));
        RgbImage b = aug.apply(img, new TrainingRandom(9));
        assertThat(a).isEqualTo(b);
        assertThat(a.width()).isEqualTo(24);
        assertThat(a.height()).isEqualTo(24);

        // With the whole image as the crop, the result is the bicubic resize, mirrored or not.
        ImageAugmentation whole = new ImageAugmentation(24, 24, 1.0, 1.0, true);
        RgbImage square = gradient(40, 40);
        RgbImage plain = BicubicResampler.resize(square, 24, 24);
        boolean sawFlip = false;
        boolean sawPlain = false;
        TrainingRandom rng = new TrainingRandom(3);
        for (int i = 0; i < 20; i++) {
            RgbImage out = whole.apply(square, rng);
            if (out.equals(plain)) {
                sawPlain = true;
            } else {
                assertThat(out).isEqualTo(ImageAugmentation.mirror(plain));
                sawFlip = true;
            }
        }
        assertThat(sawFlip && sawPlain).isTrue();
        assertThat(ImageAugmentation.mirror(ImageAugmentation.mirror(plain))).isEqualTo(plain);
    }

    @Test
    void cropCopiesTheRequestedRows() {
        RgbImage img = gradient(10, 6);
        RgbImage c = ImageAugmentation.crop(img, 3, 2, 4, 3);
        for (int y = 0; y < 3; y++) {
            for (int x = 0; x < 4; x++) {
                for (int ch = 0; ch < 3; ch++) {
                    assertThat(c.sample(x, y, ch)).isEqualTo(img.sample(x + 3, y + 2, ch));
                }
            }
        }
        assertThatThrownBy(() -> new ImageAugmentation(8, 8, 0.6, 0.5, true)).hasMessageContaining("minScale");
    }

    @Test
    void randomStreamsAreSeededRestorableAndPermutationsArePermutations() {
        TrainingRandom r = new TrainingRandom(11);
        r.nextLong();
        long saved = r.state();
        long[] next = {r.nextLong(), r.nextLong()};
        TrainingRandom again = new TrainingRandom(0);
        again.restore(saved);
        assertThat(new long[] {again.nextLong(), again.nextLong()}).isEqualTo(next);

        int[] p = new TrainingRandom(4).permutation(100);
        int[] sorted = p.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < 100; i++) {
            assertThat(sorted[i]).isEqualTo(i);
        }
        assertThat(p).isNotEqualTo(sorted);
        int[] counts = new int[3];
        for (int i = 0; i < 3000; i++) {
            counts[r.nextInt(3)]++;
        }
        for (int c : counts) {
            assertThat(c).isBetween(850, 1150);
        }
    }
}
