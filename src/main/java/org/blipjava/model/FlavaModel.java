package org.blipjava.model;

import java.util.List;
import org.blipjava.checkpoint.CheckpointException;
import org.blipjava.checkpoint.StateDict;
import org.blipjava.config.ConfigException;
import org.blipjava.config.FlavaConfig;
import org.blipjava.tensor.Kernels;
import org.blipjava.tensor.Parallel;
import org.blipjava.tensor.WeightPrecision;

/**
 * FLAVA ({@code FlavaModel}, and the image-text matching head of {@code FlavaForPreTraining}):
 * an image ViT, a BERT-style text encoder and a multimodal encoder over both, all built from the
 * same pre-norm transformer block ({@link FlavaEncoder}).
 *
 * <ul>
 *   <li>Image: conv patch embeddings (with bias), {@code cls_token}, {@code position_embeddings};
 *       no attention mask.</li>
 *   <li>Text: word + token type + position embeddings, {@code LayerNorm}; the attention mask is
 *       added as {@code (1 - mask) * float32.min}, as the reference's
 *       {@code get_extended_attention_mask} builds it.</li>
 *   <li>Multimodal: {@code cls_token}, then {@code image_to_mm_projection} of every image position
 *       and {@code text_to_mm_projection} of every text position, both applied to the unimodal
 *       encoders' last layer output <em>before</em> their final layer norm (the reference takes
 *       {@code hidden_states[-1]}); image positions and the class token are never masked, text
 *       positions carry the text's attention mask.</li>
 *   <li>Contrastive features: {@code image_projection} / {@code text_projection} of position 0 of the
 *       layer-normed unimodal outputs, L2-normalized, scaled by {@code exp(logit_scale)}.</li>
 *   <li>ITM ({@code FlavaForPreTraining} only): {@code itm_head.pooler} (dense + tanh of position 0
 *       of the multimodal output) then {@code itm_head.seq_relationship} to two logits (class 1 =
 *       match).</li>
 * </ul>
 *
 * <p>Immutable and thread-safe after loading; every call allocates its own activations.
 */
public final class FlavaModel {
    /**
     * Heads of {@code FlavaForPreTraining} that are accepted and ignored: the masked-modeling heads
     * (only used for pre-training losses) and an image codebook (which only labels masked-image
     * targets). Every other unused key is reported as unexpected.
     */
    public static final List<String> IGNORED_PRETRAINING_PREFIXES = List.of(
            "mim_head.", "mlm_head.", "mmm_image_head.", "mmm_text_head.", "image_codebook.");

    /** The additive value of a masked key: float32's lowest, as the reference's extended mask uses. */
    static final float MASK_VALUE = -Float.MAX_VALUE;

    /** Which encoder produced an {@link Encoded}. */
    public enum Modality { IMAGE, TEXT, MULTIMODAL }

    /**
     * One encoder's output for a batch.
     *
     * @param modality         the encoder that produced it
     * @param lastHiddenState  after the encoder's final {@code layernorm}, [batch, seqLen, hidden]
     *                         (the reference's {@code last_hidden_state}, {@code image_embeddings} /
     *                         {@code text_embeddings} of {@code FlavaModelOutput})
     * @param beforeLayerNorm  the last layer's output before that layer norm, [batch, seqLen, hidden]
     *                         (the reference's {@code hidden_states[-1]}, what the multimodal
     *                         projections read)
     */
    public record Encoded(Modality modality, float[] lastHiddenState, float[] beforeLayerNorm, int batch, int seqLen,
                          int hidden) {}

    private final FlavaConfig config;
    private final Parallel parallel;
    private final String checkpointKind;
    // image_model.embeddings
    private final float[] imageClsToken;
    private final PatchEmbedding imagePatchEmbedding; // conv weight [D, C, p, p] viewed as [D, C*p*p]
    private final float[] imagePositionEmbeddings;
    private final FlavaEncoder imageModel;
    // text_model.embeddings
    private final float[] wordEmbeddings;
    private final float[] positionEmbeddings;
    private final float[] tokenTypeEmbeddings;
    private final LayerNorm textEmbeddingsLayerNorm;
    private final FlavaEncoder textModel;
    // multimodal_model
    private final float[] multimodalClsToken; // null when use_cls_token is false
    private final FlavaEncoder multimodalModel;
    private final Linear imageProjection;
    private final Linear textProjection;
    private final Linear imageToMmProjection;
    private final Linear textToMmProjection;
    private final float logitScale;
    // itm_head (FlavaForPreTraining only), null otherwise
    private final Linear itmPoolerDense;
    private final Linear itmSeqRelationship;

    private FlavaModel(FlavaConfig config, Parallel parallel, String checkpointKind, float[] imageClsToken,
                       PatchEmbedding imagePatchEmbedding, float[] imagePositionEmbeddings, FlavaEncoder imageModel,
                       float[] wordEmbeddings, float[] positionEmbeddings, float[] tokenTypeEmbeddings,
                       LayerNorm textEmbeddingsLayerNorm, FlavaEncoder textModel, float[] multimodalClsToken,
                       FlavaEncoder multimodalModel, Linear imageProjection, Linear textProjection,
                       Linear imageToMmProjection, Linear textToMmProjection, float logitScale,
                       Linear itmPoolerDense, Linear itmSeqRelationship) {
        this.config = config;
        this.parallel = parallel;
        this.checkpointKind = checkpointKind;
        this.imageClsToken = imageClsToken;
        this.imagePatchEmbedding = imagePatchEmbedding;
        this.imagePositionEmbeddings = imagePositionEmbeddings;
        this.imageModel = imageModel;
        this.wordEmbeddings = wordEmbeddings;
        this.positionEmbeddings = positionEmbeddings;
        this.tokenTypeEmbeddings = tokenTypeEmbeddings;
        this.textEmbeddingsLayerNorm = textEmbeddingsLayerNorm;
        this.textModel = textModel;
        this.multimodalClsToken = multimodalClsToken;
        this.multimodalModel = multimodalModel;
        this.imageProjection = imageProjection;
        this.textProjection = textProjection;
        this.imageToMmProjection = imageToMmProjection;
        this.textToMmProjection = textToMmProjection;
        this.logitScale = logitScale;
        this.itmPoolerDense = itmPoolerDense;
        this.itmSeqRelationship = itmSeqRelationship;
    }

    /**
     * Builds the model from a {@code FlavaModel} checkpoint (keys at the root) or a
     * {@code FlavaForPreTraining} one (the FlavaModel under {@code flava.}, plus heads), decided by
     * the keys present. The ITM head ({@code itm_head.*}) is loaded when present and required when
     * the config's architectures name {@code FlavaForPreTraining}; the other pre-training heads
     * ({@link #IGNORED_PRETRAINING_PREFIXES}), the image mask token and the text embeddings'
     * position/token-type buffers are accepted and ignored.
     *
     * @param parallel  the threads kernels run on; owned by the caller and used for every call
     * @param precision how the linear layers' weights are stored (embedding tables stay float32)
     * @throws CheckpointException naming a missing key, a key of the wrong shape, or the keys no
     *                             part of the model uses
     * @throws ConfigException     when the config asks for something not implemented
     */
    public static FlavaModel load(StateDict sd, FlavaConfig config, Parallel parallel, WeightPrecision precision) {
        boolean prefixed = sd.tensors().keySet().stream().anyMatch(k -> k.startsWith("flava."));
        String p = prefixed ? "flava." : "";
        boolean preTraining = prefixed || config.isPreTraining();
        String kind = preTraining ? "FlavaForPreTraining" : "FlavaModel";
        if (config.isPreTraining() && !prefixed) {
            throw new CheckpointException(sd.source() + ": config.json names FlavaForPreTraining but no key starts"
                    + " with 'flava.'; is this a FlavaModel checkpoint with the wrong config?");
        }
        FlavaConfig.ImageConfig ic = config.imageConfig();
        FlavaConfig.TextConfig tc = config.textConfig();
        FlavaConfig.MultimodalConfig mc = config.multimodalConfig();
        if (!"absolute".equals(tc.positionEmbeddingType())) {
            throw new ConfigException("text_config: position_embedding_type '" + tc.positionEmbeddingType()
                    + "' is not supported; FLAVA's attention implements 'absolute' only");
        }

        // image_model
        String im = p + "image_model.";
        int di = ic.hiddenSize();
        int ps = ic.patchSize();
        int ch = ic.numChannels();
        float[] imageCls = sd.floats(im + "embeddings.cls_token", 1, 1, di);
        float[] convW = sd.floats(im + "embeddings.patch_embeddings.projection.weight", di, ch, ps, ps);
        float[] convB = sd.floats(im + "embeddings.patch_embeddings.projection.bias", di);
        float[] imagePos = sd.floats(im + "embeddings.position_embeddings", 1, ic.numPositions(), di);
        // Used only to hide patches for masked image modeling, which this project does not train.
        sd.ignore(im + "embeddings.mask_token");
        FlavaEncoder image = FlavaEncoder.load(sd, im, "image_config", di, ic.numHiddenLayers(),
                ic.numAttentionHeads(), ic.intermediateSize(), ic.hiddenAct(), ic.layerNormEps(), ic.qkvBias(),
                precision);

        // text_model
        String tm = p + "text_model.";
        int dt = tc.hiddenSize();
        // Buffers (non-persistent in 4.40.2, saved by older versions): positions are 0..len-1 and
        // token types default to zeros, both computed here.
        sd.ignore(tm + "embeddings.position_ids");
        sd.ignore(tm + "embeddings.token_type_ids");
        float[] word = sd.floats(tm + "embeddings.word_embeddings.weight", tc.vocabSize(), dt);
        float[] pos = sd.floats(tm + "embeddings.position_embeddings.weight", tc.maxPositionEmbeddings(), dt);
        float[] types = sd.floats(tm + "embeddings.token_type_embeddings.weight", tc.typeVocabSize(), dt);
        LayerNorm embLn = LayerNorm.load(sd, tm + "embeddings.LayerNorm", dt, tc.layerNormEps());
        FlavaEncoder text = FlavaEncoder.load(sd, tm, "text_config", dt, tc.numHiddenLayers(), tc.numAttentionHeads(),
                tc.intermediateSize(), tc.hiddenAct(), tc.layerNormEps(), tc.qkvBias(), precision);

        // multimodal_model
        String mm = p + "multimodal_model.";
        int dm = mc.hiddenSize();
        float[] mmCls = mc.useClsToken() ? sd.floats(mm + "cls_token", 1, 1, dm) : null;
        FlavaEncoder multimodal = FlavaEncoder.load(sd, mm, "multimodal_config", dm, mc.numHiddenLayers(),
                mc.numAttentionHeads(), mc.intermediateSize(), mc.hiddenAct(), mc.layerNormEps(), mc.qkvBias(),
                precision);

        int proj = config.projectionDim();
        Linear imageProjection = Linear.load(sd, p + "image_projection", di, proj, true, precision);
        Linear textProjection = Linear.load(sd, p + "text_projection", dt, proj, true, precision);
        Linear imageToMm = Linear.load(sd, p + "image_to_mm_projection", di, dm, true, precision);
        Linear textToMm = Linear.load(sd, p + "text_to_mm_projection", dt, dm, true, precision);
        float logitScale = sd.floats(p + "logit_scale")[0];

        Linear itmPooler = null;
        Linear itmOut = null;
        boolean hasItm = sd.tensors().keySet().stream().anyMatch(k -> k.startsWith("itm_head."));
        if (hasItm || config.isPreTraining()) {
            // The reference builds the head from the top-level hidden_size and feeds it the
            // multimodal output, so the two must agree.
            if (config.hiddenSize() != dm) {
                throw new ConfigException("hidden_size " + config.hiddenSize() + " (the ITM head's width) differs from"
                        + " multimodal_config.hidden_size " + dm + "; the reference could not run this head either");
            }
            itmPooler = Linear.load(sd, "itm_head.pooler.dense", dm, dm, true, precision);
            itmOut = Linear.load(sd, "itm_head.seq_relationship", dm, 2, true, precision);
        }
        if (prefixed) {
            for (String key : sd.tensors().keySet()) {
                if (IGNORED_PRETRAINING_PREFIXES.stream().anyMatch(key::startsWith)) {
                    sd.ignore(key);
                }
            }
        }
        List<String> rest = sd.untaken();
        if (!rest.isEmpty()) {
            throw new CheckpointException(sd.source() + ": unexpected keys " + rest + " for a " + kind
                    + " checkpoint; is this another FLAVA architecture, or does config.json not match it?");
        }
        return new FlavaModel(config, parallel, kind, imageCls, new PatchEmbedding(new Linear(convW, convB, ch * ps * ps, di), ch, ps), imagePos,
                image, word, pos, types, embLn, text, mmCls, multimodal, imageProjection, textProjection, imageToMm,
                textToMm, logitScale, itmPooler, itmOut);
    }

    /** The config the model was loaded with. */
    public FlavaConfig config() {
        return config;
    }

    /** Whether the checkpoint had the ITM head ({@code FlavaForPreTraining}); a bare {@code FlavaModel} has none. */
    public boolean hasItmHead() {
        return itmPoolerDense != null;
    }

    /** The raw {@code logit_scale} parameter; similarities are multiplied by its exponential. */
    public float logitScale() {
        return logitScale;
    }

    /** Sequence length of the image encoder for an image of {@code h x w} pixels: patches plus the class token. */
    public int imageSeqLen(int h, int w) {
        int p = config.imageConfig().patchSize();
        return (h / p) * (w / p) + 1;
    }

    // ------------------------------------------------------------------ image encoder

    /**
     * Encodes a batch of normalized images with the image encoder.
     *
     * @param pixels [batch, channels, h, w] as the image processor produces
     * @param h      image height; when it or {@code w} differs from {@code image_config.image_size} the
     *               position embeddings are resized bicubically (the reference's
     *               {@code interpolate_pos_encoding}; 4.40.2's {@code FlavaModel} does not pass that
     *               flag and refuses such images instead)
     */
    public Encoded encodeImages(float[] pixels, int batch, int h, int w) {
        FlavaConfig.ImageConfig ic = config.imageConfig();
        int p = ic.patchSize();
        int d = ic.hiddenSize();
        imagePatchEmbedding.check(pixels, batch, h, w);
        int gh = h / p;
        int gw = w / p;
        int patches = gh * gw;
        int seq = patches + 1;
        float[] x = imagePatchEmbedding.embed(parallel, pixels, batch, h, w, imageClsToken, imagePositionsFor(gh, gw));
        imageModel.layers(parallel, x, batch, seq, null);
        return new Encoded(Modality.IMAGE, imageModel.finalNorm(parallel, x, batch * seq), x, batch, seq, d);
    }

    /** Position embeddings for a {@code gh x gw} grid: the stored ones, or the patch part bicubically resized. */
    private float[] imagePositionsFor(int gh, int gw) {
        int n = config.imageConfig().patchesPerSide();
        if (gh == n && gw == n) {
            return imagePositionEmbeddings;
        }
        int d = config.imageConfig().hiddenSize();
        float[] out = new float[(gh * gw + 1) * d];
        System.arraycopy(imagePositionEmbeddings, 0, out, 0, d);
        float[] grid = Interpolation.bicubic(imagePositionEmbeddings, d, n, n, d, gh, gw);
        System.arraycopy(grid, 0, out, d, gh * gw * d);
        return out;
    }

    // ------------------------------------------------------------------ text encoder

    /**
     * Encodes a batch of tokenized texts with the text encoder.
     *
     * @param inputIds      [batch][len] BERT ids ({@code [CLS] ... [SEP]}, padded), rows of equal length
     * @param attentionMask [batch][len], 1 = token, 0 = padding; null = all ones
     * @param tokenTypeIds  [batch][len] segment ids; null = zeros (the reference's default)
     */
    public Encoded encodeTexts(int[][] inputIds, int[][] attentionMask, int[][] tokenTypeIds) {
        FlavaConfig.TextConfig tc = config.textConfig();
        int batch = inputIds.length;
        int len = BlipTextModel.checkRectangular("input ids", inputIds, -1);
        checkShape("attention mask", attentionMask, batch, len);
        checkShape("token type ids", tokenTypeIds, batch, len);
        if (len > tc.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("texts of " + len + " tokens exceed max_position_embeddings "
                    + tc.maxPositionEmbeddings());
        }
        int d = tc.hiddenSize();
        float[] x = new float[batch * len * d];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < len; t++) {
                int id = inputIds[b][t];
                if (id < 0 || id >= tc.vocabSize()) {
                    throw new IllegalArgumentException("token id " + id + " at row " + b + ", position " + t
                            + " is outside the vocabulary [0, " + tc.vocabSize() + ")");
                }
                int type = tokenTypeIds == null ? 0 : tokenTypeIds[b][t];
                if (type < 0 || type >= tc.typeVocabSize()) {
                    throw new IllegalArgumentException("token type " + type + " at row " + b + ", position " + t
                            + " is outside [0, " + tc.typeVocabSize() + ")");
                }
                int o = (b * len + t) * d;
                // The reference sums (word + token type) first, then adds the position: same order here.
                for (int i = 0; i < d; i++) {
                    x[o + i] = wordEmbeddings[id * d + i] + tokenTypeEmbeddings[type * d + i];
                }
                for (int i = 0; i < d; i++) {
                    x[o + i] += positionEmbeddings[t * d + i];
                }
            }
        }
        textEmbeddingsLayerNorm.apply(parallel, x, batch * len);
        textModel.layers(parallel, x, batch, len, additiveMask(attentionMask, batch, len, 0));
        return new Encoded(Modality.TEXT, textModel.finalNorm(parallel, x, batch * len), x, batch, len, d);
    }

    // ------------------------------------------------------------------ contrastive features

    /** {@code image_projection} of position 0 of the image output, L2-normalized, [batch, projection_dim]. */
    public float[] imageFeatures(Encoded images) {
        require(images, Modality.IMAGE, "images");
        return features(imageProjection, images);
    }

    /** {@code text_projection} of position 0 (the {@code [CLS]} token) of the text output, L2-normalized, [batch, projection_dim]. */
    public float[] textFeatures(Encoded texts) {
        require(texts, Modality.TEXT, "texts");
        return features(textProjection, texts);
    }

    private float[] features(Linear projection, Encoded e) {
        float[] first = BlipTextModel.firstTokens(e.lastHiddenState(), e.batch(), e.seqLen(), e.hidden());
        float[] out = projection.forward(parallel, first, e.batch());
        Kernels.l2Normalize(out, e.batch(), projection.out());
        return out;
    }

    /**
     * Contrastive logits {@code exp(logit_scale) * image . text}, [images, texts], from the outputs of
     * {@link #imageFeatures} and {@link #textFeatures}. The scale is the stored parameter as is
     * ({@code FlavaForPreTraining}'s forward clamps it to [0, 4.6052] first; within that range the two agree).
     */
    public float[] logitsPerImage(float[] imageFeatures, float[] textFeatures) {
        int dim = config.projectionDim();
        if (imageFeatures.length % dim != 0 || textFeatures.length % dim != 0) {
            throw new IllegalArgumentException("features must be rows of projection_dim " + dim);
        }
        int ni = imageFeatures.length / dim;
        int nt = textFeatures.length / dim;
        float scale = (float) Math.exp(logitScale);
        float[] out = new float[ni * nt];
        for (int i = 0; i < ni; i++) {
            for (int t = 0; t < nt; t++) {
                out[i * nt + t] = Kernels.dot(imageFeatures, i * dim, textFeatures, t * dim, dim) * scale;
            }
        }
        return out;
    }

    /**
     * The mean over <em>every</em> position of {@code lastHiddenState}, L2-normalized, [batch, hidden]:
     * the simple pooling recipe of the seed comparison's fixtures ({@code flava/mean_pooled_*}). For
     * texts the padding positions are included (the plain {@code mean(dim=1)} the fixtures were made
     * with; a masked mean differs from them by up to 0.08), so the result depends on the padded width.
     */
    public static float[] meanPooled(Encoded e) {
        int b = e.batch();
        int n = e.seqLen();
        int d = e.hidden();
        float[] out = new float[b * d];
        double[] acc = new double[d];
        for (int r = 0; r < b; r++) {
            java.util.Arrays.fill(acc, 0);
            for (int t = 0; t < n; t++) {
                int o = (r * n + t) * d;
                for (int i = 0; i < d; i++) {
                    acc[i] += e.lastHiddenState()[o + i];
                }
            }
            for (int i = 0; i < d; i++) {
                out[r * d + i] = (float) (acc[i] / n);
            }
        }
        Kernels.l2Normalize(out, b, d);
        return out;
    }

    /** The encoder's {@code pooler_output}: {@code tanh(pooler.dense(last_hidden_state[:, 0]))}, [batch, hidden]. */
    public float[] pooled(Encoded e) {
        FlavaEncoder enc = switch (e.modality()) {
            case IMAGE -> imageModel;
            case TEXT -> textModel;
            case MULTIMODAL -> multimodalModel;
        };
        return enc.pool(parallel, e.lastHiddenState(), e.batch(), e.seqLen());
    }

    // ------------------------------------------------------------------ multimodal encoder

    /**
     * The multimodal encoder for image {@code image} of {@code images} paired with every text of
     * {@code texts}: [texts, 1 + imageSeq + textLen, hidden] (row t is the pair (image, text t);
     * without {@code use_cls_token} the leading class token is absent).
     *
     * @param attentionMask the texts' attention mask [texts][textLen], or null for all ones (the
     *                      reference then passes no mask at all, which is the same)
     */
    public Encoded multimodal(Encoded images, int image, Encoded texts, int[][] attentionMask) {
        require(images, Modality.IMAGE, "images");
        require(texts, Modality.TEXT, "texts");
        if (image < 0 || image >= images.batch()) {
            throw new IllegalArgumentException("image " + image + " does not exist; there are " + images.batch());
        }
        int nt = texts.batch();
        int lt = texts.seqLen();
        checkShape("attention mask", attentionMask, nt, lt);
        int li = images.seqLen();
        int dm = config.multimodalConfig().hiddenSize();
        int cls = multimodalClsToken == null ? 0 : 1;
        int seq = cls + li + lt;
        float[] imageRows = new float[li * images.hidden()];
        System.arraycopy(images.beforeLayerNorm(), image * li * images.hidden(), imageRows, 0, imageRows.length);
        // The image's projection is the same for every text: computed once.
        float[] imageMm = imageToMmProjection.forward(parallel, imageRows, li);
        float[] textMm = textToMmProjection.forward(parallel, texts.beforeLayerNorm(), nt * lt);
        float[] x = new float[nt * seq * dm];
        for (int t = 0; t < nt; t++) {
            int base = t * seq * dm;
            if (cls == 1) {
                System.arraycopy(multimodalClsToken, 0, x, base, dm);
            }
            System.arraycopy(imageMm, 0, x, base + cls * dm, li * dm);
            System.arraycopy(textMm, t * lt * dm, x, base + (cls + li) * dm, lt * dm);
        }
        multimodalModel.layers(parallel, x, nt, seq, additiveMask(attentionMask, nt, seq, cls + li));
        return new Encoded(Modality.MULTIMODAL, multimodalModel.finalNorm(parallel, x, nt * seq), x, nt, seq, dm);
    }

    /**
     * Image-text matching logits of {@code FlavaForPreTraining.itm_head} for every pair,
     * [images, texts, 2] (index 1 = match; softmax it for a probability).
     *
     * @param attentionMask the texts' attention mask, or null for all ones
     * @throws IllegalStateException when the checkpoint has no ITM head (a bare {@code FlavaModel})
     */
    public float[] itmLogits(Encoded images, Encoded texts, int[][] attentionMask) {
        if (!hasItmHead()) {
            throw new IllegalStateException("this " + checkpointKind + " checkpoint has no ITM head (itm_head.*);"
                    + " image-text matching needs a FlavaForPreTraining checkpoint such as facebook/flava-full");
        }
        require(images, Modality.IMAGE, "images");
        int nt = texts.batch();
        float[] out = new float[images.batch() * nt * 2];
        for (int i = 0; i < images.batch(); i++) {
            float[] logits = itmHead(multimodal(images, i, texts, attentionMask));
            System.arraycopy(logits, 0, out, i * nt * 2, nt * 2);
        }
        return out;
    }

    /** {@code itm_head}: {@code seq_relationship(tanh(pooler.dense(mm[:, 0])))}, [batch, 2]. */
    public float[] itmHead(Encoded multimodal) {
        if (!hasItmHead()) {
            throw new IllegalStateException("this " + checkpointKind + " checkpoint has no ITM head (itm_head.*)");
        }
        require(multimodal, Modality.MULTIMODAL, "multimodal");
        float[] first = BlipTextModel.firstTokens(multimodal.lastHiddenState(), multimodal.batch(),
                multimodal.seqLen(), multimodal.hidden());
        float[] pooled = itmPoolerDense.forward(parallel, first, multimodal.batch());
        Kernels.tanh(pooled, pooled.length);
        return itmSeqRelationship.forward(parallel, pooled, multimodal.batch());
    }

    // ------------------------------------------------------------------ helpers

    /**
     * {@code (1 - mask) * float32.min} for [rows, lead + mask width], the first {@code lead} positions
     * of every row unmasked; null when there is no mask (every position visible).
     */
    private static float[] additiveMask(int[][] mask, int rows, int seq, int lead) {
        if (mask == null) {
            return null;
        }
        float[] out = new float[rows * seq];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < mask[r].length; j++) {
                out[r * seq + lead + j] = (1f - mask[r][j]) * MASK_VALUE;
            }
        }
        return out;
    }

    private static void checkShape(String what, int[][] a, int rows, int len) {
        if (a == null) {
            return;
        }
        if (a.length != rows) {
            throw new IllegalArgumentException(what + " has " + a.length + " rows, expected " + rows);
        }
        for (int i = 0; i < rows; i++) {
            if (a[i].length != len) {
                throw new IllegalArgumentException(what + " row " + i + " has length " + a[i].length + ", expected "
                        + len);
            }
        }
    }

    private static void require(Encoded e, Modality m, String what) {
        if (e.modality() != m) {
            throw new IllegalArgumentException(what + " must be the " + m + " encoder's output, got " + e.modality());
        }
    }
}
