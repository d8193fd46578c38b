package org.blipjava.capfilt;

import java.util.Objects;

/**
 * The filter's verdict on one caption of one image.
 *
 * @param caption the caption text
 * @param source whether it came with the image or the captioner wrote it
 * @param itm the filter's ITM match probability
 * @param itc the filter's ITC cosine similarity
 * @param kept whether the caption is in the output dataset
 * @param truncated whether the caption was longer than the filter reads and was scored on its
 *     first tokens only (the caption itself is kept whole)
 */
public record Decision(String caption, Source source, float itm, float itc, boolean kept, boolean truncated) {
    /** Where a caption came from. */
    public enum Source {
        /** The caption the input dataset gave the image. */
        WEB,
        /** A caption the captioner sampled. */
        SYNTHETIC;

        /** The lower-case name written to decisions.jsonl. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public Decision {
        Objects.requireNonNull(caption, "caption");
        Objects.requireNonNull(source, "source");
    }
}
