package org.blipjava.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.blipjava.testing.Fixtures;
import org.blipjava.testing.Fixtures.FixtureSet;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Loading from a fast tokenizer's tokenizer.json (no vocab.txt) gives the same tokenizer. */
class TokenizerJsonTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static Stream<FixtureSet> sets() {
        // A placeholder that aborts when there is no set: the tests are reported skipped, not dropped.
        return Fixtures.parameters(Fixtures.Kind.BLIP);
    }

    /** Writes tokenizer.json built from the fixture's vocab.txt and the slow tokenizer's added tokens. */
    private static void writeTokenizerJson(Path from, BertTokenizer slow, Path to) throws IOException {
        List<String> lines = Files.readAllLines(from.resolve("vocab.txt"), StandardCharsets.UTF_8);
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        ArrayNode added = root.putArray("added_tokens");
        Set<Integer> specialIds = new LinkedHashSet<>(List.of(slow.padTokenId(), slow.unkTokenId(),
                slow.clsTokenId(), slow.sepTokenId(), slow.maskTokenId(), slow.bosTokenId(), slow.encTokenId()));
        for (int id : specialIds) {
            added.addObject().put("id", id).put("content", slow.idToToken(id)).put("single_word", false)
                    .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        }
        root.putObject("normalizer").put("type", "BertNormalizer").put("clean_text", true)
                .put("handle_chinese_chars", true).putNull("strip_accents").put("lowercase", true);
        root.putObject("pre_tokenizer").put("type", "BertPreTokenizer");
        ObjectNode model = root.putObject("model");
        model.put("type", "WordPiece").put("unk_token", "[UNK]").put("continuing_subword_prefix", "##")
                .put("max_input_chars_per_word", 100);
        ObjectNode vocab = model.putObject("vocab");
        for (int i = 0; i < lines.size(); i++) {
            vocab.put(lines.get(i), i);
        }
        JSON.writeValue(to.resolve("tokenizer.json").toFile(), root);
    }

    @ParameterizedTest
    @MethodSource("sets")
    void tokenizerJsonWithSpecialTokensMapMatchesVocabTxt(FixtureSet set, @TempDir Path tmp) throws IOException {
        BertTokenizer slow = BertTokenizer.load(set.tokenizerDir());
        writeTokenizerJson(set.tokenizerDir(), slow, tmp);
        Files.copy(set.tokenizerDir().resolve("special_tokens_map.json"), tmp.resolve("special_tokens_map.json"));
        assertThat(tmp.resolve("vocab.txt")).doesNotExist();

        BertTokenizer fast = BertTokenizer.load(tmp);
        assertThat(fast.vocabSize()).isEqualTo(slow.vocabSize());
        assertThat(fast.bosTokenId()).isEqualTo(slow.bosTokenId());
        assertThat(fast.encTokenId()).isEqualTo(slow.encTokenId());
        assertThat(fast.padTokenId()).isEqualTo(slow.padTokenId());
        JsonNode cases = set.expected().path("tokenize");
        assertThat(cases.isEmpty()).isFalse();
        for (JsonNode c : cases) {
            String text = c.get("text").asText();
            int[] ids = BertTokenizerParityTest.ints(c.get("input_ids"));
            assertThat(fast.encode(text)).as("input_ids of %s", text).containsExactly(ids);
            assertThat(fast.decode(ids, true)).as("decoded %s", text).isEqualTo(c.get("decoded").asText());
            assertThat(fast.decode(ids, false)).isEqualTo(slow.decode(ids, false));
        }
    }

    @ParameterizedTest
    @MethodSource("sets")
    void tokenizerJsonAloneGivesTheSameIds(FixtureSet set, @TempDir Path tmp) throws IOException {
        BertTokenizer slow = BertTokenizer.load(set.tokenizerDir());
        writeTokenizerJson(set.tokenizerDir(), slow, tmp);

        BertTokenizer fast = BertTokenizer.load(tmp);
        for (JsonNode c : set.expected().path("tokenize")) {
            int[] ids = BertTokenizerParityTest.ints(c.get("input_ids"));
            assertThat(fast.encode(c.get("text").asText())).as("input_ids of %s", c.get("text")).containsExactly(ids);
            // Added tokens flagged special in tokenizer.json are special here too, as in the fast tokenizer.
            assertThat(fast.decode(ids, true)).isEqualTo(c.get("decoded").asText());
        }
        assertThat(fast.encTokenId()).isEqualTo(slow.encTokenId());
        // Without special_tokens_map.json nothing says which added token is the bos token.
        assertThatThrownBy(fast::bosTokenId).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("bos_token").hasMessageContaining(tmp.toString());
    }

    @ParameterizedTest
    @MethodSource("sets")
    void rejectsANonWordPieceModel(FixtureSet set, @TempDir Path tmp) throws IOException {
        writeTokenizerJson(set.tokenizerDir(), BertTokenizer.load(set.tokenizerDir()), tmp);
        ObjectNode root = (ObjectNode) JSON.readTree(tmp.resolve("tokenizer.json").toFile());
        ((ObjectNode) root.get("model")).put("type", "BPE");
        JSON.writeValue(tmp.resolve("tokenizer.json").toFile(), root);
        assertThatThrownBy(() -> BertTokenizer.load(tmp)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("tokenizer.json").hasMessageContaining("BPE");
    }
}
