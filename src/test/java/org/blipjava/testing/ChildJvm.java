package org.blipjava.testing;

import java.util.ArrayList;
import java.util.List;

/**
 * The command line of a fresh JVM running a main class from this test run's class path, with the
 * project's JVM flags: for tests that must kill a process, or measure something (allocations per
 * step) that the JIT state left behind by hundreds of earlier tests in the same JVM would blur.
 */
public final class ChildJvm {
    private ChildJvm() {}

    /** {@code java <flags> -Xmx1g -cp <this class path> mainClass args...}. */
    public static List<String> command(Class<?> mainClass, List<String> args) {
        return command(mainClass, "1g", args);
    }

    /** The same with the heap limited to {@code maxHeap} (an {@code -Xmx} size such as {@code 256m}). */
    public static List<String> command(Class<?> mainClass, String maxHeap, List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC",
                "-Xmx" + maxHeap, "-cp", System.getProperty("java.class.path"), mainClass.getName()));
        cmd.addAll(args);
        return cmd;
    }
}
