package org.blipjava.tasks;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import org.blipjava.hub.ModelFiles;
import org.blipjava.hub.ModelLocator;
import org.blipjava.image.RgbImage;

/**
 * A loaded vision-language model of any supported family ({@link ModelFamily}) seen through what
 * the families share: images and texts embedded into one space, and every image scored against
 * every text. BLIP, CLIP and FLAVA checkpoints load through {@link #load(String, LoadOptions)},
 * which reads {@code model_type} from config.json; the family-specific API ({@link Blip},
 * {@link Clip}, {@link Flava}) offers more (captions, answers, the raw encoder states).
 *
 * <p>Implementations are thread-safe after loading. Close the model to stop its compute threads.
 */
public interface ImageTextModel extends AutoCloseable {

    /** Loads a model (a directory or a Hub id) of any supported family. */
    static ImageTextModel load(String model, LoadOptions options) {
        Objects.requireNonNull(model, "model");
        Path dir;
        try (ModelLocator locator = options.listener() == null
                ? ModelLocator.fromSystem() : ModelLocator.fromSystem(options.listener())) {
            dir = resolve(locator, model, options.revision());
        }
        return load(dir, options);
    }

    /**
     * Resolves a model argument of any family to a directory: a local directory as it is; for a
     * Hub id, config.json first (its {@code model_type} names the family), then the files that
     * family needs (CLIP's vocab.json and merges.txt, BLIP's and FLAVA's vocab.txt, the weights).
     *
     * @param revision branch, tag or commit; null for main
     */
    static Path resolve(ModelLocator locator, String model, String revision) {
        Path dir = locator.resolve(model, revision, ModelFiles.CONFIG);
        return locator.resolve(model, revision, ModelFamily.of(dir).files());
    }

    /** Loads a model of any supported family from a local directory in the Hugging Face layout. */
    static ImageTextModel load(Path directory, LoadOptions options) {
        return switch (ModelFamily.of(directory)) {
            case BLIP -> Blip.load(directory, options);
            case CLIP -> Clip.load(directory, options);
            case FLAVA -> Flava.load(directory, options);
        };
    }

    /** Which family the checkpoint belongs to. */
    ModelFamily family();

    /** The checkpoint's class as config.json's {@code architectures} names it (for example {@code CLIPModel}). */
    String architecture();

    /** The directory the model was loaded from (a Hub snapshot for Hub ids). */
    Path directory();

    /** Preprocesses images as the model's processor config says. */
    PixelValues pixels(List<RgbImage> images);

    /** Whether this checkpoint embeds images and texts (every CLIP and FLAVA one; BLIP's retrieval and {@code BlipModel} heads). */
    boolean embeds();

    /** Width of the embeddings of {@link #embedImages} and {@link #embedTexts}. */
    int embeddingDimension();

    /** L2-normalized image embeddings, one row per image; their dot products with text embeddings are cosines. */
    default float[][] embedImages(List<RgbImage> images) {
        return images.isEmpty() ? new float[0][] : embedImages(pixels(images));
    }

    /** L2-normalized embeddings of already preprocessed images. */
    float[][] embedImages(PixelValues pixels);

    /** L2-normalized text embeddings, one row per text. */
    float[][] embedTexts(List<String> texts);

    /**
     * Whether the checkpoint has an image-text matching head that reads image and text together
     * (BLIP's ITM, FLAVA pre-training's {@code itm_head}); CLIP has none.
     */
    boolean hasMatchHead();

    /**
     * Every image scored against every text: the cosine of the embeddings ({@code itc}) and, when
     * {@link #hasMatchHead()}, the matching head's probability ({@code itm}, else null).
     */
    default MatchScores match(List<RgbImage> images, List<String> texts) {
        if (images.isEmpty()) {
            return new MatchScores(hasMatchHead() ? new float[0][] : null, new float[0][]);
        }
        return match(pixels(images), texts);
    }

    /** As {@link #match(List, List)} for already preprocessed images. */
    MatchScores match(PixelValues pixels, List<String> texts);

    /**
     * The factor by which cosines are multiplied before a softmax over candidates: exp of the
     * trained {@code logit_scale} for CLIP, FLAVA and {@code BlipModel}; for BLIP retrieval
     * checkpoints, which do not carry BLIP's learned temperature, exp of the config's
     * {@code logit_scale_init_value} (1/0.07).
     */
    double logitScale();

    /** Stops the compute threads. */
    @Override
    void close();

    /** Cosines of normalized rows: {@code [images][texts]}. */
    static float[][] cosines(float[][] images, float[][] texts) {
        float[][] out = new float[images.length][texts.length];
        for (int i = 0; i < images.length; i++) {
            for (int t = 0; t < texts.length; t++) {
                double s = 0;
                for (int k = 0; k < images[i].length; k++) {
                    s += images[i][k] * texts[t][k];
                }
                out[i][t] = (float) s;
            }
        }
        return out;
    }
}
