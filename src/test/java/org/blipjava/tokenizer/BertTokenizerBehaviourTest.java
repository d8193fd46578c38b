package org.blipjava.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.blipjava.testing.Fixtures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reference's tokenizer rules, one at a time, on a small hand-written vocabulary. */
class BertTokenizerBehaviourTest {
    private static final List<String> VOCAB = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff",
            "##able", "hello", "world", ",", ".", "!", "?", "'", "s", "t", "don", "$", "5", "cafe", "北", "x", "##x",
            "[", "]", "οδοσ", "οδος", "a", "##b", "i");

    @TempDir
    static Path dir;
    static BertTokenizer tok;

    @BeforeAll
    static void writeTokenizer() throws IOException {
        Files.write(dir.resolve("vocab.txt"), VOCAB, StandardCharsets.UTF_8);
        int next = VOCAB.size();
        Files.writeString(dir.resolve("added_tokens.json"),
                "{\"[DEC]\": " + next + ", \"[ENC]\": " + (next + 1) + "}");
        Files.writeString(dir.resolve("special_tokens_map.json"),
                "{\"bos_token\": \"[DEC]\", \"additional_special_tokens\": [\"[ENC]\"], \"unk_token\": \"[UNK]\","
                        + " \"cls_token\": \"[CLS]\", \"sep_token\": \"[SEP]\", \"pad_token\": \"[PAD]\","
                        + " \"mask_token\": \"[MASK]\"}");
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"do_lower_case\": true, \"model_max_length\": 9, \"tokenizer_class\": \"BertTokenizer\"}");
        tok = BertTokenizer.load(dir);
    }

    private static int id(String token) {
        assertThat(tok.hasToken(token)).as("test vocabulary has %s", token).isTrue();
        return tok.tokenToId(token);
    }

    @Test
    void lowerCasesStripsAccentsAndSplitsPunctuation() {
        assertThat(tok.tokenize("HELLO, Wörld! Café?")).containsExactly("hello", ",", "world", "!", "cafe", "?");
        // The ASCII symbol ranges count as punctuation although "$" is not in a P* category.
        assertThat(tok.tokenize("$5")).containsExactly("$", "5");
    }

    @Test
    void isolatesCjkIdeographs() {
        // Without the CJK rule "北x" would be one word: 北 ##x.
        assertThat(tok.tokenize("北x")).containsExactly("北", "x");
    }

    @Test
    void dropsControlCharactersAndSplitsOnUnicodeWhitespace() {
        assertThat(tok.tokenize("hel\u0000lo\u200b \ufffdworld")).containsExactly("hello", "world");
        assertThat(tok.tokenize("hello\u3000world\u2028hello\u00a0world\t\r\n"))
                .containsExactly("hello", "world", "hello", "world");
        assertThat(tok.tokenize(" \t\n ")).isEmpty();
    }

    @Test
    void wordPieceIsGreedyLongestMatchAndUnknownForWholeWords() {
        assertThat(tok.tokenize("unaffable")).containsExactly("un", "##aff", "##able");
        assertThat(tok.tokenize("unaffablez hello")).containsExactly("[UNK]", "hello");
        assertThat(tok.tokenize("ab")).containsExactly("a", "##b");
        assertThat(tok.tokenize("\uD83D\uDE00")).containsExactly("[UNK]");
    }

    @Test
    void wordsLongerThanOneHundredCodePointsAreUnknown() {
        assertThat(tok.tokenize("x".repeat(100))).hasSize(100).startsWith("x", "##x");
        assertThat(tok.tokenize("x".repeat(101))).containsExactly("[UNK]");
    }

    @Test
    void lowerCasesOneCharacterAtATimeLikeTheReference() {
        // The reference lower-cases character by character, so a final capital sigma becomes σ, not ς.
        assertThat(tok.tokenize("ΟΔΟΣ")).containsExactly("οδοσ");
        // İ lower-cases to i + combining dot, and the dot is an accent.
        assertThat(tok.tokenize("İ")).containsExactly("i");
    }

    @Test
    void addedTokensAreCutOutBeforeNormalisation() {
        assertThat(tok.tokenize("HELLO[SEP]world [ENC]x[DEC]"))
                .containsExactly("hello", "[SEP]", "world", "[ENC]", "x", "[DEC]");
        // Only the exact spelling is an added token; the rest is ordinary text.
        assertThat(tok.tokenize("[Sep]")).containsExactly("[", "[UNK]", "]");
    }

    @Test
    void encodeAddsClsAndSepAndTruncatesFromTheRight() {
        assertThat(tok.encode("hello world")).containsExactly(id("[CLS]"), id("hello"), id("world"), id("[SEP]"));
        assertThat(tok.encode("hello world hello", 4)).containsExactly(id("[CLS]"), id("hello"), id("world"),
                id("[SEP]"));
        assertThat(tok.encode("hello", 16)).containsExactly(id("[CLS]"), id("hello"), id("[SEP]"));
        // The reference cannot truncate a non-empty text to 2 and leaves it whole.
        assertThat(tok.encode("hello world", 2)).hasSize(4);
        assertThat(tok.encode("", 2)).containsExactly(id("[CLS]"), id("[SEP]"));
        assertThatThrownBy(() -> tok.encode("hello", 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxLength");
    }

    @Test
    void batchesPadOnTheRight() {
        List<String> texts = List.of("hello", "hello world hello world");
        Batch none = tok.encodeBatch(texts, null, Padding.NONE);
        assertThat(none.inputIds()[0]).hasSize(3);
        assertThat(none.inputIds()[1]).hasSize(6);
        assertThat(none.attentionMask()[0]).containsExactly(1, 1, 1);

        Batch longest = tok.encodeBatch(texts, null, Padding.LONGEST);
        assertThat(longest.inputIds()[0]).containsExactly(id("[CLS]"), id("hello"), id("[SEP]"), 0, 0, 0);
        assertThat(longest.attentionMask()[0]).containsExactly(1, 1, 1, 0, 0, 0);
        assertThat(longest.attentionMask()[1]).containsOnly(1);

        Batch fixed = tok.encodeBatch(texts, 5, Padding.MAX_LENGTH);
        assertThat(fixed.inputIds()[0]).containsExactly(id("[CLS]"), id("hello"), id("[SEP]"), 0, 0);
        assertThat(fixed.inputIds()[1]).containsExactly(id("[CLS]"), id("hello"), id("world"), id("hello"),
                id("[SEP]"));

        // Without a max length, MAX_LENGTH pads to model_max_length (9 in this tokenizer_config.json).
        assertThat(tok.modelMaxLength()).isEqualTo(9);
        assertThat(tok.encodeBatch(texts, null, Padding.MAX_LENGTH).inputIds()[0]).hasSize(9);
    }

    @Test
    void decodeJoinsWordPiecesAndCleansUpSpaces() {
        int[] ids = {id("[CLS]"), id("un"), id("##aff"), id("##able"), id("hello"), id(","), id("don"), id("'"),
                id("t"), id("!"), id("[SEP]"), id("[PAD]")};
        assertThat(tok.decode(ids, true)).isEqualTo("unaffable hello, don't!");
        assertThat(tok.decode(ids, false)).isEqualTo("[CLS] unaffable hello, don't! [SEP] [PAD]");
        // A leading continuation piece keeps its ##.
        assertThat(tok.decode(new int[] {id("##x"), id("x")}, true)).isEqualTo("##x x");
        // Ids outside the vocabulary decode as the unknown token; the reference filters special tokens by id
        // before that, so even with skipping the [UNK] of an unknown id stays.
        assertThat(tok.decode(new int[] {id("hello"), 1_000_000}, false)).isEqualTo("hello [UNK]");
        assertThat(tok.decode(new int[] {id("hello"), 1_000_000}, true)).isEqualTo("hello [UNK]");
        assertThat(tok.decode(new int[] {id("hello"), tok.unkTokenId()}, true)).isEqualTo("hello");
    }

    @Test
    void decodeKeepsAnAdditionalSpecialTokenBeyondTheVocabularyAsItsOwnWord() {
        // [ENC] lies beyond vocab.txt, so the reference decodes it as a separate piece: the ## after it is
        // not glued on. [DEC] (bos) is an ordinary special token and is joined like any other token.
        int enc = tok.encTokenId();
        int dec = tok.bosTokenId();
        assertThat(tok.decode(new int[] {id("hello"), enc, id("##x")}, false)).isEqualTo("hello [ENC] ##x");
        assertThat(tok.decode(new int[] {id("hello"), dec, id("##x")}, false)).isEqualTo("hello [DEC]x");
        assertThat(tok.decode(new int[] {dec, id("hello"), enc, id("world")}, true)).isEqualTo("hello world");
    }

    @Test
    void specialIdsAndVocabulary() {
        assertThat(tok.padTokenId()).isEqualTo(VOCAB.indexOf("[PAD]"));
        assertThat(tok.unkTokenId()).isEqualTo(VOCAB.indexOf("[UNK]"));
        assertThat(tok.clsTokenId()).isEqualTo(VOCAB.indexOf("[CLS]"));
        assertThat(tok.sepTokenId()).isEqualTo(VOCAB.indexOf("[SEP]"));
        assertThat(tok.maskTokenId()).isEqualTo(VOCAB.indexOf("[MASK]"));
        assertThat(tok.bosTokenId()).isEqualTo(VOCAB.size());
        assertThat(tok.encTokenId()).isEqualTo(VOCAB.size() + 1);
        assertThat(tok.vocabSize()).isEqualTo(VOCAB.size() + 2);
        assertThat(tok.idToToken(VOCAB.size())).isEqualTo("[DEC]");
        assertThat(tok.tokenToId("no-such-token")).isEqualTo(tok.unkTokenId());
        assertThat(tok.hasToken("no-such-token")).isFalse();
        assertThat(tok.isSpecialTokenId(tok.bosTokenId())).isTrue();
        assertThat(tok.isSpecialTokenId(id("hello"))).isFalse();
    }

    @Test
    void missingFilesAreNamed(@TempDir Path empty) {
        Path missing = empty.resolve("nope");
        assertThatThrownBy(() -> BertTokenizer.load(missing)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining(missing.toString());
        assertThatThrownBy(() -> BertTokenizer.load(empty)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining(empty.toString()).hasMessageContaining("vocab.txt")
                .hasMessageContaining("tokenizer.json");
    }

    @Test
    void malformedConfigIsNamed(@TempDir Path bad) throws IOException {
        Files.write(bad.resolve("vocab.txt"), VOCAB, StandardCharsets.UTF_8);
        Files.writeString(bad.resolve("tokenizer_config.json"), "{\"do_lower_case\": \"yes\"}");
        assertThatThrownBy(() -> BertTokenizer.load(bad)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("tokenizer_config.json").hasMessageContaining("do_lower_case");
        Files.writeString(bad.resolve("tokenizer_config.json"), "{not json");
        assertThatThrownBy(() -> BertTokenizer.load(bad)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("tokenizer_config.json");
    }

    @Test
    void vocabularyOnlyDirectoryHasBertDefaultsAndNoBos(@TempDir Path plain) throws IOException {
        Files.write(plain.resolve("vocab.txt"), VOCAB, StandardCharsets.UTF_8);
        BertTokenizer bert = BertTokenizer.load(plain);
        assertThat(bert.vocabSize()).isEqualTo(VOCAB.size());
        assertThat(bert.encode("Hello")).containsExactly(id("[CLS]"), id("hello"), id("[SEP]"));
        assertThatThrownBy(bert::bosTokenId).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("bos_token").hasMessageContaining("special_tokens_map.json");
        assertThatThrownBy(bert::encTokenId).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("[ENC]");
    }

    @Test
    void isSafeToShareBetweenThreads() throws Exception {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            texts.add("Hello, wörld! unaffable 北x [SEP] " + "x".repeat(i % 120) + " $" + i);
        }
        List<int[]> expected = texts.stream().map(tok::encode).toList();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                results.add(pool.submit(() -> {
                    for (int round = 0; round < 5; round++) {
                        for (int i = 0; i < texts.size(); i++) {
                            if (!java.util.Arrays.equals(tok.encode(texts.get(i)), expected.get(i))) {
                                return false;
                            }
                        }
                    }
                    return true;
                }));
            }
            for (Future<Boolean> f : results) {
                assertThat(f.get()).isTrue();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void tokenizesLongTextsQuickly() {
        BertTokenizer real = BertTokenizer.load(Fixtures.sets(Fixtures.Kind.BLIP).get(0).tokenizerDir());
        String sentence = "A man, in a parking-lot, holding a white ball; Café déjà vu 北京 antidisestablishmentarianism. ";
        String text = sentence.repeat(5_000);
        real.tokenize(sentence.repeat(100)); // warm-up
        long start = System.nanoTime();
        List<String> tokens = real.tokenize(text);
        double seconds = (System.nanoTime() - start) / 1e9;
        assertThat(tokens).hasSize(real.tokenize(sentence).size() * 5_000);
        // Roughly 100k tokens; a linear implementation needs well under a second even on a busy machine.
        assertThat(seconds).as("seconds to tokenize %d chars", text.length()).isLessThan(10.0);
    }
}
