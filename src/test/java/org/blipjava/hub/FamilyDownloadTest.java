package org.blipjava.hub;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.blipjava.tasks.ImageTextModel;
import org.blipjava.tasks.LoadOptions;
import org.blipjava.tasks.ModelFamily;
import org.blipjava.testing.Fixtures;
import org.blipjava.testing.Fixtures.FixtureSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Hub id of any family downloads what that family needs: config.json first, then CLIP's
 * vocab.json and merges.txt, or BLIP's and FLAVA's vocab.txt, and the weights; the snapshot then
 * loads. The repositories are the fixture's model folders served from a loopback Hub.
 */
class FamilyDownloadTest {
    private static final String COMMIT = "c".repeat(8) + "0123456789abcdef0123456789abcdef";

    @TempDir
    Path cache;

    private static Map<String, byte[]> folder(Path dir) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.sorted().toList()) {
                files.put(p.getFileName().toString(), Files.readAllBytes(p));
            }
        }
        return files;
    }

    @Test
    void eachFamilyFetchesItsOwnFiles() throws Exception {
        FixtureSet set = Fixtures.sets(Fixtures.Kind.CLIP).getFirst();
        try (FakeHub hub = new FakeHub(); Stream<Path> models = Files.list(set.dir().resolve("models"))) {
            HubEnvironment env = new HubEnvironment(cache, null, hub.endpoint(), false);
            for (Path model : models.sorted().toList()) {
                ModelFamily family = ModelFamily.of(model);
                String repo = "test-org/" + model.getFileName();
                Map<String, byte[]> files = folder(model);
                Set<String> weights = files.keySet().stream().filter(f -> f.endsWith(".safetensors") || f.endsWith(".bin"))
                        .collect(java.util.stream.Collectors.toSet());
                hub.addCommit(repo, COMMIT, files, weights);
                hub.setRef(repo, "main", COMMIT);
                Path dir;
                try (ModelLocator locator = ModelLocator.builder(env).connectTimeout(Duration.ofSeconds(2))
                        .metadataTimeout(Duration.ofSeconds(5)).downloadTimeout(Duration.ofSeconds(10)).build()) {
                    dir = ImageTextModel.resolve(locator, repo, null);
                }
                assertThat(dir).isNotEqualTo(model);
                List<String> needed = family.files().required();
                for (String f : needed) {
                    assertThat(dir.resolve(f)).as("%s: %s", repo, f).isRegularFile();
                    assertThat(Files.readAllBytes(dir.resolve(f))).isEqualTo(files.get(f));
                }
                assertThat(weights.stream().anyMatch(w -> Files.isRegularFile(dir.resolve(w))))
                        .as("%s: weights downloaded", repo).isTrue();
                try (ImageTextModel loaded = ImageTextModel.load(dir, LoadOptions.defaults().withThreads(1))) {
                    assertThat(loaded.family()).isEqualTo(family);
                }
            }
        }
    }
}
