package org.blipjava.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.checkpoint.SafetensorsWriter;
import org.blipjava.checkpoint.TensorData;
import org.blipjava.config.BlipConfig;
import org.blipjava.image.BlipImageProcessor;
import org.blipjava.image.ImageProcessorConfig;
import org.blipjava.image.Images;
import org.blipjava.image.RgbImage;
import org.blipjava.tensor.Parallel;
import org.blipjava.tokenizer.BertTokenizer;

/**
 * Fine-tunes a captioning model ({@code BlipForConditionalGeneration}) or a VQA model
 * ({@code BlipForQuestionAnswering}) with BLIP's recipe: LM loss with label smoothing on
 * {@code prompt + caption} (or on the answer, given the question), AdamW (no decay for biases and norms), linear
 * warm-up then cosine decay per optimizer step, gradient accumulation and clipping, seeded
 * shuffling, random resized crops and flips, periodic validation ({@link CaptionValidator},
 * {@link VqaValidator}), and
 * resumable checkpoints.
 *
 * <p>Output layout: {@code OUT/checkpoints/step-NNNNNNNN/} holds a loadable model directory
 * (config, {@code model.safetensors}, tokenizer and processor files) plus
 * {@code optimizer.safetensors} (AdamW moments) and {@code trainer_state.json} (step, data order
 * and position, random state, losses, validations). Each checkpoint is assembled under a
 * temporary name and renamed into place, so a crash leaves only complete checkpoints.
 * {@code OUT/final/} is the trained model when the schedule completes.
 *
 * <p>Resuming restores weights, optimizer moments, step, data order and position and the random
 * state, so the resumed run computes bit-identical losses to an uninterrupted one (with the same
 * settings and thread count). It starts from the newest intact checkpoint
 * ({@link #latestCheckpoint}): a damaged newer one (a file lost or truncated, say, by a full disk
 * or a copy) is passed over and reported ({@link TrainingListener#onCheckpointSkipped}), and when
 * none is intact the run is refused. Errors reading a checkpoint name the file. One run at a
 * time; not thread-safe.
 */
public final class Trainer {
    /** Where resumable checkpoints go inside the output directory. */
    public static final String CHECKPOINTS = "checkpoints";
    /** Where the trained model goes inside the output directory. */
    public static final String FINAL = "final";
    static final String STATE_FILE = "trainer_state.json";
    static final String OPTIMIZER_FILE = "optimizer.safetensors";
    static final String TASK_STATE_FILE = "task_state.safetensors";
    private static final Pattern CHECKPOINT_NAME = Pattern.compile("step-(\\d{8})");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path modelDir;
    private final TrainingSettings settings;
    private final Parallel parallel;
    private final BlipConfig config;
    private final BertTokenizer tokenizer;
    private final BlipImageProcessor processor;

    /**
     * @param modelDir a model directory in the Hugging Face layout to start from (config.json,
     *                 weights, tokenizer files; preprocessor_config.json optional)
     * @param parallel compute threads, owned by the caller; a resumed run reproduces the same
     *                 losses only with the same number of threads
     */
    public Trainer(Path modelDir, TrainingSettings settings, Parallel parallel) {
        this.modelDir = modelDir;
        this.settings = settings;
        this.parallel = parallel;
        try {
            this.config = BlipConfig.read(modelDir.resolve("config.json"));
        } catch (IOException e) {
            throw new UncheckedIOException(modelDir.resolve("config.json") + ": cannot read: " + e.getMessage(), e);
        }
        this.tokenizer = BertTokenizer.load(modelDir);
        Path pp = modelDir.resolve("preprocessor_config.json");
        this.processor = new BlipImageProcessor(Files.isRegularFile(pp) ? ImageProcessorConfig.read(pp)
                : ImageProcessorConfig.defaults().withSize(config.vision().imageSize(), config.vision().imageSize()));
    }

    public BlipConfig config() {
        return config;
    }

    public BertTokenizer tokenizer() {
        return tokenizer;
    }

    public BlipImageProcessor imageProcessor() {
        return processor;
    }

    public TrainingSettings settings() {
        return settings;
    }

    /** A validator of this model's captions on {@code data} with this trainer's settings. */
    public CaptionValidator validator(CaptionData data) {
        return new CaptionValidator(data, config, tokenizer, processor, settings, parallel);
    }

    /** A validator of this model's answers on {@code data} with this trainer's settings. */
    public VqaValidator vqaValidator(VqaData data) {
        return new VqaValidator(data, config, tokenizer, processor, settings, parallel);
    }

    /** Optimizer steps the schedule has for {@code examples} training examples. */
    public int totalSteps(int examples) {
        int perEpoch = examples / settings.batchSize();
        if (perEpoch == 0) {
            throw new IllegalArgumentException("the training data has " + examples + " examples, fewer than one batch of "
                    + settings.batchSize() + "; lower the batch size");
        }
        return Math.max(1, (int) Math.min(Integer.MAX_VALUE, (long) settings.epochs() * perEpoch / settings.gradAccum()));
    }

    /** AdamW's decay rule: weights decay, biases, norms and other vectors do not. */
    static boolean decays(Parameter p) {
        String n = p.name().toLowerCase(java.util.Locale.ROOT);
        return p.shape().length > 1 && !n.endsWith(".bias") && !n.contains("layernorm") && !n.contains("layer_norm");
    }

    /**
     * Fine-tunes a captioning model ({@code BlipForConditionalGeneration}).
     *
     * @param train     training captions
     * @param val       held-out captions for validation, or null for none
     * @param outputDir where checkpoints and the final model go
     * @param resume    continue from the newest intact checkpoint in {@code outputDir} (starting
     *                  afresh when there is none; see {@link #startingCheckpoint}); when false,
     *                  {@code outputDir} must not hold checkpoints
     * @throws IllegalStateException when {@code outputDir} has checkpoints and {@code resume} is
     *                               false, none of its checkpoints is intact, or the checkpoint was
     *                               made with other settings
     */
    public TrainingResult train(CaptionData train, CaptionData val, Path outputDir, boolean resume,
                                TrainingListener listener) throws IOException {
        CaptionTask task = new CaptionTask(train, val == null ? null : validator(val), config, tokenizer, settings);
        return run(task, outputDir, resume, listener);
    }

    /**
     * Fine-tunes a VQA model ({@code BlipForQuestionAnswering}) on answers; as
     * {@link #train(CaptionData, CaptionData, Path, boolean, TrainingListener)} otherwise, with the
     * VQA accuracy of generated answers as the validation metric.
     */
    public TrainingResult trainVqa(VqaData train, VqaData val, Path outputDir, boolean resume,
                                   TrainingListener listener) throws IOException {
        VqaTask task = new VqaTask(train, val == null ? null : vqaValidator(val), config, tokenizer, settings);
        return run(task, outputDir, resume, listener);
    }

    /**
     * Fine-tunes a retrieval model ({@code BlipForImageTextRetrieval}) with BLIP's ITC and ITM
     * losses: momentum encoders (EMA of the weights) give soft ITC targets, a queue of their
     * features adds negatives, and ITM learns from hard negatives sampled by contrastive similarity
     * (see {@code RetrievalTask}). The ITC temperature is learned unless
     * {@link RetrievalSettings#learnableTemperature} is false; it is kept out of
     * {@code model.safetensors}, checkpointed with its AdamW moments, reported in
     * {@link TrainingResult#taskValues} and written to {@code final/itc_temperature.json}.
     * Validation reports ITC recall@1 both ways and the temperature.
     */
    public TrainingResult trainRetrieval(CaptionData train, CaptionData val, RetrievalSettings retrieval,
                                         Path outputDir, boolean resume, TrainingListener listener) throws IOException {
        RetrievalTask task = new RetrievalTask(train, val, retrieval, config, tokenizer, processor, settings, parallel);
        return run(task, outputDir, resume, listener);
    }

    private TrainingResult run(TrainingTask task, Path outputDir, boolean resume, TrainingListener listener)
            throws IOException {
        if (!config.architectures().contains(task.architecture())) {
            throw new IllegalArgumentException(modelDir + " is a " + config.architectures() + " model; this task needs a "
                    + task.architecture() + " checkpoint");
        }
        boolean taskState = !task.stateMetadata().isEmpty() || !task.stateTensors().isEmpty();
        Start start = start(outputDir, resume, taskState);
        Run run = new Run(task, outputDir, listener);
        for (Inspection damaged : start.passedOver()) {
            run.listener.onCheckpointSkipped(damaged.dir(), damaged.damage());
        }
        if (start.checkpoint() != null) {
            run.restore(start.checkpoint().dir(), start.checkpoint().state(), taskState);
        } else {
            run.fresh();
        }
        return run.go();
    }

    /**
     * Where a run into {@code outputDir} starts, checked without loading any weights (so a command
     * can refuse before it loads a model): null to start afresh, or the checkpoint it resumes
     * from. With {@code resume}, that is the newest intact checkpoint (see
     * {@link #latestCheckpoint}); damaged newer ones are passed over, and the run reports them
     * through {@link TrainingListener#onCheckpointSkipped}. With {@code resume} and no checkpoint
     * at all, the run starts afresh.
     *
     * @throws IllegalStateException when {@code outputDir} holds checkpoints and {@code resume} is
     *                               false, or holds checkpoints none of which is intact (the message
     *                               names each one's damage)
     */
    public static Path startingCheckpoint(Path outputDir, boolean resume) throws IOException {
        Start s = start(outputDir, resume, false);
        return s.checkpoint() == null ? null : s.checkpoint().dir();
    }

    /**
     * The newest intact checkpoint under {@code checkpointsDir}, or null when none is. Intact: the
     * model directory's {@code config.json} and {@code model.safetensors}, {@code optimizer.safetensors}
     * and {@code trainer_state.json} are present; the state is a complete one for the step the
     * directory is named after; and every safetensors file has a readable header whose tensors lie
     * within the file (a truncated file fails this).
     */
    public static Path latestCheckpoint(Path checkpointsDir) throws IOException {
        for (Path dir : checkpoints(checkpointsDir)) {
            if (inspect(dir, false).damage() == null) {
                return dir;
            }
        }
        return null;
    }

    /** The {@code step-N} directories under {@code checkpointsDir}, newest first. */
    static List<Path> checkpoints(Path checkpointsDir) throws IOException {
        if (!Files.isDirectory(checkpointsDir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(checkpointsDir)) {
            return s.filter(p -> CHECKPOINT_NAME.matcher(p.getFileName().toString()).matches())
                    .sorted(Comparator.comparing((Path p) -> p.getFileName().toString()).reversed()).toList();
        }
    }

    /** A run's starting point: the checkpoint to resume from (null to start afresh) and the damaged newer ones. */
    private record Start(Inspection checkpoint, List<Inspection> passedOver) {}

    private static Start start(Path outputDir, boolean resume, boolean taskState) throws IOException {
        Path root = outputDir.resolve(CHECKPOINTS);
        List<Path> all = checkpoints(root);
        if (all.isEmpty()) {
            return new Start(null, List.of());
        }
        if (!resume) {
            throw new IllegalStateException(outputDir + " already holds training checkpoints (" + all.getFirst().getFileName()
                    + "); resume with --resume or choose another output directory");
        }
        List<Inspection> damaged = new ArrayList<>();
        for (Path dir : all) {
            Inspection i = inspect(dir, taskState);
            if (i.damage() == null) {
                return new Start(i, damaged);
            }
            damaged.add(i);
        }
        StringBuilder why = new StringBuilder();
        for (Inspection i : damaged) {
            why.append(why.isEmpty() ? "" : "; ").append(i.damage());
        }
        throw new IllegalStateException(root + ": none of its " + all.size() + " checkpoint(s) can be resumed from ("
                + why + "); delete " + root + " to start afresh, or train into another output directory");
    }

    /** A checkpoint directory checked for resuming: its parsed state when intact, otherwise why it is not. */
    private record Inspection(Path dir, JsonNode state, String damage) {}

    /**
     * Checks a checkpoint without loading its weights; see {@link #latestCheckpoint}. Each damage
     * names the file it is in.
     *
     * @param taskState whether the task being resumed keeps a {@code task_state.safetensors}
     */
    private static Inspection inspect(Path dir, boolean taskState) {
        List<String> required = new ArrayList<>(List.of(STATE_FILE, "config.json", Checkpointing.WEIGHTS_FILE,
                OPTIMIZER_FILE));
        if (taskState) {
            required.add(TASK_STATE_FILE);
        }
        for (String name : required) {
            if (!Files.isRegularFile(dir.resolve(name))) {
                return new Inspection(dir, null, dir.resolve(name) + " is missing");
            }
        }
        Path stateFile = dir.resolve(STATE_FILE);
        JsonNode state;
        try {
            state = JSON.readTree(stateFile.toFile());
        } catch (IOException e) {
            return new Inspection(dir, null, naming(stateFile, e));
        }
        String problem = stateProblem(state, dir);
        if (problem != null) {
            return new Inspection(dir, null, stateFile + ": " + problem);
        }
        Path config = dir.resolve("config.json");
        try {
            if (!JSON.readTree(config.toFile()).isObject()) {
                return new Inspection(dir, null, config + ": not a JSON object");
            }
        } catch (IOException e) {
            return new Inspection(dir, null, naming(config, e));
        }
        for (String name : List.of(Checkpointing.WEIGHTS_FILE, OPTIMIZER_FILE, TASK_STATE_FILE)) {
            Path f = dir.resolve(name);
            if (Files.isRegularFile(f)) {
                try (SafetensorsFile ignored = SafetensorsFile.open(f)) {
                    // opening checks the header and that every tensor lies within the file
                } catch (IOException | RuntimeException e) {
                    return new Inspection(dir, null, naming(f, e));
                }
            }
        }
        return new Inspection(dir, state, null);
    }

    /**
     * What is wrong with a parsed {@code trainer_state.json}, or null: every field {@link Run#restore}
     * reads must be there with its type, and the state must be the one of the step its directory
     * is named after (one loss per step done).
     */
    private static String stateProblem(JsonNode state, Path dir) {
        if (state == null || !state.isObject()) {
            return "not a JSON object";
        }
        if (!state.path("task").isTextual()) {
            return "no \"task\" name";
        }
        for (String key : List.of("step", "optimizer_steps", "epoch", "cursor", "rng_state")) {
            JsonNode v = state.get(key);
            if (v == null || !v.canConvertToLong() || !v.isIntegralNumber() || !key.equals("rng_state") && v.asLong() < 0) {
                return "\"" + key + "\" is missing or not a whole number";
            }
        }
        if (!state.path("settings").isObject()) {
            return "no \"settings\" object";
        }
        JsonNode order = state.path("order");
        if (!order.isArray() || !allMatch(order, JsonNode::isIntegralNumber)) {
            return "\"order\" is missing or not a list of whole numbers";
        }
        JsonNode losses = state.path("losses");
        if (!losses.isArray() || !allMatch(losses, JsonNode::isNumber)) {
            return "\"losses\" is missing or not a list of numbers";
        }
        long step = state.get("step").asLong();
        long named = Long.parseLong(dir.getFileName().toString().substring("step-".length()));
        if (step != named) {
            return "it is the state of step " + step + ", not of step " + named + " as its directory is named";
        }
        if (losses.size() != step) {
            return "it holds " + losses.size() + " losses for " + step + " steps";
        }
        if (state.get("cursor").asLong() > order.size()) {
            return "its data position is past the end of its data order";
        }
        return null;
    }

    private static boolean allMatch(JsonNode array, java.util.function.Predicate<JsonNode> test) {
        for (JsonNode v : array) {
            if (!test.test(v)) {
                return false;
            }
        }
        return true;
    }

    /** The message of an error reading {@code file}, naming the file (a parser's own message may not). */
    private static String naming(Path file, Exception e) {
        String msg = e instanceof java.nio.file.NoSuchFileException ? "no such file"
                : e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? "not valid JSON ("
                        + j.getOriginalMessage() + ")" // its full message adds a location on a second line
                : e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getSimpleName() : e.getMessage();
        return msg.contains(file.toString()) ? msg : file + ": " + msg;
    }

    /** Runs one step of reading {@code file} so that an error from it names the file. */
    private static void reading(Path file, IoAction action) throws IOException {
        try {
            action.run();
        } catch (IOException | RuntimeException e) {
            String msg = naming(file, e);
            if (msg.equals(e.getMessage())) {
                throw e;
            }
            throw new IllegalStateException(msg, e);
        }
    }

    /** A read that may fail with an I/O error. */
    private interface IoAction {
        void run() throws IOException;
    }

    /** The mutable state of one training run. */
    private final class Run {
        final TrainingTask task;
        final Path outputDir;
        final TrainingListener listener;
        final TrainingRandom rng = new TrainingRandom(settings.seed());
        final ImageAugmentation augmentation;
        final RandAugment randAugment;
        final Map<String, String> failed = new TreeMap<>();
        final List<Double> losses = new ArrayList<>();
        final List<ValidationResult> validations = new ArrayList<>();
        final int totalSteps;
        Parameters params;
        /** {@link #params} plus the task's own parameters: what the optimizer updates and clips. */
        Parameters trainable;
        AdamW optimizer;
        int step;
        int epoch;
        int cursor;
        int[] order;
        Path lastCheckpoint;

        Run(TrainingTask task, Path outputDir, TrainingListener listener) {
            this.task = task;
            this.outputDir = outputDir;
            this.listener = listener == null ? new TrainingListener() {} : listener;
            this.totalSteps = totalSteps(task.size());
            this.augmentation = settings.augment()
                    ? ImageAugmentation.blip(processor.config().width(), processor.config().height()) : null;
            this.randAugment = settings.augment() ? settings.randAugment() : null;
        }

        void fresh() throws IOException {
            params = Parameters.load(modelDir);
            newOptimizer();
            order = rng.permutation(task.size());
        }

        /**
         * Continues from a checkpoint {@link #inspect} found intact, whose parsed
         * {@code trainer_state.json} is {@code state}. Every error names the file it comes from.
         */
        void restore(Path dir, JsonNode state, boolean taskState) throws IOException {
            if (!task.architecture().equals(state.path("task").asText())) {
                throw new IllegalStateException(dir.resolve(STATE_FILE) + ": the checkpoint trains a "
                        + state.path("task").asText() + ", not a " + task.architecture() + "; use another output directory");
            }
            checkSameRun(state.path("settings"), dir);
            reading(dir.resolve(Checkpointing.WEIGHTS_FILE), () -> params = Parameters.load(dir));
            newOptimizer();
            // The task's state first: it names a mismatch of the task's own parameters more clearly.
            Path taskStateFile = dir.resolve(TASK_STATE_FILE);
            if (taskState) {
                reading(taskStateFile, () -> {
                    try (SafetensorsFile f = SafetensorsFile.open(taskStateFile)) {
                        task.restoreState(f);
                    }
                });
            }
            Path optimizerFile = dir.resolve(OPTIMIZER_FILE);
            reading(optimizerFile, () -> {
                try (SafetensorsFile f = SafetensorsFile.open(optimizerFile)) {
                    for (Map.Entry<Parameter, String> e : savedNames(trainable).entrySet()) {
                        float[][] m = optimizer.moments(e.getKey());
                        copyInto(f, "exp_avg." + e.getValue(), m[0], dir);
                        copyInto(f, "exp_avg_sq." + e.getValue(), m[1], dir);
                    }
                }
            });
            step = state.path("step").asInt();
            optimizer.restoreSteps(state.path("optimizer_steps").asLong());
            epoch = state.path("epoch").asInt();
            cursor = state.path("cursor").asInt();
            JsonNode o = state.path("order");
            if (o.size() != task.size()) {
                throw new IllegalStateException(dir.resolve(STATE_FILE) + ": its data order covers " + o.size()
                        + " examples but the training data has " + task.size()
                        + "; resume with the same training data");
            }
            order = new int[o.size()];
            for (int i = 0; i < order.length; i++) {
                order[i] = o.get(i).asInt();
            }
            rng.restore(state.path("rng_state").asLong());
            state.path("losses").forEach(l -> losses.add(l.asDouble()));
            state.path("failed_images").properties().forEach(e -> failed.put(e.getKey(), e.getValue().asText()));
            for (JsonNode v : state.path("validations")) {
                Map<String, Double> metrics = new LinkedHashMap<>();
                v.path("metrics").properties().forEach(e -> metrics.put(e.getKey(), e.getValue().asDouble()));
                Map<String, String> outputs = new LinkedHashMap<>();
                v.path("outputs").properties().forEach(e -> outputs.put(e.getKey(), e.getValue().asText()));
                validations.add(new ValidationResult(v.path("step").asInt(), v.path("loss").asDouble(), metrics, outputs));
            }
            lastCheckpoint = dir;
        }

        /**
         * AdamW over the model's weights and the task's own parameters; the latter decay too, as
         * BLIP's optimizer applies weight decay to every parameter of the model (its {@code temp}
         * included).
         */
        private void newOptimizer() {
            List<Parameter> own = task.ownParameters();
            trainable = params.with(own);
            optimizer = new AdamW(trainable, AdamW.Settings.withWeightDecay(settings.weightDecay()),
                    p -> decays(p) || own.contains(p));
        }

        private void copyInto(SafetensorsFile f, String name, float[] into, Path dir) {
            TensorData t = f.tensors().get(name);
            if (t == null || t.numel() != into.length) {
                throw new IllegalStateException(dir.resolve(OPTIMIZER_FILE) + ": '" + name
                        + "' is missing or has the wrong size; the checkpoint is not from this model");
            }
            System.arraycopy(t.toFloatArray(), 0, into, 0, into.length);
        }

        TrainingResult go() throws IOException {
            int stopAt = settings.stopAfterSteps() > 0 ? Math.min(totalSteps, settings.stopAfterSteps()) : totalSteps;
            WarmupCosineSchedule schedule = new WarmupCosineSchedule(settings.lr(), settings.minLr(),
                    Math.min(settings.warmupSteps(), totalSteps), totalSteps);
            TrainingTask.BatchLoss objective = task.objective(params);
            listener.onStart(step, totalSteps);
            if (step == 0 && settings.validateEvery() > 0) {
                validate(); // the baseline that periodic validations are compared with
            }
            while (step < stopAt) {
                long t0 = System.nanoTime();
                trainable.zeroGrad();
                double lossSum = 0;
                int examples = 0;
                for (int a = 0; a < settings.gradAccum(); a++) {
                    Batch b = nextBatch();
                    Tape tape = new Tape(parallel);
                    Tensor loss = objective.loss(tape, b.pixels, b.examples);
                    tape.backward(loss);
                    lossSum += loss.item();
                    examples += b.examples.length;
                }
                if (settings.gradAccum() > 1) {
                    scaleGradients(1.0 / settings.gradAccum());
                }
                double norm = settings.maxGradNorm() > 0
                        ? GradientClipping.clipByGlobalNorm(trainable, settings.maxGradNorm()) : gradNorm();
                double lr = schedule.lr(step);
                optimizer.step(lr);
                task.afterStep();
                step++;
                double loss = lossSum / settings.gradAccum();
                losses.add(loss);
                double seconds = (System.nanoTime() - t0) / 1e9;
                listener.onStep(new TrainingListener.StepEvent(step, totalSteps, epoch, loss, lr, norm,
                        examples / Math.max(seconds, 1e-9)));
                boolean end = step == totalSteps;
                if (end || settings.validateEvery() > 0 && step % settings.validateEvery() == 0) {
                    validate();
                }
                if (end || step == stopAt || settings.checkpointEvery() > 0 && step % settings.checkpointEvery() == 0) {
                    checkpoint();
                }
            }
            Path finalModel = null;
            if (step >= totalSteps) {
                finalModel = outputDir.resolve(FINAL);
                Checkpointing.savePretrained(params, modelDir, finalModel, task.modelSideFiles());
            }
            return new TrainingResult(step, totalSteps, losses, validations, failed, task.missingImages(), finalModel,
                    lastCheckpoint, task.reportedValues());
        }

        private void validate() {
            ValidationResult r = task.validate(params, step, this::read);
            if (r != null) {
                validations.add(r);
                listener.onValidation(r);
            }
        }

        private void scaleGradients(double factor) {
            for (Parameter p : trainable.unique()) {
                float[] g = p.grad();
                for (int i = 0; i < g.length; i++) {
                    g[i] = (float) (g[i] * factor);
                }
            }
        }

        private double gradNorm() {
            double sq = 0;
            for (Parameter p : trainable.unique()) {
                for (float g : p.grad()) {
                    sq += (double) g * g;
                }
            }
            return Math.sqrt(sq);
        }

        /** Decodes an image, remembering and reporting (once) the ones that fail. */
        RgbImage read(Path image) {
            String key = image.toString();
            if (failed.containsKey(key)) {
                return null;
            }
            try {
                return Images.read(image);
            } catch (RuntimeException e) {
                String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
                failed.put(key, msg);
                listener.onImageFailed(image, msg);
                return null;
            }
        }

        /** The next batch of the seeded data stream; a new permutation starts each epoch. */
        Batch nextBatch() {
            List<RgbImage> images = new ArrayList<>();
            int[] examples = new int[settings.batchSize()];
            while (images.size() < settings.batchSize()) {
                if (cursor == order.length) {
                    epoch++;
                    cursor = 0;
                    order = rng.permutation(order.length);
                }
                int ex = order[cursor++];
                RgbImage img = read(task.image(ex));
                if (img == null) {
                    if (failed.size() >= task.imageCount()) {
                        throw new IllegalStateException("none of the " + task.imageCount()
                                + " training images can be read (first error: " + failed.values().iterator().next() + ")");
                    }
                    continue;
                }
                examples[images.size()] = ex;
                images.add(augment(img));
            }
            return new Batch(processor.preprocessBatch(images), examples);
        }

        /** BLIP's order: crop and flip, then RandAugment on the crop, all drawn from the run's stream. */
        RgbImage augment(RgbImage img) {
            if (augmentation == null) {
                return img;
            }
            RgbImage cropped = augmentation.apply(img, rng);
            return randAugment == null ? cropped : randAugment.apply(cropped, rng);
        }

        /** Writes a complete checkpoint under a temporary name, renames it into place, prunes old ones. */
        void checkpoint() throws IOException {
            Path root = outputDir.resolve(CHECKPOINTS);
            Files.createDirectories(root);
            Path target = root.resolve(String.format(java.util.Locale.ROOT, "step-%08d", step));
            Path tmp = root.resolve(".tmp-" + target.getFileName() + "-" + System.nanoTime());
            try {
                Checkpointing.savePretrained(params, modelDir, tmp);
                List<TensorData> moments = new ArrayList<>();
                for (Map.Entry<Parameter, String> e : savedNames(trainable).entrySet()) {
                    float[][] m = optimizer.moments(e.getKey());
                    moments.add(SafetensorsWriter.f32("exp_avg." + e.getValue(), e.getKey().shape(), m[0]));
                    moments.add(SafetensorsWriter.f32("exp_avg_sq." + e.getValue(), e.getKey().shape(), m[1]));
                }
                SafetensorsWriter.write(tmp.resolve(OPTIMIZER_FILE), moments, Map.of("step", Long.toString(optimizer.steps())));
                List<TensorData> taskTensors = task.stateTensors();
                Map<String, String> taskMetadata = task.stateMetadata();
                if (!taskTensors.isEmpty() || !taskMetadata.isEmpty()) {
                    SafetensorsWriter.write(tmp.resolve(TASK_STATE_FILE), taskTensors, taskMetadata);
                }
                Files.write(tmp.resolve(STATE_FILE), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(state()));
                Checkpointing.replaceDirectory(tmp, target);
            } finally {
                Checkpointing.deleteTree(tmp);
            }
            lastCheckpoint = target;
            listener.onCheckpoint(step, target);
            prune(root, target);
        }

        private ObjectNode state() {
            ObjectNode s = JSON.createObjectNode();
            s.put("task", task.architecture());
            s.put("step", step);
            s.put("total_steps", totalSteps);
            s.put("optimizer_steps", optimizer.steps());
            s.put("epoch", epoch);
            s.put("cursor", cursor);
            s.put("rng_state", rng.state());
            s.set("settings", settingsJson());
            ArrayNode o = s.putArray("order");
            for (int i : order) {
                o.add(i);
            }
            ArrayNode l = s.putArray("losses");
            losses.forEach(l::add);
            ObjectNode f = s.putObject("failed_images");
            failed.forEach(f::put);
            ArrayNode vs = s.putArray("validations");
            for (ValidationResult v : validations) {
                ObjectNode vn = vs.addObject().put("step", v.step()).put("loss", v.loss());
                ObjectNode metrics = vn.putObject("metrics");
                v.metrics().forEach(metrics::put);
                ObjectNode outputs = vn.putObject("outputs");
                v.outputs().forEach(outputs::put);
            }
            return s;
        }

        /**
         * Deletes all but the newest {@code keepCheckpoints} checkpoints up to {@code newest}. Later
         * ones are damaged checkpoints a resumed run passed over: counting them would delete intact
         * checkpoints to keep damaged ones, and the run replaces each when it gets to its step.
         */
        private void prune(Path root, Path newest) throws IOException {
            String last = newest.getFileName().toString();
            List<Path> kept = checkpoints(root).stream()
                    .filter(p -> p.getFileName().toString().compareTo(last) <= 0).toList();
            for (int i = settings.keepCheckpoints(); i < kept.size(); i++) {
                Checkpointing.deleteTree(kept.get(i));
            }
        }
    }

    /** Each distinct parameter with the name it is saved under. */
    private static Map<Parameter, String> savedNames(Parameters params) {
        Map<Parameter, String> out = new java.util.IdentityHashMap<>();
        for (String name : params.names()) {
            out.putIfAbsent(params.get(name), name);
        }
        return out;
    }

    /** The settings that fix the data stream and the schedule, which a resumed run must share. */
    private ObjectNode settingsJson() {
        ObjectNode s = JSON.createObjectNode();
        s.put("epochs", settings.epochs());
        s.put("batch_size", settings.batchSize());
        s.put("grad_accum", settings.gradAccum());
        s.put("lr", settings.lr());
        s.put("min_lr", settings.minLr());
        s.put("weight_decay", settings.weightDecay());
        s.put("warmup_steps", settings.warmupSteps());
        s.put("max_grad_norm", settings.maxGradNorm());
        s.put("seed", settings.seed());
        s.put("label_smoothing", settings.labelSmoothing());
        s.put("prompt", settings.prompt());
        s.put("max_text_length", settings.maxTextLength());
        s.put("augment", settings.augment());
        if (settings.augment() && settings.randAugment() != null) {
            // Only when on, so checkpoints written before RandAugment existed resume without it.
            s.put("randaugment", settings.randAugment().describe());
        }
        return s;
    }

    private void checkSameRun(JsonNode saved, Path dir) {
        ObjectNode now = settingsJson();
        java.util.Set<String> keys = new java.util.TreeSet<>();
        now.properties().forEach(e -> keys.add(e.getKey()));
        // Optional settings (randaugment) are absent when off, so a key only the checkpoint has differs too.
        saved.properties().forEach(e -> keys.add(e.getKey()));
        for (String key : keys) {
            JsonNode old = saved.get(key);
            JsonNode cur = now.get(key);
            if (old == null || cur == null || !old.asText().equals(cur.asText())) {
                throw new IllegalStateException(dir.resolve(STATE_FILE) + ": the checkpoint was trained with "
                        + key + " = " + (old == null ? "(off)" : old) + " but this run has "
                        + (cur == null ? "(off)" : cur)
                        + "; resume with the same settings or start in a new output directory");
            }
        }
    }

    /** One forward/backward batch. */
    private record Batch(float[] pixels, int[] examples) {}
}
