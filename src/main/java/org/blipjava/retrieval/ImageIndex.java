package org.blipjava.retrieval;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
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
import org.apache.lucene.index.DirectoryReader;
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

    private ImageIndex(Path location, IndexInfo info, Directory directory, IndexWriter writer, SearcherManager searchers) {
        this.location = location;
        this.info = info;
        this.directory = directory;
        this.writer = writer;
        this.searchers = searchers;
    }

    /**
     * Opens an index for writing, creating it (and its directory) when there is none.
     *
     * @param info the model and embedding size; an existing index built with another model is refused
     * @throws IndexException when another process is writing to it, or it belongs to another model
     */
    public static ImageIndex openForWriting(Path location, IndexInfo info) {
        Objects.requireNonNull(info, "info");
        Path dir = location.toAbsolutePath().normalize();
        Directory directory = null;
        IndexWriter writer = null;
        try {
            if (Files.exists(dir) && !Files.isDirectory(dir)) {
                throw new IndexException(location + " is a file; --index needs a directory");
            }
            Files.createDirectories(dir);
            directory = FSDirectory.open(dir);
            if (DirectoryReader.indexExists(directory)) {
                IndexInfo existing = IndexInfo.fromUserData(SegmentInfos.readLatestCommit(directory).getUserData(), location);
                existing.requireSameModel(info.modelId(), info.dimension(), location);
                // A run without the cache keeps an existing one recorded: its entries stay usable.
                info = info.withItmCache(info.itmCache() || existing.itmCache());
            } else if (hasOtherFiles(dir)) {
                throw new IndexException(location + " is not empty and holds no index; give --index a new or empty directory");
            }
            IndexWriterConfig config = new IndexWriterConfig().setOpenMode(IndexWriterConfig.OpenMode.CREATE_OR_APPEND);
            try {
                writer = new IndexWriter(directory, config);
            } catch (LockObtainFailedException e) {
                throw new IndexException(location + " is being written by another process (its write.lock is held); "
                        + "wait for that 'blip index' run to finish", e);
            }
            // An empty first commit makes the index, with its model id, readable at once.
            writer.setLiveCommitData(info.toUserData().entrySet(), true);
            writer.commit();
            SearcherManager searchers = new SearcherManager(writer, null);
            return new ImageIndex(location, info, directory, writer, searchers);
        } catch (IOException e) {
            closeQuietly(writer, directory);
            throw new IndexException(location + ": cannot open the index for writing: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(writer, directory);
            throw e;
        }
    }

    /**
     * Opens an existing index read-only (no lock is taken, so a writer may work at the same time).
     *
     * @throws IndexException when there is no index there or it was not written by this project
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
            throw new IndexException(location + ": cannot read the index: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(null, directory);
            throw e;
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
     * The {@code k} images whose embeddings are nearest the query (approximate HNSW search).
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
            TopDocs top = s.search(new KnnFloatVectorQuery(field, q, k), k);
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
            throw new UncheckedIOException(location + ": cannot read the index: " + e.getMessage(), e);
        }
        try {
            return work.apply(s);
        } catch (IOException e) {
            throw new UncheckedIOException(location + ": cannot read the index: " + e.getMessage(), e);
        } finally {
            try {
                searchers.release(s);
            } catch (IOException e) {
                // Releasing only decrements a reference count; a failure here leaves nothing to undo.
            }
        }
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
