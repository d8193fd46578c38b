package org.blipjava.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.blipjava.testing.FixtureInputs.strings;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.blipjava.testing.Fixtures;
import org.blipjava.testing.Fixtures.FixtureSet;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Parity with the reference tokenizer, driven entirely by each fixture set's expected.json. */
class BertTokenizerParityTest {
    private static final Pattern TRUNCATED = Pattern.compile("truncated_(\\d+)");

    static Stream<FixtureSet> sets() {
        // A placeholder that aborts when there is no set: the tests are reported skipped, not dropped.
        return Fixtures.parameters(Fixtures.Kind.BLIP);
    }

    @ParameterizedTest
    @MethodSource("sets")
    void tokenizeCasesMatchTheReference(FixtureSet set) {
        BertTokenizer tok = BertTokenizer.load(set.tokenizerDir());
        JsonNode cases = set.expected().path("tokenize");
        assertThat(cases.isArray() && !cases.isEmpty()).as("expected.json has tokenize cases").isTrue();
        int truncationChecks = 0;
        for (JsonNode c : cases) {
            String text = c.get("text").asText();
            String what = "text " + json(c.get("text"));
            int[] ids = ints(c.get("input_ids"));
            assertThat(tok.encode(text)).as("input_ids of %s", what).containsExactly(ids);
            List<String> tokens = strings(c.get("tokens"));
            assertThat(tok.convertIdsToTokens(ids, false)).as("tokens of %s", what).isEqualTo(tokens);
            List<String> wrapped = new ArrayList<>();
            wrapped.add(tok.idToToken(tok.clsTokenId()));
            wrapped.addAll(tok.tokenize(text));
            wrapped.add(tok.idToToken(tok.sepTokenId()));
            assertThat(wrapped).as("tokenize() of %s", what).isEqualTo(tokens);
            assertThat(tok.decode(ids, true)).as("decoded %s", what).isEqualTo(c.get("decoded").asText());
            for (Map.Entry<String, JsonNode> e : c.properties()) {
                Matcher m = TRUNCATED.matcher(e.getKey());
                if (m.matches()) {
                    int maxLength = Integer.parseInt(m.group(1));
                    assertThat(tok.encode(text, maxLength)).as("%s of %s", e.getKey(), what)
                            .containsExactly(ints(e.getValue()));
                    truncationChecks++;
                }
            }
        }
        assertThat(truncationChecks).as("truncated_N entries checked").isPositive();
    }

    @ParameterizedTest
    @MethodSource("sets")
    void specialIdsMatchTheReference(FixtureSet set) {
        BertTokenizer tok = BertTokenizer.load(set.tokenizerDir());
        JsonNode special = set.expected().path("special_ids");
        Map<String, ToIntFunction<BertTokenizer>> accessors = Map.of(
                "pad", BertTokenizer::padTokenId,
                "cls", BertTokenizer::clsTokenId,
                "sep", BertTokenizer::sepTokenId,
                "unk", BertTokenizer::unkTokenId,
                "mask", BertTokenizer::maskTokenId,
                "bos_dec", BertTokenizer::bosTokenId,
                "enc", BertTokenizer::encTokenId,
                "vocab_size", BertTokenizer::vocabSize);
        assertThat(special.isObject() && !special.isEmpty()).as("expected.json has special_ids").isTrue();
        for (Map.Entry<String, JsonNode> e : special.properties()) {
            assertThat(accessors).as("an accessor for special_ids.%s", e.getKey()).containsKey(e.getKey());
            assertThat(accessors.get(e.getKey()).applyAsInt(tok)).as("special_ids.%s", e.getKey())
                    .isEqualTo(e.getValue().asInt());
        }
    }

    /** Every generation result in expected.json (objects holding "ids" and "text") decodes to its text. */
    @ParameterizedTest
    @MethodSource("sets")
    void generatedIdsDecodeToTheReferenceTexts(FixtureSet set) {
        BertTokenizer tok = BertTokenizer.load(set.tokenizerDir());
        List<String> paths = new ArrayList<>();
        collectGenerations(set.expected(), "", paths);
        assertThat(paths).as("generation results in expected.json").isNotEmpty();
        int checked = 0;
        for (String path : paths) {
            JsonNode node = at(set.expected(), path);
            JsonNode ids = node.get("ids");
            JsonNode texts = node.get("text");
            assertThat(ids.size()).as("%s: ids and text rows", path).isEqualTo(texts.size());
            for (int i = 0; i < ids.size(); i++) {
                assertThat(tok.decode(ints(ids.get(i)), true)).as("%s row %d", path, i)
                        .isEqualTo(texts.get(i).asText());
                checked++;
            }
            assertThat(tok.decodeBatch(intRows(ids), true)).as(path).isEqualTo(strings(texts));
        }
        assertThat(checked).isPositive();
    }

    /** Texts listed in expected.json, encoded as a padded batch, give the reference's ids and mask. */
    @ParameterizedTest
    @MethodSource("sets")
    void batchesMatchTheReference(FixtureSet set) {
        BertTokenizer tok = BertTokenizer.load(set.tokenizerDir());
        JsonNode e = set.expected();
        // (object, texts key, ids key, mask key) for every batch the reference encoded from texts.
        String[][] batches = {
                {"/caption/teacher_forced", "captions", "input_ids", "attention_mask"},
                {"/vqa", "questions", "input_ids", "attention_mask"},
                {"/vqa/train", "answers", "decoder_input_ids", "decoder_attention_mask"},
                {"/itm", "texts", "input_ids", "attention_mask"},
        };
        for (String[] b : batches) {
            JsonNode node = e.at(b[0]);
            assertThat(node.has(b[1]) && node.has(b[2]) && node.has(b[3]))
                    .as("expected.json %s has %s, %s and %s", b[0], b[1], b[2], b[3]).isTrue();
            List<String> texts = strings(node.get(b[1]));
            int[][] expectedIds = intRows(node.get(b[2]));
            int[][] expectedMask = intRows(node.get(b[3]));
            // Every row, without its padding, is the text's own encoding.
            for (int i = 0; i < texts.size(); i++) {
                int real = 0;
                for (int m : expectedMask[i]) {
                    real += m;
                }
                assertThat(tok.encode(texts.get(i))).as("%s %s row %d", b[0], b[2], i)
                        .containsExactly(java.util.Arrays.copyOf(expectedIds[i], real));
            }
            // The reference padded either to the longest row or to a fixed max_length (the width it stored).
            int width = expectedIds.length == 0 ? 0 : expectedIds[0].length;
            Batch longest = tok.encodeBatch(texts, null, Padding.LONGEST);
            boolean padsToLongest = longest.size() == 0 || longest.inputIds()[0].length == width;
            Batch batch = padsToLongest ? longest : tok.encodeBatch(texts, width, Padding.MAX_LENGTH);
            assertThat(batch.inputIds()).as("%s %s", b[0], b[2]).isDeepEqualTo(expectedIds);
            assertThat(batch.attentionMask()).as("%s %s", b[0], b[3]).isDeepEqualTo(expectedMask);
        }
    }

    /** The tokenizer files saved beside each model load to the same tokenizer as the tokenizer/ folder. */
    @ParameterizedTest
    @MethodSource("sets")
    void modelDirectoriesHoldTheSameTokenizer(FixtureSet set) throws IOException {
        BertTokenizer reference = BertTokenizer.load(set.tokenizerDir());
        List<Path> modelDirs;
        try (Stream<Path> s = Files.list(set.dir().resolve("models"))) {
            modelDirs = s.filter(p -> Files.isRegularFile(p.resolve(TokenizerFiles.VOCAB_TXT))
                    || Files.isRegularFile(p.resolve(TokenizerFiles.TOKENIZER_JSON))).sorted().toList();
        }
        for (Path dir : modelDirs) {
            BertTokenizer tok = BertTokenizer.load(dir);
            assertThat(tok.vocabSize()).as("%s vocab size", dir).isEqualTo(reference.vocabSize());
            assertThat(tok.bosTokenId()).as("%s bos", dir).isEqualTo(reference.bosTokenId());
            for (JsonNode c : set.expected().path("tokenize")) {
                int[] ids = ints(c.get("input_ids"));
                assertThat(tok.encode(c.get("text").asText())).as("%s: %s", dir, c.get("text")).containsExactly(ids);
                assertThat(tok.decode(ids, true)).isEqualTo(c.get("decoded").asText());
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    private static void collectGenerations(JsonNode node, String path, List<String> out) {
        if (!node.isObject()) {
            return;
        }
        if (node.path("ids").isArray() && node.path("text").isArray()) {
            out.add(path);
        }
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            collectGenerations(e.getValue(), path + "/" + e.getKey(), out);
        }
    }

    private static JsonNode at(JsonNode root, String path) {
        return root.at(path);
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    static int[][] intRows(JsonNode array) {
        int[][] out = new int[array.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = ints(array.get(i));
        }
        return out;
    }

    private static String json(JsonNode n) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(n);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
