package org.blipjava.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.blipjava.hub.ConsoleProgressListener;
import org.blipjava.hub.DownloadListener;
import org.blipjava.retrieval.ImageIndex;
import org.blipjava.retrieval.IndexInfo;
import org.blipjava.serve.BlipServer;
import org.blipjava.serve.ServeOptions;
import org.blipjava.serve.ServedModels;
import org.blipjava.tasks.LoadOptions;
import org.blipjava.tensor.WeightPrecision;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code blip serve}: the HTTP API and the web page. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serves models over HTTP: a JSON API (/v1/caption, /v1/vqa, /v1/match, /v1/embed, /v1/search,"
                + " /v1/models; /openapi.json describes it), /healthz, /metrics (Prometheus) and a web page at /.",
            "Concurrent requests for the same model and settings are batched into one model call.",
            "Binds to 127.0.0.1 unless --host says otherwise. Ctrl-C stops it after requests in flight finish.",
            "Default model: Salesforce/blip-image-captioning-base (or, with --index, the index's model)."})
final class ServeCommand implements Callable<Integer> {
    static final java.util.logging.Logger LUCENE_LOG = IndexCommand.quietLucene();

    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, paramLabel = "MODEL",
            description = "A model directory or Hub id of any supported family (repeat to serve several).")
    List<String> models = new ArrayList<>();

    @Option(names = "--index", paramLabel = "DIR", description = "An index built by 'blip index' to search; its model is served too.")
    Path index;

    @Option(names = "--host", paramLabel = "ADDR", defaultValue = "127.0.0.1",
            description = "Address to bind (default: ${DEFAULT-VALUE}; 0.0.0.0 exposes the server to the network).")
    String host;

    @Option(names = "--port", paramLabel = "N", defaultValue = "8080", description = "Port (default: ${DEFAULT-VALUE}; 0: any free one).")
    int port;

    @Option(names = "--api-key-file", paramLabel = "FILE",
            description = "Require the key in this file (first line) as 'Authorization: Bearer KEY' or 'X-API-Key' on /v1 and /metrics.")
    Path apiKeyFile;

    @Option(names = "--cors-origin", paramLabel = "ORIGIN",
            description = "Allow pages of this origin (e.g. https://example.org) to call the API (repeatable; default: CORS off).")
    List<String> corsOrigins = new ArrayList<>();

    @Option(names = "--max-upload-mb", paramLabel = "MB", defaultValue = "20", description = "Largest image upload (default: ${DEFAULT-VALUE}).")
    int maxUploadMb;

    @Option(names = "--max-megapixels", paramLabel = "N", defaultValue = "50",
            description = "Largest image, checked from its header before decoding (default: ${DEFAULT-VALUE}).")
    int maxMegapixels;

    @Option(names = "--max-text-length", paramLabel = "N", defaultValue = "1000", description = "Longest prompt, question or text in characters (default: ${DEFAULT-VALUE}).")
    int maxTextLength;

    @Option(names = "--max-batch", paramLabel = "N", defaultValue = "8", description = "Most requests per model call (default: ${DEFAULT-VALUE}).")
    int maxBatch;

    @Option(names = "--batch-wait-ms", paramLabel = "MS", defaultValue = "5",
            description = "How long a request waits for others to join its batch (default: ${DEFAULT-VALUE}).")
    int batchWaitMs;

    @Option(names = "--queue", paramLabel = "N", defaultValue = "64",
            description = "Most requests waiting; more get 503 with Retry-After (default: ${DEFAULT-VALUE}).")
    int queue;

    @Option(names = "--workers", paramLabel = "N", defaultValue = "1", description = "Model calls at the same time (default: ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "60", description = "Per-request timeout; 504 after it (default: ${DEFAULT-VALUE}).")
    int timeout;

    @Option(names = "--revision", paramLabel = "REV", description = "Hub revision when a model is a Hub id (default: main).")
    String revision;

    @Option(names = "--threads", paramLabel = "N", description = "Compute threads per model (default: all cores).")
    Integer threads;

    @Option(names = "--dtype", paramLabel = "TYPE", defaultValue = "f32", description = "Weight storage: f32, bf16 or int8 (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--no-progress", description = "Never show a download progress bar.")
    boolean noProgress;

    @Option(names = {"-v", "--verbose"}, description = "Show stack traces of errors.")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        ServeOptions options;
        WeightPrecision precision;
        try {
            precision = WeightPrecision.parse(dtype);
            options = ServeOptions.defaults().withAddress(host, port)
                    .withLimits(maxUploadMb * (1L << 20), maxMegapixels * 1_000_000L, maxTextLength, 64)
                    .withBatching(maxBatch, Duration.ofMillis(batchWaitMs), queue, workers)
                    .withRequestTimeout(Duration.ofSeconds(timeout)).withApiKey(readKey())
                    .withCorsOrigins(corsOrigins);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        List<String> toLoad = new ArrayList<>(models);
        if (index != null) {
            // The index's model is served as well, so that a search needs no --model.
            String indexModel = ImageIndex.readInfo(index).modelId();
            if (toLoad.stream().noneMatch(m -> IndexInfo.modelId(m).equals(indexModel))) {
                toLoad.add(indexModel);
            }
        }
        if (toLoad.isEmpty()) {
            toLoad.add("Salesforce/blip-image-captioning-base");
        }
        boolean bars = !noProgress && ConsoleProgressListener.stderrIsTerminal();
        LoadOptions load = LoadOptions.defaults().withRevision(revision).withThreads(threads == null ? 0 : threads)
                .withPrecision(precision).withListener(bars ? ConsoleProgressListener.forStderr(true) : DownloadListener.NONE);
        try (ServedModels served = ServedModels.load(toLoad, load);
                ImageIndex idx = index == null ? null : ImageIndex.open(index)) {
            BlipServer server = BlipServer.start(served, idx, options);
            CountDownLatch stopped = new CountDownLatch(1);
            Thread hook = new Thread(() -> {
                spec.commandLine().getErr().println("blip serve: stopping after the requests in flight");
                spec.commandLine().getErr().flush();
                server.close();
                stopped.countDown();
            }, "blip-serve-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            var out = spec.commandLine().getOut();
            for (ServedModels.Entry e : served.all()) {
                out.println("serving " + e.name() + " (" + e.model().architecture() + "): "
                        + e.tasks().stream().map(ServedModels.Task::apiName).toList());
            }
            String shown = host.contains(":") ? "[" + host + "]" : host;
            out.println("listening on http://" + shown + ":" + server.port() + "/ (API: /v1, description: /openapi.json)");
            out.flush();
            stopped.await();
            return 0;
        }
    }

    private String readKey() {
        if (apiKeyFile == null) {
            return null;
        }
        try {
            List<String> lines = Files.readAllLines(apiKeyFile, StandardCharsets.UTF_8);
            String key = lines.isEmpty() ? "" : lines.get(0).strip();
            if (key.isEmpty()) {
                throw new ParameterException(spec.commandLine(), "--api-key-file " + apiKeyFile + " holds no key on its first line");
            }
            return key;
        } catch (IOException e) {
            throw new ParameterException(spec.commandLine(), "--api-key-file " + apiKeyFile + ": cannot be read: " + e.getMessage());
        }
    }
}
