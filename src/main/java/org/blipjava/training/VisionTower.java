package org.blipjava.training;

import org.blipjava.config.BlipVisionConfig;

/**
 * The trainable vision transformer ({@code vision_model.*}): convolutional patch embedding,
 * class token, position embeddings, pre-norm layers and {@code post_layernorm}, differentiable
 * on a {@link Tape}. Images must be of the configured size (no position interpolation).
 */
public final class VisionTower {
    /**
     * @param lastHiddenState {@code post_layernorm} of the last layer [batch*seq, hidden]
     * @param pooled          {@code post_layernorm} applied again to the class tokens [batch, hidden]
     */
    public record Output(Tensor lastHiddenState, Tensor pooled, int batch, int seqLen, int hidden) {}

    private final Parameters params;
    private final String prefix;
    private final BlipVisionConfig config;

    /** @param prefix the key prefix, for example {@code "vision_model."} */
    public VisionTower(Parameters params, String prefix, BlipVisionConfig config) {
        this.params = params;
        this.prefix = prefix;
        this.config = config;
        params.get(prefix + "embeddings.patch_embedding.weight"); // fail early on the wrong checkpoint
    }

    private Parameter p(String name) {
        return params.get(prefix + name);
    }

    /** Encodes normalized images [batch, 3, size, size] (size = the config's image size). */
    public Output forward(Tape t, float[] pixels, int batch) {
        int size = config.imageSize();
        int patch = config.patchSize();
        int d = config.hiddenSize();
        if (batch < 1 || pixels.length != batch * 3 * size * size) {
            throw new IllegalArgumentException("pixels has " + pixels.length + " floats; training needs [batch, 3, "
                    + size + ", " + size + "] (image_size of the vision config) with batch >= 1, batch = " + batch);
        }
        int grid = size / patch;
        int patches = grid * grid;
        int seq = patches + 1;
        int pp = 3 * patch * patch;
        // im2col with (channel, ky, kx) order, matching the conv weight's flattening.
        float[] cols = new float[batch * patches * pp];
        for (int idx = 0; idx < batch * patches; idx++) {
            int b = idx / patches;
            int py = (idx % patches) / grid;
            int px = idx % grid;
            for (int c = 0; c < 3; c++) {
                for (int ky = 0; ky < patch; ky++) {
                    int src = ((b * 3 + c) * size + py * patch + ky) * size + px * patch;
                    System.arraycopy(pixels, src, cols, idx * pp + (c * patch + ky) * patch, patch);
                }
            }
        }
        Tensor emb = Ops.linear(t, Tensor.constant(cols, batch * patches, pp), batch * patches, pp,
                p("embeddings.patch_embedding.weight"), p("embeddings.patch_embedding.bias"), d);
        Tensor x = embeddings(t, emb, p("embeddings.class_embedding"), p("embeddings.position_embedding"), batch, seq, d);
        int rows = batch * seq;
        int heads = config.numAttentionHeads();
        double eps = config.layerNormEps();
        int inter = config.intermediateSize();
        for (int l = 0; l < config.numHiddenLayers(); l++) {
            String lp = "encoder.layers." + l + ".";
            Tensor h = Ops.layerNorm(t, x, rows, d, p(lp + "layer_norm1.weight"), p(lp + "layer_norm1.bias"), eps);
            Tensor qkv = Ops.linear(t, h, rows, d, p(lp + "self_attn.qkv.weight"), p(lp + "self_attn.qkv.bias"), 3 * d);
            Tensor q = Ops.columns(t, qkv, rows, 3 * d, 0, d);
            Tensor k = Ops.columns(t, qkv, rows, 3 * d, d, d);
            Tensor v = Ops.columns(t, qkv, rows, 3 * d, 2 * d, d);
            Tensor ctx = Ops.attention(t, q, k, v, batch, seq, seq, heads, config.headDim(), false, null);
            Tensor attn = Ops.linear(t, ctx, rows, d, p(lp + "self_attn.projection.weight"),
                    p(lp + "self_attn.projection.bias"), d);
            x = Ops.add(t, x, attn);
            Tensor h2 = Ops.layerNorm(t, x, rows, d, p(lp + "layer_norm2.weight"), p(lp + "layer_norm2.bias"), eps);
            Tensor mid = Ops.gelu(t, Ops.linear(t, h2, rows, d, p(lp + "mlp.fc1.weight"), p(lp + "mlp.fc1.bias"), inter));
            Tensor mlp = Ops.linear(t, mid, rows, inter, p(lp + "mlp.fc2.weight"), p(lp + "mlp.fc2.bias"), d);
            x = Ops.add(t, x, mlp);
        }
        Parameter pw = p("post_layernorm.weight");
        Parameter pb = p("post_layernorm.bias");
        Tensor last = Ops.layerNorm(t, x, rows, d, pw, pb, eps);
        int[] first = new int[batch];
        for (int b = 0; b < batch; b++) {
            first[b] = b * seq;
        }
        // The reference normalizes the (already normalized) class token a second time for pooler_output.
        Tensor pooled = Ops.layerNorm(t, Ops.gather(t, last, d, first), batch, d, pw, pb, eps);
        return new Output(last, pooled, batch, seq, d);
    }

    /** {@code [cls; patches] + positions} for every image, [batch*seq, d]. */
    private static Tensor embeddings(Tape t, Tensor patchEmb, Tensor cls, Tensor pos, int batch, int seq, int d) {
        float[] pe = patchEmb.data();
        float[] c = cls.data();
        float[] ps = pos.data();
        float[] x = new float[batch * seq * d];
        for (int b = 0; b < batch; b++) {
            int base = b * seq * d;
            for (int i = 0; i < d; i++) {
                x[base + i] = c[i] + ps[i];
            }
            for (int s = 1; s < seq; s++) {
                int o = base + s * d;
                int src = (b * (seq - 1) + s - 1) * d;
                for (int i = 0; i < d; i++) {
                    x[o + i] = pe[src + i] + ps[s * d + i];
                }
            }
        }
        Tensor r = new Tensor(x, true, batch * seq, d);
        t.record(() -> {
            if (!r.hasGrad()) {
                return;
            }
            float[] g = r.grad();
            float[] gc = cls.grad();
            float[] gp = pos.grad();
            float[] gpe = patchEmb.grad();
            for (int b = 0; b < batch; b++) {
                int base = b * seq * d;
                for (int i = 0; i < d; i++) {
                    gc[i] += g[base + i];
                }
                for (int s = 0; s < seq; s++) {
                    for (int i = 0; i < d; i++) {
                        gp[s * d + i] += g[base + s * d + i];
                    }
                }
                for (int s = 1; s < seq; s++) {
                    int dst = (b * (seq - 1) + s - 1) * d;
                    for (int i = 0; i < d; i++) {
                        gpe[dst + i] += g[base + s * d + i];
                    }
                }
            }
        });
        return r;
    }
}
