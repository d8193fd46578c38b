package org.blipjava.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;

/** One run of the real command line ({@link Main#run}) with its exit code and captured output. */
record CliRun(int exit, String out, String err) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Runs {@code blip args...} in-process, capturing stdout and stderr. */
    static CliRun run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new CliRun(exit, out.toString(), err.toString());
    }

    /** Stdout parsed as JSON (for --json runs). */
    JsonNode json() throws Exception {
        return JSON.readTree(out);
    }
}
