package org.blipjava.retrieval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.LoadOptions;
import org.blipjava.testing.FixtureInputs;
import org.blipjava.testing.Fixtures;
import org.blipjava.testing.Fixtures.FixtureSet;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Incremental indexing, crash safety, concurrent readers, bad images and model checks. */
class IndexerTest {
    static Stream<FixtureSet> sets() {
        return Fixtures.parameters(Fixtures.Kind.BLIP);
    }

    @ParameterizedTest
    @MethodSource("sets")
    void secondRunEmbedsNothingAndChangesAreFollowed(FixtureSet set, @TempDir Path tmp) throws Exception {
        List<Path> files = RetrievalFixtures.copyImages(set, tmp.resolve("photos"));
        Path where = tmp.resolve("index");
        String id = set.model("tiny-itm").toString();
        try (Blip blip = RetrievalFixtures.itm(set)) {
            Indexer indexer = new Indexer(blip, null, new Indexer.Options(2, Duration.ZERO, true));
            try (ImageIndex index = ImageIndex.openForWriting(where, IndexInfo.forModel(id, blip))) {
                Indexer.Report first = indexer.index(index, files, null);
                assertThat(first.added()).isEqualTo(files.size());
                assertThat(index.size()).isEqualTo(files.size());
            }
            try (ImageIndex index = ImageIndex.openForWriting(where, IndexInfo.forModel(id, blip))) {
                Indexer.Report again = indexer.index(index, files, null);
                assertThat(again.embedded()).isZero();
                assertThat(again.unchanged()).isEqualTo(files.size());

                // One file changes, one disappears.
                Path changed = files.get(0);
                Files.setLastModifiedTime(changed, FileTime.fromMillis(Files.getLastModifiedTime(changed).toMillis() - 60_000));
                Path gone = files.get(files.size() - 1);
                Files.delete(gone);
                List<Path> remaining = files.subList(0, files.size() - 1);
                Indexer.Report third = indexer.index(index, remaining, null);
                assertThat(third.updated()).isEqualTo(1);
                assertThat(third.added()).isZero();
                assertThat(third.removed()).isEqualTo(1);
                assertThat(third.unchanged()).isEqualTo(remaining.size() - 1);
                assertThat(index.size()).isEqualTo(remaining.size());
                assertThat(index.stamps()).doesNotContainKey(gone.toAbsolutePath().normalize().toString());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("sets")
    void corruptImagesAreListedAndSkipped(FixtureSet set, @TempDir Path tmp) throws Exception {
        List<Path> files = new ArrayList<>(RetrievalFixtures.copyImages(set, tmp.resolve("photos")));
        Path corrupt = Files.writeString(tmp.resolve("photos").resolve("broken.png"), "not a png");
        Path missing = tmp.resolve("photos").resolve("missing.jpg");
        files.add(1, corrupt);
        files.add(missing);
        List<Indexer.Failure> told = new ArrayList<>();
        try (Blip blip = RetrievalFixtures.itm(set);
                ImageIndex index = ImageIndex.openForWriting(tmp.resolve("index"),
                        IndexInfo.forModel(set.model("tiny-itm").toString(), blip))) {
            Indexer.Report r = new Indexer(blip, null, Indexer.Options.defaults()).index(index, files, new Indexer.Listener() {
                @Override
                public void failed(Indexer.Failure failure) {
                    told.add(failure);
                }
            });
            assertThat(r.failed()).extracting(Indexer.Failure::path).containsExactlyInAnyOrder(corrupt, missing);
            assertThat(told).isEqualTo(r.failed());
            assertThat(r.failed()).allMatch(f -> f.error().contains(f.path().getFileName().toString()));
            assertThat(r.added()).isEqualTo(files.size() - 2);
            assertThat(index.size()).isEqualTo(files.size() - 2);
        }
    }

    @ParameterizedTest
    @MethodSource("sets")
    void anInterruptedRunLeavesAUsableIndexAndAReaderSeesCommits(FixtureSet set, @TempDir Path tmp) throws Exception {
        List<Path> files = RetrievalFixtures.copyImages(set, tmp.resolve("photos"));
        Path where = tmp.resolve("index");
        String id = set.model("tiny-itm").toString();
        try (Blip blip = RetrievalFixtures.itm(set)) {
            IndexInfo info = IndexInfo.forModel(id, blip);
            try (ImageIndex writer = ImageIndex.openForWriting(where, info);
                    ImageIndex reader = ImageIndex.open(where)) {
                assertThat(reader.size()).isZero();
                assertThat(reader.info()).isEqualTo(info);
                Indexer oneByOne = new Indexer(blip, null, new Indexer.Options(1, Duration.ZERO, true));
                RuntimeException stop = new RuntimeException("interrupted");
                assertThatThrownBy(() -> oneByOne.index(writer, files, new Indexer.Listener() {
                    @Override
                    public void progressed(int done) {
                        if (done == 1) {
                            throw stop;
                        }
                    }
                })).isSameAs(stop);
                // Another process's view: only what was committed, and it searches.
                reader.refresh();
                assertThat(reader.size()).isEqualTo(1);
                float[] q = blip.embedTexts(List.of(FixtureInputs.itmTexts(set).get(0)))[0];
                assertThat(reader.search(q, 5)).hasSize(1);
                // A second writer on the same directory is refused while the first holds the lock.
                assertThatThrownBy(() -> ImageIndex.openForWriting(where, info))
                        .isInstanceOf(IndexException.class).hasMessageContaining("another process");
                // Resuming embeds only the rest.
                Indexer.Report resumed = oneByOne.index(writer, files, null);
                assertThat(resumed.added()).isEqualTo(files.size() - 1);
                assertThat(resumed.unchanged()).isEqualTo(1);
                reader.refresh();
                assertThat(reader.size()).isEqualTo(files.size());
                assertThatThrownBy(() -> reader.remove("x")).isInstanceOf(IllegalStateException.class);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("sets")
    void anotherModelIsRefused(FixtureSet set, @TempDir Path tmp) throws Exception {
        Path where = tmp.resolve("index");
        String itmId = set.model("tiny-itm").toString();
        String otherId = set.model("tiny-contrastive").toString();
        try (Blip blip = RetrievalFixtures.itm(set);
                Blip other = Blip.load(set.model("tiny-contrastive"), LoadOptions.defaults().withThreads(1))) {
            try (ImageIndex index = ImageIndex.openForWriting(where, IndexInfo.forModel(itmId, blip))) {
                new Indexer(blip, null, Indexer.Options.defaults())
                        .index(index, List.of(set.image(RetrievalFixtures.itmImages(set).get(0))), null);
            }
            try (ImageIndex index = ImageIndex.open(where)) {
                assertThatThrownBy(() -> new ImageSearcher(other, otherId, index, 8))
                        .isInstanceOf(IndexException.class)
                        .hasMessageContaining(itmId).hasMessageContaining(otherId).hasMessageContaining("--model");
                // The same model named by another path is the same model.
                Path relative = Path.of("").toAbsolutePath().relativize(set.model("tiny-itm").toAbsolutePath());
                new ImageSearcher(blip, relative.toString(), index, 8);
            }
            assertThatThrownBy(() -> ImageIndex.openForWriting(where, IndexInfo.forModel(otherId, other)))
                    .isInstanceOf(IndexException.class).hasMessageContaining(otherId);
            assertThatThrownBy(() -> ImageIndex.openForWriting(where, new IndexInfo(itmId, 7)))
                    .isInstanceOf(IndexException.class).hasMessageContaining("7");
        }
        assertThatThrownBy(() -> ImageIndex.open(tmp.resolve("nothing")))
                .isInstanceOf(IndexException.class).hasMessageContaining("nothing");
        Path notIndex = Files.createDirectory(tmp.resolve("notindex"));
        Files.writeString(notIndex.resolve("file.txt"), "x");
        assertThatThrownBy(() -> ImageIndex.open(notIndex)).isInstanceOf(IndexException.class).hasMessageContaining("no index");
        assertThatThrownBy(() -> ImageIndex.openForWriting(notIndex, new IndexInfo("m", 4)))
                .isInstanceOf(IndexException.class).hasMessageContaining("not empty");
    }

    @ParameterizedTest
    @MethodSource("sets")
    void aFileNameThatIsNotUtf8IsIndexedUpdatedAndRemovedByItsKey(FixtureSet set, @TempDir Path tmp) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(java.io.File.separatorChar == '/', "file names are bytes on Unix only");
        Path dir = Files.createDirectories(tmp.resolve("photos"));
        Path latin1 = PathKeysTest.latin1File(dir);
        Files.copy(set.image(RetrievalFixtures.itmImages(set).get(0)), latin1, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        List<Path> listed;
        try (Stream<Path> s = Files.list(dir)) {
            listed = s.toList();
        }
        try (Blip blip = RetrievalFixtures.itm(set);
                ImageIndex index = ImageIndex.openForWriting(tmp.resolve("index"),
                        IndexInfo.forModel(set.model("tiny-itm").toString(), blip))) {
            Indexer indexer = new Indexer(blip, null, Indexer.Options.defaults());
            Indexer.Report first = indexer.index(index, listed, null);
            assertThat(first.failed()).isEmpty();
            assertThat(first.added()).isEqualTo(1);
            String key = PathKeys.key(latin1);
            assertThat(index.stamps()).containsOnlyKeys(key);
            float[] q = blip.embedTexts(List.of(FixtureInputs.itmTexts(set).get(0)))[0];
            assertThat(index.search(q, 1)).singleElement().extracting(SearchHit::path).isEqualTo(key);
            // More results than images asked for: all of them, nothing allocated for the rest.
            assertThat(index.search(q, Integer.MAX_VALUE)).hasSize(1);
            // The same file named by its key (as search prints it) is the same entry.
            assertThat(indexer.index(index, List.of(PathKeys.path(key)), null).unchanged()).isEqualTo(1);
            Files.delete(latin1);
            assertThat(indexer.index(index, List.of(), null).removed()).isEqualTo(1);
            assertThat(index.size()).isZero();
        }
    }
}
