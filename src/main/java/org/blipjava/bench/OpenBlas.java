package org.blipjava.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * OpenBLAS {@code cblas_sgemm} called through the foreign function API: the yardstick the
 * benchmark holds the Java matrix product against. Owns the library's arena; close it when done.
 */
public final class OpenBlas implements AutoCloseable {
    private static final int ROW_MAJOR = 101;
    private static final int NO_TRANS = 111;
    private static final int TRANS = 112;
    /** Where Debian's libopenblas0-pthread installs the library. */
    private static final List<String> CANDIDATES = List.of(
            "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
            "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
            "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
            "/usr/lib64/libopenblas.so.0");

    private final Arena arena;
    private final MethodHandle sgemm;
    private final Path library;

    private OpenBlas(Arena arena, MethodHandle sgemm, Path library) {
        this.arena = arena;
        this.sgemm = sgemm;
        this.library = library;
    }

    /**
     * Loads OpenBLAS (the path in {@code BLIP_OPENBLAS}, else Debian's locations) and sets its
     * thread count; empty when no library is found.
     */
    public static Optional<OpenBlas> load(int threads) {
        String env = System.getenv("BLIP_OPENBLAS");
        List<String> paths = env != null && !env.isBlank() ? List.of(env) : CANDIDATES;
        for (String p : paths) {
            Path path = Path.of(p);
            if (!Files.isReadable(path)) {
                continue;
            }
            Arena arena = Arena.ofShared();
            try {
                SymbolLookup lib = SymbolLookup.libraryLookup(path, arena);
                Linker linker = Linker.nativeLinker();
                MethodHandle gemm = linker.downcallHandle(lib.find("cblas_sgemm").orElseThrow(),
                        FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_FLOAT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                                ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_FLOAT,
                                ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
                lib.find("openblas_set_num_threads").ifPresent(sym -> {
                    try {
                        linker.downcallHandle(sym, FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT)).invokeExact(threads);
                    } catch (Throwable t) {
                        throw new IllegalStateException("openblas_set_num_threads failed", t);
                    }
                });
                return Optional.of(new OpenBlas(arena, gemm, path));
            } catch (RuntimeException e) {
                arena.close();
            }
        }
        return Optional.empty();
    }

    /** The library file in use. */
    public Path library() {
        return library;
    }

    /**
     * {@code C = A W^T} as {@code nn.Linear} without bias: A {@code [m, k]}, W {@code [n, k]},
     * C {@code [m, n]}, all row-major float32 in native memory.
     */
    public void linear(MemorySegment a, MemorySegment w, MemorySegment c, int m, int k, int n) {
        try {
            sgemm.invokeExact(ROW_MAJOR, NO_TRANS, TRANS, m, n, k, 1f, a, k, w, k, 0f, c, n);
        } catch (Throwable t) {
            throw new IllegalStateException("cblas_sgemm failed", t);
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
