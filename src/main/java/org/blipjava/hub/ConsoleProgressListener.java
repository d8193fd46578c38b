package org.blipjava.hub;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** Shows one progress bar per downloaded file on a console stream (normally stderr). */
public final class ConsoleProgressListener implements DownloadListener {
    private final PrintStream out;
    private ProgressBar bar; // guarded by this

    /** A listener drawing on {@code out}. */
    public ConsoleProgressListener(PrintStream out) {
        this.out = Objects.requireNonNull(out, "out");
    }

    /**
     * A listener for stderr when stderr is a terminal or {@code force} is true; otherwise
     * {@link DownloadListener#NONE}, so that logs and pipes stay free of bar redraws.
     */
    public static DownloadListener forStderr(boolean force) {
        return force || stderrIsTerminal() ? new ConsoleProgressListener(System.err) : DownloadListener.NONE;
    }

    /** Whether stderr is an interactive terminal, as far as the JVM can tell. */
    public static boolean stderrIsTerminal() {
        Path fd2 = Path.of("/proc/self/fd/2");
        if (Files.isSymbolicLink(fd2)) {
            try {
                String target = Files.readSymbolicLink(fd2).toString();
                return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
            } catch (IOException | UnsupportedOperationException e) {
                return false;
            }
        }
        // Elsewhere only the console as a whole can be asked about.
        return System.console() != null && System.console().isTerminal();
    }

    @Override
    public synchronized void start(String file, long totalBytes) {
        closeBar();
        bar = new ProgressBarBuilder()
                .setTaskName(file)
                .setInitialMax(totalBytes) // -1: size unknown, an indefinite bar
                .setStyle(ProgressBarStyle.ASCII)
                .setUnit("MiB", 1L << 20)
                .showSpeed()
                .setUpdateIntervalMillis(250)
                .setConsumer(new ConsoleProgressBarConsumer(out))
                .build();
    }

    @Override
    public synchronized void progress(long bytesSoFar) {
        if (bar != null) {
            bar.stepTo(bytesSoFar);
        }
    }

    @Override
    public synchronized void done() {
        closeBar();
    }

    private void closeBar() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }
}
