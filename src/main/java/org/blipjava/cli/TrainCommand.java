package org.blipjava.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.blipjava.hub.ConsoleProgressListener;
import org.blipjava.hub.DownloadListener;
import org.blipjava.hub.ModelLocator;
import org.blipjava.tensor.Parallel;
import org.blipjava.training.CaptionData;
import org.blipjava.training.RandAugment;
import org.blipjava.training.RetrievalSettings;
import org.blipjava.training.ShapesData;
import org.blipjava.training.Trainer;
import org.blipjava.training.TrainingListener;
import org.blipjava.training.TrainingResult;
import org.blipjava.training.TrainingSettings;
import org.blipjava.training.ValidationResult;
import org.blipjava.training.VqaData;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code blip train}: fine-tunes a captioning or VQA model, with resumable checkpoints. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Fine-tunes a BLIP captioning model (BlipForConditionalGeneration, --task caption), VQA model"
                + " (BlipForQuestionAnswering, --task vqa) or retrieval model (BlipForImageTextRetrieval, --task"
                + " retrieval) with BLIP's recipe: LM loss with label smoothing (caption, vqa) or ITC with momentum"
                + " distillation and a feature queue plus ITM with hard negatives (retrieval); AdamW, linear warm-up"
                + " then cosine decay, random resized crops and flips, then RandAugment(2, 5).",
            "Writes resumable checkpoints to OUTPUT/checkpoints/step-N/ (each a loadable model directory) and the"
                + " trained model to OUTPUT/final/.",
            "Caption and retrieval data: Karpathy COCO/Flickr JSON, BLIP's [{image, caption}] lists, or the"
                + " Flickr30k CSV; VQA data: BLIP's [{image, question, answer: [..]}] lists.",
            "Settings may also come from --config FILE, a JSON object keyed by the long flag names without dashes"
                + " (flags on the command line win)."})
final class TrainCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** Where --shapes-demo renders its data, inside --output. */
    private static final String SHAPES_DATA = "shapes-data";

    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE",
            description = "JSON file of settings, e.g. {\"epochs\": 5, \"lr\": 1e-5}; relative paths in it are relative to it.")
    Path config;

    @Option(names = "--task", paramLabel = "TASK", defaultValue = "caption",
            description = "caption, vqa or retrieval (default: ${DEFAULT-VALUE}).")
    String task;

    @Option(names = {"-m", "--model"}, paramLabel = "MODEL",
            description = "The model to start from: a directory or a Hugging Face Hub id.")
    String model;

    @Option(names = "--revision", paramLabel = "REV", description = "Hub revision when --model is a Hub id.")
    String revision;

    @Option(names = "--train", paramLabel = "FILE", description = "Training captions.")
    Path train;

    @Option(names = "--val", paramLabel = "FILE", description = "Validation captions (optional).")
    Path val;

    @Option(names = "--image-root", paramLabel = "DIR",
            description = "Directory image paths in the data files are relative to (default: each file's directory).")
    Path imageRoot;

    @Option(names = "--train-split", paramLabel = "SPLIT", defaultValue = "train",
            description = "Split of a Karpathy JSON to train on (default: ${DEFAULT-VALUE}).")
    String trainSplit;

    @Option(names = "--val-split", paramLabel = "SPLIT", defaultValue = "val",
            description = "Split of a Karpathy JSON to validate on (default: ${DEFAULT-VALUE}).")
    String valSplit;

    @Option(names = "--shapes-demo",
            description = "Render a small shapes dataset (captions, or questions with --task vqa) into OUTPUT/shapes-data and train and validate on it.")
    boolean shapesDemo;

    @Option(names = "--output", paramLabel = "DIR", description = "Where checkpoints and the final model go.")
    Path output;

    @Option(names = "--resume", description = "Continue from the newest intact checkpoint in --output; a damaged"
            + " newer one is passed over with a note. Without any checkpoint, training starts at step 0 (with a note)"
            + " only when --output is new or empty, and is refused otherwise.")
    boolean resume;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "5", description = "Passes over the data (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "8", description = "Captions per batch (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--grad-accum", paramLabel = "N", defaultValue = "1",
            description = "Batches per optimizer step (default: ${DEFAULT-VALUE}).")
    int gradAccum;

    @Option(names = "--lr", paramLabel = "LR", defaultValue = "1e-5", description = "Peak learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--min-lr", paramLabel = "LR", defaultValue = "0",
            description = "Learning rate at the end of the cosine decay (default: ${DEFAULT-VALUE}).")
    double minLr;

    @Option(names = "--weight-decay", paramLabel = "WD", defaultValue = "0.05",
            description = "AdamW weight decay, not applied to biases and norms (default: ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--warmup-steps", paramLabel = "N", defaultValue = "0",
            description = "Optimizer steps of linear warm-up (default: ${DEFAULT-VALUE}).")
    int warmupSteps;

    @Option(names = "--max-grad-norm", paramLabel = "X", defaultValue = "1.0",
            description = "Clip the gradient norm to X; 0 for no clipping (default: ${DEFAULT-VALUE}).")
    double maxGradNorm;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "42",
            description = "Seed of data order and augmentation (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--label-smoothing", paramLabel = "X", defaultValue = "0.1",
            description = "Label smoothing of the LM loss (default: ${DEFAULT-VALUE}).")
    double labelSmoothing;

    @Option(names = "--prompt", paramLabel = "TEXT",
            description = "Prefix of every caption, not trained on (BLIP uses \"a picture of \"); none by default.")
    String prompt;

    @Option(names = "--max-text-length", paramLabel = "N", defaultValue = "40",
            description = "Truncate captions to N tokens (default: ${DEFAULT-VALUE}).")
    int maxTextLength;

    @Option(names = "--no-augment",
            description = "Train on the plainly resized images (no random crops, flips or RandAugment).")
    boolean noAugment;

    @Option(names = "--randaugment", paramLabel = "N,M", defaultValue = "2,5",
            description = "After crops and flips, BLIP's RandAugment: N ops per image, each applied half of the time,"
                    + " at magnitude M of 10 (default: ${DEFAULT-VALUE}).")
    String randAugment;

    @Option(names = "--no-randaugment", description = "Keep the random crops and flips but leave out RandAugment.")
    boolean noRandAugment;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0.07",
            description = "Retrieval: ITC temperature, the initial value when it is learned (default: ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--fixed-temperature", description = "Retrieval: keep the ITC temperature fixed instead of learning"
            + " it (BLIP learns it, clamped to [0.001, 0.5]).")
    boolean fixedTemperature;

    @Option(names = "--momentum", paramLabel = "M", defaultValue = "0.995",
            description = "Retrieval: EMA factor of the momentum encoders (default: ${DEFAULT-VALUE}).")
    double momentum;

    @Option(names = "--alpha", paramLabel = "A", defaultValue = "0.4",
            description = "Retrieval: weight of the momentum soft targets (default: ${DEFAULT-VALUE}).")
    double alpha;

    @Option(names = "--queue-size", paramLabel = "N", defaultValue = "57600",
            description = "Retrieval: momentum features queued as extra negatives (default: ${DEFAULT-VALUE}).")
    int queueSize;

    @Option(names = "--validate-every", paramLabel = "N", defaultValue = "0",
            description = "Validate before training and every N optimizer steps; 0 for only at the end (default: ${DEFAULT-VALUE}).")
    int validateEvery;

    @Option(names = "--checkpoint-every", paramLabel = "N", defaultValue = "500",
            description = "Write a resumable checkpoint every N steps; 0 for only at the end (default: ${DEFAULT-VALUE}).")
    int checkpointEvery;

    @Option(names = "--keep-checkpoints", paramLabel = "N", defaultValue = "2",
            description = "How many of the newest checkpoints to keep (default: ${DEFAULT-VALUE}).")
    int keepCheckpoints;

    @Option(names = "--val-images", paramLabel = "N", defaultValue = "0",
            description = "Caption at most N validation images; 0 for all (default: ${DEFAULT-VALUE}).")
    int valImages;

    @Option(names = "--max-length", paramLabel = "N", defaultValue = "20",
            description = "Longest validation caption in tokens, [DEC] included (default: ${DEFAULT-VALUE}).")
    int maxLength;

    @Option(names = "--max-steps", paramLabel = "N", defaultValue = "0",
            description = "Stop (with a checkpoint) after N steps of the schedule; --resume continues (default: run all).")
    int maxSteps;

    @Option(names = "--log-every", paramLabel = "N", defaultValue = "10",
            description = "Without a progress bar, print a line every N steps (default: ${DEFAULT-VALUE}).")
    int logEvery;

    @Option(names = "--threads", paramLabel = "N", description = "Compute threads (default: all cores).")
    Integer threads;

    @Option(names = "--json", description = "Print the summary as one JSON document.")
    boolean json;

    @Option(names = "--no-progress", description = "Never show a progress bar.")
    boolean noProgress;

    @Option(names = {"-v", "--verbose"}, description = "Show stack traces of errors.")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        if (config != null) {
            applyConfig();
        }
        validate();
        TrainingSettings settings;
        RandAugment randAugmentation;
        try {
            randAugmentation = noRandAugment ? null : RandAugment.parse(randAugment);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--randaugment: " + e.getMessage());
        }
        try {
            settings = new TrainingSettings(epochs, batchSize, gradAccum, lr, minLr, weightDecay, warmupSteps,
                    maxGradNorm, seed, labelSmoothing, prompt, maxTextLength, !noAugment, randAugmentation,
                    validateEvery, checkpointEvery, keepCheckpoints, maxLength, valImages, maxSteps);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        PrintWriter err = spec.commandLine().getErr();
        checkFiles(err);
        Path modelDir;
        boolean bars = !noProgress && ConsoleProgressListener.stderrIsTerminal();
        try (ModelLocator locator = ModelLocator.fromSystem(bars ? ConsoleProgressListener.forStderr(true) : DownloadListener.NONE)) {
            modelDir = locator.resolve(model, revision);
        }
        boolean vqa = task.equals("vqa");
        Path trainFile = train;
        Path valFile = val;
        Path root = imageRoot;
        if (shapesDemo) {
            Path dir = output.resolve(SHAPES_DATA);
            trainFile = vqa ? ShapesData.writeVqa(dir, "train", 48, 72, seed) : ShapesData.write(dir, "train", 48, 72, seed);
            valFile = vqa ? ShapesData.writeVqa(dir, "val", ShapesData.kinds(), 72, seed + 1)
                    : ShapesData.write(dir, "val", ShapesData.kinds(), 72, seed + 1);
            root = null;
        }
        try (Parallel parallel = threads == null ? Parallel.ofAvailableProcessors() : new Parallel(threads)) {
            Trainer trainer = new Trainer(modelDir, settings, parallel);
            Progress progress = new Progress(err, bars);
            TrainingResult result;
            try {
                if (vqa) {
                    VqaData trainData = VqaData.read(trainFile, root);
                    VqaData valData = valFile == null ? null : VqaData.read(valFile, root);
                    reportMissing(err, trainFile, trainData.missingImages());
                    reportMissing(err, valFile, valData == null ? java.util.List.of() : valData.missingImages());
                    result = trainer.trainVqa(trainData, valData, output, resume, progress);
                } else if (task.equals("retrieval")) {
                    RetrievalSettings rs;
                    try {
                        rs = new RetrievalSettings(temperature, !fixedTemperature, momentum, alpha, queueSize);
                    } catch (IllegalArgumentException e) {
                        throw new ParameterException(spec.commandLine(), e.getMessage());
                    }
                    CaptionData trainData = CaptionData.read(trainFile, root, trainSplit);
                    CaptionData valData = valFile == null ? null : CaptionData.read(valFile, root, valSplit);
                    reportMissing(err, trainFile, trainData.missingImages());
                    reportMissing(err, valFile, valData == null ? java.util.List.of() : valData.missingImages());
                    result = trainer.trainRetrieval(trainData, valData, rs, output, resume, progress);
                } else {
                    CaptionData trainData = CaptionData.read(trainFile, root, trainSplit);
                    CaptionData valData = valFile == null ? null : CaptionData.read(valFile, root, valSplit);
                    reportMissing(err, trainFile, trainData.missingImages());
                    reportMissing(err, valFile, valData == null ? java.util.List.of() : valData.missingImages());
                    result = trainer.train(trainData, valData, output, resume, progress);
                }
            } finally {
                progress.close();
            }
            PrintWriter out = spec.commandLine().getOut();
            out.print(json ? JSON.writeValueAsString(summary(result)) + System.lineSeparator() : text(result));
            out.flush();
        }
        return 0;
    }

    private void validate() {
        if (!"caption".equals(task) && !"vqa".equals(task) && !"retrieval".equals(task)) {
            throw new ParameterException(spec.commandLine(), "--task " + task
                    + " is not supported; use --task caption, vqa or retrieval");
        }
        if (model == null) {
            throw new ParameterException(spec.commandLine(), "--model is required (a captioning model directory or Hub id)");
        }
        if (output == null) {
            throw new ParameterException(spec.commandLine(), "--output is required (where checkpoints and the model go)");
        }
        if (train == null && !shapesDemo) {
            throw new ParameterException(spec.commandLine(), "--train is required (or --shapes-demo to try training out)");
        }
        if (threads != null && threads < 1) {
            throw new ParameterException(spec.commandLine(), "--threads must be at least 1, got " + threads);
        }
        if (logEvery < 1) {
            throw new ParameterException(spec.commandLine(), "--log-every must be at least 1, got " + logEvery);
        }
    }

    /**
     * Checks the files and folders the run reads and writes before any model is loaded (which may
     * mean a download) or any step is trained, so that a wrong path costs nothing: the data exist,
     * --output can hold the run's directories, and its checkpoints agree with --resume.
     */
    private void checkFiles(PrintWriter err) throws IOException {
        if (!shapesDemo) {
            requireExists("--train", train);
            requireExists("--val", val);
        }
        if (imageRoot != null && !shapesDemo && !Files.isDirectory(imageRoot)) {
            throw new ParameterException(spec.commandLine(), "--image-root " + imageRoot + ": no such directory");
        }
        if (Files.exists(output) && !Files.isDirectory(output)) {
            throw new ParameterException(spec.commandLine(), "--output " + output
                    + " is a file; give a directory for the checkpoints and the trained model");
        }
        Path existing = output.toAbsolutePath();
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing != null && !Files.isDirectory(existing)) {
            throw new ParameterException(spec.commandLine(), "--output " + output + ": " + existing
                    + " is a file, so the directory cannot be created there");
        }
        if (existing == null || !Files.isWritable(existing)) {
            throw new ParameterException(spec.commandLine(), "--output " + output + ": cannot write in "
                    + (existing == null ? output : existing) + " (permission denied)");
        }
        for (String name : shapesDemo ? List.of(Trainer.CHECKPOINTS, Trainer.FINAL, SHAPES_DATA)
                : List.of(Trainer.CHECKPOINTS, Trainer.FINAL)) {
            Path p = output.resolve(name);
            if (Files.exists(p) && !Files.isDirectory(p)) {
                throw new ParameterException(spec.commandLine(), "--output " + output + ": " + p
                        + " is a file where the run writes a directory; move it away or choose another --output");
            }
        }
        // Refuses a new run over checkpoints, and a resume where none is intact.
        Path from = Trainer.startingCheckpoint(output, resume);
        if (resume && from == null) {
            if (!isNewOrEmpty(output)) {
                throw new ParameterException(spec.commandLine(), "--resume: " + output + " holds no checkpoint ("
                        + Trainer.CHECKPOINTS + "/step-N/) to resume from; check the --output path, or leave out"
                        + " --resume to train there from the start");
            }
            // A new or empty folder is what a script that always passes --resume starts with.
            err.println("blip: --resume: " + output + " holds no checkpoint yet; training starts at step 0");
            err.flush();
        }
    }

    private void requireExists(String option, Path file) {
        if (file != null && !Files.exists(file)) {
            throw new ParameterException(spec.commandLine(), option + " " + file + ": no such file");
        }
    }

    /**
     * Whether {@code dir} is missing or holds nothing of a run but what a run that stopped before
     * its first checkpoint leaves: hidden temporary files, an empty checkpoints folder, and the
     * rendered --shapes-demo data.
     */
    private boolean isNewOrEmpty(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return true;
        }
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.map(p -> p.getFileName().toString()).allMatch(name -> name.startsWith(".")
                    || name.equals(Trainer.CHECKPOINTS) || shapesDemo && name.equals(SHAPES_DATA));
        }
    }

    /** Sets every option the config file names and the command line does not. */
    private void applyConfig() throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(config.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ParameterException(spec.commandLine(), config + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new ParameterException(spec.commandLine(), config + ": expected a JSON object of settings");
        }
        Path base = config.toAbsolutePath().getParent();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            String key = e.getKey();
            OptionSpec opt = spec.findOption("--" + key);
            if (opt == null || key.equals("config") || key.equals("help") || key.equals("version")) {
                throw new ParameterException(spec.commandLine(), config + ": unknown setting '" + key
                        + "'; use the long flag names without dashes, e.g. \"epochs\" or \"batch-size\"");
            }
            if (spec.commandLine().getParseResult().hasMatchedOption(opt)) {
                continue;
            }
            opt.setValue(convert(opt.type(), e.getValue(), key, base));
        }
    }

    private Object convert(Class<?> type, JsonNode v, String key, Path base) {
        String what = null;
        if ((type == int.class || type == Integer.class) && v.canConvertToInt() && v.isIntegralNumber()) {
            return v.asInt();
        } else if (type == int.class || type == Integer.class) {
            what = "a whole number";
        } else if (type == long.class && v.isIntegralNumber() && v.canConvertToLong()) {
            return v.asLong();
        } else if (type == long.class) {
            what = "a whole number";
        } else if (type == double.class && v.isNumber()) {
            return v.asDouble();
        } else if (type == double.class) {
            what = "a number";
        } else if (type == boolean.class && v.isBoolean()) {
            return v.asBoolean();
        } else if (type == boolean.class) {
            what = "true or false";
        } else if (type == Path.class && v.isTextual()) {
            return base.resolve(v.asText());
        } else if (type == String.class && v.isTextual()) {
            return v.asText();
        } else {
            what = "a string";
        }
        throw new ParameterException(spec.commandLine(), config + ": setting '" + key + "' must be " + what + ", got " + v);
    }

    private static void reportMissing(PrintWriter err, Path file, java.util.List<Path> missing) {
        if (!missing.isEmpty()) {
            err.println("blip: " + missing.size() + " image(s) listed in " + file
                    + " do not exist and are skipped with their texts (first: " + missing.getFirst() + ")");
            err.flush();
        }
    }

    private String text(TrainingResult r) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "steps: %d of %d%n", r.steps(), r.totalSteps()));
        if (!r.losses().isEmpty()) {
            sb.append(String.format(Locale.ROOT, "training loss: first %.4f, last %.4f%n", r.losses().getFirst(),
                    r.losses().getLast()));
        }
        if (!r.validations().isEmpty()) {
            ValidationResult v = r.validations().getLast();
            sb.append(String.format(Locale.ROOT, "validation (step %d): loss %.4f%s%n", v.step(), v.loss(), metrics(v)));
        }
        r.taskValues().forEach((k, x) -> sb.append(String.format(Locale.ROOT, "%s at the end: %.6g%n", label(k), x)));
        if (!r.missingImages().isEmpty() || !r.failedImages().isEmpty()) {
            sb.append(String.format(Locale.ROOT, "images skipped: %d missing, %d unreadable%n", r.missingImages().size(),
                    r.failedImages().size()));
        }
        if (r.lastCheckpoint() != null) {
            sb.append("last checkpoint: ").append(r.lastCheckpoint()).append(System.lineSeparator());
        }
        sb.append(r.finalModel() != null ? "trained model: " + r.finalModel()
                : "stopped before the end of the schedule; continue with --resume").append(System.lineSeparator());
        return sb.toString();
    }

    private static String metrics(ValidationResult v) {
        StringBuilder sb = new StringBuilder();
        v.metrics().forEach((k, x) -> sb.append(String.format(Locale.ROOT, ", %s %.4f", switch (k) {
            case ValidationResult.BLEU4 -> "BLEU-4";
            case ValidationResult.CIDER_D -> "CIDEr-D";
            case ValidationResult.VQA_ACCURACY -> "VQA accuracy";
            case ValidationResult.I2T_R1 -> "image-to-text R@1";
            case ValidationResult.T2I_R1 -> "text-to-image R@1";
            default -> label(k);
        }, x)));
        return sb.toString();
    }

    private static String label(String key) {
        return TrainingResult.ITC_TEMPERATURE.equals(key) ? "ITC temperature" : key;
    }

    private static ObjectNode summary(TrainingResult r) {
        ObjectNode doc = JSON.createObjectNode();
        doc.put("steps", r.steps());
        doc.put("total_steps", r.totalSteps());
        doc.put("completed", r.completed());
        ArrayNode losses = doc.putArray("losses");
        r.losses().forEach(losses::add);
        ArrayNode vs = doc.putArray("validations");
        for (ValidationResult v : r.validations()) {
            ObjectNode n = vs.addObject().put("step", v.step()).put("loss", v.loss());
            v.metrics().forEach(n::put);
            ObjectNode outputs = n.putObject("outputs");
            v.outputs().forEach(outputs::put);
        }
        r.taskValues().forEach(doc::put);
        ArrayNode missing = doc.putArray("missing_images");
        r.missingImages().forEach(p -> missing.add(p.toString()));
        ObjectNode failed = doc.putObject("unreadable_images");
        r.failedImages().forEach(failed::put);
        doc.put("last_checkpoint", r.lastCheckpoint() == null ? null : r.lastCheckpoint().toString());
        doc.put("final_model", r.finalModel() == null ? null : r.finalModel().toString());
        return doc;
    }

    /** A progress bar with loss and speed on a terminal, otherwise a log line every --log-every steps. */
    private final class Progress implements TrainingListener, AutoCloseable {
        private final PrintWriter err;
        private final boolean bar;
        private ProgressBar progress;

        Progress(PrintWriter err, boolean bar) {
            this.err = err;
            this.bar = bar;
        }

        @Override
        public void onStart(int startStep, int totalSteps) {
            if (bar) {
                progress = new ProgressBarBuilder().setTaskName("train").setInitialMax(totalSteps)
                        .setStyle(ProgressBarStyle.ASCII).setConsumer(new ConsoleProgressBarConsumer(System.err))
                        .setUnit(" steps", 1).startsFrom(startStep, java.time.Duration.ZERO).build();
            } else if (startStep > 0) {
                line(String.format(Locale.ROOT, "resuming at step %d of %d", startStep, totalSteps));
            }
        }

        @Override
        public void onStep(StepEvent e) {
            String msg = String.format(Locale.ROOT, "loss %.4f | lr %.2e | %.1f img/s", e.loss(), e.lr(),
                    e.examplesPerSecond());
            if (progress != null) {
                progress.stepTo(e.step());
                progress.setExtraMessage(msg);
            } else if (e.step() % logEvery == 0 || e.step() == e.totalSteps()) {
                line(String.format(Locale.ROOT, "step %d/%d (epoch %d) %s", e.step(), e.totalSteps(), e.epoch() + 1, msg));
            }
        }

        @Override
        public void onValidation(ValidationResult r) {
            line(String.format(Locale.ROOT, "validation at step %d: loss %.4f%s", r.step(), r.loss(), metrics(r)));
            r.outputs().entrySet().stream().limit(3).forEach(c -> line("  " + c.getKey() + ": " + c.getValue()));
        }

        @Override
        public void onCheckpoint(int step, Path dir) {
            if (progress == null) {
                line("checkpoint: " + dir);
            }
        }

        @Override
        public void onCheckpointSkipped(Path checkpoint, String reason) {
            line("blip: checkpoint " + checkpoint + " is damaged, so the run resumes from an earlier one: " + reason);
        }

        @Override
        public void onImageFailed(Path image, String error) {
            line("blip: cannot read " + image + " (" + error + "); its captions are skipped");
        }

        private void line(String s) {
            err.println(s);
            err.flush();
        }

        @Override
        public void close() {
            if (progress != null) {
                progress.close();
            }
        }
    }
}
