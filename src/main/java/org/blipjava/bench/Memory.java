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

    /**
     * Asks glibc to return freed native memory to the system ({@code malloc_trim(0)}), so the
     * random weights' freed buffers do not count as resident; a no-op without glibc.
     */
    static void trimNative() {
        try {
            java.lang.foreign.Linker linker = java.lang.foreign.Linker.nativeLinker();
            var sym = linker.defaultLookup().find("malloc_trim");
            if (sym.isPresent()) {
                int ignored = (int) linker.downcallHandle(sym.get(), java.lang.foreign.FunctionDescriptor.of(
                        java.lang.foreign.ValueLayout.JAVA_INT, java.lang.foreign.ValueLayout.JAVA_LONG))
                        .invokeExact(0L);
            }
        } catch (Throwable t) {
            // only a measurement detail
        }
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
