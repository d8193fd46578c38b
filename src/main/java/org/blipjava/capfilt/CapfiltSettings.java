package org.blipjava.capfilt;

/**
 * What CapFilt generates and keeps.
 *
 * @param numCaptions synthetic captions sampled per image (0 filters the web captions only)
 * @param topP nucleus sampling mass, in (0, 1]
 * @param seed base seed; each image's sampling seed is derived from it and the image's key, so a
 *     caption does not depend on batching, order or restarts
 * @param prompt text the captioner starts from (BLIP uses "a picture of "); it is not part of the
 *     synthetic caption that is scored and written. Null or empty for none.
 * @param threshold keep a caption when its ITM match probability is at least this (used when
 *     {@code topK} is null)
 * @param topK when not null, keep the {@code topK} captions with the highest ITM per image instead
 */
public record CapfiltSettings(int numCaptions, double topP, long seed, String prompt, double threshold,
        Integer topK) {
    public CapfiltSettings {
        if (numCaptions < 0) {
            throw new IllegalArgumentException("--num-captions must be 0 or more, got " + numCaptions);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("--top-p must be in (0, 1], got " + topP);
        }
        if (!(threshold >= 0 && threshold <= 1)) {
            throw new IllegalArgumentException("--threshold must be in [0, 1], got " + threshold);
        }
        if (topK != null && topK < 1) {
            throw new IllegalArgumentException("--top-k must be at least 1, got " + topK);
        }
        if (prompt != null && prompt.isBlank()) {
            prompt = null;
        }
    }

    /** BLIP's CapFilt settings: one caption, top-p 0.9, the "a picture of " prompt, ITM ≥ 0.5. */
    public static CapfiltSettings defaults() {
        return new CapfiltSettings(1, 0.9, 0, "a picture of ", 0.5, null);
    }

    /**
     * The sampling seed of one image: the base seed and the key mixed so that nearby seeds and
     * similar keys give unrelated streams.
     */
    public long imageSeed(String key) {
        long h = 0xcbf29ce484222325L; // FNV-1a over the UTF-8 key
        for (byte b : key.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return mix(seed ^ mix(h));
    }

    private static long mix(long z) { // SplitMix64's finalizer
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
