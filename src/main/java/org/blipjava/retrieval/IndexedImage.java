package org.blipjava.retrieval;

import java.util.Objects;

/**
 * One image as stored in an {@link ImageIndex}.
 *
 * @param path             absolute path of the image file (the document's key)
 * @param size             file size in bytes when it was embedded
 * @param modified         last-modified time in milliseconds when it was embedded
 * @param caption          a generated caption, or null
 * @param embedding        the L2-normalized image embedding
 * @param captionEmbedding the L2-normalized text embedding of the caption, or null
 */
public record IndexedImage(String path, long size, long modified, String caption, float[] embedding,
                           float[] captionEmbedding) {
    public IndexedImage {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(embedding, "embedding");
        if (captionEmbedding != null && caption == null) {
            throw new IllegalArgumentException(path + ": a caption embedding needs its caption");
        }
        embedding = embedding.clone();
        captionEmbedding = captionEmbedding == null ? null : captionEmbedding.clone();
    }

    @Override
    public float[] embedding() {
        return embedding.clone();
    }

    @Override
    public float[] captionEmbedding() {
        return captionEmbedding == null ? null : captionEmbedding.clone();
    }
}
