package org.blipjava.retrieval;

import static org.blipjava.testing.FixtureInputs.strings;

import java.util.List;
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
}
