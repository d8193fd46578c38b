package org.blipjava.tasks;

import java.util.Objects;
import org.blipjava.hub.DownloadListener;
import org.blipjava.tensor.WeightPrecision;

/**
 * How {@link Blip#load(String, LoadOptions)} finds and runs a model.
 *
 * @param revision Hub revision (branch, tag or commit) when the model is a Hub id; null for {@code main}
 * @param threads  compute threads; 0 for one per available core
 * @param listener  told about Hub downloads (for a progress bar); null for none
 * @param precision how the transformers' weights are stored in memory: float32 (exact), bfloat16
 *                  or int8 (less memory and faster decoding, at a measured accuracy cost; see the
 *                  README); products always accumulate in float32
 */
public record LoadOptions(String revision, int threads, DownloadListener listener, WeightPrecision precision) {
    public LoadOptions {
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be 0 (all cores) or positive, got " + threads);
        }
        Objects.requireNonNull(precision, "precision");
    }

    /** Main revision, all cores, no download listener, float32 weights. */
    public static LoadOptions defaults() {
        return new LoadOptions(null, 0, null, WeightPrecision.F32);
    }

    public LoadOptions withRevision(String revision) {
        return new LoadOptions(revision, threads, listener, precision);
    }

    public LoadOptions withThreads(int threads) {
        return new LoadOptions(revision, threads, listener, precision);
    }

    public LoadOptions withListener(DownloadListener listener) {
        return new LoadOptions(revision, threads, listener, precision);
    }

    public LoadOptions withPrecision(WeightPrecision precision) {
        return new LoadOptions(revision, threads, listener, precision);
    }

    /** The thread count to use: {@link #threads()} or the number of available cores. */
    int effectiveThreads() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }
}
