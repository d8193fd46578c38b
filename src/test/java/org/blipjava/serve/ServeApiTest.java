package org.blipjava.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.blipjava.serve.ServeTesting.JSON;
import static org.blipjava.serve.ServeTesting.bytes;
import static org.blipjava.serve.ServeTesting.ints;
import static org.blipjava.serve.ServeTesting.withImage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.blipjava.generation.GenerationConfig;
import org.blipjava.image.Images;
import org.blipjava.image.RgbImage;
import org.blipjava.retrieval.ImageIndex;
import org.blipjava.serve.ServeTesting.Client;
import org.blipjava.serve.ServeTesting.Response;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.GeneratedText;
import org.blipjava.tasks.ImageTextModel;
import org.blipjava.tasks.MatchScores;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Every endpoint of {@code blip serve} against the tiny fixture models, and every error path. */
@Timeout(120)
class ServeApiTest {
    @TempDir
    static Path tmp;

    static ServedModels models;
    static ImageIndex index;
    static BlipServer server;
    static Client client;

    @BeforeAll
    static void start() {
        models = ServeTesting.models();
        index = ServeTesting.index(models, tmp.resolve("index"));
        server = BlipServer.start(models, index, ServeOptions.defaults().withAddress("127.0.0.1", 0));
        client = new Client(server.port());
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (index != null) {
            index.close();
        }
        if (models != null) {
            models.close();
        }
    }

    static ImageTextModel model(String name) {
        return models.all().stream().filter(e -> e.name().equals(name)).findFirst().orElseThrow().model();
    }

    static RgbImage decoded(String name) {
        return Images.read(ServeTesting.image(name));
    }

    // ------------------------------------------------------------------ endpoints

    @Test
    void healthModelsOpenApiAndPage() {
        assertThat(client.get("/healthz").json().path("status").asText()).isEqualTo("ok");
        JsonNode m = client.get("/v1/models").json();
        assertThat(m.path("models")).hasSize(4);
        assertThat(m.path("models").get(0).path("name").asText()).isEqualTo("tiny-caption");
        assertThat(m.path("models").get(2).path("tasks").toString()).contains("match", "embed", "search");
        assertThat(m.path("models").get(3).path("family").asText()).isEqualTo("CLIP");
        assertThat(m.path("index_size").asInt()).isEqualTo(ServeTesting.IMAGES.size());

        JsonNode api = client.get("/openapi.json").json();
        assertThat(api.path("openapi").asText()).startsWith("3.");
        for (String path : List.of("/v1/caption", "/v1/vqa", "/v1/match", "/v1/embed", "/v1/search", "/v1/explain/attention",
                "/v1/models", "/healthz", "/metrics", "/openapi.json", "/")) {
            assertThat(api.path("paths").has(path)).as(path).isTrue();
        }
        Response page = client.get("/");
        assertThat(page.status()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
        assertThat(page.body()).contains("/static/app.js");
        assertThat(client.get("/static/app.js").status()).isEqualTo(200);
        assertThat(client.get("/static/secret.txt").status()).isEqualTo(404);
    }

    @Test
    void captionAsJsonEqualsTheJavaApi() {
        Blip blip = (Blip) model("tiny-caption");
        GeneratedText expected = blip.caption(List.of(decoded("photo_512x384.jpg")), null, blip.generationDefaults()).get(0);
        Response r = client.postJson("/v1/caption", withImage("photo_512x384.jpg"));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json().path("model").asText()).isEqualTo("tiny-caption");
        assertThat(r.json().path("caption").asText()).isEqualTo(expected.text());
        assertThat(ints(r.json().path("token_ids"))).isEqualTo(ints(expected.tokenIds()));
        assertThat(r.json().has("score")).isFalse();
    }

    @Test
    void captionAsMultipartWithPromptAndBeamOptions() {
        Blip blip = (Blip) model("tiny-caption");
        GenerationConfig g = blip.generationDefaults().toBuilder().numBeams(3).numReturnSequences(2).maxLength(12).build();
        List<GeneratedText> expected = blip.caption(List.of(decoded("rgb_640x480.png")), "a picture of", g);
        Response r = client.postMultipart("/v1/caption", Map.of("model", "tiny-caption", "prompt", "a picture of",
                "options", "{\"num_beams\": 3, \"num_return_sequences\": 2, \"max_length\": 12}"),
                "rgb_640x480.png", bytes("rgb_640x480.png"));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode j = r.json();
        assertThat(j.path("caption").asText()).isEqualTo(expected.get(0).text());
        assertThat(j.path("score").asDouble()).isEqualTo(expected.get(0).score());
        assertThat(j.path("sequences")).hasSize(2);
        assertThat(ints(j.path("sequences").get(1).path("token_ids"))).isEqualTo(ints(expected.get(1).tokenIds()));
    }

    @Test
    void vqaEqualsTheJavaApi() {
        Blip blip = (Blip) model("tiny-vqa");
        GeneratedText expected = blip.answer(List.of(decoded("gray_200x150.png")), List.of("what colour is it?"),
                blip.generationDefaults()).get(0);
        Response r = client.postJson("/v1/vqa", withImage("gray_200x150.png").put("question", "what colour is it?"));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json().path("question").asText()).isEqualTo("what colour is it?");
        assertThat(r.json().path("answer").asText()).isEqualTo(expected.text());
        assertThat(ints(r.json().path("token_ids"))).isEqualTo(ints(expected.tokenIds()));
    }

    @Test
    void matchGivesItmAndItcForBlipAndItcOnlyForClip() {
        List<String> texts = List.of("a red square", "a dog on the grass");
        MatchScores expected = model("tiny-itm").match(List.of(decoded("palette_64x64.gif")), texts);
        ObjectNode req = withImage("palette_64x64.gif").put("model", "tiny-itm");
        texts.forEach(req.putArray("texts")::add);
        Response r = client.postJson("/v1/match", req);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        for (int t = 0; t < texts.size(); t++) {
            JsonNode row = r.json().path("results").get(t);
            assertThat(row.path("text").asText()).isEqualTo(texts.get(t));
            assertThat((float) row.path("itm").asDouble()).isEqualTo(expected.itm(0, t));
            assertThat((float) row.path("itc").asDouble()).isEqualTo(expected.itc(0, t));
        }
        Response clip = client.postMultipart("/v1/match", Map.of("model", "tiny-clip-openai", "text", texts),
                "p.gif", bytes("palette_64x64.gif"));
        assertThat(clip.status()).as(clip.body()).isEqualTo(200);
        assertThat(clip.json().path("results")).hasSize(2);
        assertThat(clip.json().path("results").get(0).has("itm")).isFalse();
        assertThat(clip.json().path("results").get(0).has("itc")).isTrue();
    }

    @Test
    void embedImagesAndTexts() {
        ImageTextModel itm = model("tiny-itm");
        float[] image = itm.embedImages(List.of(decoded("rgba_128x128.png")))[0];
        float[][] texts = itm.embedTexts(List.of("a cat", "two dogs running"));
        ObjectNode req = withImage("rgba_128x128.png").put("model", "tiny-itm").put("image_name", "cat.png");
        req.putArray("texts").add("a cat").add("two dogs running");
        Response r = client.postJson("/v1/embed", req);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode res = r.json().path("results");
        assertThat(res).hasSize(3);
        assertThat(res.get(0).path("image").asText()).isEqualTo("cat.png");
        assertThat(floats(res.get(0).path("embedding"))).containsExactly(image);
        assertThat(res.get(2).path("text").asText()).isEqualTo("two dogs running");
        assertThat(floats(res.get(2).path("embedding"))).containsExactly(texts[1]);
        // Texts alone need no image.
        Response textsOnly = client.postJson("/v1/embed", JSON.createObjectNode().put("model", "tiny-itm").put("text", "a cat"));
        assertThat(floats(textsOnly.json().path("results").get(0).path("embedding"))).containsExactly(texts[0]);
    }

    static float[] floats(JsonNode a) {
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) a.get(i).asDouble();
        }
        return out;
    }

    @Test
    void searchByTextAndByImageWithThumbnails() {
        Response byText = client.postJson("/v1/search", JSON.createObjectNode().put("text", "a photo").put("k", 3)
                .put("thumbnails", true));
        assertThat(byText.status()).as(byText.body()).isEqualTo(200);
        JsonNode hits = byText.json().path("results");
        assertThat(hits).hasSize(3);
        assertThat(hits.get(0).path("rank").asInt()).isEqualTo(1);
        assertThat(hits.get(0).path("itc").asDouble()).isGreaterThanOrEqualTo(hits.get(1).path("itc").asDouble());
        assertThat(hits.get(0).path("thumbnail").asText()).startsWith("data:image/jpeg;base64,");

        // The query image is indexed: it is its own best match.
        Response byImage = client.postMultipart("/v1/search", Map.of("k", "2"), "q.jpg", bytes("photo_512x384.jpg"));
        assertThat(byImage.status()).as(byImage.body()).isEqualTo(200);
        assertThat(byImage.json().path("results").get(0).path("path").asText()).endsWith("photo_512x384.jpg");
        assertThat(byImage.json().path("results").get(0).has("thumbnail")).isFalse();

        Response both = client.postJson("/v1/search", withImage("photo_512x384.jpg").put("text", "x"));
        assertThat(both.status()).isEqualTo(400);
        assertThat(both.errorCode()).isEqualTo("bad_query");
        Response badK = client.postJson("/v1/search", JSON.createObjectNode().put("text", "x").put("k", 0));
        assertThat(badK.errorCode()).isEqualTo("bad_field");
    }

    @Test
    void explainAttentionDrawsAPicture() throws Exception {
        Response r = client.postJson("/v1/explain/attention", withImage("rgb_640x480.png"));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        Blip blip = (Blip) model("tiny-caption");
        assertThat(r.json().path("caption").asText())
                .isEqualTo(blip.caption(List.of(decoded("rgb_640x480.png")), null, blip.generationDefaults()).get(0).text());
        var png = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(r.json().path("image_png").asText())));
        assertThat(png.getWidth()).isGreaterThan(100);
        assertThat(r.json().path("words").size()).isGreaterThan(0);
    }

    @Test
    void metricsCountRequestsLatenciesQueueAndBatches() {
        client.postJson("/v1/caption", withImage("plain_50x40.bmp"));
        client.postJson("/v1/caption", JSON.createObjectNode());
        String m = client.get("/metrics").body();
        assertThat(m).contains("blip_requests_total{endpoint=\"/v1/caption\",status=\"200\"}")
                .contains("blip_requests_total{endpoint=\"/v1/caption\",status=\"400\"}")
                .contains("blip_request_duration_seconds_bucket{endpoint=\"/v1/caption\",le=\"+Inf\"}")
                .contains("blip_queue_depth 0")
                .contains("blip_batch_size_count{model=\"tiny-caption\",task=\"caption\"}");
    }

    // ------------------------------------------------------------------ errors

    @Test
    void badImagesAreRefusedWith4xx() {
        Response garbage = client.postMultipart("/v1/caption", Map.of(), "x.png", "not an image".getBytes(StandardCharsets.UTF_8));
        assertThat(garbage.status()).isEqualTo(400);
        assertThat(garbage.errorCode()).isEqualTo("bad_image");
        assertThat(garbage.json().path("error").path("message").asText()).contains("x.png");

        Response badBase64 = client.postJson("/v1/caption", JSON.createObjectNode().put("image", "!!!"));
        assertThat(badBase64.errorCode()).isEqualTo("bad_image");

        Response missing = client.postJson("/v1/caption", JSON.createObjectNode());
        assertThat(missing.status()).isEqualTo(400);
        assertThat(missing.errorCode()).isEqualTo("missing_image");

        Response bomb = client.postMultipart("/v1/caption", Map.of(), "bomb.png", pngHeader(60_000, 60_000));
        assertThat(bomb.status()).isEqualTo(413);
        assertThat(bomb.errorCode()).isEqualTo("image_too_large");
        assertThat(bomb.json().path("error").path("message").asText()).contains("60000x60000");
    }

    /** A PNG whose header claims {@code w x h} pixels and whose data is a few bytes: a decompression bomb's shape. */
    static byte[] pngHeader(int w, int h) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        byte[] ihdr = java.nio.ByteBuffer.allocate(13).putInt(w).putInt(h).put((byte) 8).put((byte) 2).put((byte) 0)
                .put((byte) 0).put((byte) 0).array();
        chunk(out, "IHDR", ihdr);
        chunk(out, "IDAT", new byte[] {0x78, (byte) 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01});
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        out.writeBytes(java.nio.ByteBuffer.allocate(4).putInt(data.length).array());
        out.writeBytes(t);
        out.writeBytes(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.writeBytes(java.nio.ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    @Test
    void badFieldsModelsAndOptionsAreRefusedWith4xx() {
        assertThat(client.postJson("/v1/caption", withImage(ServeTesting.TINY).put("model", "nope")).errorCode())
                .isEqualTo("unknown_model");
        Response wrongTask = client.postJson("/v1/caption", withImage(ServeTesting.TINY).put("model", "tiny-itm"));
        assertThat(wrongTask.status()).isEqualTo(400);
        assertThat(wrongTask.errorCode()).isEqualTo("unsupported_task");

        ObjectNode typo = withImage(ServeTesting.TINY);
        typo.putObject("options").put("num_beam", 3);
        Response t = client.postJson("/v1/caption", typo);
        assertThat(t.errorCode()).isEqualTo("bad_option");
        assertThat(t.json().path("error").path("message").asText()).contains("num_beam");
        ObjectNode negative = withImage(ServeTesting.TINY);
        negative.putObject("options").put("num_beams", -1);
        assertThat(client.postJson("/v1/caption", negative).errorCode()).isEqualTo("bad_option");
        ObjectNode huge = withImage(ServeTesting.TINY);
        huge.putObject("options").put("num_beams", 50);
        assertThat(client.postJson("/v1/caption", huge).errorCode()).isEqualTo("bad_option");
        ObjectNode tooLong = withImage(ServeTesting.TINY);
        tooLong.putObject("options").put("max_length", 1000);
        Response tl = client.postJson("/v1/caption", tooLong);
        assertThat(tl.status()).isEqualTo(400);
        assertThat(tl.json().path("error").path("message").asText()).contains("positions");

        Response longText = client.postJson("/v1/vqa", withImage(ServeTesting.TINY).put("question", "why ".repeat(400)));
        assertThat(longText.status()).isEqualTo(400);
        assertThat(longText.errorCode()).isEqualTo("text_too_long");
        assertThat(client.postJson("/v1/vqa", withImage(ServeTesting.TINY)).errorCode()).isEqualTo("missing_field");
        assertThat(client.postJson("/v1/match", withImage(ServeTesting.TINY)).errorCode()).isEqualTo("missing_field");
        assertThat(client.postJson("/v1/match", withImage(ServeTesting.TINY).put("texts", "not an array")).errorCode())
                .isEqualTo("bad_field");

        Response badJson = client.postRaw("/v1/caption", "application/json", "{".getBytes(StandardCharsets.UTF_8));
        assertThat(badJson.status()).isEqualTo(400);
        assertThat(badJson.errorCode()).isEqualTo("bad_json");
        Response text = client.postRaw("/v1/caption", "text/plain", "hello".getBytes(StandardCharsets.UTF_8));
        assertThat(text.status()).isEqualTo(415);
        Response none = client.get("/v1/nothing");
        assertThat(none.status()).isEqualTo(404);
        assertThat(none.errorCode()).isEqualTo("not_found");
    }

    @Test
    void uploadAndPixelLimits() {
        try (BlipServer small = BlipServer.start(models, null, ServeOptions.defaults().withAddress("127.0.0.1", 0)
                .withLimits(4000, 10_000, 20, 2))) {
            Client c = new Client(small.port());
            Response big = c.postMultipart("/v1/caption", Map.of(), "big.png", bytes("rgb_640x480.png"));
            assertThat(big.status()).isEqualTo(413);
            assertThat(big.errorCode()).isEqualTo("upload_too_large");
            Response bigJson = c.postJson("/v1/caption", withImage("rgb_640x480.png"));
            assertThat(bigJson.status()).isEqualTo(413);
            assertThat(bigJson.errorCode()).isEqualTo("upload_too_large");
            // 128x128 = 16384 pixels > 10000, in a file under the upload limit.
            Response pixels = c.postMultipart("/v1/caption", Map.of(), "p.gif", bytes("palette_64x64.gif"));
            assertThat(pixels.status()).as(pixels.body()).isEqualTo(200);
            Response over = c.postJson("/v1/caption", JSON.createObjectNode().put("image",
                    Base64.getEncoder().encodeToString(pngHeader(200, 200))));
            assertThat(over.status()).isEqualTo(413);
            assertThat(over.errorCode()).isEqualTo("image_too_large");
            ObjectNode three = withImage(ServeTesting.TINY);
            three.putArray("texts").add("a").add("b").add("c");
            assertThat(c.postJson("/v1/match", three.put("model", "tiny-itm")).errorCode()).isEqualTo("too_many_texts");
            assertThat(c.postJson("/v1/caption", withImage(ServeTesting.TINY).put("prompt", "x".repeat(21))).errorCode())
                    .isEqualTo("text_too_long");
            assertThat(c.postJson("/v1/search", JSON.createObjectNode().put("text", "a")).errorCode()).isEqualTo("no_index");
        }
    }

    @Test
    void apiKeyGuardsTheApiButNotHealthOrThePage() {
        try (BlipServer keyed = BlipServer.start(models, null, ServeOptions.defaults().withAddress("127.0.0.1", 0)
                .withApiKey("s3cret"))) {
            Client anonymous = new Client(keyed.port());
            Response r = anonymous.get("/v1/models");
            assertThat(r.status()).isEqualTo(401);
            assertThat(r.errorCode()).isEqualTo("unauthorized");
            assertThat(anonymous.get("/metrics").status()).isEqualTo(401);
            assertThat(new Client(keyed.port(), Map.of("X-API-Key", "wrong")).get("/v1/models").status()).isEqualTo(401);
            assertThat(anonymous.get("/healthz").status()).isEqualTo(200);
            assertThat(anonymous.get("/").status()).isEqualTo(200);
            assertThat(new Client(keyed.port(), Map.of("Authorization", "Bearer s3cret")).get("/v1/models").status())
                    .isEqualTo(200);
            assertThat(new Client(keyed.port(), Map.of("X-API-Key", "s3cret"))
                    .postJson("/v1/caption", withImage(ServeTesting.TINY)).status()).isEqualTo(200);
        }
    }

    @Test
    void corsIsOffByDefaultAndOnForNamedOrigins() {
        Map<String, String> origin = Map.of("Origin", "https://example.org");
        assertThat(client.get("/v1/models", origin).headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
        try (BlipServer cors = BlipServer.start(models, null, ServeOptions.defaults().withAddress("127.0.0.1", 0)
                .withCorsOrigins(List.of("https://example.org")))) {
            Client c = new Client(cors.port());
            assertThat(c.get("/v1/models", origin).headers().firstValue("Access-Control-Allow-Origin"))
                    .hasValue("https://example.org");
            assertThat(c.get("/v1/models", Map.of("Origin", "https://evil.example")).headers()
                    .firstValue("Access-Control-Allow-Origin")).isEmpty();
        }
    }

    @Test
    void aRequestPastItsTimeoutGets504AndTheServerGoesOn() {
        // The batch window (200 ms) outlasts the timeout (50 ms), so the result cannot arrive in time.
        try (BlipServer slow = BlipServer.start(models, null, ServeOptions.defaults().withAddress("127.0.0.1", 0)
                .withBatching(8, Duration.ofMillis(200), 8, 1).withRequestTimeout(Duration.ofMillis(50)))) {
            Client c = new Client(slow.port());
            Response r = c.postJson("/v1/caption", withImage(ServeTesting.TINY));
            assertThat(r.status()).isEqualTo(504);
            assertThat(r.errorCode()).isEqualTo("timeout");
            assertThat(c.get("/healthz").status()).isEqualTo(200);
        }
    }

    @Test
    void oneBadRequestDoesNotAffectTheOthers() throws Exception {
        Blip blip = (Blip) model("tiny-caption");
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Response>> good = new ArrayList<>();
            List<Future<Response>> bad = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                good.add(pool.submit(() -> client.postJson("/v1/caption", withImage(ServeTesting.TINY))));
                ObjectNode b = withImage(ServeTesting.TINY);
                b.putObject("options").put("max_length", 1000);
                bad.add(pool.submit(() -> client.postJson("/v1/caption", b)));
                bad.add(pool.submit(() -> client.postMultipart("/v1/caption", Map.of(), "x", new byte[] {1, 2, 3})));
            }
            String expected = blip.caption(List.of(decoded(ServeTesting.TINY)), null, blip.generationDefaults()).get(0).text();
            for (Future<Response> f : good) {
                assertThat(f.get().status()).isEqualTo(200);
                assertThat(f.get().json().path("caption").asText()).isEqualTo(expected);
            }
            for (Future<Response> f : bad) {
                assertThat(f.get().status()).isEqualTo(400);
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
