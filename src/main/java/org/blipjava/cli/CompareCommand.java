package org.blipjava.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.blipjava.data.CaptionDatasets;
import org.blipjava.data.CaptionSample;
import org.blipjava.data.Dataset;
import org.blipjava.data.Skipped;
import org.blipjava.image.RgbImage;
import org.blipjava.metrics.Meteor;
import org.blipjava.report.ModelComparison;
import org.blipjava.report.ModelComparison.CaptionResult;
import org.blipjava.report.ModelComparison.EmbeddingResult;
import org.blipjava.report.ModelComparison.Similarity;
import org.blipjava.report.Pictures;
import org.blipjava.report.ReportFiles;
import org.blipjava.report.Tsne;
import org.blipjava.retrieval.RetrievalMetrics;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.ImageTextModel;
import org.blipjava.tasks.LoadOptions;
import org.blipjava.tasks.ModelKind;
import org.blipjava.tasks.TaskException;
import org.blipjava.training.ShapesData;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code blip compare}: the seed comparison of several models on one categorized image-caption set. */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = {"Compares models on one set of captioned images, side by side.",
            "Every model that embeds (BLIP retrieval or BlipModel, CLIP, FLAVA) embeds the images and captions:"
                + " top-1 accuracy both ways (Recall@1), Recall@5, mean similarity of matching vs other pairs, with"
                + " ITM where the model has a matching head; a similarity heatmap and a t-SNE map coloured by"
                + " category.",
            "BLIP captioning models caption the images, scored with BLEU, METEOR, ROUGE-L and CIDEr-D.",
            "Dataset: a folder of category/xxx.jpg files with captions.csv (image,caption) or captions.jsonl, or"
                + " any format 'blip eval caption' reads (an image's category is its folder)."})
final class CompareCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common;

    @Mixin
    GenerationFlags generation;

    @Option(names = {"-d", "--dataset"}, paramLabel = "PATH",
            description = "The dataset folder or annotation file.")
    Path dataset;

    @Option(names = "--shapes-demo",
            description = "Render a categorized shapes set (circle/, square/, triangle/, one image per colour, with captions.csv) into "
                    + "REPORT_DIR/shapes-data and compare on it.")
    boolean shapesDemo;

    @Option(names = "--images", paramLabel = "DIR", description = "Folder image paths are relative to (default: the dataset file's folder).")
    Path imageRoot;

    @Option(names = "--split", paramLabel = "NAME", description = "Karpathy split to use (default: all images).")
    String split;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL",
            description = "A model folder or Hub id; repeat for each model to compare.")
    List<String> models;

    @Option(names = "--report-dir", paramLabel = "DIR",
            description = "Write compare.json, compare.html and each model's heatmap and t-SNE PNGs here.")
    Path reportDir;

    @Option(names = "--prompt", paramLabel = "TEXT", description = "Caption prompt for captioning models; removed before scoring.")
    String prompt;

    @Option(names = "--tsne-seed", paramLabel = "N", defaultValue = "42", description = "t-SNE random seed (default ${DEFAULT-VALUE}).")
    long tsneSeed;

    @Option(names = "--picture-size", paramLabel = "PX", defaultValue = "700",
            description = "Side of each t-SNE picture in pixels (default ${DEFAULT-VALUE}).")
    int pictureSize;

    @Override
    public Integer call() throws Exception {
        common.validate(spec);
        if ((dataset == null) == !shapesDemo) {
            throw new ParameterException(spec.commandLine(), "give --dataset or --shapes-demo (one of them)");
        }
        if (shapesDemo && reportDir == null) {
            throw new ParameterException(spec.commandLine(), "--shapes-demo renders its images into --report-dir; give one");
        }
        if (pictureSize < 200) {
            throw new ParameterException(spec.commandLine(), "--picture-size must be at least 200, not " + pictureSize);
        }
        Path data = dataset;
        if (shapesDemo) {
            // One image per colour and shape, so no two images share a caption.
            data = ShapesData.writeCategorized(reportDir.resolve("shapes-data"), ShapesData.COLOURS.size(), 96, tsneSeed)
                    .getParent();
        }
        List<String> errors = new ArrayList<>();
        ModelComparison.Study study = readStudy(data, errors);
        LoadOptions options = common.loadOptions();
        List<EmbeddingResult> embedded = new ArrayList<>();
        List<CaptionResult> captioned = new ArrayList<>();
        Meteor meteor = null;
        // One model in memory at a time: a study of several base-size models fits a small machine.
        for (String name : models) {
            try (ImageTextModel model = ImageTextModel.load(name, options)) {
                if (model instanceof Blip blip && blip.kind() == ModelKind.CAPTIONING) {
                    if (meteor == null) {
                        meteor = Meteor.english();
                    }
                    captioned.add(ModelComparison.caption(name, blip, study, prompt,
                            generation.apply(blip.generationDefaults(), spec), common.batchSize, meteor));
                } else if (model.embeds()) {
                    embedded.add(ModelComparison.embed(name, model, study, common.batchSize));
                } else {
                    throw new TaskException(name + " is a " + model.architecture() + " model; compare takes models "
                            + "that embed (BLIP retrieval or BlipModel, CLIP, FLAVA) or caption (BLIP captioning)");
                }
            }
        }
        if (reportDir != null) {
            writeReport(data, study, embedded, captioned, errors);
        }
        if (common.json) {
            print(ModelCommand.JSON.writeValueAsString(json(data, study, embedded, captioned, errors))
                    + System.lineSeparator());
        } else {
            print(summary(study, embedded, captioned, errors));
        }
        for (String e : errors) {
            spec.commandLine().getErr().println("blip: " + e + " (left out)");
        }
        spec.commandLine().getErr().flush();
        return errors.isEmpty() ? 0 : 1;
    }

    /** Reads the dataset and decodes its images; unreadable ones are left out with their captions. */
    private ModelComparison.Study readStudy(Path data, List<String> errors) {
        Dataset<CaptionSample> ds = CaptionDatasets.read(data, imageRoot, split, false);
        for (Skipped s : ds.skipped()) {
            errors.add(s.entry() + ": " + s.reason());
        }
        List<String> ids = new ArrayList<>();
        List<RgbImage> images = new ArrayList<>();
        List<String> categories = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        List<Integer> links = new ArrayList<>();
        for (CaptionSample s : ds.samples()) {
            RgbImage image;
            try {
                image = Blip.readImage(s.image());
            } catch (RuntimeException e) {
                errors.add(Errors.describe(e));
                continue;
            }
            ids.add(s.id());
            images.add(image);
            Path parent = Path.of(s.id()).getParent();
            categories.add(parent == null ? null : parent.getFileName().toString());
            for (String c : s.captions()) {
                texts.add(c);
                links.add(images.size() - 1);
            }
        }
        if (images.isEmpty()) {
            throw new ParameterException(spec.commandLine(), data + ": no readable image with a caption");
        }
        return new ModelComparison.Study(ids, images, categories, texts, links.stream().mapToInt(Integer::intValue).toArray());
    }

    private void writeReport(Path data, ModelComparison.Study study, List<EmbeddingResult> embedded,
                             List<CaptionResult> captioned, List<String> errors) throws IOException {
        Files.createDirectories(reportDir);
        Map<String, byte[]> pictures = new LinkedHashMap<>();
        Tsne.Options tsne = new Tsne.Options(30, 1000, tsneSeed);
        for (EmbeddingResult r : embedded) {
            String slug = ModelComparison.slug(r.model());
            pictures.put(slug + "-heatmap.png", ReportFiles.png(ModelComparison.heatmap(r, study)));
            pictures.put(slug + "-tsne.png", ReportFiles.png(ModelComparison.embeddingMap(r, study, pictureSize, tsne)));
        }
        for (Map.Entry<String, byte[]> p : pictures.entrySet()) {
            ReportFiles.write(reportDir.resolve(p.getKey()), p.getValue());
        }
        List<String> thumbs = captioned.isEmpty() ? null
                : study.images().stream().map(i -> Pictures.thumbnailDataUri(i, 120)).toList();
        ReportFiles.writeString(reportDir.resolve("compare.html"),
                ModelComparison.html("Model comparison: " + data.getFileName(), study, embedded, captioned, pictures, thumbs));
        ReportFiles.writeString(reportDir.resolve("compare.json"),
                ModelCommand.JSON.writeValueAsString(json(data, study, embedded, captioned, errors)) + "\n");
    }

    private static ObjectNode json(Path data, ModelComparison.Study study, List<EmbeddingResult> embedded,
                                   List<CaptionResult> captioned, List<String> errors) {
        ObjectNode doc = ModelCommand.JSON.createObjectNode();
        doc.put("dataset", data.toString()).put("images", study.images().size()).put("texts", study.texts().size());
        ArrayNode cats = doc.putArray("categories");
        study.categories().stream().filter(java.util.Objects::nonNull).distinct().forEach(cats::add);
        ArrayNode ms = doc.putArray("models");
        for (EmbeddingResult r : embedded) {
            ObjectNode m = ms.addObject().put("model", r.model()).put("name", ModelComparison.displayName(r.model()))
                    .put("family", r.family())
                    .put("architecture", r.architecture());
            similarity(m.putObject("itc"), r.itc());
            if (r.itm() != null) {
                similarity(m.putObject("itm"), r.itm());
            }
        }
        ArrayNode cs = doc.putArray("captioners");
        for (CaptionResult c : captioned) {
            ObjectNode o = cs.addObject().put("model", c.model()).put("name", ModelComparison.displayName(c.model()))
                    .put("architecture", c.architecture());
            ArrayNode b = o.putArray("bleu");
            c.scores().bleu().corpus().forEach(b::add);
            o.put("meteor", c.scores().meteor().corpus()).put("rouge_l", c.scores().rougeL().corpus())
                    .put("cider_d", c.scores().ciderD().corpus());
            ArrayNode caps = o.putArray("captions");
            for (int i = 0; i < c.captions().size(); i++) {
                caps.addObject().put("image", study.imageIds().get(i)).put("caption", c.captions().get(i));
            }
        }
        if (!errors.isEmpty()) {
            ArrayNode e = doc.putArray("errors");
            errors.forEach(e::add);
        }
        return doc;
    }

    private static void similarity(ObjectNode o, Similarity s) {
        recall(o.putObject("image_to_text"), s.recall().imageToText());
        recall(o.putObject("text_to_image"), s.recall().textToImage());
        o.put("mean_matching", s.meanMatched()).put("mean_other", s.meanUnmatched());
    }

    private static void recall(ObjectNode o, RetrievalMetrics.Recall r) {
        o.put("top1", r.r1()).put("r5", r.r5()).put("r10", r.r10());
    }

    private static String summary(ModelComparison.Study study, List<EmbeddingResult> embedded,
                                  List<CaptionResult> captioned, List<String> errors) {
        StringBuilder t = new StringBuilder();
        String nl = System.lineSeparator();
        t.append(String.format(Locale.ROOT, "%d images, %d captions%s%n", study.images().size(), study.texts().size(),
                errors.isEmpty() ? "" : " (" + errors.size() + " left out)"));
        if (!embedded.isEmpty()) {
            t.append(nl).append("model\tscore\ttop1_i2t\ttop1_t2i\tR@5_i2t\tR@5_t2i\tmean_match\tmean_other").append(nl);
            for (EmbeddingResult r : embedded) {
                String name = ModelComparison.displayName(r.model());
                row(t, name, "itc", r.itc());
                if (r.itm() != null) {
                    row(t, name, "itm", r.itm());
                }
            }
        }
        if (!captioned.isEmpty()) {
            t.append(nl).append("captioner\tBLEU-1\tBLEU-4\tMETEOR\tROUGE-L\tCIDEr-D").append(nl);
            for (CaptionResult c : captioned) {
                t.append(String.format(Locale.ROOT, "%s\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f%n",
                        ModelComparison.displayName(c.model()),
                        c.scores().bleu().corpus().get(0), c.scores().bleu().corpus().get(3),
                        c.scores().meteor().corpus(), c.scores().rougeL().corpus(), c.scores().ciderD().corpus()));
            }
        }
        return t.toString();
    }

    private static void row(StringBuilder t, String model, String kind, Similarity s) {
        t.append(String.format(Locale.ROOT, "%s\t%s\t%.3f\t%.3f\t%.3f\t%.3f\t%.4f\t%.4f%n", model, kind,
                s.recall().imageToText().r1(), s.recall().textToImage().r1(), s.recall().imageToText().r5(),
                s.recall().textToImage().r5(), s.meanMatched(), s.meanUnmatched()));
    }

    /** Prints to the command line's standard output (the tests swap it). */
    private void print(String s) {
        spec.commandLine().getOut().print(s);
        spec.commandLine().getOut().flush();
    }
}
