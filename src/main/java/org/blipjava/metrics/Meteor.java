package org.blipjava.metrics;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * METEOR 1.5 for English as the coco-caption toolkit runs it, without the paraphrase module.
 *
 * <p>Alignment: every candidate/reference word pair is a possible match when the words are equal
 * (exact), have the same Snowball stem (stem) or share a WordNet synset (synonym). Matches that
 * are the only option for both of their words are fixed; the rest is resolved by METEOR's beam
 * search (beam 40). The default {@link SearchRule#METEOR_JAR} reproduces meteor-1.5.jar, which
 * coco-caption runs (so that scores are comparable with published ones): it adds the 0.5 search
 * weight of a stem or synonym match to an {@code int} total, so such a match counts nothing and
 * is dropped whenever leaving it out saves a chunk (e.g. "dogs running" against "dog runs" gets
 * no match at all). {@link SearchRule#COVERED_WORDS} follows the METEOR 1.5 paper (Denkowski and
 * Lavie 2014) instead: most words covered by matches of any module, then fewest chunks, then
 * smallest position distance.
 *
 * <p>Score: precision and recall weight each matched word by its module weight and by delta
 * (content words) or 1 - delta (function words); Fmean = P R / ((1 - alpha) R + alpha P);
 * fragmentation = chunks / mean matched words, penalty = gamma * fragmentation^beta, score =
 * Fmean (1 - penalty). A candidate is scored against each reference and the best one is kept;
 * the corpus score comes from the summed statistics of those best pairs.
 *
 * <p>Thread-safe when its stemmer and synonym source are (the default ones are).
 */
public final class Meteor {
    /** Search beam of METEOR's aligner. */
    public static final int BEAM_SIZE = 40;
    private static final int EXACT = 0;
    private static final int STEM = 1;
    private static final int SYNONYM = 2;
    // Module weights meteor-1.5.jar's scorer gives its aligner for choosing alignments.
    private static final double[] JAR_SEARCH_WEIGHTS = {1.0, 0.5, 0.5};

    /** How the alignment search ranks partial alignments before chunks and distance. */
    public enum SearchRule {
        /** More words covered by matches of any module (both sentences), as the METEOR paper describes. */
        COVERED_WORDS,
        /**
         * meteor-1.5.jar's weighted total (exact 1, stem and synonym 0.5) truncated to an integer
         * at every step, so single-word stem and synonym matches add nothing.
         */
        METEOR_JAR
    }

    /**
     * METEOR parameters.
     *
     * @param alpha precision/recall balance of Fmean
     * @param beta exponent of the fragmentation penalty
     * @param gamma maximum fragmentation penalty
     * @param delta weight of content words against function words
     * @param exactWeight weight of exact matches
     * @param stemWeight weight of stem matches
     * @param synonymWeight weight of synonym matches
     */
    public record Parameters(double alpha, double beta, double gamma, double delta,
            double exactWeight, double stemWeight, double synonymWeight) {
        /** METEOR 1.5 English defaults (task "rank"): 0.85 0.2 0.6 0.75, weights 1.0 0.6 0.8. */
        public static final Parameters ENGLISH = new Parameters(0.85, 0.2, 0.6, 0.75, 1.0, 0.6, 0.8);
    }

    /** Maps a word to its stem. */
    @FunctionalInterface
    public interface Stemmer {
        String stem(String word);
    }

    /** Maps a word to identifiers of the synsets it (or one of its base forms) belongs to. */
    @FunctionalInterface
    public interface Synonyms {
        Set<String> synsets(String word);
    }

    private final Parameters params;
    private final Stemmer stemmer;
    private final Synonyms synonyms;
    private final Set<String> functionWords;
    private final SearchRule searchRule;
    private final Comparator<Path> order;

    /**
     * Creates a scorer from its parts, with the {@link SearchRule#METEOR_JAR} search.
     *
     * @param params METEOR parameters
     * @param stemmer stems for the stem module
     * @param synonyms synsets for the synonym module
     * @param functionWords lower-case function words (weighted by 1 - delta)
     */
    public Meteor(Parameters params, Stemmer stemmer, Synonyms synonyms, Set<String> functionWords) {
        this(params, stemmer, synonyms, functionWords, SearchRule.METEOR_JAR);
    }

    private Meteor(Parameters params, Stemmer stemmer, Synonyms synonyms, Set<String> functionWords,
            SearchRule searchRule) {
        this.params = Objects.requireNonNull(params, "params");
        this.stemmer = Objects.requireNonNull(stemmer, "stemmer");
        this.synonyms = Objects.requireNonNull(synonyms, "synonyms");
        this.functionWords = Set.copyOf(functionWords);
        this.searchRule = Objects.requireNonNull(searchRule, "searchRule");
        this.order = orderFor(searchRule);
    }

    /** The same scorer with another alignment search rule (resources are shared). */
    public Meteor withSearchRule(SearchRule rule) {
        return new Meteor(params, stemmer, synonyms, functionWords, rule);
    }

    /** The alignment search rule of this scorer. */
    public SearchRule searchRule() {
        return searchRule;
    }

    /**
     * English METEOR: Snowball English stemmer, WordNet 3.1 synonyms, the English function words
     * of {@link MeteorResources#englishFunctionWords()} and the default parameters.
     */
    public static Meteor english() {
        return new Meteor(Parameters.ENGLISH, MeteorResources.snowballEnglish(), MeteorResources.wordNet(),
                MeteorResources.englishFunctionWords());
    }

    /** Per-image scores (in {@link CaptionSet#ids()} order) and the corpus score of tokenized captions. */
    public MetricResult score(CaptionSet set) {
        List<Double> per = new ArrayList<>(set.size());
        MeteorStats total = MeteorStats.EMPTY;
        for (String id : set.ids()) {
            MeteorStats s = bestStats(set.candidates().get(id), set.references().get(id));
            per.add(score(s));
            total = total.plus(s);
        }
        return new MetricResult(score(total), per);
    }

    /** Statistics against the best-scoring reference (the first one on a tie). */
    public MeteorStats bestStats(String candidate, List<String> references) {
        if (references.isEmpty()) {
            throw new IllegalArgumentException("no references for candidate '" + candidate + "'");
        }
        List<String> test = Words.split(candidate.toLowerCase(java.util.Locale.ROOT));
        MeteorStats best = null;
        double bestScore = -1;
        for (String ref : references) {
            MeteorStats s = stats(test, Words.split(ref.toLowerCase(java.util.Locale.ROOT)));
            double v = score(s);
            if (v > bestScore) {
                best = s;
                bestScore = v;
            }
        }
        return best;
    }

    /** The METEOR score of (summed) statistics. */
    public double score(MeteorStats s) {
        double delta = params.delta();
        double[] w = {params.exactWeight(), params.stemWeight(), params.synonymWeight()};
        MeteorStats.Matches[] m = {s.exact(), s.stem(), s.synonym()};
        double testLen = delta * (s.testLength() - s.testFunctionWords()) + (1 - delta) * s.testFunctionWords();
        double refLen = delta * (s.referenceLength() - s.referenceFunctionWords())
                + (1 - delta) * s.referenceFunctionWords();
        double testMatches = 0;
        double refMatches = 0;
        for (int i = 0; i < 3; i++) {
            testMatches += m[i].testContent() * w[i] * delta;
        }
        for (int i = 0; i < 3; i++) {
            refMatches += m[i].referenceContent() * w[i] * delta;
        }
        for (int i = 0; i < 3; i++) {
            testMatches += m[i].testFunction() * w[i] * (1 - delta);
        }
        for (int i = 0; i < 3; i++) {
            refMatches += m[i].referenceFunction() * w[i] * (1 - delta);
        }
        double precision = testMatches / testLen;
        double recall = refMatches / refLen;
        double fMean = 1.0 / (((1.0 - params.alpha()) / precision) + (params.alpha() / recall));
        double frag;
        if (s.testMatches() == s.testLength() && s.referenceMatches() == s.referenceLength() && s.chunks() == 1) {
            frag = 0;
        } else {
            frag = s.chunks() / ((s.testMatches() + s.referenceMatches()) / 2.0);
        }
        double score = fMean * (1.0 - params.gamma() * Math.pow(frag, params.beta()));
        return Double.isNaN(score) ? 0 : Math.max(score, 0.0);
    }

    /** Aligns a tokenized candidate with a tokenized reference and counts the statistics. */
    public MeteorStats stats(List<String> test, List<String> reference) {
        Match[] best = align(test, reference);
        int[][] counts = new int[3][4];
        boolean[] fn1 = new boolean[test.size()];
        boolean[] fn2 = new boolean[reference.size()];
        int f1 = 0;
        int f2 = 0;
        for (int i = 0; i < test.size(); i++) {
            fn1[i] = functionWords.contains(test.get(i));
            f1 += fn1[i] ? 1 : 0;
        }
        for (int j = 0; j < reference.size(); j++) {
            fn2[j] = functionWords.contains(reference.get(j));
            f2 += fn2[j] ? 1 : 0;
        }
        for (Match m : best) {
            if (m != null) {
                counts[m.module][fn1[m.test] ? 2 : 0]++;
                counts[m.module][fn2[m.ref] ? 3 : 1]++;
            }
        }
        MeteorStats.Matches[] per = new MeteorStats.Matches[3];
        for (int k = 0; k < 3; k++) {
            per[k] = new MeteorStats.Matches(counts[k][0], counts[k][1], counts[k][2], counts[k][3]);
        }
        return new MeteorStats(test.size(), reference.size(), f1, f2, per[EXACT], per[STEM], per[SYNONYM],
                chunks(best));
    }

    /** A possible match: reference position, candidate position, module. */
    private record Match(int ref, int test, int module) {}

    /** Best alignment as an array indexed by reference position (null where unmatched). */
    private Match[] align(List<String> w1, List<String> w2) {
        int n1 = w1.size();
        int n2 = w2.size();
        List<List<Match>> options = new ArrayList<>(n2);
        for (int j = 0; j < n2; j++) {
            options.add(new ArrayList<>());
        }
        int[] cov1 = new int[n1];
        int[] cov2 = new int[n2];
        for (int j = 0; j < n2; j++) {
            for (int i = 0; i < n1; i++) {
                if (w1.get(i).equals(w2.get(j))) {
                    add(options, cov1, cov2, new Match(j, i, EXACT));
                }
            }
        }
        // Identical sentences need only exact matches (METEOR's guard against search errors).
        if (!w1.equals(w2)) {
            String[] s1 = w1.stream().map(stemmer::stem).toArray(String[]::new);
            String[] s2 = w2.stream().map(stemmer::stem).toArray(String[]::new);
            for (int j = 0; j < n2; j++) {
                for (int i = 0; i < n1; i++) {
                    if (s1[i].equals(s2[j]) && !w1.get(i).equals(w2.get(j))) {
                        add(options, cov1, cov2, new Match(j, i, STEM));
                    }
                }
            }
            List<Set<String>> y1 = w1.stream().map(synonyms::synsets).toList();
            List<Set<String>> y2 = w2.stream().map(synonyms::synsets).toList();
            for (int j = 0; j < n2; j++) {
                for (int i = 0; i < n1; i++) {
                    if (!w1.get(i).equals(w2.get(j)) && intersects(y1.get(i), y2.get(j))) {
                        add(options, cov1, cov2, new Match(j, i, SYNONYM));
                    }
                }
            }
        }
        Path start = new Path(n1, n2);
        for (int j = 0; j < n2; j++) {
            if (options.get(j).size() == 1) {
                Match m = options.get(j).get(0);
                if (cov2[j] == 1 && cov1[m.test] == 1) {
                    start.matches[j] = m;
                    start.used1[m.test] = true;
                    start.used2[j] = true;
                }
            }
        }
        return search(options, start).matches;
    }

    private static void add(List<List<Match>> options, int[] cov1, int[] cov2, Match m) {
        options.get(m.ref).add(m);
        cov1[m.test]++;
        cov2[m.ref]++;
    }

    private static boolean intersects(Set<String> a, Set<String> b) {
        Set<String> small = a.size() <= b.size() ? a : b;
        Set<String> large = small == a ? b : a;
        for (String x : small) {
            if (large.contains(x)) {
                return true;
            }
        }
        return false;
    }

    /** A partial alignment in the beam search (mutable, owned by the search). */
    private static final class Path {
        final Match[] matches;
        final boolean[] used1;
        final boolean[] used2;
        int weighted;
        int covered;
        int chunks;
        int idx;
        int lastMatchEnd = -1;
        int distance;

        Path(int n1, int n2) {
            matches = new Match[n2];
            used1 = new boolean[n1];
            used2 = new boolean[n2];
        }

        Path(Path p) {
            matches = p.matches.clone();
            used1 = p.used1.clone();
            used2 = p.used2.clone();
            weighted = p.weighted;
            covered = p.covered;
            chunks = p.chunks;
            idx = p.idx;
            lastMatchEnd = p.lastMatchEnd;
            distance = p.distance;
        }

        void take(Match m) {
            // Both sides' weighted sizes, accumulated in integers as meteor-1.5.jar does.
            weighted = (int) (weighted + JAR_SEARCH_WEIGHTS[m.module]);
            weighted = (int) (weighted + JAR_SEARCH_WEIGHTS[m.module]);
            covered += 2;
            if (lastMatchEnd != -1 && m.test != lastMatchEnd) {
                chunks++;
            }
            idx = m.ref + 1;
            lastMatchEnd = m.test + 1;
        }
    }

    private static Comparator<Path> orderFor(SearchRule rule) {
        return (x, y) -> {
            int a = rule == SearchRule.COVERED_WORDS ? x.covered : x.weighted;
            int b = rule == SearchRule.COVERED_WORDS ? y.covered : y.weighted;
            if (a != b) {
                return b > a ? 1 : -1;
            }
            if (x.chunks != y.chunks) {
                return Integer.compare(x.chunks, y.chunks);
            }
            return Integer.compare(x.distance, y.distance);
        };
    }

    private Path search(List<List<Match>> options, Path start) {
        int n2 = options.size();
        List<Path> next = new ArrayList<>();
        next.add(start);
        for (int current = 0; current <= n2; current++) {
            List<Path> paths = next;
            next = new ArrayList<>();
            paths.sort(order); // stable, as METEOR's Collections.sort
            for (int rank = 0; rank < BEAM_SIZE && rank < paths.size(); rank++) {
                Path path = paths.get(rank);
                if (current == n2) {
                    if (path.lastMatchEnd != -1) {
                        path.chunks++;
                    }
                    next.add(path);
                    continue;
                }
                if (path.used2[current]) {
                    if (current < path.idx) {
                        next.add(path);
                    } else if (path.matches[path.idx] != null) {
                        Match m = path.matches[path.idx];
                        path.take(m);
                        path.distance += Math.abs(m.ref - m.test);
                        next.add(path);
                    }
                    continue;
                }
                for (Match m : options.get(current)) {
                    if (path.used1[m.test] || path.used2[m.ref]) {
                        continue;
                    }
                    Path p = new Path(path);
                    p.used1[m.test] = true;
                    p.used2[m.ref] = true;
                    p.matches[current] = m;
                    p.take(m);
                    // METEOR adds this distance to the path it branched from, not the new one;
                    // kept because it decides ties between otherwise equal alignments.
                    path.distance += Math.abs(m.ref - m.test);
                    next.add(p);
                }
                if (path.lastMatchEnd != -1) {
                    path.chunks++;
                    path.lastMatchEnd = -1;
                }
                path.idx++;
                next.add(path);
            }
            if (next.isEmpty()) {
                next.add(paths.get(0));
            }
        }
        next.sort(order);
        return next.get(0);
    }

    /** Chunks of an alignment: maximal runs adjacent in both sentences and in the same order. */
    private static int chunks(Match[] matches) {
        int chunks = 0;
        int lastMatchEnd = -1;
        for (Match m : matches) {
            if (m == null) {
                if (lastMatchEnd != -1) {
                    chunks++;
                    lastMatchEnd = -1;
                }
            } else {
                if (lastMatchEnd != -1 && m.test != lastMatchEnd) {
                    chunks++;
                }
                lastMatchEnd = m.test + 1;
            }
        }
        return lastMatchEnd != -1 ? chunks + 1 : chunks;
    }

    @Override
    public String toString() {
        return "Meteor[" + params + ", " + searchRule + ", " + functionWords.size() + " function words]";
    }
}
