package org.blipjava.cli;

import org.blipjava.generation.EarlyStopping;
import org.blipjava.generation.GenerationConfig;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The generation flags, named as the reference's {@code generate()} arguments in kebab case.
 * Unset flags keep the model's defaults (its generation_config.json over the reference's).
 */
final class GenerationFlags {
    @Option(names = "--num-beams", paramLabel = "N", description = "Beam search with N beams (1: greedy or sampling).")
    Integer numBeams;

    @Option(names = "--max-length", paramLabel = "N", description = "Longest sequence, counting [DEC] and the prompt (default 20).")
    Integer maxLength;

    @Option(names = "--max-new-tokens", paramLabel = "N", description = "Most tokens to generate after the prompt (overrides --max-length).")
    Integer maxNewTokens;

    @Option(names = "--min-length", paramLabel = "N", description = "Shortest sequence before [SEP] may end it, counting [DEC] and the prompt.")
    Integer minLength;

    @Option(names = "--min-new-tokens", paramLabel = "N", description = "Fewest tokens to generate after the prompt.")
    Integer minNewTokens;

    @Option(names = "--repetition-penalty", paramLabel = "X", description = "Penalty for tokens already in the sequence (1.0: none).")
    Double repetitionPenalty;

    @Option(names = "--length-penalty", paramLabel = "X", description = "Beam search: exponent of the length normalisation (1.0).")
    Double lengthPenalty;

    @Option(names = "--no-repeat-ngram-size", paramLabel = "N", description = "Never repeat an n-gram of this size.")
    Integer noRepeatNgramSize;

    @Option(names = "--early-stopping", paramLabel = "RULE", arity = "0..1", fallbackValue = "true",
            description = "Beam search stopping rule: true (stop once num-beams hypotheses are finished), "
                    + "false (the reference's default heuristic) or never.")
    String earlyStopping;

    @Option(names = "--num-return-sequences", paramLabel = "N", description = "Sequences returned per input (at most --num-beams with beam search).")
    Integer numReturnSequences;

    @Option(names = "--do-sample", description = "Sample instead of taking the most likely token.")
    boolean doSample;

    @Option(names = "--temperature", paramLabel = "X", description = "Sampling temperature (with --do-sample).")
    Double temperature;

    @Option(names = "--top-k", paramLabel = "N", description = "Sample among the N most likely tokens (with --do-sample; default 50).")
    Integer topK;

    @Option(names = "--top-p", paramLabel = "X", description = "Nucleus sampling: smallest set of tokens with this much probability (with --do-sample).")
    Double topP;

    @Option(names = "--seed", paramLabel = "N", description = "Random seed for sampling, for reproducible output.")
    Long seed;

    private static EarlyStopping earlyStopping(String value, CommandSpec spec) {
        return switch (value.toLowerCase(java.util.Locale.ROOT)) {
            case "true" -> EarlyStopping.EARLY;
            case "false" -> EarlyStopping.HEURISTIC;
            case "never" -> EarlyStopping.NEVER;
            default -> throw new ParameterException(spec.commandLine(),
                    "--early-stopping takes true, false or never, not '" + value + "'");
        };
    }

    /** The model's defaults with every flag that was given applied. */
    GenerationConfig apply(GenerationConfig base, CommandSpec spec) {
        if (!doSample) {
            for (var e : java.util.Map.of("--temperature", temperature != null, "--top-k", topK != null,
                    "--top-p", topP != null).entrySet()) {
                if (e.getValue()) {
                    throw new ParameterException(spec.commandLine(), e.getKey() + " only applies when sampling; add --do-sample");
                }
            }
        }
        GenerationConfig.Builder b = base.toBuilder();
        if (numBeams != null) b.numBeams(numBeams);
        if (maxLength != null) b.maxLength(maxLength);
        if (maxNewTokens != null) b.maxNewTokens(maxNewTokens);
        if (minLength != null) b.minLength(minLength);
        if (minNewTokens != null) b.minNewTokens(minNewTokens);
        if (repetitionPenalty != null) b.repetitionPenalty(repetitionPenalty);
        if (lengthPenalty != null) b.lengthPenalty(lengthPenalty);
        if (noRepeatNgramSize != null) b.noRepeatNgramSize(noRepeatNgramSize);
        if (earlyStopping != null) b.earlyStopping(earlyStopping(earlyStopping, spec));
        if (numReturnSequences != null) b.numReturnSequences(numReturnSequences);
        if (doSample) b.doSample(true);
        if (temperature != null) b.temperature(temperature);
        if (topK != null) b.topK(topK);
        if (topP != null) b.topP(topP);
        if (seed != null) b.seed(seed);
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }
}
