package org.blipjava.retrieval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.ImageStates;
import org.blipjava.testing.FixtureInputs;
import org.blipjava.testing.Fixtures;
import org.blipjava.testing.Fixtures.FixtureSet;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The opt-in ITM state cache: same re-ranked results as recomputing, really used, kept consistent. */
class ItmStateCacheTest {
    static Stream<FixtureSet> sets() {
        return Fixtures.parameters(Fixtures.Kind.BLIP);
    }

    private static Indexer indexer(Blip blip, boolean cache) {
        return new Indexer(blip, null, new Indexer.Options(2, Duration.ZERO, true).withCacheItmStates(cache));
    }

    private static IndexInfo info(FixtureSet set, Blip blip, boolean cache) {
        return IndexInfo.forModel(set.model("tiny-itm").toString(), blip).withItmCache(cache);
    }

    private static ImageSearcher searcher(FixtureSet set, Blip blip, ImageIndex index) {
        // A re-ranking batch size unlike the indexing one: states must not depend on the batch.
        return new ImageSearcher(blip, set.model("tiny-itm").toString(), index, 3);
    }

    private static FileStamp stampOf(Path p) throws Exception {
        return new FileStamp(Files.size(p), Files.getLastModifiedTime(p).toMillis());
    }

    private static String key(Path p) {
        return p.toAbsolutePath().normalize().toString();
    }

    @ParameterizedTest
    @MethodSource("sets")
    void cachedRerankingEqualsRecomputingAndNeedsNoImageFiles(FixtureSet set, @TempDir Path tmp) throws Exception {
        List<Path> files = RetrievalFixtures.copyImages(set, tmp.resolve("photos"));
        List<String> texts = FixtureInputs.itmTexts(set);
        int n = files.size();
        try (Blip blip = RetrievalFixtures.itm(set);
                ImageIndex plain = ImageIndex.openForWriting(tmp.resolve("plain"), info(set, blip, false));
                ImageIndex cached = ImageIndex.openForWriting(tmp.resolve("cached"), info(set, blip, true))) {
            assertThat(indexer(blip, false).index(plain, files, null).cached()).isZero();
            Indexer.Report report = indexer(blip, true).index(cached, files, null);
            assertThat(report.added()).isEqualTo(n);
            assertThat(report.cached()).isEqualTo(n);
            assertThat(plain.info().itmCache()).isFalse();
            assertThat(cached.info().itmCache()).isTrue();
            assertThat(Files.exists(tmp.resolve("plain").resolve(ItmStateCache.DIRECTORY))).isFalse();
            ItmStateCache cache = ItmStateCache.of(cached, blip.imageStateShape());
            assertThat(cache.usage().entries()).isEqualTo(n);

            List<List<SearchHit>> before = new ArrayList<>();
            for (String text : texts) {
                SearchResults recomputed = searcher(set, blip, plain).byText(text, n, n);
                SearchResults fromCache = searcher(set, blip, cached).byText(text, n, n);
                assertThat(recomputed.failed()).isEmpty();
                assertThat(fromCache.failed()).isEmpty();
                assertThat(fromCache.hits()).allMatch(SearchHit::reranked);
                // Records compare doubles exactly: same order, same ITC and ITM scores, bit for bit.
                assertThat(fromCache.hits()).as(text).isEqualTo(recomputed.hits());
                before.add(fromCache.hits());
            }

            // With the image files gone, only the cache can give the ITM scores.
            for (Path f : files) {
                Files.delete(f);
            }
            for (int t = 0; t < texts.size(); t++) {
                SearchResults fromCache = searcher(set, blip, cached).byText(texts.get(t), n, n);
                assertThat(fromCache.failed()).isEmpty();
                assertThat(fromCache.hits()).isEqualTo(before.get(t));
                SearchResults recomputed = searcher(set, blip, plain).byText(texts.get(t), n, n);
                assertThat(recomputed.failed()).hasSize(n);
                assertThat(recomputed.hits()).noneMatch(SearchHit::reranked);
            }

            // Concurrent searches share the cache.
            ImageSearcher shared = searcher(set, blip, cached);
            try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
                List<Future<SearchResults>> runs = new ArrayList<>();
                for (int r = 0; r < 8; r++) {
                    String text = texts.get(r % texts.size());
                    runs.add(pool.submit(() -> shared.byText(text, n, n)));
                }
                for (int r = 0; r < runs.size(); r++) {
                    assertThat(runs.get(r).get().hits()).isEqualTo(before.get(r % texts.size()));
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("sets")
    void aDamagedEntryIsRecomputed(FixtureSet set, @TempDir Path tmp) throws Exception {
        List<Path> files = RetrievalFixtures.copyImages(set, tmp.resolve("photos"));
        String text = FixtureInputs.itmTexts(set).get(0);
        int n = files.size();
        try (Blip blip = RetrievalFixtures.itm(set);
                ImageIndex index = ImageIndex.openForWriting(tmp.resolve("index"), info(set, blip, true))) {
            indexer(blip, true).index(index, files, null);
            List<SearchHit> good = searcher(set, blip, index).byText(text, n, n).hits();
            ItmStateCache cache = ItmStateCache.of(index, blip.imageStateShape());
            Path flipped = cache.file(key(files.get(0)));
            byte[] bytes = Files.readAllBytes(flipped);
            bytes[bytes.length - 1] ^= 0x40;
            Files.write(flipped, bytes);
            Files.writeString(cache.file(key(files.get(1))), "not safetensors");
            assertThat(cache.get(key(files.get(0)), stampOf(files.get(0)))).isNull();
            assertThat(cache.get(key(files.get(1)), stampOf(files.get(1)))).isNull();
            SearchResults again = searcher(set, blip, index).byText(text, n, n);
            assertThat(again.failed()).isEmpty();
            assertThat(again.hits()).isEqualTo(good);

            // Without their files the two damaged entries cannot be recomputed, and are reported.
            Files.delete(files.get(0));
            Files.delete(files.get(1));
            SearchResults partial = searcher(set, blip, index).byText(text, n, n);
            assertThat(partial.failed()).extracting(f -> key(f.path()))
                    .containsExactlyInAnyOrder(key(files.get(0)), key(files.get(1)));
            assertThat(partial.hits().stream().filter(SearchHit::reranked).count()).isEqualTo(n - 2);
        }
    }

    @ParameterizedTest
    @MethodSource("sets")
    void reindexingFillsInRefreshesAndRemovesEntries(FixtureSet set, @TempDir Path tmp) throws Exception {
        List<Path> files = RetrievalFixtures.copyImages(set, tmp.resolve("photos"));
        int n = files.size();
        Path where = tmp.resolve("index");
        try (Blip blip = RetrievalFixtures.itm(set)) {
            // Built without the cache: the flag is refused by an index opened without it.
            try (ImageIndex index = ImageIndex.openForWriting(where, info(set, blip, false))) {
                indexer(blip, false).index(index, files, null);
                assertThatThrownBy(() -> indexer(blip, true).index(index, files, null))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("withItmCache");
            }
            // A run with the cache fills in every entry without re-indexing anything.
            try (ImageIndex index = ImageIndex.openForWriting(where, info(set, blip, true))) {
                Indexer.Report filled = indexer(blip, true).index(index, files, null);
                assertThat(filled.embedded()).isZero();
                assertThat(filled.unchanged()).isEqualTo(n);
                assertThat(filled.cached()).isEqualTo(n);
                ItmStateCache cache = ItmStateCache.of(index, blip.imageStateShape());
                for (Path f : files) {
                    assertThat(cache.holds(key(f), stampOf(f))).as(f.toString()).isTrue();
                }
                assertThat(indexer(blip, true).index(index, files, null).cached()).isZero();
            }
            assertThat(ImageIndex.readInfo(where).itmCache()).isTrue();

            // One image changes: its entry is refreshed to the new picture's states; one disappears.
            Path changed = files.get(0);
            Files.copy(files.get(1), changed, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Files.setLastModifiedTime(changed, FileTime.fromMillis(Files.getLastModifiedTime(changed).toMillis() + 5000));
            Path gone = files.get(n - 1);
            Files.delete(gone);
            try (ImageIndex index = ImageIndex.openForWriting(where, info(set, blip, true))) {
                ItmStateCache cache = ItmStateCache.of(index, blip.imageStateShape());
                Path goneEntry = cache.file(key(gone));
                assertThat(goneEntry).exists();
                Indexer.Report refreshed = indexer(blip, true).index(index, files.subList(0, n - 1), null);
                assertThat(refreshed.updated()).isEqualTo(1);
                assertThat(refreshed.removed()).isEqualTo(1);
                assertThat(refreshed.cached()).isEqualTo(1);
                assertThat(goneEntry).doesNotExist();
                assertThat(cache.usage().entries()).isEqualTo(n - 1);
                float[] expected = blip.imageStates(blip.pixels(List.of(Blip.readImage(changed)))).image(0);
                assertThat(cache.get(key(changed), stampOf(changed))).isEqualTo(expected);

                // A run without the flag keeps the cache recorded but drops the entry of an image it re-embeds.
                Files.setLastModifiedTime(changed, FileTime.fromMillis(Files.getLastModifiedTime(changed).toMillis() + 5000));
                Indexer.Report plain = indexer(blip, false).index(index, files.subList(0, n - 1), null);
                assertThat(plain.updated()).isEqualTo(1);
                assertThat(plain.cached()).isZero();
                assertThat(cache.file(key(changed))).doesNotExist();
                assertThat(index.info().itmCache()).isTrue();
            }
            // The searcher works with the partial cache: the missing entry is recomputed.
            try (ImageIndex index = ImageIndex.open(where)) {
                String text = FixtureInputs.itmTexts(set).get(0);
                SearchResults r = searcher(set, blip, index).byText(text, n, n);
                assertThat(r.failed()).isEmpty();
                assertThat(r.hits()).hasSize(n - 1).allMatch(SearchHit::reranked);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("sets")
    void sizeCostComesFromTheModelAndMatchesTheFiles(FixtureSet set, @TempDir Path tmp) throws Exception {
        List<Path> files = RetrievalFixtures.copyImages(set, tmp.resolve("photos"));
        try (Blip blip = RetrievalFixtures.itm(set);
                ImageIndex index = ImageIndex.openForWriting(tmp.resolve("index"), info(set, blip, true))) {
            indexer(blip, true).index(index, files, null);
            ImageStates.Shape shape = blip.imageStateShape();
            var vision = blip.config().vision();
            var px = blip.imageProcessor().config();
            assertThat(shape.seqLen()).isEqualTo((px.height() / vision.patchSize()) * (px.width() / vision.patchSize()) + 1);
            assertThat(shape.hidden()).isEqualTo(vision.hiddenSize());
            assertThat(shape.bytes()).isEqualTo(4L * shape.seqLen() * shape.hidden());
            ItmStateCache.Usage usage = ItmStateCache.of(index, shape).usage();
            long onDisk = 0;
            for (Path f : files) {
                Path entry = ItmStateCache.of(index, shape).file(key(f));
                onDisk += Files.size(entry);
                // The floats plus a header of a few hundred bytes.
                assertThat(Files.size(entry)).isBetween(shape.bytes(), shape.bytes() + 1024);
            }
            assertThat(usage.bytes()).isEqualTo(onDisk);
            assertThat(usage.bytesPerImage()).isEqualTo(shape.bytes());
            assertThat(usage.entries()).isEqualTo(files.size());
        }
    }
}
