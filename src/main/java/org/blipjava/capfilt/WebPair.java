package org.blipjava.capfilt;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * One image of the input with its web captions.
 *
 * @param key stable identity of the image: the image path as the dataset names it, or the
 *     WebDataset key; it seeds the image's synthetic captions
 * @param imageFile the image file, or null when the image came inside a tar shard
 * @param imageBytes the encoded image from a tar shard, or null for a file
 * @param imageExt the extension the image had in the shard ({@code jpg}, {@code png}), or null
 * @param captions the web captions (possibly empty: the image then only gets synthetic ones)
 * @param split the dataset split the entry names, or null
 */
public record WebPair(String key, Path imageFile, byte[] imageBytes, String imageExt, List<String> captions,
        String split) {
    public WebPair {
        Objects.requireNonNull(key, "key");
        if ((imageFile == null) == (imageBytes == null)) {
            throw new IllegalArgumentException("image " + key + ": give either a file or the encoded bytes");
        }
        captions = List.copyOf(captions);
    }
}
