package org.blipjava.training;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.checkpoint.SafetensorsWriter;
import org.blipjava.checkpoint.StateDict;
import org.blipjava.checkpoint.TensorData;
import org.blipjava.config.BlipConfig;
import org.blipjava.image.BlipImageProcessor;
import org.blipjava.image.RgbImage;
import org.blipjava.model.BlipForImageTextRetrieval;
import org.blipjava.tensor.Parallel;
import org.blipjava.tokenizer.Batch;
import org.blipjava.tokenizer.BertTokenizer;
import org.blipjava.tokenizer.Padding;

/**
 * Retrieval fine-tuning as BLIP's {@code blip_retrieval.py} does it, over a
 * {@code BlipForImageTextRetrieval} checkpoint:
 *
 * <ul>
 *   <li>momentum encoders: copies of the vision tower, text encoder and both projections, moved
 *       towards the trained weights by an exponential moving average before every batch;</li>
 *   <li>ITC: the trained image (text) features against the momentum text (image) features of the
 *       batch and of a queue of earlier batches, divided by the temperature; targets are
 *       {@code alpha * softmax(momentum similarities) + (1 - alpha) * ground truth}, where every
 *       caption of the same image (the same {@link CaptionData#imageId}) is a positive; the batch's
 *       momentum features then enter the queue;</li>
 *   <li>ITM on the image-grounded encoder ([CLS] first, as the Hugging Face model): each positive
 *       pair, each text with a hard negative image and each image with a hard negative text, the
 *       negatives drawn with probability {@code softmax(similarity)} over the batch's other images
 *       (texts).</li>
 * </ul>
 * The loss is ITC + ITM. The temperature is the task's own parameter {@code temp} (see
 * {@link RetrievalSettings}): learned and clamped after each step unless fixed; it is not a weight
 * of the Hugging Face model, so it is kept in the task state and written beside the final model
 * ({@value #TEMPERATURE_FILE}). Momentum weights, queues, the temperature and the sampling state
 * are checkpointed.
 */
final class RetrievalTask implements TrainingTask {
    /** The file beside the trained model that records the final temperature. */
    static final String TEMPERATURE_FILE = "itc_temperature.json";
    /** BLIP's name of the learned temperature, also its key in the task state and the optimizer file. */
    static final String TEMPERATURE_KEY = "temp";
    private static final List<String> MOMENTUM_PREFIXES = List.of("vision_model.", "vision_proj.", "text_encoder.",
            "text_proj.");

    private final CaptionData train;
    private final CaptionData val;
    private final RetrievalSettings rs;
    private final BlipConfig config;
    private final BertTokenizer tokenizer;
    private final BlipImageProcessor processor;
    private final TrainingSettings settings;
    private final Parallel parallel;
    private final TrainingRandom rng;
    private final int dim;
    private Parameters momentum;
    private final float[] imageQueue;
    private final float[] textQueue;
    private final int[] idxQueue;
    private int queuePtr;
    private int queueFilled;
    /** The current temperature; a trained scalar only when {@link RetrievalSettings#learnableTemperature}. */
    private final Parameter temperature;

    RetrievalTask(CaptionData train, CaptionData val, RetrievalSettings rs, BlipConfig config, BertTokenizer tokenizer,
                  BlipImageProcessor processor, TrainingSettings settings, Parallel parallel) {
        this.train = train;
        this.val = val;
        this.rs = rs;
        this.config = config;
        this.tokenizer = tokenizer;
        this.processor = processor;
        this.settings = settings;
        this.parallel = parallel;
        // Its own stream, so that sampling negatives does not shift the data order's stream.
        this.rng = new TrainingRandom(settings.seed() ^ 0x5DEECE66DL);
        this.dim = config.imageTextHiddenSize();
        this.imageQueue = new float[Math.multiplyExact(rs.queueSize(), dim)];
        this.textQueue = new float[imageQueue.length];
        this.idxQueue = new int[rs.queueSize()];
        this.temperature = new Parameter(TEMPERATURE_KEY, new float[] {(float) rs.temperature()});
    }

    @Override
    public List<Parameter> ownParameters() {
        return rs.learnableTemperature() ? List.of(temperature) : List.of();
    }

    /** BLIP clamps its {@code temp} before each forward, that is after each optimizer step. */
    @Override
    public void afterStep() {
        if (rs.learnableTemperature()) {
            float[] v = temperature.value();
            v[0] = (float) Math.clamp(v[0], RetrievalSettings.MIN_TEMPERATURE, RetrievalSettings.MAX_TEMPERATURE);
        }
    }

    /** The temperature now: the learned value, or exactly the fixed setting (as before it could be learned). */
    double currentTemperature() {
        return rs.learnableTemperature() ? temperature.item() : rs.temperature();
    }

    /** The learned temperature's parameter (for tests: its value and gradient). */
    Parameter temperatureParameter() {
        return temperature;
    }

    /** ITC similarities over the temperature, with a gradient for it when it is learned. */
    private Tensor overTemperature(Tape t, Tensor similarities) {
        return rs.learnableTemperature() ? Ops.divide(t, similarities, temperature)
                : Ops.divide(t, similarities, rs.temperature());
    }

    @Override
    public Map<String, Double> reportedValues() {
        return Map.of(TrainingResult.ITC_TEMPERATURE, currentTemperature());
    }

    @Override
    public Map<String, String> modelSideFiles() {
        String value = rs.learnableTemperature() ? Float.toString(temperature.item()) : Double.toString(rs.temperature());
        return Map.of(TEMPERATURE_FILE, String.format(java.util.Locale.ROOT,
                "{\"temperature\": %s, \"learnable\": %s, \"initial\": %s, \"clamp\": [%s, %s],"
                        + " \"note\": \"BLIP's ITC temp; not a weight of the Hugging Face model\"}%n",
                value, rs.learnableTemperature(), Double.toString(rs.temperature()),
                Double.toString(RetrievalSettings.MIN_TEMPERATURE), Double.toString(RetrievalSettings.MAX_TEMPERATURE)));
    }

    @Override
    public String architecture() {
        return "BlipForImageTextRetrieval";
    }

    @Override
    public TrainingExamples examples() {
        return train;
    }

    private int textLimit() {
        return settings.textLimit(config);
    }

    private static boolean isMomentum(String name) {
        return MOMENTUM_PREFIXES.stream().anyMatch(name::startsWith);
    }

    @Override
    public BatchLoss objective(Parameters params) {
        if (momentum == null) {
            momentum = Parameters.fromStateDict(Checkpointing.stateDict(params));
        }
        Encoders online = new Encoders(params);
        Encoders slow = new Encoders(momentum);
        List<Parameter[]> pairs = new ArrayList<>();
        for (String name : params.names()) {
            if (isMomentum(name) && momentum.contains(name)) {
                pairs.add(new Parameter[] {params.get(name), momentum.get(name)});
            }
        }
        return (tape, pixels, examples) -> {
            int n = examples.length;
            int[] idx = new int[n];
            List<String> texts = new ArrayList<>(n);
            for (int r = 0; r < n; r++) {
                idx[r] = train.imageId(examples[r]);
                texts.add(CaptionTexts.preCaption(train.caption(examples[r]), CaptionTexts.MAX_WORDS));
            }
            Batch b = tokenizer.encodeBatch(texts, textLimit(), Padding.LONGEST);
            emaUpdate(pairs);
            return loss(tape, online, slow, pixels, n, idx, b.inputIds(), b.attentionMask());
        };
    }

    private void emaUpdate(List<Parameter[]> pairs) {
        double m = rs.momentum();
        for (Parameter[] p : pairs) {
            float[] w = p[0].value();
            float[] s = p[1].value();
            for (int i = 0; i < w.length; i++) {
                s[i] = (float) (s[i] * m + w[i] * (1 - m));
            }
        }
    }

    /** The vision tower, text encoder and projections over one set of weights. */
    private final class Encoders {
        final Parameters p;
        final VisionTower vision;
        final TextTower text;

        Encoders(Parameters p) {
            this.p = p;
            this.vision = new VisionTower(p, "vision_model.", config.vision());
            this.text = new TextTower(p, "text_encoder.", config.text());
        }

        Tensor imageFeatures(Tape t, VisionTower.Output img, int n) {
            int dv = config.vision().hiddenSize();
            Tensor cls = TextTower.firstTokens(t, img.lastHiddenState(), n, img.seqLen(), dv);
            return Ops.l2Normalize(t, Ops.linear(t, cls, n, dv, p.get("vision_proj.weight"), p.get("vision_proj.bias"),
                    dim), n, dim);
        }

        Tensor textFeatures(Tape t, int[][] ids, int[][] mask) {
            int n = ids.length;
            int dt = config.text().hiddenSize();
            Tensor hidden = text.forward(t, ids, mask, false, null);
            return Ops.l2Normalize(t, Ops.linear(t, TextTower.firstTokens(t, hidden, n, ids[0].length, dt), n, dt,
                    p.get("text_proj.weight"), p.get("text_proj.bias"), dim), n, dim);
        }
    }

    private Tensor loss(Tape t, Encoders online, Encoders slow, float[] pixels, int n, int[] idx, int[][] ids,
                        int[][] mask) {
        VisionTower.Output img = online.vision.forward(t, pixels, n);
        Tensor imageFeat = online.imageFeatures(t, img, n);
        Tensor textFeat = online.textFeatures(t, ids, mask);

        // Momentum features need no gradient: their tape is never run backward.
        Tape scratch = new Tape(parallel);
        float[] imageFeatM = slow.imageFeatures(scratch, slow.vision.forward(scratch, pixels, n), n).data();
        float[] textFeatM = slow.textFeatures(scratch, ids, mask).data();

        int all = n + queueFilled;
        float[] imageAll = concatQueue(imageFeatM, imageQueue, n);
        float[] textAll = concatQueue(textFeatM, textQueue, n);
        int[] idxAll = new int[all];
        System.arraycopy(idx, 0, idxAll, 0, n);
        System.arraycopy(idxQueue, 0, idxAll, n, queueFilled);
        float[] truth = new float[n * all];
        for (int r = 0; r < n; r++) {
            int positives = 0;
            for (int j = 0; j < all; j++) {
                positives += idxAll[j] == idx[r] ? 1 : 0;
            }
            for (int j = 0; j < all; j++) {
                truth[r * all + j] = idxAll[j] == idx[r] ? 1f / positives : 0f;
            }
        }
        // The soft targets use the current temperature as a constant, as BLIP's (under no_grad).
        double temp = currentTemperature();
        float[] targetsI2t = softTargets(imageFeatM, textAll, n, all, truth, temp);
        float[] targetsT2i = softTargets(textFeatM, imageAll, n, all, truth, temp);
        Tensor simI2t = overTemperature(t, Ops.linear(t, imageFeat, n, dim, Tensor.constant(textAll, all, dim), null, all));
        Tensor simT2i = overTemperature(t, Ops.linear(t, textFeat, n, dim, Tensor.constant(imageAll, all, dim), null, all));
        Tensor itc = Ops.weightedSum(t, new double[] {0.5, 0.5}, SoftCrossEntropy.loss(t, simI2t, n, all, targetsI2t),
                SoftCrossEntropy.loss(t, simT2i, n, all, targetsT2i));
        enqueue(imageFeatM, textFeatM, idx, n);

        // ITM with hard negatives drawn by the batch similarities (pairs of the same image id excluded).
        int[] negImage = new int[n];
        int[] negText = new int[n];
        for (int r = 0; r < n; r++) {
            negImage[r] = sampleNegative(simT2i.data(), r, all, n, idx);
            negText[r] = sampleNegative(simI2t.data(), r, all, n, idx);
        }
        int[][] itmIds = new int[3 * n][];
        int[][] itmMask = new int[3 * n][];
        int[] entry = new int[3 * n];
        int[] target = new int[3 * n];
        for (int r = 0; r < n; r++) {
            itmIds[r] = ids[r];
            itmMask[r] = mask[r];
            entry[r] = r;
            target[r] = 1;
            itmIds[n + r] = ids[r];
            itmMask[n + r] = mask[r];
            entry[n + r] = negImage[r];
            itmIds[2 * n + r] = ids[negText[r]];
            itmMask[2 * n + r] = mask[negText[r]];
            entry[2 * n + r] = r;
        }
        int seq = img.seqLen();
        int dv = config.vision().hiddenSize();
        int dt = config.text().hiddenSize();
        Tensor states = Ops.gather(t, img.lastHiddenState(), seq * dv, entry);
        Tensor grounded = online.text.forward(t, itmIds, itmMask, false, new TextTower.Cross(states, seq, dv, null));
        Tensor itmLogits = Ops.linear(t, TextTower.firstTokens(t, grounded, 3 * n, ids[0].length, dt), 3 * n, dt,
                online.p.get("itm_head.weight"), online.p.get("itm_head.bias"), 2);
        Tensor itm = Ops.crossEntropy(t, itmLogits, 3 * n, 2, target, 0.0);
        return Ops.weightedSum(t, new double[] {1, 1}, itc, itm);
    }

    private float[] concatQueue(float[] batch, float[] queue, int n) {
        float[] out = new float[(n + queueFilled) * dim];
        System.arraycopy(batch, 0, out, 0, n * dim);
        System.arraycopy(queue, 0, out, n * dim, queueFilled * dim);
        return out;
    }

    /** {@code alpha * softmax(momentum features . all / temp) + (1 - alpha) * truth}, row by row. */
    private float[] softTargets(float[] featM, float[] all, int n, int cols, float[] truth, double temp) {
        float[] out = new float[n * cols];
        double alpha = rs.alpha();
        for (int r = 0; r < n; r++) {
            double[] s = new double[cols];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < cols; j++) {
                double dot = 0;
                for (int k = 0; k < dim; k++) {
                    dot += featM[r * dim + k] * all[j * dim + k];
                }
                s[j] = dot / temp;
                max = Math.max(max, s[j]);
            }
            double sum = 0;
            for (int j = 0; j < cols; j++) {
                s[j] = Math.exp(s[j] - max);
                sum += s[j];
            }
            for (int j = 0; j < cols; j++) {
                out[r * cols + j] = (float) (alpha * s[j] / sum + (1 - alpha) * truth[r * cols + j]);
            }
        }
        return out;
    }

    /**
     * Draws a batch column other than row {@code r}'s own image with probability proportional to
     * {@code softmax(sim[r, :n]) + 1e-4} (BLIP's weights); falls back to the next row when every
     * column shows the same image.
     */
    private int sampleNegative(float[] sim, int r, int cols, int n, int[] idx) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            max = Math.max(max, sim[r * cols + j]);
        }
        double[] w = new double[n];
        double sumExp = 0;
        for (int j = 0; j < n; j++) {
            w[j] = Math.exp(sim[r * cols + j] - max);
            sumExp += w[j];
        }
        double total = 0;
        for (int j = 0; j < n; j++) {
            w[j] = idx[j] == idx[r] ? 0 : w[j] / sumExp + 1e-4;
            total += w[j];
        }
        if (total == 0) {
            return (r + 1) % n;
        }
        double u = rng.nextDouble() * total;
        for (int j = 0; j < n; j++) {
            u -= w[j];
            if (u < 0 && w[j] > 0) {
                return j;
            }
        }
        for (int j = n - 1; j >= 0; j--) {
            if (w[j] > 0) {
                return j;
            }
        }
        return (r + 1) % n;
    }

    private void enqueue(float[] imageFeatM, float[] textFeatM, int[] idx, int n) {
        int q = rs.queueSize();
        for (int r = 0; r < n && q > 0; r++) {
            System.arraycopy(imageFeatM, r * dim, imageQueue, queuePtr * dim, dim);
            System.arraycopy(textFeatM, r * dim, textQueue, queuePtr * dim, dim);
            idxQueue[queuePtr] = idx[r];
            queuePtr = (queuePtr + 1) % q;
            queueFilled = Math.min(q, queueFilled + 1);
        }
    }

    @Override
    public List<TensorData> stateTensors() {
        List<TensorData> out = new ArrayList<>();
        if (momentum == null) {
            return out;
        }
        for (TensorData t : Checkpointing.tensors(momentum)) {
            if (isMomentum(t.name())) {
                out.add(new TensorData("momentum." + t.name(), t.dtype(), t.shape(), t.bytes()));
            }
        }
        out.add(SafetensorsWriter.f32("queue.image", new int[] {rs.queueSize(), dim}, imageQueue));
        out.add(SafetensorsWriter.f32("queue.text", new int[] {rs.queueSize(), dim}, textQueue));
        float[] ids = new float[idxQueue.length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = idxQueue[i]; // image indices are exact in float32 below 2^24
        }
        out.add(SafetensorsWriter.f32("queue.idx", new int[] {rs.queueSize()}, ids));
        out.add(SafetensorsWriter.f32(TEMPERATURE_KEY, temperature.shape(), temperature.value()));
        return out;
    }

    @Override
    public Map<String, String> stateMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("queue_ptr", Integer.toString(queuePtr));
        m.put("queue_filled", Integer.toString(queueFilled));
        m.put("rng_state", Long.toString(rng.state()));
        m.put("temperature_learnable", Boolean.toString(rs.learnableTemperature()));
        m.put("temperature_initial", Double.toString(rs.temperature()));
        return m;
    }

    @Override
    public void restoreState(SafetensorsFile saved) {
        Map<String, TensorData> weights = new LinkedHashMap<>();
        saved.tensors().forEach((name, t) -> {
            if (name.startsWith("momentum.")) {
                String key = name.substring("momentum.".length());
                weights.put(key, new TensorData(key, t.dtype(), t.shape(), t.bytes()));
            }
        });
        Parameters restored = Parameters.fromStateDict(new StateDict(saved.path().toString(), weights));
        if (momentum == null) {
            momentum = restored;
        } else {
            for (String name : restored.names()) {
                System.arraycopy(restored.get(name).value(), 0, momentum.get(name).value(), 0,
                        momentum.get(name).size());
            }
        }
        TensorData qi = saved.tensors().get("queue.image");
        if (qi == null || qi.numel() != imageQueue.length) {
            throw new IllegalStateException(saved.path() + ": its queue does not hold " + rs.queueSize()
                    + " entries; resume with the same --queue-size");
        }
        System.arraycopy(qi.toFloatArray(), 0, imageQueue, 0, imageQueue.length);
        System.arraycopy(saved.tensors().get("queue.text").toFloatArray(), 0, textQueue, 0, textQueue.length);
        float[] ids = saved.tensors().get("queue.idx").toFloatArray();
        for (int i = 0; i < ids.length; i++) {
            idxQueue[i] = (int) ids[i];
        }
        queuePtr = Integer.parseInt(saved.metadata().get("queue_ptr"));
        queueFilled = Integer.parseInt(saved.metadata().get("queue_filled"));
        rng.restore(Long.parseLong(saved.metadata().get("rng_state")));
        restoreTemperature(saved);
    }

    /** The saved temperature, after checking it was set up as now (checkpoints from before it was learned: fixed). */
    private void restoreTemperature(SafetensorsFile saved) {
        boolean learnable = Boolean.parseBoolean(saved.metadata().getOrDefault("temperature_learnable", "false"));
        if (learnable != rs.learnableTemperature()) {
            throw new IllegalStateException(saved.path() + ": the checkpoint was trained with a "
                    + (learnable ? "learned" : "fixed") + " temperature; resume " + (learnable ? "without" : "with")
                    + " --fixed-temperature or start in a new output directory");
        }
        String initial = saved.metadata().get("temperature_initial");
        if (initial != null && Double.parseDouble(initial) != rs.temperature()) {
            throw new IllegalStateException(saved.path() + ": the checkpoint was trained with --temperature " + initial
                    + " but this run has " + rs.temperature() + "; resume with the same temperature");
        }
        TensorData t = saved.tensors().get(TEMPERATURE_KEY);
        if (learnable) {
            if (t == null || t.numel() != 1) {
                throw new IllegalStateException(saved.path() + ": no scalar '" + TEMPERATURE_KEY
                        + "'; the checkpoint is damaged or not from a retrieval run");
            }
            temperature.value()[0] = t.toFloatArray()[0];
        }
    }

    @Override
    public ValidationResult validate(Parameters params, int step, Function<Path, RgbImage> reader) {
        if (val == null) {
            return null;
        }
        BlipForImageTextRetrieval model = BlipForImageTextRetrieval.load(Checkpointing.stateDict(params), config, parallel);
        int limit = settings.validationCount(val.images().size());
        int h = processor.config().height();
        int w = processor.config().width();
        int bs = settings.batchSize();
        List<Integer> images = new ArrayList<>();
        List<float[]> imageFeats = new ArrayList<>();
        for (int first = 0; first < limit; first += bs) {
            ReadableImages batch = ReadableImages.read(first, Math.min(limit, first + bs), val.images()::get, reader);
            if (batch.isEmpty()) {
                continue;
            }
            List<Integer> which = batch.indices();
            float[] embeds = model.vision(processor.preprocessBatch(batch.images()), batch.size(), h, w).lastHiddenState();
            float[] feats = model.imageFeatures(embeds, batch.size());
            for (int k = 0; k < which.size(); k++) {
                images.add(which.get(k));
                imageFeats.add(java.util.Arrays.copyOfRange(feats, k * dim, (k + 1) * dim));
            }
        }
        List<String> texts = new ArrayList<>();
        List<Integer> textImage = new ArrayList<>();
        for (int k = 0; k < images.size(); k++) {
            for (String c : val.references(images.get(k))) {
                texts.add(CaptionTexts.preCaption(c, CaptionTexts.MAX_WORDS));
                textImage.add(k);
            }
        }
        List<float[]> textFeats = new ArrayList<>();
        for (int first = 0; first < texts.size(); first += bs) {
            Batch b = tokenizer.encodeBatch(texts.subList(first, Math.min(texts.size(), first + bs)), textLimit(),
                    Padding.LONGEST);
            float[] feats = model.textFeatures(b.inputIds(), b.attentionMask());
            for (int k = 0; k < b.inputIds().length; k++) {
                textFeats.add(java.util.Arrays.copyOfRange(feats, k * dim, (k + 1) * dim));
            }
        }
        int ni = images.size();
        int nt = texts.size();
        double[][] cos = new double[ni][nt];
        for (int i = 0; i < ni; i++) {
            for (int j = 0; j < nt; j++) {
                double d = 0;
                for (int k = 0; k < dim; k++) {
                    d += imageFeats.get(i)[k] * textFeats.get(j)[k];
                }
                cos[i][j] = d;
            }
        }
        int i2t = 0;
        for (int i = 0; i < ni; i++) {
            int best = 0;
            for (int j = 1; j < nt; j++) {
                best = cos[i][j] > cos[i][best] ? j : best;
            }
            i2t += textImage.get(best) == i ? 1 : 0;
        }
        int t2i = 0;
        double loss = 0;
        double temp = currentTemperature();
        Map<String, String> outputs = new LinkedHashMap<>();
        for (int j = 0; j < nt; j++) {
            int best = 0;
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < ni; i++) {
                best = cos[i][j] > cos[best][j] ? i : best;
                max = Math.max(max, cos[i][j] / temp);
            }
            double sum = 0;
            for (int i = 0; i < ni; i++) {
                sum += Math.exp(cos[i][j] / temp - max);
            }
            loss += max + Math.log(sum) - cos[textImage.get(j)][j] / temp;
            t2i += best == textImage.get(j) ? 1 : 0;
            outputs.put(texts.get(j) + " (" + val.images().get(images.get(textImage.get(j))).getFileName() + ")",
                    val.images().get(images.get(best)).getFileName().toString());
        }
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put(ValidationResult.I2T_R1, ni == 0 ? Double.NaN : (double) i2t / ni);
        metrics.put(ValidationResult.T2I_R1, nt == 0 ? Double.NaN : (double) t2i / nt);
        metrics.put(TrainingResult.ITC_TEMPERATURE, temp);
        return new ValidationResult(step, nt == 0 ? Double.NaN : loss / nt, metrics, outputs);
    }
}
