package org.blipjava.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * CLIP's byte-level BPE: a word's UTF-8 bytes, each shown as one printable character (GPT-2's
 * {@code bytes_to_unicode} table), with {@code </w>} glued to the last one, merged pair by pair in the order of
 * {@code merges.txt}, as the reference's {@code CLIPTokenizer.bpe} does.
 *
 * <p>Symbols (single byte characters, merge results and verbatim words) are interned as ints so that a merge
 * lookup is one hash probe on a pair of ints. Words are cached; the cache is concurrent and bounded, so an
 * instance is safe to share between threads.
 */
final class ClipBpe {
    /** Marks the end of a word on its last symbol. */
    static final String END_OF_WORD = "</w>";

    /** Byte value to the character that stands for it in tokens. */
    private static final char[] BYTE_TO_CHAR = new char[256];
    /** Character (index) to the byte it stands for, or -1; every table character is below 0x144. */
    private static final int[] CHAR_TO_BYTE = new int[0x144];

    static {
        // GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the other 68 bytes (controls,
        // space, DEL, NBSP, soft hyphen) take the code points from U+0100 up, in byte order.
        Arrays.fill(CHAR_TO_BYTE, -1);
        int next = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + next++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    /** Longest word (in chars) whose result is cached; longer ones are rare and would bloat the cache. */
    private static final int MAX_CACHED_WORD = 64;
    /** Cache size past which new words are no longer cached (the reference's cache grows without bound). */
    private static final int MAX_CACHE_ENTRIES = 100_000;

    private final String[] symbols;
    private final int[] byteSymbol = new int[256];
    private final int[] byteEndSymbol = new int[256];
    private final PairTable merges;
    private final int mergeCount;
    private final Map<String, int[]> verbatim;
    private final Map<String, Integer> extraSymbolIds;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    /**
     * @param mergePairs the merges in rank order, each a pair of symbols (null for a line that is no pair)
     * @param verbatimWords words that are their own single token, never split (the reference seeds its cache
     *                      with {@code <|startoftext|>} and {@code <|endoftext|>} this way)
     * @param extraSymbols  further strings to give symbol ids (added tokens), see {@link #symbolId}
     */
    ClipBpe(List<String[]> mergePairs, List<String> verbatimWords, List<String> extraSymbols) {
        Map<String, Integer> ids = new HashMap<>(mergePairs.size() * 3);
        List<String> table = new ArrayList<>(mergePairs.size() + 600);
        for (int b = 0; b < 256; b++) {
            String c = String.valueOf(BYTE_TO_CHAR[b]);
            byteSymbol[b] = intern(c, ids, table);
            byteEndSymbol[b] = intern(c + END_OF_WORD, ids, table);
        }
        this.merges = new PairTable(mergePairs.size());
        int pairs = 0;
        for (int rank = 0; rank < mergePairs.size(); rank++) {
            String[] pair = mergePairs.get(rank);
            if (pair == null) {
                // A line that is not a pair keeps its rank but can never match.
                continue;
            }
            pairs++;
            int left = intern(pair[0], ids, table);
            int right = intern(pair[1], ids, table);
            int merged = intern(pair[0] + pair[1], ids, table);
            // A pair listed twice keeps its later rank, as the reference's dict(zip(merges, ranks)) does.
            merges.put(left, right, rank, merged);
        }
        this.mergeCount = pairs;
        Map<String, int[]> words = new HashMap<>();
        for (String w : verbatimWords) {
            words.put(w, new int[] {intern(w, ids, table)});
        }
        this.verbatim = Map.copyOf(words);
        Map<String, Integer> extra = new HashMap<>();
        for (String s : extraSymbols) {
            extra.put(s, intern(s, ids, table));
        }
        this.extraSymbolIds = Map.copyOf(extra);
        this.symbols = table.toArray(String[]::new);
    }

    /**
     * @param s one of the extra symbols given to the constructor
     * @return its symbol id
     */
    int symbolId(String s) {
        Integer id = extraSymbolIds.get(s);
        if (id == null) {
            throw new IllegalArgumentException("not an extra symbol: " + s);
        }
        return id;
    }

    private static int intern(String s, Map<String, Integer> ids, List<String> table) {
        Integer id = ids.get(s);
        if (id == null) {
            id = table.size();
            ids.put(s, id);
            table.add(s);
        }
        return id;
    }

    /** @return the number of merges in use */
    int mergeCount() {
        return mergeCount;
    }

    /** @return the number of distinct symbols (the valid range of symbol ids) */
    int symbolCount() {
        return symbols.length;
    }

    /** @return the text of a symbol (a token) */
    String symbol(int id) {
        return symbols[id];
    }

    /** The character that stands for a byte in tokens. */
    static char byteChar(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /** The byte a token character stands for, or -1 when the character is not one of the 256. */
    static int charByte(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /**
     * Splits one pre-tokenized word into BPE symbols.
     *
     * @param word a non-empty piece of the pre-tokenizer (lower-cased text, no whitespace)
     * @return the symbol ids, in order (the caller must not modify the array: it may be cached)
     */
    int[] encode(String word) {
        int[] hit = verbatim.get(word);
        if (hit == null) {
            hit = cache.get(word);
        }
        if (hit != null) {
            return hit;
        }
        int[] out = merge(word.getBytes(StandardCharsets.UTF_8));
        if (word.length() <= MAX_CACHED_WORD && cache.size() < MAX_CACHE_ENTRIES) {
            cache.putIfAbsent(word, out);
        }
        return out;
    }

    /**
     * The reference's merge loop, in O(n log n): it repeatedly takes the pair of lowest rank present and
     * merges all of its non-overlapping occurrences from left to right. Here every adjacent ranked pair sits in
     * a heap ordered by (rank, position); all entries of the lowest rank are taken at once and merged in
     * position order. A merge cannot create another occurrence of the same pair (the merged symbol is longer
     * than either half), so each round merges exactly what the reference's pass merges. Entries made stale by
     * earlier merges are recognized by re-checking the pair when they come up.
     */
    private int[] merge(byte[] bytes) {
        int n = bytes.length;
        int[] sym = new int[n];
        for (int k = 0; k < n - 1; k++) {
            sym[k] = byteSymbol[bytes[k] & 0xFF];
        }
        sym[n - 1] = byteEndSymbol[bytes[n - 1] & 0xFF];
        if (n == 1) {
            return sym;
        }
        int[] next = new int[n];
        int[] prev = new int[n];
        boolean[] dead = new boolean[n];
        for (int k = 0; k < n; k++) {
            next[k] = k + 1 < n ? k + 1 : -1;
            prev[k] = k - 1;
        }
        LongHeap heap = new LongHeap(n);
        for (int k = 0; k < n - 1; k++) {
            push(heap, sym, k, k + 1);
        }
        int alive = n;
        int[] batch = new int[16];
        while (!heap.isEmpty() && alive > 1) {
            int rank = (int) (heap.peek() >>> 32);
            int count = 0;
            while (!heap.isEmpty() && (int) (heap.peek() >>> 32) == rank) {
                if (count == batch.length) {
                    batch = Arrays.copyOf(batch, count * 2);
                }
                batch[count++] = (int) heap.poll();
            }
            for (int b = 0; b < count; b++) {
                int p = batch[b];
                int q = dead[p] ? -1 : next[p];
                if (q < 0) {
                    continue;
                }
                long entry = merges.get(sym[p], sym[q]);
                if (entry == PairTable.ABSENT || (int) (entry >>> 32) != rank) {
                    continue;
                }
                sym[p] = (int) entry;
                dead[q] = true;
                next[p] = next[q];
                if (next[q] >= 0) {
                    prev[next[q]] = p;
                }
                alive--;
                if (prev[p] >= 0) {
                    push(heap, sym, prev[p], p);
                }
                if (next[p] >= 0) {
                    push(heap, sym, p, next[p]);
                }
            }
        }
        int[] out = new int[alive];
        int k = 0;
        for (int p = 0; p >= 0; p = next[p]) {
            out[k++] = sym[p];
        }
        return out;
    }

    private void push(LongHeap heap, int[] sym, int p, int q) {
        long entry = merges.get(sym[p], sym[q]);
        if (entry != PairTable.ABSENT) {
            heap.add((entry >>> 32) << 32 | p);
        }
    }

    /** Open-addressing map from a pair of symbol ids to (rank, merged symbol id), packed in one long. */
    private static final class PairTable {
        static final long ABSENT = -1L;
        private final long[] keys;
        private final long[] values;
        private final int mask;

        PairTable(int expected) {
            int cap = Integer.highestOneBit(Math.max(16, expected * 2 + 1)) << 1;
            keys = new long[cap];
            values = new long[cap];
            Arrays.fill(keys, ABSENT);
            mask = cap - 1;
        }

        private int slot(long key) {
            long h = key * 0x9E3779B97F4A7C15L;
            int i = (int) (h >>> 40) & mask;
            while (keys[i] != ABSENT && keys[i] != key) {
                i = (i + 1) & mask;
            }
            return i;
        }

        void put(int left, int right, int rank, int merged) {
            long key = (long) left << 32 | right;
            int i = slot(key);
            keys[i] = key;
            values[i] = (long) rank << 32 | merged;
        }

        long get(int left, int right) {
            long key = (long) left << 32 | right;
            int i = slot(key);
            return keys[i] == ABSENT ? ABSENT : values[i];
        }
    }

    /** A binary min-heap of longs. */
    private static final class LongHeap {
        private long[] a;
        private int size;

        LongHeap(int capacity) {
            a = new long[Math.max(4, capacity)];
        }

        boolean isEmpty() {
            return size == 0;
        }

        long peek() {
            return a[0];
        }

        void add(long v) {
            if (size == a.length) {
                a = Arrays.copyOf(a, size * 2);
            }
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (a[parent] <= v) {
                    break;
                }
                a[i] = a[parent];
                i = parent;
            }
            a[i] = v;
        }

        long poll() {
            long top = a[0];
            long last = a[--size];
            int i = 0;
            int half = size >>> 1;
            while (i < half) {
                int c = 2 * i + 1;
                if (c + 1 < size && a[c + 1] < a[c]) {
                    c++;
                }
                if (last <= a[c]) {
                    break;
                }
                a[i] = a[c];
                i = c;
            }
            a[i] = last;
            return top;
        }
    }
}
