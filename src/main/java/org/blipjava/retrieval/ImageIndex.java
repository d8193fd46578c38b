package org.blipjava.retrieval;

import java.io.EOFException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.CheckIndex;
import org.apache.lucene.index.CorruptIndexException;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexFileNames;
import org.apache.lucene.index.IndexFormatTooNewException;
import org.apache.lucene.index.IndexFormatTooOldException;
import org.apache.lucene.index.IndexNotFoundException;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.SegmentInfos;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.store.Lock;
import org.apache.lucene.store.LockObtainFailedException;
import org.apache.lucene.util.Bits;

/**
 * An embedded Apache Lucene index of image embeddings: one document per image file, keyed by its
 * absolute path, with the normalized embedding in an HNSW vector field (dot-product similarity,
 * which is the cosine for unit vectors) and the file's size, modification time and optional
 * caption as stored fields.
 *
 * <p>Open it {@linkplain #openForWriting for writing} (one writer per directory at a time, held by
 * Lucene's write lock) or {@linkplain #open read-only}; a read-only index may be opened by other
 * processes while a writer works, and sees the writer's commits after {@link #refresh()}. The
 * model id and embedding size live in every commit's user data.
 *
 * <p>Thread-safe. Close it to release the directory and, when writing, the write lock; changes
 * not yet {@linkplain #commit() committed} are committed on close.
 */
public final class ImageIndex implements AutoCloseable {
    static final String PATH = "path";
    static final String SIZE = "size";
    static final String MODIFIED = "modified";
    static final String CAPTION = "caption";
    static final String EMBEDDING = "embedding";
    static final String CAPTION_EMBEDDING = "caption_embedding";
    private static final Set<String> STAMP_FIELDS = Set.of(PATH, SIZE, MODIFIED);

    private final Path location;
    // Changes only when a writer drops the ITM cache.
    private volatile IndexInfo info;
    private final Directory directory;
    private final IndexWriter writer;
    private final SearcherManager searchers;
    // Set once by openForWriting when it accepted another model.
    private String modelWarning;

    private ImageIndex(Path location, IndexInfo info, Directory directory, IndexWriter writer, SearcherManager searchers) {
        this.location = location;
        this.info = info;
        this.directory = directory;
        this.writer = writer;
        this.searchers = searchers;
    }

    /**
     * How to open an index for writing.
     *
     * @param rebuild          delete the index in the directory first (its Lucene files and its ITM
     *                         state cache; other files make it refuse) and start an empty one, for
     *                         a damaged index or one built with another model
     * @param acceptOtherModel open an index built with another model (of the same embedding size)
     *                         anyway, recording the new model; {@link #modelWarning()} says so
     */
    public record WriteOptions(boolean rebuild, boolean acceptOtherModel) {
        /** Neither. */
        public static WriteOptions defaults() {
            return new WriteOptions(false, false);
        }
    }

    /**
     * What {@link #check} found.
     *
     * @param images   live documents (as of the last commit)
     * @param segments Lucene segments checked
     * @param info     the model and embedding size recorded, or null when the commit could not be read
     * @param problems what is damaged, one line each; empty when the index is intact
     */
    public record CheckReport(int images, int segments, IndexInfo info, List<String> problems) {
        public CheckReport {
            problems = List.copyOf(problems);
        }

        /** Whether nothing is damaged. */
        public boolean ok() {
            return problems.isEmpty();
        }
    }

    /** Opens an index for writing with {@link WriteOptions#defaults()}. */
    public static ImageIndex openForWriting(Path location, IndexInfo info) {
        return openForWriting(location, info, WriteOptions.defaults());
    }

    /**
     * Opens an index for writing, creating it (and its directory) when there is none. The
     * checksums of an existing index are verified first (every file is read once), so a damaged
     * index is refused before anything is added to it.
     *
     * @param info the model and embedding size; an existing index built with another model is
     *             refused unless {@link WriteOptions#acceptOtherModel()}
     * @throws IndexException when another process is writing to it, it belongs to another model,
     *                        or it is damaged (the message says how to rebuild it)
     */
    public static ImageIndex openForWriting(Path location, IndexInfo info, WriteOptions options) {
        Objects.requireNonNull(info, "info");
        Objects.requireNonNull(options, "options");
        Path dir = location.toAbsolutePath().normalize();
        Directory directory = null;
        IndexWriter writer = null;
        try {
            if (Files.exists(dir) && !Files.isDirectory(dir)) {
                throw new IndexException(location + " is a file; --index needs a directory");
            }
            Files.createDirectories(dir);
            directory = FSDirectory.open(dir);
            if (options.rebuild()) {
                clear(directory, dir, location);
            }
            String warning = null;
            if (DirectoryReader.indexExists(directory)) {
                IndexInfo existing = IndexInfo.fromUserData(SegmentInfos.readLatestCommit(directory).getUserData(), location);
                warning = existing.checkModel(info, location, options.acceptOtherModel());
                if (warning != null) {
                    warning += "; the index now records " + info.modelId();
                }
                // A run without the cache keeps an existing one recorded: its entries stay usable.
                info = info.withItmCache(info.itmCache() || existing.itmCache());
            } else if (hasOtherFiles(dir)) {
                throw new IndexException(location + " is not empty and holds no index; give --index a new or empty directory");
            }
            IndexWriterConfig config = new IndexWriterConfig().setOpenMode(IndexWriterConfig.OpenMode.CREATE_OR_APPEND);
            try {
                writer = new IndexWriter(directory, config);
            } catch (LockObtainFailedException e) {
                throw lockHeld(location, e);
            }
            verifyChecksums(writer, location);
            // An empty first commit makes the index, with its model id, readable at once.
            writer.setLiveCommitData(info.toUserData().entrySet(), true);
            writer.commit();
            SearcherManager searchers = new SearcherManager(writer, null);
            ImageIndex index = new ImageIndex(location, info, directory, writer, searchers);
            index.modelWarning = warning;
            return index;
        } catch (IOException e) {
            closeQuietly(writer, directory);
            if (isDamage(e)) {
                throw damaged(location, e);
            }
            throw new IndexException(location + ": cannot open the index for writing: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(writer, directory);
            throw e;
        }
    }

    /** Reads every file of every segment of the writer's index and compares it with its checksum. */
    private static void verifyChecksums(IndexWriter writer, Path location) throws IOException {
        try (DirectoryReader reader = DirectoryReader.open(writer)) {
            for (LeafReaderContext leaf : reader.leaves()) {
                leaf.reader().checkIntegrity();
            }
        } catch (IOException e) {
            if (isDamage(e)) {
                throw damaged(location, e);
            }
            throw e;
        } catch (RuntimeException e) {
            // Garbage decoded from a damaged file surfaces as any exception.
            throw damaged(location, e);
        }
    }

    /** Deletes the index in a directory (under its write lock): Lucene's files and the ITM cache. */
    private static void clear(Directory directory, Path dir, Path location) throws IOException {
        try (Lock lock = directory.obtainLock(IndexWriter.WRITE_LOCK_NAME)) {
            List<String> foreign = new ArrayList<>();
            List<String> lucene = new ArrayList<>();
            try (var s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    String name = p.getFileName().toString();
                    if (name.equals(IndexWriter.WRITE_LOCK_NAME)) {
                        continue;
                    }
                    if (name.equals(ItmStateCache.DIRECTORY) && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                        continue;
                    }
                    if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && isLuceneFile(name)) {
                        lucene.add(name);
                    } else {
                        foreign.add(name);
                    }
                }
            }
            if (!foreign.isEmpty()) {
                throw new IndexException(location + " holds files that are not part of an index (" + String.join(", ",
                        foreign.subList(0, Math.min(3, foreign.size()))) + (foreign.size() > 3 ? ", ..." : "")
                        + "); --rebuild deletes only an index, so give --index a directory of its own");
            }
            lock.ensureValid();
            Path cache = dir.resolve(ItmStateCache.DIRECTORY);
            if (Files.isDirectory(cache, LinkOption.NOFOLLOW_LINKS)) {
                try (var entries = Files.list(cache)) {
                    for (Path e : entries.toList()) {
                        Files.delete(e);
                    }
                }
                Files.delete(cache);
            }
            // Data files first, the commits last: an interrupted rebuild leaves a damaged index (which
            // --rebuild clears again), not a folder that no longer looks like an index.
            lucene.sort(java.util.Comparator.comparing(n -> n.startsWith(IndexFileNames.SEGMENTS) ? 1 : 0));
            for (String name : lucene) {
                directory.deleteFile(name);
            }
        } catch (LockObtainFailedException e) {
            throw lockHeld(location, e);
        }
    }

    private static boolean isLuceneFile(String name) {
        return name.startsWith(IndexFileNames.SEGMENTS) || name.startsWith(IndexFileNames.PENDING_SEGMENTS)
                || IndexFileNames.CODEC_FILE_PATTERN.matcher(name).matches();
    }

    private static IndexException lockHeld(Path location, LockObtainFailedException e) {
        return new IndexException(location + " is being written by another process (its write.lock is held); "
                + "wait for that 'blip index' run to finish", e);
    }

    /** Whether an exception from Lucene means that the index's files are damaged or missing. */
    private static boolean isDamage(Throwable e) {
        return e instanceof CorruptIndexException || e instanceof IndexFormatTooOldException
                || e instanceof IndexFormatTooNewException || e instanceof EOFException
                || e instanceof NoSuchFileException || e instanceof FileNotFoundException;
    }

    /** The error for a damaged index: what Lucene found, and how to rebuild. */
    static IndexException damaged(Path location, Throwable e) {
        if (e instanceof IndexException ie) {
            return ie;
        }
        String what = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return new IndexException(location + " is damaged (" + what + "); its results cannot be trusted. "
                + "Rebuild it: run 'blip index' again with --rebuild (or delete the folder), which embeds every image "
                + "again; 'blip index --check --index " + location + "' lists what is damaged", e);
    }

    /**
     * Checks an index thoroughly without a model: Lucene's {@link CheckIndex} reads every file,
     * compares its checksum and decodes every segment. Takes the write lock for its duration.
     *
     * @throws IndexException when there is no index there or another process is writing to it
     */
    public static CheckReport check(Path location) {
        Path dir = location.toAbsolutePath().normalize();
        if (!Files.isDirectory(dir)) {
            throw new IndexException(location + ": no such index directory");
        }
        try (Directory directory = FSDirectory.open(dir)) {
            if (!DirectoryReader.indexExists(directory)) {
                throw new IndexException(location + " holds no index; build it with 'blip index --index " + location + "'");
            }
            CheckIndex.Status status;
            try (CheckIndex checker = new CheckIndex(directory)) {
                checker.setLevel(CheckIndex.Level.MIN_LEVEL_FOR_INTEGRITY_CHECKS);
                checker.setInfoStream(null);
                status = checker.checkIndex();
            } catch (LockObtainFailedException e) {
                throw lockHeld(location, e);
            }
            List<String> problems = new ArrayList<>();
            IndexInfo info = null;
            if (status.missingSegments) {
                problems.add("its commit (segments_N) cannot be read");
            } else {
                try {
                    info = IndexInfo.fromUserData(status.userData, location);
                } catch (IndexException e) {
                    problems.add(e.getMessage());
                }
            }
            int images = 0;
            for (CheckIndex.Status.SegmentInfoStatus seg : status.segmentInfos) {
                if (seg.error != null) {
                    String why = seg.error.getMessage() == null ? seg.error.getClass().getSimpleName() : seg.error.getMessage();
                    problems.add("segment " + seg.name + " (" + seg.maxDoc + " documents" + (seg.compound ? ", " + seg.name
                            + ".cfs" : "") + "): " + why);
                } else {
                    images += seg.maxDoc - (seg.liveDocStatus == null ? 0 : seg.liveDocStatus.numDeleted);
                }
            }
            if (!status.clean && problems.isEmpty()) {
                problems.add("Lucene's CheckIndex reports the index as not clean");
            }
            return new CheckReport(images, status.numSegments, info, problems);
        } catch (IOException e) {
            if (isDamage(e)) {
                return new CheckReport(0, 0, null, List.of(e.getMessage() == null ? e.toString() : e.getMessage()));
            }
            throw new IndexException(location + ": cannot check the index: " + e.getMessage(), e);
        }
    }

    /**
     * Opens an existing index read-only (no lock is taken, so a writer may work at the same time).
     * Checksums are not verified (that reads the whole index; {@link #check} and
     * {@link #openForWriting} do it), but damage Lucene notices while opening or searching is
     * reported as an {@link IndexException} that says how to rebuild.
     *
     * @throws IndexException when there is no index there, it was not written by this project, or it is damaged
     */
    public static ImageIndex open(Path location) {
        Path dir = location.toAbsolutePath().normalize();
        if (!Files.isDirectory(dir)) {
            throw new IndexException(location + ": no such index directory; build it with 'blip index --index " + location + "'");
        }
        Directory directory = null;
        try {
            directory = FSDirectory.open(dir);
            SegmentInfos commit;
            try {
                commit = SegmentInfos.readLatestCommit(directory);
            } catch (IndexNotFoundException e) {
                throw new IndexException(location + " holds no index; build it with 'blip index --index " + location + "'", e);
            }
            IndexInfo info = IndexInfo.fromUserData(commit.getUserData(), location);
            SearcherManager searchers = new SearcherManager(directory, null);
            return new ImageIndex(location, info, directory, null, searchers);
        } catch (IOException e) {
            closeQuietly(null, directory);
            if (isDamage(e)) {
                throw damaged(location, e);
            }
            throw new IndexException(location + ": cannot read the index: " + e.getMessage(), e);
        } catch (IndexException e) {
            closeQuietly(null, directory);
            throw e;
        } catch (RuntimeException e) {
            closeQuietly(null, directory);
            throw damaged(location, e);
        }
    }

    /** Reads the model id and embedding size of an index without opening it for search. */
    public static IndexInfo readInfo(Path location) {
        try (ImageIndex index = open(location)) {
            return index.info();
        }
    }

    private static boolean hasOtherFiles(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.anyMatch(p -> !p.getFileName().toString().equals("write.lock"));
        }
    }

    /** The index directory as given. */
    public Path location() {
        return location;
    }

    /** The model id and embedding size the index was built with, and whether it has an ITM state cache. */
    public IndexInfo info() {
        return info;
    }

    /**
     * Why the model of a writable index is in doubt, when {@link WriteOptions#acceptOtherModel()}
     * let another model open it; null otherwise.
     */
    public String modelWarning() {
        return modelWarning;
    }

    /** Whether this instance may change the index. */
    public boolean writable() {
        return writer != null;
    }

    // ------------------------------------------------------------------ writing

    /**
     * Records that the index has no ITM state cache any more, then deletes the cache's files. The
     * flag is committed first, so a reader that opens the index afterwards does not look for
     * entries; one that opened it earlier finds them gone and recomputes, as for any missing entry.
     */
    public void dropItmCache() {
        requireWritable("drop the ITM state cache");
        info = info.withItmCache(false);
        Path cache = location.toAbsolutePath().normalize().resolve(ItmStateCache.DIRECTORY);
        commit();
        try {
            if (Files.isDirectory(cache)) {
                try (var entries = Files.list(cache)) {
                    for (Path e : entries.toList()) {
                        Files.deleteIfExists(e);
                    }
                }
                Files.deleteIfExists(cache);
            }
        } catch (IOException e) {
            throw new IndexException(location + ": cannot drop the ITM state cache in " + cache + ": " + e.getMessage(), e);
        }
    }

    /** Adds an image, replacing the document of the same path if there is one. */
    public void add(IndexedImage image) {
        requireWritable("add images");
        float[] embedding = unit(image.embedding(), image.path());
        Document doc = new Document();
        doc.add(new StringField(PATH, image.path(), Field.Store.YES));
        doc.add(new StoredField(SIZE, image.size()));
        doc.add(new StoredField(MODIFIED, image.modified()));
        doc.add(new KnnFloatVectorField(EMBEDDING, embedding, VectorSimilarityFunction.DOT_PRODUCT));
        if (image.caption() != null) {
            doc.add(new StoredField(CAPTION, image.caption()));
        }
        if (image.captionEmbedding() != null) {
            doc.add(new KnnFloatVectorField(CAPTION_EMBEDDING, unit(image.captionEmbedding(), image.path() + " caption"),
                    VectorSimilarityFunction.DOT_PRODUCT));
        }
        try {
            writer.updateDocument(new Term(PATH, image.path()), doc);
        } catch (IOException e) {
            throw new UncheckedIOException(location + ": cannot add " + image.path() + ": " + e.getMessage(), e);
        }
    }

    /** Removes the image stored under this path, if any. */
    public void remove(String path) {
        requireWritable("remove images");
        try {
            writer.deleteDocuments(new Term(PATH, path));
        } catch (IOException e) {
            throw new UncheckedIOException(location + ": cannot remove " + path + ": " + e.getMessage(), e);
        }
    }

    /**
     * Makes every change so far durable and visible to readers; an interrupted run keeps
     * everything up to its last commit.
     */
    public void commit() {
        requireWritable("commit");
        try {
            writer.setLiveCommitData(info.toUserData().entrySet(), true);
            writer.commit();
            searchers.maybeRefreshBlocking();
        } catch (IOException e) {
            throw new UncheckedIOException(location + ": cannot commit: " + e.getMessage(), e);
        }
    }

    private void requireWritable(String what) {
        if (writer == null) {
            throw new IllegalStateException(location + " was opened read-only and cannot " + what
                    + "; use ImageIndex.openForWriting");
        }
    }

    /**
     * Checks and normalizes an embedding: dot-product search assumes unit vectors, and a vector of
     * the wrong size or with NaNs would silently poison the graph.
     */
    private float[] unit(float[] v, String what) {
        if (v.length != info.dimension()) {
            throw new IllegalArgumentException(what + ": embedding has " + v.length + " values, the index holds "
                    + info.dimension() + "-dimensional ones");
        }
        double sum = 0;
        for (float x : v) {
            if (!Float.isFinite(x)) {
                throw new IllegalArgumentException(what + ": embedding contains " + x);
            }
            sum += (double) x * x;
        }
        if (sum == 0) {
            throw new IllegalArgumentException(what + ": embedding is all zeros");
        }
        double inv = 1 / Math.sqrt(sum);
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) (v[i] * inv);
        }
        return out;
    }

    // ------------------------------------------------------------------ reading

    /** Picks up commits made since this index was opened (by another process, for a read-only index). */
    public void refresh() {
        try {
            searchers.maybeRefreshBlocking();
        } catch (IOException e) {
            throw new UncheckedIOException(location + ": cannot refresh: " + e.getMessage(), e);
        }
    }

    /**
     * Reads every file of the index as of the last commit or refresh and compares it with its
     * checksum (a sequential read of the whole index, about 1 KB per image at 256 dimensions).
     *
     * @throws IndexException when a file is damaged, saying how to rebuild
     */
    public void verifyChecksums() {
        withSearcher(s -> {
            for (LeafReaderContext leaf : s.getIndexReader().leaves()) {
                leaf.reader().checkIntegrity();
            }
            return null;
        });
    }

    /** Bytes of the index's Lucene files (the ITM state cache not included). */
    public long bytes() {
        try {
            long sum = 0;
            for (String name : directory.listAll()) {
                if (isLuceneFile(name)) {
                    try {
                        sum += directory.fileLength(name);
                    } catch (NoSuchFileException | FileNotFoundException e) {
                        // Deleted by a writer's merge meanwhile.
                    }
                }
            }
            return sum;
        } catch (IOException e) {
            throw new UncheckedIOException(location + ": cannot list the index: " + e.getMessage(), e);
        }
    }

    /** Number of images in the index. */
    public int size() {
        return withSearcher(s -> s.getIndexReader().numDocs());
    }

    /** Size and modification time of every indexed path, as of the last commit or refresh. */
    public Map<String, FileStamp> stamps() {
        return withSearcher(s -> {
            Map<String, FileStamp> out = new HashMap<>();
            for (LeafReaderContext leaf : s.getIndexReader().leaves()) {
                Bits live = leaf.reader().getLiveDocs();
                StoredFields stored = leaf.reader().storedFields();
                for (int d = 0; d < leaf.reader().maxDoc(); d++) {
                    if (live != null && !live.get(d)) {
                        continue;
                    }
                    Document doc = stored.document(d, STAMP_FIELDS);
                    out.put(doc.get(PATH), new FileStamp(longField(doc, SIZE), longField(doc, MODIFIED)));
                }
            }
            return out;
        });
    }

    /** The stored caption of an image, or null when it has none or is not indexed. */
    public String caption(String path) {
        return withSearcher(s -> {
            TopDocs top = s.search(new TermQuery(new Term(PATH, path)), 1);
            return top.scoreDocs.length == 0 ? null : s.storedFields().document(top.scoreDocs[0].doc).get(CAPTION);
        });
    }

    /**
     * The {@code k} images whose embeddings are nearest the query (approximate HNSW search); all
     * of them, best first, when the index holds fewer.
     *
     * @param query a unit vector from the index's model (normalized here again)
     * @return hits best first, with {@link SearchHit#itc()} the cosine similarity
     */
    public List<SearchHit> search(float[] query, int k) {
        return knn(EMBEDDING, query, k);
    }

    /** The {@code k} images whose caption embeddings are nearest the query (for image-to-caption search). */
    public List<SearchHit> searchCaptions(float[] query, int k) {
        return knn(CAPTION_EMBEDDING, query, k);
    }

    private List<SearchHit> knn(String field, float[] query, int k) {
        if (k < 1) {
            throw new IllegalArgumentException("k must be at least 1, got " + k);
        }
        float[] q = unit(query, "query");
        return withSearcher(s -> {
            // More results than documents cannot come back; Lucene would allocate queues of k entries.
            int n = Math.min(k, s.getIndexReader().numDocs());
            if (n == 0) {
                return List.of();
            }
            TopDocs top = s.search(new KnnFloatVectorQuery(field, q, n), n);
            StoredFields stored = s.storedFields();
            List<SearchHit> out = new ArrayList<>(top.scoreDocs.length);
            for (ScoreDoc sd : top.scoreDocs) {
                Document doc = stored.document(sd.doc);
                // Lucene scores unit-vector dot products as (1 + cos) / 2.
                double cos = 2.0 * sd.score - 1.0;
                out.add(new SearchHit(doc.get(PATH), doc.get(CAPTION), longField(doc, SIZE), longField(doc, MODIFIED),
                        cos, Double.NaN));
            }
            return out;
        });
    }

    private static long longField(Document doc, String name) {
        var f = doc.getField(name);
        return f == null ? -1 : f.numericValue().longValue();
    }

    private interface SearcherWork<T> {
        T apply(IndexSearcher searcher) throws IOException;
    }

    private <T> T withSearcher(SearcherWork<T> work) {
        IndexSearcher s;
        try {
            s = searchers.acquire();
        } catch (IOException e) {
            throw readFailure(e);
        }
        try {
            return work.apply(s);
        } catch (IOException e) {
            throw readFailure(e);
        } catch (IndexException e) {
            throw e;
        } catch (RuntimeException e) {
            // Only Lucene runs in here: garbage decoded from a damaged file surfaces as any exception.
            throw damaged(location, e);
        } finally {
            try {
                searchers.release(s);
            } catch (IOException e) {
                // Releasing only decrements a reference count; a failure here leaves nothing to undo.
            }
        }
    }

    private RuntimeException readFailure(IOException e) {
        if (isDamage(e)) {
            return damaged(location, e);
        }
        return new UncheckedIOException(location + ": cannot read the index: " + e.getMessage(), e);
    }

    /** Commits pending changes (when writing) and releases the directory and the write lock. */
    @Override
    public void close() {
        IOException failure = null;
        try {
            searchers.close();
        } catch (IOException e) {
            failure = e;
        }
        if (writer != null) {
            try {
                writer.setLiveCommitData(info.toUserData().entrySet(), true);
                writer.close();
            } catch (IOException e) {
                failure = failure == null ? e : failure;
            }
        }
        try {
            directory.close();
        } catch (IOException e) {
            failure = failure == null ? e : failure;
        }
        if (failure != null) {
            throw new UncheckedIOException(location + ": cannot close the index: " + failure.getMessage(), failure);
        }
    }

    private static void closeQuietly(IndexWriter writer, Directory directory) {
        try {
            if (writer != null) {
                writer.rollback();
            }
        } catch (IOException | RuntimeException ignored) {
            // Already failing; the first error is the one reported.
        }
        try {
            if (directory != null) {
                directory.close();
            }
        } catch (IOException | RuntimeException ignored) {
            // Already failing; the first error is the one reported.
        }
    }
}
