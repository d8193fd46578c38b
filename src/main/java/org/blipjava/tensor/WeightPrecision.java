package org.blipjava.tensor;

import java.util.Locale;

/**
 * How a {@link PackedMatrix} stores its values. Products always accumulate in float32; lower
 * precisions trade accuracy for memory and memory bandwidth (decoding reads every weight once
 * per token, so it speeds up roughly in proportion).
 */
public enum WeightPrecision {
    /** float32, exact. */
    F32,
    /** bfloat16 (float32's top 16 bits, rounded to nearest even): half the memory. */
    BF16,
    /** int8 with one float32 scale per output feature (symmetric, max-abs): a quarter of the memory. */
    INT8;

    /** Parses {@code f32}, {@code float32}, {@code bf16}, {@code bfloat16} or {@code int8} (any case). */
    public static WeightPrecision parse(String s) {
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "f32", "float32", "fp32" -> F32;
            case "bf16", "bfloat16" -> BF16;
            case "int8", "i8" -> INT8;
            default -> throw new IllegalArgumentException("unknown weight dtype '" + s + "'; use f32, bf16 or int8");
        };
    }
}
