package org.blipjava.serve;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.ImageTextModel;
import org.blipjava.tasks.LoadOptions;
import org.blipjava.tasks.ModelKind;

/**
 * The models a server answers with, each under a name: a Hub id as given, or a model folder's
 * own name. Owns the models: closing this closes them.
 */
public final class ServedModels implements AutoCloseable {
    /** The tasks of the API. */
    public enum Task {
        CAPTION, VQA, MATCH, EMBED, EXPLAIN;

        /** The name used in the API and in errors. */
        public String apiName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * One served model.
     *
     * @param name     how requests name it
     * @param argument the model argument it was loaded from (Hub id or folder)
     */
    public record Entry(String name, String argument, ImageTextModel model) {
        /** The tasks its head can do. */
        public List<Task> tasks() {
            List<Task> out = new ArrayList<>();
            if (model instanceof Blip b && b.kind() == ModelKind.CAPTIONING) {
                out.add(Task.CAPTION);
                out.add(Task.EXPLAIN);
            }
            if (model instanceof Blip b && b.kind() == ModelKind.QUESTION_ANSWERING) {
                out.add(Task.VQA);
            }
            if (model.embeds()) {
                out.add(Task.MATCH);
                out.add(Task.EMBED);
            }
            return out;
        }
    }

    private final Map<String, Entry> byName;

    private ServedModels(Map<String, Entry> byName) {
        this.byName = byName;
    }

    /**
     * Loads every model, closing those already loaded when one fails.
     *
     * @param arguments Hub ids or model folders, at least one
     * @throws IllegalArgumentException when two arguments would get the same name
     */
    public static ServedModels load(List<String> arguments, LoadOptions options) {
        if (arguments.isEmpty()) {
            throw new IllegalArgumentException("give at least one model to serve");
        }
        Map<String, Entry> out = new LinkedHashMap<>();
        try {
            for (String a : arguments) {
                String name = nameOf(a);
                if (out.containsKey(name)) {
                    throw new IllegalArgumentException("two models would both be served as '" + name + "' ("
                            + out.get(name).argument() + " and " + a + "); serve only one of them");
                }
                out.put(name, new Entry(name, a, ImageTextModel.load(a, options)));
            }
        } catch (RuntimeException e) {
            out.values().forEach(m -> m.model().close());
            throw e;
        }
        return new ServedModels(out);
    }

    /** A model argument's name in the API: a folder's own name, a Hub id as it is. */
    public static String nameOf(String argument) {
        try {
            Path p = Path.of(argument);
            if (Files.isDirectory(p) && p.toAbsolutePath().normalize().getFileName() != null) {
                return p.toAbsolutePath().normalize().getFileName().toString();
            }
        } catch (InvalidPathException e) {
            // Not a path here: a Hub id.
        }
        return argument;
    }

    /** The served models in the order given. */
    public Collection<Entry> all() {
        return byName.values();
    }

    /**
     * The model a request names, or the first that can do {@code task} when it names none.
     *
     * @throws ApiException 400 {@code unknown_model} or {@code unsupported_task}
     */
    public Entry forTask(String name, Task task) {
        if (name == null || name.isEmpty()) {
            return byName.values().stream().filter(e -> e.tasks().contains(task)).findFirst()
                    .orElseThrow(() -> ApiException.badRequest("unsupported_task", "no served model can "
                            + task.apiName() + " (served: " + describe() + ")"));
        }
        Entry e = byName.get(name);
        if (e == null) {
            throw ApiException.badRequest("unknown_model", "no model named '" + name + "' is served (served: "
                    + describe() + ")");
        }
        if (!e.tasks().contains(task)) {
            throw ApiException.badRequest("unsupported_task", "model '" + name + "' is a " + e.model().architecture()
                    + " and cannot " + task.apiName() + "; it can " + e.tasks().stream().map(Task::apiName).toList());
        }
        return e;
    }

    private String describe() {
        return byName.values().stream().map(e -> e.name() + " " + e.tasks().stream().map(Task::apiName).toList())
                .toList().toString();
    }

    /** Closes every model. */
    @Override
    public void close() {
        byName.values().forEach(e -> e.model().close());
    }
}
