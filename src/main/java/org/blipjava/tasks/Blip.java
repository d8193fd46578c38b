package org.blipjava.tasks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.blipjava.config.BlipConfig;
import org.blipjava.generation.GenerationConfig;
import org.blipjava.generation.GenerationResult;
import org.blipjava.generation.Generator;
import org.blipjava.generation.StepDecoder;
import org.blipjava.hub.ModelFiles;
import org.blipjava.image.BlipImageProcessor;
import org.blipjava.image.ImageProcessorConfig;
import org.blipjava.image.Images;
import org.blipjava.image.RgbImage;
import org.blipjava.model.BlipForConditionalGeneration;
import org.blipjava.model.BlipForImageTextRetrieval;
import org.blipjava.model.BlipForQuestionAnswering;
import org.blipjava.model.BlipModel;
import org.blipjava.tensor.Parallel;
import org.blipjava.tokenizer.BertTokenizer;
import org.blipjava.tokenizer.Batch;
import org.blipjava.tokenizer.Padding;

/**
 * A loaded BLIP model with its tokenizer and image processor: the Java API of the project.
 *
 * <pre>{@code
 * try (Blip blip = Blip.load("Salesforce/blip-image-captioning-base")) {
 *     String caption = blip.caption(Path.of("photo.jpg")).text();
 * }
 * }</pre>
 *
 * <p>The model argument is a local directory in the Hugging Face layout or a Hub id, resolved
 * through the Hub cache. Which tasks a model serves depends on its head ({@link #kind()}):
 * captioning models caption, VQA models answer, retrieval models match and embed, and
 * {@code BlipModel} checkpoints embed.
 *
 * <p>Thread-safe: one loaded model may be called from many threads at once; every call works on
 * its own buffers. Close it to stop its compute threads.
 */
public final class Blip implements ImageTextModel {
    private final Path directory;
    private final BlipConfig config;
    private final ModelKind kind;
    private final BertTokenizer tokenizer;
    private final BlipImageProcessor processor;
    private final GenerationConfig generationDefaults;
    private final Parallel parallel;
    private final BlipForConditionalGeneration captioner;
    private final BlipForQuestionAnswering vqa;
    private final BlipForImageTextRetrieval retrieval;
    private final BlipModel contrastive;

    private Blip(Path directory, BlipConfig config, ModelKind kind, BertTokenizer tokenizer,
            BlipImageProcessor processor, GenerationConfig generationDefaults, Parallel parallel,
            Object head) {
        this.directory = directory;
        this.config = config;
        this.kind = kind;
        this.tokenizer = tokenizer;
        this.processor = processor;
        this.generationDefaults = generationDefaults;
        this.parallel = parallel;
        this.captioner = head instanceof BlipForConditionalGeneration m ? m : null;
        this.vqa = head instanceof BlipForQuestionAnswering m ? m : null;
        this.retrieval = head instanceof BlipForImageTextRetrieval m ? m : null;
        this.contrastive = head instanceof BlipModel m ? m : null;
    }

    /** Loads a model (a directory or a Hub id) with default options. */
    public static Blip load(String model) {
        return load(model, LoadOptions.defaults());
    }

    /**
     * Loads a model.
     *
     * @param model a directory holding config.json, weights, tokenizer and preprocessor files, or a
     *              Hub id such as {@code Salesforce/blip-image-captioning-base}
     */
    public static Blip load(String model, LoadOptions options) {
        Objects.requireNonNull(model, "model");
        return load(ModelLoading.resolve(model, options, ModelFiles.BLIP), options);
    }

    /** Loads a model from a local directory in the Hugging Face layout. */
    public static Blip load(Path directory, LoadOptions options) {
        BlipConfig config = ModelLoading.config(directory, BlipConfig::read);
        ModelKind kind = ModelKind.fromArchitectures(config.architectures());
        if (kind == null) {
            throw new TaskException(directory.resolve("config.json") + ": architectures "
                    + config.architectures() + " names no BLIP head this project runs (expected one of "
                    + Arrays.stream(ModelKind.values()).map(ModelKind::architecture).toList() + ")");
        }
        BertTokenizer tokenizer = BertTokenizer.load(directory);
        BlipImageProcessor processor = new BlipImageProcessor(readProcessorConfig(directory, config));
        GenerationConfig generation = readGenerationDefaults(directory, config);
        return ModelLoading.build(directory, options, (weights, parallel) -> {
            Object head = switch (kind) {
                case CAPTIONING -> BlipForConditionalGeneration.load(weights, config, parallel, options.precision());
                case QUESTION_ANSWERING -> BlipForQuestionAnswering.load(weights, config, parallel, options.precision());
                case RETRIEVAL -> BlipForImageTextRetrieval.load(weights, config, parallel, options.precision());
                case CONTRASTIVE -> BlipModel.load(weights, config, parallel, options.precision());
            };
            return new Blip(directory, config, kind, tokenizer, processor, generation, parallel, head);
        });
    }

    private static ImageProcessorConfig readProcessorConfig(Path dir, BlipConfig config) {
        Path file = dir.resolve("preprocessor_config.json");
        if (Files.isRegularFile(file)) {
            return ImageProcessorConfig.read(file);
        }
        // Without a processor file the reference's BlipImageProcessor defaults apply, at the
        // resolution the vision tower was trained for.
        return ImageProcessorConfig.defaults().withSize(config.vision().imageSize(), config.vision().imageSize());
    }

    private static GenerationConfig readGenerationDefaults(Path dir, BlipConfig config) {
        Path file = dir.resolve("generation_config.json");
        GenerationConfig g;
        try {
            g = Files.isRegularFile(file) ? GenerationConfig.fromJson(file) : GenerationConfig.defaults();
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
        }
        return withBlipTokens(g, config);
    }

    /**
     * BLIP's generate() always ends at [SEP] and pads with the text config's pad id, whatever
     * generation_config.json says (its eos_token_id is the unused BERT id 2).
     */
    private static GenerationConfig withBlipTokens(GenerationConfig g, BlipConfig config) {
        return g.toBuilder().bosTokenId(config.text().bosTokenId()).eosTokenId(config.text().sepTokenId())
                .padTokenId(config.text().padTokenId()).build();
    }

    /** The directory the model was loaded from (a Hub snapshot for Hub ids). */
    @Override
    public Path directory() {
        return directory;
    }

    @Override
    public ModelFamily family() {
        return ModelFamily.BLIP;
    }

    @Override
    public String architecture() {
        return kind.architecture();
    }

    @Override
    public boolean embeds() {
        return retrieval != null || contrastive != null;
    }

    @Override
    public int embeddingDimension() {
        requireEmbedding();
        return retrieval != null ? config.imageTextHiddenSize() : config.projectionDim();
    }

    @Override
    public boolean hasMatchHead() {
        return retrieval != null;
    }

    @Override
    public double logitScale() {
        requireEmbedding();
        // BlipModel carries its trained scale; Hugging Face's retrieval checkpoints drop BLIP's
        // learned temperature, so the config's initial value (1/0.07) stands in.
        return Math.exp(contrastive != null ? contrastive.logitScale() : config.logitScaleInitValue());
    }

    public BlipConfig config() {
        return config;
    }

    /** The head this checkpoint holds, which decides the tasks it serves. */
    public ModelKind kind() {
        return kind;
    }

    public BertTokenizer tokenizer() {
        return tokenizer;
    }

    public BlipImageProcessor imageProcessor() {
        return processor;
    }

    /**
     * The generation settings the model comes with (its generation_config.json over the
     * reference's defaults, ending at [SEP]); start from these to change a few settings.
     */
    public GenerationConfig generationDefaults() {
        return generationDefaults;
    }

    /**
     * Decodes an image file as the reference's processor would see it (huge images reduced, see
     * {@link org.blipjava.image.ImageDecoder}). Every failure, running out of memory included, is
     * an {@link org.blipjava.image.ImageException} naming the file, so a batch can skip it.
     */
    public static RgbImage readImage(Path file) {
        return Images.read(file);
    }

    // ---------------------------------------------------------------- captioning

    /** Captions one image file with the model's default generation settings. */
    public GeneratedText caption(Path image) {
        return caption(List.of(readImage(image)), null, generationDefaults).get(0);
    }

    /** Captions one image with the model's default generation settings. */
    public GeneratedText caption(RgbImage image) {
        return caption(List.of(image), null, generationDefaults).get(0);
    }

    /**
     * Captions a batch of images.
     *
     * @param images     the images, encoded as one batch
     * @param prompt     text the caption must start with (for example "a picture of"), or null
     * @param generation decoding settings (see {@link #generationDefaults()})
     * @return {@code numReturnSequences} captions per image, image by image
     */
    public List<GeneratedText> caption(List<RgbImage> images, String prompt, GenerationConfig generation) {
        requireKind(ModelKind.CAPTIONING, "caption");
        return images.isEmpty() ? List.of() : caption(pixels(images), prompt, generation);
    }

    /** Captions a batch of already preprocessed images; see {@link #caption(List, String, GenerationConfig)}. */
    public List<GeneratedText> caption(PixelValues pixels, String prompt, GenerationConfig generation) {
        requireKind(ModelKind.CAPTIONING, "caption");
        int[] promptIds = decoderPrompt(prompt);
        GenerationConfig g = forBlip(generation);
        checkPromptLength(promptIds.length, g, prompt);
        int n = pixels.count();
        if (n == 0) {
            return List.of();
        }
        float[] imageEmbeds = captioner.vision(pixels.values(), n, pixels.height(), pixels.width()).lastHiddenState();
        int maxLength = g.maxLengthFor(promptIds.length);
        StepDecoder.Factory factory = captioner.decoderFactory(imageEmbeds, n, maxLength);
        return decode(Generator.generate(factory, n, promptIds, g));
    }

    /**
     * The caption decoder's cross-attention over the image for a token sequence, for attention
     * maps: {@code [heads, tokenIds.length, positions]} where position 0 is the vision CLS token
     * and the rest are the patch grid row by row; row {@code t} is what the decoder looked at when
     * it predicted token {@code t + 1}. Each row sums to 1.
     *
     * @param image the image
     * @param tokenIds decoder ids, {@code [DEC]} first (as {@link GeneratedText#tokenIds()})
     * @param layer 0-based decoder layer
     */
    public float[] captionCrossAttention(RgbImage image, int[] tokenIds, int layer) {
        requireKind(ModelKind.CAPTIONING, "compute caption attention maps");
        PixelValues px = pixels(List.of(image));
        float[] imageEmbeds = captioner.vision(px.values(), 1, px.height(), px.width()).lastHiddenState();
        try {
            return captioner.crossAttention(imageEmbeds, tokenIds, layer);
        } catch (IllegalArgumentException e) {
            throw new TaskException(e.getMessage());
        }
    }

    /**
     * The decoder's start ids: {@code [DEC]}, then the prompt's tokens without the final
     * {@code [SEP]} (the reference tokenizes {@code [CLS] prompt [SEP]}, replaces {@code [CLS]}
     * by {@code [DEC]} and drops the last id).
     */
    private int[] decoderPrompt(String prompt) {
        if (prompt == null || prompt.isEmpty()) {
            return new int[] {config.text().bosTokenId()};
        }
        int[] ids = tokenizer.encode(prompt);
        int[] out = Arrays.copyOf(ids, ids.length - 1);
        out[0] = config.text().bosTokenId();
        return out;
    }

    private void checkPromptLength(int promptLength, GenerationConfig g, String prompt) {
        int limit = config.text().maxPositionEmbeddings();
        String start = prompt == null || prompt.isEmpty() ? "the decoder's start ([DEC])"
                : "the prompt " + TaskException.quote(prompt) + " with [DEC]";
        if (promptLength >= limit) {
            throw new TaskException(start + " is " + promptLength
                    + " tokens; this model reads at most " + limit + " tokens, so use a shorter prompt");
        }
        if (g.maxNewTokens() == null && promptLength >= g.maxLength()) {
            throw new TaskException(start + " is " + promptLength
                    + " tokens, which leaves nothing to generate within max_length " + g.maxLength()
                    + "; raise --max-length or use --max-new-tokens");
        }
        if (g.maxLengthFor(promptLength) > limit) {
            throw new TaskException("max_length " + g.maxLengthFor(promptLength) + " exceeds the "
                    + limit + " positions this model's text decoder has; lower --max-length or --max-new-tokens");
        }
    }

    // ---------------------------------------------------------------- VQA

    /** Answers one question about one image file with the model's default settings. */
    public GeneratedText answer(Path image, String question) {
        return answer(List.of(readImage(image)), List.of(question), generationDefaults).get(0);
    }

    /**
     * Answers questions about images: question {@code i} is asked about image {@code i}. The
     * questions are encoded as one batch padded to the longest, and the answer decoder attends to
     * every question position, padding included, as the reference's {@code generate} does.
     *
     * @return {@code numReturnSequences} answers per pair, pair by pair
     */
    public List<GeneratedText> answer(List<RgbImage> images, List<String> questions, GenerationConfig generation) {
        requireKind(ModelKind.QUESTION_ANSWERING, "answer questions");
        return images.isEmpty() && questions.isEmpty() ? List.of()
                : answer(images.isEmpty() ? null : pixels(images), questions, generation);
    }

    /** Answers questions about already preprocessed images; see {@link #answer(List, List, GenerationConfig)}. */
    public List<GeneratedText> answer(PixelValues pixels, List<String> questions, GenerationConfig generation) {
        requireKind(ModelKind.QUESTION_ANSWERING, "answer questions");
        int n = pixels == null ? 0 : pixels.count();
        if (n != questions.size()) {
            throw new IllegalArgumentException("answer: " + n + " images but " + questions.size()
                    + " questions; pass one question per image");
        }
        if (n == 0) {
            return List.of();
        }
        Batch q = tokenizer.encodeBatch(questions, null, Padding.LONGEST);
        int qLen = q.inputIds()[0].length;
        int limit = config.text().maxPositionEmbeddings();
        if (qLen > limit) {
            // The batch is padded to its longest question: name that one (its mask has qLen ones).
            int longest = 0;
            while (Arrays.stream(q.attentionMask()[longest]).sum() < qLen) {
                longest++;
            }
            throw new TaskException((n > 1 ? "question " + (longest + 1) + " " : "the question ")
                    + TaskException.quote(questions.get(longest)) + " is " + qLen
                    + " tokens; this model reads at most " + limit + " tokens, so ask a shorter question");
        }
        GenerationConfig g = forBlip(generation);
        int[] start = {config.text().bosTokenId()};
        checkPromptLength(1, g, null);
        float[] imageEmbeds = vqa.vision(pixels.values(), n, pixels.height(), pixels.width()).lastHiddenState();
        float[] questionEmbeds = vqa.encodeQuestions(imageEmbeds, n, q.inputIds(), q.attentionMask());
        StepDecoder.Factory factory = vqa.decoderFactory(questionEmbeds, n, qLen, null, g.maxLengthFor(1));
        return decode(Generator.generate(factory, n, start, g));
    }

    // ---------------------------------------------------------------- matching and embeddings

    /**
     * Scores every image against every text: the ITM match probability (image-grounded encoder)
     * and the ITC cosine similarity of the normalized projected features.
     */
    @Override
    public MatchScores match(List<RgbImage> images, List<String> texts) {
        if (contrastive != null) {
            return ImageTextModel.super.match(images, texts);
        }
        requireKind(ModelKind.RETRIEVAL, "match images and texts");
        if (images.isEmpty() || texts.isEmpty()) {
            return new MatchScores(new float[images.size()][0], new float[images.size()][0]);
        }
        return match(pixels(images), texts);
    }

    /** Scores already preprocessed images against texts; see {@link #match(List, List)}. */
    @Override
    public MatchScores match(PixelValues pixels, List<String> texts) {
        if (contrastive != null) {
            // BlipModel has no matching head: cosines of its embeddings only.
            return new MatchScores(null, ImageTextModel.cosines(embedImages(pixels), embedTexts(texts)));
        }
        requireKind(ModelKind.RETRIEVAL, "match images and texts");
        int n = pixels.count();
        if (n == 0 || texts.isEmpty()) {
            return new MatchScores(new float[n][0], new float[n][0]);
        }
        return match(imageStates(pixels), texts);
    }

    /**
     * Scores images already encoded by {@link #imageStates(PixelValues)} against texts; the
     * scores are those of {@link #match(List, List)} on the same images, bit for bit.
     */
    public MatchScores match(ImageStates states, List<String> texts) {
        requireKind(ModelKind.RETRIEVAL, "match images and texts");
        requireShape(states);
        int n = states.count();
        if (n == 0 || texts.isEmpty()) {
            return new MatchScores(new float[n][0], new float[n][0]);
        }
        return scores(states, encodeTexts(texts));
    }

    /**
     * As {@link #match(PixelValues, List)} for texts tokenized by the caller, for example
     * truncated to the text encoder's positions with {@code tokenizer().encodeBatch(texts,
     * config().text().maxPositionEmbeddings(), Padding.LONGEST)} (the reference processor's
     * {@code truncation=True}). Needs a retrieval model.
     */
    public MatchScores match(PixelValues pixels, Batch texts) {
        requireKind(ModelKind.RETRIEVAL, "match images and texts");
        int n = pixels.count();
        if (n == 0 || texts.size() == 0) {
            return new MatchScores(new float[n][0], new float[n][0]);
        }
        return scores(imageStates(pixels), requireFits(texts));
    }

    private MatchScores scores(ImageStates states, Batch t) {
        int n = states.count();
        float[] imageEmbeds = states.values();
        int nt = t.size();
        float[] probs = BlipForImageTextRetrieval.matchProbabilities(
                retrieval.itmLogits(imageEmbeds, n, t.inputIds(), t.attentionMask()), n, nt);
        float[] cos = retrieval.cosine(retrieval.imageFeatures(imageEmbeds, n), n,
                retrieval.textFeatures(t.inputIds(), t.attentionMask()), nt);
        return new MatchScores(Rows.split(probs, n), Rows.split(cos, n));
    }

    /**
     * Encodes preprocessed images with the vision tower of a retrieval model: the states that
     * {@link #match(ImageStates, List)} and {@link #embedImages(ImageStates)} read.
     */
    public ImageStates imageStates(PixelValues px) {
        requireKind(ModelKind.RETRIEVAL, "encode images for matching");
        ImageStates.Shape shape = imageStateShape();
        if (px.count() == 0) {
            return new ImageStates(new float[0], 0, shape.seqLen(), shape.hidden());
        }
        float[] states = retrieval.vision(px.values(), px.count(), px.height(), px.width()).lastHiddenState();
        return new ImageStates(states, px.count(), shape.seqLen(), shape.hidden());
    }

    /** The shape of one image's {@link #imageStates} at this model's processor resolution. */
    public ImageStates.Shape imageStateShape() {
        requireKind(ModelKind.RETRIEVAL, "encode images for matching");
        int p = config.vision().patchSize();
        int seq = (processor.config().height() / p) * (processor.config().width() / p) + 1;
        return new ImageStates.Shape(seq, config.vision().hiddenSize());
    }

    private void requireShape(ImageStates states) {
        if (!states.shape().equals(imageStateShape())) {
            throw new IllegalArgumentException("image states of shape [" + states.seqLen() + ", " + states.hidden()
                    + "] per image do not fit this model, which makes " + imageStateShape());
        }
    }

    /**
     * ITM Grad-CAM of a text over an image (BLIP's demo): per text token, how much each image
     * position supports the match, from text-encoder layer {@code layer}'s cross-attention and the
     * gradient of the ITM match logit. Needs a retrieval model.
     *
     * @param layer 0-based text-encoder layer (BLIP's demo uses 8 of 12)
     * @return [tokens, positions] with tokens as {@code tokenizer().encode(text)} and position 0
     *     the vision CLS token, then the patch grid row by row
     */
    public float[] itmGradCam(RgbImage image, String text, int layer) {
        requireKind(ModelKind.RETRIEVAL, "compute ITM Grad-CAM maps");
        int[] ids = tokenizer.encode(text);
        if (ids.length > config.text().maxPositionEmbeddings()) {
            throw new TaskException("the text is " + ids.length + " tokens; this model reads at most "
                    + config.text().maxPositionEmbeddings() + " tokens, so shorten it");
        }
        PixelValues px = pixels(List.of(image));
        float[] imageEmbeds = retrieval.vision(px.values(), 1, px.height(), px.width()).lastHiddenState();
        try {
            return retrieval.itmGradCam(imageEmbeds, ids, layer);
        } catch (IllegalArgumentException e) {
            throw new TaskException(e.getMessage());
        }
    }

    /** Normalized image features: ITC features for retrieval models, image embeddings for {@code BlipModel}. */
    @Override
    public float[][] embedImages(List<RgbImage> images) {
        requireEmbedding();
        return images.isEmpty() ? new float[0][] : embedImages(pixels(images));
    }

    /** Normalized features of already preprocessed images; see {@link #embedImages(List)}. */
    @Override
    public float[][] embedImages(PixelValues px) {
        requireEmbedding();
        int n = px.count();
        if (n == 0) {
            return new float[0][];
        }
        if (retrieval != null) {
            return embedImages(imageStates(px));
        }
        float[] feats = contrastive.imageEmbeds(contrastive.vision(px.values(), n, px.height(), px.width()));
        return Rows.split(feats, n);
    }

    /** Normalized ITC features of images already encoded by {@link #imageStates(PixelValues)}. */
    public float[][] embedImages(ImageStates states) {
        requireKind(ModelKind.RETRIEVAL, "embed encoded images");
        requireShape(states);
        int n = states.count();
        if (n == 0) {
            return new float[0][];
        }
        float[] feats = retrieval.imageFeatures(states.values(), n);
        return Rows.split(feats, n);
    }

    /** Normalized text features, the counterpart of {@link #embedImages(List)}. */
    @Override
    public float[][] embedTexts(List<String> texts) {
        requireEmbedding();
        int n = texts.size();
        if (n == 0) {
            return new float[0][];
        }
        Batch t = encodeTexts(texts);
        float[] feats = retrieval != null
                ? retrieval.textFeatures(t.inputIds(), t.attentionMask())
                : contrastive.textEmbeds(t.inputIds(), t.attentionMask());
        return Rows.split(feats, n);
    }

    private Batch encodeTexts(List<String> texts) {
        // The reference processor truncates nothing by default; the text encoder's positions do.
        return requireFits(tokenizer.encodeBatch(texts, null, Padding.LONGEST));
    }

    private Batch requireFits(Batch t) {
        int len = t.inputIds()[0].length;
        int limit = config.text().maxPositionEmbeddings();
        if (len > limit) {
            throw new TaskException("a text is " + len + " tokens; this model reads at most " + limit
                    + " tokens, so shorten it");
        }
        return t;
    }

    private void requireEmbedding() {
        if (retrieval == null && contrastive == null) {
            throw new TaskException(directory + " is a " + kind.architecture() + " (" + kind.description()
                    + ") model; embeddings need a BlipForImageTextRetrieval or BlipModel checkpoint such as "
                    + "Salesforce/blip-itm-base-coco");
        }
    }

    private void requireKind(ModelKind needed, String what) {
        if (kind != needed) {
            throw new TaskException(directory + " is a " + kind.architecture() + " (" + kind.description()
                    + ") model and cannot " + what + "; use a " + needed.architecture() + " checkpoint");
        }
    }

    // ---------------------------------------------------------------- helpers

    /** Preprocesses images as the model's processor config says (resize, rescale, normalize). */
    @Override
    public PixelValues pixels(List<RgbImage> images) {
        float[] values = processor.preprocessBatch(images);
        return new PixelValues(values, images.size(), processor.config().height(), processor.config().width());
    }

    /** The caller's settings with BLIP's special tokens, as the reference's generate() forces them. */
    private GenerationConfig forBlip(GenerationConfig g) {
        return withBlipTokens(Objects.requireNonNull(g, "generation"), config);
    }

    private List<GeneratedText> decode(GenerationResult result) {
        int pad = config.text().padTokenId();
        int[][] seqs = result.sequences();
        float[] scores = result.sequencesScores();
        List<GeneratedText> out = new ArrayList<>(seqs.length);
        for (int i = 0; i < seqs.length; i++) {
            int[] ids = stripTrailing(seqs[i], pad);
            double score = scores == null ? Double.NaN : scores[i];
            out.add(new GeneratedText(tokenizer.decode(ids, true), ids, score));
        }
        return out;
    }

    private static int[] stripTrailing(int[] seq, int pad) {
        int end = seq.length;
        while (end > 1 && seq[end - 1] == pad) {
            end--;
        }
        return Arrays.copyOf(seq, end);
    }

    /** Stops the compute threads. */
    @Override
    public void close() {
        parallel.close();
    }
}
