package org.blipjava.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import jdk.incubator.vector.FloatVector;

/** What the benchmark ran on. */
final class Machine {
    private Machine() {}

    /** The CPU's model name from /proc/cpuinfo, or the OS architecture. */
    static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        return System.getProperty("os.arch");
    }

    /** Width of the vector species the kernels use. */
    static int vectorBits() {
        return FloatVector.SPECIES_PREFERRED.vectorBitSize();
    }
}
