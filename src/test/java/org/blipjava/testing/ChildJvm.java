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

    /** {@code java <flags> -cp <this class path> mainClass args...}. */
    public static List<String> command(Class<?> mainClass, List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC",
                "-Xmx1g", "-cp", System.getProperty("java.class.path"), mainClass.getName()));
        cmd.addAll(args);
        return cmd;
    }
}
