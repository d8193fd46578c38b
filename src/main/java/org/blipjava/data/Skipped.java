package org.blipjava.data;

import java.util.Objects;

/**
 * A dataset entry that was left out, and why.
 *
 * @param entry what the entry is (an image path, or the file and line/index)
 * @param reason why it was left out, e.g. "image file not found"
 */
public record Skipped(String entry, String reason) {
    public Skipped {
        Objects.requireNonNull(entry, "entry");
        Objects.requireNonNull(reason, "reason");
    }
}
