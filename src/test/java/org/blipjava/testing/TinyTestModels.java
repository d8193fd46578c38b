package org.blipjava.testing;

import java.io.IOException;
import java.nio.file.Path;
import org.blipjava.training.TinyModels;

/**
 * Freshly initialised tiny models for tests that check how a model learns or behaves, so their
 * outcome does not depend on the weights a fixture set happens to hold (parity tests keep using
 * the fixture models).
 *
 * <p>The seed is {@value #DEFAULT_SEED} unless the system property {@value #SEED_PROPERTY} gives
 * another ({@code ./mvnw test -Dblip.test.tinySeed=2 ...}), for checking that thresholds hold
 * with margin for other initialisations too.
 */
public final class TinyTestModels {
    /** System property that overrides the seed the tiny test models are initialised with. */
    public static final String SEED_PROPERTY = "blip.test.tinySeed";
    /** The seed used when the property is not set. */
    public static final long DEFAULT_SEED = 0;

    private TinyTestModels() {}

    /** The seed the tiny test models are initialised with. */
    public static long seed() {
        return Long.getLong(SEED_PROPERTY, DEFAULT_SEED);
    }

    /**
     * Writes a fresh tiny model with this head, its weights spread as the fixture sets' random
     * models are ({@link TinyModels.Spread#WIDE}), to {@code dir}/{@code head.folderName()} and
     * returns that folder.
     */
    public static Path write(Path dir, TinyModels.Head head) throws IOException {
        Path out = dir.resolve(head.folderName());
        TinyModels.write(head, seed(), TinyModels.Spread.WIDE, out);
        return out;
    }
}
