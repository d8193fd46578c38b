package org.blipjava.retrieval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.data.DatasetException;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.LoadOptions;
import org.blipjava.testing.FixtureInputs;
import org.blipjava.testing.Fixtures;
import org.blipjava.testing.Fixtures.FixtureSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Dataset parsing, and an evaluation of the fixture model on a dataset generated from the
 * fixture's ITM images and texts, whose expected recall follows from the reference's score
 * matrices.
 */
class RetrievalEvaluatorTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static Stream<FixtureSet> sets() {
        return Fixtures.parameters(Fixtures.Kind.BLIP);
    }

    /** Karpathy JSON with the exact images, captions dealt out round-robin; returns the texts' image links. */
    private static int[] writeKarpathy(Path file, FixtureSet set, List<String> images, List<String> texts) throws Exception {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode arr = root.putArray("images");
        int[] links = new int[texts.size()];
        List<ArrayNode> sentences = new ArrayList<>();
        for (String img : images) {
            ObjectNode o = arr.addObject();
            o.put("filepath", "images").put("filename", img).put("split", "test");
            sentences.add(o.putArray("sentences"));
        }
        // A training image that must be left out of the test split.
        ObjectNode train = arr.addObject();
        train.put("filepath", "images").put("filename", "not-there.png").put("split", "train");
        train.putArray("sentences").addObject().put("raw", "never read");
        for (int t = 0; t < texts.size(); t++) {
            links[t] = t % images.size();
            sentences.get(links[t]).addObject().put("raw", texts.get(t));
        }
        JSON.writeValue(file.toFile(), root);
        return links;
    }

    @ParameterizedTest
    @MethodSource("sets")
    void recallOnAGeneratedDatasetFollowsTheReferenceScores(FixtureSet set, @TempDir Path tmp) throws Exception {
        List<String> allImages = RetrievalFixtures.itmImages(set);
        List<String> texts = FixtureInputs.itmTexts(set);
        try (Blip blip = Blip.load(set.model("tiny-itm"), LoadOptions.defaults().withThreads(1));
                SafetensorsFile tensors = set.openTensors()) {
            boolean[] exact = FixtureInputs.decodesExactly(set, blip, allImages);
            List<Integer> used = new ArrayList<>();
            for (int i = 0; i < allImages.size(); i++) {
                if (exact[i]) {
                    used.add(i);
                }
            }
            assertThat(used).as("images decoding exactly as the reference's").hasSizeGreaterThanOrEqualTo(2);
            List<String> images = used.stream().map(allImages::get).toList();
            Path file = tmp.resolve("dataset_coco.json");
            int[] links = writeKarpathy(file, set, images, texts);
            RetrievalDataset ds = RetrievalDataset.read(file, set.dir(), null);
            assertThat(ds.images()).hasSize(images.size());
            assertThat(ds.texts()).containsExactlyInAnyOrderElementsOf(texts);

            // The dataset orders texts image by image; map them back to the fixture's columns.
            int nt = texts.size();
            float[] cos = Fixtures.floats(tensors, "itm/itc_cosine");
            float[] prob = Fixtures.floats(tensors, "itm/itm_prob_match");
            float[][] sim = new float[images.size()][ds.texts().size()];
            float[][] itm = new float[images.size()][ds.texts().size()];
            for (int i = 0; i < images.size(); i++) {
                for (int t = 0; t < ds.texts().size(); t++) {
                    int col = texts.indexOf(ds.texts().get(t));
                    assertThat(ds.imageOf(t)).isEqualTo(links[col]);
                    sim[i][t] = cos[used.get(i) * nt + col];
                    itm[i][t] = prob[used.get(i) * nt + col];
                }
            }
            int k = 2;
            RetrievalMetrics.Result wantItc = RetrievalMetrics.itc(sim, ds.textImage());
            RetrievalMetrics.Result wantItm = RetrievalMetrics.reranked(sim, ds.textImage(), k, (image, ts) -> {
                float[] out = new float[ts.length];
                for (int j = 0; j < ts.length; j++) {
                    out[j] = itm[image][ts[j]];
                }
                return out;
            });

            RetrievalEvaluator.Report got = new RetrievalEvaluator(blip, new RetrievalEvaluator.Options(3, k)).evaluate(ds, null);
            assertThat(got.failed()).isEmpty();
            assertThat(got.itc()).isEqualTo(wantItc);
            assertThat(got.itm()).isEqualTo(wantItm);

            RetrievalEvaluator.Report itcOnly = new RetrievalEvaluator(blip, new RetrievalEvaluator.Options(8, 0)).evaluate(ds, null);
            assertThat(itcOnly.itm()).isNull();
            assertThat(itcOnly.itc()).isEqualTo(wantItc);
        }
    }

    @ParameterizedTest
    @MethodSource("sets")
    void unreadableImagesAreLeftOutWithTheirCaptions(FixtureSet set, @TempDir Path tmp) throws Exception {
        String good = RetrievalFixtures.itmImages(set).get(0);
        Files.writeString(tmp.resolve("broken.png"), "not an image");
        Files.copy(set.image(good), tmp.resolve(good));
        Path file = tmp.resolve("ann.json");
        Files.writeString(file, "[{\"image\": \"" + good + "\", \"caption\": [\"a\", \"b\"]},"
                + "{\"image\": \"broken.png\", \"caption\": \"c\"}]");
        try (Blip blip = Blip.load(set.model("tiny-itm"), LoadOptions.defaults().withThreads(1))) {
            RetrievalEvaluator.Report r = new RetrievalEvaluator(blip, new RetrievalEvaluator.Options(4, 1))
                    .evaluate(RetrievalDataset.read(file, null, null), null);
            assertThat(r.failed()).singleElement().satisfies(f -> assertThat(f.error()).contains("broken.png"));
            assertThat(r.dataset().images()).containsExactly(tmp.resolve(good));
            assertThat(r.dataset().texts()).containsExactly("a", "b");
            assertThat(r.itc().imageToText().r1()).isEqualTo(1.0);
            assertThat(r.itc().textToImage().r1()).isEqualTo(1.0);
        }
    }

    @Test
    void flickrCsvAndAnnotationFilesAreRead(@TempDir Path tmp) throws Exception {
        Path csv = tmp.resolve("results.csv");
        Files.writeString(csv, "image_name| comment_number| comment\n"
                + "1000092795.jpg| 0| Two young guys are outside .\n"
                + "1000092795.jpg| 1| Two men in a yard .\n"
                + "10002456.jpg| 0| Workers look down .\n"
                + "2199200615.jpg| 4 A dog runs across the grass .\n");
        RetrievalDataset flickr = RetrievalDataset.read(csv, tmp.resolve("imgs"), null);
        assertThat(flickr.images()).containsExactly(tmp.resolve("imgs/1000092795.jpg"), tmp.resolve("imgs/10002456.jpg"),
                tmp.resolve("imgs/2199200615.jpg"));
        assertThat(flickr.texts()).containsExactly("Two young guys are outside .", "Two men in a yard .",
                "Workers look down .", "A dog runs across the grass .");
        assertThat(flickr.textImage()).containsExactly(0, 0, 1, 2);

        Path ann = tmp.resolve("coco_karpathy_test.json");
        Files.writeString(ann, "[{\"image\": \"val2014/a.jpg\", \"caption\": [\"x\", \"y\"]}, {\"image\": \"val2014/b.jpg\", \"caption\": \"z\"}]");
        RetrievalDataset blipAnn = RetrievalDataset.read(ann, null, null);
        assertThat(blipAnn.images()).containsExactly(tmp.resolve("val2014/a.jpg"), tmp.resolve("val2014/b.jpg"));
        assertThat(blipAnn.textImage()).containsExactly(0, 0, 1);

        Path karpathy = tmp.resolve("dataset_flickr30k.json");
        Files.writeString(karpathy, "{\"images\": [{\"filename\": \"a.jpg\", \"split\": \"val\", \"sentences\": [{\"raw\": \"v\"}]},"
                + "{\"filename\": \"b.jpg\", \"split\": \"train\", \"sentences\": [{\"raw\": \"t\"}]}]}");
        RetrievalDataset val = RetrievalDataset.read(karpathy, null, "val");
        assertThat(val.texts()).containsExactly("v");
        // Without a test split and without --split, every image is taken.
        assertThat(RetrievalDataset.read(karpathy, null, null).texts()).containsExactly("v", "t");
        assertThatThrownBy(() -> RetrievalDataset.read(karpathy, null, "test"))
                .isInstanceOf(DatasetException.class).hasMessageContaining("test");

        Path bad = tmp.resolve("bad.json");
        Files.writeString(bad, "{\"images\": [{\"split\": \"test\", \"sentences\": []}]}");
        assertThatThrownBy(() -> RetrievalDataset.read(bad, null, null))
                .isInstanceOf(DatasetException.class).hasMessageContaining("bad.json").hasMessageContaining("filename");
    }
}
