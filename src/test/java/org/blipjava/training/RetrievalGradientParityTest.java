package org.blipjava.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.blipjava.training.GradientFixtures.assertGradients;
import static org.blipjava.training.GradientFixtures.assertLoss;
import static org.blipjava.testing.FixtureInputs.config;
import static org.blipjava.testing.FixtureInputs.ints;
import static org.blipjava.training.GradientFixtures.params;
import static org.blipjava.testing.FixtureInputs.pixels;
import static org.blipjava.testing.FixtureInputs.strings;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.blipjava.checkpoint.SafetensorsFile;
import org.blipjava.config.BlipConfig;
import org.blipjava.testing.ComputeThreads;
import org.blipjava.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Gradients of the ITC+ITM retrieval loss and of BlipModel's contrastive loss against the reference's. */
class RetrievalGradientParityTest {
    @RegisterExtension
    static final ComputeThreads THREADS = new ComputeThreads(2);

    @Test
    void itcPlusItmGradients() {
        for (Fixtures.FixtureSet set : Fixtures.sets(Fixtures.Kind.BLIP)) {
            JsonNode ex = set.expected();
            Path dir = set.model("tiny-itm");
            BlipConfig cfg = config(dir);
            JsonNode itm = ex.get("itm");
            List<String> images = strings(itm.get("images"));
            int size = cfg.vision().imageSize();
            try (SafetensorsFile f = set.openTensors()) {
                Parameters params = params(dir);
                Tape tape = new Tape(THREADS.get());
                RetrievalObjective.Losses losses = new RetrievalObjective(params, cfg).loss(tape,
                        pixels(f, size, images), images.size(), ints(itm.get("input_ids")),
                        ints(itm.get("attention_mask")), itm.at("/train/temperature").asDouble());
                assertLoss(set + " itm/train_itc_loss", losses.itc().item(), Fixtures.floats(f, "itm/train_itc_loss"));
                assertLoss(set + " itm/train_itm_loss", losses.itm().item(), Fixtures.floats(f, "itm/train_itm_loss"));
                tape.backward(losses.total());
                assertThat(assertGradients(set + " itm", f, "itm/grad/", params))
                        .as("%s retrieval parameters without a reference gradient", set).isEmpty();
            }
        }
    }

    @Test
    void contrastiveGradients() {
        for (Fixtures.FixtureSet set : Fixtures.sets(Fixtures.Kind.BLIP)) {
            JsonNode ex = set.expected();
            Path dir = set.model("tiny-contrastive");
            BlipConfig cfg = config(dir);
            JsonNode c = ex.get("contrastive");
            List<String> images = strings(c.get("images"));
            int size = cfg.vision().imageSize();
            try (SafetensorsFile f = set.openTensors()) {
                Parameters params = params(dir);
                Tape tape = new Tape(THREADS.get());
                Tensor loss = new ContrastiveObjective(params, cfg).loss(tape, pixels(f, size, images), images.size(),
                        ints(c.get("input_ids")), ints(c.get("attention_mask")));
                assertLoss(set + " contrastive/loss", loss.item(), Fixtures.floats(f, "contrastive/loss"));
                tape.backward(loss);
                Set<String> unused = assertGradients(set + " contrastive", f, "contrastive/grad/", params);
                // BlipModel runs its text model without images, so exactly the cross-attention weights are unused.
                for (String name : params.names()) {
                    assertThat(unused.contains(name)).as("%s: %s has no reference gradient", set, name)
                            .isEqualTo(name.startsWith("text_model.") && name.contains(".crossattention."));
                }
            }
        }
    }
}
