package org.blipjava.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.blipjava.config.BlipConfig;
import org.blipjava.config.ClipTextConfig;
import org.blipjava.config.ClipVisionConfig;

/**
 * {@code bench/torch_baseline.py --serve} as a subprocess that runs one workload per request.
 *
 * <p>The Java benchmark alternates these runs with its own, so on a shared machine both sides are
 * timed in the same moments: running the whole baseline minutes after the Java half made the
 * ratios depend on whatever else the machine did in between. The script times each run itself,
 * so the pipe's latency is not counted.
 */
final class TorchBaseline implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final BufferedReader replies;
    private final Writer requests;
    private final Thread stderrPump;
    private final List<String> notes = new ArrayList<>();
    private final String command;

    private TorchBaseline(Process process, String command, PrintWriter progress) {
        this.process = process;
        this.command = command;
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
        if (!Files.isRegularFile(options.torchScript())) {
            throw new IllegalArgumentException("PyTorch baseline script " + options.torchScript()
                    + " not found; run from the repository root or pass --torch-script");
        }
        List<String> cmd = List.of(options.python(), options.torchScript().toString(), "--serve",
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
            throw new IllegalStateException("cannot start " + options.python() + " for the PyTorch baseline ("
                    + e.getMessage() + "); install python3-torch or pass --python", e);
        }
        TorchBaseline b = new TorchBaseline(p, options.python() + " " + options.torchScript(), progress);
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
