package org.blipjava.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The escaping of file names and texts in plain-text output. */
class PlainTextTest {
    @Test
    void controlCharactersAreEscapedAndEverythingElseKept() {
        assertThat(PlainText.field("photos/beach day.jpg")).isEqualTo("photos/beach day.jpg");
        assertThat(PlainText.field("café 東京 ✓.png")).isEqualTo("café 東京 ✓.png");
        assertThat(PlainText.field("a\tb\nc\rd\u001b[31me\u0000f\u007fg\u0085h\u2028i\u202ej"))
                .isEqualTo("a\\tb\\nc\\rd\\x1b[31me\\x00f\\x7fg\\x85h\\u2028i\\u202ej");
        String backslash = File.separatorChar == '\\' ? "a\\b" : "a\\\\b";
        assertThat(PlainText.field("a\\b")).isEqualTo(backslash);
        assertThat(PlainText.path(Path.of("x\ty.png"))).isEqualTo("x\\ty.png");
        // A message keeps its backslashes: it is read, not parsed.
        assertThat(PlainText.message("C:\\x\ty\nz")).isEqualTo("C:\\x\\ty\\nz");
    }
}
