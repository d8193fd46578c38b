package org.blipjava.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resident memory of this process from Linux's {@code /proc/self}; NaN where unavailable. */
final class Memory {
    private Memory() {}

    /** Peak resident set size (VmHWM) in MB. */
    static double peakMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }

    /** Restarts the peak from the current resident size (writing 5 to clear_refs, Linux 4.0+). */
    static void resetPeak() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        } catch (IOException | RuntimeException e) {
            // Without it the peak includes loading; the figure stays an upper bound.
        }
    }
}
