package org.blipjava.capfilt;

import java.util.Objects;

/**
 * Input that CapFilt did not use, and why: a tar member (a link, a name that leaves the folder,
 * captions without an image) or the unreadable rest of a damaged shard. Written to the part
 * files beside the image it was met with, so that a resumed run reports it exactly once, and
 * from there to {@code decisions.jsonl}, the report and the summary's counts.
 *
 * @param shard the shard file's name
 * @param member the member's name, or null for an unreadable part of the shard
 * @param reason why it was not used
 * @param unreadable true when data could not be read (an input failure), false when it was read
 *     and set aside
 */
public record Skipped(String shard, String member, String reason, boolean unreadable) {
    public Skipped {
        Objects.requireNonNull(shard, "shard");
        Objects.requireNonNull(reason, "reason");
    }

    /** One line for the console: {@code shard: member skipped: reason}, or {@code shard: reason}. */
    public String describe() {
        return shard + ": " + (member == null ? "" : member + " skipped: ") + reason;
    }
}
