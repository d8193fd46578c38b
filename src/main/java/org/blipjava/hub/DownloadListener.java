package org.blipjava.hub;

/**
 * Observes file downloads. Calls for one file come in order {@code start}, {@code progress}*,
 * {@code done}, all on the thread that called {@code resolve}; progress is reported a few times a
 * second and once at the end. One resolve downloads its files one after another; a listener shared
 * by concurrent resolves must be thread-safe.
 */
public interface DownloadListener {
    /** A listener that ignores everything. */
    DownloadListener NONE = new DownloadListener() {
        @Override
        public void start(String file, long totalBytes) {}

        @Override
        public void progress(long bytesSoFar) {}

        @Override
        public void done() {}
    };

    /**
     * A download begins.
     *
     * @param file the file's path inside the repository
     * @param totalBytes its size, or -1 when the server did not say
     */
    void start(String file, long totalBytes);

    /**
     * Bytes of the file now on disk, counting a resumed partial download; never decreases
     * except when a server ignores a resume request and the download starts over.
     */
    void progress(long bytesSoFar);

    /** The download of the file started last ended, successfully or not. */
    void done();
}
