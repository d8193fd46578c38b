package org.blipjava.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.blipjava.hub.ConsoleProgressListener;
import org.blipjava.image.RgbImage;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.ImageTextModel;
import org.blipjava.tasks.LoadOptions;
import org.blipjava.tasks.TaskException;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * What every model command shares: the model and common options, image expansion and decoding
 * with per-image errors, batching with a progress bar, and output to stdout or a file written
 * atomically.
 */
abstract class ModelCommand implements Callable<Integer> {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common;

    @Option(names = {"-m", "--model"}, paramLabel = "MODEL",
            description = "A model directory or a Hugging Face Hub id (the default model is named above).")
    String model;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE",
            description = "Write the output to FILE (atomically) instead of stdout.")
    Path output;

    /** The Hub id used when --model is not given. */
    abstract String defaultModel();

    /**
     * Runs the command on a loaded model of any family; returns the exit code. Commands that work
     * with CLIP and FLAVA too override this; the others get a BLIP model through {@link #run(Blip)}.
     */
    int run(ImageTextModel model) throws Exception {
        if (!(model instanceof Blip blip)) {
            throw new TaskException(model.directory() + " is a " + model.family().displayName() + " model ("
                    + model.architecture() + "); '" + spec.qualifiedName() + "' needs a BLIP checkpoint");
        }
        return run(blip);
    }

    /** Runs a BLIP-only command on a loaded BLIP model; returns the exit code. */
    int run(Blip blip) throws Exception {
        throw new IllegalStateException(spec.name() + " implements neither run method");
    }

    /** Checks the command's own arguments before the model is loaded. */
    void validate() {}

    /** The exit code when this run needs no model (e.g. 'blip index --check'); null to load it and {@link #run}. */
    Integer runWithoutModel() {
        return null;
    }

    @Override
    public final Integer call() throws Exception {
        common.validate(spec);
        validate();
        Integer done = runWithoutModel();
        if (done != null) {
            return done;
        }
        LoadOptions options = common.loadOptions();
        try (ImageTextModel loaded = ImageTextModel.load(model == null ? defaultModel() : model, options)) {
            return run(loaded);
        }
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    boolean showProgress() {
        return !common.noProgress && ConsoleProgressListener.stderrIsTerminal();
    }

    // ------------------------------------------------------------------ images

    /** One image argument (its position among the expanded paths): its pixels or why it could not be read. */
    record Input(int index, Path path, RgbImage image, String error) {}

    /** Image arguments that name no file (reported on stderr, counted as failures). */
    private final List<ImageArgs.Unusable> unusable = new ArrayList<>();

    List<Path> expandImages(List<String> args) {
        List<Path> paths = ImageArgs.expand(args, u -> {
            unusable.add(u);
            err().println("blip: " + PlainText.message(u.arg() + ": " + u.reason()));
            err().flush();
        });
        if (paths.isEmpty() && !args.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "no image files in " + args);
        }
        return paths;
    }

    /** Decodes each image; a failure is kept with its message and the rest go on. */
    Input read(int index, Path path) {
        try {
            return new Input(index, path, Blip.readImage(path), null);
        } catch (RuntimeException e) {
            return new Input(index, path, null, Errors.describe(e));
        }
    }

    /**
     * Reads the images batch by batch and hands each batch of readable ones to {@code work},
     * reporting unreadable ones on stderr; shows a progress bar when there is more than one batch.
     *
     * @return the inputs that failed
     */
    List<Input> forEachBatch(List<Path> paths, Consumer<List<Input>> work) {
        List<Input> failed = new ArrayList<>();
        int batch = common.batchSize;
        ProgressBar bar = null;
        if (showProgress() && paths.size() > batch) {
            bar = new ProgressBarBuilder().setTaskName(spec.name()).setInitialMax(paths.size())
                    .setStyle(ProgressBarStyle.ASCII).setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(System.err))
                    .setUnit(" images", 1).build();
        }
        try {
            for (int start = 0; start < paths.size(); start += batch) {
                List<Input> ok = new ArrayList<>();
                for (int i = start; i < Math.min(paths.size(), start + batch); i++) {
                    Input in = read(i, paths.get(i));
                    if (in.error() != null) {
                        failed.add(in);
                        err().println("blip: " + PlainText.message(in.error()));
                        err().flush();
                    } else {
                        ok.add(in);
                    }
                }
                if (!ok.isEmpty()) {
                    work.accept(ok);
                }
                if (bar != null) {
                    bar.stepBy(Math.min(batch, paths.size() - start));
                }
            }
        } finally {
            if (bar != null) {
                bar.close();
            }
        }
        return failed;
    }

    static List<RgbImage> images(List<Input> inputs) {
        return inputs.stream().map(Input::image).toList();
    }

    /** Exit code: 0 when everything worked, 1 when some images failed (or named no file), 2 when all did. */
    int exitCode(int total, List<Input> failed) {
        if (failed.isEmpty() && unusable.isEmpty()) {
            return 0;
        }
        return failed.size() == total ? Main.EXIT_USAGE : 1;
    }

    // ------------------------------------------------------------------ output

    /** {@code {"results":[...], "errors":[{"image":..,"error":..}]}} (errors only when there are some). */
    ObjectNode document(ArrayNode results, List<Input> failed) {
        ObjectNode doc = JSON.createObjectNode();
        doc.set("results", results);
        if (!failed.isEmpty() || !unusable.isEmpty()) {
            ArrayNode errors = doc.putArray("errors");
            for (ImageArgs.Unusable u : unusable) {
                errors.addObject().put("image", u.arg()).put("error", u.reason());
            }
            for (Input f : failed) {
                errors.addObject().put("image", f.path().toString()).put("error", f.error());
            }
        }
        return doc;
    }

    /** Writes the output to stdout, or atomically to --output. */
    void emit(String text) {
        Emit.text(spec, output, text);
    }

    void emitJson(ObjectNode doc) {
        try {
            emit(JSON.writeValueAsString(doc) + System.lineSeparator());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
