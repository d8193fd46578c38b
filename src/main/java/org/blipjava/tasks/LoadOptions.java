package org.blipjava.tasks;

import org.blipjava.hub.DownloadListener;

/**
 * How {@link Blip#load(String, LoadOptions)} finds and runs a model.
 *
 * @param revision Hub revision (branch, tag or commit) when the model is a Hub id; null for {@code main}
 * @param threads  compute threads; 0 for one per available core
 * @param listener told about Hub downloads (for a progress bar); null for none
 */
public record LoadOptions(String revision, int threads, DownloadListener listener) {
    public LoadOptions {
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be 0 (all cores) or positive, got " + threads);
        }
    }

    /** Main revision, all cores, no download listener. */
    public static LoadOptions defaults() {
        return new LoadOptions(null, 0, null);
    }

    public LoadOptions withRevision(String revision) {
        return new LoadOptions(revision, threads, listener);
    }

    public LoadOptions withThreads(int threads) {
        return new LoadOptions(revision, threads, listener);
    }

    public LoadOptions withListener(DownloadListener listener) {
        return new LoadOptions(revision, threads, listener);
    }

    /** The thread count to use: {@link #threads()} or the number of available cores. */
    int effectiveThreads() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }
}
