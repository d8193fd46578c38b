package org.blipjava.training;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.blipjava.retrieval.RetrievalDataset;

/**
 * Image-caption pairs for captioning fine-tuning: one training example per caption. Read through
 * {@link RetrievalDataset#read} (Karpathy COCO/Flickr JSON, BLIP's {@code [{image, caption}]}
 * lists, the Flickr30k CSV). Images whose files do not exist are dropped when the data is read
 * and listed in {@link #missingImages()}; images that exist but cannot be decoded are found
 * during training and reported by the trainer.
 *
 * <p>Immutable and thread-safe.
 */
public final class CaptionData implements TrainingExamples {
    private final RetrievalDataset dataset;
    private final List<Path> missing;
    private final List<List<String>> references;
    private final int[] imageIds;

    private CaptionData(RetrievalDataset dataset, List<Path> missing) {
        this(dataset, missing, null);
    }

    private CaptionData(RetrievalDataset dataset, List<Path> missing, int[] imageIds) {
        this.dataset = dataset;
        this.missing = List.copyOf(missing);
        this.imageIds = imageIds;
        List<List<String>> refs = new ArrayList<>();
        for (int i = 0; i < dataset.images().size(); i++) {
            refs.add(new ArrayList<>());
        }
        for (int t = 0; t < dataset.texts().size(); t++) {
            refs.get(dataset.imageOf(t)).add(dataset.texts().get(t));
        }
        this.references = refs.stream().map(List::copyOf).toList();
    }

    /**
     * Reads a caption file.
     *
     * @param imageRoot directory image paths are relative to (null: the file's directory)
     * @param split     for Karpathy files, the split to use (for example "train"); null for the
     *                  file's "test" split when it has one
     */
    public static CaptionData read(Path file, Path imageRoot, String split) {
        return of(RetrievalDataset.read(file, imageRoot, split));
    }

    /** Wraps a dataset, dropping images whose files do not exist. */
    public static CaptionData of(RetrievalDataset dataset) {
        Set<Integer> dropped = new HashSet<>();
        List<Path> missing = new ArrayList<>();
        for (int i = 0; i < dataset.images().size(); i++) {
            if (!Files.isRegularFile(dataset.images().get(i))) {
                dropped.add(i);
                missing.add(dataset.images().get(i));
            }
        }
        RetrievalDataset kept = dataset.without(dropped);
        if (kept.texts().isEmpty()) {
            throw new IllegalArgumentException("none of the " + dataset.images().size()
                    + " images of the caption data exists (first: " + dataset.images().getFirst()
                    + "); check the image root directory");
        }
        return new CaptionData(kept, missing);
    }

    /** Number of examples (captions). */
    public int size() {
        return dataset.texts().size();
    }

    /** The image file of example {@code i}. */
    public Path image(int i) {
        return dataset.images().get(dataset.imageOf(i));
    }

    /** The image index (into {@link #images()}) of example {@code i}. */
    public int imageIndex(int i) {
        return dataset.imageOf(i);
    }

    /** The caption of example {@code i}. */
    public String caption(int i) {
        return dataset.texts().get(i);
    }

    /** The distinct images. */
    public List<Path> images() {
        return dataset.images();
    }

    /** Every caption of image {@code image} (the references when scoring generated captions). */
    public List<String> references(int image) {
        return references.get(image);
    }

    /**
     * The image id of example {@code i}, which decides the positives of retrieval training as
     * BLIP's {@code image_id} does: examples with the same id are each other's positives in ITC
     * and never each other's hard negatives in ITM. Without {@link #withImageIds} every image
     * file is its own id ({@link #imageIndex}).
     */
    public int imageId(int i) {
        return imageIds == null ? imageIndex(i) : imageIds[imageIndex(i)];
    }

    /**
     * This data with image ids: images given the same id count as one image in retrieval training
     * (for example, renderings of the same scene, or one photo stored twice), as BLIP's
     * annotations do with {@code image_id}. Captioning and validation are unchanged.
     *
     * @param ids an id for each image file; images it does not name keep an id of their own
     */
    public CaptionData withImageIds(java.util.Map<Path, String> ids) {
        java.util.Map<String, Integer> named = new java.util.HashMap<>();
        int[] out = new int[dataset.images().size()];
        int next = 0;
        for (int k = 0; k < out.length; k++) {
            String id = ids.get(dataset.images().get(k));
            if (id == null) {
                out[k] = next++;
            } else {
                Integer known = named.get(id);
                if (known == null) {
                    known = next++;
                    named.put(id, known);
                }
                out[k] = known;
            }
        }
        return new CaptionData(dataset, missing, out);
    }

    /** Images listed by the data file whose files do not exist (dropped with their captions). */
    public List<Path> missingImages() {
        return missing;
    }
}
