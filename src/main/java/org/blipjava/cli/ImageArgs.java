package org.blipjava.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.blipjava.retrieval.PathKeys;

/**
 * Expands the image arguments of a command: files as given, directories into the image files
 * they contain (recursively, sorted), and glob patterns (for shells that did not expand them).
 * Arguments that match nothing are kept, so that the command reports them as missing.
 *
 * <p>File names need not be valid in the JVM's file name encoding: files listed from a directory
 * keep their names byte for byte (see {@link PathKeys}); a {@code file:} URI names a file by its
 * bytes ({@code file:///photos/caf%E9.jpg}, as the commands print names they cannot spell); a
 * path the encoding cannot hold (non-ASCII with {@code LANG} unset) is taken as UTF-8. An
 * argument that names no file at all, or that arrived garbled (a name that is not valid in the
 * encoding, passed on the command line), is handed to the caller with the reason, and the others
 * go on.
 */
final class ImageArgs {
    /** File extensions taken from directories (files named explicitly may have any). */
    static final Set<String> IMAGE_EXTENSIONS =
            Set.of("jpg", "jpeg", "png", "gif", "bmp", "webp", "tif", "tiff");

    /** An argument that cannot name a file here, and why (one line, for "blip: ARG: REASON"). */
    record Unusable(String arg, String reason) {}

    private ImageArgs() {}

    /** Expands the arguments; those that name no file are passed to {@code unusable} and left out. */
    static List<Path> expand(List<String> args, Consumer<Unusable> unusable) {
        List<Path> out = new ArrayList<>();
        for (String arg : args) {
            Path p;
            try {
                p = toPath(arg);
            } catch (IllegalArgumentException e) {
                unusable.accept(new Unusable(arg, e.getMessage()));
                continue;
            }
            if (Files.isDirectory(p)) {
                out.addAll(imagesUnder(p));
            } else if (!Files.exists(p) && isGlob(arg)) {
                List<Path> matched = glob(arg);
                if (matched.isEmpty()) {
                    out.add(p);
                } else {
                    out.addAll(matched);
                }
            } else if (!Files.exists(p) && arg.indexOf('\uFFFD') >= 0) {
                unusable.accept(new Unusable(arg, garbled()));
            } else {
                out.add(p);
            }
        }
        return out;
    }

    /**
     * The path an argument names: a {@code file:} URI when no file of that (relative) name
     * exists, else the path, in UTF-8 when the JVM's encoding cannot hold it.
     *
     * @throws IllegalArgumentException when it names no file on this system
     */
    static Path toPath(String arg) {
        if (arg.startsWith("file:")) {
            try {
                if (Files.exists(Path.of(arg))) {
                    return Path.of(arg);
                }
            } catch (InvalidPathException e) {
                // Not a relative file name either: the URI it looks like.
            }
        }
        return PathKeys.path(arg);
    }

    /** Why a missing name with U+FFFD in it is not found, and what to do. */
    private static String garbled() {
        String jnu = System.getProperty("sun.jnu.encoding", "?");
        boolean utf8 = jnu.equalsIgnoreCase("UTF-8") || jnu.equalsIgnoreCase("UTF8");
        return "no such file; its name reached Java garbled (U+FFFD) because it is not valid in this system's file name "
                + "encoding (" + jnu + ")" + (utf8 ? "" : ", e.g. non-ASCII with LANG unset") + ". Give the folder that "
                + "holds it instead (listed names are read intact), or its file: URI (file:///path/caf%E9.jpg: each byte "
                + "outside ASCII as %XX)" + (utf8 ? "" : ", or set LANG=C.UTF-8");
    }

    private static boolean isGlob(String arg) {
        return arg.indexOf('*') >= 0 || arg.indexOf('?') >= 0 || arg.indexOf('[') >= 0 || arg.indexOf('{') >= 0;
    }

    private static List<Path> imagesUnder(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).filter(ImageArgs::hasImageExtension).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list directory " + dir + ": " + e.getMessage(), e);
        }
    }

    static boolean hasImageExtension(Path p) {
        String name = p.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot >= 0 && IMAGE_EXTENSIONS.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    /** Expands a glob; the part before the first wildcard segment is the directory walked. */
    private static List<Path> glob(String pattern) {
        String normalized = pattern.replace('\\', '/');
        String[] parts = normalized.split("/");
        StringBuilder base = new StringBuilder();
        int i = 0;
        for (; i < parts.length - 1; i++) {
            if (isGlob(parts[i])) {
                break;
            }
            base.append(parts[i]).append('/');
        }
        Path root = base.isEmpty() ? Path.of(".") : Path.of(base.toString());
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        String rest = String.join("/", java.util.Arrays.copyOfRange(parts, i, parts.length));
        PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + rest);
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile)
                    .filter(f -> m.matches(root.relativize(f)))
                    .map(f -> base.isEmpty() ? root.relativize(f) : f)
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot expand " + pattern + ": " + e.getMessage(), e);
        }
    }
}
