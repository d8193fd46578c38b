package org.blipjava.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PtbTokenizerTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "A man riding a horse.|a man riding a horse",
        "Hello,   world!\tReally?|hello world really",
        "The dog's ball|the dog 's ball",
        "I don't know; they're here|i do n't know they 're here",
        "It cannot be|it can not be",
        "1,000 people, 3.5 inches|1,000 people 3.5 inches",
        "A U.S. flag|a u.s. flag",
        "\"Quoted\" (paren) [box] {brace}|quoted paren box brace",
        "a black-and-white photo|a black-and-white photo",
        "well--known -- really|well known really",
        "50% off $5|50 % off $ 5",
        "Wait... what|wait what",
        "the dogs' toys|the dogs toys",
        "Colon: here|colon here",
        "` quote ' marks ''|quote marks",
    })
    void tokenizesLikeTheToolkit(String in, String want) {
        assertThat(PtbTokenizer.tokenize(in)).isEqualTo(want);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"a man riding a horse", "two dogs 's toys", "i do n't know"})
    void isIdempotentOnTokenizedText(String tokenized) {
        assertThat(PtbTokenizer.tokenize(tokenized)).isEqualTo(tokenized);
    }
}
