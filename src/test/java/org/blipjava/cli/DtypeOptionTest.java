package org.blipjava.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.stream.Stream;
import org.blipjava.testing.FixtureInputs;
import org.blipjava.testing.Fixtures;
import org.blipjava.testing.Fixtures.FixtureSet;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code --dtype}: lower-precision weights load and caption; an unknown type is a usage error. */
class DtypeOptionTest {
    static Stream<FixtureSet> sets() {
        return Fixtures.parameters(Fixtures.Kind.BLIP);
    }

    @ParameterizedTest
    @MethodSource("sets")
    void everyWeightTypeCaptionsAndUnknownOnesAreRefused(FixtureSet set) throws Exception {
        String image = set.image(FixtureInputs.modelImages(set.expected(), "caption").get(0)).toString();
        String model = set.model("tiny-caption").toString();
        for (String dtype : new String[] {"f32", "bf16", "int8"}) {
            CliRun r = CliRun.run("caption", "--model", model, "--dtype", dtype, "--json", image);
            assertThat(r.exit()).as(dtype + ": " + r.err()).isZero();
            JsonNode ids = r.json().get("results").get(0).get("token_ids");
            assertThat(ids.size()).as(dtype).isGreaterThanOrEqualTo(2);
            assertThat(ids.get(0).asInt()).isEqualTo(set.expected().get("special_ids").get("bos_dec").asInt());
        }
        CliRun bad = CliRun.run("caption", "--model", model, "--dtype", "fp4", image);
        assertThat(bad.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(bad.err()).contains("--dtype").contains("fp4");
    }
}
