package org.blipjava.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.blipjava.retrieval.Indexer;
import org.blipjava.retrieval.RetrievalDataset;
import org.blipjava.retrieval.RetrievalEvaluator;
import org.blipjava.retrieval.RetrievalMetrics;
import org.blipjava.tasks.ImageTextModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** {@code blip eval retrieval}: Recall@1/5/10 and matching accuracy on a caption dataset. */
@Command(name = "retrieval", mixinStandardHelpOptions = true,
        description = {"Image-to-text and text-to-image Recall@1/5/10 (percent) from ITC similarity, and after"
                + " re-ranking each query's top --rerank candidates with ITM, plus top-1 matching accuracy (the share"
                + " of images whose best caption among all is their own).",
            "Datasets: Karpathy JSON such as dataset_coco.json (images with filepath, filename, split and"
                + " sentences[].raw), BLIP annotation JSON ([{image, caption}]), or the Flickr30k results.csv"
                + " (image_name| comment_number| comment).",
            "Default model: Salesforce/blip-itm-base-coco."})
final class EvalRetrievalCommand extends ModelCommand {
    @Option(names = "--dataset", required = true, paramLabel = "FILE", description = "The dataset file.")
    Path dataset;

    @Option(names = "--images", paramLabel = "DIR",
            description = "Directory the dataset's image paths are relative to (default: the dataset's directory).")
    Path imageRoot;

    @Option(names = "--split", paramLabel = "NAME",
            description = "Karpathy split to evaluate (default: test when the file has one, else all images).")
    String split;

    @Option(names = "--rerank", paramLabel = "K",
            description = "ITC candidates per query re-ranked by ITM; 0 for ITC only (default: 16 for models with a "
                    + "matching head, BLIP retrieval and FLAVA pre-training, else 0; "
                    + "BLIP's papers use 256 for COCO and 128 for Flickr30k).")
    Integer rerank;

    /** Re-ranking depth used when --rerank is not given and the model has a matching head. */
    private static final int DEFAULT_RERANK = 16;

    @Override
    String defaultModel() {
        return "Salesforce/blip-itm-base-coco";
    }

    @Override
    void validate() {
        if (rerank != null && rerank < 0) {
            throw new ParameterException(spec.commandLine(), "--rerank must be 0 (ITC only) or positive, got " + rerank);
        }
    }

    @Override
    int run(ImageTextModel model) {
        int rerank = this.rerank != null ? this.rerank : model.hasMatchHead() ? DEFAULT_RERANK : 0;
        RetrievalDataset ds = RetrievalDataset.read(dataset, imageRoot, split);
        Progress progress = new Progress();
        RetrievalEvaluator.Report r;
        try {
            r = new RetrievalEvaluator(model, new RetrievalEvaluator.Options(common.batchSize, rerank)).evaluate(ds, progress);
        } finally {
            progress.close();
        }
        if (common.json) {
            ObjectNode doc = JSON.createObjectNode();
            doc.put("dataset", dataset.toString()).put("images", r.dataset().images().size())
                    .put("texts", r.dataset().texts().size());
            metrics(doc.putObject("itc"), r.itc());
            if (r.itm() != null) {
                metrics(doc.putObject("itm").put("rerank_k", rerank), r.itm());
            }
            if (!r.failed().isEmpty()) {
                var errors = doc.putArray("errors");
                r.failed().forEach(f -> errors.addObject().put("image", f.path().toString()).put("error", f.error()));
            }
            emitJson(doc);
        } else {
            StringBuilder t = new StringBuilder();
            String nl = System.lineSeparator();
            t.append(String.format(Locale.ROOT, "%s: %d images, %d texts%s%n", dataset, r.dataset().images().size(),
                    r.dataset().texts().size(), r.failed().isEmpty() ? "" : " (" + r.failed().size() + " unreadable images left out)"));
            t.append("scores\ti2t_R@1\ti2t_R@5\ti2t_R@10\tt2i_R@1\tt2i_R@5\tt2i_R@10\tmatch_acc").append(nl);
            row(t, "ITC", r.itc());
            if (r.itm() != null) {
                row(t, "ITC+ITM@" + rerank, r.itm());
            }
            emit(t.toString());
        }
        return r.failed().isEmpty() ? 0 : 1;
    }

    private static void metrics(ObjectNode o, RetrievalMetrics.Result m) {
        o.putObject("image_to_text").put("r1", pct(m.imageToText().r1())).put("r5", pct(m.imageToText().r5()))
                .put("r10", pct(m.imageToText().r10())).put("r_mean", pct(m.imageToText().mean()));
        o.putObject("text_to_image").put("r1", pct(m.textToImage().r1())).put("r5", pct(m.textToImage().r5()))
                .put("r10", pct(m.textToImage().r10())).put("r_mean", pct(m.textToImage().mean()));
        o.put("match_accuracy", pct(m.matchAccuracy()));
    }

    private static double pct(double fraction) {
        return 100 * fraction;
    }

    private static void row(StringBuilder t, String name, RetrievalMetrics.Result m) {
        t.append(String.format(Locale.ROOT, "%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f%n", name,
                pct(m.imageToText().r1()), pct(m.imageToText().r5()), pct(m.imageToText().r10()),
                pct(m.textToImage().r1()), pct(m.textToImage().r5()), pct(m.textToImage().r10()), pct(m.matchAccuracy())));
    }

    /** One progress bar per phase (images, texts, rerank); unreadable images on stderr. */
    private final class Progress implements RetrievalEvaluator.Listener {
        private ProgressBar bar;
        private String phase;

        @Override
        public void progressed(String name, int done, int total) {
            if (!showProgress() || total <= common.batchSize) {
                return;
            }
            if (!name.equals(phase)) {
                close();
                phase = name;
                bar = new ProgressBarBuilder().setTaskName(name).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
                        .setConsumer(new ConsoleProgressBarConsumer(System.err)).build();
            }
            bar.stepTo(done);
        }

        @Override
        public void failed(Indexer.Failure failure) {
            err().println("blip: " + failure.error() + " (left out with its captions)");
            err().flush();
        }

        void close() {
            if (bar != null) {
                bar.close();
                bar = null;
            }
        }
    }
}
