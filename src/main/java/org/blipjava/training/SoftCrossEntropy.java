package org.blipjava.training;

/** Cross-entropy against soft target distributions, the loss of BLIP's momentum-distilled ITC. */
final class SoftCrossEntropy {
    private SoftCrossEntropy() {}

    /**
     * {@code mean over rows of -sum_i targets[r,i] * log_softmax(logits[r])_i}.
     *
     * @param targets [rows, n]; each row a distribution (sums to 1), treated as a constant
     */
    static Tensor loss(Tape t, Tensor logits, int rows, int n, float[] targets) {
        if (logits.size() != rows * n || targets.length != rows * n) {
            throw new IllegalArgumentException("soft cross-entropy needs [" + rows + ", " + n + "] logits and targets, got "
                    + logits.size() + " and " + targets.length);
        }
        float[] x = logits.data();
        double[] lse = new double[rows];
        double total = 0;
        for (int r = 0; r < rows; r++) {
            int off = r * n;
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                max = Math.max(max, x[off + i]);
            }
            double sum = 0;
            for (int i = 0; i < n; i++) {
                sum += Math.exp(x[off + i] - max);
            }
            lse[r] = max + Math.log(sum);
            for (int i = 0; i < n; i++) {
                total -= targets[off + i] * (x[off + i] - lse[r]);
            }
        }
        Tensor res = new Tensor(new float[] {(float) (total / rows)}, logits.requiresGrad(), 1);
        if (logits.requiresGrad()) {
            t.record(() -> {
                double g = res.grad()[0] / rows;
                float[] gx = logits.grad();
                for (int r = 0; r < rows; r++) {
                    int off = r * n;
                    double mass = 0;
                    for (int i = 0; i < n; i++) {
                        mass += targets[off + i];
                    }
                    for (int i = 0; i < n; i++) {
                        double p = Math.exp(x[off + i] - lse[r]);
                        gx[off + i] += (float) (g * (mass * p - targets[off + i]));
                    }
                }
            });
        }
        return res;
    }
}
