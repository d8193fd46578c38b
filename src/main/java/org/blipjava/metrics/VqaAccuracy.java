package org.blipjava.metrics;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * VQA accuracy as the official VQAv2 evaluation script ({@code vqaEval.py}) computes it.
 *
 * <p>An answer is normalized (line breaks and tabs to spaces, trimmed, punctuation handled, number
 * words to digits, articles removed, contractions restored). It then scores, against each of the
 * human answers left out in turn, {@code min(#other humans who gave it / 3, 1)}, and the accuracy
 * is the mean over the leave-one-out subsets (10 choose 9 for the usual ten answers).
 *
 * <p>Faithful to the script also where it is surprising: the human answers get only the
 * punctuation step, and only when they are not all identical; the period rule removes at most 32
 * periods. Stateless and thread-safe.
 */
public final class VqaAccuracy {
    private static final Map<String, String> NUMBERS = Map.ofEntries(
            Map.entry("none", "0"), Map.entry("zero", "0"), Map.entry("one", "1"), Map.entry("two", "2"),
            Map.entry("three", "3"), Map.entry("four", "4"), Map.entry("five", "5"), Map.entry("six", "6"),
            Map.entry("seven", "7"), Map.entry("eight", "8"), Map.entry("nine", "9"), Map.entry("ten", "10"));
    private static final Set<String> ARTICLES = Set.of("a", "an", "the");
    private static final List<String> PUNCT = List.of(";", "/", "[", "]", "\"", "{", "}", "(", ")", "=", "+",
            "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!");
    private static final Pattern COMMA_BETWEEN_DIGITS = Pattern.compile("(\\d)(,)(\\d)");
    // The script's "(?!<=\d)" is a (mistyped) look-ahead that never blocks a match before a period.
    private static final Pattern PERIOD = Pattern.compile("\\.(?!\\d)");
    // The script passes re.UNICODE (32) where re.sub expects the replacement count.
    private static final int MAX_PERIODS = 32;
    private static final Map<String, String> CONTRACTIONS = contractions();

    private VqaAccuracy() {}

    /**
     * Accuracy of one predicted answer given the human answers.
     *
     * @param answer the model's answer
     * @param humanAnswers the annotators' answers (usually ten)
     * @return a value in [0, 1]
     * @throws IllegalArgumentException when there are no human answers
     */
    public static double accuracy(String answer, List<String> humanAnswers) {
        if (humanAnswers.isEmpty()) {
            throw new IllegalArgumentException("no human answers to score '" + answer + "' against");
        }
        String predicted = normalize(answer);
        List<String> humans = new ArrayList<>(humanAnswers.size());
        boolean allSame = humanAnswers.stream().distinct().count() == 1;
        for (String h : humanAnswers) {
            humans.add(allSame ? h : processPunctuation(h));
        }
        double sum = 0;
        for (int left = 0; left < humans.size(); left++) {
            int matching = 0;
            for (int j = 0; j < humans.size(); j++) {
                if (j != left && humans.get(j).equals(predicted)) {
                    matching++;
                }
            }
            sum += Math.min(1.0, matching / 3.0);
        }
        return sum / humans.size();
    }

    /** Mean accuracy over questions; the two lists are parallel. */
    public static double meanAccuracy(List<String> answers, List<List<String>> humanAnswers) {
        if (answers.size() != humanAnswers.size()) {
            throw new IllegalArgumentException(answers.size() + " answers but " + humanAnswers.size()
                    + " sets of human answers; give one set per answer");
        }
        if (answers.isEmpty()) {
            throw new IllegalArgumentException("no answers to score");
        }
        double sum = 0;
        for (int i = 0; i < answers.size(); i++) {
            sum += accuracy(answers.get(i), humanAnswers.get(i));
        }
        return sum / answers.size();
    }

    /** The script's normalization of a predicted answer. */
    public static String normalize(String answer) {
        String a = answer.replace('\n', ' ').replace('\t', ' ').strip();
        return processDigitArticle(processPunctuation(a));
    }

    /**
     * Punctuation step: each listed mark is deleted when it touches a space somewhere in the
     * answer (or the answer has a comma between digits), otherwise replaced by a space; then
     * periods not followed by a digit are deleted.
     */
    public static String processPunctuation(String in) {
        String out = in;
        boolean commaNumber = COMMA_BETWEEN_DIGITS.matcher(in).find();
        for (String p : PUNCT) {
            if (in.contains(p + " ") || in.contains(" " + p) || commaNumber) {
                out = out.replace(p, "");
            } else {
                out = out.replace(p, " ");
            }
        }
        Matcher m = PERIOD.matcher(out);
        StringBuilder sb = new StringBuilder();
        int count = 0;
        while (count < MAX_PERIODS && m.find()) {
            m.appendReplacement(sb, "");
            count++;
        }
        m.appendTail(sb);
        return sb.toString();
    }

    /** Word step: lower case, number words to digits, articles dropped, contractions restored. */
    public static String processDigitArticle(String in) {
        List<String> words = new ArrayList<>();
        for (String w : Words.split(in.toLowerCase(java.util.Locale.ROOT))) {
            w = NUMBERS.getOrDefault(w, w);
            if (!ARTICLES.contains(w)) {
                words.add(CONTRACTIONS.getOrDefault(w, w));
            }
        }
        return String.join(" ", words);
    }

    /**
     * The script's contraction table (apostrophe-less spelling to the spelling with apostrophes).
     * Entries whose key has an upper-case letter can never match a lower-cased word; they are kept
     * only because the script has them.
     */
    private static Map<String, String> contractions() {
        String table = """
                aint ain't|arent aren't|cant can't|couldve could've|couldnt couldn't|couldn'tve couldn't've|\
                couldnt've couldn't've|didnt didn't|doesnt doesn't|dont don't|hadnt hadn't|hadnt've hadn't've|\
                hadn'tve hadn't've|hasnt hasn't|havent haven't|hed he'd|hed've he'd've|he'dve he'd've|hes he's|\
                howd how'd|howll how'll|hows how's|Id've I'd've|I'dve I'd've|Im I'm|Ive I've|isnt isn't|itd it'd|\
                itd've it'd've|it'dve it'd've|itll it'll|let's let's|maam ma'am|mightnt mightn't|\
                mightnt've mightn't've|mightn'tve mightn't've|mightve might've|mustnt mustn't|mustve must've|\
                neednt needn't|notve not've|oclock o'clock|oughtnt oughtn't|ow's'at 'ow's'at|'ows'at 'ow's'at|\
                'ow'sat 'ow's'at|shant shan't|shed've she'd've|she'dve she'd've|she's she's|shouldve should've|\
                shouldnt shouldn't|shouldnt've shouldn't've|shouldn'tve shouldn't've|somebody'd somebodyd|\
                somebodyd've somebody'd've|somebody'dve somebody'd've|somebodyll somebody'll|somebodys somebody's|\
                someoned someone'd|someoned've someone'd've|someone'dve someone'd've|someonell someone'll|\
                someones someone's|somethingd something'd|somethingd've something'd've|\
                something'dve something'd've|somethingll something'll|thats that's|thered there'd|\
                thered've there'd've|there'dve there'd've|therere there're|theres there's|theyd they'd|\
                theyd've they'd've|they'dve they'd've|theyll they'll|theyre they're|theyve they've|twas 'twas|\
                wasnt wasn't|wed've we'd've|we'dve we'd've|weve we've|werent weren't|whatll what'll|\
                whatre what're|whats what's|whatve what've|whens when's|whered where'd|wheres where's|\
                whereve where've|whod who'd|whod've who'd've|who'dve who'd've|wholl who'll|whos who's|\
                whove who've|whyll why'll|whyre why're|whys why's|wont won't|wouldve would've|wouldnt wouldn't|\
                wouldnt've wouldn't've|wouldn'tve wouldn't've|yall y'all|yall'll y'all'll|y'allll y'all'll|\
                yall'd've y'all'd've|y'alld've y'all'd've|y'all'dve y'all'd've|youd you'd|youd've you'd've|\
                you'dve you'd've|youll you'll|youre you're|youve you've""";
        Map<String, String> out = new HashMap<>();
        for (String entry : table.split("\\|")) {
            String[] kv = entry.strip().split(" ");
            out.put(kv[0], kv[1]);
        }
        return Map.copyOf(out);
    }
}
