package org.blipjava.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.blipjava.testing.FixtureInputs.strings;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.blipjava.testing.ChildJvm;
import org.blipjava.testing.Fixtures;
import org.blipjava.testing.Fixtures.FixtureSet;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * File names that are not valid in the JVM's file name encoding, in fresh JVMs under both locales
 * a user meets: {@code LANG} unset (Java's file name encoding is then ASCII, so every non-ASCII
 * name is undecodable) and {@code LANG=C.UTF-8} (a Latin-1 name is not valid UTF-8). Every
 * command reads such a file from a listed folder; the index keys it the same under both, so
 * switching locales re-embeds nothing.
 */
class FileNameEncodingTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The locales: null for LANG (and LC_ALL, LC_CTYPE) unset. */
    private static final List<String> LOCALES = java.util.Arrays.asList(null, "C.UTF-8");

    static Stream<FixtureSet> sets() {
        return Fixtures.parameters(Fixtures.Kind.BLIP);
    }

    private record Run(int exit, String out, String err) {
        JsonNode json() throws Exception {
            return JSON.readTree(out);
        }
    }

    /** {@code blip args...} in a child JVM under {@code lang}; an argument {@code $'...'} is passed as raw bytes through sh. */
    private static Run blip(String lang, Path tmp, String... args) throws Exception {
        List<String> cmd = ChildJvm.command(Main.class, List.of(args));
        // Through sh, so that an argument may be raw bytes (printf) that no Java string could pass.
        StringBuilder script = new StringBuilder("exec");
        for (String c : cmd) {
            script.append(' ').append(c.startsWith("$'") ? "\"$(printf '" + c.substring(2, c.length() - 1) + "')\""
                    : "'" + c.replace("'", "'\\''") + "'");
        }
        ProcessBuilder pb = new ProcessBuilder("sh", "-c", script.toString());
        pb.environment().remove("LANG");
        pb.environment().remove("LC_ALL");
        pb.environment().remove("LC_CTYPE");
        if (lang != null) {
            pb.environment().put("LANG", lang);
        }
        Path out = tmp.resolve("out.txt");
        Path err = tmp.resolve("err.txt");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("the child JVM ends").isTrue();
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.ISO_8859_1),
                Files.readString(err, StandardCharsets.ISO_8859_1));
    }

    @ParameterizedTest
    @MethodSource("sets")
    void namesTheEncodingCannotHoldAreReadByEveryCommandUnderEitherLocale(FixtureSet set, @TempDir Path tmp) throws Exception {
        assumeTrue(File.separatorChar == '/', "file names are bytes on Unix only");
        List<String> images = strings(set.expected().get("itm").get("images"));
        Path dir = Files.createDirectories(tmp.resolve("photos"));
        // caf<E9>.png: Latin-1, not UTF-8; the URI makes its bytes whatever this JVM's locale.
        Path latin1 = Path.of(URI.create(dir.toAbsolutePath().toUri() + "caf%E9.png"));
        Files.copy(set.image(images.get(0)), latin1);
        // café.png in UTF-8: undecodable only with LANG unset.
        Path utf8 = Path.of(URI.create(dir.toAbsolutePath().toUri() + "caf%C3%A9-utf8.png"));
        Files.copy(set.image(images.get(1)), utf8);
        Files.copy(set.image(images.get(2)), dir.resolve("plain.png"));
        String latin1Uri = dir.toAbsolutePath().toUri() + "caf%E9.png";
        Path index = tmp.resolve("index");
        String itm = set.model("tiny-itm").toString();
        Path work = Files.createDirectories(tmp.resolve("work"));

        List<String> seen = new ArrayList<>();
        for (String lang : LOCALES) {
            String where = "LANG=" + lang;
            Run indexed = blip(lang, work, "index", "--model", itm, "--images", dir.toString(), "--index", index.toString(),
                    "--json");
            assertThat(indexed.exit()).as(where + ": " + indexed.err()).isZero();
            JsonNode report = indexed.json();
            assertThat(report.get("size").asInt()).as(where).isEqualTo(3);
            // Keys do not depend on the locale: the second locale finds everything unchanged.
            assertThat(report.get("unchanged").asInt()).as(where).isEqualTo(lang == null ? 0 : 3);

            Run search = blip(lang, work, "search", "--index", index.toString(), "--text", "a photo", "--json",
                    "--rerank", "3");
            assertThat(search.exit()).as(where + ": " + search.err()).isZero();
            assertThat(search.json().get("results").findValuesAsText("path")).as(where).contains(latin1Uri);

            Run caption = blip(lang, work, "caption", "--model", set.model("tiny-caption").toString(), dir.toString());
            assertThat(caption.exit()).as(where + ": " + caption.err()).isZero();
            assertThat(caption.out().lines().toList()).as(where).hasSize(3).anyMatch(l -> l.startsWith(latin1Uri + "\t"));
            // The captions (the names are printed in each locale's own encoding).
            seen.add(caption.out().lines().map(l -> l.substring(l.indexOf('\t'))).sorted().toList().toString());

            // The name printed is accepted back. Given on the command line, the name itself reaches
            // Java garbled: it is listed with why, and the others go on.
            Run embed = blip(lang, work, "embed", "--model", itm, latin1Uri, "$'" + dir + "/caf\\351.png'",
                    dir.resolve("plain.png").toString());
            assertThat(embed.exit()).as(where + ": " + embed.err()).isEqualTo(1);
            assertThat(embed.out().lines().toList()).as(where).hasSize(2)
                    .anyMatch(l -> l.startsWith(latin1Uri + "\t")).anyMatch(l -> l.startsWith(dir + "/plain.png\t"));
            // (The JVM itself warns about the incubator module on stderr too.)
            assertThat(embed.err().lines().filter(l -> l.startsWith("blip:")).toList()).as(where).singleElement().asString()
                    .contains("no such file").contains("not valid in this system's file name encoding")
                    .contains("folder").contains("file: URI");
        }
        assertThat(seen.get(0)).as("the same captions under both locales").isEqualTo(seen.get(1));
    }

    @ParameterizedTest
    @MethodSource("sets")
    void aListFileNamesFilesInAnyEncoding(FixtureSet set, @TempDir Path tmp) throws Exception {
        assumeTrue(File.separatorChar == '/', "file names are bytes on Unix only");
        List<String> images = strings(set.expected().get("itm").get("images"));
        Path dir = Files.createDirectories(tmp.resolve("photos"));
        Files.copy(set.image(images.get(0)), Path.of(URI.create(dir.toAbsolutePath().toUri() + "caf%E9.png")));
        Files.copy(set.image(images.get(1)), dir.resolve("plain.png"));
        Path list = tmp.resolve("photos.txt");
        Files.write(list, new byte[] {'p', 'h', 'o', 't', 'o', 's', '/', 'c', 'a', 'f', (byte) 0xE9, '.', 'p', 'n', 'g', '\r', '\n',
            '#', ' ', (byte) 0xFF, '\n', ' ', 'p', 'h', 'o', 't', 'o', 's', '/', 'p', 'l', 'a', 'i', 'n', '.', 'p', 'n', 'g', '\n'});
        CliRun r = CliRun.run("index", "--model", set.model("tiny-itm").toString(), "--images", list.toString(),
                "--index", tmp.resolve("index").toString(), "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.json().get("added").asInt()).isEqualTo(2);
    }
}
