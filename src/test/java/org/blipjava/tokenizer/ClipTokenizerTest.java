package org.blipjava.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.blipjava.testing.FixtureInputs.strings;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.blipjava.testing.FixtureInputs;
import org.blipjava.testing.Fixtures;
import org.blipjava.testing.Fixtures.FixtureSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CLIP tokenizer: parity with the reference on every CLIP fixture set (driven by expected.json only), and
 * the reference's rules one at a time on a small byte-level vocabulary written here.
 */
class ClipTokenizerTest {

    // ------------------------------------------------------------------ parity with the fixtures

    static Stream<FixtureSet> sets() {
        return Fixtures.parameters(Fixtures.Kind.CLIP);
    }

    /** Every folder under the set's models/ that holds a vocab.json, in name order. */
    private static List<Path> tokenizerDirs(FixtureSet set) {
        Path models = set.dir().resolve("models");
        try (Stream<Path> s = Files.list(models)) {
            List<Path> dirs = s.filter(p -> Files.isRegularFile(p.resolve(ClipTokenizer.VOCAB_JSON))).sorted().toList();
            assertThat(dirs).as("model folders with %s under %s", ClipTokenizer.VOCAB_JSON, models).isNotEmpty();
            return dirs;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @ParameterizedTest
    @MethodSource("sets")
    void tokenizeCasesMatchTheReference(FixtureSet set) {
        JsonNode cases = set.expected().path("clip_tokenize");
        assertThat(cases.isArray() && !cases.isEmpty()).as("expected.json has clip_tokenize cases").isTrue();
        for (Path dir : tokenizerDirs(set)) {
            ClipTokenizer tok = ClipTokenizer.load(dir);
            for (JsonNode c : cases) {
                String text = c.get("text").asText();
                String what = dir.getFileName() + ", text " + c.get("text");
                int[] ids = ints(c.get("input_ids"));
                List<String> tokens = strings(c.get("tokens"));

                assertThat(tok.encode(text)).as("input_ids of %s", what).containsExactly(ids);
                assertThat(tok.convertIdsToTokens(ids, false)).as("tokens of %s", what).isEqualTo(tokens);
                // tokenize() gives the tokens between the markers, before truncation.
                List<String> inner = tok.tokenize(text);
                if (ids.length < tok.modelMaxLength()) {
                    assertThat(inner).as("tokenize() of %s", what).hasSize(tokens.size() - 2);
                }
                List<String> framed = new ArrayList<>();
                framed.add(tok.idToToken(tok.bosTokenId()));
                framed.addAll(inner.subList(0, Math.min(inner.size(), tokens.size() - 2)));
                framed.add(tok.idToToken(tok.eosTokenId()));
                assertThat(framed).as("tokenize() of %s, framed and truncated", what).isEqualTo(tokens);
                assertThat(tok.decode(ids, true)).as("decoded %s", what).isEqualTo(c.get("decoded").asText());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("sets")
    void paddedBatchMatchesTheReference(FixtureSet set) {
        JsonNode clip = set.expected().path("clip");
        assertThat(clip.path("texts").isArray()).as("expected.json has clip.texts").isTrue();
        List<String> texts = strings(clip.get("texts"));
        int[][] ids = FixtureInputs.ints(clip.get("input_ids"));
        int[][] mask = FixtureInputs.ints(clip.get("attention_mask"));
        assertThat(ids.length).as("clip.input_ids rows").isEqualTo(texts.size());
        int width = ids[0].length;
        for (Path dir : tokenizerDirs(set)) {
            ClipTokenizer tok = ClipTokenizer.load(dir);
            Batch batch = tok.encodeBatch(texts, width, Padding.MAX_LENGTH);
            assertThat(batch.inputIds()).as("input_ids of %s", dir.getFileName()).isDeepEqualTo(ids);
            assertThat(batch.attentionMask()).as("attention_mask of %s", dir.getFileName()).isDeepEqualTo(mask);
        }
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    // ------------------------------------------------------------------ behaviour on a small vocabulary

    /** Merges of the small vocabulary, in rank order, written with the byte characters. */
    private static final List<String> MERGES = List.of("w o", "wo r", "wor d</w>", "c a", "ca f", "Ã ©</w>",
            "caf Ã©</w>", "' s</w>", "n e", "ne w</w>");

    @TempDir
    static Path dir;
    static ClipTokenizer tok;

    @BeforeAll
    static void writeTokenizer() throws IOException {
        writeVocabAndMerges(dir);
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"model_max_length\": 77,"
                + " \"clean_up_tokenization_spaces\": true, \"errors\": \"replace\","
                + " \"bos_token\": \"<|startoftext|>\", \"eos_token\": \"<|endoftext|>\","
                + " \"pad_token\": \"<|endoftext|>\", \"unk_token\": \"<|endoftext|>\"}");
        tok = ClipTokenizer.load(dir);
    }

    /** GPT-2's byte characters: printable Latin-1 stands for itself, the rest from U+0100 on. */
    private static List<String> byteChars() {
        List<String> out = new ArrayList<>();
        int next = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            out.add(String.valueOf((char) (printable ? b : 256 + next++)));
        }
        return out;
    }

    private static void writeVocabAndMerges(Path into) throws IOException {
        List<String> tokens = new ArrayList<>(byteChars());
        byteChars().forEach(c -> tokens.add(c + "</w>"));
        MERGES.forEach(m -> tokens.add(m.replace(" ", "")));
        tokens.add("<|startoftext|>");
        tokens.add("<|endoftext|>");
        StringBuilder json = new StringBuilder("{");
        for (int i = 0; i < tokens.size(); i++) {
            String t = tokens.get(i).replace("\\", "\\\\").replace("\"", "\\\"");
            StringBuilder escaped = new StringBuilder();
            t.chars().forEach(ch -> escaped.append(ch < 0x20 || ch > 0x7E ? String.format("\\u%04x", ch) : String.valueOf((char) ch)));
            json.append(i == 0 ? "" : ",").append('"').append(escaped).append("\":").append(i);
        }
        Files.writeString(into.resolve("vocab.json"), json.append('}'));
        Files.writeString(into.resolve("merges.txt"), "#version: 0.2\n" + String.join("\n", MERGES) + "\n",
                StandardCharsets.UTF_8);
    }

    private static int bos() {
        return tok.bosTokenId();
    }

    private static int eos() {
        return tok.eosTokenId();
    }

    @Test
    void specialTokenIdsComeFromTheVocabulary() {
        assertThat(tok.bosTokenId()).isEqualTo(tok.tokenToId("<|startoftext|>"));
        assertThat(tok.eosTokenId()).isEqualTo(tok.tokenToId("<|endoftext|>")).isEqualTo(bos() + 1);
        assertThat(tok.padTokenId()).isEqualTo(eos());
        assertThat(tok.unkTokenId()).isEqualTo(eos());
        assertThat(tok.vocabSize()).isEqualTo(512 + MERGES.size() + 2);
        assertThat(tok.modelMaxLength()).isEqualTo(77);
    }

    @Test
    void mergesByRankAndMarksTheEndOfWords() {
        assertThat(tok.tokenize("word")).containsExactly("word</w>");
        // No merge covers "wordx": the pieces stop at the ranked pairs, </w> stays on the last character.
        assertThat(tok.tokenize("wordx")).containsExactly("wor", "d", "x</w>");
        assertThat(tok.tokenize("new")).containsExactly("new</w>");
        assertThat(tok.encode("word")).containsExactly(bos(), tok.tokenToId("word</w>"), eos());
    }

    @Test
    void cleansLowerCasesAndSplitsLikeTheReference() {
        // Whitespace runs collapse, case is folded, digits stand alone, punctuation runs stay together.
        assertThat(tok.tokenize("  WORD\t\n Word  ")).containsExactly("word</w>", "word</w>");
        assertThat(tok.tokenize("12")).containsExactly("1</w>", "2</w>");
        assertThat(tok.tokenize("word?!")).containsExactly("word</w>", "?", "!</w>");
        // Contractions are their own pieces; curly apostrophes are straightened first.
        assertThat(tok.tokenize("word's")).containsExactly("word</w>", "'s</w>");
        assertThat(tok.tokenize("word\u2019s")).containsExactly("word</w>", "'s</w>");
        // HTML entities are decoded, unless the text looks like HTML source.
        assertThat(tok.tokenize("word&amp;word")).isEqualTo(tok.tokenize("word&word"));
        assertThat(tok.tokenize("<b>&amp;")).containsExactly("<</w>", "b</w>", ">", "&</w>", "a", "m", "p</w>",
                ";</w>");
        // Full-width forms and ligatures become plain letters.
        assertThat(tok.tokenize("\uff37\uff2f\uff32\uff24")).containsExactly("word</w>");
    }

    @Test
    void composedAndDecomposedAccentsTokenizeAlike() {
        List<String> composed = tok.tokenize("caf\u00e9");
        assertThat(composed).containsExactly("cafÃ©</w>");
        assertThat(tok.tokenize("cafe\u0301")).isEqualTo(composed);
        assertThat(tok.tokenize("CAFE\u0301")).isEqualTo(composed);
        assertThat(tok.decode(tok.encode("cafe\u0301"), true)).isEqualTo("caf\u00e9");
    }

    @Test
    void markersInTheTextStaySingleTokens() {
        assertThat(tok.encode("word<|endoftext|>word")).containsExactly(bos(), tok.tokenToId("word</w>"), eos(),
                tok.tokenToId("word</w>"), eos());
        // Written in another case the marker reaches the word splitter, which still keeps it whole.
        assertThat(tok.tokenize("<|EndOfText|>")).containsExactly("<|endoftext|>");
    }

    @Test
    void controlCharactersAndUnpairedSurrogatesDoNotBreakTokenizing() {
        assertThat(tok.tokenize("wo\u0000r\u007fd\u200b")).startsWith("word</w>");
        assertThat(tok.tokenize("\u001b[31mword\u001b[0m")).containsExactly("word</w>");
        // ftfy replaces an unpaired surrogate by U+FFFD (bytes EF BF BD).
        assertThat(tok.tokenize("\ud800")).isEqualTo(tok.tokenize("\ufffd"));
        assertThat(tok.tokenize("\udc00word\ud83d")).isEqualTo(tok.tokenize("\ufffdword\ufffd"));
        int[] ids = tok.encode("a\ud800b\u0001c\u0085\u2028d");
        assertThat(ids[0]).isEqualTo(bos());
        assertThat(ids[ids.length - 1]).isEqualTo(eos());
        // U+0085 is read as Windows-1252's ellipsis before line breaks are unified; U+2028 is a line break.
        assertThat(tok.decode(ids, true)).isEqualTo("a \ufffd bc \u2026 d");
    }

    @Test
    void decodeJoinsBytesAndCleansUpSpaces() {
        int[] ids = tok.encode("word's word , word .");
        assertThat(tok.decode(ids, true)).isEqualTo("word's word, word.");
        assertThat(tok.decode(ids, false)).isEqualTo("<|startoftext|>word's word, word. <|endoftext|>");
        // The first three bytes of an emoji are one invalid sequence: one replacement character.
        int[] partial = {tok.tokenToId("ð"), tok.tokenToId("Ł"), tok.tokenToId("ĺ")};
        assertThat(tok.decode(partial, true)).isEqualTo("\ufffd");
        assertThat(tok.decode(new int[] {bos(), eos()}, true)).isEmpty();
    }

    @Test
    void longTextsAreTruncatedKeepingTheEndMarker() {
        String text = "word ".repeat(1000);
        int[] ids = tok.encode(text);
        assertThat(ids).hasSize(77);
        assertThat(ids[0]).isEqualTo(bos());
        assertThat(ids[76]).isEqualTo(eos());
        for (int i = 1; i < 76; i++) {
            assertThat(ids[i]).isEqualTo(tok.tokenToId("word</w>"));
        }
        assertThat(tok.tokenize(text)).hasSize(1000);
        assertThat(tok.encode(text, 5)).containsExactly(bos(), ids[1], ids[2], ids[3], eos());
        // One very long word takes no quadratic time and is truncated the same way.
        assertThat(tok.encode("wo".repeat(100_000))).hasSize(77);
    }

    @Test
    void batchesPadWithTheEndMarker() {
        Batch b = tok.encodeBatch(List.of("word", "word word word"), null, Padding.LONGEST);
        assertThat(b.inputIds()[0]).containsExactly(bos(), tok.tokenToId("word</w>"), eos(), eos(), eos());
        assertThat(b.attentionMask()[0]).containsExactly(1, 1, 1, 0, 0);
        assertThat(b.attentionMask()[1]).containsExactly(1, 1, 1, 1, 1);
        Batch full = tok.encodeBatch(List.of("word", "word ".repeat(100)), null, Padding.MAX_LENGTH);
        assertThat(full.inputIds()[0]).hasSize(77);
        assertThat(full.inputIds()[1]).hasSize(77);
        assertThat(full.inputIds()[1][76]).isEqualTo(eos());
        Batch none = tok.encodeBatch(List.of("word", ""), 4, Padding.NONE);
        assertThat(none.inputIds()[0]).hasSize(3);
        assertThat(none.inputIds()[1]).containsExactly(bos(), eos());
    }

    @Test
    void concurrentEncodingGivesTheSameIds() throws Exception {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            texts.add("Word" + i + " café new's " + "x".repeat(i % 17));
        }
        List<int[]> expected = texts.stream().map(t -> ClipTokenizer.load(dir).encode(t)).toList();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<int[]>> results = new ArrayList<>();
            for (String t : texts) {
                results.add(pool.submit(() -> tok.encode(t)));
            }
            for (int i = 0; i < texts.size(); i++) {
                assertThat(results.get(i).get()).containsExactly(expected.get(i));
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void missingOrBadFilesAreNamed(@TempDir Path tmp) throws IOException {
        assertThatThrownBy(() -> ClipTokenizer.load(tmp.resolve("absent")))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("absent");
        Path noVocab = Files.createDirectory(tmp.resolve("no-vocab"));
        Files.writeString(noVocab.resolve("merges.txt"), "#version: 0.2\na b\n");
        assertThatThrownBy(() -> ClipTokenizer.load(noVocab))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("vocab.json");

        Path badJson = Files.createDirectory(tmp.resolve("bad-json"));
        writeVocabAndMerges(badJson);
        Files.writeString(badJson.resolve("vocab.json"), "{\"a\": 0,");
        assertThatThrownBy(() -> ClipTokenizer.load(badJson))
                .isInstanceOf(TokenizerException.class).hasMessageContaining(badJson.resolve("vocab.json").toString());

        Path badId = Files.createDirectory(tmp.resolve("bad-id"));
        writeVocabAndMerges(badId);
        Files.writeString(badId.resolve("vocab.json"), "{\"a\": \"zero\"}");
        assertThatThrownBy(() -> ClipTokenizer.load(badId))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("vocab.json").hasMessageContaining("\"a\"");

        Path notObject = Files.createDirectory(tmp.resolve("not-object"));
        writeVocabAndMerges(notObject);
        Files.writeString(notObject.resolve("vocab.json"), "[1, 2]");
        assertThatThrownBy(() -> ClipTokenizer.load(notObject))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("vocab.json");

        Path noMerges = Files.createDirectory(tmp.resolve("no-merges"));
        writeVocabAndMerges(noMerges);
        Files.delete(noMerges.resolve("merges.txt"));
        assertThatThrownBy(() -> ClipTokenizer.load(noMerges))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("merges.txt");

        Path emptyMerges = Files.createDirectory(tmp.resolve("empty-merges"));
        writeVocabAndMerges(emptyMerges);
        Files.writeString(emptyMerges.resolve("merges.txt"), "#version: 0.2\n");
        assertThatThrownBy(() -> ClipTokenizer.load(emptyMerges))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("merges.txt");

        Path badConfig = Files.createDirectory(tmp.resolve("bad-config"));
        writeVocabAndMerges(badConfig);
        Files.writeString(badConfig.resolve("tokenizer_config.json"), "{\"model_max_length\": \"long\"}");
        assertThatThrownBy(() -> ClipTokenizer.load(badConfig))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("tokenizer_config.json")
                .hasMessageContaining("model_max_length");
    }

    @Test
    void defaultsWithoutConfigFilesAreClips() throws IOException {
        Path bare = Files.createDirectory(dir.resolve("bare"));
        writeVocabAndMerges(bare);
        ClipTokenizer t = ClipTokenizer.load(bare);
        assertThat(t.modelMaxLength()).isEqualTo(77);
        assertThat(t.bosTokenId()).isEqualTo(bos());
        assertThat(t.eosTokenId()).isEqualTo(eos());
        assertThat(t.padTokenId()).isEqualTo(eos());
    }
}
