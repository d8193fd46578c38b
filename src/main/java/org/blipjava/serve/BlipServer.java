package org.blipjava.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HttpResponseException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.blipjava.config.ConfigException;
import org.blipjava.generation.GenerationConfig;
import org.blipjava.image.ImageDecoder;
import org.blipjava.image.RgbImage;
import org.blipjava.report.Explain;
import org.blipjava.report.Pictures;
import org.blipjava.report.ReportFiles;
import org.blipjava.retrieval.ImageIndex;
import org.blipjava.retrieval.ImageSearcher;
import org.blipjava.retrieval.IndexException;
import org.blipjava.retrieval.IndexInfo;
import org.blipjava.retrieval.SearchHit;
import org.blipjava.retrieval.SearchResults;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.GeneratedText;
import org.blipjava.tasks.ImageTextModel;
import org.blipjava.tasks.MatchScores;
import org.blipjava.tasks.TaskException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code blip serve}: the JSON API ({@code /v1/...}), metrics, the OpenAPI description and the
 * web page, over models loaded once.
 *
 * <p>A request is read and checked on its own (virtual) thread: fields, limits, and the image
 * decoded with the pixel limit taken from its header. Only then does it join the
 * {@link Batcher}'s bounded queue, where requests for the same model and settings are gathered
 * into one model call; the handler waits for its own result up to the request timeout. Errors
 * are JSON with a 4xx status for what the client can fix, 503 with {@code Retry-After} when the
 * queue is full, 504 on timeout.
 *
 * <p>Does not own the models or the index passed in; owns its HTTP server and batcher, which
 * {@link #close()} stops after letting requests in flight finish.
 */
public final class BlipServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BlipServer.class);
    /** The generation settings a request may set, named as the reference's generate() arguments. */
    static final Set<String> GENERATION_OPTIONS = Set.of("num_beams", "max_length", "max_new_tokens", "min_length",
            "min_new_tokens", "repetition_penalty", "length_penalty", "no_repeat_ngram_size", "early_stopping",
            "num_return_sequences", "do_sample", "temperature", "top_k", "top_p", "seed");
    /** Beams and returned sequences a request may ask for: more would let one request hold a worker for long. */
    static final int MAX_BEAMS = 10;
    private static final int THUMBNAIL_SIDE = 160;
    private static final int EXPLAIN_PANEL = 160;
    /** Web page files served from the jar: name to content type. */
    private static final Map<String, String> ASSETS = Map.of("index.html", "text/html; charset=utf-8",
            "app.js", "text/javascript; charset=utf-8", "style.css", "text/css; charset=utf-8");

    private final ServedModels models;
    private final ServeOptions options;
    private final ObjectMapper json = new ObjectMapper();
    private final Batcher batcher;
    private final Metrics metrics;
    private final Search search;
    private final Javalin app;
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile boolean draining;
    private boolean closed;

    /** The index a server searches, with the model it was built with. */
    private record Search(ServedModels.Entry model, ImageIndex index, ImageSearcher searcher) {}

    /**
     * Starts a server.
     *
     * @param models  the models to serve (not closed by the server)
     * @param index   an index built by {@code blip index} to search, or null; it must have been built
     *                with one of {@code models} (not closed by the server)
     * @param options address, limits and batching
     * @throws IndexException when no served model built the index
     */
    public static BlipServer start(ServedModels models, ImageIndex index, ServeOptions options) {
        BlipServer s = new BlipServer(models, index, options);
        try {
            s.app.start(options.host(), options.port());
        } catch (RuntimeException e) {
            s.batcher.close(Duration.ZERO);
            throw e;
        }
        return s;
    }

    private BlipServer(ServedModels models, ImageIndex index, ServeOptions options) {
        this.models = models;
        this.options = options;
        this.search = index == null ? null : search(models, index);
        Batcher[] holder = new Batcher[1];
        this.metrics = new Metrics(() -> holder[0] == null ? 0 : holder[0].depth());
        this.batcher = new Batcher(options.maxBatch(), options.batchWait(), options.queueCapacity(), options.workers(), metrics);
        holder[0] = batcher;
        this.app = Javalin.create(config -> {
            config.showJavalinBanner = false;
            config.startupWatcherEnabled = false;
            config.useVirtualThreads = true;
            // Base64 is 4/3 of the image; the rest of a JSON request is small.
            long maxBody = options.maxUploadBytes() / 3 * 4 + (1 << 20);
            config.http.maxRequestSize = maxBody;
            if (!options.corsOrigins().isEmpty()) {
                config.bundledPlugins.enableCors(cors -> cors.addRule(rule -> {
                    String first = options.corsOrigins().get(0);
                    rule.allowHost(first, options.corsOrigins().subList(1, options.corsOrigins().size()).toArray(String[]::new));
                }));
            }
        });
        route("get", "/healthz", false, ctx -> send(ctx, json.createObjectNode().put("status", draining ? "stopping" : "ok")));
        route("get", "/metrics", true, ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.scrape()));
        route("get", "/openapi.json", false, ctx -> ctx.contentType("application/json").result(resource("openapi.json")));
        route("get", "/", false, ctx -> asset(ctx, "index.html"));
        route("get", "/static/{file}", false, ctx -> asset(ctx, ctx.pathParam("file")));
        route("get", "/v1/models", true, this::listModels);
        route("post", "/v1/caption", true, this::caption);
        route("post", "/v1/vqa", true, this::vqa);
        route("post", "/v1/match", true, this::match);
        route("post", "/v1/embed", true, this::embed);
        route("post", "/v1/search", true, this::search);
        route("post", "/v1/explain/attention", true, this::explainAttention);
        // Anything else: a JSON 404 rather than Jetty's page (the routes above write their own errors).
        app.error(404, ctx -> {
            if (ctx.attribute("blip.handled") == null) {
                writeError(ctx, new ApiException(404, "not_found", "no such endpoint: " + ctx.method() + " " + ctx.path()
                        + " (see /openapi.json)"));
            }
        });
        app.error(405, ctx -> {
            if (ctx.attribute("blip.handled") == null) {
                writeError(ctx, new ApiException(405, "method_not_allowed", ctx.method() + " is not allowed on " + ctx.path()));
            }
        });
        app.exception(Exception.class, (e, ctx) -> writeError(ctx, translate(e)));
    }

    private static Search search(ServedModels models, ImageIndex index) {
        IndexInfo info = index.info();
        for (ServedModels.Entry e : models.all()) {
            if (IndexInfo.modelId(e.argument()).equals(info.modelId())) {
                return new Search(e, index, new ImageSearcher(e.model(), e.argument(), index, 8));
            }
        }
        throw new IndexException(index.location() + " was built with " + info.modelId()
                + ", which is not among the served models; add --model " + info.modelId());
    }

    /** The port the server listens on (the one chosen when the options asked for 0). */
    public int port() {
        return app.port();
    }

    /** The server's metrics. */
    public Metrics metrics() {
        return metrics;
    }

    // ------------------------------------------------------------------ plumbing

    private interface ApiHandler {
        void handle(Context ctx) throws Exception;
    }

    /** Registers a route whose errors become JSON, counted in the metrics, behind the API key when {@code protect}. */
    private void route(String method, String path, boolean protect, ApiHandler handler) {
        Handler h = ctx -> {
            long start = System.nanoTime();
            ctx.attribute("blip.handled", Boolean.TRUE);
            ctx.attribute("blip.deadline", start + options.requestTimeout().toNanos());
            inFlight.incrementAndGet();
            try {
                if (draining && !path.equals("/healthz")) {
                    metrics.rejected("stopping");
                    throw new ApiException(503, "shutting_down", "the server is shutting down", 5);
                }
                if (protect) {
                    checkKey(ctx);
                }
                handler.handle(ctx);
            } catch (Exception e) {
                writeError(ctx, translate(e));
            } finally {
                inFlight.decrementAndGet();
                metrics.request(path, ctx.statusCode(), System.nanoTime() - start);
            }
        };
        switch (method) {
            case "get" -> app.get(path, h);
            case "post" -> app.post(path, h);
            default -> throw new IllegalArgumentException(method);
        }
    }

    private void checkKey(Context ctx) {
        if (options.apiKey() == null) {
            return;
        }
        String given = ctx.header("X-API-Key");
        String auth = ctx.header("Authorization");
        if (given == null && auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            given = auth.substring(7).strip();
        }
        // Constant-time comparison: the time taken tells nothing about the key.
        if (given == null || !MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8),
                options.apiKey().getBytes(StandardCharsets.UTF_8))) {
            throw new ApiException(401, "unauthorized", given == null
                    ? "this server needs an API key: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'"
                    : "the API key is wrong");
        }
    }

    private ApiException translate(Throwable t) {
        Throwable e = t;
        while (e instanceof ExecutionException && e.getCause() != null) {
            e = e.getCause();
        }
        if (e instanceof ApiException a) {
            return a;
        }
        if (e instanceof HttpResponseException h) {
            return h.getStatus() == 413
                    ? new ApiException(413, "upload_too_large", "the request body exceeds the limit of "
                            + (options.maxUploadBytes() / 3 * 4 + (1 << 20)) + " bytes")
                    : new ApiException(h.getStatus(), "http_error", h.getMessage());
        }
        if (e instanceof TaskException || e instanceof ConfigException) {
            return ApiException.badRequest("bad_request", e.getMessage());
        }
        if (e instanceof IndexException) {
            return new ApiException(500, "index_error", e.getMessage());
        }
        // A fault of the server, not of the request: logged with its trace, answered without one.
        LOG.error("request failed", e);
        return new ApiException(500, "internal_error", "the server failed to answer this request: "
                + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
    }

    private void writeError(Context ctx, ApiException e) {
        ObjectNode body = json.createObjectNode();
        body.putObject("error").put("code", e.code()).put("message", e.getMessage());
        if (e.retryAfterSeconds() != null) {
            ctx.header("Retry-After", Integer.toString(e.retryAfterSeconds()));
        }
        ctx.status(e.status()).contentType("application/json").result(body.toString());
    }

    private void asset(Context ctx, String name) {
        String type = ASSETS.get(name);
        if (type == null) {
            throw new ApiException(404, "not_found", "no such file: " + name);
        }
        ctx.contentType(type).result(resource("web/" + name));
    }

    private static byte[] resource(String name) {
        try (InputStream in = BlipServer.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("resource " + name + " is missing from the jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void send(Context ctx, JsonNode body) {
        ctx.contentType("application/json").result(body.toString());
    }

    private ApiRequest request(Context ctx) {
        return ApiRequest.read(ctx, json, options);
    }

    /** Queues one input and waits for its output until the request's deadline. */
    private <I, O> O run(Context ctx, Batcher.Key key, I input, Function<List<I>, List<O>> function) {
        Batcher.Ticket<O> ticket = batcher.submit(key, input, function);
        long left = (long) ctx.attribute("blip.deadline") - System.nanoTime();
        try {
            return ticket.result().get(Math.max(0, left), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            ticket.abandon();
            throw new ApiException(504, "timeout", "no result within " + options.requestTimeout().toMillis()
                    + " ms; the server is busy or the request asks for much (beams, length)");
        } catch (ExecutionException e) {
            throw translate(e.getCause());
        } catch (InterruptedException e) {
            ticket.abandon();
            Thread.currentThread().interrupt();
            throw new ApiException(503, "shutting_down", "the request was interrupted", 5);
        }
    }

    /** The model's generation defaults with the request's options applied. */
    private static GenerationConfig generation(JsonNode requested, GenerationConfig defaults) {
        if (requested == null) {
            return defaults;
        }
        List<String> unknown = new ArrayList<>();
        requested.fieldNames().forEachRemaining(f -> {
            if (!GENERATION_OPTIONS.contains(f)) {
                unknown.add(f);
            }
        });
        if (!unknown.isEmpty()) {
            throw ApiException.badRequest("bad_option", "unknown generation option(s) " + unknown + "; known: "
                    + GENERATION_OPTIONS.stream().sorted().toList());
        }
        GenerationConfig g;
        try {
            g = GenerationConfig.fromJson(requested, defaults, "options");
        } catch (ConfigException | IllegalArgumentException e) {
            throw ApiException.badRequest("bad_option", e.getMessage());
        }
        if (g.numBeams() > MAX_BEAMS || g.numReturnSequences() > MAX_BEAMS) {
            throw ApiException.badRequest("bad_option", "num_beams and num_return_sequences are at most " + MAX_BEAMS
                    + " on this server");
        }
        return g;
    }

    /** Splits a batch's outputs ({@code per} sequences per input, input by input) into one list per input. */
    private static List<List<GeneratedText>> perInput(List<GeneratedText> out, int inputs) {
        int per = out.size() / inputs;
        List<List<GeneratedText>> res = new ArrayList<>(inputs);
        for (int i = 0; i < inputs; i++) {
            res.add(List.copyOf(out.subList(i * per, (i + 1) * per)));
        }
        return res;
    }

    private ObjectNode result(ServedModels.Entry model) {
        return json.createObjectNode().put("model", model.name());
    }

    // ------------------------------------------------------------------ endpoints

    private void listModels(Context ctx) {
        ObjectNode out = json.createObjectNode();
        ArrayNode list = out.putArray("models");
        for (ServedModels.Entry e : models.all()) {
            ObjectNode m = list.addObject();
            m.put("name", e.name()).put("family", e.model().family().displayName())
                    .put("architecture", e.model().architecture());
            ArrayNode tasks = m.putArray("tasks");
            e.tasks().forEach(t -> tasks.add(t.apiName()));
            if (search != null && search.model() == e) {
                tasks.add("search");
            }
            if (e.model().embeds()) {
                m.put("embedding_dimension", e.model().embeddingDimension());
                m.put("itm", e.model().hasMatchHead());
            }
        }
        out.put("search", search != null);
        if (search != null) {
            out.put("index_size", search.index().size());
        }
        send(ctx, out);
    }

    private void caption(Context ctx) {
        ApiRequest req = request(ctx);
        ServedModels.Entry e = models.forTask(req.text("model"), ServedModels.Task.CAPTION);
        Blip blip = (Blip) e.model();
        String prompt = req.text("prompt");
        GenerationConfig g = generation(req.options(), blip.generationDefaults());
        RgbImage image = req.image();
        // Sampling draws from one random stream per call: batched, a request's draws would depend on its neighbours.
        Batcher.Key key = new Batcher.Key(e.name(), "caption", Arrays.asList(prompt, g), g.doSample());
        List<GeneratedText> mine = run(ctx, key, image,
                (List<RgbImage> images) -> perInput(blip.caption(images, prompt, g), images.size()));
        ObjectNode out = result(e).put("image", req.imageName());
        if (prompt != null) {
            out.put("prompt", prompt);
        }
        ResultJson.generated(out, "caption", mine);
        send(ctx, out);
    }

    private record Question(RgbImage image, String question) {}

    private void vqa(Context ctx) {
        ApiRequest req = request(ctx);
        ServedModels.Entry e = models.forTask(req.text("model"), ServedModels.Task.VQA);
        Blip blip = (Blip) e.model();
        String question = req.requiredText("question");
        GenerationConfig g = generation(req.options(), blip.generationDefaults());
        RgbImage image = req.image();
        // Questions of one batch are padded to the longest and the answer decoder attends to the
        // padding, so only questions of equal token length batch without changing answers.
        int tokens = blip.tokenizer().encode(question).length;
        Batcher.Key key = new Batcher.Key(e.name(), "vqa", Arrays.asList(tokens, g), g.doSample());
        List<GeneratedText> mine = run(ctx, key, new Question(image, question), (List<Question> qs) -> perInput(
                blip.answer(qs.stream().map(Question::image).toList(), qs.stream().map(Question::question).toList(), g),
                qs.size()));
        ObjectNode out = result(e).put("image", req.imageName()).put("question", question);
        ResultJson.generated(out, "answer", mine);
        send(ctx, out);
    }

    private void match(Context ctx) {
        ApiRequest req = request(ctx);
        ServedModels.Entry e = models.forTask(req.text("model"), ServedModels.Task.MATCH);
        ImageTextModel model = e.model();
        List<String> texts = List.copyOf(req.texts());
        if (texts.isEmpty()) {
            throw ApiException.badRequest("missing_field", "'texts' is required: the texts to score against the image");
        }
        RgbImage image = req.image();
        Batcher.Key key = new Batcher.Key(e.name(), "match", texts, false);
        float[] row = run(ctx, key, image, (List<RgbImage> images) -> {
            MatchScores s = model.match(images, texts);
            List<float[]> out = new ArrayList<>();
            for (int i = 0; i < images.size(); i++) {
                float[] r = new float[texts.size() * 2];
                for (int t = 0; t < texts.size(); t++) {
                    r[2 * t] = s.hasItm() ? s.itm(i, t) : Float.NaN;
                    r[2 * t + 1] = s.itc(i, t);
                }
                out.add(r);
            }
            return out;
        });
        ObjectNode out = result(e);
        out.put("image", req.imageName());
        ArrayNode results = out.putArray("results");
        for (int t = 0; t < texts.size(); t++) {
            ObjectNode r = results.addObject().put("text", texts.get(t));
            float itm = row[2 * t];
            ResultJson.scores(r, Float.isNaN(itm) ? null : itm, row[2 * t + 1]);
        }
        send(ctx, out);
    }

    private void embed(Context ctx) {
        ApiRequest req = request(ctx);
        ServedModels.Entry e = models.forTask(req.text("model"), ServedModels.Task.EMBED);
        ImageTextModel model = e.model();
        List<String> texts = List.copyOf(req.texts());
        if (!req.hasImage() && texts.isEmpty()) {
            throw ApiException.badRequest("missing_field", "give an image, 'texts', or both to embed");
        }
        ObjectNode out = result(e);
        ArrayNode results = out.putArray("results");
        if (req.hasImage()) {
            RgbImage image = req.image();
            float[] v = run(ctx, new Batcher.Key(e.name(), "embed", null, false), image,
                    (List<RgbImage> images) -> Arrays.asList(model.embedImages(images)));
            ResultJson.embedding(results.addObject().put("image", req.imageName()), v);
        }
        if (!texts.isEmpty()) {
            // Texts of one call are padded together; a request's texts go alone so its embeddings never depend on others.
            float[][] v = run(ctx, new Batcher.Key(e.name(), "embed_texts", null, true), texts,
                    (List<List<String>> calls) -> java.util.Collections.singletonList(model.embedTexts(calls.get(0))));
            for (int t = 0; t < texts.size(); t++) {
                ResultJson.embedding(results.addObject().put("text", texts.get(t)), v[t]);
            }
        }
        send(ctx, out);
    }

    private void search(Context ctx) {
        if (search == null) {
            throw new ApiException(404, "no_index", "this server has no index to search; start it with --index DIR");
        }
        ApiRequest req = request(ctx);
        // A form's 'text' fields arrive as 'texts': one query text either way.
        List<String> texts = req.texts();
        if (texts.size() > 1) {
            throw ApiException.badRequest("bad_query", "search takes one 'text', got " + texts.size());
        }
        String text = texts.isEmpty() ? null : texts.get(0);
        if ((text == null) == !req.hasImage()) {
            throw ApiException.badRequest("bad_query", "search by 'text' or by 'image', exactly one of them");
        }
        int k = req.integer("k", 1, 100, 10);
        int rerank = req.integer("rerank", 0, 100, 0);
        boolean thumbnails = req.flag("thumbnails");
        ServedModels.Entry e = search.model();
        ObjectNode out = result(e);
        Batcher.Key key = new Batcher.Key(e.name(), "search", null, true);
        if (text != null) {
            out.putObject("query").put("text", text);
            SearchResults r = run(ctx, key, text, (List<String> q) -> List.of(search.searcher().byText(q.get(0), k, rerank)));
            out.set("results", hits(r.hits(), thumbnails));
        } else {
            RgbImage image = req.image();
            out.putObject("query").put("image", req.imageName());
            List<SearchResults> r = run(ctx, key, image, (List<RgbImage> q) -> List.of(List.of(
                    search.searcher().byImage(q.get(0), k), search.searcher().byImageCaptions(q.get(0), k, rerank))));
            out.set("results", hits(r.get(0).hits(), thumbnails));
            if (!r.get(1).hits().isEmpty()) {
                out.set("caption_results", hits(r.get(1).hits(), thumbnails));
            }
        }
        send(ctx, out);
    }

    /** Search hits as the CLI writes them, with an inline JPEG thumbnail of each when asked. */
    private ArrayNode hits(List<SearchHit> hits, boolean thumbnails) {
        ArrayNode out = ResultJson.hits(hits);
        if (thumbnails) {
            ImageDecoder decoder = new ImageDecoder(options.maxPixels());
            for (int i = 0; i < hits.size(); i++) {
                try {
                    RgbImage img = decoder.read(java.nio.file.Path.of(hits.get(i).path()));
                    ((ObjectNode) out.get(i)).put("thumbnail", Pictures.thumbnailDataUri(img, THUMBNAIL_SIDE));
                } catch (RuntimeException ex) {
                    // The file changed or vanished since it was indexed: the hit stays, without a picture.
                    ((ObjectNode) out.get(i)).put("thumbnail_error", ex.getMessage());
                }
            }
        }
        return out;
    }

    private void explainAttention(Context ctx) {
        ApiRequest req = request(ctx);
        ServedModels.Entry e = models.forTask(req.text("model"), ServedModels.Task.EXPLAIN);
        Blip blip = (Blip) e.model();
        String prompt = req.text("prompt");
        GenerationConfig g = generation(req.options(), blip.generationDefaults());
        int layers = blip.config().text().numHiddenLayers();
        int layer = req.integer("layer", 0, layers - 1, layers - 1);
        RgbImage image = req.image();
        Batcher.Key key = new Batcher.Key(e.name(), "explain", null, true);
        ObjectNode out = run(ctx, key, image, (List<RgbImage> q) -> {
            Explain.CaptionAttention a = Explain.captionAttention(blip, q.get(0), prompt, g, layer);
            byte[] png = ReportFiles.png(Explain.captionAttentionPicture(q.get(0), a, EXPLAIN_PANEL));
            ObjectNode o = result(e);
            ResultJson.generated(o, "caption", List.of(a.caption()));
            ArrayNode words = o.putArray("words");
            a.words().forEach(words::add);
            o.put("layer", a.layer());
            o.put("image_png", Base64.getEncoder().encodeToString(png));
            return List.of(o);
        });
        send(ctx, out);
    }

    // ------------------------------------------------------------------ shutdown

    /**
     * Stops gracefully: new requests get 503, requests in flight (queued or running) finish
     * within the shutdown grace, then the HTTP server and the batcher stop.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        draining = true;
        long deadline = System.nanoTime() + options.shutdownGrace().toNanos();
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        app.stop();
        batcher.close(Duration.ofSeconds(1));
    }
}
