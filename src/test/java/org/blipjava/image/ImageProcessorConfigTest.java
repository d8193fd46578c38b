package org.blipjava.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.blipjava.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageProcessorConfigTest {

    private static Path write(Path dir, String json) throws IOException {
        Path f = dir.resolve("preprocessor_config.json");
        Files.writeString(f, json);
        return f;
    }

    @Test
    void defaultsAreThoseOfBlipImageProcessor() {
        ImageProcessorConfig d = ImageProcessorConfig.defaults();
        assertThat(d.height()).isEqualTo(384);
        assertThat(d.width()).isEqualTo(384);
        assertThat(d.resample()).isEqualTo(ResampleFilter.BICUBIC);
        assertThat(d.doResize()).isTrue();
        assertThat(d.doRescale()).isTrue();
        assertThat(d.rescaleFactor()).isEqualTo(1.0 / 255);
        assertThat(d.doNormalize()).isTrue();
        assertThat(d.imageMean()).containsExactly(0.48145466, 0.4578275, 0.40821073);
        assertThat(d.imageStd()).containsExactly(0.26862954, 0.26130258, 0.27577711);
        assertThat(d.doConvertRgb()).isTrue();
    }

    @Test
    void readsCurrentAndLegacySizeForms(@TempDir Path tmp) throws IOException {
        ImageProcessorConfig dict = ImageProcessorConfig.read(write(tmp,
                "{\"size\": {\"height\": 48, \"width\": 80}, \"resample\": 2, \"do_normalize\": false,"
                        + " \"image_mean\": [0.5, 0.5, 0.5], \"image_std\": 0.25, \"rescale_factor\": 0.5}"));
        assertThat(dict.height()).isEqualTo(48);
        assertThat(dict.width()).isEqualTo(80);
        assertThat(dict.resample()).isEqualTo(ResampleFilter.BILINEAR);
        assertThat(dict.doNormalize()).isFalse();
        assertThat(dict.imageStd()).containsExactly(0.25, 0.25, 0.25);
        assertThat(dict.rescaleFactor()).isEqualTo(0.5);

        ImageProcessorConfig legacy = ImageProcessorConfig.read(write(tmp, "{\"size\": 224}"));
        assertThat(legacy.height()).isEqualTo(224);
        assertThat(legacy.width()).isEqualTo(224);
        // A directory is taken to hold preprocessor_config.json.
        assertThat(ImageProcessorConfig.read(tmp)).isEqualTo(legacy);
        assertThat(legacy.withSize(32, 16).height()).isEqualTo(32);
        assertThat(legacy.withSize(32, 16).width()).isEqualTo(16);
    }

    @Test
    void refusesWhatTheReferenceCannotUseNamingFileAndField(@TempDir Path tmp) throws IOException {
        Path f = write(tmp, "{\"size\": {\"shortest_edge\": 384}}");
        assertThatThrownBy(() -> ImageProcessorConfig.read(f)).isInstanceOf(ConfigException.class)
                .hasMessageContaining(f.toString()).hasMessageContaining("'size'");
        Path g = write(tmp, "{\"resample\": 1}");
        assertThatThrownBy(() -> ImageProcessorConfig.read(g)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("'resample'").hasMessageContaining("lanczos");
        Path h = write(tmp, "{\"image_mean\": [0.5, 0.5]}");
        assertThatThrownBy(() -> ImageProcessorConfig.read(h)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("'image_mean'");
        Path i = write(tmp, "{\"do_resize\": \"yes\"}");
        assertThatThrownBy(() -> ImageProcessorConfig.read(i)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("'do_resize'");
        assertThatThrownBy(() -> ImageProcessorConfig.read(tmp.resolve("nope")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("preprocessor_config.json");
    }
}
