package org.blipjava.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.blipjava.model.ModelFixtures.assertClose;
import static org.blipjava.testing.FixtureInputs.config;
import static org.blipjava.testing.FixtureInputs.modelImages;
import static org.blipjava.testing.FixtureInputs.ints;
import static org.blipjava.model.ModelFixtures.load;
import static org.blipjava.testing.FixtureInputs.pixels;
import static org.blipjava.testing.FixtureInputs.promptIds;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.config.BlipConfig;
import org.blipjava.generation.StepDecoder;
import org.blipjava.testing.ComputeThreads;
import org.blipjava.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Parity of every head with the reference fixtures, for every fixture set. */
class BlipParityTest {
    @RegisterExtension
    static final ComputeThreads THREADS = new ComputeThreads(2);

    @Test
    void captioningVisionLogitsAndLosses() {
        for (Fixtures.FixtureSet set : Fixtures.sets(Fixtures.Kind.BLIP)) {
            JsonNode ex = set.expected();
            Path dir = set.model("tiny-caption");
            BlipConfig cfg = config(dir);
            BlipForConditionalGeneration model = load(dir, sd -> BlipForConditionalGeneration.load(sd, cfg, THREADS.get()));
            JsonNode tf = ex.at("/caption/teacher_forced");
            int[][] ids = ints(tf.get("input_ids"));
            int[][] mask = ints(tf.get("attention_mask"));
            int[][] labels = ints(tf.get("labels"));
            List<String> images = modelImages(ex, "caption");
            int n = images.size();
            assertThat(ids.length).as("%s caption.teacher_forced rows (one per caption.images)", set).isEqualTo(n);
            int size = cfg.vision().imageSize();
            try (SafetensorsFile f = set.openTensors()) {
                float[] px = pixels(f, size, images);
                BlipVisionModel.Output vis = model.vision(px, n, size, size);
                assertClose(set + " caption/vision_last_hidden_state", vis.lastHiddenState(),
                        Fixtures.floats(f, "caption/vision_last_hidden_state"));
                assertClose(set + " caption/vision_pooler_output", vis.pooled(),
                        Fixtures.floats(f, "caption/vision_pooler_output"));
                float[] logits = model.teacherForcedLogits(vis, ids, mask);
                assertClose(set + " caption/teacher_forced_logits", logits,
                        Fixtures.floats(f, "caption/teacher_forced_logits"));
                int vocab = model.textDecoder().vocabSize();
                for (String ls : List.of("0.0", "0.1")) {
                    double loss = BlipTextLMHeadModel.lmLoss(logits, n, ids[0].length, vocab, labels,
                            Double.parseDouble(ls));
                    assertClose(set + " caption/lm_loss_ls" + ls, loss, Fixtures.floats(f, "caption/lm_loss_ls" + ls));
                }
                assertClose(set + " lmLoss from pixels", model.lmLoss(px, n, size, size, ids, mask, labels, 0.1),
                        Fixtures.floats(f, "caption/lm_loss_ls0.1"));
            }
        }
    }

    @Test
    void captioningGreedyThroughTheCachedDecoder() {
        for (Fixtures.FixtureSet set : Fixtures.sets(Fixtures.Kind.BLIP)) {
            JsonNode ex = set.expected();
            Path dir = set.model("tiny-caption");
            BlipConfig cfg = config(dir);
            BlipForConditionalGeneration model = load(dir, sd -> BlipForConditionalGeneration.load(sd, cfg, THREADS.get()));
            int bos = ex.at("/special_ids/bos_dec").asInt();
            int sep = ex.at("/special_ids/sep").asInt();
            int pad = ex.at("/special_ids/pad").asInt();
            int size = cfg.vision().imageSize();
            for (String variant : List.of("greedy", "prompted_greedy")) {
                JsonNode g = ex.at("/caption/" + variant);
                int[][] expectedIds = ints(g.get("ids"));
                List<String> images = modelImages(ex, "caption");
                int n = images.size();
                assertThat(expectedIds.length).as("%s caption %s rows", set, variant).isEqualTo(n);
                int maxLength = g.at("/kwargs/max_length").asInt();
                int[] prompt = variant.equals("prompted_greedy") ? promptIds(ex) : new int[] {bos};
                try (SafetensorsFile f = set.openTensors()) {
                    BlipVisionModel.Output vis = model.vision(pixels(f, size, images), n, size, size);
                    StepDecoder.Factory factory = model.decoderFactory(vis.lastHiddenState(), n, maxLength);
                    int[][] got = greedy(factory, n, prompt, maxLength, sep, pad);
                    for (int r = 0; r < n; r++) {
                        assertThat(got[r]).as("%s caption %s row %d", set, variant, r).containsExactly(expectedIds[r]);
                    }
                }
            }
        }
    }

    @Test
    void cachedDecoderMatchesTeacherForcingAndReordersRows() {
        for (Fixtures.FixtureSet set : Fixtures.sets(Fixtures.Kind.BLIP)) {
            JsonNode ex = set.expected();
            Path dir = set.model("tiny-caption");
            BlipConfig cfg = config(dir);
            BlipForConditionalGeneration model = load(dir, sd -> BlipForConditionalGeneration.load(sd, cfg, THREADS.get()));
            int[][] seqs = ints(ex.at("/caption/prompted_greedy/ids"));
            List<String> images = modelImages(ex, "caption");
            int n = images.size();
            assertThat(seqs.length).as("%s caption prompted_greedy rows", set).isEqualTo(n);
            int len = seqs[0].length;
            int size = cfg.vision().imageSize();
            int vocab = model.textDecoder().vocabSize();
            try (SafetensorsFile f = set.openTensors()) {
                BlipVisionModel.Output vis = model.vision(pixels(f, size, images), n, size, size);
                float[] full = model.teacherForcedLogits(vis, seqs, null);
                // The whole prompt goes in as the first step, as in generate; its length is the set's.
                int promptLen = promptIds(ex).length;
                assertThat(len).as("%s prompted sequences longer than the prompt", set).isGreaterThan(promptLen);
                try (StepDecoder dec = model.decoderFactory(vis.lastHiddenState(), n, len).open(identity(n))) {
                    int[][] first = new int[n][];
                    for (int r = 0; r < n; r++) {
                        first[r] = Arrays.copyOf(seqs[r], promptLen);
                    }
                    float[] logits = dec.forward(first);
                    assertStep(set + " prompt", logits, full, n, len, vocab, promptLen - 1);
                    for (int t = promptLen; t < len; t++) {
                        int[][] step = new int[n][1];
                        for (int r = 0; r < n; r++) {
                            step[r][0] = seqs[r][t];
                        }
                        logits = dec.forward(step);
                        assertStep(set + " step " + t, logits, full, n, len, vocab, t);
                    }
                }
                // Reordering: rows start on swapped inputs, then both continue the row that read input 0.
                if (n >= 2 && len >= 3) {
                    try (StepDecoder dec = model.decoderFactory(vis.lastHiddenState(), n, len).open(new int[] {1, 0})) {
                        dec.forward(new int[][] {Arrays.copyOf(seqs[1], 2), Arrays.copyOf(seqs[0], 2)});
                        dec.select(new int[] {1, 1});
                        float[] logits = dec.forward(new int[][] {{seqs[0][2]}, {seqs[0][2]}});
                        for (int r = 0; r < 2; r++) {
                            assertClose(set + " selected row " + r, Arrays.copyOfRange(logits, r * vocab, (r + 1) * vocab),
                                    Arrays.copyOfRange(full, 2 * vocab, 3 * vocab));
                        }
                    }
                }
            }
        }
    }

    private static void assertStep(String what, float[] logits, float[] full, int n, int len, int vocab, int pos) {
        for (int r = 0; r < n; r++) {
            int off = (r * len + pos) * vocab;
            assertClose(what + " row " + r, Arrays.copyOfRange(logits, r * vocab, (r + 1) * vocab),
                    Arrays.copyOfRange(full, off, off + vocab));
        }
    }

    @Test
    void questionAnswering() {
        for (Fixtures.FixtureSet set : Fixtures.sets(Fixtures.Kind.BLIP)) {
            JsonNode ex = set.expected();
            Path dir = set.model("tiny-vqa");
            BlipConfig cfg = config(dir);
            BlipForQuestionAnswering model = load(dir, sd -> BlipForQuestionAnswering.load(sd, cfg, THREADS.get()));
            JsonNode vqa = ex.get("vqa");
            int[][] qIds = ints(vqa.get("input_ids"));
            int[][] qMask = ints(vqa.get("attention_mask"));
            List<String> images = modelImages(ex, "vqa");
            int n = images.size();
            assertThat(qIds.length).as("%s vqa questions (one per vqa.images)", set).isEqualTo(n);
            int size = cfg.vision().imageSize();
            try (SafetensorsFile f = set.openTensors()) {
                BlipVisionModel.Output vis = model.vision(pixels(f, size, images), n, size, size);
                float[] q = model.encodeQuestions(vis.lastHiddenState(), n, qIds, qMask);
                assertClose(set + " vqa/question_embeds", q, Fixtures.floats(f, "vqa/question_embeds"));
                JsonNode train = vqa.get("train");
                double loss = model.answerLoss(vis.lastHiddenState(), n, qIds, qMask,
                        ints(train.get("decoder_input_ids")), ints(train.get("decoder_attention_mask")),
                        ints(train.get("labels")));
                assertClose(set + " vqa/loss", loss, Fixtures.floats(f, "vqa/loss"));

                JsonNode g = vqa.get("greedy");
                int[][] expectedIds = ints(g.get("ids"));
                int maxLength = g.at("/kwargs/max_length").asInt();
                StepDecoder.Factory factory = model.decoderFactory(q, n, qIds[0].length, null, maxLength);
                int[][] got = greedy(factory, n, new int[] {ex.at("/special_ids/bos_dec").asInt()}, maxLength,
                        ex.at("/special_ids/sep").asInt(), ex.at("/special_ids/pad").asInt());
                for (int r = 0; r < n; r++) {
                    assertThat(got[r]).as("%s vqa greedy row %d", set, r).containsExactly(expectedIds[r]);
                }
            }
        }
    }

    @Test
    void imageTextRetrieval() {
        for (Fixtures.FixtureSet set : Fixtures.sets(Fixtures.Kind.BLIP)) {
            JsonNode ex = set.expected();
            Path dir = set.model("tiny-itm");
            BlipConfig cfg = config(dir);
            BlipForImageTextRetrieval model = load(dir, sd -> BlipForImageTextRetrieval.load(sd, cfg, THREADS.get()));
            JsonNode itm = ex.get("itm");
            List<String> images = modelImages(ex, "itm");
            int[][] ids = ints(itm.get("input_ids"));
            int[][] mask = ints(itm.get("attention_mask"));
            int ni = images.size();
            int nt = ids.length;
            int size = cfg.vision().imageSize();
            try (SafetensorsFile f = set.openTensors()) {
                BlipVisionModel.Output vis = model.vision(pixels(f, size, images), ni, size, size);
                float[] logits = model.itmLogits(vis.lastHiddenState(), ni, ids, mask);
                assertClose(set + " itm/itm_logits", logits, Fixtures.floats(f, "itm/itm_logits"));
                assertClose(set + " itm/itm_prob_match", BlipForImageTextRetrieval.matchProbabilities(logits, ni, nt),
                        Fixtures.floats(f, "itm/itm_prob_match"));
                float[] imageFeat = model.imageFeatures(vis.lastHiddenState(), ni);
                float[] textFeat = model.textFeatures(ids, mask);
                assertClose(set + " itm/image_feat", imageFeat, Fixtures.floats(f, "itm/image_feat"));
                assertClose(set + " itm/text_feat", textFeat, Fixtures.floats(f, "itm/text_feat"));
                float[] cosine = model.cosine(imageFeat, ni, textFeat, nt);
                assertClose(set + " itm/itc_cosine", cosine, Fixtures.floats(f, "itm/itc_cosine"));
                int pairs = Math.min(ni, nt);
                double temperature = itm.at("/train/temperature").asDouble();
                assertClose(set + " itm/train_itc_loss",
                        BlipForImageTextRetrieval.itcLoss(cosine, ni, nt, pairs, temperature),
                        Fixtures.floats(f, "itm/train_itc_loss"));
                assertClose(set + " itm/train_itm_loss", BlipForImageTextRetrieval.itmLoss(logits, ni, nt, pairs),
                        Fixtures.floats(f, "itm/train_itm_loss"));
            }
        }
    }

    @Test
    void contrastive() {
        for (Fixtures.FixtureSet set : Fixtures.sets(Fixtures.Kind.BLIP)) {
            JsonNode ex = set.expected();
            Path dir = set.model("tiny-contrastive");
            BlipConfig cfg = config(dir);
            BlipModel model = load(dir, sd -> BlipModel.load(sd, cfg, THREADS.get()));
            JsonNode c = ex.get("contrastive");
            List<String> images = modelImages(ex, "contrastive");
            int[][] ids = ints(c.get("input_ids"));
            int[][] mask = ints(c.get("attention_mask"));
            int size = cfg.vision().imageSize();
            try (SafetensorsFile f = set.openTensors()) {
                float[] img = model.imageEmbeds(model.vision(pixels(f, size, images), images.size(), size, size));
                float[] txt = model.textEmbeds(ids, mask);
                assertClose(set + " contrastive/image_embeds", img, Fixtures.floats(f, "contrastive/image_embeds"));
                assertClose(set + " contrastive/text_embeds", txt, Fixtures.floats(f, "contrastive/text_embeds"));
                float[] logits = model.logitsPerImage(img, images.size(), txt, ids.length);
                assertClose(set + " contrastive/logits_per_image", logits,
                        Fixtures.floats(f, "contrastive/logits_per_image"));
                assertClose(set + " contrastive/loss", BlipModel.contrastiveLoss(logits, images.size(), ids.length),
                        Fixtures.floats(f, "contrastive/loss"));
            }
        }
    }

    private static int[] identity(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        return a;
    }

    /**
     * A minimal greedy loop (argmax; finished rows continue with padding; stop when every row has
     * produced [SEP] or the sequence reaches maxLength), as the reference's greedy search.
     */
    private static int[][] greedy(StepDecoder.Factory factory, int n, int[] prompt, int maxLength, int sep, int pad) {
        List<List<Integer>> seqs = new ArrayList<>();
        boolean[] done = new boolean[n];
        int[][] input = new int[n][];
        for (int r = 0; r < n; r++) {
            List<Integer> s = new ArrayList<>();
            for (int id : prompt) {
                s.add(id);
            }
            seqs.add(s);
            input[r] = prompt.clone();
        }
        try (StepDecoder dec = factory.open(identity(n))) {
            int len = prompt.length;
            while (len < maxLength) {
                float[] logits = dec.forward(input);
                int vocab = dec.vocabSize();
                boolean all = true;
                for (int r = 0; r < n; r++) {
                    int next = pad;
                    if (!done[r]) {
                        int best = 0;
                        for (int v = 1; v < vocab; v++) {
                            if (logits[r * vocab + v] > logits[r * vocab + best]) {
                                best = v;
                            }
                        }
                        next = best;
                        done[r] = next == sep;
                    }
                    seqs.get(r).add(next);
                    input[r] = new int[] {next};
                    all &= done[r];
                }
                len++;
                if (all) {
                    break;
                }
            }
        }
        int[][] out = new int[n][];
        for (int r = 0; r < n; r++) {
            out[r] = seqs.get(r).stream().mapToInt(Integer::intValue).toArray();
        }
        return out;
    }
}
