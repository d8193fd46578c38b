package org.blipjava.report;

import java.util.Random;

/**
 * Exact t-SNE (van der Maaten and Hinton 2008) for the few hundred or thousand points of an
 * embedding map: Gaussian affinities calibrated to a perplexity, Student-t affinities in 2-D,
 * gradient descent with early exaggeration, momentum and per-coordinate gains. O(n^2) time and
 * memory. Written here because the maintained JVM implementation (Smile) is GPL-3.0.
 * Deterministic for a given seed.
 */
public final class Tsne {
    private Tsne() {}

    /**
     * Settings.
     *
     * @param perplexity effective number of neighbours (lowered to (n - 1) / 3 for small sets)
     * @param iterations gradient steps
     * @param seed random seed of the initial layout
     */
    public record Options(double perplexity, int iterations, long seed) {
        public Options {
            if (!(perplexity > 0) || iterations < 1) {
                throw new IllegalArgumentException("t-SNE needs perplexity > 0 and iterations >= 1, got "
                        + perplexity + ", " + iterations);
            }
        }

        /** Perplexity 30, 1000 iterations, seed 42. */
        public static Options defaults() {
            return new Options(30, 1000, 42);
        }
    }

    /**
     * Embeds the rows of {@code x} in two dimensions.
     *
     * @param x n points of equal dimension
     * @return n points [x, y]
     */
    public static double[][] embed(float[][] x, Options o) {
        int n = x.length;
        double[][] y = new double[n][2];
        if (n <= 1) {
            return y;
        }
        if (n == 2) {
            y[0][0] = -1;
            y[1][0] = 1;
            return y;
        }
        double[] p = affinities(x, Math.max(1.0, Math.min(o.perplexity(), (n - 1) / 3.0)));
        Random rnd = new Random(o.seed());
        for (double[] row : y) {
            row[0] = rnd.nextGaussian() * 1e-4;
            row[1] = rnd.nextGaussian() * 1e-4;
        }
        double[][] update = new double[n][2];
        double[][] gains = new double[n][2];
        for (double[] gRow : gains) {
            gRow[0] = 1;
            gRow[1] = 1;
        }
        double eta = Math.max(n / 12.0, 50);
        int exaggerated = Math.min(250, o.iterations() / 4);
        double[] num = new double[n * n];
        double[][] grad = new double[n][2];
        for (int it = 0; it < o.iterations(); it++) {
            double exaggeration = it < exaggerated ? 12 : 1;
            double momentum = it < exaggerated ? 0.5 : 0.8;
            double sum = 0;
            for (int i = 0; i < n; i++) {
                for (int j = i + 1; j < n; j++) {
                    double dx = y[i][0] - y[j][0];
                    double dy = y[i][1] - y[j][1];
                    double v = 1 / (1 + dx * dx + dy * dy);
                    num[i * n + j] = v;
                    num[j * n + i] = v;
                    sum += 2 * v;
                }
            }
            for (int i = 0; i < n; i++) {
                double gx = 0;
                double gy = 0;
                for (int j = 0; j < n; j++) {
                    if (j == i) {
                        continue;
                    }
                    double v = num[i * n + j];
                    double q = Math.max(v / sum, 1e-12);
                    double m = (exaggeration * p[i * n + j] - q) * v;
                    gx += m * (y[i][0] - y[j][0]);
                    gy += m * (y[i][1] - y[j][1]);
                }
                grad[i][0] = 4 * gx;
                grad[i][1] = 4 * gy;
            }
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < 2; k++) {
                    // Gains grow where the gradient keeps its sign against the last step, shrink where it flips.
                    boolean same = Math.signum(grad[i][k]) == Math.signum(update[i][k]);
                    gains[i][k] = Math.max(0.01, same ? gains[i][k] * 0.8 : gains[i][k] + 0.2);
                    update[i][k] = momentum * update[i][k] - eta * gains[i][k] * grad[i][k];
                    y[i][k] += update[i][k];
                }
            }
            double mx = 0;
            double my = 0;
            for (double[] row : y) {
                mx += row[0];
                my += row[1];
            }
            for (double[] row : y) {
                row[0] -= mx / n;
                row[1] -= my / n;
            }
        }
        return y;
    }

    /** Symmetric joint probabilities P (flattened n x n) with each row's perplexity calibrated by bisection. */
    static double[] affinities(float[][] x, double perplexity) {
        int n = x.length;
        double[] d2 = new double[n * n];
        for (int i = 0; i < n; i++) {
            if (x[i].length != x[0].length) {
                throw new IllegalArgumentException("point " + i + " has " + x[i].length + " dimensions, point 0 has "
                        + x[0].length);
            }
            for (int j = i + 1; j < n; j++) {
                double s = 0;
                for (int k = 0; k < x[i].length; k++) {
                    double dd = x[i][k] - x[j][k];
                    s += dd * dd;
                }
                d2[i * n + j] = s;
                d2[j * n + i] = s;
            }
        }
        double target = Math.log(perplexity);
        double[] cond = new double[n * n];
        for (int i = 0; i < n; i++) {
            double beta = 1;
            double lo = 0;
            double hi = Double.POSITIVE_INFINITY;
            for (int step = 0; step < 100; step++) {
                // Subtract the smallest distance first so exp() does not underflow for far-apart data.
                double minD = Double.POSITIVE_INFINITY;
                for (int j = 0; j < n; j++) {
                    if (j != i) {
                        minD = Math.min(minD, d2[i * n + j]);
                    }
                }
                double sum = 0;
                double weighted = 0;
                for (int j = 0; j < n; j++) {
                    if (j == i) {
                        cond[i * n + j] = 0;
                        continue;
                    }
                    double v = Math.exp(-(d2[i * n + j] - minD) * beta);
                    cond[i * n + j] = v;
                    sum += v;
                    weighted += (d2[i * n + j] - minD) * v;
                }
                double entropy = Math.log(sum) + beta * weighted / sum;
                for (int j = 0; j < n; j++) {
                    cond[i * n + j] /= sum;
                }
                double diff = entropy - target;
                if (Math.abs(diff) < 1e-5) {
                    break;
                }
                if (diff > 0) {
                    lo = beta;
                    beta = hi == Double.POSITIVE_INFINITY ? beta * 2 : (beta + hi) / 2;
                } else {
                    hi = beta;
                    beta = (beta + lo) / 2;
                }
            }
        }
        double[] p = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                p[i * n + j] = Math.max((cond[i * n + j] + cond[j * n + i]) / (2.0 * n), 1e-12);
            }
        }
        return p;
    }
}
