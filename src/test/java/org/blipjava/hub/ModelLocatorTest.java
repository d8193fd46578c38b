package org.blipjava.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelLocatorTest {
    private static final String REPO = "test-org/tiny-blip";
    private static final String COMMIT_A = "a".repeat(8) + "0123456789abcdef0123456789abcdef";
    private static final String COMMIT_B = "b".repeat(8) + "0123456789abcdef0123456789abcdef";
    private static final String WEIGHTS = "model.safetensors";

    @TempDir
    Path cache;

    @TempDir
    Path work;

    private FakeHub hub;
    private Map<String, byte[]> filesA;
    private Map<String, byte[]> filesB;

    @BeforeEach
    void startHub() throws IOException {
        hub = new FakeHub();
        filesA = repoFiles(1, "v1");
        filesB = repoFiles(2, "v2");
        filesB.put("vocab.txt", filesA.get("vocab.txt")); // unchanged between commits: one shared blob
        hub.addCommit(REPO, COMMIT_A, filesA, Set.of(WEIGHTS));
        hub.addCommit(REPO, COMMIT_B, filesB, Set.of(WEIGHTS));
        hub.setRef(REPO, "main", COMMIT_B);
        hub.setRef(REPO, "v1.0", COMMIT_A);
    }

    @AfterEach
    void stopHub() {
        hub.close();
    }

    /** A BLIP-like repository; tokenizer.json, added_tokens.json and generation_config.json are absent. */
    private static Map<String, byte[]> repoFiles(long seed, String tag) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("config.json", ("{\"model_type\": \"blip\", \"tag\": \"" + tag + "\"}").getBytes(StandardCharsets.UTF_8));
        files.put("preprocessor_config.json", "{\"image_size\": 384}".getBytes(StandardCharsets.UTF_8));
        files.put("vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n".getBytes(StandardCharsets.UTF_8));
        files.put("tokenizer_config.json", "{\"do_lower_case\": true}".getBytes(StandardCharsets.UTF_8));
        files.put("special_tokens_map.json", "{}".getBytes(StandardCharsets.UTF_8));
        byte[] weights = new byte[200_000 + (int) seed];
        new Random(seed).nextBytes(weights);
        files.put(WEIGHTS, weights);
        return files;
    }

    private ModelLocator locator() {
        return locator(new HubEnvironment(cache, null, hub.endpoint(), false));
    }

    private static ModelLocator locator(HubEnvironment env) {
        return ModelLocator.builder(env).connectTimeout(Duration.ofSeconds(2))
                .metadataTimeout(Duration.ofSeconds(5)).downloadTimeout(Duration.ofSeconds(5))
                .stallTimeout(Duration.ofSeconds(1)).build();
    }

    private Path repoDir() {
        return cache.resolve("models--test-org--tiny-blip");
    }

    @Test
    void downloadsIntoTheHubCacheLayout() throws IOException {
        Path dir;
        try (ModelLocator locator = locator()) {
            dir = locator.resolve(REPO, null, ModelFiles.BLIP);
        }
        assertThat(dir).isEqualTo(repoDir().resolve("snapshots").resolve(COMMIT_B));
        assertThat(Files.readString(repoDir().resolve("refs/main"))).isEqualTo(COMMIT_B);
        for (Map.Entry<String, byte[]> e : filesB.entrySet()) {
            Path pointer = dir.resolve(e.getKey());
            assertThat(Files.isSymbolicLink(pointer)).as(e.getKey()).isTrue();
            Path target = Files.readSymbolicLink(pointer);
            assertThat(target.isAbsolute()).as("relative link for " + e.getKey()).isFalse();
            String blobName = e.getKey().equals(WEIGHTS) ? FakeHub.sha256(e.getValue()) : FakeHub.gitSha1(e.getValue());
            assertThat(target.toString().replace('\\', '/')).isEqualTo("../../blobs/" + blobName);
            assertThat(Files.readAllBytes(pointer)).isEqualTo(e.getValue());
        }
        // Optional files the repository lacks are remembered as huggingface_hub does.
        for (String missing : List.of("added_tokens.json", "tokenizer.json", "generation_config.json")) {
            assertThat(dir.resolve(missing)).doesNotExist();
            assertThat(repoDir().resolve(".no_exist").resolve(COMMIT_B).resolve(missing)).exists();
        }
        try (Stream<Path> blobs = Files.list(repoDir().resolve("blobs"))) {
            assertThat(blobs.map(p -> p.getFileName().toString())).hasSize(filesB.size())
                    .noneMatch(n -> n.endsWith(".incomplete"));
        }
        // The LFS file came from the CDN, found through the 302.
        assertThat(hub.count("cdn", "GET")).isEqualTo(1);
    }

    @Test
    void secondResolveUsesTheCacheWithoutDownloading() {
        try (ModelLocator locator = locator()) {
            Path first = locator.resolve(REPO, null, ModelFiles.BLIP);
            hub.clearLog();
            Path second = locator.resolve(REPO, null, ModelFiles.BLIP);
            assertThat(second).isEqualTo(first);
        }
        assertThat(hub.count("hub", "GET") + hub.count("cdn", "GET")).isZero();
        // One HEAD learns where the branch points; everything else is known for that commit.
        assertThat(hub.count("hub", "HEAD")).isEqualTo(1);
    }

    @Test
    void aCommitRevisionInTheCacheNeedsNoRequestAtAll() {
        try (ModelLocator locator = locator()) {
            locator.resolve(REPO, COMMIT_A, ModelFiles.BLIP);
            hub.clearLog();
            assertThat(locator.resolve(REPO, COMMIT_A, ModelFiles.BLIP))
                    .isEqualTo(repoDir().resolve("snapshots").resolve(COMMIT_A));
        }
        assertThat(hub.requests()).isEmpty();
        // A commit revision is not a ref: nothing is written to refs/ for it.
        assertThat(repoDir().resolve("refs").resolve(COMMIT_A)).doesNotExist();
    }

    @Test
    void offlineModeUsesTheCacheAndSendsNothing() {
        Path online;
        try (ModelLocator locator = locator()) {
            online = locator.resolve(REPO, null, ModelFiles.BLIP);
        }
        hub.clearLog();
        try (ModelLocator offline = locator(new HubEnvironment(cache, null, hub.endpoint(), true))) {
            assertThat(offline.resolve(REPO, null, ModelFiles.BLIP)).isEqualTo(online);
            assertThatThrownBy(() -> offline.resolve(REPO, "v1.0", ModelFiles.BLIP))
                    .isInstanceOf(HubUnreachableException.class)
                    .hasMessageContaining("HF_HUB_OFFLINE")
                    .hasMessageContaining(REPO)
                    .hasMessageContaining("not complete in the cache at " + repoDir());
        }
        assertThat(hub.requests()).isEmpty();
    }

    @Test
    void offlineWithoutCacheFailsWithOneClearSentence() {
        try (ModelLocator offline = locator(new HubEnvironment(cache, null, hub.endpoint(), true))) {
            assertThatThrownBy(() -> offline.resolve(REPO, null, ModelFiles.BLIP))
                    .isInstanceOf(HubUnreachableException.class)
                    .hasMessageContaining(REPO)
                    .hasMessageContaining(repoDir().toString())
                    .hasMessageContaining("pass --model with a local directory")
                    .hasMessageNotContaining("\n");
        }
        assertThat(hub.requests()).isEmpty();
    }

    @Test
    void usesASnapshotLaidOutByPython() throws IOException {
        // Built by hand the way huggingface_hub writes it, independent of our writer.
        Path repo = repoDir();
        Files.createDirectories(repo.resolve("refs"));
        Files.writeString(repo.resolve("refs/main"), COMMIT_A);
        Path snapshot = Files.createDirectories(repo.resolve("snapshots").resolve(COMMIT_A));
        Files.createDirectories(repo.resolve("blobs"));
        for (Map.Entry<String, byte[]> e : filesA.entrySet()) {
            Path blob = repo.resolve("blobs").resolve(FakeHub.sha256(e.getValue()));
            Files.write(blob, e.getValue());
            Files.createSymbolicLink(snapshot.resolve(e.getKey()), Path.of("..", "..", "blobs", blob.getFileName().toString()));
        }
        try (ModelLocator offline = locator(new HubEnvironment(cache, null, hub.endpoint(), true))) {
            Path dir = offline.resolve(REPO, null, ModelFiles.BLIP);
            assertThat(dir).isEqualTo(snapshot);
            assertThat(Files.readAllBytes(dir.resolve("config.json"))).isEqualTo(filesA.get("config.json"));
        }
    }

    @Test
    void pinsRevisionsToTheirCommits() throws IOException {
        try (ModelLocator locator = locator()) {
            Path v1 = locator.resolve(REPO, "v1.0", ModelFiles.BLIP);
            Path main = locator.resolve(REPO, "main", ModelFiles.BLIP);
            Path byCommit = locator.resolve(REPO, COMMIT_A, ModelFiles.BLIP);
            assertThat(v1).isEqualTo(repoDir().resolve("snapshots").resolve(COMMIT_A)).isEqualTo(byCommit);
            assertThat(main).isEqualTo(repoDir().resolve("snapshots").resolve(COMMIT_B));
            assertThat(Files.readAllBytes(v1.resolve("config.json"))).isEqualTo(filesA.get("config.json"));
            assertThat(Files.readAllBytes(main.resolve("config.json"))).isEqualTo(filesB.get("config.json"));
            assertThat(Files.readString(repoDir().resolve("refs/v1.0"))).isEqualTo(COMMIT_A);
            assertThat(Files.readString(repoDir().resolve("refs/main"))).isEqualTo(COMMIT_B);
            // Same content, same blob: both snapshots point to it.
            assertThat(v1.resolve("vocab.txt").toRealPath()).isEqualTo(main.resolve("vocab.txt").toRealPath());
        }
    }

    @Test
    void followsTheBranchWhenItMoves() throws IOException {
        try (ModelLocator locator = locator()) {
            locator.resolve(REPO, null, ModelFiles.BLIP);
            hub.setRef(REPO, "main", COMMIT_A);
            Path moved = locator.resolve(REPO, null, ModelFiles.BLIP);
            assertThat(moved).isEqualTo(repoDir().resolve("snapshots").resolve(COMMIT_A));
            assertThat(Files.readString(repoDir().resolve("refs/main"))).isEqualTo(COMMIT_A);
        }
    }

    @Test
    void resumesAnInterruptedDownloadWithRange() throws IOException {
        hub.truncateNextGets.set(1);
        Path dir;
        try (ModelLocator locator = locator()) {
            dir = locator.resolve(REPO, null, ModelFiles.BLIP);
        }
        assertThat(Files.readAllBytes(dir.resolve(WEIGHTS))).isEqualTo(filesB.get(WEIGHTS));
        List<FakeHub.Request> gets = hub.requests().stream()
                .filter(r -> r.server().equals("cdn")).toList();
        assertThat(gets).hasSize(2);
        assertThat(gets.get(0).range()).isNull();
        int half = filesB.get(WEIGHTS).length / 2;
        assertThat(gets.get(1).range()).isEqualTo("bytes=" + half + "-");
    }

    @Test
    void retriesAStalledDownloadFromWhereItStopped() throws IOException {
        hub.stallNextGets.set(1);
        Path dir;
        try (ModelLocator locator = locator()) {
            dir = locator.resolve(REPO, null, List.of(WEIGHTS));
        }
        assertThat(Files.readAllBytes(dir.resolve(WEIGHTS))).isEqualTo(filesB.get(WEIGHTS));
        int half = filesB.get(WEIGHTS).length / 2;
        assertThat(hub.requests()).filteredOn(r -> r.server().equals("cdn"))
                .extracting(FakeHub.Request::range).containsExactly(null, "bytes=" + half + "-");
    }

    @Test
    void resumesAPartialFileLeftByAnEarlierRun() throws IOException {
        hub.truncateNextGets.set(100); // every attempt of this run is cut off
        try (ModelLocator locator = locator()) {
            assertThatThrownBy(() -> locator.resolve(REPO, null, ModelFiles.BLIP))
                    .isInstanceOf(HubUnreachableException.class)
                    .hasMessageContaining("not in the cache");
        }
        Path partial = repoDir().resolve("blobs").resolve(FakeHub.sha256(filesB.get(WEIGHTS)) + ".incomplete");
        assertThat(partial).exists();
        long kept = Files.size(partial);
        assertThat(kept).isPositive().isLessThan(filesB.get(WEIGHTS).length);

        hub.truncateNextGets.set(0);
        hub.clearLog();
        Path dir;
        try (ModelLocator locator = locator()) {
            dir = locator.resolve(REPO, null, ModelFiles.BLIP);
        }
        assertThat(Files.readAllBytes(dir.resolve(WEIGHTS))).isEqualTo(filesB.get(WEIGHTS));
        assertThat(partial).doesNotExist();
        assertThat(hub.requests()).filteredOn(r -> r.server().equals("cdn"))
                .singleElement().extracting(FakeHub.Request::range).isEqualTo("bytes=" + kept + "-");
    }

    @Test
    void rejectsADownloadWithTheWrongSha256() throws IOException {
        hub.corruptBodies = true;
        try (ModelLocator locator = locator()) {
            assertThatThrownBy(() -> locator.resolve(REPO, null, ModelFiles.BLIP))
                    .isInstanceOf(HubException.class)
                    .hasMessageContaining("SHA-256")
                    .hasMessageContaining(WEIGHTS);
        }
        assertNoWeightsLeft();
    }

    @Test
    void rejectsADownloadOfTheWrongSize() throws IOException {
        hub.extraBytes = 10;
        try (ModelLocator locator = locator()) {
            assertThatThrownBy(() -> locator.resolve(REPO, null, ModelFiles.BLIP))
                    .isInstanceOf(HubException.class)
                    .hasMessageContaining("announced")
                    .hasMessageContaining(WEIGHTS);
        }
        assertNoWeightsLeft();
    }

    private void assertNoWeightsLeft() throws IOException {
        String sha = FakeHub.sha256(filesB.get(WEIGHTS));
        try (Stream<Path> blobs = Files.list(repoDir().resolve("blobs"))) {
            assertThat(blobs.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(sha));
        }
        assertThat(repoDir().resolve("snapshots").resolve(COMMIT_B).resolve(WEIGHTS))
                .satisfies(p -> assertThat(Files.exists(p, LinkOption.NOFOLLOW_LINKS)).isFalse());
    }

    @Test
    void sendsTheTokenToTheHubOnlyNeverToTheCdn() {
        hub.requiredToken = "hf_secret";
        try (ModelLocator locator = locator(new HubEnvironment(cache, "hf_secret", hub.endpoint(), false))) {
            locator.resolve(REPO, null, ModelFiles.BLIP);
        }
        List<FakeHub.Request> requests = hub.requests();
        assertThat(requests).filteredOn(r -> r.server().equals("hub")).isNotEmpty()
                .allSatisfy(r -> assertThat(r.authorization()).isEqualTo("Bearer hf_secret"));
        assertThat(requests).filteredOn(r -> r.server().equals("cdn")).isNotEmpty()
                .allSatisfy(r -> assertThat(r.authorization()).isNull());
    }

    @Test
    void keepsTheTokenOnARelativeRedirectOfARenamedRepository() {
        hub.requiredToken = "hf_secret";
        hub.rename("old-org/tiny-blip", REPO);
        try (ModelLocator locator = locator(new HubEnvironment(cache, "hf_secret", hub.endpoint(), false))) {
            locator.resolve("old-org/tiny-blip", null, ModelFiles.BLIP);
        }
        assertThat(hub.requests()).filteredOn(r -> r.server().equals("hub"))
                .anyMatch(r -> r.path().startsWith("/" + REPO + "/"))
                .allSatisfy(r -> assertThat(r.authorization()).isEqualTo("Bearer hf_secret"));
        assertThat(hub.requests()).filteredOn(r -> r.server().equals("cdn"))
                .allSatisfy(r -> assertThat(r.authorization()).isNull());
    }

    @Test
    void downloadsAgainWhenABlobWasDeleted() throws IOException {
        Path dir;
        try (ModelLocator locator = locator()) {
            dir = locator.resolve(REPO, null, ModelFiles.BLIP);
            Files.delete(repoDir().resolve("blobs").resolve(FakeHub.sha256(filesB.get(WEIGHTS))));
            hub.clearLog();
            assertThat(locator.resolve(REPO, null, ModelFiles.BLIP)).isEqualTo(dir);
        }
        assertThat(Files.readAllBytes(dir.resolve(WEIGHTS))).isEqualTo(filesB.get(WEIGHTS));
        assertThat(hub.count("cdn", "GET")).isEqualTo(1);
    }

    @Test
    void concurrentResolvesShareOneDownload() throws Exception {
        try (ModelLocator locator = locator(); ExecutorService pool = Executors.newFixedThreadPool(3)) {
            List<Future<Path>> results = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                results.add(pool.submit(() -> locator.resolve(REPO, null, ModelFiles.BLIP)));
            }
            for (Future<Path> f : results) {
                Path dir = f.get(20, TimeUnit.SECONDS);
                assertThat(Files.readAllBytes(dir.resolve(WEIGHTS))).isEqualTo(filesB.get(WEIGHTS));
            }
        }
        // The lock makes the later threads find the finished blob instead of downloading it again.
        assertThat(hub.count("cdn", "GET")).isEqualTo(1);
    }

    @Test
    void explainsAMissingTokenAndARefusedOne() {
        hub.requiredToken = "hf_secret";
        try (ModelLocator anonymous = locator()) {
            assertThatThrownBy(() -> anonymous.resolve(REPO, null, ModelFiles.BLIP))
                    .isInstanceOf(HubAccessException.class)
                    .hasMessageContaining("HF_TOKEN")
                    .hasMessageContaining("401")
                    .hasMessageContaining(REPO);
        }
        try (ModelLocator wrong = locator(new HubEnvironment(cache, "hf_wrong", hub.endpoint(), false))) {
            assertThatThrownBy(() -> wrong.resolve(REPO, null, ModelFiles.BLIP))
                    .isInstanceOf(HubAccessException.class)
                    .hasMessageContaining("HF_TOKEN")
                    .hasMessageContaining("refused")
                    .hasMessageNotContaining("hf_wrong");
        }
        hub.requiredToken = null;
        hub.gated = true;
        try (ModelLocator locator = locator()) {
            assertThatThrownBy(() -> locator.resolve(REPO, null, ModelFiles.BLIP))
                    .isInstanceOf(HubAccessException.class)
                    .hasMessageContaining("gated")
                    .hasMessageContaining("HF_TOKEN");
        }
    }

    @Test
    void reportsMissingRepositoriesRevisionsAndFiles() {
        try (ModelLocator locator = locator()) {
            assertThatThrownBy(() -> locator.resolve("test-org/no-such-model", null, ModelFiles.BLIP))
                    .isInstanceOf(ModelNotFoundException.class)
                    .hasMessageContaining("repository not found: test-org/no-such-model");
            assertThatThrownBy(() -> locator.resolve(REPO, "no-such-branch", ModelFiles.BLIP))
                    .isInstanceOf(ModelNotFoundException.class)
                    .hasMessageContaining("revision 'no-such-branch' not found");
            assertThatThrownBy(() -> locator.resolve(REPO, null, List.of("config.json", "missing.json")))
                    .isInstanceOf(ModelNotFoundException.class)
                    .hasMessageContaining("missing.json");
        }
    }

    @Test
    void failsClearlyWhenTheHubCannotBeReached() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        URI dead = URI.create("http://127.0.0.1:" + port);
        try (ModelLocator locator = locator(new HubEnvironment(cache, null, dead, false))) {
            assertThatThrownBy(() -> locator.resolve(REPO, null, ModelFiles.BLIP))
                    .isInstanceOf(HubUnreachableException.class)
                    .hasMessageStartingWith("cannot reach " + dead + " to download " + REPO)
                    .hasMessageContaining("not in the cache at " + repoDir())
                    .hasMessageContaining("connect to the internet, or pass --model with a local directory");
        }
    }

    @Test
    void fallsBackToTheCacheWhenTheHubCannotBeReached() throws IOException {
        Path online;
        try (ModelLocator locator = locator()) {
            online = locator.resolve(REPO, null, ModelFiles.BLIP);
        }
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        try (ModelLocator locator = locator(new HubEnvironment(cache, null, URI.create("http://127.0.0.1:" + port), false))) {
            assertThat(locator.resolve(REPO, null, ModelFiles.BLIP)).isEqualTo(online);
        }
    }

    @Test
    void followsARenamedRepositoryOnTheSameHost() throws IOException {
        hub.rename("old-org/tiny-blip", REPO);
        Path dir;
        try (ModelLocator locator = locator()) {
            dir = locator.resolve("old-org/tiny-blip", null, ModelFiles.BLIP);
        }
        // Cached under the name the caller used, as huggingface_hub does.
        assertThat(dir).isEqualTo(cache.resolve("models--old-org--tiny-blip/snapshots").resolve(COMMIT_B));
        assertThat(Files.readAllBytes(dir.resolve(WEIGHTS))).isEqualTo(filesB.get(WEIGHTS));
    }

    @Test
    void downloadsShardedWeightsThroughTheIndex() throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>(filesA);
        files.remove(WEIGHTS);
        byte[] shard1 = "shard one".getBytes(StandardCharsets.UTF_8);
        byte[] shard2 = "shard two".getBytes(StandardCharsets.UTF_8);
        files.put("model-00001-of-00002.safetensors", shard1);
        files.put("model-00002-of-00002.safetensors", shard2);
        files.put("model.safetensors.index.json", ("{\"metadata\": {}, \"weight_map\": {\"a.weight\": "
                + "\"model-00001-of-00002.safetensors\", \"b.weight\": \"model-00002-of-00002.safetensors\", "
                + "\"c.weight\": \"model-00001-of-00002.safetensors\"}}").getBytes(StandardCharsets.UTF_8));
        hub.addCommit("test-org/sharded", COMMIT_A, files,
                Set.of("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"));
        hub.setRef("test-org/sharded", "main", COMMIT_A);
        Path dir;
        try (ModelLocator locator = locator()) {
            dir = locator.resolve("test-org/sharded", null, ModelFiles.BLIP);
        }
        assertThat(Files.readAllBytes(dir.resolve("model-00001-of-00002.safetensors"))).isEqualTo(shard1);
        assertThat(Files.readAllBytes(dir.resolve("model-00002-of-00002.safetensors"))).isEqualTo(shard2);
        assertThat(dir.resolve(WEIGHTS)).doesNotExist();
        try (ModelLocator offline = locator(new HubEnvironment(cache, null, hub.endpoint(), true))) {
            assertThat(offline.resolve("test-org/sharded", null, ModelFiles.BLIP)).isEqualTo(dir);
        }
    }

    @Test
    void fallsBackToPytorchWeights() throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>(filesA);
        byte[] bin = files.remove(WEIGHTS);
        files.put("pytorch_model.bin", bin);
        hub.addCommit("test-org/pytorch", COMMIT_A, files, Set.of("pytorch_model.bin"));
        hub.setRef("test-org/pytorch", "main", COMMIT_A);
        try (ModelLocator locator = locator()) {
            Path dir = locator.resolve("test-org/pytorch", null, ModelFiles.BLIP);
            assertThat(Files.readAllBytes(dir.resolve("pytorch_model.bin"))).isEqualTo(bin);
        }
    }

    @Test
    void reportsDownloadProgress() {
        List<String> events = new ArrayList<>();
        long[] last = {-1};
        DownloadListener recorder = new DownloadListener() {
            @Override
            public void start(String file, long totalBytes) {
                events.add("start " + file + " " + totalBytes);
            }

            @Override
            public void progress(long bytesSoFar) {
                assertThat(bytesSoFar).isGreaterThanOrEqualTo(last[0]);
                last[0] = bytesSoFar;
            }

            @Override
            public void done() {
                events.add("done " + last[0]);
            }
        };
        try (ModelLocator locator = ModelLocator.builder(new HubEnvironment(cache, null, hub.endpoint(), false))
                .listener(recorder).build()) {
            locator.resolve(REPO, null, List.of(WEIGHTS));
        }
        int size = filesB.get(WEIGHTS).length;
        assertThat(events).containsExactly("start " + WEIGHTS + " " + size, "done " + size);
    }

    @Test
    void returnsLocalDirectoriesAsTheyAre() throws IOException {
        Path model = Files.createDirectories(work.resolve("my-model"));
        try (ModelLocator locator = locator()) {
            assertThat(locator.resolve(model.toString(), null, ModelFiles.BLIP)).isEqualTo(model.toAbsolutePath());
            assertThatThrownBy(() -> locator.resolve(work.resolve("nope").toString(), null, ModelFiles.BLIP))
                    .isInstanceOf(ModelNotFoundException.class)
                    .hasMessageStartingWith("no such model directory: " + work.resolve("nope"));
            assertThatThrownBy(() -> locator.resolve("./not-here/model", null, ModelFiles.BLIP))
                    .isInstanceOf(ModelNotFoundException.class)
                    .hasMessageStartingWith("no such model directory");
            assertThatThrownBy(() -> locator.resolve("a/b/c", null, ModelFiles.BLIP))
                    .isInstanceOf(ModelNotFoundException.class)
                    .hasMessageStartingWith("no such model directory");
            Path file = Files.writeString(work.resolve("config.json"), "{}");
            assertThatThrownBy(() -> locator.resolve(file.toString(), null, ModelFiles.BLIP))
                    .isInstanceOf(ModelNotFoundException.class)
                    .hasMessageContaining("is a file, not a model directory");
        }
        assertThat(hub.requests()).isEmpty();
    }

    @Test
    void expandsTheHomeDirectory() throws IOException {
        Path model = Files.createDirectories(work.resolve("models").resolve("blip"));
        try (ModelLocator locator = ModelLocator.builder(new HubEnvironment(cache, null, hub.endpoint(), false))
                .userHome(work).build()) {
            assertThat(locator.resolve("~/models/blip", null, ModelFiles.BLIP)).isEqualTo(model);
        }
    }

    @Test
    void rejectsInvalidRepositoryIdsAndRevisions() {
        try (ModelLocator locator = locator()) {
            for (String bad : List.of("org/-name", "org--x/name", "org/na..me", "org/name.git", "org/na me", "x".repeat(97))) {
                assertThatThrownBy(() -> locator.resolve(bad, null, ModelFiles.BLIP)).as(bad)
                        .isInstanceOf(ModelNotFoundException.class)
                        .hasMessageContaining("not a valid Hub repository id");
            }
            assertThatThrownBy(() -> locator.resolve(REPO, "../../etc", ModelFiles.BLIP))
                    .isInstanceOf(ModelNotFoundException.class)
                    .hasMessageContaining("invalid revision");
        }
        assertThat(hub.requests()).isEmpty();
    }

    @Test
    void encodesRevisionsWithSlashesAndStoresTheirRefsAsNestedFiles() throws IOException {
        hub.setRef(REPO, "refs/pr/1", COMMIT_A);
        try (ModelLocator locator = locator()) {
            Path dir = locator.resolve(REPO, "refs/pr/1", ModelFiles.BLIP);
            assertThat(dir).isEqualTo(repoDir().resolve("snapshots").resolve(COMMIT_A));
        }
        assertThat(Files.readString(repoDir().resolve("refs/refs/pr/1"))).isEqualTo(COMMIT_A);
        assertThat(hub.requests()).filteredOn(r -> r.server().equals("hub"))
                .first().extracting(FakeHub.Request::path).asString().contains("/resolve/refs%2Fpr%2F1/");
    }
}
