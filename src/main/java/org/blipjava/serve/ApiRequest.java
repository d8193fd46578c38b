package org.blipjava.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;
import jakarta.servlet.MultipartConfigElement;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.Part;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import org.blipjava.image.ImageDecoder;
import org.blipjava.image.ImageException;
import org.blipjava.image.ImageTooLargeException;
import org.blipjava.image.RgbImage;

/**
 * One API request's fields, read alike from a JSON body (the image as base64 under
 * {@code image}) and from a multipart form (the image as the file part {@code image}, texts as
 * repeated {@code text} fields, generation options as a JSON {@code options} field). Every
 * accessor checks the server's limits and answers bad input with a 4xx {@link ApiException}.
 */
final class ApiRequest {
    private final ObjectNode fields;
    private final byte[] image;
    private final String imageName;
    private final ServeOptions limits;

    private ApiRequest(ObjectNode fields, byte[] image, String imageName, ServeOptions limits) {
        this.fields = fields;
        this.image = image;
        this.imageName = imageName;
        this.limits = limits;
    }

    /** Reads the request body as JSON or as a multipart form, after its Content-Type. */
    static ApiRequest read(Context ctx, ObjectMapper json, ServeOptions limits) {
        String type = ctx.contentType() == null ? "" : ctx.contentType().toLowerCase(Locale.ROOT);
        if (type.startsWith("multipart/form-data")) {
            return multipart(ctx, json, limits);
        }
        if (type.startsWith("application/json")) {
            return json(ctx, json, limits);
        }
        throw new ApiException(415, "unsupported_media_type", "send application/json (image as base64) or "
                + "multipart/form-data (image as a file part named 'image'), not '" + ctx.contentType() + "'");
    }

    private static ApiRequest json(Context ctx, ObjectMapper json, ServeOptions limits) {
        JsonNode root;
        try {
            root = json.readTree(ctx.bodyAsBytes());
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest("bad_json", "the body is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw ApiException.badRequest("bad_json", "the body cannot be read: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw ApiException.badRequest("bad_json", "the body must be a JSON object");
        }
        ObjectNode fields = (ObjectNode) root;
        JsonNode img = fields.remove("image");
        byte[] bytes = null;
        if (img != null && !img.isNull()) {
            if (!img.isTextual()) {
                throw ApiException.badRequest("bad_image", "'image' must be a base64 string (or a data: URI)");
            }
            String b64 = img.asText();
            int comma = b64.startsWith("data:") ? b64.indexOf(',') : -1;
            if (comma >= 0) {
                b64 = b64.substring(comma + 1);
            }
            // Refuse before decoding: base64 is 4 characters per 3 bytes.
            if (b64.length() / 4L * 3 > limits.maxUploadBytes() + 3) {
                throw tooLarge(b64.length() / 4L * 3, limits);
            }
            try {
                bytes = Base64.getMimeDecoder().decode(b64);
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest("bad_image", "'image' is not valid base64: " + e.getMessage());
            }
            if (bytes.length > limits.maxUploadBytes()) {
                throw tooLarge(bytes.length, limits);
            }
        }
        JsonNode name = fields.remove("image_name");
        return new ApiRequest(fields, bytes, name != null && name.isTextual() ? name.asText() : "image", limits);
    }

    /** Jetty reads a request's multipart limits from this attribute. */
    private static final String MULTIPART_CONFIG = "org.eclipse.jetty.multipartConfig";

    private static ApiRequest multipart(Context ctx, ObjectMapper json, ServeOptions limits) {
        ObjectNode fields = json.createObjectNode();
        byte[] bytes = null;
        String name = "image";
        // The servlet API directly, with this server's limits on this request: Javalin keeps its
        // multipart settings in a static field, which two servers in one JVM would share.
        long maxField = limits.maxTextChars() * 4L + 1024;
        ctx.req().setAttribute(MULTIPART_CONFIG, new MultipartConfigElement(System.getProperty("java.io.tmpdir"),
                Math.max(limits.maxUploadBytes(), maxField), limits.maxUploadBytes() + 64L * maxField,
                (int) Math.min(Integer.MAX_VALUE, limits.maxUploadBytes())));
        try {
            for (Part part : ctx.req().getParts()) {
                String key = part.getName();
                if (key.equals("image")) {
                    if (part.getSize() > limits.maxUploadBytes()) {
                        throw tooLarge(part.getSize(), limits);
                    }
                    try (InputStream in = part.getInputStream()) {
                        bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 16, limits.maxUploadBytes() + 1));
                    }
                    if (bytes.length > limits.maxUploadBytes()) {
                        throw tooLarge(bytes.length, limits);
                    }
                    if (part.getSubmittedFileName() != null && !part.getSubmittedFileName().isBlank()) {
                        name = part.getSubmittedFileName();
                    }
                    continue;
                }
                String value;
                try (InputStream in = part.getInputStream()) {
                    value = new String(in.readNBytes((int) maxField), StandardCharsets.UTF_8);
                }
                if (key.equals("text") || key.equals("texts")) {
                    fields.withArray("texts").add(value);
                } else if (key.equals("options")) {
                    fields.set("options", parseOptions(json, value));
                } else {
                    fields.put(key, value);
                }
            }
        } catch (ApiException e) {
            throw e;
        } catch (IOException | ServletException | RuntimeException e) {
            // Jetty's parser refuses oversized parts and broken forms with IllegalStateException or IOException.
            String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            if (msg.toLowerCase(Locale.ROOT).contains("exceeds")) {
                throw new ApiException(413, "upload_too_large", "the upload exceeds the limit of "
                        + limits.maxUploadBytes() + " bytes (" + msg + ")");
            }
            throw ApiException.badRequest("bad_form", "the multipart form cannot be read: " + msg);
        }
        return new ApiRequest(fields, bytes, name, limits);
    }

    private static JsonNode parseOptions(ObjectMapper json, String text) {
        try {
            return json.readTree(text);
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest("bad_option", "'options' is not valid JSON: " + e.getOriginalMessage());
        }
    }

    static ApiException tooLarge(long bytes, ServeOptions limits) {
        return new ApiException(413, "upload_too_large", "the image is " + bytes + " bytes; this server accepts at most "
                + limits.maxUploadBytes());
    }

    /** A text field (checked against the length limit), or null when absent or empty. */
    String text(String field) {
        JsonNode v = fields.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw ApiException.badRequest("bad_field", "'" + field + "' must be a string");
        }
        String s = v.asText();
        checkLength(field, s);
        return s.isEmpty() ? null : s;
    }

    /** A text field that must be present and not blank. */
    String requiredText(String field) {
        String s = text(field);
        if (s == null || s.isBlank()) {
            throw ApiException.badRequest("missing_field", "'" + field + "' is required and must not be empty");
        }
        return s;
    }

    /** The {@code texts} array (a single {@code text} string counts as one), each checked; empty when absent. */
    List<String> texts() {
        List<String> out = new ArrayList<>();
        JsonNode one = fields.get("text");
        if (one != null && !one.isNull() && !fields.has("texts")) {
            out.add(requiredText("text"));
            return out;
        }
        JsonNode v = fields.get("texts");
        if (v == null || v.isNull()) {
            return out;
        }
        if (!v.isArray()) {
            throw ApiException.badRequest("bad_field", "'texts' must be an array of strings");
        }
        if (v.size() > limits.maxTexts()) {
            throw ApiException.badRequest("too_many_texts", v.size() + " texts; this server takes at most "
                    + limits.maxTexts() + " per request");
        }
        for (JsonNode t : v) {
            if (!t.isTextual() || t.asText().isBlank()) {
                throw ApiException.badRequest("bad_field", "every entry of 'texts' must be a non-empty string");
            }
            checkLength("texts", t.asText());
            out.add(t.asText());
        }
        return out;
    }

    private void checkLength(String field, String s) {
        if (s.length() > limits.maxTextChars()) {
            throw ApiException.badRequest("text_too_long", "'" + field + "' is " + s.length()
                    + " characters; this server takes at most " + limits.maxTextChars());
        }
    }

    /** An integer field in {@code [min, max]}, or {@code fallback} when absent. */
    int integer(String field, int min, int max, int fallback) {
        JsonNode v = fields.get(field);
        if (v == null || v.isNull() || (v.isTextual() && v.asText().isEmpty())) {
            return fallback;
        }
        int n;
        if (v.isIntegralNumber() && v.canConvertToInt()) {
            n = v.asInt();
        } else if (v.isTextual()) {
            try {
                n = Integer.parseInt(v.asText().strip());
            } catch (NumberFormatException e) {
                throw ApiException.badRequest("bad_field", "'" + field + "' must be an integer, got '" + v.asText() + "'");
            }
        } else {
            throw ApiException.badRequest("bad_field", "'" + field + "' must be an integer, got " + v);
        }
        if (n < min || n > max) {
            throw ApiException.badRequest("bad_field", "'" + field + "' must be between " + min + " and " + max + ", got " + n);
        }
        return n;
    }

    /** Whether a boolean field is true (absent: false). */
    boolean flag(String field) {
        JsonNode v = fields.get(field);
        return v != null && (v.asBoolean(false) || "true".equalsIgnoreCase(v.asText()));
    }

    /** The {@code options} object (generation settings), or null when absent. */
    JsonNode options() {
        JsonNode v = fields.get("options");
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isObject()) {
            throw ApiException.badRequest("bad_option", "'options' must be a JSON object of generation settings");
        }
        return v;
    }

    /** Whether the request carries an image. */
    boolean hasImage() {
        return image != null;
    }

    /** The name of the uploaded image (its file name, or {@code image}). */
    String imageName() {
        return imageName;
    }

    /**
     * The image, decoded; the pixel limit is checked from its header first.
     *
     * @throws ApiException 400 {@code missing_image} or {@code bad_image}, 413 {@code image_too_large}
     */
    RgbImage image() {
        if (image == null) {
            throw ApiException.badRequest("missing_image", "an image is required: a multipart file part named 'image' "
                    + "or a base64 'image' field in JSON");
        }
        try {
            return new ImageDecoder(limits.maxPixels()).read(image, imageName);
        } catch (ImageTooLargeException e) {
            throw new ApiException(413, "image_too_large", e.getMessage());
        } catch (ImageException e) {
            throw ApiException.badRequest("bad_image", e.getMessage());
        }
    }
}
