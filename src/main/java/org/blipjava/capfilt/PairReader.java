package org.blipjava.capfilt;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.blipjava.data.CaptionDatasets;
import org.blipjava.data.DatasetException;

/**
 * Streams the image-text pairs of a dataset one image at a time, never holding the whole
 * annotation file or shard: JSONL and CSV are read line by line, JSON with a streaming parser
 * element by element, tar shards entry by entry. Consecutive rows naming the same image are merged
 * into one pair. Not thread-safe; close it to release the open file.
 */
public abstract sealed class PairReader implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final List<Skipped> skipped = new ArrayList<>();

    private PairReader() {}

    /**
     * The input set aside or found unreadable since the last call (WebDataset shards only), in
     * the order it was met; read it after each {@link #next} to keep it beside its image.
     */
    public List<Skipped> takeSkipped() {
        List<Skipped> out = List.copyOf(skipped);
        skipped.clear();
        return out;
    }

    void skip(Skipped s) {
        skipped.add(s);
    }

    /** The layout of the input, which is also the layout the output is written in. */
    public abstract InputFormat format();

    /** The next image with its captions, or null at the end. */
    public abstract WebPair next() throws IOException;

    @Override
    public abstract void close() throws IOException;

    /**
     * Opens a dataset: a {@code .tar} shard or a folder of them (WebDataset); a {@code .jsonl},
     * {@code .csv} or {@code .json} file; or a folder holding one (see
     * {@link CaptionDatasets#FOLDER_FILES}). Image paths are relative to the annotation file's folder.
     *
     * @throws DatasetException naming the input when it is none of these
     */
    public static PairReader open(Path input) throws IOException {
        List<Path> shards = tarShards(input);
        if (!shards.isEmpty()) {
            return new Tars(shards);
        }
        // No .tar shards: an annotation file (a folder holding several is refused, naming it).
        Path file = CaptionDatasets.locateFile(input, List.of("jsonl", "csv", "json"));
        Path root = file.toAbsolutePath().getParent();
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".jsonl")) {
            return new JsonLines(file, root);
        }
        if (name.endsWith(".csv")) {
            return new Csv(file, root);
        }
        if (name.endsWith(".json")) {
            return new JsonDocument(file, root);
        }
        throw new DatasetException(file + ": CapFilt reads .jsonl, .csv, .json annotation files or .tar shards");
    }

    /** The input's tar shards in name order: the file itself, or the .tar files of a folder. */
    static List<Path> tarShards(Path input) throws IOException {
        if (Files.isRegularFile(input)) {
            return input.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".tar") ? List.of(input) : List.of();
        }
        if (!Files.isDirectory(input)) {
            throw new DatasetException(input + ": no such dataset file or folder");
        }
        try (Stream<Path> s = Files.list(input)) {
            return s.filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".tar"))
                    .filter(Files::isRegularFile).sorted().toList();
        }
    }

    /** A row of a dataset before rows of the same image are merged. */
    private record Row(String image, List<String> captions, String split) {}

    /** Merges consecutive rows of the same image. */
    private abstract static sealed class Rows extends PairReader {
        private final Path root;
        private Row pending;
        private boolean done;

        Rows(Path root) {
            this.root = root;
        }

        /** The next row, or null at the end. */
        abstract Row row() throws IOException;

        @Override
        public final WebPair next() throws IOException {
            if (done && pending == null) {
                return null;
            }
            Row first = pending != null ? pending : row();
            pending = null;
            if (first == null) {
                done = true;
                return null;
            }
            List<String> caps = new ArrayList<>(first.captions());
            while (true) {
                Row r = row();
                if (r == null) {
                    done = true;
                    break;
                }
                if (!r.image().equals(first.image())) {
                    pending = r;
                    break;
                }
                caps.addAll(r.captions());
            }
            return new WebPair(first.image(), root.resolve(first.image()), null, null, caps, first.split());
        }
    }

    private static List<String> captions(JsonNode node) {
        JsonNode v = node.has("caption") ? node.get("caption") : node.get("captions");
        List<String> out = new ArrayList<>();
        if (v == null || v.isNull()) {
            return out;
        }
        if (v.isArray()) {
            v.forEach(x -> out.add(x.asText()));
        } else {
            out.add(v.asText());
        }
        return out.stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static final class JsonLines extends Rows {
        private final Path file;
        private final BufferedReader in;
        private int line;

        JsonLines(Path file, Path root) throws IOException {
            super(root);
            this.file = file;
            this.in = Files.newBufferedReader(file, StandardCharsets.UTF_8);
        }

        @Override
        public InputFormat format() {
            return InputFormat.JSONL;
        }

        @Override
        Row row() throws IOException {
            String s;
            while ((s = in.readLine()) != null) {
                line++;
                s = stripBom(s).strip();
                if (s.isEmpty()) {
                    continue;
                }
                JsonNode n;
                try {
                    n = JSON.readTree(s);
                } catch (IOException e) {
                    throw new DatasetException(file + " line " + line + ": not a JSON object (" + e.getMessage() + ")", e);
                }
                if (!n.isObject() || text(n, "image") == null) {
                    throw new DatasetException(file + " line " + line + ": expected {\"image\": .., \"caption\": ..}");
                }
                return new Row(text(n, "image"), captions(n), text(n, "split"));
            }
            return null;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    private static final class Csv extends Rows {
        private final Path file;
        private final BufferedReader in;
        private final int image;
        private final int caption;
        private final int split;
        private int line = 1;

        Csv(Path file, Path root) throws IOException {
            super(root);
            this.file = file;
            this.in = Files.newBufferedReader(file, StandardCharsets.UTF_8);
            String header = in.readLine();
            if (header == null) {
                in.close();
                throw new DatasetException(file + ": empty CSV file");
            }
            List<String> h = Csv.fields(stripBom(header)).stream().map(x -> x.toLowerCase(Locale.ROOT)).toList();
            image = h.indexOf("image");
            caption = h.indexOf("caption");
            split = h.indexOf("split");
            if (image < 0 || caption < 0) {
                in.close();
                throw new DatasetException(file + ": the CSV header must name an 'image' and a 'caption' column, not " + h);
            }
        }

        @Override
        public InputFormat format() {
            return InputFormat.CSV;
        }

        @Override
        Row row() throws IOException {
            String s;
            while ((s = in.readLine()) != null) {
                line++;
                if (s.isBlank()) {
                    continue;
                }
                List<String> f = fields(s);
                if (f.size() <= Math.max(image, caption)) {
                    throw new DatasetException(file + " line " + line + ": fewer columns than the header");
                }
                String cap = f.get(caption).strip();
                return new Row(f.get(image), cap.isEmpty() ? List.of() : List.of(cap),
                        split >= 0 && split < f.size() ? f.get(split) : null);
            }
            return null;
        }

        /** The fields of one CSV line (RFC 4180 quotes within the line). */
        static List<String> fields(String line) {
            List<String> out = new ArrayList<>();
            StringBuilder cur = new StringBuilder();
            boolean quoted = false;
            for (int i = 0; i < line.length(); i++) {
                char c = line.charAt(i);
                if (quoted) {
                    if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                        cur.append('"');
                        i++;
                    } else if (c == '"') {
                        quoted = false;
                    } else {
                        cur.append(c);
                    }
                } else if (c == '"' && cur.toString().isBlank()) {
                    cur.setLength(0);
                    quoted = true;
                } else if (c == ',') {
                    out.add(cur.toString().strip());
                    cur.setLength(0);
                } else {
                    cur.append(c);
                }
            }
            out.add(cur.toString().strip());
            return out;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    /** Karpathy's {"images": [...]} or BLIP's [...] read element by element. */
    private static final class JsonDocument extends Rows {
        private final Path file;
        private final JsonParser parser;
        private final InputFormat format;
        private int index;

        JsonDocument(Path file, Path root) throws IOException {
            super(root);
            this.file = file;
            this.parser = new JsonFactory(JSON).createParser(file.toFile());
            JsonToken t = parser.nextToken();
            if (t == JsonToken.START_ARRAY) {
                format = InputFormat.BLIP_JSON;
                return;
            }
            if (t == JsonToken.START_OBJECT) {
                while (parser.nextToken() == JsonToken.FIELD_NAME) {
                    String name = parser.currentName();
                    JsonToken v = parser.nextToken();
                    if (name.equals("images") && v == JsonToken.START_ARRAY) {
                        format = InputFormat.COCO_KARPATHY;
                        return;
                    }
                    parser.skipChildren();
                }
            }
            parser.close();
            throw new DatasetException(file + ": expected Karpathy's {\"images\": [...]} or a list of "
                    + "{\"image\", \"caption\"} objects");
        }

        @Override
        public InputFormat format() {
            return format;
        }

        @Override
        Row row() throws IOException {
            while (parser.nextToken() == JsonToken.START_OBJECT) {
                JsonNode n = parser.readValueAsTree();
                index++;
                if (format == InputFormat.BLIP_JSON) {
                    if (text(n, "image") == null) {
                        throw new DatasetException(file + " entry " + index + ": no \"image\" field");
                    }
                    return new Row(text(n, "image"), captions(n), text(n, "split"));
                }
                String name = text(n, "filename");
                if (name == null) {
                    throw new DatasetException(file + " image " + index + ": no \"filename\" field");
                }
                String dir = text(n, "filepath");
                List<String> caps = new ArrayList<>();
                for (JsonNode s : n.path("sentences")) {
                    String raw = text(s, "raw");
                    if (raw != null && !raw.isBlank()) {
                        caps.add(raw.strip());
                    }
                }
                return new Row(dir == null || dir.isEmpty() ? name : dir + "/" + name, caps, text(n, "split"));
            }
            return null;
        }

        @Override
        public void close() throws IOException {
            parser.close();
        }
    }

    /**
     * WebDataset shards: consecutive entries with the same key form one sample. Members that are
     * not regular files, whose names would leave the output folder, or that belong to a sample
     * without an image are skipped and reported; a shard that cannot be read to its end (a
     * truncated download) gives the samples before the damage and the rest is reported as
     * unreadable, and reading goes on with the next shard.
     */
    private static final class Tars extends PairReader {
        private static final List<String> IMAGE_EXTENSIONS = List.of("jpg", "jpeg", "png", "webp");
        private final List<Path> shards;
        private int shard = -1;
        private String shardName;
        private InputStream in;
        private TarShards.Reader reader;
        private Member pending;
        /** Skipped while looking for the next member; reported with it, so reports keep the input's order. */
        private final List<Skipped> unattached = new ArrayList<>();

        /** A regular file of a shard, with the shard's name and what was skipped just before it. */
        private record Member(String shard, TarShards.Entry entry, List<Skipped> before) {}

        Tars(List<Path> shards) {
            this.shards = shards;
        }

        @Override
        public InputFormat format() {
            return InputFormat.WEBDATASET;
        }

        private Member member() throws IOException {
            while (true) {
                if (reader == null) {
                    if (++shard >= shards.size()) {
                        return null;
                    }
                    Path file = shards.get(shard);
                    String name = file.getFileName().toString();
                    shardName = name;
                    try {
                        in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
                    } catch (IOException e) {
                        unattached.add(new Skipped(name, null, "unreadable (" + message(e, file) + ")", true));
                        continue;
                    }
                    reader = new TarShards.Reader(in, file.toString(),
                            (member, reason) -> unattached.add(new Skipped(name, member, reason, false)));
                }
                TarShards.Entry e;
                try {
                    e = reader.next();
                } catch (IOException ex) {
                    unattached.add(new Skipped(shardName, null, "unreadable from byte " + reader.position() + " on ("
                            + message(ex, shards.get(shard)) + "); the members before it were used", true));
                    e = null;
                }
                if (e != null) {
                    String unsafe = TarShards.unsafeName(e.name());
                    if (unsafe == null) {
                        Member m = new Member(shardName, e, List.copyOf(unattached));
                        unattached.clear();
                        return m;
                    }
                    unattached.add(new Skipped(shardName, e.name(), "the name " + unsafe, false));
                    continue;
                }
                in.close();
                in = null;
                reader = null;
            }
        }

        /** The exception's message without the shard's path, which the report names already. */
        private static String message(IOException e, Path file) {
            if (e instanceof java.nio.file.AccessDeniedException) {
                return "permission denied";
            }
            if (e instanceof java.nio.file.NoSuchFileException) {
                return "no such file";
            }
            String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            String prefix = file + ": ";
            return m.startsWith(prefix) ? m.substring(prefix.length()) : m;
        }

        @Override
        public WebPair next() throws IOException {
            while (true) {
                Member first = pending != null ? pending : member();
                pending = null;
                if (first == null) {
                    unattached.forEach(this::skip);
                    unattached.clear();
                    return null;
                }
                String key = TarShards.splitName(first.entry().name())[0];
                TarShards.Entry image = null;
                String ext = null;
                List<String> caps = new ArrayList<>();
                List<Member> members = new ArrayList<>();
                for (Member m = first; m != null; m = member()) {
                    String[] kx = TarShards.splitName(m.entry().name());
                    if (!kx[0].equals(key)) {
                        pending = m;
                        break;
                    }
                    m.before().forEach(this::skip);
                    members.add(m);
                    String x = kx[1].toLowerCase(Locale.ROOT);
                    if (IMAGE_EXTENSIONS.contains(x)) {
                        if (image == null) {
                            image = m.entry();
                            ext = kx[1];
                        } else {
                            skip(new Skipped(m.shard(), m.entry().name(), "a second image of sample " + key
                                    + "; " + image.name() + " is used", false));
                        }
                    } else if (x.equals("txt")) {
                        new String(m.entry().data(), StandardCharsets.UTF_8).lines().map(String::strip)
                                .filter(s -> !s.isEmpty()).forEach(caps::add);
                    }
                }
                if (image != null) {
                    return new WebPair(key, null, image.data(), ext, caps, null);
                }
                // A sample without an image is not an image-text pair; its captions would vanish unreported.
                for (Member m : members) {
                    skip(new Skipped(m.shard(), m.entry().name(), "sample " + key
                            + " has no image (" + key + ".jpg, .jpeg, .png or .webp)", false));
                }
            }
        }

        @Override
        public void close() throws IOException {
            if (in != null) {
                in.close();
            }
        }
    }

    private static String stripBom(String s) {
        return s.startsWith("\uFEFF") ? s.substring(1) : s;
    }
}
