package org.blipjava.tasks;

import java.util.List;

/** Which BLIP head a checkpoint holds, from {@code architectures} in its config.json. */
public enum ModelKind {
    /** {@code BlipForConditionalGeneration}: captioning. */
    CAPTIONING("BlipForConditionalGeneration", "captioning"),
    /** {@code BlipForQuestionAnswering}: visual question answering. */
    QUESTION_ANSWERING("BlipForQuestionAnswering", "visual question answering"),
    /** {@code BlipForImageTextRetrieval}: image-text matching (ITM) and contrastive features (ITC). */
    RETRIEVAL("BlipForImageTextRetrieval", "image-text retrieval"),
    /** {@code BlipModel}: CLIP-style image and text embeddings. */
    CONTRASTIVE("BlipModel", "contrastive embeddings");

    private final String architecture;
    private final String description;

    ModelKind(String architecture, String description) {
        this.architecture = architecture;
        this.description = description;
    }

    /** The class name the reference writes in {@code architectures}. */
    public String architecture() {
        return architecture;
    }

    /** What the head is for, in words (used in error messages). */
    public String description() {
        return description;
    }

    /** The kind named in {@code architectures}, or null when none is a known BLIP head. */
    public static ModelKind fromArchitectures(List<String> architectures) {
        for (String a : architectures) {
            for (ModelKind k : values()) {
                if (k.architecture.equals(a)) {
                    return k;
                }
            }
        }
        return null;
    }
}
