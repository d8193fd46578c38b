package org.blipjava.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RepoIdTest {
    @Test
    void acceptsHubIdsAndNamesTheirCacheFolder() {
        assertThat(new RepoId("Salesforce/blip-image-captioning-base").cacheFolderName())
                .isEqualTo("models--Salesforce--blip-image-captioning-base");
        assertThat(new RepoId("gpt2").cacheFolderName()).isEqualTo("models--gpt2");
        assertThat(new RepoId("a_b/c.d-e_1").id()).isEqualTo("a_b/c.d-e_1");
    }

    @Test
    void rejectsWhatTheHubRejects() {
        for (String bad : new String[] {"", "/name", "org/", "org/.name", "org/name-", "a--b/c", "a/b..c",
                "org/name.git", "a/b/c", "org/na me", "org/näme", "x".repeat(97)}) {
            assertThatThrownBy(() -> new RepoId(bad)).as(bad)
                    .isInstanceOf(ModelNotFoundException.class)
                    .hasMessageContaining("not a valid Hub repository id");
        }
        assertThat(new RepoId("x".repeat(96)).id()).hasSize(96);
    }
}
