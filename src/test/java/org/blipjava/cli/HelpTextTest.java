package org.blipjava.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Every command's {@code --help} reads as prose at picocli's width: descriptions are given as one
 * array element per sentence or paragraph and picocli wraps them, so no line ends in the middle of
 * a sentence where the next word would still have fitted (the symptom of text hard-wrapped in the
 * source, which picocli then wrapped a second time).
 */
class HelpTextTest {
    /** A sentence or paragraph ends with these, possibly followed by a closing bracket or quote. */
    private static final Pattern SENTENCE_END = Pattern.compile(".*[.:!?][)\\]\"']?$");

    /** Every command and subcommand, as the words that name it on the command line. */
    static Stream<List<String>> commands() {
        List<List<String>> out = new ArrayList<>();
        collect(new CommandLine(Main.class), new ArrayList<>(), out);
        return out.stream();
    }

    private static void collect(CommandLine cl, List<String> path, List<List<String>> out) {
        out.add(List.copyOf(path));
        cl.getSubcommands().forEach((name, sub) -> {
            // Aliases would visit a command twice; its own name is the one to follow.
            if (name.equals(sub.getCommandName())) {
                List<String> p = new ArrayList<>(path);
                p.add(name);
                collect(sub, p, out);
            }
        });
    }

    @ParameterizedTest
    @MethodSource("commands")
    void descriptionLinesBreakOnlyWhereTheNextWordDoesNotFit(List<String> command) {
        List<String> args = new ArrayList<>(command);
        args.add("--help");
        CliRun r = CliRun.run(args.toArray(String[]::new));
        assertThat(r.exit()).as(r.err()).isZero();
        // picocli fills a line up to one column short of the usage width.
        int limit = new CommandLine(Main.class).getUsageHelpWidth() - 1;
        List<String> description = descriptionSection(r.out());
        for (int i = 0; i + 1 < description.size(); i++) {
            String line = description.get(i);
            String next = description.get(i + 1);
            String nextWord = next.strip().split("\\s+", 2)[0];
            boolean fitted = line.length() + 1 + nextWord.length() <= limit;
            assertThat(!SENTENCE_END.matcher(line.strip()).matches() && fitted)
                    .as("'blip %s --help' breaks a sentence after%n  %s%nbefore%n  %s", String.join(" ", command),
                            line, next)
                    .isFalse();
        }
    }

    /**
     * picocli's line breaking also breaks inside a word after a dot or before a bracket
     * ({@code decisions.} / {@code jsonl}); the wording has to keep such words off the line ends.
     */
    @ParameterizedTest
    @MethodSource("commands")
    void descriptionLinesBreakOnlyBetweenWords(List<String> command) {
        List<String> args = new ArrayList<>(command);
        args.add("--help");
        CliRun r = CliRun.run(args.toArray(String[]::new));
        String rendered = String.join(" ", descriptionSection(r.out()));
        String source = String.join(" ", spec(command).usageMessage().description()).replace("%n", " ");
        assertThat(rendered.replaceAll("\\s+", " ").strip())
                .as("'blip %s --help' breaks a line inside a word", String.join(" ", command))
                .isEqualTo(source.replaceAll("\\s+", " ").strip());
    }

    @ParameterizedTest
    @MethodSource("commands")
    void everyElementOfAMultiLineDescriptionIsAWholeSentence(List<String> command) {
        CommandSpec spec = spec(command);
        List<String[]> descriptions = new ArrayList<>();
        descriptions.add(spec.usageMessage().description());
        for (ArgSpec arg : spec.args()) {
            descriptions.add(arg.description());
        }
        for (String[] d : descriptions) {
            if (d.length < 2) {
                continue;
            }
            for (String element : d) {
                // picocli's own help command ends its text with a format newline.
                assertThat(element.replace("%n", "\n").strip()).as("a description element of 'blip %s'", String.join(" ", command))
                        .matches(SENTENCE_END);
            }
        }
    }

    private static CommandSpec spec(List<String> command) {
        CommandLine cl = new CommandLine(Main.class);
        for (String name : command) {
            cl = cl.getSubcommands().get(name);
        }
        return cl.getCommandSpec();
    }

    /**
     * The lines of the description section: after the synopsis (the "Usage:" line and its indented
     * continuation) and any blank lines, up to the first indented line (the parameter and option tables), blank line
     * or heading.
     */
    static List<String> descriptionSection(String help) {
        List<String> lines = help.lines().toList();
        int i = 0;
        while (i < lines.size() && !lines.get(i).startsWith("Usage:")) {
            i++;
        }
        i++;
        while (i < lines.size() && lines.get(i).startsWith(" ")) {
            i++;
        }
        while (i < lines.size() && lines.get(i).isBlank()) {
            i++;
        }
        List<String> out = new ArrayList<>();
        for (; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank() || Character.isWhitespace(line.charAt(0)) || line.equals("Commands:")) {
                break;
            }
            out.add(line);
        }
        return out;
    }
}
