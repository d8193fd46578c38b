package org.blipjava.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.blipjava.retrieval.ImageIndex;
import org.blipjava.retrieval.IndexInfo;
import org.blipjava.retrieval.Indexer;
import org.blipjava.tasks.LoadOptions;
import org.blipjava.testing.Fixtures;
import org.blipjava.testing.Fixtures.FixtureSet;

/**
 * What the serve tests share: the tiny fixture models, images of several formats and sizes that the
 * tests render themselves (so no test depends on which images a fixture set holds), an index of
 * them, an HTTP client on loopback.
 */
final class ServeTesting {
    static final ObjectMapper JSON = new ObjectMapper();
    /** The indexed images: several formats and sizes, each named by what it is. */
    static final List<String> IMAGES = List.of("rgb_640x480.png", "photo_512x384.jpg", "gray_200x150.png",
            "palette_64x64.gif", "rgba_128x128.png", "progressive_320x240.jpg", "plain_50x40.bmp");
    /** A small odd-sized image for requests whose result does not matter. */
    static final String TINY = "tiny_17x9.png";

    private static Path imageDir;

    private ServeTesting() {}

    static FixtureSet blipSet() {
        return Fixtures.sets(Fixtures.Kind.BLIP).get(0);
    }

    /** tiny-caption, tiny-vqa, tiny-itm and CLIP's tiny-clip-openai, one compute thread each. */
    static ServedModels models() {
        FixtureSet blip = blipSet();
        FixtureSet clip = Fixtures.sets(Fixtures.Kind.CLIP).get(0);
        return ServedModels.load(List.of(blip.model("tiny-caption").toString(), blip.model("tiny-vqa").toString(),
                blip.model("tiny-itm").toString(), clip.model("tiny-clip-openai").toString()), LoadOptions.defaults().withThreads(1));
    }

    /** One of {@link #IMAGES} or {@link #TINY}, rendered on first use. */
    static synchronized Path image(String name) {
        if (imageDir == null) {
            try {
                Path dir = Files.createTempDirectory("blip-serve-images");
                for (String n : IMAGES) {
                    render(dir, n);
                }
                render(dir, TINY);
                imageDir = dir;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        Path p = imageDir.resolve(name);
        if (!Files.isRegularFile(p)) {
            throw new IllegalArgumentException("no test image " + name);
        }
        return p;
    }

    /**
     * Renders {@code kind_WxH.ext}: random coloured shapes (seeded by the name, so every image
     * differs) in the colour model the kind names, written in the format the extension names.
     */
    private static void render(Path dir, String name) throws IOException {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("([a-z]+)_(\\d+)x(\\d+)\\.([a-z]+)").matcher(name);
        if (!m.matches()) {
            throw new IllegalArgumentException(name);
        }
        String kind = m.group(1);
        int w = Integer.parseInt(m.group(2));
        int h = Integer.parseInt(m.group(3));
        String ext = m.group(4);
        java.util.Random rnd = new java.util.Random(name.hashCode());
        java.awt.image.BufferedImage rgb = new java.awt.image.BufferedImage(w, h,
                kind.equals("rgba") ? java.awt.image.BufferedImage.TYPE_INT_ARGB : java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = rgb.createGraphics();
        try {
            g.setPaint(new java.awt.GradientPaint(0, 0, new java.awt.Color(rnd.nextInt(0xffffff)), w, h,
                    new java.awt.Color(rnd.nextInt(0xffffff))));
            g.fillRect(0, 0, w, h);
            for (int i = 0; i < 6; i++) {
                g.setColor(new java.awt.Color(rnd.nextInt(0xffffff) | (kind.equals("rgba") ? rnd.nextInt(256) << 24 : 0xff000000), true));
                int x = rnd.nextInt(w);
                int y = rnd.nextInt(h);
                int s = 1 + rnd.nextInt(Math.max(1, Math.min(w, h) / 2));
                if (rnd.nextBoolean()) {
                    g.fillOval(x - s / 2, y - s / 2, s, s);
                } else {
                    g.fillRect(x - s / 2, y - s / 2, s, s);
                }
            }
        } finally {
            g.dispose();
        }
        java.awt.image.BufferedImage out = rgb;
        if (kind.equals("gray") || kind.equals("palette")) {
            out = new java.awt.image.BufferedImage(w, h, kind.equals("gray") ? java.awt.image.BufferedImage.TYPE_BYTE_GRAY
                    : java.awt.image.BufferedImage.TYPE_BYTE_INDEXED);
            java.awt.Graphics2D c = out.createGraphics();
            c.drawImage(rgb, 0, 0, null);
            c.dispose();
        }
        Path file = dir.resolve(name);
        String format = switch (ext) {
            case "jpg" -> "jpeg";
            default -> ext;
        };
        if (kind.equals("progressive")) {
            javax.imageio.ImageWriter writer = javax.imageio.ImageIO.getImageWritersByFormatName("jpeg").next();
            javax.imageio.ImageWriteParam param = writer.getDefaultWriteParam();
            param.setProgressiveMode(javax.imageio.ImageWriteParam.MODE_DEFAULT);
            try (javax.imageio.stream.ImageOutputStream ios = javax.imageio.ImageIO.createImageOutputStream(file.toFile())) {
                writer.setOutput(ios);
                writer.write(null, new javax.imageio.IIOImage(out, null, null), param);
            } finally {
                writer.dispose();
            }
        } else if (!javax.imageio.ImageIO.write(out, format, file.toFile())) {
            throw new IOException("no ImageIO writer for " + format);
        }
    }

    static byte[] bytes(String name) {
        try {
            return Files.readAllBytes(image(name));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Indexes the fixture images with the served tiny-itm model into {@code dir}. */
    static ImageIndex index(ServedModels models, Path dir) {
        ServedModels.Entry itm = models.all().stream().filter(e -> e.name().equals("tiny-itm")).findFirst().orElseThrow();
        try (ImageIndex writer = ImageIndex.openForWriting(dir, IndexInfo.forModel(itm.argument(), itm.model()))) {
            Indexer.Report r = new Indexer(itm.model(), null, Indexer.Options.defaults())
                    .index(writer, IMAGES.stream().map(ServeTesting::image).toList(), null);
            if (!r.failed().isEmpty()) {
                throw new IllegalStateException("fixture images failed to index: " + r.failed());
            }
        }
        return ImageIndex.open(dir);
    }

    /** A response: status, headers and the body (parsed when it is JSON). */
    record Response(int status, HttpHeaders headers, String body) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON (status " + status + "): " + body, e);
            }
        }

        String errorCode() {
            return json().path("error").path("code").asText();
        }
    }

    /** A client of one server on loopback; every call is bounded by a timeout. */
    static final class Client {
        private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        private final String base;
        private final Map<String, String> headers;

        Client(int port) {
            this(port, Map.of());
        }

        Client(int port, Map<String, String> headers) {
            this.base = "http://127.0.0.1:" + port;
            this.headers = headers;
        }

        Response get(String path) {
            return send(builder(path).GET());
        }

        Response get(String path, Map<String, String> extra) {
            HttpRequest.Builder b = builder(path).GET();
            extra.forEach(b::header);
            return send(b);
        }

        Response postJson(String path, JsonNode body) {
            return postRaw(path, "application/json", body.toString().getBytes(StandardCharsets.UTF_8));
        }

        Response postRaw(String path, String contentType, byte[] body) {
            return send(builder(path).header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofByteArray(body)));
        }

        /** A multipart form: {@code fields} as text parts (a List value repeats the field), then the image as a file part. */
        Response postMultipart(String path, Map<String, Object> fields, String fileName, byte[] image) {
            String boundary = "----blip" + UUID.randomUUID();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            fields.forEach((k, v) -> {
                List<?> values = v instanceof List<?> l ? l : List.of(v);
                for (Object one : values) {
                    write(out, "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + k + "\"\r\n\r\n" + one + "\r\n");
                }
            });
            if (image != null) {
                write(out, "--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"" + fileName
                        + "\"\r\nContent-Type: application/octet-stream\r\n\r\n");
                out.writeBytes(image);
                write(out, "\r\n");
            }
            write(out, "--" + boundary + "--\r\n");
            return postRaw(path, "multipart/form-data; boundary=" + boundary, out.toByteArray());
        }

        private static void write(ByteArrayOutputStream out, String s) {
            out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
        }

        private HttpRequest.Builder builder(String path) {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
            headers.forEach(b::header);
            return b;
        }

        private Response send(HttpRequest.Builder b) {
            try {
                HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
                return new Response(r.statusCode(), r.headers(), r.body());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    /** A JSON request with the named fixture image as base64. */
    static ObjectNode withImage(String imageName) {
        return JSON.createObjectNode().put("image", Base64.getEncoder().encodeToString(bytes(imageName)));
    }

    static List<Integer> ints(JsonNode array) {
        List<Integer> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asInt()));
        return out;
    }

    static List<Integer> ints(int[] ids) {
        List<Integer> out = new ArrayList<>();
        for (int i : ids) {
            out.add(i);
        }
        return out;
    }
}
