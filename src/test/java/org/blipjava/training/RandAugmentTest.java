package org.blipjava.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntBinaryOperator;
import org.blipjava.image.RgbImage;
import org.blipjava.training.RandAugment.Op;
import org.junit.jupiter.api.Test;

/** Each RandAugment op against values worked out by hand, and the random choice of ops. */
class RandAugmentTest {
    private static final int FILL = 128;

    /** An image whose channel c at (x, y) is {@code f(x, y) + c * 40} (wrapped to a byte). */
    private static RgbImage image(int w, int h, IntBinaryOperator f) {
        byte[] rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) {
                    rgb[(y * w + x) * 3 + c] = (byte) (f.applyAsInt(x, y) + c * 40);
                }
            }
        }
        return new RgbImage(w, h, rgb);
    }

    private static RgbImage pattern(int w, int h) {
        return image(w, h, (x, y) -> 7 + 13 * x + 31 * y);
    }

    private static RgbImage flat(int w, int h, int v) {
        return image(w, h, (x, y) -> v);
    }

    @Test
    void magnitudeMapsToTheReferenceParameters() {
        assertThat(Op.BRIGHTNESS.parameter(5)).isCloseTo(1.0, within(1e-12));
        assertThat(Op.SHARPNESS.parameter(10)).isCloseTo(1.9, within(1e-12));
        assertThat(Op.SHARPNESS.parameter(0)).isCloseTo(0.1, within(1e-12));
        assertThat(Op.SHEAR_X.parameter(10)).isCloseTo(0.3, within(1e-12));
        assertThat(Op.TRANSLATE_Y.parameter(5)).isCloseTo(5, within(1e-12));
        assertThat(Op.ROTATE.parameter(5)).isCloseTo(15, within(1e-12));
        assertThat(Op.EQUALIZE.parameter(7)).isZero();
        assertThat(Op.ROTATE.signed()).isTrue();
        assertThat(Op.BRIGHTNESS.signed()).isFalse();
    }

    @Test
    void identityAndZeroRotationLeaveTheImageAlone() {
        RgbImage img = pattern(7, 5);
        assertThat(Op.IDENTITY.apply(img, 3)).isEqualTo(img);
        assertThat(Op.ROTATE.apply(img, 0)).isEqualTo(img);
        assertThat(Op.TRANSLATE_X.apply(img, 0)).isEqualTo(img);
        assertThat(Op.SHEAR_Y.apply(img, 0)).isEqualTo(img);
        assertThat(Op.BRIGHTNESS.apply(img, 1.0)).isEqualTo(img);
        assertThat(Op.SHARPNESS.apply(img, 1.0)).isEqualTo(img);
    }

    @Test
    void autoContrastStretchesEachChannelsRangeToFullScale() {
        // Red spans 64..192 (scale 255/128, exact in binary); green is flat; blue already spans 0..255.
        byte[] rgb = new byte[3 * 3];
        int[] reds = {64, 128, 192};
        int[] blues = {0, 100, 255};
        for (int i = 0; i < 3; i++) {
            rgb[i * 3] = (byte) reds[i];
            rgb[i * 3 + 1] = (byte) 77;
            rgb[i * 3 + 2] = (byte) blues[i];
        }
        RgbImage out = Op.AUTO_CONTRAST.apply(new RgbImage(3, 1, rgb), 0);
        assertThat(new int[] {out.sample(0, 0, 0), out.sample(1, 0, 0), out.sample(2, 0, 0)})
                .containsExactly(0, (int) ((128 - 64) * 255.0 / 128), 255);
        for (int x = 0; x < 3; x++) {
            assertThat(out.sample(x, 0, 1)).isEqualTo(77);
            assertThat(out.sample(x, 0, 2)).isEqualTo(blues[x]);
        }
    }

    @Test
    void equalizeFollowsPilsCumulativeHistogram() {
        // Red: 510 pixels of 10, 255 of 20, 255 of 30. Step = (1020 - 255) / 255 = 3, so a value maps
        // to (1 + pixels below it) / 3: 10 -> 0, 20 -> 511 / 3 = 170, 30 -> 766 / 3 -> 255.
        // Green is flat (step 0) and stays.
        int w = 34;
        int h = 30;
        byte[] rgb = new byte[w * h * 3];
        for (int i = 0; i < w * h; i++) {
            rgb[i * 3] = (byte) (i < 510 ? 10 : i < 765 ? 20 : 30);
            rgb[i * 3 + 1] = (byte) 99;
        }
        RgbImage out = Op.EQUALIZE.apply(new RgbImage(w, h, rgb), 0);
        for (int i = 0; i < w * h; i++) {
            int x = i % w;
            int y = i / w;
            assertThat(out.sample(x, y, 0)).isEqualTo(i < 510 ? 0 : i < 765 ? 170 : 255);
            assertThat(out.sample(x, y, 1)).isEqualTo(99);
        }
    }

    @Test
    void brightnessScalesTruncatesAndSaturates() {
        byte[] rgb = {0, (byte) 100, (byte) 101, (byte) 200, (byte) 255, (byte) 3};
        RgbImage img = new RgbImage(2, 1, rgb);
        RgbImage dark = Op.BRIGHTNESS.apply(img, 0.5);
        assertThat(new int[] {dark.sample(0, 0, 0), dark.sample(0, 0, 1), dark.sample(0, 0, 2), dark.sample(1, 0, 0),
                dark.sample(1, 0, 1), dark.sample(1, 0, 2)}).containsExactly(0, 50, 50, 100, 127, 1);
        RgbImage bright = Op.BRIGHTNESS.apply(img, 1.9);
        assertThat(new int[] {bright.sample(0, 0, 1), bright.sample(1, 0, 0), bright.sample(1, 0, 1)})
                .containsExactly(190, 255, 255);
    }

    @Test
    void sharpnessKeepsFlatImagesAndBlendsTheInteriorWithTheSmoothedImage() {
        RgbImage grey = flat(6, 5, 90);
        for (double f : new double[] {0, 0.1, 0.5, 1.9}) {
            assertThat(Op.SHARPNESS.apply(grey, f)).as("factor %s", f).isEqualTo(grey);
        }
        // One bright pixel at the centre of a black 5x5 image; smoothing kernel (1 1 1; 1 5 1; 1 1 1) / 13.
        byte[] rgb = new byte[5 * 5 * 3];
        rgb[(2 * 5 + 2) * 3] = (byte) 130;
        RgbImage dot = new RgbImage(5, 5, rgb);
        RgbImage half = Op.SHARPNESS.apply(dot, 0.5);
        assertThat(half.sample(2, 2, 0)).isEqualTo(50 + (130 - 50) / 2);  // smoothed 130 * 5 / 13 = 50
        assertThat(half.sample(1, 1, 0)).isEqualTo(10 - 10 / 2);           // smoothed 130 / 13 = 10
        assertThat(half.sample(3, 2, 0)).isEqualTo(5);
        assertThat(half.sample(0, 0, 0)).isZero();                         // the border is kept
        assertThat(half.sample(2, 2, 1)).isZero();

        // Factor 0 is the smoothed image, border too: at a corner, reflecting without repeating
        // the edge counts the diagonal neighbour four times.
        byte[] corner = new byte[5 * 5 * 3];
        corner[(5 + 1) * 3] = (byte) 130;
        RgbImage smooth = Op.SHARPNESS.apply(new RgbImage(5, 5, corner), 0);
        assertThat(smooth.sample(0, 0, 0)).isEqualTo(4 * 130 / 13);
        assertThat(smooth.sample(1, 1, 0)).isEqualTo(50);
        assertThat(smooth.sample(2, 1, 0)).isEqualTo(10);
        assertThat(smooth.sample(4, 4, 0)).isZero();
    }

    @Test
    void translateShiftsByWholePixelsAndFillsWithGrey() {
        RgbImage img = pattern(5, 3);
        RgbImage left = Op.TRANSLATE_X.apply(img, 2);   // the reference's positive offset moves content left
        RgbImage right = Op.TRANSLATE_X.apply(img, -2);
        RgbImage up = Op.TRANSLATE_Y.apply(img, 1);
        for (int y = 0; y < 3; y++) {
            for (int x = 0; x < 5; x++) {
                for (int c = 0; c < 3; c++) {
                    assertThat(left.sample(x, y, c)).isEqualTo(x + 2 < 5 ? img.sample(x + 2, y, c) : FILL);
                    assertThat(right.sample(x, y, c)).isEqualTo(x >= 2 ? img.sample(x - 2, y, c) : FILL);
                    assertThat(up.sample(x, y, c)).isEqualTo(y + 1 < 3 ? img.sample(x, y + 1, c) : FILL);
                }
            }
        }
    }

    @Test
    void shearMovesEachRowInProportionToItsHeightWithBilinearHalves() {
        RgbImage img = pattern(4, 3);
        RgbImage sheared = Op.SHEAR_X.apply(img, 0.5);
        for (int x = 0; x < 4; x++) {
            for (int c = 0; c < 3; c++) {
                assertThat(sheared.sample(x, 0, c)).isEqualTo(img.sample(x, 0, c));
                // Row 1 samples half a pixel to the left: the rounded mean of two neighbours.
                int leftOf = x == 0 ? FILL : img.sample(x - 1, 1, c);
                assertThat(sheared.sample(x, 1, c)).isEqualTo((leftOf + img.sample(x, 1, c) + 1) / 2);
                assertThat(sheared.sample(x, 2, c)).isEqualTo(x == 0 ? FILL : img.sample(x - 1, 2, c));
            }
        }
        RgbImage tall = pattern(3, 4);
        RgbImage shearedY = Op.SHEAR_Y.apply(tall, -1.0);
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 3; x++) {
                // Column x samples x rows further down.
                int sy = y + x;
                assertThat(shearedY.sample(x, y, 0)).isEqualTo(sy < 4 ? tall.sample(x, sy, 0) : FILL);
            }
        }
    }

    @Test
    void rotationTurnsCounterClockwiseAboutTheHalfSizePoint() {
        // About (2, 2) on a 4x4 image, 90 degrees takes source (4 - y, x) to (x, y); row 0 has no source.
        RgbImage img = pattern(4, 4);
        RgbImage quarter = Op.ROTATE.apply(img, 90);
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                assertThat(quarter.sample(x, y, 2)).isEqualTo(y == 0 ? FILL : img.sample(4 - y, x, 2));
            }
        }
        // The top-right corner moves to the left edge: counter-clockwise on screen.
        assertThat(quarter.sample(0, 1, 0)).isEqualTo(img.sample(3, 0, 0));

        // 180 degrees about (2, 1.5) on 4x3: (x, y) comes from (4 - x, 3 - y).
        RgbImage wide = pattern(4, 3);
        RgbImage half = Op.ROTATE.apply(wide, -180);
        for (int y = 0; y < 3; y++) {
            for (int x = 0; x < 4; x++) {
                assertThat(half.sample(x, y, 1)).isEqualTo(x == 0 || y == 0 ? FILL : wide.sample(4 - x, 3 - y, 1));
            }
        }
    }

    @Test
    void eachDrawnOpIsAppliedHalfOfTheTimeWithARandomSign() {
        RandAugment ra = RandAugment.blip();
        TrainingRandom rng = new TrainingRandom(11);
        int calls = 40_000;
        int[] appliedPerCall = new int[ra.numOps() + 1];
        Map<Op, Integer> counts = new EnumMap<>(Op.class);
        Map<Op, Integer> negative = new EnumMap<>(Op.class);
        for (int i = 0; i < calls; i++) {
            List<RandAugment.Step> steps = ra.draw(rng);
            appliedPerCall[steps.size()]++;
            for (RandAugment.Step s : steps) {
                counts.merge(s.op(), 1, Integer::sum);
                assertThat(Math.abs(s.parameter())).isEqualTo(s.op().parameter(ra.magnitude()));
                if (s.parameter() < 0) {
                    negative.merge(s.op(), 1, Integer::sum);
                }
            }
        }
        // Two draws, each kept with probability 1/2: 0, 1 or 2 ops with probability 1/4, 1/2, 1/4.
        assertThat(appliedPerCall[0] / (double) calls).isCloseTo(0.25, within(0.015));
        assertThat(appliedPerCall[1] / (double) calls).isCloseTo(0.50, within(0.015));
        assertThat(appliedPerCall[2] / (double) calls).isCloseTo(0.25, within(0.015));
        // Each of the ten ops: 2 draws x 1/10 x 1/2 = 0.1 applications per call.
        assertThat(counts).hasSize(ra.ops().size());
        for (Op op : ra.ops()) {
            assertThat(counts.get(op) / (double) calls).as(op.name()).isCloseTo(0.1, within(0.01));
            double neg = negative.getOrDefault(op, 0) / (double) counts.get(op);
            assertThat(neg).as(op.name()).isCloseTo(op.signed() ? 0.5 : 0.0, within(0.04));
        }
    }

    @Test
    void sameSeedSameImagesAndApplyUsesExactlyTheDrawnOps() {
        RgbImage img = pattern(24, 20);
        RandAugment ra = RandAugment.blip(3, 9);
        TrainingRandom a = new TrainingRandom(3);
        TrainingRandom b = new TrainingRandom(3);
        TrainingRandom c = new TrainingRandom(3);
        int changed = 0;
        for (int i = 0; i < 50; i++) {
            RgbImage fromA = ra.apply(img, a);
            assertThat(ra.apply(img, b)).isEqualTo(fromA);
            RgbImage manual = img;
            for (RandAugment.Step s : ra.draw(c)) {
                manual = s.op().apply(manual, s.parameter());
            }
            assertThat(manual).isEqualTo(fromA);
            assertThat(c.state()).isEqualTo(a.state());
            changed += fromA.equals(img) ? 0 : 1;
        }
        assertThat(changed).isBetween(25, 49);
    }

    @Test
    void parsesNAndMAndRejectsNonsenseByName() {
        assertThat(RandAugment.parse("2,5")).isEqualTo(RandAugment.blip());
        assertThat(RandAugment.parse(" 3 , 7 ")).isEqualTo(RandAugment.blip(3, 7));
        assertThat(RandAugment.blip().describe()).startsWith("2,5:Identity,AutoContrast,Equalize,");
        assertThatThrownBy(() -> RandAugment.parse("2")).hasMessageContaining("N,M");
        assertThatThrownBy(() -> RandAugment.parse("two,5")).hasMessageContaining("whole numbers");
        assertThatThrownBy(() -> RandAugment.parse("2,11")).hasMessageContaining("magnitude");
        assertThatThrownBy(() -> RandAugment.parse("0,5")).hasMessageContaining("at least 1");
        assertThatThrownBy(() -> new RandAugment(2, 5, List.of())).hasMessageContaining("at least one op");
        assertThat(Op.fromReferenceName("shearx")).isEqualTo(Op.SHEAR_X);
        assertThatThrownBy(() -> Op.fromReferenceName("Solarize")).hasMessageContaining("Solarize");
    }
}
