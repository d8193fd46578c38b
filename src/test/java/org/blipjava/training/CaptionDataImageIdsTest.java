package org.blipjava.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Image ids: which examples retrieval training takes as the same image. */
class CaptionDataImageIdsTest {
    @Test
    void eachImageIsItsOwnIdUntilIdsGroupThem(@TempDir Path tmp) throws Exception {
        int count = 2 * ShapesData.kinds() + 1;
        CaptionData data = CaptionData.read(ShapesData.write(tmp, "s", count, 32, 1), null, null);
        for (int i = 0; i < data.size(); i++) {
            assertEquals(data.imageIndex(i), data.imageId(i));
        }
        // Group images 0 and kinds() (the same kind of shape); leave the last one unnamed.
        Map<Path, String> ids = new HashMap<>();
        for (int k = 0; k < count - 1; k++) {
            ids.put(data.images().get(k), "kind " + (k % ShapesData.kinds()));
        }
        CaptionData grouped = data.withImageIds(ids);
        int first = -1;
        int sameKind = -1;
        int unnamed = -1;
        for (int i = 0; i < grouped.size(); i++) {
            int image = grouped.imageIndex(i);
            first = image == 0 ? i : first;
            sameKind = image == ShapesData.kinds() ? i : sameKind;
            unnamed = image == count - 1 ? i : unnamed;
            assertEquals(data.caption(i), grouped.caption(i), "examples are unchanged");
        }
        assertEquals(grouped.imageId(first), grouped.imageId(sameKind));
        assertNotEquals(grouped.imageId(first), grouped.imageId(unnamed));
        for (int i = 0; i < grouped.size(); i++) {
            if (grouped.imageIndex(i) % ShapesData.kinds() != 0 || grouped.imageIndex(i) == count - 1) {
                assertNotEquals(grouped.imageId(first), grouped.imageId(i), "example " + i);
            }
        }
        assertEquals(data.size(), grouped.size());
        assertEquals(data.references(3), grouped.references(3));
    }
}
