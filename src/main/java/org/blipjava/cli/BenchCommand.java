package org.blipjava.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.blipjava.bench.BenchShapes;
import org.blipjava.bench.Benchmark;
import org.blipjava.bench.ReportFormat;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code blip bench}: speed and memory on a BLIP-base-shaped model with random weights. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Times the vision encoder, captioning (greedy and beam), ITM and ITC on a model with BLIP-base"
                + " shapes, CLIP ViT-B/32 image embeddings (batch 8, 224x224), both with seeded random weights (no"
                + " download), and matrix products next to OpenBLAS sgemm.",
            "With --torch, runs the PyTorch baseline script in the same run so every figure is a ratio.",
            "Progress goes to stderr, the table (or --json) to stdout."})
final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--threads", paramLabel = "N", description = "Threads for Java, OpenBLAS and PyTorch (default: all cores).")
    Integer threads;

    @Option(names = "--repeat", paramLabel = "N", defaultValue = "5",
            description = "Timed runs per figure after one warm-up (default: ${DEFAULT-VALUE}).")
    int repeat;

    @Option(names = "--quick", description = "Tiny shapes, for a smoke test (seconds).")
    boolean quick;

    @Option(names = "--only", split = ",", paramLabel = "PART",
            description = "Run only these parts: matmul, caption, retrieval, clip (comma-separated;"
                    + " default: all).")
    java.util.List<String> only;

    @Option(names = "--dtype", defaultValue = "f32", paramLabel = "DTYPE",
            description = "Weight storage of the models: f32, bf16 or int8 (float32 accumulation; default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--json", description = "Print the report as JSON (every run's value included).")
    boolean json;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the random weights and inputs.")
    long seed;

    @Option(names = "--torch", description = "Also run the PyTorch baseline (bench/torch_baseline.py).")
    boolean torch;

    @Option(names = "--python", defaultValue = "/usr/bin/python3", paramLabel = "PYTHON",
            description = "Python with torch for --torch (default: ${DEFAULT-VALUE}).")
    String python;

    @Option(names = "--torch-script", paramLabel = "FILE",
            description = "The baseline script (default: the copy of bench/torch_baseline.py built into blip).")
    Path torchScript;

    @Override
    public Integer call() {
        int t = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        if (t < 1 || repeat < 1) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--threads and --repeat must be at least 1");
        }
        Benchmark.Options options = new Benchmark.Options(quick ? BenchShapes.quick() : BenchShapes.base(), t,
                repeat, seed, torch, python, torchScript,
                sections(), precision());
        PrintWriter err = spec.commandLine().getErr();
        Benchmark.Report report = Benchmark.run(options, err);
        PrintWriter out = spec.commandLine().getOut();
        out.print(json ? ReportFormat.json(report) + System.lineSeparator() : ReportFormat.markdown(report));
        out.flush();
        return 0;
    }

    private org.blipjava.tensor.WeightPrecision precision() {
        try {
            return org.blipjava.tensor.WeightPrecision.parse(dtype);
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--dtype: " + e.getMessage());
        }
    }

    private java.util.Set<Benchmark.Section> sections() {
        if (only == null || only.isEmpty()) {
            return java.util.EnumSet.allOf(Benchmark.Section.class);
        }
        java.util.Set<Benchmark.Section> s = java.util.EnumSet.noneOf(Benchmark.Section.class);
        for (String part : only) {
            try {
                s.add(Benchmark.Section.valueOf(part.trim().toUpperCase(java.util.Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--only: unknown part '" + part
                        + "'; expected matmul, caption, retrieval or clip");
            }
        }
        return s;
    }
}
