package org.blipjava.tasks;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import org.blipjava.config.ClipConfig;
import org.blipjava.hub.ModelFiles;
import org.blipjava.image.ImageProcessor;
import org.blipjava.image.RgbImage;
import org.blipjava.model.ClipModel;
import org.blipjava.model.ClipTextModel;
import org.blipjava.model.ClipVisionModel;
import org.blipjava.tensor.Parallel;
import org.blipjava.tokenizer.Batch;
import org.blipjava.tokenizer.ClipTokenizer;
import org.blipjava.tokenizer.Padding;

/**
 * A loaded CLIP model ({@code CLIPModel} checkpoints: OpenAI's and the LAION/open_clip
 * conversions) with its tokenizer and image processor.
 *
 * <pre>{@code
 * try (Clip clip = Clip.load("openai/clip-vit-base-patch32", LoadOptions.defaults())) {
 *     float[][] images = clip.embedImages(List.of(Blip.readImage(Path.of("photo.jpg"))));
 *     float[][] texts = clip.embedTexts(List.of("a photo of a dog", "a photo of a cat"));
 * }
 * }</pre>
 *
 * <p>Texts longer than the text tower's positions (77 tokens for every released checkpoint) are
 * truncated, keeping {@code <|endoftext|>} last, as {@code CLIPProcessor(truncation=True)} does.
 * Thread-safe; close it to stop its compute threads.
 */
public final class Clip implements ImageTextModel {
    private final Path directory;
    private final ClipConfig config;
    private final ClipTokenizer tokenizer;
    private final ImageProcessor processor;
    private final Parallel parallel;
    private final ClipModel model;

    private Clip(Path directory, ClipConfig config, ClipTokenizer tokenizer, ImageProcessor processor,
                 Parallel parallel, ClipModel model) {
        this.directory = directory;
        this.config = config;
        this.tokenizer = tokenizer;
        this.processor = processor;
        this.parallel = parallel;
        this.model = model;
    }

    /** Loads a CLIP model from a directory or a Hub id such as {@code openai/clip-vit-base-patch32}. */
    public static Clip load(String model, LoadOptions options) {
        Objects.requireNonNull(model, "model");
        return load(ModelLoading.resolve(model, options, ModelFiles.CLIP), options);
    }

    /** Loads a CLIP model from a local directory in the Hugging Face layout. */
    public static Clip load(Path directory, LoadOptions options) {
        ModelFamily family = ModelFamily.of(directory);
        if (family != ModelFamily.CLIP) {
            throw new TaskException(directory + " holds a " + family.displayName() + " model, not CLIP");
        }
        ClipConfig config = ModelLoading.config(directory, ClipConfig::read);
        ClipTokenizer tokenizer = ClipTokenizer.load(directory);
        ImageProcessor processor = ImageProcessor.fromPretrained(directory);
        return ModelLoading.build(directory, options, (weights, parallel) -> new Clip(directory, config, tokenizer,
                processor, parallel, ClipModel.load(weights, config, parallel, options.precision())));
    }

    public ClipConfig config() {
        return config;
    }

    public ClipTokenizer tokenizer() {
        return tokenizer;
    }

    public ImageProcessor imageProcessor() {
        return processor;
    }

    @Override
    public ModelFamily family() {
        return ModelFamily.CLIP;
    }

    @Override
    public String architecture() {
        return config.architectures().isEmpty() ? "CLIPModel" : config.architectures().getFirst();
    }

    @Override
    public Path directory() {
        return directory;
    }

    @Override
    public PixelValues pixels(List<RgbImage> images) {
        return PixelValues.of(processor, images);
    }

    @Override
    public boolean embeds() {
        return true;
    }

    @Override
    public int embeddingDimension() {
        return config.projectionDim();
    }

    /** The vision tower's states and pooled class token for preprocessed images. */
    public ClipVisionModel.Output vision(PixelValues px) {
        return model.vision(px.values(), px.count(), px.height(), px.width());
    }

    /** The text tower's states and pooled output for texts (padded to the longest, truncated to the positions). */
    public ClipTextModel.Output text(List<String> texts) {
        return text(encode(texts));
    }

    /** The text tower's states and pooled output for texts tokenized by the caller. */
    public ClipTextModel.Output text(Batch texts) {
        return model.text(texts.inputIds(), texts.attentionMask());
    }

    @Override
    public float[][] embedImages(PixelValues px) {
        if (px.count() == 0) {
            return new float[0][];
        }
        return Rows.split(model.imageEmbeds(vision(px)), px.count());
    }

    @Override
    public float[][] embedTexts(List<String> texts) {
        return texts.isEmpty() ? new float[0][] : embedTexts(encode(texts));
    }

    /** Normalized text embeddings of texts tokenized by the caller (for example padded to a fixed width). */
    public float[][] embedTexts(Batch texts) {
        return Rows.split(model.textEmbeds(text(texts)), texts.size());
    }

    private Batch encode(List<String> texts) {
        int limit = Math.min(tokenizer.modelMaxLength(), config.text().maxPositionEmbeddings());
        return tokenizer.encodeBatch(texts, limit, Padding.LONGEST);
    }

    @Override
    public boolean hasMatchHead() {
        return false;
    }

    /** CLIP has no matching head: the scores hold cosines only ({@code itm} is null). */
    @Override
    public MatchScores match(PixelValues pixels, List<String> texts) {
        return new MatchScores(null, ImageTextModel.cosines(embedImages(pixels), embedTexts(texts)));
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
