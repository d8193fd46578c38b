package org.blipjava.tasks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.blipjava.image.Images;
import org.blipjava.image.RgbImage;
import org.blipjava.testing.Fixtures;
import org.blipjava.testing.Fixtures.FixtureSet;
import org.junit.jupiter.api.Test;

/** Errors about a prompt or question repeat only its start and length, on one line. */
class PromptErrorMessageTest {
    /** About 25 KB of text, as a prompt pasted by mistake. */
    private static final String LONG = "a photo of a dog running on the beach at sunset, ".repeat(500);

    @Test
    void quotesShortTextWholeAndLongTextByItsFirstEightyCharactersAndLength() {
        assertThat(TaskException.quote("a picture of")).isEqualTo("\"a picture of\"");
        assertThat(TaskException.quote("x".repeat(80))).isEqualTo("\"" + "x".repeat(80) + "\"");
        assertThat(TaskException.quote(LONG)).isEqualTo("\"" + LONG.substring(0, 80) + "...\" (" + LONG.length()
                + " characters)");
        assertThat(TaskException.quote("two\nlines\tand a tab")).isEqualTo("\"two lines and a tab\"");
        // Characters, not UTF-16 units: no emoji is cut in half.
        String emoji = "\uD83D\uDC36".repeat(100);
        assertThat(TaskException.quote(emoji)).isEqualTo("\"" + "\uD83D\uDC36".repeat(80) + "...\" (100 characters)");
    }

    @Test
    void aTooLongPromptIsQuotedShortly() {
        FixtureSet set = Fixtures.sets(Fixtures.Kind.BLIP).getFirst();
        RgbImage image = Images.read(set.image(set.expected().path("images").get(0).asText()));
        try (Blip blip = Blip.load(set.model("tiny-caption"), LoadOptions.defaults().withThreads(1))) {
            assertThatThrownBy(() -> blip.caption(List.of(image), LONG, blip.generationDefaults()))
                    .isInstanceOf(TaskException.class)
                    .hasMessageStartingWith("the prompt " + TaskException.quote(LONG) + " with [DEC] is ")
                    .hasMessageContaining("use a shorter prompt")
                    .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(300).doesNotContain("\n"));
        }
    }

    @Test
    void aTooLongQuestionIsNamedAndQuotedShortly() {
        FixtureSet set = Fixtures.sets(Fixtures.Kind.BLIP).getFirst();
        RgbImage image = Images.read(set.image(set.expected().path("images").get(0).asText()));
        try (Blip blip = Blip.load(set.model("tiny-vqa"), LoadOptions.defaults().withThreads(1))) {
            assertThatThrownBy(() -> blip.answer(List.of(image, image), List.of("what is this?", LONG),
                    blip.generationDefaults()))
                    .isInstanceOf(TaskException.class)
                    .hasMessageStartingWith("question 2 " + TaskException.quote(LONG) + " is ")
                    .hasMessageContaining("ask a shorter question")
                    .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(300));
        }
    }
}
