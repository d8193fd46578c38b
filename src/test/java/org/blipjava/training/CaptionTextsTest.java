package org.blipjava.training;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.blipjava.testing.Fixtures;
import org.blipjava.tokenizer.BertTokenizer;
import org.junit.jupiter.api.Test;

class CaptionTextsTest {
    @Test
    void preCaptionCleansAsBlipDoes() {
        assertThat(CaptionTexts.preCaption("  A Dog (running)!  on the   beach. ", 30)).isEqualTo("a dog running on the beach");
        assertThat(CaptionTexts.preCaption("one two three four", 2)).isEqualTo("one two");
        assertThat(CaptionTexts.preCaption("keep, commas-and 'quotes'", 30)).isEqualTo("keep, commas-and 'quotes'");
    }

    @Test
    void promptPositionsAndPaddingAreIgnoredAndDecStartsEveryRow() {
        BertTokenizer tok = BertTokenizer.load(Fixtures.sets(Fixtures.Kind.BLIP).getFirst().model("tiny-caption"));
        int dec = tok.bosTokenId();
        CaptionTexts t = CaptionTexts.encode(List.of("A red circle.", "a blue square on a table"), tok,
                "a picture of ", 40, dec);
        int prompt = CaptionTexts.promptLength(tok, "a picture of ");
        assertThat(prompt).isEqualTo(tok.encode("a picture of").length - 1);
        for (int r = 0; r < 2; r++) {
            assertThat(t.ids()[r][0]).isEqualTo(dec);
            for (int j = 0; j < t.ids()[r].length; j++) {
                boolean learned = j >= prompt && t.mask()[r][j] == 1;
                assertThat(t.labels()[r][j]).isEqualTo(learned ? t.ids()[r][j] : CaptionTexts.IGNORE);
            }
        }
        // "a red circle" + [SEP] are the first row's targets; the trailing "." was cleaned away.
        assertThat(t.targetCount()).isEqualTo(4 + 7);
        assertThat(CaptionTexts.decoderStart(tok, "a picture of ", dec)).hasSize(prompt);
        assertThat(CaptionTexts.decoderStart(tok, null, dec)).containsExactly(dec);
    }
}
