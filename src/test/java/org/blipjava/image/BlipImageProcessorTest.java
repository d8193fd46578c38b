package org.blipjava.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class BlipImageProcessorTest {

    private static RgbImage solid(int w, int h, int r, int g, int b) {
        byte[] rgb = new byte[w * h * 3];
        for (int i = 0; i < rgb.length; i += 3) {
            rgb[i] = (byte) r;
            rgb[i + 1] = (byte) g;
            rgb[i + 2] = (byte) b;
        }
        return new RgbImage(w, h, rgb);
    }

    @Test
    void rescalesInDoubleThenNormalizesInFloatChannelFirst() {
        BlipImageProcessor p = new BlipImageProcessor(ImageProcessorConfig.defaults().withSize(2, 3));
        float[] out = p.preprocess(solid(5, 4, 255, 0, 128));
        assertThat(out).hasSize(3 * 2 * 3);
        // numpy: float32(uint8 * 1/255 in float64), then (x - float32(mean)) / float32(std) in float32.
        float r = (1.0f - 0.48145466f) / 0.26862954f;
        float g = (0.0f - 0.4578275f) / 0.26130258f;
        float b = ((float) (128 * (1.0 / 255)) - 0.40821073f) / 0.27577711f;
        for (int i = 0; i < 6; i++) {
            assertThat(out[i]).isEqualTo(r);
            assertThat(out[6 + i]).isEqualTo(g);
            assertThat(out[12 + i]).isEqualTo(b);
        }
    }

    @Test
    void skipsStepsThatAreOff() {
        ImageProcessorConfig d = ImageProcessorConfig.defaults();
        ImageProcessorConfig raw = new ImageProcessorConfig(false, 384, 384, d.resample(), false, d.rescaleFactor(),
                false, d.imageMean(), d.imageStd(), true);
        float[] out = new BlipImageProcessor(raw).preprocess(solid(2, 1, 9, 8, 7));
        assertThat(out).containsExactly(9, 9, 8, 8, 7, 7);
    }

    @Test
    void batchesAreTheConcatenationOfSingleImages() {
        BlipImageProcessor p = new BlipImageProcessor(ImageProcessorConfig.defaults().withSize(4, 4));
        RgbImage a = solid(7, 3, 10, 20, 30);
        byte[] grad = new byte[5 * 9 * 3];
        for (int i = 0; i < grad.length; i++) {
            grad[i] = (byte) (i * 7);
        }
        RgbImage b = new RgbImage(5, 9, grad);
        float[] batch = p.preprocessBatch(List.of(a, b));
        float[] one = p.preprocess(a);
        float[] two = p.preprocess(b);
        assertThat(java.util.Arrays.copyOfRange(batch, 0, one.length)).isEqualTo(one);
        assertThat(java.util.Arrays.copyOfRange(batch, one.length, batch.length)).isEqualTo(two);
    }

    @Test
    void refusesMixedSizesWithoutResizeAndEmptyBatches() {
        ImageProcessorConfig d = ImageProcessorConfig.defaults();
        ImageProcessorConfig noResize = new ImageProcessorConfig(false, 384, 384, d.resample(), true,
                d.rescaleFactor(), true, d.imageMean(), d.imageStd(), true);
        BlipImageProcessor p = new BlipImageProcessor(noResize);
        assertThatThrownBy(() -> p.preprocessBatch(List.of(solid(2, 2, 0, 0, 0), solid(3, 2, 0, 0, 0))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("image 1");
        assertThatThrownBy(() -> p.preprocessBatch(List.of())).isInstanceOf(IllegalArgumentException.class);
    }
}
