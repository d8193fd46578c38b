package org.blipjava.capfilt;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import org.blipjava.generation.GenerationConfig;
import org.blipjava.image.ImageProcessorConfig;
import org.blipjava.image.Images;
import org.blipjava.image.RgbImage;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.GeneratedText;
import org.blipjava.tasks.MatchScores;
import org.blipjava.tasks.ModelKind;
import org.blipjava.tasks.PixelValues;
import org.blipjava.tokenizer.Batch;
import org.blipjava.tokenizer.Padding;

/**
 * CapFilt on one image: the captioner samples synthetic captions, the filter scores them and the
 * web captions with ITM and ITC, and the settings decide which are kept. Each image is handled
 * on its own with its own seed, so a result never depends on which images were processed with it.
 * Thread-safe (the models are); it does not own the models.
 */
public final class CapFilter {
    private final Blip captioner;
    private final Blip filter;
    private final CapfiltSettings settings;
    private final GenerationConfig generation;
    private final int promptTokens;
    private final boolean sharedPixels;

    /**
     * @param captioner a captioning model ({@code BlipForConditionalGeneration})
     * @param filter a retrieval model ({@code BlipForImageTextRetrieval})
     * @throws IllegalArgumentException naming the model that has the wrong head
     */
    public CapFilter(Blip captioner, Blip filter, CapfiltSettings settings) {
        this.captioner = Objects.requireNonNull(captioner, "captioner");
        this.filter = Objects.requireNonNull(filter, "filter");
        this.settings = Objects.requireNonNull(settings, "settings");
        if (captioner.kind() != ModelKind.CAPTIONING) {
            throw new IllegalArgumentException("--captioner " + captioner.directory() + " is a "
                    + captioner.kind().architecture() + "; the captioner must be a "
                    + ModelKind.CAPTIONING.architecture() + " checkpoint");
        }
        if (filter.kind() != ModelKind.RETRIEVAL) {
            throw new IllegalArgumentException("--filter " + filter.directory() + " is a "
                    + filter.kind().architecture() + "; the filter must be a " + ModelKind.RETRIEVAL.architecture()
                    + " checkpoint (ITM and ITC heads)");
        }
        this.generation = captioner.generationDefaults().toBuilder().doSample(true).numBeams(1).topK(0)
                .topP(settings.topP()).numReturnSequences(Math.max(1, settings.numCaptions())).build();
        // The prompt's ids after [DEC], without the final [SEP]: they start every sample and are cut off.
        this.sharedPixels = sameProcessing(captioner.imageProcessor().config(), filter.imageProcessor().config());
        this.promptTokens = settings.prompt() == null ? 1 : captioner.tokenizer().encode(settings.prompt()).length - 1;
    }

    /** Whether both models preprocess images identically, so one pixel tensor serves both. */
    private static boolean sameProcessing(ImageProcessorConfig a, ImageProcessorConfig b) {
        return a.doResize() == b.doResize() && a.height() == b.height() && a.width() == b.width()
                && a.resample() == b.resample() && a.doRescale() == b.doRescale()
                && a.rescaleFactor() == b.rescaleFactor() && a.doNormalize() == b.doNormalize()
                && Arrays.equals(a.imageMean(), b.imageMean()) && Arrays.equals(a.imageStd(), b.imageStd());
    }

    public CapfiltSettings settings() {
        return settings;
    }

    /** An image decoded and preprocessed for both models (done off the model thread). */
    public record Prepared(WebPair pair, PixelValues captionerPixels, PixelValues filterPixels, String error) {}

    /** Decodes and preprocesses one image; a failure is returned with its message, not thrown. */
    public Prepared prepare(WebPair pair) {
        try {
            RgbImage image = pair.imageFile() != null ? Images.read(pair.imageFile())
                    : Images.read(pair.imageBytes(), pair.key() + "." + pair.imageExt());
            PixelValues c = settings.numCaptions() > 0 ? captioner.pixels(List.of(image)) : null;
            PixelValues f = c != null && sharedPixels ? c : filter.pixels(List.of(image));
            return new Prepared(pair, c, f, null);
        } catch (RuntimeException e) {
            String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            return new Prepared(pair, null, null, msg);
        }
    }

    /** The synthetic captions of one prepared image (prompt removed, blank ones dropped). */
    public List<String> synthesize(Prepared p) {
        if (settings.numCaptions() == 0) {
            return List.of();
        }
        GenerationConfig g = generation.toBuilder().seed(settings.imageSeed(p.pair().key())).build();
        List<String> out = new ArrayList<>();
        for (GeneratedText t : captioner.caption(p.captionerPixels(), settings.prompt(), g)) {
            int[] ids = t.tokenIds();
            String text = captioner.tokenizer().decode(Arrays.copyOfRange(ids, Math.min(promptTokens, ids.length),
                    ids.length), true).strip();
            if (!text.isEmpty()) {
                out.add(text);
            }
        }
        return out;
    }

    /**
     * Generates, scores and decides for one prepared image; web captions come first. A caption
     * longer than the filter reads ({@link #textLimit()} tokens with {@code [CLS]} and
     * {@code [SEP]}) is scored on its first tokens, as the reference processor does with
     * {@code truncation=True}, and marked {@link Decision#truncated()}; a long web caption does
     * not fail its image.
     */
    public List<Decision> decide(Prepared p) {
        List<String> web = p.pair().captions();
        List<String> synthetic = synthesize(p);
        List<String> texts = new ArrayList<>(web);
        texts.addAll(synthetic);
        if (texts.isEmpty()) {
            return List.of();
        }
        int limit = textLimit();
        Batch batch = filter.tokenizer().encodeBatch(texts, limit, Padding.LONGEST);
        MatchScores s = filter.match(p.filterPixels(), batch);
        boolean[] kept = keep(s.itm()[0]);
        List<Decision> out = new ArrayList<>(texts.size());
        for (int t = 0; t < texts.size(); t++) {
            // Only a row that fills the limit can have been cut; encoding it whole tells.
            boolean truncated = Arrays.stream(batch.attentionMask()[t]).sum() == limit
                    && filter.tokenizer().encode(texts.get(t)).length > limit;
            out.add(new Decision(texts.get(t), t < web.size() ? Decision.Source.WEB : Decision.Source.SYNTHETIC,
                    s.itm(0, t), s.itc(0, t), kept[t], truncated));
        }
        return out;
    }

    /**
     * The most tokens, {@code [CLS]} and {@code [SEP]} included, the filter scores of a caption:
     * its tokenizer's {@code model_max_length}, or fewer when its text encoder has fewer positions.
     */
    public int textLimit() {
        return Math.min(filter.tokenizer().modelMaxLength(), filter.config().text().maxPositionEmbeddings());
    }

    /** Threshold or top-k selection on the ITM scores (ties keep the earlier caption). */
    boolean[] keep(float[] itm) {
        boolean[] kept = new boolean[itm.length];
        if (settings.topK() == null) {
            for (int i = 0; i < itm.length; i++) {
                kept[i] = itm[i] >= settings.threshold();
            }
            return kept;
        }
        Integer[] order = new Integer[itm.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -itm[i]).thenComparingInt(i -> i));
        for (int r = 0; r < Math.min(settings.topK(), order.length); r++) {
            kept[order[r]] = true;
        }
        return kept;
    }
}
