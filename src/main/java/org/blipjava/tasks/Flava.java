package org.blipjava.tasks;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import org.blipjava.config.FlavaConfig;
import org.blipjava.hub.ModelFiles;
import org.blipjava.image.ImageProcessor;
import org.blipjava.image.RgbImage;
import org.blipjava.model.FlavaModel;
import org.blipjava.tensor.Parallel;
import org.blipjava.tokenizer.Batch;
import org.blipjava.tokenizer.BertTokenizer;
import org.blipjava.tokenizer.Padding;

/**
 * A loaded FLAVA model with its BERT tokenizer and image processor: {@code FlavaModel}
 * checkpoints (contrastive features) and {@code FlavaForPreTraining} ones such as
 * {@code facebook/flava-full}, whose ITM head also gives an image-text match probability.
 *
 * <p>Embeddings are the reference's {@code image_features}/{@code text_features}: the projection
 * of each encoder's first position, L2-normalized. Every image is converted to RGB first (the
 * reference's processor is not, and fails on grayscale images). Texts are truncated to the text
 * encoder's positions. Thread-safe; close it to stop its compute threads.
 */
public final class Flava implements ImageTextModel {
    private final Path directory;
    private final FlavaConfig config;
    private final BertTokenizer tokenizer;
    private final ImageProcessor processor;
    private final Parallel parallel;
    private final FlavaModel model;

    private Flava(Path directory, FlavaConfig config, BertTokenizer tokenizer, ImageProcessor processor,
                  Parallel parallel, FlavaModel model) {
        this.directory = directory;
        this.config = config;
        this.tokenizer = tokenizer;
        this.processor = processor;
        this.parallel = parallel;
        this.model = model;
    }

    /** Loads a FLAVA model from a directory or a Hub id such as {@code facebook/flava-full}. */
    public static Flava load(String model, LoadOptions options) {
        Objects.requireNonNull(model, "model");
        return load(ModelLoading.resolve(model, options, ModelFiles.FLAVA), options);
    }

    /** Loads a FLAVA model from a local directory in the Hugging Face layout. */
    public static Flava load(Path directory, LoadOptions options) {
        ModelFamily family = ModelFamily.of(directory);
        if (family != ModelFamily.FLAVA) {
            throw new TaskException(directory + " holds a " + family.displayName() + " model, not FLAVA");
        }
        FlavaConfig config = ModelLoading.config(directory, FlavaConfig::read);
        BertTokenizer tokenizer = BertTokenizer.load(directory);
        ImageProcessor processor = ImageProcessor.fromPretrained(directory);
        return ModelLoading.build(directory, options, (weights, parallel) -> new Flava(directory, config, tokenizer,
                processor, parallel, FlavaModel.load(weights, config, parallel, options.precision())));
    }

    public FlavaConfig config() {
        return config;
    }

    public BertTokenizer tokenizer() {
        return tokenizer;
    }

    public ImageProcessor imageProcessor() {
        return processor;
    }

    @Override
    public ModelFamily family() {
        return ModelFamily.FLAVA;
    }

    @Override
    public String architecture() {
        return config.architectures().isEmpty() ? "FlavaModel" : config.architectures().getFirst();
    }

    @Override
    public Path directory() {
        return directory;
    }

    @Override
    public PixelValues pixels(List<RgbImage> images) {
        return PixelValues.of(processor, images);
    }

    /** The image encoder's output for preprocessed images. */
    public FlavaModel.Encoded encodeImages(PixelValues px) {
        return model.encodeImages(px.values(), px.count(), px.height(), px.width());
    }

    /** The tokenized texts (padded to the longest, truncated to the text encoder's positions). */
    public Batch tokenize(List<String> texts) {
        int limit = Math.min(tokenizer.modelMaxLength(), config.textConfig().maxPositionEmbeddings());
        return tokenizer.encodeBatch(texts, limit, Padding.LONGEST);
    }

    /** The text encoder's output for tokenized texts. */
    public FlavaModel.Encoded encodeTexts(Batch texts) {
        return model.encodeTexts(texts.inputIds(), texts.attentionMask(), null);
    }

    @Override
    public boolean embeds() {
        return true;
    }

    @Override
    public int embeddingDimension() {
        return config.projectionDim();
    }

    @Override
    public float[][] embedImages(PixelValues px) {
        if (px.count() == 0) {
            return new float[0][];
        }
        return Rows.split(model.imageFeatures(encodeImages(px)), px.count());
    }

    @Override
    public float[][] embedTexts(List<String> texts) {
        return texts.isEmpty() ? new float[0][] : embedTexts(tokenize(texts));
    }

    /** Normalized text features of texts tokenized by the caller (for example padded to a fixed width). */
    public float[][] embedTexts(Batch texts) {
        return Rows.split(model.textFeatures(encodeTexts(texts)), texts.size());
    }

    @Override
    public boolean hasMatchHead() {
        return model.hasItmHead();
    }

    /**
     * Cosines of the features and, for {@code FlavaForPreTraining} checkpoints, the ITM head's
     * match probability (softmax of its two logits, class 1) from the multimodal encoder.
     */
    @Override
    public MatchScores match(PixelValues pixels, List<String> texts) {
        int n = pixels.count();
        if (n == 0 || texts.isEmpty()) {
            return new MatchScores(hasMatchHead() ? new float[n][0] : null, new float[n][0]);
        }
        return match(pixels, tokenize(texts));
    }

    /** As {@link #match(PixelValues, List)} for texts tokenized by the caller. */
    public MatchScores match(PixelValues pixels, Batch b) {
        int n = pixels.count();
        int nt = b.size();
        FlavaModel.Encoded im = encodeImages(pixels);
        FlavaModel.Encoded tx = encodeTexts(b);
        float[][] cos = ImageTextModel.cosines(Rows.split(model.imageFeatures(im), n),
                Rows.split(model.textFeatures(tx), nt));
        if (!hasMatchHead()) {
            return new MatchScores(null, cos);
        }
        float[] logits = model.itmLogits(im, tx, b.attentionMask());
        float[][] probs = new float[n][nt];
        for (int i = 0; i < n; i++) {
            for (int t = 0; t < nt; t++) {
                int o = (i * nt + t) * 2;
                // softmax over (no match, match), class 1
                probs[i][t] = (float) (1.0 / (1.0 + Math.exp((double) logits[o] - logits[o + 1])));
            }
        }
        return new MatchScores(probs, cos);
    }

    @Override
    public double logitScale() {
        return Math.exp(model.logitScale());
    }

    @Override
    public void close() {
        parallel.close();
    }
}
