package org.blipjava.checkpoint;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A restricted interpreter for Python's pickle format (protocols 0 to 5), enough to read the
 * {@code data.pkl} of a PyTorch checkpoint.
 *
 * <p>A pickle is a program: its GLOBAL opcodes name arbitrary Python callables and REDUCE calls
 * them, which is how a malicious checkpoint runs code. This interpreter never looks anything up
 * by itself: every global goes through {@link Environment#findGlobal}, which either returns one
 * of the caller's own harmless Java objects or refuses; REDUCE, NEWOBJ, INST and OBJ can only
 * apply a {@link Callable} obtained that way. Nothing named by the pickle is ever executed.
 *
 * <p>Python values become: {@code None} → null, bool → Boolean, int → Long (BigInteger when it
 * does not fit), float → Double, str → String, bytes → byte[], tuple → unmodifiable List, list →
 * ArrayList, dict → LinkedHashMap, set/frozenset → Set. Not thread-safe; use one per pickle.
 */
final class Unpickler {
    /** The only door from a pickle to the outside: globals, persistent ids and BUILD. */
    interface Environment {
        /** An allowed global's stand-in; throws {@link CheckpointException} for anything else. */
        Object findGlobal(String module, String name);

        /** Resolves a persistent id (PERSID/BINPERSID). */
        Object persistentLoad(Object pid);

        /** Applies BUILD's {@code state} to {@code target}; returns the object that replaces it. */
        Object build(Object target, Object state);
    }

    /** A callable an {@link Environment} allowed; REDUCE/NEWOBJ/INST/OBJ apply nothing else. */
    @FunctionalInterface
    interface Callable {
        Object call(List<Object> args);
    }

    private static final int HIGHEST_PROTOCOL = 5;

    private final String source;
    private final ByteBuffer in;
    private final Environment env;
    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();

    private Unpickler(String source, byte[] data, Environment env) {
        this.source = source;
        this.in = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        this.env = env;
    }

    /**
     * Runs the pickle in {@code data} and returns the object it builds.
     *
     * @param source what the bytes came from, named in every error
     */
    static Object load(String source, byte[] data, Environment env) {
        Unpickler u = new Unpickler(source, data, env);
        int opPos = 0;
        try {
            while (true) {
                if (!u.in.hasRemaining()) {
                    throw u.fail("the pickle ends without a STOP opcode (the data is truncated)");
                }
                opPos = u.in.position();
                int op = u.in.get() & 0xff;
                if (op == '.') {
                    Object result = u.pop();
                    if (!u.marks.isEmpty()) {
                        throw u.fail("STOP with an unclosed MARK");
                    }
                    return result;
                }
                u.execute(op);
            }
        } catch (CheckpointException e) {
            throw e;
        } catch (RuntimeException e) {
            // Malformed input surfaces as ClassCast/IndexOutOfBounds/BufferUnderflow etc.: report it as such.
            throw new CheckpointException(source + ": malformed pickle at byte " + opPos + " ("
                    + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage())
                    + "); the file is corrupt", e);
        }
    }

    private void execute(int op) {
        switch (op) {
            case 0x80 -> { // PROTO
                int proto = in.get() & 0xff;
                if (proto > HIGHEST_PROTOCOL) {
                    throw fail("pickle protocol " + proto + " is newer than supported (" + HIGHEST_PROTOCOL + ")");
                }
            }
            case 0x95 -> { // FRAME: a read-ahead hint; the whole pickle is in memory already
                long len = in.getLong();
                if (len < 0 || len > in.remaining()) {
                    throw fail("FRAME of " + len + " bytes runs past the end of the data");
                }
            }
            case '(' -> marks.add(stack.size()); // MARK
            case '0' -> pop(); // POP
            case '1' -> popMark(); // POP_MARK
            case '2' -> push(peek()); // DUP
            case 'N' -> push(null);
            case 0x88 -> push(Boolean.TRUE);
            case 0x89 -> push(Boolean.FALSE);
            case 'I' -> { // INT (text); "01"/"00" are the protocol-0 booleans
                String s = readLine();
                if (s.equals("01")) {
                    push(Boolean.TRUE);
                } else if (s.equals("00")) {
                    push(Boolean.FALSE);
                } else {
                    push(integer(new BigInteger(s.trim())));
                }
            }
            case 'J' -> push((long) in.getInt());
            case 'K' -> push((long) (in.get() & 0xff));
            case 'M' -> push((long) (in.getShort() & 0xffff));
            case 'L' -> { // LONG (text), possibly with a Python 2 'L' suffix
                String s = readLine().trim();
                if (s.endsWith("L")) {
                    s = s.substring(0, s.length() - 1);
                }
                push(integer(new BigInteger(s)));
            }
            case 0x8a -> push(littleEndianInteger(readBytes(in.get() & 0xff)));
            case 0x8b -> push(littleEndianInteger(readBytes(length(in.getInt() & 0xffffffffL))));
            case 'F' -> push(parseFloat(readLine()));
            case 'G' -> push(in.duplicate().order(ByteOrder.BIG_ENDIAN).getDouble(advance(8)));
            case 'S' -> push(pythonStringLiteral(readLine()));
            case 'T' -> push(utf8(readBytes(length(in.getInt())))); // BINSTRING: Python 2 str, decoded as torch does
            case 'U' -> push(utf8(readBytes(in.get() & 0xff)));
            case 'B' -> push(readBytes(length(in.getInt() & 0xffffffffL)));
            case 'C' -> push(readBytes(in.get() & 0xff));
            case 0x8e, 0x96 -> push(readBytes(length(in.getLong()))); // BINBYTES8, BYTEARRAY8
            case 'V' -> push(rawUnicodeEscape(readLine()));
            case 'X' -> push(utf8(readBytes(length(in.getInt() & 0xffffffffL))));
            case 0x8c -> push(utf8(readBytes(in.get() & 0xff)));
            case 0x8d -> push(utf8(readBytes(length(in.getLong()))));
            case ']' -> push(new ArrayList<>());
            case 'l' -> push(new ArrayList<>(popMark()));
            case 'a' -> { // APPEND
                Object v = pop();
                asList(peek(), "APPEND").add(v);
            }
            case 'e' -> { // APPENDS
                List<Object> items = popMark();
                asList(peek(), "APPENDS").addAll(items);
            }
            case ')' -> push(tuple(List.of()));
            case 't' -> push(tuple(popMark()));
            case 0x85 -> push(tuple(popN(1)));
            case 0x86 -> push(tuple(popN(2)));
            case 0x87 -> push(tuple(popN(3)));
            case '}' -> push(new LinkedHashMap<>());
            case 'd' -> {
                List<Object> items = popMark();
                Map<Object, Object> m = new LinkedHashMap<>();
                putPairs(m, items, "DICT");
                push(m);
            }
            case 's' -> { // SETITEM
                Object v = pop();
                Object k = pop();
                asMap(peek(), "SETITEM").put(key(k), v);
            }
            case 'u' -> { // SETITEMS
                List<Object> items = popMark();
                putPairs(asMap(peek(), "SETITEMS"), items, "SETITEMS");
            }
            case 0x8f -> push(new LinkedHashSet<>());
            case 0x90 -> { // ADDITEMS
                List<Object> items = popMark();
                Set<Object> set = asSet(peek());
                for (Object o : items) {
                    set.add(key(o));
                }
            }
            case 0x91 -> { // FROZENSET
                Set<Object> set = new LinkedHashSet<>();
                for (Object o : popMark()) {
                    set.add(key(o));
                }
                push(Collections.unmodifiableSet(set));
            }
            case 'g' -> push(memoGet(Long.parseLong(readLine().trim())));
            case 'h' -> push(memoGet(in.get() & 0xff));
            case 'j' -> push(memoGet(in.getInt() & 0xffffffffL));
            case 'p' -> memo.put(Long.parseLong(readLine().trim()), peek());
            case 'q' -> memo.put((long) (in.get() & 0xff), peek());
            case 'r' -> memo.put(in.getInt() & 0xffffffffL, peek());
            case 0x94 -> memo.put((long) memo.size(), peek()); // MEMOIZE
            case 'c' -> { // GLOBAL
                String module = readLine();
                String name = readLine();
                push(env.findGlobal(module, name));
            }
            case 0x93 -> { // STACK_GLOBAL
                Object name = pop();
                Object module = pop();
                if (!(module instanceof String m) || !(name instanceof String n)) {
                    throw fail("STACK_GLOBAL needs two strings, got " + describe(module) + " and " + describe(name));
                }
                push(env.findGlobal(m, n));
            }
            case 'i' -> { // INST: GLOBAL then call with the marked items
                String module = readLine();
                String name = readLine();
                Object cls = env.findGlobal(module, name);
                push(callable(cls, "INST").call(popMark()));
            }
            case 'o' -> { // OBJ: the first marked item is the class
                List<Object> items = popMark();
                if (items.isEmpty()) {
                    throw fail("OBJ without a class");
                }
                push(callable(items.getFirst(), "OBJ").call(items.subList(1, items.size())));
            }
            case 'R' -> { // REDUCE
                Object args = pop();
                Object fn = pop();
                push(callable(fn, "REDUCE").call(asTuple(args, "REDUCE")));
            }
            case 0x81 -> { // NEWOBJ: cls.__new__(cls, *args)
                Object args = pop();
                Object cls = pop();
                push(callable(cls, "NEWOBJ").call(asTuple(args, "NEWOBJ")));
            }
            case 0x92 -> { // NEWOBJ_EX
                Object kwargs = pop();
                Object args = pop();
                Object cls = pop();
                if (!asMap(kwargs, "NEWOBJ_EX").isEmpty()) {
                    throw fail("NEWOBJ_EX with keyword arguments is not supported");
                }
                push(callable(cls, "NEWOBJ_EX").call(asTuple(args, "NEWOBJ_EX")));
            }
            case 'b' -> { // BUILD
                Object state = pop();
                Object target = pop();
                push(env.build(target, state));
            }
            case 'P' -> push(env.persistentLoad(readLine()));
            case 'Q' -> push(env.persistentLoad(pop()));
            case 0x82, 0x83, 0x84 -> throw fail("the pickle refers to the copyreg extension registry (EXT"
                    + (op - 0x81) + "), which names arbitrary globals; refused");
            case 0x97, 0x98 -> throw fail("the pickle uses out-of-band buffers (protocol 5), which a checkpoint never has");
            default -> throw fail(String.format("unknown pickle opcode 0x%02x at byte %d; the file is corrupt",
                    op, in.position() - 1));
        }
    }

    private void push(Object o) {
        stack.add(o);
    }

    private int floor() {
        return marks.isEmpty() ? 0 : marks.getLast();
    }

    private Object pop() {
        if (stack.size() <= floor()) {
            throw fail("pickle stack underflow at byte " + (in.position() - 1));
        }
        return stack.removeLast();
    }

    private Object peek() {
        if (stack.size() <= floor()) {
            throw fail("pickle stack underflow at byte " + (in.position() - 1));
        }
        return stack.getLast();
    }

    private List<Object> popN(int n) {
        if (stack.size() - n < floor()) {
            throw fail("pickle stack underflow at byte " + (in.position() - 1));
        }
        List<Object> tail = stack.subList(stack.size() - n, stack.size());
        List<Object> out = new ArrayList<>(tail);
        tail.clear();
        return out;
    }

    private List<Object> popMark() {
        if (marks.isEmpty()) {
            throw fail("the pickle closes a MARK that was never opened (byte " + (in.position() - 1) + ")");
        }
        int at = marks.removeLast();
        List<Object> tail = stack.subList(at, stack.size());
        List<Object> out = new ArrayList<>(tail);
        tail.clear();
        return out;
    }

    private Object memoGet(long index) {
        if (!memo.containsKey(index)) {
            throw fail("the pickle reads memo entry " + index + " that was never stored");
        }
        return memo.get(index);
    }

    private int advance(int n) {
        if (in.remaining() < n) {
            throw fail("the pickle data ends in the middle of an opcode (the file is truncated)");
        }
        int at = in.position();
        in.position(at + n);
        return at;
    }

    private int length(long n) {
        if (n < 0 || n > in.remaining()) {
            throw fail("a length of " + n + " runs past the end of the pickle data (the file is truncated)");
        }
        return (int) n;
    }

    private byte[] readBytes(int n) {
        if (n > in.remaining()) {
            throw fail("the pickle data ends in the middle of an opcode (the file is truncated)");
        }
        byte[] b = new byte[n];
        in.get(b);
        return b;
    }

    private String readLine() {
        int start = in.position();
        for (int i = start; i < in.limit(); i++) {
            if (in.get(i) == '\n') {
                byte[] b = new byte[i - start];
                in.get(b);
                in.get(); // the newline
                return utf8(b);
            }
        }
        throw fail("the pickle data ends inside a text argument (the file is truncated)");
    }

    private String utf8(byte[] b) {
        var decoder = StandardCharsets.UTF_8.newDecoder();
        try {
            return decoder.decode(ByteBuffer.wrap(b)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw fail("a string in the pickle is not valid UTF-8");
        }
    }

    private static Object integer(BigInteger v) {
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private static Object littleEndianInteger(byte[] le) {
        if (le.length == 0) {
            return 0L;
        }
        byte[] be = new byte[le.length];
        for (int i = 0; i < le.length; i++) {
            be[i] = le[le.length - 1 - i];
        }
        return integer(new BigInteger(be)); // two's complement, as LONG1/LONG4 specify
    }

    private Double parseFloat(String s) {
        String t = s.trim();
        return switch (t) {
            case "inf" -> Double.POSITIVE_INFINITY;
            case "-inf" -> Double.NEGATIVE_INFINITY;
            case "nan" -> Double.NaN;
            default -> {
                try {
                    yield Double.parseDouble(t);
                } catch (NumberFormatException e) {
                    throw fail("FLOAT argument '" + t + "' is not a number");
                }
            }
        };
    }

    /** Protocol 0 STRING: a quoted Python 2 literal with backslash escapes. */
    private String pythonStringLiteral(String s) {
        if (s.length() < 2 || s.charAt(0) != s.charAt(s.length() - 1) || (s.charAt(0) != '\'' && s.charAt(0) != '"')) {
            throw fail("STRING argument is not a quoted literal");
        }
        String body = s.substring(1, s.length() - 1);
        StringBuilder out = new StringBuilder(body.length());
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (c != '\\' || i + 1 == body.length()) {
                out.append(c);
                continue;
            }
            char e = body.charAt(++i);
            switch (e) {
                case 'n' -> out.append('\n');
                case 't' -> out.append('\t');
                case 'r' -> out.append('\r');
                case '0' -> out.append('\0');
                case 'x' -> {
                    if (i + 2 >= body.length()) {
                        throw fail("STRING argument has a short \\x escape");
                    }
                    out.append((char) Integer.parseInt(body.substring(i + 1, i + 3), 16));
                    i += 2;
                }
                default -> out.append(e);
            }
        }
        return out.toString();
    }

    /** Protocol 0 UNICODE: raw-unicode-escape, where only \\uXXXX and \\UXXXXXXXX are escapes. */
    private String rawUnicodeEscape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length() && (s.charAt(i + 1) == 'u' || s.charAt(i + 1) == 'U')) {
                int digits = s.charAt(i + 1) == 'u' ? 4 : 8;
                if (i + 2 + digits > s.length()) {
                    throw fail("UNICODE argument has a short escape");
                }
                out.appendCodePoint(Integer.parseInt(s.substring(i + 2, i + 2 + digits), 16));
                i += 1 + digits;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static List<Object> tuple(List<Object> items) {
        return Collections.unmodifiableList(new ArrayList<>(items));
    }

    @SuppressWarnings("unchecked")
    private List<Object> asList(Object o, String op) {
        if (o instanceof ArrayList<?> l) {
            return (List<Object>) l;
        }
        throw fail(op + " on " + describe(o) + ", which is not a list");
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> asMap(Object o, String op) {
        if (o instanceof Map<?, ?> m) {
            return (Map<Object, Object>) m;
        }
        throw fail(op + " on " + describe(o) + ", which is not a dict");
    }

    @SuppressWarnings("unchecked")
    private Set<Object> asSet(Object o) {
        if (o instanceof LinkedHashSet<?> s) {
            return (Set<Object>) s;
        }
        throw fail("ADDITEMS on " + describe(o) + ", which is not a set");
    }

    @SuppressWarnings("unchecked")
    private List<Object> asTuple(Object o, String op) {
        if (o instanceof List<?> l) {
            return Collections.unmodifiableList((List<Object>) l);
        }
        throw fail(op + " arguments are " + describe(o) + ", not a tuple");
    }

    private Callable callable(Object o, String op) {
        if (o instanceof Callable c) {
            return c;
        }
        throw fail(op + " applies " + describe(o) + ", which is not an allowed callable");
    }

    private void putPairs(Map<Object, Object> m, List<Object> items, String op) {
        if (items.size() % 2 != 0) {
            throw fail(op + " with an odd number of items");
        }
        for (int i = 0; i < items.size(); i += 2) {
            m.put(key(items.get(i)), items.get(i + 1));
        }
    }

    /**
     * Dict keys and set members must be plain values (or flat tuples of them): hashing a mutable
     * container that contains itself would never end.
     */
    private Object key(Object k) {
        if (isScalar(k)) {
            return k;
        }
        if (k instanceof List<?> l && !(k instanceof ArrayList<?>)) {
            for (Object o : l) {
                if (!isScalar(o)) {
                    throw fail("a dict key or set member is a nested container, which a state dict never has");
                }
            }
            return k;
        }
        throw fail("a dict key or set member is " + describe(k) + ", which is not hashable here");
    }

    private static boolean isScalar(Object o) {
        return o == null || o instanceof String || o instanceof Long || o instanceof BigInteger
                || o instanceof Double || o instanceof Boolean;
    }

    /** A short description of a value for errors; never recursive. */
    static String describe(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof String s) {
            return "the string '" + (s.length() > 60 ? s.substring(0, 60) + "..." : s) + "'";
        }
        if (o instanceof Long || o instanceof BigInteger || o instanceof Double || o instanceof Boolean) {
            return "the value " + o;
        }
        if (o instanceof ArrayList<?> l) {
            return "a list of " + l.size();
        }
        if (o instanceof List<?> l) {
            return "a tuple of " + l.size();
        }
        if (o instanceof Map<?, ?> m) {
            return "a dict of " + m.size();
        }
        if (o instanceof byte[] b) {
            return "bytes of length " + b.length;
        }
        return "a " + o.getClass().getSimpleName();
    }

    private CheckpointException fail(String what) {
        return new CheckpointException(source + ": " + what);
    }
}
