package org.blipjava.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Expands the image arguments of a command: files as given, directories into the image files
 * they contain (recursively, sorted), and glob patterns (for shells that did not expand them).
 * Arguments that match nothing are kept, so that the command reports them as missing.
 */
final class ImageArgs {
    /** File extensions taken from directories (files named explicitly may have any). */
    static final Set<String> IMAGE_EXTENSIONS =
            Set.of("jpg", "jpeg", "png", "gif", "bmp", "webp", "tif", "tiff");

    private ImageArgs() {}

    static List<Path> expand(List<String> args) {
        List<Path> out = new ArrayList<>();
        for (String arg : args) {
            Path p = Path.of(arg);
            if (Files.isDirectory(p)) {
                out.addAll(imagesUnder(p));
            } else if (!Files.exists(p) && isGlob(arg)) {
                List<Path> matched = glob(arg);
                if (matched.isEmpty()) {
                    out.add(p);
                } else {
                    out.addAll(matched);
                }
            } else {
                out.add(p);
            }
        }
        return out;
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
