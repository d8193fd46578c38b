package org.blipjava.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.blipjava.config.BlipConfig;

/** Runs {@code bench/torch_baseline.py} as a subprocess with the same shapes and threads, and reads its JSON. */
final class TorchBaseline {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The baseline's figures by metric key, and its notes. */
    record Result(Map<String, Stats> metrics, List<String> notes) {}

    private TorchBaseline() {}

    static Result run(Benchmark.Options options, PrintWriter progress) {
        if (!Files.isRegularFile(options.torchScript())) {
            throw new IllegalArgumentException("PyTorch baseline script " + options.torchScript()
                    + " not found; run from the repository root or pass --torch-script");
        }
        List<String> cmd = List.of(options.python(), options.torchScript().toString(),
                "--threads", Integer.toString(options.threads()), "--repeat", Integer.toString(options.repeat()),
                "--seed", Long.toString(options.seed()), "--shapes", shapesJson(options.shapes()));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        String t = Integer.toString(options.threads());
        pb.environment().put("OMP_NUM_THREADS", t);
        pb.environment().put("OPENBLAS_NUM_THREADS", t);
        pb.environment().put("MKL_NUM_THREADS", t);
        String stdout;
        int code;
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            Thread err = Thread.ofVirtual().start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        progress.println(line);
                        progress.flush();
                    }
                } catch (IOException ignored) {
                    // the process ended
                }
            });
            stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            code = p.waitFor();
            err.join();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + options.python() + " for the PyTorch baseline ("
                    + e.getMessage() + "); install python3-torch or pass --python", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the PyTorch baseline ran", e);
        }
        if (code != 0) {
            throw new IllegalStateException("the PyTorch baseline (" + String.join(" ", cmd.subList(0, 2))
                    + ") exited with status " + code + "; its messages are above");
        }
        return parse(stdout);
    }

    static Result parse(String stdout) {
        String[] lines = stdout.strip().split("\n");
        JsonNode root;
        try {
            root = JSON.readTree(lines[lines.length - 1]);
        } catch (IOException e) {
            throw new IllegalStateException("the PyTorch baseline printed no JSON result: " + e.getMessage(), e);
        }
        Map<String, Stats> metrics = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = root.path("metrics").properties().iterator();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            double[] v = new double[e.getValue().size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = e.getValue().get(i).asDouble();
            }
            if (v.length > 0) {
                metrics.put(e.getKey(), new Stats(v));
            }
        }
        List<String> notes = new ArrayList<>();
        root.path("notes").forEach(n -> notes.add(n.asText()));
        return new Result(metrics, notes);
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
        return o.toString();
    }
}
