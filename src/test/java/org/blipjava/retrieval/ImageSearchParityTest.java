package org.blipjava.retrieval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.LoadOptions;
import org.blipjava.testing.FixtureInputs;
import org.blipjava.testing.Fixtures;
import org.blipjava.testing.Fixtures.FixtureSet;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Index the fixture's ITM images, search them with the fixture's ITM texts: ITC scores must be the
 * reference's {@code itm/itc_cosine}, and ITM re-ranking must order images by
 * {@code itm/itm_prob_match}. Compared for the images that decode exactly as the reference's.
 */
class ImageSearchParityTest {
    private static final double TOL = 1e-4;

    static Stream<FixtureSet> sets() {
        return Fixtures.parameters(Fixtures.Kind.BLIP);
    }

    @ParameterizedTest
    @MethodSource("sets")
    void itcScoresAndRerankedOrderMatchTheReference(FixtureSet set, @TempDir Path tmp) throws Exception {
        List<String> images = RetrievalFixtures.itmImages(set);
        List<String> texts = FixtureInputs.itmTexts(set);
        Path modelDir = set.model("tiny-itm");
        String modelId = modelDir.toString();
        try (Blip blip = Blip.load(modelDir, LoadOptions.defaults().withThreads(1));
                SafetensorsFile tensors = set.openTensors()) {
            boolean[] exact = FixtureInputs.decodesExactly(set, blip, images);
            float[] cos = Fixtures.floats(tensors, "itm/itc_cosine");
            float[] prob = Fixtures.floats(tensors, "itm/itm_prob_match");
            int nt = texts.size();
            List<Path> files = images.stream().map(set::image).toList();
            try (ImageIndex index = ImageIndex.openForWriting(tmp.resolve("index"), IndexInfo.forModel(modelId, blip))) {
                Indexer.Report report = new Indexer(blip, null, new Indexer.Options(3, java.time.Duration.ZERO, true))
                        .index(index, files, null);
                assertThat(report.failed()).isEmpty();
                assertThat(report.added()).isEqualTo(images.size());
                ImageSearcher searcher = new ImageSearcher(blip, modelId, index, 2);
                int checked = 0;
                for (int t = 0; t < nt; t++) {
                    List<SearchHit> hits = searcher.byText(texts.get(t), images.size(), 0).hits();
                    assertThat(hits).hasSize(images.size());
                    for (int h = 1; h < hits.size(); h++) {
                        assertThat(hits.get(h).itc()).isLessThanOrEqualTo(hits.get(h - 1).itc());
                    }
                    for (SearchHit hit : hits) {
                        assertThat(hit.reranked()).isFalse();
                        int i = indexOf(set, images, hit.path());
                        if (exact[i]) {
                            assertThat(hit.itc()).as("itc image " + images.get(i) + " text " + t)
                                    .isCloseTo(cos[i * nt + t], within(TOL));
                            checked++;
                        }
                    }

                    SearchResults reranked = searcher.byText(texts.get(t), images.size(), images.size());
                    assertThat(reranked.failed()).isEmpty();
                    List<Integer> order = new ArrayList<>();
                    for (SearchHit hit : reranked.hits()) {
                        assertThat(hit.reranked()).isTrue();
                        int i = indexOf(set, images, hit.path());
                        if (exact[i]) {
                            assertThat(hit.itm()).as("itm image " + images.get(i) + " text " + t)
                                    .isCloseTo(prob[i * nt + t], within(TOL));
                            assertThat(hit.itc()).isCloseTo(cos[i * nt + t], within(TOL));
                            order.add(i);
                        }
                    }
                    // The reference's probabilities must be non-increasing along the re-ranked order
                    // (up to the tolerance, where a float difference may swap near-ties).
                    for (int h = 1; h < order.size(); h++) {
                        assertThat(prob[order.get(h) * nt + t]).as("re-ranked order for text " + t)
                                .isLessThanOrEqualTo(prob[order.get(h - 1) * nt + t] + (float) (2 * TOL));
                    }
                }
                assertThat(checked).as("no image decoded exactly as the reference's").isPositive();
            }
        }
    }

    @ParameterizedTest
    @MethodSource("sets")
    void rerankingOnlyTheHeadKeepsTheRestInItcOrder(FixtureSet set, @TempDir Path tmp) throws Exception {
        List<String> images = RetrievalFixtures.itmImages(set);
        String text = FixtureInputs.itmTexts(set).get(0);
        Path modelDir = set.model("tiny-itm");
        try (Blip blip = Blip.load(modelDir, LoadOptions.defaults().withThreads(1));
                ImageIndex index = ImageIndex.openForWriting(tmp.resolve("i"), IndexInfo.forModel(modelDir.toString(), blip))) {
            new Indexer(blip, null, Indexer.Options.defaults()).index(index, images.stream().map(set::image).toList(), null);
            ImageSearcher searcher = new ImageSearcher(blip, modelDir.toString(), index, 8);
            List<SearchHit> itc = searcher.byText(text, images.size(), 0).hits();
            int head = Math.max(1, images.size() / 2);
            List<SearchHit> mixed = searcher.byText(text, images.size(), head).hits();
            assertThat(mixed).hasSize(itc.size());
            assertThat(mixed.subList(0, head)).allMatch(SearchHit::reranked)
                    .extracting(SearchHit::path)
                    .containsExactlyInAnyOrderElementsOf(itc.subList(0, head).stream().map(SearchHit::path).toList());
            assertThat(mixed.subList(head, mixed.size())).noneMatch(SearchHit::reranked)
                    .extracting(SearchHit::path)
                    .containsExactlyElementsOf(itc.subList(head, itc.size()).stream().map(SearchHit::path).toList());
            assertThat(searcher.byText(text, 1, 0).hits()).hasSize(1);
        }
    }

    private static int indexOf(FixtureSet set, List<String> images, String path) {
        for (int i = 0; i < images.size(); i++) {
            if (RetrievalFixtures.key(set, images.get(i)).equals(path)) {
                return i;
            }
        }
        throw new AssertionError("search returned a path that was not indexed: " + path);
    }
}
