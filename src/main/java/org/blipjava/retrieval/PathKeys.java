package org.blipjava.retrieval;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * How an image file is named in an index, whatever the JVM's file name encoding.
 *
 * <p>On Unix a file name is a string of bytes. Java turns it into a {@code String} with the
 * encoding the locale gives it ({@code sun.jnu.encoding}: UTF-8 under {@code LANG=C.UTF-8},
 * ASCII when {@code LANG} is unset), and a name that encoding cannot decode loses its bytes in
 * {@link Path#toString()}: {@code Path.of(p.toString())} is then another file, or no path at all.
 * A {@link Path} listed from a directory keeps the bytes, so the file can still be read; only the
 * string is lossy. A key is therefore built from the bytes, the same under every locale:
 *
 * <ul>
 *   <li>the absolute, normalized path decoded as UTF-8 when its bytes are valid UTF-8 (every name
 *       written by a UTF-8 system: the ordinary case, and the same string {@code toString()}
 *       gives under a UTF-8 locale);</li>
 *   <li>otherwise a {@code file:} URI of the bytes, with each byte outside ASCII letters, digits
 *       and {@code -._~/!$&'()*+,;=:@} written as {@code %XX} (for example
 *       {@code file:///photos/caf%E9.jpg} for a Latin-1 name).</li>
 * </ul>
 *
 * <p>{@link #path(String)} turns a key (or a user's argument) back into the file's {@link Path}.
 * On Windows, where names are UTF-16, the key is the path string.
 */
public final class PathKeys {
    /** Whether file names are byte strings (Unix), so that a name can be undecodable. */
    private static final boolean BYTE_NAMES = File.separatorChar == '/';
    private static final String SAFE = "-._~/!$&'()*+,;=:@";
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private PathKeys() {}

    /** The key of a file: its absolute, normalized path as UTF-8 text, or a {@code file:} URI of its bytes. */
    public static String key(Path file) {
        Path abs = file.toAbsolutePath().normalize();
        String s = abs.toString();
        if (!BYTE_NAMES || isAscii(s)) {
            return s;
        }
        byte[] bytes = bytes(abs);
        String utf8 = strictUtf8(bytes);
        return utf8 != null ? utf8 : uri(bytes);
    }

    /**
     * The file a key or a path argument names: a {@code file:} URI is decoded byte for byte; any
     * other string is a path, and when the JVM's file name encoding cannot encode it (non-ASCII
     * text with {@code LANG} unset) its UTF-8 bytes are taken, relative to the working directory
     * when it is not absolute.
     *
     * @throws IllegalArgumentException when the string names no file on this system (a malformed
     *                                  URI, a NUL character)
     */
    public static Path path(String keyOrPath) {
        if (keyOrPath.startsWith("file:")) {
            try {
                return Path.of(URI.create(keyOrPath));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(keyOrPath + " is not a file URI this system can open: " + e.getMessage(), e);
            }
        }
        try {
            return Path.of(keyOrPath);
        } catch (InvalidPathException e) {
            if (!BYTE_NAMES || keyOrPath.indexOf('\0') >= 0) {
                throw new IllegalArgumentException(keyOrPath + " is not a file name on this system: " + e.getReason(), e);
            }
            byte[] name = keyOrPath.getBytes(StandardCharsets.UTF_8);
            return fromBytes(keyOrPath.startsWith("/") ? name : join(bytes(Path.of("").toAbsolutePath()), name));
        }
    }

    /**
     * A file named by raw bytes (a line of a list file in any encoding): relative names are
     * resolved against {@code base}.
     *
     * @throws IllegalArgumentException when the bytes hold a NUL
     */
    public static Path resolve(Path base, byte[] name) {
        if (!BYTE_NAMES) {
            return base.resolve(new String(name, StandardCharsets.UTF_8));
        }
        if (name.length > 0 && name[0] == '/') {
            return fromBytes(name);
        }
        return fromBytes(join(bytes(base.toAbsolutePath()), name));
    }

    /**
     * Whether {@code Path.of(file.toString())} is this file again, i.e. the JVM can spell its name
     * (false for a name its file name encoding cannot decode).
     */
    public static boolean spellable(Path file) {
        String s = file.toString();
        if (!BYTE_NAMES || isAscii(s)) {
            return true;
        }
        try {
            return Path.of(s).equals(file);
        } catch (InvalidPathException e) {
            return false;
        }
    }

    /**
     * The path for people to read: as given when the JVM can spell it, else its {@linkplain #key
     * key} (UTF-8 text or a {@code file:} URI, which {@link #path} and the commands accept back).
     */
    public static String display(Path file) {
        return spellable(file) ? file.toString() : key(file);
    }

    /** The raw bytes of an absolute path (Unix). */
    static byte[] bytes(Path absolute) {
        // UnixPath.toUri writes the path's own bytes, %-escaped, whatever the locale.
        String raw = absolute.toUri().getRawPath();
        ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%' && i + 2 < raw.length()) {
                out.write(Integer.parseInt(raw, i + 1, i + 3, 16));
                i += 2;
            } else {
                out.write(c);
            }
        }
        byte[] b = out.toByteArray();
        // toUri adds a slash after a directory's name.
        if (b.length > 1 && b[b.length - 1] == '/' && !absolute.toString().endsWith("/")) {
            b = Arrays.copyOf(b, b.length - 1);
        }
        return b;
    }

    /** {@code file://} and the %-escaped bytes of an absolute path. */
    static String uri(byte[] absolute) {
        StringBuilder sb = new StringBuilder(absolute.length + 16).append("file://");
        for (byte x : absolute) {
            int b = x & 0xff;
            if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || (b < 0x80 && SAFE.indexOf(b) >= 0)) {
                sb.append((char) b);
            } else {
                sb.append('%').append(HEX[b >> 4]).append(HEX[b & 15]);
            }
        }
        return sb.toString();
    }

    private static Path fromBytes(byte[] absolute) {
        for (byte b : absolute) {
            if (b == 0) {
                throw new IllegalArgumentException("a file name cannot hold a NUL character");
            }
        }
        return Path.of(URI.create(uri(absolute))).normalize();
    }

    private static byte[] join(byte[] dir, byte[] name) {
        boolean slash = dir.length > 0 && dir[dir.length - 1] == '/';
        byte[] out = new byte[dir.length + (slash ? 0 : 1) + name.length];
        System.arraycopy(dir, 0, out, 0, dir.length);
        if (!slash) {
            out[dir.length] = '/';
        }
        System.arraycopy(name, 0, out, out.length - name.length, name.length);
        return out;
    }

    /** The bytes as UTF-8 text, or null when they are not valid UTF-8. */
    static String strictUtf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private static boolean isAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) >= 0x80) {
                return false;
            }
        }
        return true;
    }
}
