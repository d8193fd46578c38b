package org.blipjava.report;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.blipjava.generation.GenerationConfig;
import org.blipjava.image.RgbImage;
import org.blipjava.metrics.CaptionScores;
import org.blipjava.metrics.CaptionSet;
import org.blipjava.metrics.Meteor;
import org.blipjava.retrieval.RetrievalMetrics;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.GeneratedText;
import org.blipjava.tasks.ImageTextModel;

/**
 * The seed comparison of vision-language models: each model embeds the same categorized images
 * and their captions; the study reports how well the image-caption pairs are found (top-1
 * accuracy both ways = Recall@1, Recall@5, mean similarity of matching vs other pairs), draws
 * the similarity heatmap and a t-SNE map coloured by category, and for BLIP captioning models
 * scores generated captions against the dataset's captions. {@link #html} puts the models side
 * by side in one self-contained page.
 */
public final class ModelComparison {
    private ModelComparison() {}

    /**
     * The study's data.
     *
     * @param imageIds   a name per image (its path in the dataset)
     * @param images     the decoded images
     * @param categories a category per image (its folder), null entries where there is none
     * @param texts      every caption of every image
     * @param textImage  the image index of each text
     */
    public record Study(List<String> imageIds, List<RgbImage> images, List<String> categories, List<String> texts,
                        int[] textImage) {
        public Study {
            imageIds = List.copyOf(imageIds);
            images = List.copyOf(images);
            categories = new ArrayList<>(categories); // may hold nulls
            texts = List.copyOf(texts);
            textImage = textImage.clone();
            if (images.size() != imageIds.size() || categories.size() != images.size()) {
                throw new IllegalArgumentException("one id and one category per image");
            }
            if (textImage.length != texts.size()) {
                throw new IllegalArgumentException("one image index per text");
            }
            if (images.isEmpty() || texts.isEmpty()) {
                throw new IllegalArgumentException("a comparison needs at least one image with a caption");
            }
            for (int i : textImage) {
                if (i < 0 || i >= images.size()) {
                    throw new IllegalArgumentException("text linked to image " + i + " of " + images.size());
                }
            }
        }

        @Override
        public int[] textImage() {
            return textImage.clone();
        }

        /** The captions of each image, by image id. */
        public Map<String, List<String>> references() {
            Map<String, List<String>> out = new LinkedHashMap<>();
            for (String id : imageIds) {
                out.put(id, new ArrayList<>());
            }
            for (int t = 0; t < texts.size(); t++) {
                out.get(imageIds.get(textImage[t])).add(texts.get(t));
            }
            return out;
        }

        /** Whether some image has a category. */
        public boolean categorized() {
            return categories.stream().anyMatch(Objects::nonNull);
        }
    }

    /**
     * One score matrix and what it says about the pairs.
     *
     * @param scores        [images][texts]
     * @param recall        image-to-text and text-to-image Recall@1/5/10 (R@1 is top-1 accuracy)
     * @param meanMatched   mean score of an image with its own captions (the "diagonal")
     * @param meanUnmatched mean score of an image with the other captions
     */
    public record Similarity(float[][] scores, RetrievalMetrics.Result recall, double meanMatched, double meanUnmatched) {
        static Similarity of(float[][] scores, int[] textImage) {
            double matched = 0;
            double other = 0;
            int nm = 0;
            int no = 0;
            for (int i = 0; i < scores.length; i++) {
                for (int t = 0; t < textImage.length; t++) {
                    if (textImage[t] == i) {
                        matched += scores[i][t];
                        nm++;
                    } else {
                        other += scores[i][t];
                        no++;
                    }
                }
            }
            return new Similarity(scores, RetrievalMetrics.itc(scores, textImage), nm == 0 ? Double.NaN : matched / nm,
                    no == 0 ? Double.NaN : other / no);
        }
    }

    /**
     * What one embedding model made of the study.
     *
     * @param itm null unless the model has a matching head
     */
    public record EmbeddingResult(String model, String family, String architecture, float[][] imageEmbeddings,
                                  float[][] textEmbeddings, Similarity itc, Similarity itm) {}

    /** What one captioning model made of the study: a caption per image and its scores. */
    public record CaptionResult(String model, String architecture, List<String> captions, CaptionScores scores) {}

    /**
     * Embeds the study's images and texts with a model and scores every pair by cosine (and by
     * the matching head where the model has one).
     *
     * @param name      the model as the user named it
     * @param batchSize images or texts per model call
     */
    public static EmbeddingResult embed(String name, ImageTextModel model, Study study, int batchSize) {
        List<float[]> im = new ArrayList<>();
        for (int s = 0; s < study.images().size(); s += batchSize) {
            im.addAll(List.of(model.embedImages(study.images().subList(s, Math.min(study.images().size(), s + batchSize)))));
        }
        List<float[]> tx = new ArrayList<>();
        for (int s = 0; s < study.texts().size(); s += batchSize) {
            tx.addAll(List.of(model.embedTexts(study.texts().subList(s, Math.min(study.texts().size(), s + batchSize)))));
        }
        float[][] images = im.toArray(float[][]::new);
        float[][] texts = tx.toArray(float[][]::new);
        int[] links = study.textImage();
        Similarity itc = Similarity.of(ImageTextModel.cosines(images, texts), links);
        Similarity itm = null;
        if (model.hasMatchHead()) {
            float[][] scores = new float[images.length][];
            // A batch of images against every text per call: the texts are encoded once per batch.
            for (int start = 0; start < images.length; start += batchSize) {
                int end = Math.min(images.length, start + batchSize);
                float[][] batchItm = model.match(study.images().subList(start, end), study.texts()).itm();
                System.arraycopy(batchItm, 0, scores, start, end - start);
            }
            itm = Similarity.of(scores, links);
        }
        return new EmbeddingResult(name, model.family().displayName(), model.architecture(), images, texts, itc, itm);
    }

    /**
     * Captions the study's images with a BLIP captioning model and scores the captions (prompt
     * removed, as BLIP's evaluation does) against the study's captions.
     */
    public static CaptionResult caption(String name, Blip captioner, Study study, String prompt, GenerationConfig g,
                                        int batchSize, Meteor meteor) {
        List<String> captions = new ArrayList<>();
        for (int s = 0; s < study.images().size(); s += batchSize) {
            List<RgbImage> batch = study.images().subList(s, Math.min(study.images().size(), s + batchSize));
            for (GeneratedText t : captioner.caption(batch, prompt, g)) {
                captions.add(GeneratedText.withoutPrompt(t.text(), prompt));
            }
        }
        Map<String, String> candidates = new LinkedHashMap<>();
        for (int i = 0; i < captions.size(); i++) {
            candidates.put(study.imageIds().get(i), captions.get(i));
        }
        CaptionScores scores = CaptionScores.score(CaptionSet.of(study.references(), candidates), false, meteor);
        return new CaptionResult(name, captioner.architecture(), captions, scores);
    }

    /** The similarity heatmap of a result (ITM where the model has a matching head, else ITC cosine). */
    public static BufferedImage heatmap(EmbeddingResult r, Study study) {
        boolean itm = r.itm() != null;
        String title = displayName(r.model()) + ": " + (itm ? "ITM match probability" : "ITC cosine similarity");
        return SimilarityHeatmap.render((itm ? r.itm() : r.itc()).scores(), study.imageIds(), study.texts(), title);
    }

    /** The t-SNE map of a result's image and text embeddings, coloured by category when the study has them. */
    public static BufferedImage embeddingMap(EmbeddingResult r, Study study, int size, Tsne.Options options) {
        List<EmbeddingMap.Point> points = new ArrayList<>();
        List<String> names = study.imageIds();
        for (int i = 0; i < r.imageEmbeddings().length; i++) {
            points.add(new EmbeddingMap.Point(r.imageEmbeddings()[i], names.get(i), study.categories().get(i), true));
        }
        int[] links = study.textImage();
        for (int t = 0; t < r.textEmbeddings().length; t++) {
            points.add(new EmbeddingMap.Point(r.textEmbeddings()[t], study.texts().get(t),
                    study.categories().get(links[t]), false));
        }
        return EmbeddingMap.render(points, size, "t-SNE of image and text embeddings (" + displayName(r.model()) + ")",
                options);
    }

    /**
     * A model's name for titles and headers: a local model folder by its own name
     * ({@code ../models/tiny-clip} -> {@code tiny-clip}), a Hub id as it is.
     */
    public static String displayName(String model) {
        try {
            Path p = Path.of(model);
            if (Files.isDirectory(p)) {
                Path name = p.toAbsolutePath().normalize().getFileName();
                return name == null ? model : name.toString();
            }
        } catch (InvalidPathException e) {
            // not a path: a Hub id
        }
        return model;
    }

    /**
     * The side-by-side page: a table of every embedding model's figures, each model's heatmap and
     * t-SNE map, and each captioning model's scores and captions beside thumbnails.
     *
     * @param pictures PNG bytes by name ({@code <slug>-heatmap.png}, {@code <slug>-tsne.png})
     *                 embedded as data URIs so the page stands alone
     * @param thumbnails a data URI per image, or null for none
     */
    public static String html(String title, Study study, List<EmbeddingResult> embeddings,
                              List<CaptionResult> captioners, Map<String, byte[]> pictures, List<String> thumbnails) {
        StringBuilder h = new StringBuilder(16384);
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(esc(title))
                .append("</title>\n<style>\n").append(CSS).append("</style></head><body>\n<h1>").append(esc(title))
                .append("</h1>\n<p>").append(study.images().size()).append(" images, ").append(study.texts().size())
                .append(" captions");
        if (study.categorized()) {
            h.append(", ").append(study.categories().stream().filter(Objects::nonNull).distinct().count())
                    .append(" categories");
        }
        h.append(".</p>\n");
        if (!embeddings.isEmpty()) {
            h.append("<h2>Image-text matching</h2>\n<table class=\"grid\"><thead><tr><th></th>");
            for (EmbeddingResult r : embeddings) {
                h.append("<th title=\"").append(esc(r.model())).append("\">").append(esc(displayName(r.model())))
                        .append("<br><small>").append(esc(r.family())).append(" · ")
                        .append(esc(r.architecture())).append("</small></th>");
            }
            h.append("</tr></thead><tbody>\n");
            metricRows(h, embeddings, "ITC", EmbeddingResult::itc);
            if (embeddings.stream().anyMatch(r -> r.itm() != null)) {
                metricRows(h, embeddings, "ITM", EmbeddingResult::itm);
            }
            h.append("<tr><th>Similarity heatmap</th>");
            for (EmbeddingResult r : embeddings) {
                h.append("<td>").append(picture(pictures, slug(r.model()) + "-heatmap.png")).append("</td>");
            }
            h.append("</tr>\n<tr><th>t-SNE</th>");
            for (EmbeddingResult r : embeddings) {
                h.append("<td>").append(picture(pictures, slug(r.model()) + "-tsne.png")).append("</td>");
            }
            h.append("</tr>\n</tbody></table>\n");
        }
        if (!captioners.isEmpty()) {
            h.append("<h2>Captioning</h2>\n<table class=\"grid\"><thead><tr><th></th>");
            for (CaptionResult c : captioners) {
                h.append("<th title=\"").append(esc(c.model())).append("\">").append(esc(displayName(c.model())))
                        .append("</th>");
            }
            h.append("</tr></thead><tbody>\n");
            String[] bleu = {"BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4"};
            for (int n = 0; n < 4; n++) {
                int k = n;
                captionRow(h, captioners, bleu[n], c -> c.scores().bleu().corpus().get(k));
            }
            captionRow(h, captioners, "METEOR", c -> c.scores().meteor().corpus());
            captionRow(h, captioners, "ROUGE-L", c -> c.scores().rougeL().corpus());
            captionRow(h, captioners, "CIDEr-D", c -> c.scores().ciderD().corpus());
            h.append("</tbody></table>\n<table class=\"grid captions\"><thead><tr><th>image</th><th>references</th>");
            for (CaptionResult c : captioners) {
                h.append("<th>").append(esc(displayName(c.model()))).append("</th>");
            }
            h.append("</tr></thead><tbody>\n");
            Map<String, List<String>> refs = study.references();
            for (int i = 0; i < study.images().size(); i++) {
                String id = study.imageIds().get(i);
                h.append("<tr><td>");
                if (thumbnails != null) {
                    h.append("<img class=\"thumb\" alt=\"\" src=\"").append(esc(thumbnails.get(i))).append("\"><br>");
                }
                h.append(esc(id)).append("</td><td><ul>");
                for (String r : refs.get(id)) {
                    h.append("<li>").append(esc(r)).append("</li>");
                }
                h.append("</ul></td>");
                for (CaptionResult c : captioners) {
                    h.append("<td>").append(esc(c.captions().get(i))).append("</td>");
                }
                h.append("</tr>\n");
            }
            h.append("</tbody></table>\n");
        }
        h.append("</body></html>\n");
        return h.toString();
    }

    private static void metricRows(StringBuilder h, List<EmbeddingResult> rs, String kind,
                                   java.util.function.Function<EmbeddingResult, Similarity> which) {
        row(h, rs, kind + " top-1 image→text", which, s -> pct(s.recall().imageToText().r1()));
        row(h, rs, kind + " top-1 text→image", which, s -> pct(s.recall().textToImage().r1()));
        row(h, rs, kind + " R@5 image→text", which, s -> pct(s.recall().imageToText().r5()));
        row(h, rs, kind + " R@5 text→image", which, s -> pct(s.recall().textToImage().r5()));
        row(h, rs, kind + " mean matching pair", which, s -> num(s.meanMatched()));
        row(h, rs, kind + " mean other pair", which, s -> num(s.meanUnmatched()));
    }

    private static void row(StringBuilder h, List<EmbeddingResult> rs, String name,
                            java.util.function.Function<EmbeddingResult, Similarity> which,
                            java.util.function.Function<Similarity, String> value) {
        h.append("<tr><th>").append(esc(name)).append("</th>");
        for (EmbeddingResult r : rs) {
            Similarity s = which.apply(r);
            h.append("<td class=\"num\">").append(s == null ? "&ndash;" : value.apply(s)).append("</td>");
        }
        h.append("</tr>\n");
    }

    private static void captionRow(StringBuilder h, List<CaptionResult> cs, String name,
                                   java.util.function.ToDoubleFunction<CaptionResult> value) {
        h.append("<tr><th>").append(esc(name)).append("</th>");
        for (CaptionResult c : cs) {
            h.append("<td class=\"num\">").append(num(value.applyAsDouble(c))).append("</td>");
        }
        h.append("</tr>\n");
    }

    private static String picture(Map<String, byte[]> pictures, String name) {
        byte[] png = pictures.get(name);
        if (png == null) {
            return "";
        }
        return "<img class=\"figure\" alt=\"" + esc(name) + "\" src=\"data:image/png;base64,"
                + Base64.getEncoder().encodeToString(png) + "\">";
    }

    /** A file-name-safe form of a model name ({@code openai/clip-vit-base-patch32} -> {@code openai_clip-vit-base-patch32}). */
    public static String slug(String model) {
        String s = model.replaceAll("[^A-Za-z0-9._-]+", "_").replaceAll("^[._]+", "");
        return s.isEmpty() ? "model" : s;
    }

    private static String pct(double fraction) {
        return String.format(Locale.ROOT, "%.1f%%", 100 * fraction);
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "&ndash;" : String.format(Locale.ROOT, "%.4f", v);
    }

    private static String esc(String s) {
        return HtmlReport.esc(s);
    }

    private static final String CSS = """
            body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
            h1{font-size:1.4em} h2{font-size:1.15em;margin-top:1.5em}
            table{border-collapse:collapse}
            .grid th,.grid td{border:1px solid #ddd;padding:4px 8px;vertical-align:top}
            .grid thead th{background:#f3f3f3}
            .grid tbody th{text-align:left;font-weight:600;color:#444;white-space:nowrap}
            td.num{text-align:right;font-variant-numeric:tabular-nums}
            img.figure{max-width:420px;display:block}
            img.thumb{max-width:120px;max-height:120px}
            .captions ul{margin:0;padding-left:1.1em}
            """;
}
