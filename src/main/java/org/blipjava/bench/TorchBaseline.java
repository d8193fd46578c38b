package org.blipjava.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.blipjava.config.BlipConfig;
import org.blipjava.config.ClipTextConfig;
import org.blipjava.config.ClipVisionConfig;

/**
 * {@code bench/torch_baseline.py --serve} as a subprocess that runs one workload per request.
 *
 * <p>The build copies the script into the jar ({@link #BUILT_IN}); without {@code --torch-script}
 * that copy is written to a temporary file for the run, so the command works from any directory.
 *
 * <p>The Java benchmark alternates these runs with its own, so on a shared machine both sides are
 * timed in the same moments: running the whole baseline minutes after the Java half made the
 * ratios depend on whatever else the machine did in between. The script times each run itself,
 * so the pipe's latency is not counted.
 */
final class TorchBaseline implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The class-path resource, beside this class, that the build copies {@code bench/torch_baseline.py} to. */
    static final String BUILT_IN = "torch_baseline.py";

    private final Process process;
    private final BufferedReader replies;
    private final Writer requests;
    private final Thread stderrPump;
    private final List<String> notes = new ArrayList<>();
    private final String command;
    /** The temporary copy of the built-in script this run executes, deleted on close; null for --torch-script. */
    private final Path extracted;

    private TorchBaseline(Process process, String command, PrintWriter progress, Path extracted) {
        this.process = process;
        this.command = command;
        this.extracted = extracted;
        this.replies = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        this.requests = new java.io.OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        this.stderrPump = Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getErrorStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (progress) {
                        progress.println(line);
                        progress.flush();
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            }
        });
    }

    /**
     * Starts the baseline with the benchmark's shapes, seed and thread count, and waits until it
     * has built its vision tower and says it is ready.
     */
    static TorchBaseline start(Benchmark.Options options, PrintWriter progress) {
        checkScript(options);
        Path extracted = null;
        Path script = options.torchScript();
        if (script == null) {
            try {
                script = extracted = extract();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the PyTorch baseline script to a temporary file ("
                        + e.getMessage() + ")", e);
            }
        }
        List<String> cmd = List.of(options.python(), script.toString(), "--serve",
                "--threads", Integer.toString(options.threads()), "--seed", Long.toString(options.seed()),
                "--shapes", shapesJson(options.shapes()));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        String t = Integer.toString(options.threads());
        pb.environment().put("OMP_NUM_THREADS", t);
        pb.environment().put("OPENBLAS_NUM_THREADS", t);
        pb.environment().put("MKL_NUM_THREADS", t);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            deleteQuietly(extracted);
            throw new IllegalStateException("cannot start " + options.python() + " for the PyTorch baseline ("
                    + e.getMessage() + "); install python3-torch or pass --python", e);
        }
        TorchBaseline b = new TorchBaseline(p, options.python() + " " + describe(options), progress, extracted);
        try {
            JsonNode ready = b.reply("start-up");
            if (!ready.path("ready").asBoolean()) {
                throw new IllegalStateException("the PyTorch baseline (" + b.command + ") did not say it was ready: "
                        + ready);
            }
            ready.path("notes").forEach(n -> b.notes.add(n.asText()));
            return b;
        } catch (RuntimeException e) {
            b.close();
            throw e;
        }
    }

    /**
     * Fails fast when the baseline script cannot be had: a --torch-script that does not exist, or a
     * jar built without the script.
     */
    static void checkScript(Benchmark.Options options) {
        if (options.torchScript() != null) {
            if (!Files.isRegularFile(options.torchScript())) {
                throw new IllegalArgumentException("--torch-script " + options.torchScript() + ": no such file;"
                        + " leave the option out to run the baseline built into blip");
            }
        } else if (TorchBaseline.class.getResource(BUILT_IN) == null) {
            throw new IllegalStateException("the PyTorch baseline script is not built into this blip ("
                    + BUILT_IN + " is not on the class path); rebuild with ./mvnw -DskipTests package, or pass"
                    + " --torch-script bench/torch_baseline.py");
        }
    }

    /** The script the options name, for messages. */
    static String describe(Benchmark.Options options) {
        return options.torchScript() == null ? "bench/torch_baseline.py, built in" : options.torchScript().toString();
    }

    /** Writes the built-in script to a temporary file. */
    private static Path extract() throws IOException {
        Path tmp = Files.createTempFile("blip-torch_baseline-", ".py");
        try (InputStream in = TorchBaseline.class.getResourceAsStream(BUILT_IN)) {
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(tmp);
            throw e;
        }
        // Should this JVM end without closing the baseline, the copy still goes.
        tmp.toFile().deleteOnExit();
        return tmp;
    }

    private static void deleteQuietly(Path file) {
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // a temporary file; deleteOnExit tries again
            }
        }
    }

    /** What the baseline reported about itself (version, threads, BLAS). */
    List<String> notes() {
        return List.copyOf(notes);
    }

    /**
     * Runs one workload in the baseline and returns its value: seconds for timed workloads, MB for
     * {@code peak_rss_mb}.
     *
     * @throws IllegalStateException when the baseline reports an error or has exited
     */
    double run(String op) {
        ObjectNode req = JSON.createObjectNode();
        req.put("op", op);
        try {
            requests.write(req.toString());
            requests.write('\n');
            requests.flush();
        } catch (IOException e) {
            throw new IllegalStateException("the PyTorch baseline (" + command + ") stopped reading requests ("
                    + e.getMessage() + "); its messages are above", e);
        }
        JsonNode r = reply(op);
        if (r.has("error")) {
            throw new IllegalStateException("the PyTorch baseline failed on '" + op + "': " + r.path("error").asText());
        }
        if (!r.path("value").isNumber()) {
            throw new IllegalStateException("the PyTorch baseline answered '" + op + "' without a number: " + r);
        }
        return r.path("value").asDouble();
    }

    private JsonNode reply(String what) {
        String line;
        try {
            line = replies.readLine();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the PyTorch baseline's answer to '" + what + "': "
                    + e.getMessage(), e);
        }
        if (line == null) {
            throw new IllegalStateException("the PyTorch baseline (" + command + ") exited during '" + what
                    + "'" + exitStatus() + "; its messages are above");
        }
        try {
            return JSON.readTree(line);
        } catch (IOException e) {
            throw new IllegalStateException("the PyTorch baseline answered '" + what + "' with a line that is not"
                    + " JSON: " + line, e);
        }
    }

    private String exitStatus() {
        try {
            if (process.waitFor(5, TimeUnit.SECONDS)) {
                return " with status " + process.exitValue();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return "";
    }

    /** Asks the baseline to quit, and ends it if it does not within ten seconds. */
    @Override
    public void close() {
        try {
            requests.write("{\"op\": \"quit\"}\n");
            requests.flush();
            requests.close();
        } catch (IOException ignored) {
            // already gone
        }
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            stderrPump.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        } finally {
            deleteQuietly(extracted);
        }
    }

    /** The shapes as the script's {@code --shapes} JSON. */
    static String shapesJson(BenchShapes s) {
        BlipConfig c = s.config();
        ObjectNode o = JSON.createObjectNode();
        o.put("vision_layers", c.vision().numHiddenLayers());
        o.put("vision_width", c.vision().hiddenSize());
        o.put("vision_inter", c.vision().intermediateSize());
        o.put("vision_heads", c.vision().numAttentionHeads());
        o.put("image", c.vision().imageSize());
        o.put("patch", c.vision().patchSize());
        o.put("text_layers", c.text().numHiddenLayers());
        o.put("text_width", c.text().hiddenSize());
        o.put("text_inter", c.text().intermediateSize());
        o.put("text_heads", c.text().numAttentionHeads());
        o.put("vocab", c.text().vocabSize());
        o.put("max_positions", c.text().maxPositionEmbeddings());
        o.put("embed", c.imageTextHiddenSize());
        o.put("caption_tokens", s.captionTokens());
        o.put("beams", s.beams());
        o.put("itm_texts", s.itmTexts());
        o.put("itc_texts", s.itcTexts());
        o.put("text_len", s.textLen());
        o.put("vision_batch", s.visionBatch());
        ClipVisionConfig cv = s.clip().config().vision();
        o.put("clip_vision_layers", cv.numHiddenLayers());
        o.put("clip_vision_width", cv.hiddenSize());
        o.put("clip_vision_inter", cv.intermediateSize());
        o.put("clip_vision_heads", cv.numAttentionHeads());
        o.put("clip_image", cv.imageSize());
        o.put("clip_patch", cv.patchSize());
        o.put("clip_act", cv.hiddenAct());
        o.put("clip_eps", cv.layerNormEps());
        ClipTextConfig ct = s.clip().config().text();
        o.put("clip_text_layers", ct.numHiddenLayers());
        o.put("clip_text_width", ct.hiddenSize());
        o.put("clip_text_inter", ct.intermediateSize());
        o.put("clip_vocab", ct.vocabSize());
        o.put("clip_text_positions", ct.maxPositionEmbeddings());
        o.put("clip_projection", s.clip().config().projectionDim());
        o.put("clip_batch", s.clip().batch());
        return o.toString();
    }
}
