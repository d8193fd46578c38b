package org.blipjava.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/**
 * Hand-computed cases of Pillow's bicubic (a = -0.5) resampling. Weights are worked out on
 * paper from the filter, normalised to sum 1; outputs are the rounded weighted sums.
 */
class BicubicResamplerTest {

    /** A one-row (or one-column) grey image with the given samples in all three channels. */
    private static RgbImage line(boolean horizontal, int... v) {
        byte[] rgb = new byte[v.length * 3];
        for (int i = 0; i < v.length; i++) {
            rgb[i * 3] = (byte) v[i];
            rgb[i * 3 + 1] = (byte) v[i];
            rgb[i * 3 + 2] = (byte) v[i];
        }
        return horizontal ? new RgbImage(v.length, 1, rgb) : new RgbImage(1, v.length, rgb);
    }

    private static int[] channel(RgbImage img, int c) {
        int[] out = new int[img.width() * img.height()];
        for (int y = 0; y < img.height(); y++) {
            for (int x = 0; x < img.width(); x++) {
                out[y * img.width() + x] = img.sample(x, y, c);
            }
        }
        return out;
    }

    @Test
    void upscalesTwoToFourWithTheCubicKernel() {
        // Output 0: centre 0.25, taps at distances 0.25 and 1.25: weights 0.8671875 and
        // -0.0703125, normalised 1.0882 and -0.0882 -> 100*1.0882 - 200*0.0882 = 91.18 -> 91.
        // Output 1: centre 0.75, distances 0.25 and 0.75: 0.8671875, 0.2265625 -> 0.7929, 0.2071
        // -> 120.71 -> 121. Outputs 2 and 3 mirror them: 179.29 -> 179 and 208.82 -> 209.
        RgbImage out = BicubicResampler.resize(line(true, 100, 200), 4, 1);
        for (int c = 0; c < 3; c++) {
            assertThat(channel(out, c)).containsExactly(91, 121, 179, 209);
        }
        RgbImage col = BicubicResampler.resize(line(false, 100, 200), 1, 4);
        assertThat(channel(col, 1)).containsExactly(91, 121, 179, 209);
    }

    @Test
    void downscalesFourToTwoWithTheKernelWidenedByTheScale() {
        // Scale 2 doubles the support to 4 and halves the distances. Output 0 (centre 1): source
        // pixels at distances 0.25, 0.25, 0.75, 1.25 of the widened kernel: weights 0.8671875,
        // 0.8671875, 0.2265625, -0.0703125 (sum 1.890625) -> 0.4587, 0.4587, 0.1198, -0.0372
        // -> 40*0.4587 + 80*0.1198 - 120*0.0372 = 23.47 -> 23. Output 1 (centre 3): the mirror
        // weights -> 40*0.1198 + 80*0.4587 + 120*0.4587 = 96.53 -> 97.
        RgbImage out = BicubicResampler.resize(line(true, 0, 40, 80, 120), 2, 1);
        assertThat(channel(out, 0)).containsExactly(23, 97);
        RgbImage col = BicubicResampler.resize(line(false, 0, 40, 80, 120), 1, 2);
        assertThat(channel(col, 2)).containsExactly(23, 97);
    }

    @Test
    void clipsOvershootToTheByteRange() {
        // 255 * -0.0882 = -22.5 clips to 0; 255 * 1.0882 = 277.5 clips to 255.
        RgbImage out = BicubicResampler.resize(line(true, 0, 255), 4, 1);
        assertThat(channel(out, 0)[0]).isZero();
        assertThat(channel(out, 0)[3]).isEqualTo(255);
    }

    @Test
    void resizesBothAxesHorizontalPassFirst() {
        // A 2x2 image whose rows are (100, 200): the vertical pass sees equal rows and keeps
        // them, so every row of the 4x4 result is the 1-D upscale.
        byte[] rgb = new byte[2 * 2 * 3];
        int[] v = {100, 200, 100, 200};
        for (int i = 0; i < 4; i++) {
            rgb[i * 3] = (byte) v[i];
            rgb[i * 3 + 1] = (byte) v[i];
            rgb[i * 3 + 2] = (byte) v[i];
        }
        RgbImage out = BicubicResampler.resize(new RgbImage(2, 2, rgb), 4, 4);
        int[] r = channel(out, 0);
        for (int y = 0; y < 4; y++) {
            assertThat(new int[] {r[y * 4], r[y * 4 + 1], r[y * 4 + 2], r[y * 4 + 3]})
                    .containsExactly(91, 121, 179, 209);
        }
    }

    @Test
    void keepsConstantImagesAndSameSize() {
        byte[] rgb = new byte[5 * 3 * 3];
        for (int i = 0; i < rgb.length; i += 3) {
            rgb[i] = (byte) 255;
            rgb[i + 1] = 7;
            rgb[i + 2] = (byte) 128;
        }
        RgbImage img = new RgbImage(5, 3, rgb);
        RgbImage big = BicubicResampler.resize(img, 13, 11);
        RgbImage small = BicubicResampler.resize(img, 2, 1);
        for (RgbImage out : new RgbImage[] {big, small}) {
            for (int i = 0; i < out.width() * out.height(); i++) {
                assertThat(out.sample(i % out.width(), i / out.width(), 0)).isEqualTo(255);
                assertThat(out.sample(i % out.width(), i / out.width(), 1)).isEqualTo(7);
                assertThat(out.sample(i % out.width(), i / out.width(), 2)).isEqualTo(128);
            }
        }
        assertThat(BicubicResampler.resize(img, 5, 3)).isEqualTo(img);
    }

    @Test
    void bilinearUsesTheTriangleFilter() {
        // Upscale 2 -> 4: output 1 (centre 0.75) has weights 1-0.25 and 1-0.75 (sum 1) ->
        // 100*0.75 + 200*0.25 = 125; output 0 (centre 0.25) has only tap 0 at distance 0.25 and
        // tap 1 at 1.25 (weight 0) -> 100.
        RgbImage out = BicubicResampler.resize(line(true, 100, 200), 4, 1, ResampleFilter.BILINEAR);
        assertThat(channel(out, 0)).containsExactly(100, 125, 175, 200);
    }

    @Test
    void refusesUnsupportedFiltersAndSizes() {
        assertThatThrownBy(() -> ResampleFilter.fromPilCode(1)).hasMessageContaining("lanczos")
                .hasMessageContaining("3 (bicubic");
        assertThatThrownBy(() -> ResampleFilter.fromPilCode(0)).hasMessageContaining("nearest");
        assertThat(ResampleFilter.fromPilCode(3)).isEqualTo(ResampleFilter.BICUBIC);
        assertThatThrownBy(() -> BicubicResampler.resize(line(true, 1, 2), 0, 3))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0x3");
    }
}
