package org.blipjava.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * VQA fine-tuning data from BLIP's annotation format: a JSON array of
 * {@code {"image": path, "question": text, "answer": [answers] or "answer"}} ({@code "answers"}
 * is accepted too). One training example per distinct answer of a question (BLIP weights each
 * distinct answer by its frequency instead; here repeated answers collapse, which keeps VQAv2's ten
 * answers per question from multiplying the work). All answers, repeats included, are the human
 * answers {@link VqaValidator} scores against. Questions whose image file does
 * not exist are dropped and listed in {@link #missingImages()}.
 *
 * <p>Immutable and thread-safe.
 */
public final class VqaData implements TrainingExamples {
    /**
     * One question.
     *
     * @param image    the image file
     * @param question the question
     * @param answers  the answers given (human answers when validating)
     */
    public record Question(Path image, String question, List<String> answers) {
        public Question {
            answers = List.copyOf(answers);
        }
    }

    private final List<Question> questions;
    private final List<Path> images;
    private final int[] imageOf;
    private final int[] questionOf;
    private final List<String> answerOf;
    private final List<Path> missing;

    private VqaData(List<Question> questions, List<Path> missing) {
        this.questions = List.copyOf(questions);
        this.missing = List.copyOf(missing);
        Map<Path, Integer> imageIndex = new LinkedHashMap<>();
        imageOf = new int[questions.size()];
        List<Integer> qs = new ArrayList<>();
        List<String> as = new ArrayList<>();
        for (int q = 0; q < questions.size(); q++) {
            imageOf[q] = imageIndex.computeIfAbsent(questions.get(q).image(), p -> imageIndex.size());
            for (String a : new java.util.LinkedHashSet<>(questions.get(q).answers())) {
                qs.add(q);
                as.add(a);
            }
        }
        this.images = List.copyOf(imageIndex.keySet());
        this.questionOf = qs.stream().mapToInt(Integer::intValue).toArray();
        this.answerOf = List.copyOf(as);
    }

    /** Questions as given, dropping those whose image does not exist. */
    public static VqaData of(List<Question> questions) {
        List<Question> kept = new ArrayList<>();
        List<Path> missing = new ArrayList<>();
        for (Question q : questions) {
            if (Files.isRegularFile(q.image())) {
                kept.add(q);
            } else if (!missing.contains(q.image())) {
                missing.add(q.image());
            }
        }
        if (kept.isEmpty()) {
            throw new IllegalArgumentException("none of the " + questions.size() + " questions has an existing image"
                    + (missing.isEmpty() ? "" : " (first missing: " + missing.getFirst() + ")")
                    + "; check the image root directory");
        }
        return new VqaData(kept, missing);
    }

    /**
     * Reads a BLIP VQA annotation file.
     *
     * @param imageRoot directory image paths are relative to (null: the file's directory)
     */
    public static VqaData read(Path file, Path imageRoot) {
        Path root = imageRoot != null ? imageRoot : file.toAbsolutePath().getParent();
        JsonNode json;
        try {
            json = new ObjectMapper().readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
        }
        if (json == null || !json.isArray()) {
            throw new IllegalArgumentException(file + ": expected a JSON array of {\"image\", \"question\", \"answer\"}");
        }
        List<Question> out = new ArrayList<>();
        for (int i = 0; i < json.size(); i++) {
            JsonNode e = json.get(i);
            String image = e.path("image").asText(null);
            String question = e.path("question").asText(null);
            JsonNode a = e.has("answer") ? e.get("answer") : e.get("answers");
            List<String> answers = new ArrayList<>();
            if (a != null && a.isArray()) {
                a.forEach(x -> answers.add(x.isObject() ? x.path("answer").asText() : x.asText()));
            } else if (a != null && a.isTextual()) {
                answers.add(a.asText());
            }
            if (image == null || question == null || answers.isEmpty()) {
                throw new IllegalArgumentException(file + ": entry " + i
                        + " needs \"image\", \"question\" and a non-empty \"answer\" (a string or a list)");
            }
            out.add(new Question(root.resolve(image), question, answers));
        }
        return of(out);
    }

    /** Number of training examples (distinct answers of each question). */
    public int size() {
        return questionOf.length;
    }

    /** The question of example {@code i}. */
    public Question questionOf(int i) {
        return questions.get(questionOf[i]);
    }

    /** The image file of example {@code i} (its question's image). */
    @Override
    public Path image(int i) {
        return questionOf(i).image();
    }

    /** The answer of example {@code i}. */
    public String answer(int i) {
        return answerOf.get(i);
    }

    /** The questions. */
    public List<Question> questions() {
        return questions;
    }

    /** The distinct images. */
    public List<Path> images() {
        return images;
    }

    /** Index into {@link #images()} of question {@code q}'s image. */
    public int imageIndexOfQuestion(int q) {
        return imageOf[q];
    }

    /** Images listed but absent (their questions dropped). */
    public List<Path> missingImages() {
        return missing;
    }
}
