package org.blipjava.data;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * One image of a captioning dataset with its reference captions.
 *
 * @param id stable identifier (the image's path as the dataset names it)
 * @param image the image file
 * @param captions the reference captions, at least one
 */
public record CaptionSample(String id, Path image, List<String> captions) {
    public CaptionSample {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(image, "image");
        captions = List.copyOf(captions);
        if (captions.isEmpty()) {
            throw new IllegalArgumentException("image " + id + " has no reference caption");
        }
    }
}
