package org.blipjava.metrics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * METEOR 1.5 for English as the coco-caption toolkit runs it, without the paraphrase module.
 *
 * <p>Alignment: every candidate/reference word pair is a possible match when the words are equal
 * (exact), have the same Snowball stem (stem) or share a WordNet synset (synonym). Matches that
 * are the only option for both of their words are fixed; the rest is resolved by METEOR's beam
 * search (beam 40; a module proposes at most {@value #MAX_OPTIONS} matches for one reference word,
 * the nearest, so that time and memory grow linearly with caption length; real captions never
 * reach that bound, so their alignments are meteor-1.5.jar's). The default {@link SearchRule#METEOR_JAR} reproduces meteor-1.5.jar, which
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
    /**
     * Most matches one module proposes for one reference word: the nearest to it. Only captions far
     * longer than real ones (hundreds of words repeating a word) have more; trying them all made
     * the search quadratic in the caption length.
     */
    public static final int MAX_OPTIONS = 40;
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
        Match[] best = align(test, reference).matches();
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

    /** The chosen matches by reference position (null where unmatched) and how many extensions the search weighed. */
    private record Alignment(Match[] matches, long extensions) {}

    /**
     * Extensions of partial alignments the search weighed for this pair of tokenized sentences:
     * the work it did, which {@link #MAX_OPTIONS} and the beam keep linear in the reference length.
     */
    long searchWork(List<String> test, List<String> reference) {
        return align(test, reference).extensions();
    }

    /** Best alignment of a tokenized candidate ({@code w1}) with a tokenized reference ({@code w2}). */
    private Alignment align(List<String> w1, List<String> w2) {
        int n1 = w1.size();
        int n2 = w2.size();
        // Whether two words match depends only on the words, so matching works on distinct candidate
        // words ("types") and their positions instead of on every pair of positions, which is quadratic.
        Map<String, Integer> typeIds = new HashMap<>();
        List<String> types = new ArrayList<>();
        int[] type1 = new int[n1];
        for (int i = 0; i < n1; i++) {
            type1[i] = typeIds.computeIfAbsent(w1.get(i), w -> {
                types.add(w);
                return types.size() - 1;
            });
        }
        int[][] positions = positionsOf(type1, types.size());
        // Identical sentences need only exact matches (METEOR's guard against search errors).
        boolean exactOnly = w1.equals(w2);
        Map<String, List<Integer>> typesByStem = new HashMap<>();
        Map<String, List<Integer>> typesBySynset = new HashMap<>();
        if (!exactOnly) {
            for (int t = 0; t < types.size(); t++) {
                typesByStem.computeIfAbsent(stemmer.stem(types.get(t)), k -> new ArrayList<>()).add(t);
                for (String synset : synonyms.synsets(types.get(t))) {
                    typesBySynset.computeIfAbsent(synset, k -> new ArrayList<>()).add(t);
                }
            }
        }
        List<List<Match>> options = new ArrayList<>(n2);
        int[] proposed = new int[n2]; // matches the modules propose for each reference word
        int[] typeCoverage = new int[types.size()]; // the same for every position of a candidate type
        int[] seen = new int[types.size()];
        List<Integer> matched = new ArrayList<>();
        for (int j = 0; j < n2; j++) {
            List<Match> opts = new ArrayList<>();
            String word = w2.get(j);
            Integer same = typeIds.get(word);
            matched.clear();
            if (same != null) {
                matched.add(same);
            }
            proposed[j] += addOptions(opts, j, EXACT, matched, positions, typeCoverage);
            if (!exactOnly) {
                matched.clear();
                for (int t : typesByStem.getOrDefault(stemmer.stem(word), List.of())) {
                    if (same == null || t != same) {
                        matched.add(t);
                    }
                }
                proposed[j] += addOptions(opts, j, STEM, matched, positions, typeCoverage);
                matched.clear();
                for (String synset : synonyms.synsets(word)) {
                    for (int t : typesBySynset.getOrDefault(synset, List.of())) {
                        // A type sharing several synsets with the word is one match, not several.
                        if ((same == null || t != same) && seen[t] != j + 1) {
                            seen[t] = j + 1;
                            matched.add(t);
                        }
                    }
                }
                proposed[j] += addOptions(opts, j, SYNONYM, matched, positions, typeCoverage);
            }
            options.add(opts);
        }
        // A match that is the only one proposed for both of its words is fixed before the search.
        Match[] fixed = new Match[n2];
        PositionSet used = PositionSet.empty(n1);
        for (int j = 0; j < n2; j++) {
            if (proposed[j] == 1) {
                Match m = options.get(j).get(0);
                if (typeCoverage[type1[m.test]] == 1) {
                    fixed[j] = m;
                    used = used.with(m.test);
                }
            }
        }
        return search(options, fixed, used);
    }

    /** Candidate positions of each type, ascending. */
    private static int[][] positionsOf(int[] type1, int typeCount) {
        int[] counts = new int[typeCount];
        for (int t : type1) {
            counts[t]++;
        }
        int[][] out = new int[typeCount][];
        for (int t = 0; t < typeCount; t++) {
            out[t] = new int[counts[t]];
            counts[t] = 0;
        }
        for (int i = 0; i < type1.length; i++) {
            out[type1[i]][counts[type1[i]]++] = i;
        }
        return out;
    }

    /**
     * Adds the matches of reference word {@code j} with every position of the candidate types
     * {@code matched} (in candidate order, as METEOR's matchers list them), at most
     * {@link #MAX_OPTIONS} of them: the nearest to {@code j}. Counts each match, kept or not, in the
     * coverage of its candidate type and returns how many there were.
     */
    private static int addOptions(List<Match> opts, int j, int module, List<Integer> matched, int[][] positions,
            int[] typeCoverage) {
        int total = 0;
        for (int t : matched) {
            total += positions[t].length;
            typeCoverage[t]++;
        }
        if (total == 0) {
            return 0;
        }
        int[] chosen;
        if (total <= MAX_OPTIONS) {
            chosen = new int[total];
            int k = 0;
            for (int t : matched) {
                System.arraycopy(positions[t], 0, chosen, k, positions[t].length);
                k += positions[t].length;
            }
        } else {
            // The nearest MAX_OPTIONS of all are among the nearest MAX_OPTIONS on each side of j in each type.
            List<Integer> near = new ArrayList<>();
            for (int t : matched) {
                int[] p = positions[t];
                int at = Arrays.binarySearch(p, j);
                int from = at >= 0 ? at : -at - 1;
                for (int k = Math.max(0, from - MAX_OPTIONS); k < Math.min(p.length, from + MAX_OPTIONS); k++) {
                    near.add(p[k]);
                }
            }
            near.sort(Comparator.comparingInt((Integer i) -> Math.abs(i - j)).thenComparingInt(i -> i));
            chosen = near.subList(0, MAX_OPTIONS).stream().mapToInt(Integer::intValue).toArray();
        }
        Arrays.sort(chosen);
        for (int i : chosen) {
            opts.add(new Match(j, i, module));
        }
        return total;
    }

    /**
     * A persistent set of candidate positions: {@link #with} returns a new set that shares every
     * node it did not change, so that the many partial alignments of the search cost a few small
     * nodes each instead of a copy of the sentence.
     */
    private static final class PositionSet {
        // A 32-way trie whose leaves are 32 longs: 2048 positions a leaf.
        private static final int LEAF_BITS = 11;
        private static final int INNER_BITS = 5;
        private final Object root;
        private final int levels;

        private PositionSet(Object root, int levels) {
            this.root = root;
            this.levels = levels;
        }

        static PositionSet empty(int capacity) {
            int levels = 0;
            while (levels < 5 && ((long) capacity >>> (LEAF_BITS + INNER_BITS * levels)) > 0) {
                levels++;
            }
            return new PositionSet(null, levels);
        }

        boolean contains(int i) {
            Object node = root;
            for (int level = levels; level > 0 && node != null; level--) {
                node = ((Object[]) node)[slot(i, level)];
            }
            return node != null && (((long[]) node)[(i >>> 6) & 31] & (1L << i)) != 0;
        }

        PositionSet with(int i) {
            return new PositionSet(with(root, levels, i), levels);
        }

        private static Object with(Object node, int level, int i) {
            if (level == 0) {
                long[] leaf = node == null ? new long[32] : ((long[]) node).clone();
                leaf[(i >>> 6) & 31] |= 1L << i;
                return leaf;
            }
            Object[] inner = node == null ? new Object[32] : ((Object[]) node).clone();
            int s = slot(i, level);
            inner[s] = with(inner[s], level - 1, i);
            return inner;
        }

        private static int slot(int i, int level) {
            return (i >>> (LEAF_BITS + INNER_BITS * (level - 1))) & 31;
        }
    }

    /** The matches a partial alignment took, newest first (shared with the paths it came from). */
    private record Taken(Match match, Taken previous) {}

    /**
     * A partial alignment of the search. {@code gain} ranks it first: words covered by its matches
     * ({@link SearchRule#COVERED_WORDS}) or meteor-1.5.jar's truncated weighted total.
     */
    private record Path(Taken taken, PositionSet used, int gain, int chunks, int lastMatchEnd, int distance) {}

    /**
     * The {@link #BEAM_SIZE} best extensions of one step of the search, in the order METEOR's
     * stable sort of all of them would put them: more gain, then fewer chunks, then less distance,
     * then the one proposed first. Extensions are only kept as their parent and numbers; the beam
     * builds paths from the few that survive.
     */
    private static final class Beam {
        final Path[] parents = new Path[BEAM_SIZE];
        final Match[] matches = new Match[BEAM_SIZE];
        final int[] gains = new int[BEAM_SIZE];
        final int[] chunks = new int[BEAM_SIZE];
        final int[] lastMatchEnds = new int[BEAM_SIZE];
        final int[] distances = new int[BEAM_SIZE];
        int size;
        long offered;

        /** Offers {@code parent} extended by {@code match} (null: by nothing) with the given numbers. */
        void offer(Path parent, Match match, int gain, int chunk, int lastMatchEnd, int distance) {
            offered++;
            // Later offers lose ties, so the new one goes after every entry that is not worse.
            int at = size;
            while (at > 0 && worse(gains[at - 1], chunks[at - 1], distances[at - 1], gain, chunk, distance)) {
                at--;
            }
            if (at == BEAM_SIZE) {
                return;
            }
            int last = Math.min(size, BEAM_SIZE - 1);
            for (int k = last; k > at; k--) {
                parents[k] = parents[k - 1];
                matches[k] = matches[k - 1];
                gains[k] = gains[k - 1];
                chunks[k] = chunks[k - 1];
                lastMatchEnds[k] = lastMatchEnds[k - 1];
                distances[k] = distances[k - 1];
            }
            parents[at] = parent;
            matches[at] = match;
            gains[at] = gain;
            chunks[at] = chunk;
            lastMatchEnds[at] = lastMatchEnd;
            distances[at] = distance;
            size = Math.min(size + 1, BEAM_SIZE);
        }

        private static boolean worse(int gainA, int chunksA, int distanceA, int gainB, int chunksB, int distanceB) {
            if (gainA != gainB) {
                return gainA < gainB;
            }
            if (chunksA != chunksB) {
                return chunksA > chunksB;
            }
            return distanceA > distanceB;
        }

        /** The surviving extensions as paths, best first. */
        List<Path> paths() {
            List<Path> out = new ArrayList<>(size);
            for (int k = 0; k < size; k++) {
                Path p = parents[k];
                Match m = matches[k];
                Taken taken = m == null ? p.taken() : new Taken(m, p.taken());
                PositionSet used = m == null || p.used().contains(m.test) ? p.used() : p.used().with(m.test);
                out.add(new Path(taken, used, gains[k], chunks[k], lastMatchEnds[k], distances[k]));
            }
            return out;
        }
    }

    /** What a match adds to a path's {@code gain}. */
    private int gain(int module) {
        if (searchRule == SearchRule.COVERED_WORDS) {
            return 2;
        }
        // meteor-1.5.jar adds the module weight for each side to an int total: an int plus w truncates to
        // the int plus (int) w, so a match with weight 0.5 adds nothing.
        return 2 * (int) JAR_SEARCH_WEIGHTS[module];
    }

    /**
     * METEOR's beam search over the reference words from left to right: at each word every path in
     * the beam takes its fixed match, or tries each unused match of the word and leaving the word
     * unmatched; the best {@link #BEAM_SIZE} extensions go on.
     */
    private Alignment search(List<List<Match>> options, Match[] fixed, PositionSet fixedUsed) {
        int n2 = options.size();
        List<Path> beam = List.of(new Path(null, fixedUsed, 0, 0, -1, 0));
        long extensions = 0;
        for (int current = 0; current < n2; current++) {
            Beam next = new Beam();
            for (Path path : beam) {
                Match f = fixed[current];
                if (f != null) {
                    next.offer(path, f, path.gain() + gain(f.module), path.chunks() + continues(path, f),
                            f.test + 1, path.distance() + Math.abs(f.ref - f.test));
                    continue;
                }
                int distance = path.distance();
                for (Match m : options.get(current)) {
                    if (path.used().contains(m.test)) {
                        continue;
                    }
                    next.offer(path, m, path.gain() + gain(m.module), path.chunks() + continues(path, m),
                            m.test + 1, distance);
                    // METEOR adds this distance to the path it branched from, not the new one;
                    // kept because it decides ties between otherwise equal alignments.
                    distance += Math.abs(m.ref - m.test);
                }
                next.offer(path, null, path.gain(), path.chunks() + (path.lastMatchEnd() != -1 ? 1 : 0), -1,
                        distance);
            }
            extensions += next.offered;
            beam = next.paths();
        }
        // Close each path's last chunk; the first of the best wins, as after METEOR's stable sort.
        Path best = null;
        int bestChunks = 0;
        for (Path p : beam) {
            int c = p.chunks() + (p.lastMatchEnd() != -1 ? 1 : 0);
            if (best == null || Beam.worse(best.gain(), bestChunks, best.distance(), p.gain(), c, p.distance())) {
                best = p;
                bestChunks = c;
            }
        }
        Match[] matches = new Match[n2];
        for (Taken t = best.taken(); t != null; t = t.previous()) {
            matches[t.match().ref] = t.match();
        }
        return new Alignment(matches, extensions);
    }

    /** 1 when taking {@code m} starts a new chunk of {@code path}: it does not continue the last match. */
    private static int continues(Path path, Match m) {
        return path.lastMatchEnd() != -1 && m.test != path.lastMatchEnd() ? 1 : 0;
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
