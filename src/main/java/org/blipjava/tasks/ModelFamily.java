package org.blipjava.tasks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.blipjava.hub.ModelFiles;

/**
 * The vision-language model families this project runs, told apart by {@code model_type} in a
 * checkpoint's {@code config.json}.
 */
public enum ModelFamily {
    /** BLIP (Li et al. 2022): every head, from captioning to image-text matching. */
    BLIP("blip", "BLIP", ModelFiles.BLIP),
    /** CLIP (Radford et al. 2021): OpenAI's checkpoints and the LAION/open_clip conversions. */
    CLIP("clip", "CLIP", ModelFiles.CLIP),
    /** FLAVA (Singh et al. 2022): {@code FlavaModel} and {@code FlavaForPreTraining} (with its ITM head). */
    FLAVA("flava", "FLAVA", ModelFiles.FLAVA);

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String modelType;
    private final String displayName;
    private final ModelFiles files;

    ModelFamily(String modelType, String displayName, ModelFiles files) {
        this.modelType = modelType;
        this.displayName = displayName;
        this.files = files;
    }

    /** The files a Hub download of a model of this family fetches. */
    public ModelFiles files() {
        return files;
    }

    /** The {@code model_type} the reference writes in config.json. */
    public String modelType() {
        return modelType;
    }

    /** The family's name as people write it. */
    public String displayName() {
        return displayName;
    }

    /**
     * The family of the model in {@code directory}, from its config.json.
     *
     * @throws TaskException when config.json is missing, unreadable, or names another model type
     */
    public static ModelFamily of(Path directory) {
        Path file = directory.resolve("config.json");
        if (!Files.isRegularFile(file)) {
            throw new TaskException(directory + " has no config.json; a model folder holds config.json, the weights "
                    + "and the tokenizer and preprocessor files as save_pretrained writes them");
        }
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new TaskException(file + ": cannot read it as JSON (" + e.getMessage() + ")");
        }
        String type = root.path("model_type").asText("");
        for (ModelFamily f : values()) {
            if (f.modelType.equals(type)) {
                return f;
            }
        }
        throw new TaskException(file + ": model_type \"" + type + "\" is not a family this project runs (one of "
                + Arrays.stream(values()).map(ModelFamily::modelType).toList() + ")");
    }
}
