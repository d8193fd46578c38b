package org.blipjava.bench;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * A/B timing of two builds of the library in one process (not a test): each build's classes are
 * loaded by their own class loader, and rounds alternate between them, so load from other jobs on
 * a shared machine hits both alike. Usage: {@code AbProbe CLASSES_A CLASSES_B LIB_DIR TEST_CLASSES
 * [rounds] [threads]}.
 */
public final class AbProbe {
    private AbProbe() {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 4 ? Integer.parseInt(args[4]) : 4;
        int threads = args.length > 5 ? Integer.parseInt(args[5]) : 2;
        List<URL> libs = new ArrayList<>();
        try (var files = java.nio.file.Files.list(Path.of(args[2]))) {
            for (Path f : files.toList()) {
                libs.add(f.toUri().toURL());
            }
        }
        @SuppressWarnings("unchecked")
        Supplier<double[]>[] s = new Supplier[2];
        String[] names = {"A", "B"};
        for (int i = 0; i < 2; i++) {
            List<URL> urls = new ArrayList<>(List.of(Path.of(args[3]).toUri().toURL(), Path.of(args[i]).toUri().toURL()));
            urls.addAll(libs);
            ClassLoader cl = new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader());
            @SuppressWarnings("unchecked")
            Supplier<double[]> sup = (Supplier<double[]>) cl.loadClass("org.blipjava.bench.PerfProbe")
                    .getMethod("session", int.class).invoke(null, threads);
            s[i] = sup;
            s[i].get(); // warm-up
        }
        double[][][] r = new double[2][rounds][];
        for (int k = 0; k < rounds; k++) {
            for (int j = 0; j < 2; j++) {
                int i = (k % 2 == 0) ? j : 1 - j;
                r[i][k] = s[i].get();
                System.out.printf("round %d %s: vision b1 %.3f s/img, b8 %.3f s/img, itc %.1f texts/s%n", k, names[i],
                        r[i][k][0], r[i][k][1], r[i][k][2]);
            }
        }
        String[] what = {"vision b1 s/img", "vision b8 s/img", "itc texts/s"};
        for (int m = 0; m < 3; m++) {
            double[] a = new double[rounds];
            double[] b = new double[rounds];
            for (int k = 0; k < rounds; k++) {
                a[k] = r[0][k][m];
                b[k] = r[1][k][m];
            }
            Arrays.sort(a);
            Arrays.sort(b);
            System.out.printf("%s: A median %.3f, B median %.3f%n", what[m], a[rounds / 2], b[rounds / 2]);
        }
    }
}
