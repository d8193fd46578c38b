package org.blipjava.model;

import org.blipjava.checkpoint.StateDict;
import org.blipjava.config.BlipConfig;
import org.blipjava.generation.StepDecoder;
import org.blipjava.tensor.Parallel;
import org.blipjava.tensor.WeightPrecision;

/**
 * Visual question answering ({@code vision_model.*}, {@code text_encoder.*}, {@code text_decoder.*}):
 * the question runs through the image-grounded text encoder; the answer decoder cross-attends
 * to that encoding.
 *
 * <p>Immutable and thread-safe after loading.
 */
public final class BlipForQuestionAnswering {
    private final BlipConfig config;
    private final BlipVisionModel visionModel;
    private final BlipTextModel textEncoder;
    private final BlipTextLMHeadModel textDecoder;

    private BlipForQuestionAnswering(BlipConfig config, BlipVisionModel visionModel, BlipTextModel textEncoder,
                                     BlipTextLMHeadModel textDecoder) {
        this.config = config;
        this.visionModel = visionModel;
        this.textEncoder = textEncoder;
        this.textDecoder = textDecoder;
    }

    /** Copies the weights out of {@code sd}; untaken keys are an error naming them. */
    public static BlipForQuestionAnswering load(StateDict sd, BlipConfig config, Parallel parallel) {
        return load(sd, config, parallel, WeightPrecision.F32);
    }

    /** As {@link #load(StateDict, BlipConfig, Parallel)} with the transformers' weights stored at {@code precision}. */
    public static BlipForQuestionAnswering load(StateDict sd, BlipConfig config, Parallel parallel,
                                                WeightPrecision precision) {
        BlipVisionModel vision = BlipVisionModel.load(sd, "vision_model.", config.vision(), parallel, precision);
        BlipTextModel encoder = BlipTextModel.load(sd, "text_encoder.", config.text(), false, parallel, precision);
        BlipTextLMHeadModel decoder = BlipTextLMHeadModel.load(sd, "text_decoder.", config.text(), parallel, precision);
        sd.requireAllTaken();
        return new BlipForQuestionAnswering(config, vision, encoder, decoder);
    }

    public BlipConfig config() {
        return config;
    }

    public BlipTextLMHeadModel textDecoder() {
        return textDecoder;
    }

    /** Encodes images [batch, 3, h, w]. */
    public BlipVisionModel.Output vision(float[] pixels, int batch, int h, int w) {
        return visionModel.forward(pixels, batch, h, w);
    }

    /**
     * The question encoder's output: question i ({@code [CLS] question [SEP]}, as given) attends to
     * image i, [batch, questionLen, hidden].
     *
     * @param imageEmbeds the vision tower's {@code lastHiddenState} [batch, seq, visionHidden]
     */
    public float[] encodeQuestions(float[] imageEmbeds, int batch, int[][] questionIds, int[][] questionMask) {
        if (questionIds.length != batch) {
            throw new IllegalArgumentException(questionIds.length + " questions for " + batch + " images");
        }
        int d = visionModel.hiddenSize();
        if (imageEmbeds.length % (batch * d) != 0) {
            throw new IllegalArgumentException("image embeddings of " + imageEmbeds.length
                    + " floats are not [" + batch + ", seq, " + d + "]");
        }
        Conditioning images = Conditioning.unmasked(imageEmbeds, batch, imageEmbeds.length / (batch * d), d);
        return textEncoder.forward(questionIds, questionMask, false, images, null);
    }

    /**
     * The training loss of the reference's forward: the answer decoder reads the question
     * encoding through the question's attention mask; the loss is the LM loss of
     * {@code labels} (answer ids with padding -100) with the config's label smoothing.
     */
    public double answerLoss(float[] imageEmbeds, int batch, int[][] questionIds, int[][] questionMask,
                             int[][] answerIds, int[][] answerMask, int[][] labels) {
        float[] questions = encodeQuestions(imageEmbeds, batch, questionIds, questionMask);
        int qLen = questionIds[0].length;
        Conditioning c = new Conditioning(questions, batch, qLen, textEncoder.hiddenSize(), questionMask);
        float[] logits = textDecoder.logits(answerIds, answerMask, c, null);
        return BlipTextLMHeadModel.lmLoss(logits, batch, answerIds[0].length, textDecoder.vocabSize(), labels,
                config.text().labelSmoothing());
    }

    /**
     * Cached answer decoders over encoded questions.
     *
     * @param questionEmbeds [batch, questionLen, hidden] from {@link #encodeQuestions}
     * @param questionMask   [batch][questionLen], or null to attend to every position, padding
     *                       included, as the reference's {@code generate} does
     * @param maxLength      the longest answer a row may reach, [DEC] included
     */
    public StepDecoder.Factory decoderFactory(float[] questionEmbeds, int batch, int questionLen, int[][] questionMask,
                                              int maxLength) {
        Conditioning c = new Conditioning(questionEmbeds, batch, questionLen, textEncoder.hiddenSize(), questionMask);
        return textDecoder.decoderFactory(c, maxLength);
    }
}
