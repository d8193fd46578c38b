package org.blipjava.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each dataset format on a small hand-written file; the readers only check that images exist. */
class DatasetReadersTest {
    @TempDir
    Path dir;

    private void touch(String... names) throws IOException {
        for (String n : names) {
            Path p = dir.resolve(n);
            Files.createDirectories(p.getParent());
            Files.write(p, new byte[] {1});
        }
    }

    @Test
    void aFolderIsReadThroughItsOnlyAnnotationFileOfTheAskedKinds() throws IOException {
        Files.writeString(dir.resolve("pairs.jsonl"), "");
        Files.writeString(dir.resolve("notes.txt"), "");
        assertThat(CaptionDatasets.locateFile(dir, List.of("jsonl", "csv"))).isEqualTo(dir.resolve("pairs.jsonl"));
        assertThatThrownBy(() -> CaptionDatasets.locateFile(dir, List.of("jsonl", "txt")))
                .isInstanceOf(DatasetException.class).hasMessageContaining(dir.toString())
                .hasMessageContaining("holds 2 .jsonl/.txt files");
        // A preferred name wins over the rest.
        Files.writeString(dir.resolve("captions.csv"), "");
        assertThat(CaptionDatasets.locateFile(dir, List.of("jsonl", "txt"))).isEqualTo(dir.resolve("captions.csv"));
    }

    @Test
    void karpathyJsonWithSplitFilterAndMissingImage() throws IOException {
        touch("val2014/a.jpg", "train2014/b.jpg");
        Files.writeString(dir.resolve("dataset_coco.json"), """
                {"images": [
                  {"filepath": "val2014", "filename": "a.jpg", "split": "test",
                   "sentences": [{"raw": "A dog runs."}, {"raw": "a running dog"}]},
                  {"filepath": "train2014", "filename": "b.jpg", "split": "restval", "sentences": [{"raw": "x"}]},
                  {"filepath": "val2014", "filename": "gone.jpg", "split": "test", "sentences": [{"raw": "y"}]}
                ]}""");
        Dataset<CaptionSample> test = CaptionDatasets.read(dir, null, "test");
        assertThat(test.format()).isEqualTo("coco-karpathy");
        assertThat(test.samples()).hasSize(1);
        CaptionSample s = test.samples().get(0);
        assertThat(s.id()).isEqualTo("val2014/a.jpg");
        assertThat(s.image()).isEqualTo(dir.resolve("val2014/a.jpg"));
        assertThat(s.captions()).containsExactly("A dog runs.", "a running dog");
        assertThat(test.skipped()).singleElement().satisfies(k -> {
            assertThat(k.entry()).isEqualTo("val2014/gone.jpg");
            assertThat(k.reason()).contains("not found");
        });
        // Karpathy's "train" includes "restval".
        assertThat(CaptionDatasets.read(dir, null, "train").samples()).extracting(CaptionSample::id)
                .containsExactly("train2014/b.jpg");
        assertThat(CaptionDatasets.read(dir, null, null).samples()).hasSize(2);
        assertThat(CaptionDatasets.read(dir, null, "test").limit(0).samples()).isEmpty();
    }

    @Test
    void blipStyleListWithSeparateImageRoot() throws IOException {
        Path images = dir.resolve("imgs");
        touch("imgs/val2014/a.jpg", "imgs/val2014/b.jpg");
        Path file = dir.resolve("coco_karpathy_test.json");
        Files.writeString(file, """
                [{"image": "val2014/a.jpg", "caption": ["one", "two"]},
                 {"image": "val2014/b.jpg", "caption": "three"},
                 {"caption": "no image"}]""");
        Dataset<CaptionSample> d = CaptionDatasets.read(file, images, "test");
        assertThat(d.format()).isEqualTo("blip-json");
        assertThat(d.samples()).extracting(CaptionSample::captions)
                .containsExactly(List.of("one", "two"), List.of("three"));
        assertThat(d.skipped()).hasSize(1);
    }

    @Test
    void flickrCsvGroupsCaptionsAndReportsBadLines() throws IOException {
        touch("1.jpg");
        Path file = dir.resolve("results.csv");
        Files.writeString(file, """
                image_name| comment_number| comment
                1.jpg| 0| Two dogs play .
                1.jpg| 1| Dogs playing .
                1.jpg| 2
                2.jpg| 0| Missing image .
                """);
        Dataset<CaptionSample> d = CaptionDatasets.read(file, null, null);
        assertThat(d.format()).isEqualTo("flickr30k-csv");
        assertThat(d.samples()).singleElement().satisfies(s ->
                assertThat(s.captions()).containsExactly("Two dogs play .", "Dogs playing ."));
        assertThat(d.skipped()).extracting(Skipped::entry).anyMatch(e -> e.endsWith("line 4")).contains("2.jpg");
    }

    @Test
    void folderWithJsonlOrCsv() throws IOException {
        touch("a.png", "b.png");
        Files.writeString(dir.resolve("captions.jsonl"), """
                {"image": "a.png", "caption": "first"}

                {"image": "a.png", "caption": "second", "split": "test"}
                {"image": "b.png", "caption": "third", "split": "train"}
                """);
        Dataset<CaptionSample> d = CaptionDatasets.read(dir, null, "test");
        assertThat(d.format()).isEqualTo("jsonl");
        assertThat(d.samples()).singleElement().satisfies(s -> assertThat(s.captions()).containsExactly("first", "second"));

        Path csvDir = dir.resolve("csv");
        Files.createDirectories(csvDir);
        Files.writeString(csvDir.resolve("captions.csv"), """
                image,caption
                ../a.png,"a dog, running"
                ../b.png,"he said ""hi\"""
                """);
        Dataset<CaptionSample> c = CaptionDatasets.read(csvDir, null, null);
        assertThat(c.format()).isEqualTo("csv");
        assertThat(c.samples()).extracting(s -> s.captions().get(0)).containsExactly("a dog, running", "he said \"hi\"");
    }

    @Test
    void errorsNameTheFile() throws IOException {
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "{\"x\": 1}");
        assertThatThrownBy(() -> CaptionDatasets.read(bad, null, null)).isInstanceOf(DatasetException.class)
                .hasMessageContaining("bad.json");
        Path broken = dir.resolve("broken.jsonl");
        Files.writeString(broken, "{\"image\": \"a\"}\n{oops\n");
        assertThatThrownBy(() -> CaptionDatasets.read(broken, null, null)).hasMessageContaining("line 2");
        assertThatThrownBy(() -> CaptionDatasets.read(dir.resolve("nope"), null, null))
                .hasMessageContaining("nope");
        Path noHeader = dir.resolve("x.csv");
        Files.writeString(noHeader, "file,text\na,b\n");
        assertThatThrownBy(() -> CaptionDatasets.read(noHeader, null, null)).hasMessageContaining("'image'");
    }

    @Test
    void vqaJsonWithAnswerListsStringsAndObjects() throws IOException {
        touch("a.jpg");
        Path file = dir.resolve("vqa.json");
        Files.writeString(file, """
                [{"image": "a.jpg", "question": "what? ", "answer": ["yes", "yes", "no"], "question_id": 7},
                 {"image": "a.jpg", "question": "who", "answer": "me"},
                 {"image": "a.jpg", "question": "obj", "answers": [{"answer": "x"}]},
                 {"image": "gone.jpg", "question": "q", "answer": ["a"]},
                 {"image": "a.jpg"}]""");
        Dataset<VqaSample> d = VqaDatasets.read(dir, null, null);
        assertThat(d.samples()).hasSize(3);
        assertThat(d.samples().get(0)).satisfies(s -> {
            assertThat(s.id()).isEqualTo("7");
            assertThat(s.question()).isEqualTo("what?");
            assertThat(s.answers()).containsExactly("yes", "yes", "no");
        });
        assertThat(d.samples().get(1).id()).isEqualTo("1");
        assertThat(d.samples().get(1).answers()).containsExactly("me");
        assertThat(d.samples().get(2).answers()).containsExactly("x");
        assertThat(d.skipped()).hasSize(2);
    }
}
