package org.blipjava.retrieval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Index keys of file names whatever their bytes. A name that is not valid UTF-8 is made here from
 * a {@code file:} URI, which the JVM turns into the raw bytes under any locale.
 */
class PathKeysTest {
    /** A file named {@code caf<0xE9>.png} (Latin-1), not valid UTF-8. */
    static Path latin1File(Path dir) throws Exception {
        Path p = Path.of(URI.create(dir.toAbsolutePath().toUri() + "caf%E9.png"));
        Files.write(p, new byte[] {1, 2, 3});
        return p;
    }

    @Test
    void plainNamesAreTheirAbsoluteNormalizedPath(@TempDir Path tmp) throws Exception {
        Path f = Files.writeString(tmp.resolve("a b.png"), "x");
        Path relative = Path.of("").toAbsolutePath().relativize(f);
        assertThat(PathKeys.key(relative)).isEqualTo(f.toString());
        assertThat(PathKeys.key(tmp.resolve("sub/../a b.png"))).isEqualTo(f.toString());
        assertThat(PathKeys.path(f.toString())).isEqualTo(f);
        assertThat(PathKeys.spellable(f)).isTrue();
        assertThat(PathKeys.display(relative)).isEqualTo(relative.toString());
    }

    @Test
    void aNameThatIsNotUtf8IsKeyedByAUriOfItsBytesAndFoundAgain(@TempDir Path tmp) throws Exception {
        assumeTrue(File.separatorChar == '/', "file names are bytes on Unix only");
        Path f = latin1File(tmp);
        try (Stream<Path> listed = Files.list(tmp)) {
            Path found = listed.findFirst().orElseThrow();
            String key = PathKeys.key(found);
            assertThat(key).startsWith("file:///").endsWith("/caf%E9.png");
            assertThat(PathKeys.path(key)).isEqualTo(f);
            assertThat(Files.readAllBytes(PathKeys.path(key))).containsExactly(1, 2, 3);
            // No string the JVM makes of it names it (U+FFFD, or nothing with LANG unset).
            assertThat(PathKeys.spellable(found)).isFalse();
            assertThat(PathKeys.display(found)).isEqualTo(key);
        }
    }

    @Test
    void aValidUtf8NameIsItsTextUnderAnyLocale(@TempDir Path tmp) throws Exception {
        assumeTrue(File.separatorChar == '/', "file names are bytes on Unix only");
        Path f = Path.of(URI.create(tmp.toAbsolutePath().toUri() + "caf%C3%A9.png"));
        Files.writeString(f, "x");
        String key = PathKeys.key(f);
        assertThat(key).isEqualTo(tmp.toAbsolutePath() + "/café.png");
        // Under LANG=C.UTF-8 Path.of(key) is the file; with LANG unset it is no path, and the
        // key's UTF-8 bytes are taken: either way the same file.
        assertThat(PathKeys.path(key)).isEqualTo(f);
    }

    @Test
    void listLinesOfAnyEncodingResolveAgainstTheirFolder(@TempDir Path tmp) throws Exception {
        assumeTrue(File.separatorChar == '/', "file names are bytes on Unix only");
        Path f = latin1File(tmp);
        Path resolved = PathKeys.resolve(tmp, new byte[] {'c', 'a', 'f', (byte) 0xE9, '.', 'p', 'n', 'g'});
        assertThat(resolved).isEqualTo(f);
        assertThat(PathKeys.resolve(tmp, "sub/../x.png".getBytes(StandardCharsets.UTF_8)))
                .isEqualTo(tmp.toAbsolutePath().resolve("x.png"));
        assertThat(PathKeys.resolve(Path.of("/elsewhere"), f.toUri().getRawPath().replace("%E9", "\u00e9")
                .getBytes(StandardCharsets.ISO_8859_1))).isEqualTo(f);
        assertThatThrownBy(() -> PathKeys.resolve(tmp, new byte[] {'a', 0, 'b'}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("NUL");
        assertThatThrownBy(() -> PathKeys.path("file://host/x")).isInstanceOf(IllegalArgumentException.class);
        for (String ok : List.of("file:///a%20b/c.png", "/a b/c.png")) {
            assertThat(PathKeys.path(ok).toString()).isEqualTo("/a b/c.png");
        }
    }
}
