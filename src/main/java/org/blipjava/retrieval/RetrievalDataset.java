package org.blipjava.retrieval;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.blipjava.data.CaptionDatasets;
import org.blipjava.data.CaptionSample;
import org.blipjava.data.Dataset;
import org.blipjava.data.DatasetException;

/**
 * An image-caption retrieval test set: images, captions, and which image each caption belongs to.
 *
 * <p>{@link #read} reads, through {@link CaptionDatasets}, among others:
 * <ul>
 *   <li>Karpathy splits ({@code dataset_coco.json}, {@code dataset_flickr30k.json}): an object
 *       with {@code images[]}, each with {@code filename}, optional {@code filepath},
 *       {@code sentences[].raw} and {@code split};</li>
 *   <li>BLIP's annotation files ({@code coco_karpathy_test.json}): an array of
 *       {@code {"image": path, "caption": [..] or "..."}};</li>
 *   <li>Flickr30k's {@code results.csv}: lines {@code image_name| comment_number| comment}
 *       after a header line.</li>
 * </ul>
 *
 * @param images     image files
 * @param texts      captions
 * @param textImage  for each caption, the index of its image in {@code images}
 */
public record RetrievalDataset(List<Path> images, List<String> texts, int[] textImage) {
    public RetrievalDataset {
        images = List.copyOf(images);
        texts = List.copyOf(texts);
        textImage = textImage.clone();
        if (textImage.length != texts.size()) {
            throw new IllegalArgumentException(texts.size() + " texts but " + textImage.length + " image links");
        }
        for (int t = 0; t < textImage.length; t++) {
            if (textImage[t] < 0 || textImage[t] >= images.size()) {
                throw new IllegalArgumentException("text " + t + " links to image " + textImage[t] + " of " + images.size());
            }
        }
    }

    @Override
    public int[] textImage() {
        return textImage.clone();
    }

    /** The image of caption {@code t}. */
    public int imageOf(int t) {
        return textImage[t];
    }

    /** The dataset without the given images and their captions (for images that cannot be read). */
    public RetrievalDataset without(java.util.Set<Integer> dropped) {
        if (dropped.isEmpty()) {
            return this;
        }
        int[] newIndex = new int[images.size()];
        List<Path> keptImages = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            newIndex[i] = dropped.contains(i) ? -1 : keptImages.size();
            if (!dropped.contains(i)) {
                keptImages.add(images.get(i));
            }
        }
        List<String> keptTexts = new ArrayList<>();
        List<Integer> links = new ArrayList<>();
        for (int t = 0; t < texts.size(); t++) {
            if (newIndex[textImage[t]] >= 0) {
                keptTexts.add(texts.get(t));
                links.add(newIndex[textImage[t]]);
            }
        }
        return new RetrievalDataset(keptImages, keptTexts, links.stream().mapToInt(Integer::intValue).toArray());
    }

    /**
     * Reads a dataset file through {@link CaptionDatasets} (Karpathy JSON, BLIP's annotation
     * lists, the Flickr30k CSV, or a folder holding one). Entries whose image file is missing
     * are kept: the evaluator reports unreadable images as it meets them.
     *
     * @param file      the dataset file or folder
     * @param imageRoot directory image paths are relative to; null for the file's directory
     * @param split     the split to take; null for "test" when the file has one, else every image
     * @throws DatasetException when the file cannot be read or holds no image with captions
     */
    public static RetrievalDataset read(Path file, Path imageRoot, String split) {
        Objects.requireNonNull(file, "file");
        Dataset<CaptionSample> d = CaptionDatasets.read(file, imageRoot, split != null ? split : "test", false);
        if (split == null && d.samples().isEmpty()) {
            d = CaptionDatasets.read(file, imageRoot, null, false);
        }
        List<Path> images = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        List<Integer> links = new ArrayList<>();
        for (CaptionSample sample : d.samples()) {
            for (String caption : sample.captions()) {
                texts.add(caption);
                links.add(images.size());
            }
            images.add(sample.image());
        }
        if (images.isEmpty()) {
            String why = d.skipped().stream().limit(3).map(k -> k.entry() + ": " + k.reason())
                    .reduce((a, b) -> a + "; " + b).map(r -> " (skipped " + r + ")").orElse("");
            throw new DatasetException(file + ": no images with captions"
                    + (split != null ? " in split '" + split + "'" : "") + why);
        }
        return new RetrievalDataset(images, texts, links.stream().mapToInt(Integer::intValue).toArray());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RetrievalDataset d && images.equals(d.images) && texts.equals(d.texts)
                && Arrays.equals(textImage, d.textImage);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * images.hashCode() + texts.hashCode()) + Arrays.hashCode(textImage);
    }

    @Override
    public String toString() {
        return "RetrievalDataset[" + images.size() + " images, " + texts.size() + " texts]";
    }
}
