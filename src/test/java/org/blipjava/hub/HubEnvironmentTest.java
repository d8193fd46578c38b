package org.blipjava.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HubEnvironmentTest {
    @TempDir
    Path home;

    @Test
    void defaultsFollowHuggingfaceHub() {
        HubEnvironment env = HubEnvironment.fromVariables(Map.of(), home);
        assertThat(env.cacheDir()).isEqualTo(home.resolve(".cache/huggingface/hub"));
        assertThat(env.endpoint()).isEqualTo(URI.create("https://huggingface.co"));
        assertThat(env.token()).isNull();
        assertThat(env.offline()).isFalse();
    }

    @Test
    void hfHomeMovesCacheAndTokenFile() throws IOException {
        Path hfHome = Files.createDirectories(home.resolve("hf"));
        Files.writeString(hfHome.resolve("token"), "hf_from_file\n");
        HubEnvironment env = HubEnvironment.fromVariables(Map.of("HF_HOME", hfHome.toString()), home);
        assertThat(env.cacheDir()).isEqualTo(hfHome.resolve("hub"));
        assertThat(env.token()).isEqualTo("hf_from_file");
    }

    @Test
    void explicitVariablesWin() throws IOException {
        Path hfHome = Files.createDirectories(home.resolve("hf"));
        Files.writeString(hfHome.resolve("token"), "hf_from_file");
        HubEnvironment env = HubEnvironment.fromVariables(Map.of(
                "HF_HOME", hfHome.toString(),
                "HF_HUB_CACHE", "~/elsewhere",
                "HF_TOKEN", "hf_from_env",
                "HF_ENDPOINT", "http://mirror.example:8080/",
                "HF_HUB_OFFLINE", "1"), home);
        assertThat(env.cacheDir()).isEqualTo(home.resolve("elsewhere"));
        assertThat(env.token()).isEqualTo("hf_from_env");
        assertThat(env.endpoint()).isEqualTo(URI.create("http://mirror.example:8080"));
        assertThat(env.offline()).isTrue();
    }

    @Test
    void xdgCacheHomeAndLegacyNames() {
        HubEnvironment env = HubEnvironment.fromVariables(Map.of(
                "XDG_CACHE_HOME", home.resolve("xdg").toString(),
                "HUGGING_FACE_HUB_TOKEN", "hf_legacy"), home);
        assertThat(env.cacheDir()).isEqualTo(home.resolve("xdg/huggingface/hub"));
        assertThat(env.token()).isEqualTo("hf_legacy");
        assertThat(HubEnvironment.fromVariables(Map.of("HUGGINGFACE_HUB_CACHE", home.resolve("old").toString()), home)
                .cacheDir()).isEqualTo(home.resolve("old"));
    }

    @Test
    void offlineAcceptsTheValuesPythonAccepts() {
        for (String on : new String[] {"1", "true", "YES", "on"}) {
            assertThat(HubEnvironment.fromVariables(Map.of("HF_HUB_OFFLINE", on), home).offline()).as(on).isTrue();
        }
        for (String off : new String[] {"0", "false", "no", ""}) {
            assertThat(HubEnvironment.fromVariables(Map.of("HF_HUB_OFFLINE", off), home).offline()).as(off).isFalse();
        }
    }

    @Test
    void rejectsAnEndpointThatIsNotHttp() {
        assertThatThrownBy(() -> HubEnvironment.fromVariables(Map.of("HF_ENDPOINT", "ftp://hub.example"), home))
                .isInstanceOf(HubException.class)
                .hasMessageContaining("HF_ENDPOINT");
    }

    @Test
    void neverPrintsTheToken() {
        HubEnvironment env = new HubEnvironment(home, "hf_secret", HubEnvironment.DEFAULT_ENDPOINT, false);
        assertThat(env.toString()).doesNotContain("hf_secret").contains("token=set");
        assertThat(env.withToken("  ").token()).isNull();
        assertThat(env.withOffline(true).offline()).isTrue();
    }
}
