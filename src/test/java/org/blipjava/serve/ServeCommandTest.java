package org.blipjava.serve;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.blipjava.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code blip serve}'s flags: help, and bad values refused with one line before any model loads. */
class ServeCommandTest {
    @TempDir
    Path tmp;

    private record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void helpNamesTheEndpointsAndLimits() {
        Run r = run("serve", "--help");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("/v1/caption", "--max-upload-mb", "--api-key-file", "--queue", "127.0.0.1");
    }

    @Test
    void badFlagsAreRefusedBeforeLoading() throws Exception {
        Run noKey = run("serve", "--model", "/nonexistent/model", "--api-key-file", tmp.resolve("missing").toString());
        assertThat(noKey.code()).isEqualTo(Main.EXIT_USAGE);
        assertThat(noKey.err()).contains("--api-key-file").contains("cannot be read").doesNotContain("Exception");
        Path empty = Files.writeString(tmp.resolve("key"), "\n");
        assertThat(run("serve", "--api-key-file", empty.toString()).err()).contains("holds no key");
        Run port = run("serve", "--port", "70000");
        assertThat(port.code()).isEqualTo(Main.EXIT_USAGE);
        assertThat(port.err()).contains("port must be 0..65535");
        assertThat(run("serve", "--queue", "0").err()).contains("queue capacity must be at least 1");
    }
}
