package org.blipjava.training;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.blipjava.checkpoint.SafetensorsWriter;
import org.blipjava.config.BlipConfig;
import org.blipjava.config.BlipTextConfig;
import org.blipjava.config.BlipVisionConfig;

/**
 * Tiny BLIP models with freshly initialised weights, written as Hugging Face model folders
 * ({@code blip init --tiny}).
 *
 * <p>The shapes are those of the project's tiny test models (hidden size 32, two layers, 64-pixel
 * images of 16-pixel patches, bert-base-uncased's vocabulary plus BLIP's {@code [DEC]} and
 * {@code [ENC]}), so that tests which check how a model <em>learns</em> can start from a model
 * they make themselves instead of from whatever weights a fixture set holds. The weights are drawn
 * as the reference's {@code BlipPreTrainedModel._init_weights} and
 * {@code BlipTextPreTrainedModel._init_weights} draw them: linear, convolution and embedding
 * weights from normal(0, {@code initializer_range}), biases zero, layer norms weight 1 and bias 0,
 * the vision class and position embeddings from a normal truncated to [-2, 2] with the vision
 * config's {@code initializer_range} (1e-10 by the reference's default, so they start at
 * practically zero), the LM head's output bias zero and CLIP-style {@code logit_scale} at
 * {@code logit_scale_init_value}. The random numbers are not PyTorch's: a seed gives the same
 * folder every time here, not the same values as {@code torch.manual_seed}.
 *
 * <p>Each folder holds {@code config.json}, {@code model.safetensors} (the keys and shapes
 * {@code save_pretrained} writes for the head's class), {@code preprocessor_config.json}, the
 * tokenizer files and, for the generating heads, {@code generation_config.json}; it loads with
 * {@code Blip.load(dir)}, the trainer, and the reference's {@code from_pretrained}.
 */
public final class TinyModels {
    /** The seed {@code blip init} uses when none is given. */
    public static final long DEFAULT_SEED = 0;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** Where the tokenizer and image-processor files lie on the class path (see the README there). */
    private static final String RESOURCES = "/org/blipjava/training/tiny/";
    private static final List<String> TOKENIZER_FILES = List.of(
            "vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json");
    private static final String PREPROCESSOR = "preprocessor_config.json";

    private TinyModels() {}

    /** The model classes {@code blip init} can make, each under the folder name the fixture sets use. */
    public enum Head {
        /** {@code BlipForConditionalGeneration}: vision tower and text decoder with its LM head. */
        CAPTION("tiny-caption", "BlipForConditionalGeneration", true),
        /** {@code BlipForQuestionAnswering}: vision tower, question encoder and answer decoder. */
        VQA("tiny-vqa", "BlipForQuestionAnswering", true),
        /** {@code BlipForImageTextRetrieval}: vision tower, text encoder, ITC projections and ITM head. */
        ITM("tiny-itm", "BlipForImageTextRetrieval", false),
        /** {@code BlipModel}: vision and text towers with CLIP-style projections and logit scale. */
        CONTRASTIVE("tiny-contrastive", "BlipModel", false);

        private final String folderName;
        private final String architecture;
        private final boolean generates;

        Head(String folderName, String architecture, boolean generates) {
            this.folderName = folderName;
            this.architecture = architecture;
            this.generates = generates;
        }

        /** The folder name used for this head when all heads are written together, e.g. {@code tiny-caption}. */
        public String folderName() {
            return folderName;
        }

        /** The reference class name written to {@code config.json}'s {@code architectures}. */
        public String architecture() {
            return architecture;
        }

        /** The lower-case name used on the command line ({@code caption}, {@code vqa}, ...). */
        public String cliName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * The {@code config.json} of a tiny model with this head: the shapes of the project's tiny
     * fixture models, every other setting the reference's default.
     */
    public static ObjectNode configJson(Head head) {
        ObjectNode root = JSON.createObjectNode();
        root.putArray("architectures").add(head.architecture());
        root.put("image_text_hidden_size", 16);
        root.put("initializer_factor", 1.0);
        root.put("initializer_range", 0.02);
        root.put("label_smoothing", 0.0);
        root.put("logit_scale_init_value", 2.6592);
        root.put("model_type", "blip");
        root.put("projection_dim", 24);
        ObjectNode text = root.putObject("text_config");
        text.put("encoder_hidden_size", 32);
        text.put("hidden_size", 32);
        text.put("intermediate_size", 64);
        text.put("max_position_embeddings", 64);
        text.put("model_type", "blip_text_model");
        text.put("num_attention_heads", 4);
        text.put("num_hidden_layers", 2);
        root.put("torch_dtype", "float32");
        ObjectNode vision = root.putObject("vision_config");
        vision.put("hidden_size", 32);
        vision.put("image_size", 64);
        vision.put("intermediate_size", 64);
        vision.put("model_type", "blip_vision_model");
        vision.put("num_attention_heads", 4);
        vision.put("num_hidden_layers", 2);
        return root;
    }

    /** The tiny configuration as the project reads it (the parse of {@link #configJson}). */
    public static BlipConfig config(Head head) {
        return BlipConfig.fromJson(configJson(head), "tiny " + head.cliName() + " config");
    }

    /**
     * Freshly initialised weights of a tiny model with this head, under the keys
     * {@code save_pretrained} writes for it. The same seed gives the same values; each tensor's
     * values depend only on the seed and the tensor's name.
     */
    public static Parameters weights(Head head, long seed) {
        return weights(head, seed, Spread.REFERENCE);
    }

    /**
     * How widely the random weights are spread.
     *
     * <p>{@link #REFERENCE} is the reference's {@code _init_weights} (normal with the config's
     * {@code initializer_range}, 0.02: a tiny model then starts with near-constant activations and
     * learns slowly). {@link #WIDE} spreads every weight and bias as the fixture sets' random
     * models are spread (normal(0, 0.25); layer norms 1 + normal(0, 0.1) and normal(0, 0.1)), so a
     * few hundred training steps on rendered shapes show learning: the behaviour tests use it.
     */
    public enum Spread {
        /** The reference's initialisation. */
        REFERENCE,
        /** The spread of the fixture sets' random models. */
        WIDE
    }

    /** As {@link #weights(Head, long)} with the given spread. */
    public static Parameters weights(Head head, long seed, Spread spread) {
        Init w = new Init(config(head), seed, spread == Spread.WIDE);
        w.vision("vision_model.");
        switch (head) {
            case CAPTION -> {
                w.text("text_decoder.bert.", false);
                w.lmHead("text_decoder.cls.predictions.");
            }
            case VQA -> {
                w.text("text_encoder.", false);
                w.text("text_decoder.bert.", false);
                w.lmHead("text_decoder.cls.predictions.");
            }
            case ITM -> {
                w.text("text_encoder.", false);
                int e = w.config.imageTextHiddenSize();
                w.linear("vision_proj", w.config.vision().hiddenSize(), e, w.range);
                w.linear("text_proj", w.config.text().hiddenSize(), e, w.range);
                w.linear("itm_head", w.config.text().hiddenSize(), 2, w.range);
            }
            case CONTRASTIVE -> {
                w.text("text_model.", true);
                int p = w.config.projectionDim();
                w.normal("visual_projection.weight", w.range, p, w.config.vision().hiddenSize());
                w.normal("text_projection.weight", w.range, p, w.config.text().hiddenSize());
                w.constant("logit_scale", (float) w.config.logitScaleInitValue());
            }
        }
        return Parameters.of("tiny " + head.cliName() + " model (seed " + seed + ")", w.params);
    }

    /**
     * Writes a tiny model folder with this head to {@code outDir}. The folder is assembled beside
     * {@code outDir} and renamed into place, so {@code outDir} never holds half a model.
     *
     * @throws IOException when {@code outDir} exists and is not an empty directory (an existing
     *                     model is never overwritten), or a write fails
     */
    public static void write(Head head, long seed, Path outDir) throws IOException {
        write(head, seed, Spread.REFERENCE, outDir);
    }

    /** As {@link #write(Head, long, Path)} with the given spread of the random weights. */
    public static void write(Head head, long seed, Spread spread, Path outDir) throws IOException {
        writeAtomically(outDir, tmp -> writeFolder(head, seed, spread, tmp));
    }

    /**
     * Writes one folder per head ({@link Head#folderName()}, the layout of a fixture set's
     * {@code models/} folder) into {@code outDir}, all from the same seed, atomically as
     * {@link #write} does.
     *
     * @throws IOException as {@link #write}
     */
    public static void writeAll(long seed, Path outDir) throws IOException {
        writeAll(seed, Spread.REFERENCE, outDir);
    }

    /** As {@link #writeAll(long, Path)} with the given spread of the random weights. */
    public static void writeAll(long seed, Spread spread, Path outDir) throws IOException {
        writeAtomically(outDir, tmp -> {
            for (Head h : Head.values()) {
                Path dir = tmp.resolve(h.folderName());
                Files.createDirectory(dir);
                writeFolder(h, seed, spread, dir);
            }
        });
    }

    private interface Filler {
        void fill(Path dir) throws IOException;
    }

    private static void writeAtomically(Path outDir, Filler filler) throws IOException {
        Path target = outDir.toAbsolutePath().normalize();
        refuseExisting(target);
        Path parent = target.getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempDirectory(parent, "." + target.getFileName() + ".tmp");
        try {
            filler.fill(tmp);
            // Checked again just before the rename: another process may have written there meanwhile.
            refuseExisting(target);
            Checkpointing.replaceDirectory(tmp, target);
        } finally {
            Checkpointing.deleteTree(tmp);
        }
    }

    /** An existing model (or anything else) at the output is someone's work: never replace it. */
    private static void refuseExisting(Path target) throws IOException {
        if (!Files.exists(target)) {
            return;
        }
        if (!Files.isDirectory(target)) {
            throw new IOException(target + " exists and is not a directory; give a new folder to write the model to");
        }
        try (Stream<Path> s = Files.list(target)) {
            if (s.findAny().isPresent()) {
                throw new IOException(target + " is not empty; give a new or empty folder (an existing model is"
                        + " never overwritten)");
            }
        }
    }

    private static void writeFolder(Head head, long seed, Spread spread, Path dir) throws IOException {
        ObjectNode configJson = configJson(head);
        BlipConfig config = config(head);
        JSON.writeValue(dir.resolve("config.json").toFile(), configJson);
        // The trainer's own save_pretrained code decides which keys are written (tied aliases once).
        SafetensorsWriter.write(dir.resolve(Checkpointing.WEIGHTS_FILE), Checkpointing.tensors(weights(head, seed, spread)),
                SafetensorsWriter.PT_METADATA);
        for (String name : TOKENIZER_FILES) {
            try (InputStream in = resource(name)) {
                Files.copy(in, dir.resolve(name));
            }
        }
        ObjectNode preprocessor;
        try (InputStream in = resource(PREPROCESSOR)) {
            preprocessor = (ObjectNode) JSON.readTree(in);
        }
        int size = config.vision().imageSize();
        preprocessor.putObject("size").put("height", size).put("width", size);
        JSON.writeValue(dir.resolve(PREPROCESSOR).toFile(), preprocessor);
        if (head.generates) {
            // What the reference derives from the model config when saving a generating model.
            BlipTextConfig t = config.text();
            ObjectNode g = JSON.createObjectNode();
            g.put("_from_model_config", true);
            g.put("bos_token_id", t.bosTokenId());
            g.put("eos_token_id", t.eosTokenId());
            g.put("pad_token_id", t.padTokenId());
            JSON.writeValue(dir.resolve("generation_config.json").toFile(), g);
        }
    }

    private static InputStream resource(String name) {
        InputStream in = TinyModels.class.getResourceAsStream(RESOURCES + name);
        if (in == null) {
            throw new UncheckedIOException(new IOException("resource " + RESOURCES + name
                    + " is missing from the class path; the build is incomplete"));
        }
        return in;
    }

    /** Draws the parameters of one model, in the order the keys are added. */
    private static final class Init {
        final BlipConfig config;
        /** The top-level {@code initializer_range}, which the reference's BlipPreTrainedModel uses. */
        final double range;
        final long seed;
        final boolean wide;
        final List<Parameter> params = new ArrayList<>();

        Init(BlipConfig config, long seed, boolean wide) {
            this.config = config;
            this.range = config.initializerRange();
            this.seed = seed;
            this.wide = wide;
        }

        private static final double WIDE_STD = 0.25;
        private static final double WIDE_NORM_STD = 0.1;

        void vision(String pre) {
            BlipVisionConfig v = config.vision();
            int d = v.hiddenSize();
            int p = v.patchSize();
            // BlipVisionEmbeddings: trunc_normal_ with the *vision* config's range (1e-10 by default).
            truncatedNormal(pre + "embeddings.class_embedding", v.initializerRange(), 1, 1, d);
            normal(pre + "embeddings.patch_embedding.weight", range, d, 3, p, p);
            bias(pre + "embeddings.patch_embedding.bias", d);
            truncatedNormal(pre + "embeddings.position_embedding", v.initializerRange(), 1, v.numPositions(), d);
            for (int i = 0; i < v.numHiddenLayers(); i++) {
                String lp = pre + "encoder.layers." + i + ".";
                linear(lp + "self_attn.qkv", d, 3 * d, range);
                linear(lp + "self_attn.projection", d, d, range);
                layerNorm(lp + "layer_norm1", d);
                layerNorm(lp + "layer_norm2", d);
                linear(lp + "mlp.fc1", d, v.intermediateSize(), range);
                linear(lp + "mlp.fc2", v.intermediateSize(), d, range);
            }
            layerNorm(pre + "post_layernorm", d);
        }

        /** A BlipTextModel (BERT with cross-attention in every layer); the text config's own range. */
        void text(String pre, boolean pooler) {
            BlipTextConfig t = config.text();
            double r = t.initializerRange();
            int d = t.hiddenSize();
            normal(pre + "embeddings.word_embeddings.weight", r, t.vocabSize(), d);
            normal(pre + "embeddings.position_embeddings.weight", r, t.maxPositionEmbeddings(), d);
            layerNorm(pre + "embeddings.LayerNorm", d);
            for (int i = 0; i < t.numHiddenLayers(); i++) {
                String lp = pre + "encoder.layer." + i + ".";
                attention(lp + "attention.", d, d, r);
                attention(lp + "crossattention.", d, t.encoderHiddenSize(), r);
                linear(lp + "intermediate.dense", d, t.intermediateSize(), r);
                linear(lp + "output.dense", t.intermediateSize(), d, r);
                layerNorm(lp + "output.LayerNorm", d);
            }
            if (pooler) {
                linear(pre + "pooler.dense", d, d, r);
            }
        }

        /** BlipTextLMPredictionHead: transform, decoder without its own bias, and the shared output bias (zeros). */
        void lmHead(String pre) {
            BlipTextConfig t = config.text();
            int d = t.hiddenSize();
            linear(pre + "transform.dense", d, d, t.initializerRange());
            layerNorm(pre + "transform.LayerNorm", d);
            normal(pre + "decoder.weight", t.initializerRange(), t.vocabSize(), d);
            bias(pre + "bias", t.vocabSize());
        }

        private void attention(String pre, int d, int kvIn, double r) {
            linear(pre + "self.query", d, d, r);
            linear(pre + "self.key", kvIn, d, r);
            linear(pre + "self.value", kvIn, d, r);
            linear(pre + "output.dense", d, d, r);
            layerNorm(pre + "output.LayerNorm", d);
        }

        void linear(String prefix, int in, int out, double r) {
            normal(prefix + ".weight", r, out, in);
            bias(prefix + ".bias", out);
        }

        /** A bias: zeros, or (wide) normal like the weights. */
        private void bias(String name, int n) {
            if (wide) {
                gaussian(name, 0, WIDE_STD, n);
            } else {
                constant(name, 0f, n);
            }
        }

        private void layerNorm(String prefix, int d) {
            if (wide) {
                gaussian(prefix + ".weight", 1, WIDE_NORM_STD, d);
                gaussian(prefix + ".bias", 0, WIDE_NORM_STD, d);
            } else {
                constant(prefix + ".weight", 1f, d);
                constant(prefix + ".bias", 0f, d);
            }
        }

        /** normal(0, std), or (wide) normal(0, 0.25). */
        void normal(String name, double std, int... shape) {
            gaussian(name, 0, wide ? WIDE_STD : std, shape);
        }

        private void gaussian(String name, double mean, double std, int... shape) {
            SplittableRandom rnd = random(name);
            float[] v = new float[numel(shape)];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (mean + rnd.nextGaussian() * std);
            }
            params.add(new Parameter(name, v, shape));
        }

        /** torch.nn.init.trunc_normal_ with its default bounds: redraw values outside [-2, 2]. */
        private void truncatedNormal(String name, double std, int... shape) {
            if (wide) {
                normal(name, std, shape);
                return;
            }
            SplittableRandom rnd = random(name);
            float[] v = new float[numel(shape)];
            for (int i = 0; i < v.length; i++) {
                double x;
                do {
                    x = rnd.nextGaussian() * std;
                } while (x < -2 || x > 2);
                v[i] = (float) x;
            }
            params.add(new Parameter(name, v, shape));
        }

        void constant(String name, float value, int... shape) {
            float[] v = new float[numel(shape)];
            java.util.Arrays.fill(v, value);
            params.add(new Parameter(name, v, shape));
        }

        /** One stream per tensor, so a tensor's values do not depend on which tensors come before it. */
        private SplittableRandom random(String name) {
            return new SplittableRandom(seed * 0x9E3779B97F4A7C15L ^ name.hashCode());
        }

        private static int numel(int... shape) {
            int n = 1;
            for (int s : shape) {
                n = Math.multiplyExact(n, s);
            }
            return n;
        }
    }
}
