package org.blipjava.data;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * One question of a VQA dataset.
 *
 * @param id the question id (the dataset's {@code question_id}, or the entry's position)
 * @param image the image file
 * @param question the question
 * @param answers the human answers (VQAv2 has ten; may be empty for test sets without answers)
 */
public record VqaSample(String id, Path image, String question, List<String> answers) {
    public VqaSample {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(question, "question");
        answers = List.copyOf(answers);
    }
}
