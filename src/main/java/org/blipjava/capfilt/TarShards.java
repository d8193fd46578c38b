package org.blipjava.capfilt;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Minimal POSIX ustar reading and writing for WebDataset shards: regular files only, read one
 * entry at a time from a stream (so a shard is never held whole), written with fixed metadata
 * (mode 0644, owner 0, time 0) so that the same entries always give the same bytes.
 */
public final class TarShards {
    private static final int BLOCK = 512;

    private TarShards() {}

    /** One regular file of a tar archive. */
    public record Entry(String name, byte[] data) {}

    /** Reads the regular files of a tar stream in order; other entry types are skipped. */
    public static final class Reader {
        private final InputStream in;
        private final String source;
        private final byte[] header = new byte[BLOCK];
        private String pendingLongName;

        /**
         * @param in the archive (not closed by the reader)
         * @param source what to name in errors (the shard file)
         */
        public Reader(InputStream in, String source) {
            this.in = in;
            this.source = source;
        }

        /** The next regular file, or null at the end of the archive. */
        public Entry next() throws IOException {
            while (true) {
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
                if (type == '0' || type == 0 || type == '7') {
                    return new Entry(name, data);
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
         * @throws IllegalArgumentException when the UTF-8 name is longer than 100 bytes (ustar's name field)
         */
        public void add(String name, byte[] data) throws IOException {
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
