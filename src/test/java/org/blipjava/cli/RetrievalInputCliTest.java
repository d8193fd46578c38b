package org.blipjava.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.blipjava.testing.FixtureInputs.strings;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.blipjava.testing.Fixtures;
import org.blipjava.testing.Fixtures.FixtureSet;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code blip index} and {@code blip search} on bad input as a new user gives it: absurd result
 * counts, a damaged index, a moved or replaced model folder, control characters in file names.
 */
class RetrievalInputCliTest {
    static Stream<FixtureSet> sets() {
        return Fixtures.parameters(Fixtures.Kind.BLIP);
    }

    private static Path photos(FixtureSet set, Path tmp) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("photos"));
        for (String img : strings(set.expected().get("itm").get("images"))) {
            Files.copy(set.image(img), dir.resolve(img));
        }
        return dir;
    }

    private static int count(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return (int) s.count();
        }
    }

    /** One stderr line, a message rather than a stack trace. */
    private static String oneLine(CliRun r) {
        List<String> lines = r.err().lines().toList();
        assertThat(lines).as(r.err()).hasSize(1);
        assertThat(lines.getFirst()).startsWith("blip: ").doesNotContain("Exception");
        return lines.getFirst();
    }

    @ParameterizedTest
    @MethodSource("sets")
    void aHugeKOrRerankGivesEveryImage(FixtureSet set, @TempDir Path tmp) throws Exception {
        Path dir = photos(set, tmp);
        int n = count(dir);
        Path index = tmp.resolve("index");
        CliRun built = CliRun.run("index", "--model", set.model("tiny-itm").toString(), "--images", dir.toString(),
                "--index", index.toString());
        assertThat(built.exit()).as(built.err()).isZero();
        String text = strings(set.expected().get("itm").get("texts")).getFirst();
        for (String[] flags : List.of(new String[] {"--k", "2147483647"}, new String[] {"--k", "1000000000"},
                new String[] {"--k", "1", "--rerank", "2147483647"}, new String[] {"--k", "2147483647", "--rerank", "1000000000"})) {
            CliRun s = CliRun.run(Stream.concat(Stream.of("search", "--index", index.toString(), "--text", text, "--json"),
                    Stream.of(flags)).toArray(String[]::new));
            assertThat(s.exit()).as(String.join(" ", flags) + ": " + s.err()).isZero();
            JsonNode results = s.json().get("results");
            boolean reranked = List.of(flags).contains("--rerank");
            assertThat(results).hasSize(flags[1].equals("1") ? 1 : n);
            assertThat(results.get(0).has("itm")).isEqualTo(reranked);
        }
        CliRun byImage = CliRun.run("search", "--index", index.toString(), "--image", dir.resolve(
                strings(set.expected().get("itm").get("images")).getFirst()).toString(), "--k", "2147483647", "--json");
        assertThat(byImage.exit()).as(byImage.err()).isZero();
        assertThat(byImage.json().get("results")).hasSize(n);
    }

    @ParameterizedTest
    @MethodSource("sets")
    void aDamagedIndexIsReportedWithHowToRebuildIt(FixtureSet set, @TempDir Path tmp) throws Exception {
        Path dir = photos(set, tmp);
        int n = count(dir);
        String model = set.model("tiny-itm").toString();
        Path index = tmp.resolve("index");
        CliRun built = CliRun.run("index", "--model", model, "--images", dir.toString(), "--index", index.toString());
        assertThat(built.exit()).as(built.err()).isZero();
        CliRun clean = CliRun.run("index", "--check", "--index", index.toString());
        assertThat(clean.exit()).as(clean.err()).isZero();
        assertThat(clean.out()).contains("OK: " + n + " images").contains(model);

        // 64 zeroed bytes in the middle of the largest segment file (the compound file).
        Path largest;
        try (Stream<Path> files = Files.list(index)) {
            largest = files.filter(p -> p.getFileName().toString().startsWith("_"))
                    .max(Comparator.comparingLong(p -> p.toFile().length())).orElseThrow();
        }
        try (RandomAccessFile f = new RandomAccessFile(largest.toFile(), "rw")) {
            long at = f.length() / 2;
            byte[] before = new byte[64];
            f.seek(at);
            f.readFully(before);
            assertThat(before).as("the bytes zeroed were not all zero").isNotEqualTo(new byte[64]);
            f.seek(at);
            f.write(new byte[64]);
        }

        CliRun check = CliRun.run("index", "--check", "--index", index.toString());
        assertThat(check.exit()).as(check.out() + check.err()).isEqualTo(1);
        assertThat(check.out()).contains("DAMAGED").contains(largest.getFileName().toString().replaceAll("\\..*", ""))
                .contains("--rebuild");
        CliRun checkJson = CliRun.run("index", "--check", "--index", index.toString(), "--json");
        assertThat(checkJson.exit()).isEqualTo(1);
        assertThat(checkJson.json().get("ok").asBoolean()).isFalse();
        assertThat(checkJson.json().get("problems")).isNotEmpty();

        // A search of a small index verifies the checksums; a damaged index is not searched.
        CliRun search = CliRun.run("search", "--index", index.toString(), "--text", "a dog");
        assertThat(search.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(oneLine(search)).contains("damaged").contains("--rebuild").contains("blip index --check");
        assertThat(search.out()).isEmpty();

        // 'blip index' refuses it before counting anything as unchanged.
        CliRun again = CliRun.run("index", "--model", model, "--images", dir.toString(), "--index", index.toString());
        assertThat(again.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(oneLine(again)).contains("damaged").contains("--rebuild");
        assertThat(again.out()).doesNotContain("unchanged");

        CliRun rebuilt = CliRun.run("index", "--model", model, "--images", dir.toString(), "--index", index.toString(),
                "--rebuild", "--json");
        assertThat(rebuilt.exit()).as(rebuilt.err()).isZero();
        assertThat(rebuilt.json().get("added").asInt()).isEqualTo(n);
        assertThat(rebuilt.json().get("size").asInt()).isEqualTo(n);
        assertThat(CliRun.run("index", "--check", "--index", index.toString()).exit()).isZero();
        assertThat(CliRun.run("search", "--index", index.toString(), "--text", "a dog").exit()).isZero();

        // --rebuild deletes an index, never other files; --check takes no indexing options.
        Path mixed = Files.createDirectories(tmp.resolve("mixed"));
        Files.writeString(mixed.resolve("notes.txt"), "mine");
        CliRun refused = CliRun.run("index", "--model", model, "--images", dir.toString(), "--index", mixed.toString(), "--rebuild");
        assertThat(refused.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(oneLine(refused)).contains("notes.txt");
        assertThat(mixed.resolve("notes.txt")).exists();
        assertThat(CliRun.run("index", "--check", "--index", index.toString(), "--images", dir.toString()).exit())
                .isEqualTo(Main.EXIT_USAGE);
        assertThat(CliRun.run("index", "--index", index.toString()).exit()).isEqualTo(Main.EXIT_USAGE);
        CliRun none = CliRun.run("index", "--check", "--index", tmp.resolve("nothing").toString());
        assertThat(none.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(oneLine(none)).contains("nothing");
    }

    @ParameterizedTest
    @MethodSource("sets")
    void aModelIsKnownByItsWeightsWhereverItsFolderLies(FixtureSet set, @TempDir Path tmp) throws Exception {
        Path dir = photos(set, tmp);
        Path first = copyModel(set.model("tiny-itm"), tmp.resolve("models/itm"));
        Path index = tmp.resolve("index");
        assertThat(CliRun.run("index", "--model", first.toString(), "--images", dir.toString(), "--index", index.toString())
                .exit()).isZero();

        Path moved = tmp.resolve("elsewhere/itm-renamed");
        Files.createDirectories(moved.getParent());
        Files.move(first, moved);
        CliRun lost = CliRun.run("search", "--index", index.toString(), "--text", "a dog");
        assertThat(lost.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(oneLine(lost)).contains(first.toString()).contains("not there any more").contains("--model");
        CliRun found = CliRun.run("search", "--index", index.toString(), "--text", "a dog", "--model", moved.toString());
        assertThat(found.exit()).as(found.err()).isZero();
        assertThat(found.err()).isEmpty();
        // 'blip index' with the moved folder takes it as the same model and records where it is now.
        CliRun recorded = CliRun.run("index", "--model", moved.toString(), "--images", dir.toString(), "--index",
                index.toString(), "--json");
        assertThat(recorded.exit()).as(recorded.err()).isZero();
        assertThat(recorded.json().get("model").asText()).isEqualTo(moved.toAbsolutePath().toString());
        assertThat(recorded.json().get("added").asInt()).isZero();
        assertThat(CliRun.run("search", "--index", index.toString(), "--text", "a dog").exit()).isZero();

        // The same folder with other weights (one value changed) is another model: refused, or
        // with --force-model used with a warning.
        Path changed = copyModel(moved, tmp.resolve("models/changed"));
        Path weights = changed.resolve("model.safetensors");
        try (RandomAccessFile f = new RandomAccessFile(weights.toFile(), "rw")) {
            f.seek(f.length() - 2);
            int b = f.read();
            f.seek(f.length() - 2);
            f.write(b ^ 1);
        }
        CliRun other = CliRun.run("search", "--index", index.toString(), "--text", "a dog", "--model", changed.toString());
        assertThat(other.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(oneLine(other)).contains(moved.toString()).contains(changed.toString()).contains("--force-model");
        CliRun forced = CliRun.run("search", "--index", index.toString(), "--text", "a dog", "--model", changed.toString(),
                "--force-model");
        assertThat(forced.exit()).as(forced.err()).isZero();
        assertThat(oneLine(forced)).contains("warning").contains(changed.toString());
        CliRun indexOther = CliRun.run("index", "--model", changed.toString(), "--images", dir.toString(), "--index",
                index.toString());
        assertThat(indexOther.exit()).isEqualTo(Main.EXIT_USAGE);
        CliRun indexForced = CliRun.run("index", "--model", changed.toString(), "--images", dir.toString(), "--index",
                index.toString(), "--force-model");
        assertThat(indexForced.exit()).as(indexForced.err()).isZero();
        assertThat(oneLine(indexForced)).contains("warning").contains("now records " + changed.toAbsolutePath());
    }

    private static Path copyModel(Path from, Path to) throws Exception {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
                to.resolve(f.getFileName()).toFile().setWritable(true);
            }
        }
        return to;
    }

    @ParameterizedTest
    @MethodSource("sets")
    void controlCharactersInFileNamesDoNotBreakPlainTextLines(FixtureSet set, @TempDir Path tmp) throws Exception {
        // Tabs, a newline and ESC are legal in Unix file names (not on Windows).
        org.junit.jupiter.api.Assumptions.assumeTrue(File.separatorChar == '/');
        String image = strings(set.expected().get("itm").get("images")).getFirst();
        Path dir = Files.createDirectories(tmp.resolve("photos"));
        String name = "a\tb\nc\u001b[31md.png";
        Files.copy(set.image(image), dir.resolve(name));
        Files.copy(set.image(image), dir.resolve("plain.png"));
        String shown = "a\\tb\\nc\\x1b[31md.png";
        String itm = set.model("tiny-itm").toString();

        CliRun caption = CliRun.run("caption", "--model", set.model("tiny-caption").toString(), dir.toString());
        assertThat(caption.exit()).as(caption.err()).isZero();
        assertThat(caption.out().lines().toList()).hasSize(2)
                .allMatch(l -> l.split("\t").length == 2 && !l.contains("\u001b"))
                .anyMatch(l -> l.startsWith(dir.resolve(shown).toString() + "\t"));
        CliRun json = CliRun.run("caption", "--model", set.model("tiny-caption").toString(), dir.toString(), "--json");
        assertThat(json.json().get("results").findValuesAsText("image")).contains(dir.resolve(name).toString());

        CliRun vqa = CliRun.run("vqa", "--model", set.model("tiny-vqa").toString(), dir.toString(), "-q", "what is it?");
        assertThat(vqa.exit()).as(vqa.err()).isZero();
        assertThat(vqa.out().lines().toList()).hasSize(2).allMatch(l -> l.split("\t").length == 3);
        CliRun match = CliRun.run("match", "--model", itm, dir.toString(), "-t", "a\ttab");
        assertThat(match.out().lines().toList()).hasSize(3).allMatch(l -> l.split("\t").length == 4)
                .anyMatch(l -> l.contains("\ta\\ttab\t"));
        CliRun embed = CliRun.run("embed", "--model", itm, dir.toString());
        assertThat(embed.out().lines().toList()).hasSize(2).allMatch(l -> l.split("\t").length == 2);
        CliRun classify = CliRun.run("classify", "--model", itm, dir.toString(), "--labels", "a,b");
        assertThat(classify.out().lines().toList()).hasSize(2).allMatch(l -> l.split("\t").length == 3);

        Path index = tmp.resolve("index\tx");
        CliRun built = CliRun.run("index", "--model", itm, "--images", dir.toString(), "--index", index.toString());
        assertThat(built.exit()).as(built.err()).isZero();
        assertThat(built.out().lines().toList()).singleElement().asString().startsWith(tmp.resolve("index\\tx").toString());
        CliRun search = CliRun.run("search", "--index", index.toString(), "--text", "a dog");
        assertThat(search.exit()).as(search.err()).isZero();
        assertThat(search.out().lines().toList()).hasSize(3).allMatch(l -> l.split("\t").length == 3)
                .anyMatch(l -> l.endsWith("\t" + dir.resolve(shown).toAbsolutePath()));
        CliRun searchJson = CliRun.run("search", "--index", index.toString(), "--text", "a dog", "--json");
        assertThat(searchJson.json().get("results").findValuesAsText("path")).contains(dir.resolve(name).toAbsolutePath().toString());
    }
}
