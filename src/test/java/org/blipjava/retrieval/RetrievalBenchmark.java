package org.blipjava.retrieval;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.LoadOptions;
import org.blipjava.testing.Fixtures;

/**
 * Not a test: measures search latency over many random unit vectors and indexing throughput on
 * generated images with the fixture's tiny retrieval model. Run by hand:
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp target/classes:target/test-classes:$(cat cp.txt) \
 *     org.blipjava.retrieval.RetrievalBenchmark WORKDIR [vectors=100000] [images=10000]
 * </pre>
 */
public final class RetrievalBenchmark {
    private RetrievalBenchmark() {}

    public static void main(String[] args) throws Exception {
        Path work = Path.of(args[0]);
        int vectors = args.length > 1 ? Integer.parseInt(args[1]) : 100_000;
        int images = args.length > 2 ? Integer.parseInt(args[2]) : 10_000;
        Files.createDirectories(work);
        if (vectors > 0) {
            searchLatency(work.resolve("vectors"), vectors, 256);
        }
        if (images > 0) {
            indexing(work, images);
        }
        if (args.length > 3 && Integer.parseInt(args[3]) > 0) {
            visionBase(Integer.parseInt(args[3]));
        }
    }

    /**
     * Per-image cost of the BLIP-base image side (ViT-B/16 at 384 px, what indexing runs) with
     * random weights of the real shapes: the basis of projecting indexing time to BLIP-base.
     */
    static void visionBase(int batch) {
        org.blipjava.config.BlipVisionConfig c = org.blipjava.config.BlipVisionConfig.defaults();
        int d = c.hiddenSize();
        int inter = c.intermediateSize();
        Random r = new Random(3);
        java.util.Map<String, org.blipjava.checkpoint.TensorData> t = new java.util.LinkedHashMap<>();
        String e = "vision_model.embeddings.";
        put(t, r, e + "class_embedding", 0.02f, 1, 1, d);
        put(t, r, e + "patch_embedding.weight", 0.02f, d, 3, c.patchSize(), c.patchSize());
        put(t, r, e + "patch_embedding.bias", 0f, d);
        put(t, r, e + "position_embedding", 0.02f, 1, c.numPositions(), d);
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = "vision_model.encoder.layers." + l + ".";
            put(t, r, p + "layer_norm1.weight", -1f, d);
            put(t, r, p + "layer_norm1.bias", 0f, d);
            put(t, r, p + "layer_norm2.weight", -1f, d);
            put(t, r, p + "layer_norm2.bias", 0f, d);
            put(t, r, p + "mlp.fc1.weight", 0.02f, inter, d);
            put(t, r, p + "mlp.fc1.bias", 0f, inter);
            put(t, r, p + "mlp.fc2.weight", 0.02f, d, inter);
            put(t, r, p + "mlp.fc2.bias", 0f, d);
            put(t, r, p + "self_attn.projection.weight", 0.02f, d, d);
            put(t, r, p + "self_attn.projection.bias", 0f, d);
            put(t, r, p + "self_attn.qkv.weight", 0.02f, 3 * d, d);
            put(t, r, p + "self_attn.qkv.bias", 0f, 3 * d);
        }
        put(t, r, "vision_model.post_layernorm.weight", -1f, d);
        put(t, r, "vision_model.post_layernorm.bias", 0f, d);
        try (org.blipjava.tensor.Parallel par = org.blipjava.tensor.Parallel.ofAvailableProcessors()) {
            org.blipjava.model.BlipVisionModel vm = org.blipjava.model.BlipVisionModel.load(
                    new org.blipjava.checkpoint.StateDict("random BLIP-base vision", t), "vision_model.", c, par);
            int hw = c.imageSize();
            float[] px = new float[batch * 3 * hw * hw];
            for (int i = 0; i < px.length; i++) {
                px[i] = (float) r.nextGaussian();
            }
            vm.forward(px, batch, hw, hw); // warm-up
            long t0 = System.nanoTime();
            vm.forward(px, batch, hw, hw);
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.printf("BLIP-base vision tower (ViT-B/16, %d px), batch %d on %d threads: %.0f ms/image%n",
                    hw, batch, par.threads(), 1000 * s / batch);
        }
    }

    /** A random F32 tensor; scale -1 means all ones (layer norm weights). */
    private static void put(java.util.Map<String, org.blipjava.checkpoint.TensorData> out, Random r, String name,
            float scale, long... shape) {
        int n = (int) org.blipjava.checkpoint.TensorData.numel(shape);
        java.lang.foreign.MemorySegment seg = java.lang.foreign.Arena.global().allocate(4L * n, 4);
        for (int i = 0; i < n; i++) {
            float v = scale < 0 ? 1f : (float) (scale * r.nextGaussian());
            seg.set(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 4L * i, v);
        }
        out.put(name, new org.blipjava.checkpoint.TensorData(name, org.blipjava.checkpoint.DType.F32, shape, seg));
    }

    private static float[] randomUnit(Random r, int dim) {
        float[] v = new float[dim];
        double s = 0;
        for (int d = 0; d < dim; d++) {
            v[d] = (float) r.nextGaussian();
            s += v[d] * v[d];
        }
        float inv = (float) (1 / Math.sqrt(s));
        for (int d = 0; d < dim; d++) {
            v[d] *= inv;
        }
        return v;
    }

    static void searchLatency(Path dir, int n, int dim) {
        Random r = new Random(7);
        long t0 = System.nanoTime();
        try (ImageIndex index = ImageIndex.openForWriting(dir, new IndexInfo("benchmark", dim))) {
            for (int i = 0; i < n; i++) {
                index.add(new IndexedImage("/bench/" + i + ".jpg", 1000, 0, null, randomUnit(r, dim), null));
            }
            index.commit();
        }
        double buildS = (System.nanoTime() - t0) / 1e9;
        try (ImageIndex index = ImageIndex.open(dir)) {
            for (int i = 0; i < 50; i++) {
                index.search(randomUnit(r, dim), 10);
            }
            int q = 500;
            long[] ns = new long[q];
            for (int i = 0; i < q; i++) {
                float[] v = randomUnit(r, dim);
                long s = System.nanoTime();
                index.search(v, 10);
                ns[i] = System.nanoTime() - s;
            }
            Arrays.sort(ns);
            System.out.printf("search: %d vectors x %d dims, built and committed in %.1f s; k=10 over %d queries: "
                    + "median %.2f ms, p95 %.2f ms, max %.2f ms%n", index.size(), dim, buildS, q,
                    ns[q / 2] / 1e6, ns[q * 95 / 100] / 1e6, ns[q - 1] / 1e6);
        }
    }

    static void indexing(Path work, int n) throws Exception {
        Path photos = Files.createDirectories(work.resolve("photos"));
        Random r = new Random(11);
        long g0 = System.nanoTime();
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Path f = photos.resolve(String.format("img%05d.png", i));
            if (!Files.exists(f)) {
                BufferedImage img = new BufferedImage(96, 72, BufferedImage.TYPE_INT_RGB);
                int base = r.nextInt(0xffffff);
                for (int y = 0; y < img.getHeight(); y++) {
                    for (int x = 0; x < img.getWidth(); x++) {
                        img.setRGB(x, y, base ^ (x * 2654435 + y * 40503 + r.nextInt(64)));
                    }
                }
                ImageIO.write(img, "png", f.toFile());
            }
            files.add(f);
        }
        System.out.printf("generated %d 96x72 PNGs in %.1f s%n", n, (System.nanoTime() - g0) / 1e9);
        Path model = Fixtures.sets(Fixtures.Kind.BLIP).get(0).model("tiny-itm");
        try (Blip blip = Blip.load(model, LoadOptions.defaults())) {
            Path where = work.resolve("images-index");
            for (int run = 0; run < 2; run++) {
                long t0 = System.nanoTime();
                Indexer.Report rep;
                try (ImageIndex index = ImageIndex.openForWriting(where, IndexInfo.forModel(model.toString(), blip))) {
                    rep = new Indexer(blip, null, new Indexer.Options(32, Duration.ofSeconds(10), true)).index(index, files, null);
                }
                double s = (System.nanoTime() - t0) / 1e9;
                System.out.printf("index run %d (tiny-itm, %d px): %d embedded, %d unchanged in %.1f s (%.2f ms/image)%n",
                        run + 1, blip.config().vision().imageSize(), rep.embedded(), rep.unchanged(), s,
                        1000 * s / Math.max(1, rep.embedded() + rep.unchanged()));
            }
        }
    }
}
