package org.blipjava.training;

import java.nio.file.Path;
import java.util.List;

/** Training examples each tied to one image file: what a {@link TrainingTask} draws batches from. */
interface TrainingExamples {
    /** Number of examples. */
    int size();

    /** The image file of example {@code i}. */
    Path image(int i);

    /** The distinct images. */
    List<Path> images();

    /** Images the data lists but that do not exist (dropped with their examples). */
    List<Path> missingImages();
}
