package org.blipjava.hub;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ConsoleProgressListenerTest {
    @Test
    void drawsABarPerFileOnTheGivenStream() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        ConsoleProgressListener listener = new ConsoleProgressListener(out);
        listener.start("model.safetensors", 4L << 20);
        listener.progress(2L << 20);
        listener.progress(4L << 20);
        listener.done();
        String shown = bytes.toString(StandardCharsets.UTF_8);
        assertThat(shown).contains("model.safetensors").contains("100%").contains("MiB");
    }

    @Test
    void forcedListenerDrawsEvenWithoutATerminal() {
        assertThat(ConsoleProgressListener.forStderr(true)).isInstanceOf(ConsoleProgressListener.class);
    }
}
