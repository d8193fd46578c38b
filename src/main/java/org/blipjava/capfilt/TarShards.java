package org.blipjava.capfilt;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.BiConsumer;

/**
 * Minimal POSIX ustar reading and writing for WebDataset shards: regular files only, read one
 * entry at a time from a stream (so a shard is never held whole), written with fixed metadata
 * (mode 0644, owner 0, time 0) so that the same entries always give the same bytes. Links,
 * devices and other non-file entries are skipped and reported to the reader's listener; names
 * that would leave the folder an archive is extracted into are never written.
 */
public final class TarShards {
    private static final int BLOCK = 512;

    private TarShards() {}

    /** One regular file of a tar archive. */
    public record Entry(String name, byte[] data) {}

    /**
     * Reads the regular files of a tar stream in order. Directories and pax/GNU metadata entries
     * are consumed silently; links, devices, FIFOs and unknown entry types are skipped and passed
     * to the listener with the reason, since a WebDataset sample in them would otherwise vanish
     * without a word.
     */
    public static final class Reader {
        private final InputStream in;
        private final String source;
        private final BiConsumer<String, String> skipped;
        private final byte[] header = new byte[BLOCK];
        private String pendingLongName;
        private String pendingLongLink;
        private long position;
        private long entryStart;

        /**
         * A reader that ignores skipped entries.
         *
         * @param in the archive (not closed by the reader)
         * @param source what to name in errors (the shard file)
         */
        public Reader(InputStream in, String source) {
            this(in, source, (name, reason) -> {});
        }

        /**
         * @param in the archive (not closed by the reader)
         * @param source what to name in errors (the shard file)
         * @param skipped called with the name and the reason of each entry that is not a regular
         *     file and not a directory or metadata (for example a symbolic link)
         */
        public Reader(InputStream in, String source, BiConsumer<String, String> skipped) {
            this.in = in;
            this.source = source;
            this.skipped = skipped;
        }

        /**
         * The byte offset of the entry header read last: after {@link #next} failed, where the
         * damaged entry starts (everything before it was read whole).
         */
        public long position() {
            return entryStart;
        }

        /** The next regular file, or null at the end of the archive. */
        public Entry next() throws IOException {
            while (true) {
                entryStart = position;
                if (!readFully(header, true)) {
                    return null;
                }
                if (isZero(header)) {
                    return null;
                }
                String name = string(header, 0, 100);
                long size = octal(header, 124, 12);
                byte type = header[156];
                String prefix = string(header, 345, 155);
                if (!prefix.isEmpty() && isUstar(header)) {
                    name = prefix + "/" + name;
                }
                if (size < 0 || size > Integer.MAX_VALUE - 16) {
                    throw new IOException(source + ": tar entry " + name + " has an unsupported size " + size);
                }
                byte[] data = new byte[(int) size];
                readFully(data, false);
                skipPadding(size);
                if (type == 'L') { // GNU long name: the data is the next entry's name
                    pendingLongName = new String(data, StandardCharsets.UTF_8).replace("\0", "");
                    continue;
                }
                if (type == 'K') { // GNU long link name: the next entry's link target
                    pendingLongLink = new String(data, StandardCharsets.UTF_8).replace("\0", "");
                    continue;
                }
                if (type == 'x' || type == 'g') { // pax headers: only the path is used
                    String path = paxPath(data);
                    if (type == 'x' && path != null) {
                        pendingLongName = path;
                    }
                    continue;
                }
                if (pendingLongName != null) {
                    name = pendingLongName;
                    pendingLongName = null;
                }
                String link = pendingLongLink != null ? pendingLongLink : string(header, 157, 100);
                pendingLongLink = null;
                if (type == '0' || type == 0 || type == '7') {
                    return new Entry(name, data);
                }
                String reason = switch (type) {
                    case '5' -> null; // a directory holds no sample data
                    case '1' -> "a hard link (to " + link + "), not a regular file";
                    case '2' -> "a symbolic link (to " + link + "), not a regular file";
                    case '3', '4' -> "a device file, not a regular file";
                    case '6' -> "a FIFO, not a regular file";
                    default -> "an unsupported tar entry type '" + (char) (type & 0xff) + "'";
                };
                if (reason != null) {
                    skipped.accept(name, reason);
                }
            }
        }

        private static String paxPath(byte[] data) {
            String text = new String(data, StandardCharsets.UTF_8);
            for (String line : text.split("\n")) {
                int sp = line.indexOf(' ');
                if (sp > 0 && line.startsWith("path=", sp + 1)) {
                    return line.substring(sp + 6);
                }
            }
            return null;
        }

        private void skipPadding(long size) throws IOException {
            int pad = (int) ((BLOCK - size % BLOCK) % BLOCK);
            if (pad > 0) {
                readFully(new byte[pad], false);
            }
        }

        private boolean readFully(byte[] b, boolean eofOk) throws IOException {
            int off = 0;
            while (off < b.length) {
                int n = in.read(b, off, b.length - off);
                if (n < 0) {
                    if (eofOk && off == 0) {
                        return false;
                    }
                    throw new EOFException(source + ": the tar archive ends inside an entry (a truncated shard?)");
                }
                off += n;
            }
            position += b.length;
            return true;
        }
    }

    /** Writes regular files as ustar entries; {@link #finish()} writes the end-of-archive blocks. */
    public static final class Writer {
        private final OutputStream out;

        /** @param out the destination (not closed by the writer) */
        public Writer(OutputStream out) {
            this.out = out;
        }

        /**
         * Adds a file.
         *
         * @throws IllegalArgumentException when the UTF-8 name is longer than 100 bytes (ustar's name
         *     field) or is {@linkplain #unsafeName unsafe}
         */
        public void add(String name, byte[] data) throws IOException {
            String unsafe = unsafeName(name);
            if (unsafe != null) {
                throw new IllegalArgumentException("tar entry name " + name + " " + unsafe);
            }
            byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
            if (nameBytes.length > 100) {
                throw new IllegalArgumentException("tar entry name longer than 100 bytes: " + name);
            }
            byte[] h = new byte[BLOCK];
            System.arraycopy(nameBytes, 0, h, 0, nameBytes.length);
            putOctal(h, 100, 8, 0644);
            putOctal(h, 108, 8, 0);
            putOctal(h, 116, 8, 0);
            putOctal(h, 124, 12, data.length);
            putOctal(h, 136, 12, 0);
            h[156] = '0';
            System.arraycopy("ustar\0".getBytes(StandardCharsets.US_ASCII), 0, h, 257, 6);
            h[263] = '0';
            h[264] = '0';
            Arrays.fill(h, 148, 156, (byte) ' ');
            long sum = 0;
            for (byte b : h) {
                sum += b & 0xff;
            }
            putOctal(h, 148, 7, sum);
            h[155] = ' ';
            out.write(h);
            out.write(data);
            int pad = (BLOCK - data.length % BLOCK) % BLOCK;
            out.write(new byte[pad]);
        }

        /** Writes the two zero blocks that end an archive. */
        public void finish() throws IOException {
            out.write(new byte[2 * BLOCK]);
            out.flush();
        }

        private static void putOctal(byte[] h, int off, int len, long v) {
            String s = Long.toOctalString(v);
            if (s.length() > len - 1) {
                throw new IllegalArgumentException("value " + v + " does not fit a tar header field");
            }
            String padded = "0".repeat(len - 1 - s.length()) + s;
            byte[] b = padded.getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(b, 0, h, off, b.length);
            h[off + len - 1] = 0;
        }
    }

    /**
     * The WebDataset key and extension of an entry name: the key is everything before the first
     * dot of the file name (with its folder), the extension the rest ({@code a/b.seg.jpg} is key
     * {@code a/b}, extension {@code seg.jpg}).
     */
    static String[] splitName(String name) {
        int slash = name.lastIndexOf('/');
        int dot = name.indexOf('.', slash + 1);
        if (dot < 0) {
            return new String[] {name, ""};
        }
        return new String[] {name.substring(0, dot), name.substring(dot + 1)};
    }

    /**
     * Why an entry name could land outside the folder the archive is extracted into, or null when
     * it cannot: absolute names (a leading slash or backslash, or a drive such as
     * {@code C:}), names with a {@code ..} segment, and empty names or names with a NUL.
     */
    public static String unsafeName(String name) {
        if (name.isEmpty()) {
            return "is empty";
        }
        if (name.indexOf('\0') >= 0) {
            return "holds a NUL character";
        }
        if (name.startsWith("/") || name.startsWith("\\")
                || (name.length() >= 2 && name.charAt(1) == ':' && Character.isLetter(name.charAt(0)))) {
            return "is absolute (it would be written outside the output folder)";
        }
        for (String segment : name.split("[/\\\\]")) {
            if (segment.equals("..")) {
                return "has a '..' segment (it would be written outside the output folder)";
            }
        }
        return null;
    }

    private static boolean isZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    private static boolean isUstar(byte[] h) {
        return h[257] == 'u' && h[258] == 's' && h[259] == 't' && h[260] == 'a' && h[261] == 'r';
    }

    private static String string(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) {
            end++;
        }
        return new String(b, off, end - off, StandardCharsets.UTF_8);
    }

    private static long octal(byte[] b, int off, int len) throws IOException {
        if ((b[off] & 0x80) != 0) { // GNU base-256 for large sizes
            long v = b[off] & 0x7f;
            for (int i = 1; i < len; i++) {
                v = (v << 8) | (b[off + i] & 0xff);
            }
            return v;
        }
        long v = 0;
        for (int i = off; i < off + len; i++) {
            byte c = b[i];
            if (c == 0 || c == ' ') {
                if (v > 0 || i > off) {
                    // trailing terminator
                    boolean rest = true;
                    for (int j = i; j < off + len; j++) {
                        rest &= b[j] == 0 || b[j] == ' ';
                    }
                    if (rest) {
                        break;
                    }
                }
                continue;
            }
            if (c < '0' || c > '7') {
                throw new IOException("bad octal field in a tar header");
            }
            v = v * 8 + (c - '0');
        }
        return v;
    }
}
