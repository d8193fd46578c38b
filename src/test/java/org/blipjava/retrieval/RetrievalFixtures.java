package org.blipjava.retrieval;

import static org.blipjava.testing.FixtureInputs.strings;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.blipjava.tasks.Blip;
import org.blipjava.tasks.LoadOptions;
import org.blipjava.testing.Fixtures.FixtureSet;

/** Reads the ITM section of a fixture set for the retrieval tests. */
final class RetrievalFixtures {
    private RetrievalFixtures() {}

    static List<String> itmImages(FixtureSet set) {
        return strings(set.expected().get("itm").get("images"));
    }

    static String key(FixtureSet set, String image) {
        return set.image(image).toAbsolutePath().normalize().toString();
    }

    /** The fixture's ITM model on one thread. */
    static Blip itm(FixtureSet set) {
        return Blip.load(set.model("tiny-itm"), LoadOptions.defaults().withThreads(1));
    }

    /** Copies the fixture's ITM images into {@code dir} (so a test may change and delete them). */
    static List<Path> copyImages(FixtureSet set, Path dir) throws Exception {
        Files.createDirectories(dir);
        List<Path> out = new ArrayList<>();
        for (String name : itmImages(set)) {
            out.add(Files.copy(set.image(name), dir.resolve(name)));
        }
        return out;
    }
}
