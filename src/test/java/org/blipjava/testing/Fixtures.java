package org.blipjava.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.checkpoint.TensorData;
import org.junit.jupiter.api.Assumptions;

/**
 * Locates the reference fixture sets and reads them.
 *
 * <p>{@code BLIP_FIXTURES}, when set, is either one fixture set (a directory holding
 * {@code expected.json}) or a directory of such sets. Otherwise {@code ../shared/fixtures}
 * relative to the project root is used. Tests must be driven by what {@code expected.json}
 * lists, never by file names, counts or values written into the test. Each set's kind (BLIP,
 * CLIP, FLAVA) is recognised from its expected.json, so a directory may hold sets of several
 * kinds and each test takes the sets it can check.
 */
public final class Fixtures {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Fixtures() {}

    /** The root the fixtures are read from. */
    public static Path root() {
        String env = System.getenv("BLIP_FIXTURES");
        if (env != null && !env.isBlank()) {
            return Path.of(env).toAbsolutePath().normalize();
        }
        return Path.of("..", "shared", "fixtures").toAbsolutePath().normalize();
    }

    /** What a fixture set holds, recognised from the top-level keys of its {@code expected.json}. */
    public enum Kind {
        /** BLIP models and their reference outputs ({@code caption}, {@code vqa}, {@code itm}, {@code contrastive}). */
        BLIP("caption", "vqa", "itm", "contrastive"),
        /** CLIP models, tokenizer and image processor ({@code clip}, {@code clip_tokenize}). */
        CLIP("clip", "clip_tokenize"),
        /** FLAVA models and image processor ({@code flava}). */
        FLAVA("flava");

        private final List<String> keys;

        Kind(String... keys) {
            this.keys = List.of(keys);
        }

        /** Whether a parsed expected.json holds results of this kind. */
        public boolean describes(JsonNode expected) {
            return keys.stream().anyMatch(expected::has);
        }
    }

    /**
     * Every fixture set of {@code kind} (directories with an expected.json that holds such results),
     * in name order. When there is none the calling test is aborted, so JUnit reports it as
     * skipped (naming the root it searched) instead of letting it vanish or fail.
     */
    public static List<FixtureSet> sets(Kind kind) {
        List<FixtureSet> out = find(kind);
        if (out.isEmpty()) {
            Assumptions.abort(missing(kind));
        }
        return out;
    }

    /**
     * The sets of {@code kind} as the arguments of a parameterized test. When there is none, one
     * placeholder stands in whose first use aborts the test, so the missing set is reported as a
     * skipped test (an empty or aborted argument source would make the tests vanish).
     */
    public static Stream<FixtureSet> parameters(Kind kind) {
        List<FixtureSet> out = find(kind);
        return out.isEmpty() ? Stream.of(new FixtureSet(null, missing(kind))) : out.stream();
    }

    private static List<FixtureSet> find(Kind kind) {
        return allSets(root()).stream().filter(s -> s.is(kind)).toList();
    }

    private static String missing(Kind kind) {
        Path root = root();
        List<FixtureSet> all = allSets(root);
        return "no " + kind + " fixture set under " + root + " (found "
                + (all.isEmpty() ? "no set at all" : all.stream().map(s -> s.name() + " " + s.kinds()).toList())
                + "); set BLIP_FIXTURES to a fixture set or a directory of sets";
    }

    /** Every directory with an expected.json: {@code root} itself, or its subdirectories. */
    private static List<FixtureSet> allSets(Path root) {
        List<FixtureSet> out = new ArrayList<>();
        if (Files.isRegularFile(root.resolve("expected.json"))) {
            out.add(new FixtureSet(root));
        } else if (Files.isDirectory(root)) {
            try (Stream<Path> s = Files.list(root)) {
                s.filter(p -> Files.isRegularFile(p.resolve("expected.json"))).sorted()
                        .forEach(p -> out.add(new FixtureSet(p)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }

    /** The metrics fixture directory ({@code <root>/metrics}, or beside a single set), or null. */
    public static Path metricsDir() {
        Path root = root();
        for (Path p : List.of(root.resolve("metrics"), root.resolveSibling("metrics"))) {
            if (Files.isDirectory(p)) {
                return p;
            }
        }
        return null;
    }

    /**
     * The metrics fixture files ({@code *.json} in {@link #metricsDir()}), in name order. When
     * there is no metrics directory the calling test is aborted (reported skipped, with the root
     * searched); a metrics directory without a JSON file is a broken fixture layout and fails.
     */
    public static List<Path> metricsFiles() {
        Path dir = metricsDir();
        if (dir == null) {
            Assumptions.abort(missingMetrics());
        }
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> out = s.filter(p -> p.getFileName().toString().endsWith(".json") && Files.isRegularFile(p))
                    .sorted().toList();
            if (out.isEmpty()) {
                throw new AssertionError("no metrics fixture (*.json) in " + dir);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The metrics fixture files as the arguments of a parameterized test. When there is no metrics
     * directory, one placeholder stands in whose {@link MetricsFile#path()} aborts the test, so
     * every parameterized test is reported skipped (an aborted argument source makes it vanish).
     */
    public static Stream<MetricsFile> metricsParameters() {
        if (metricsDir() == null) {
            return Stream.of(new MetricsFile(null, missingMetrics()));
        }
        return metricsFiles().stream().map(p -> new MetricsFile(p, null));
    }

    private static String missingMetrics() {
        Path root = root();
        return "no metrics fixture directory at " + root.resolve("metrics") + " or " + root.resolveSibling("metrics")
                + "; set BLIP_FIXTURES to a directory of sets holding metrics/ (or to a set beside it)";
    }

    /** One metrics fixture file, or the placeholder for a missing metrics directory. */
    public static final class MetricsFile {
        private final Path path;
        private final String absent;

        MetricsFile(Path path, String absent) {
            this.path = path;
            this.absent = absent;
        }

        /** The file; aborts the calling test when the metrics fixtures are missing. */
        public Path path() {
            if (path == null) {
                Assumptions.abort(absent);
            }
            return path;
        }

        @Override
        public String toString() {
            return path == null ? "(missing)" : path.getFileName().toString();
        }
    }

    /** One fixture set: expected.json, expected.safetensors, images/, models/, tokenizer/. */
    public static final class FixtureSet {
        private final Path dir;
        private final String absent;
        private JsonNode expected;

        FixtureSet(Path dir) {
            this(dir, null);
        }

        /** A set at {@code dir}, or (dir null) a placeholder for a missing set that aborts when used. */
        FixtureSet(Path dir, String absent) {
            this.dir = dir;
            this.absent = absent;
        }

        public Path dir() {
            requirePresent();
            return dir;
        }

        private void requirePresent() {
            if (dir == null) {
                Assumptions.abort(absent);
            }
        }

        public String name() {
            return dir == null ? "(missing)" : dir.getFileName().toString();
        }

        /** Whether this set holds results of {@code kind}. */
        public boolean is(Kind kind) {
            return kind.describes(expected());
        }

        /** The kinds of results this set holds. */
        public List<Kind> kinds() {
            return Arrays.stream(Kind.values()).filter(this::is).toList();
        }

        /** Parsed expected.json (cached). */
        public synchronized JsonNode expected() {
            requirePresent();
            if (expected == null) {
                try {
                    expected = JSON.readTree(dir.resolve("expected.json").toFile());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            return expected;
        }

        /** Opens expected.safetensors; the caller closes it. */
        public SafetensorsFile openTensors() {
            requirePresent();
            try {
                return SafetensorsFile.open(dir.resolve("expected.safetensors"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        public Path image(String name) {
            return dir().resolve("images").resolve(name);
        }

        public Path model(String name) {
            return dir().resolve("models").resolve(name);
        }

        public Path tokenizerDir() {
            return dir().resolve("tokenizer");
        }

        @Override
        public String toString() {
            return name();
        }
    }

    /** Reads a float tensor from the expected file (copying it). */
    public static float[] floats(SafetensorsFile f, String name) {
        TensorData t = f.get(name);
        return t.toFloatArray();
    }
}
