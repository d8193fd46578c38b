package org.blipjava.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.blipjava.checkpoint.DType;
import org.blipjava.checkpoint.StateDict;
import org.blipjava.checkpoint.TensorData;
import org.blipjava.config.BlipConfig;
import org.blipjava.config.BlipTextConfig;
import org.blipjava.config.BlipVisionConfig;
import org.blipjava.config.ClipConfig;
import org.blipjava.config.ClipTextConfig;
import org.blipjava.config.ClipVisionConfig;

/**
 * Seeded random weights in the Hugging Face BLIP and CLIP key layouts, built in memory (no files).
 *
 * <p>Tensors are bfloat16 in native memory owned by the caller's arena: half the size of
 * float32 while the model copies them out, and gone from the process once the arena closes.
 * Weights are uniform with the standard deviation of the reference's initializer (0.02); layer
 * norms start at weight 1, bias 0.
 */
public final class RandomWeights {
    private static final ValueLayout.OfShort BF16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Arena arena;
    private final long seed;
    private final Map<String, TensorData> tensors = new LinkedHashMap<>();

    private RandomWeights(Arena arena, long seed) {
        this.arena = arena;
        this.seed = seed;
    }

    /** Weights of {@code BlipForConditionalGeneration} (vision tower and text decoder with its LM head). */
    public static StateDict captioning(BlipConfig config, Arena arena, long seed) {
        RandomWeights w = new RandomWeights(arena, seed);
        w.vision(config.vision());
        w.text("text_decoder.bert.", config.text());
        String cp = "text_decoder.cls.predictions.";
        int d = config.text().hiddenSize();
        w.linear(cp + "transform.dense", d, d);
        w.layerNorm(cp + "transform.LayerNorm", d);
        w.random(cp + "bias", config.text().vocabSize());
        return new StateDict("random BLIP captioning weights (seed " + seed + ")", w.tensors);
    }

    /** Weights of {@code BlipForImageTextRetrieval} (vision tower, text encoder, ITC projections, ITM head). */
    public static StateDict retrieval(BlipConfig config, Arena arena, long seed) {
        RandomWeights w = new RandomWeights(arena, seed);
        w.vision(config.vision());
        w.text("text_encoder.", config.text());
        int e = config.imageTextHiddenSize();
        w.linear("vision_proj", config.vision().hiddenSize(), e);
        w.linear("text_proj", config.text().hiddenSize(), e);
        w.linear("itm_head", config.text().hiddenSize(), 2);
        return new StateDict("random BLIP retrieval weights (seed " + seed + ")", w.tensors);
    }

    /**
     * Weights of {@code CLIPModel}: both towers (the model loads only whole checkpoints), the two
     * projections without bias, and {@code logit_scale} at the config's initial value. Key names
     * and shapes are those of a Hugging Face checkpoint, {@code class_embedding} a vector.
     */
    public static StateDict clip(ClipConfig config, Arena arena, long seed) {
        RandomWeights w = new RandomWeights(arena, seed);
        ClipVisionConfig v = config.vision();
        ClipTextConfig t = config.text();
        int vd = v.hiddenSize();
        int p = v.patchSize();
        String vp = "vision_model.";
        w.random(vp + "embeddings.class_embedding", vd);
        w.random(vp + "embeddings.patch_embedding.weight", vd, v.numChannels(), p, p);
        w.random(vp + "embeddings.position_embedding.weight", v.numPositions(), vd);
        w.layerNorm(vp + "pre_layrnorm", vd);
        w.clipEncoder(vp + "encoder.", v.numHiddenLayers(), vd, v.intermediateSize());
        w.layerNorm(vp + "post_layernorm", vd);
        int td = t.hiddenSize();
        String tp = "text_model.";
        w.random(tp + "embeddings.token_embedding.weight", t.vocabSize(), td);
        w.random(tp + "embeddings.position_embedding.weight", t.maxPositionEmbeddings(), td);
        w.clipEncoder(tp + "encoder.", t.numHiddenLayers(), td, t.intermediateSize());
        w.layerNorm(tp + "final_layer_norm", td);
        w.random("visual_projection.weight", config.projectionDim(), vd);
        w.random("text_projection.weight", config.projectionDim(), td);
        w.put("logit_scale", (float) config.logitScaleInitValue(), 0f);
        return new StateDict("random CLIP weights (seed " + seed + ")", w.tensors);
    }

    private void clipEncoder(String pre, int layers, int d, int inter) {
        for (int i = 0; i < layers; i++) {
            String lp = pre + "layers." + i + ".";
            layerNorm(lp + "layer_norm1", d);
            for (String proj : new String[] {"q_proj", "k_proj", "v_proj", "out_proj"}) {
                linear(lp + "self_attn." + proj, d, d);
            }
            layerNorm(lp + "layer_norm2", d);
            linear(lp + "mlp.fc1", d, inter);
            linear(lp + "mlp.fc2", inter, d);
        }
    }

    private void vision(BlipVisionConfig v) {
        int d = v.hiddenSize();
        int p = v.patchSize();
        String pre = "vision_model.";
        random(pre + "embeddings.class_embedding", 1, 1, d);
        random(pre + "embeddings.patch_embedding.weight", d, 3, p, p);
        random(pre + "embeddings.patch_embedding.bias", d);
        random(pre + "embeddings.position_embedding", 1, v.numPositions(), d);
        for (int i = 0; i < v.numHiddenLayers(); i++) {
            String lp = pre + "encoder.layers." + i + ".";
            linear(lp + "self_attn.qkv", d, 3 * d);
            linear(lp + "self_attn.projection", d, d);
            layerNorm(lp + "layer_norm1", d);
            layerNorm(lp + "layer_norm2", d);
            linear(lp + "mlp.fc1", d, v.intermediateSize());
            linear(lp + "mlp.fc2", v.intermediateSize(), d);
        }
        layerNorm(pre + "post_layernorm", d);
    }

    private void text(String pre, BlipTextConfig t) {
        int d = t.hiddenSize();
        random(pre + "embeddings.word_embeddings.weight", t.vocabSize(), d);
        random(pre + "embeddings.position_embeddings.weight", t.maxPositionEmbeddings(), d);
        layerNorm(pre + "embeddings.LayerNorm", d);
        for (int i = 0; i < t.numHiddenLayers(); i++) {
            String lp = pre + "encoder.layer." + i + ".";
            attention(lp + "attention.", d, d);
            attention(lp + "crossattention.", d, t.encoderHiddenSize());
            linear(lp + "intermediate.dense", d, t.intermediateSize());
            linear(lp + "output.dense", t.intermediateSize(), d);
            layerNorm(lp + "output.LayerNorm", d);
        }
    }

    private void attention(String pre, int d, int kvIn) {
        linear(pre + "self.query", d, d);
        linear(pre + "self.key", kvIn, d);
        linear(pre + "self.value", kvIn, d);
        linear(pre + "output.dense", d, d);
        layerNorm(pre + "output.LayerNorm", d);
    }

    private void linear(String prefix, int in, int out) {
        random(prefix + ".weight", out, in);
        random(prefix + ".bias", out);
    }

    private void layerNorm(String prefix, int d) {
        put(prefix + ".weight", 1f, 0f, d);
        put(prefix + ".bias", 0f, 0f, d);
    }

    private void random(String name, long... shape) {
        // Uniform on [-a, a] has standard deviation a / sqrt(3).
        put(name, 0f, 0.02f * (float) Math.sqrt(3), shape);
    }

    private void put(String name, float center, float halfWidth, long... shape) {
        long n = TensorData.numel(shape);
        MemorySegment seg = arena.allocate(n * 2, 2);
        SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + name.hashCode());
        for (long i = 0; i < n; i++) {
            float v = halfWidth == 0f ? center : center + halfWidth * (float) (2 * rnd.nextDouble() - 1);
            seg.setAtIndex(BF16, i, (short) (Float.floatToRawIntBits(v) >>> 16));
        }
        tensors.put(name, new TensorData(name, DType.BF16, shape, seg));
    }
}
