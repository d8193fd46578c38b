/**
 * Cross-modal retrieval: an embedded Lucene vector index of image embeddings, search by text or
 * image with optional ITM re-ranking, and Recall@K evaluation on caption datasets.
 *
 * <ul>
 *   <li>{@link org.blipjava.retrieval.ImageIndex}: the index. One document per image (absolute
 *       path as key, see {@link org.blipjava.retrieval.PathKeys}; size, modification time and
 *       optional caption stored; the L2-normalized ITC embedding in an HNSW field with dot-product
 *       similarity, so scores are cosines). The model id, the
 *       {@linkplain org.blipjava.retrieval.ModelFingerprint fingerprint of its weights} and the
 *       embedding size are in every commit's user data; another model is refused. Checksums are
 *       verified when it is opened for writing; {@code check} runs Lucene's CheckIndex; a damaged
 *       index gives an {@link org.blipjava.retrieval.IndexException} that says how to rebuild.</li>
 *   <li>{@link org.blipjava.retrieval.Indexer}: incremental, batched indexing. Unchanged files
 *       (same size and modification time) are skipped, changed ones re-embedded, entries of
 *       deleted files removed; periodic commits make interrupted runs resumable.</li>
 *   <li>{@link org.blipjava.retrieval.ImageSearcher}: ITC search and ITM re-ranking of the top N.
 *       By default the index keeps no vision-encoder states, so re-ranking reads and encodes the N
 *       candidate images again.</li>
 *   <li>{@link org.blipjava.retrieval.ItmStateCache}: the opt-in alternative, one float32
 *       safetensors file of vision states per image in the index's {@code itm-cache} folder
 *       ({@code seq x hidden x 4} bytes: 1.77 MB for BLIP-base at 384 px), each stamped with the
 *       file size and modification time it was computed from and checked when read; the searcher
 *       uses valid entries and recomputes the others.</li>
 *   <li>{@link org.blipjava.retrieval.RetrievalDataset}, {@link org.blipjava.retrieval.RetrievalMetrics},
 *       {@link org.blipjava.retrieval.RetrievalEvaluator}: Recall@1/5/10 both ways, ITC only and
 *       with ITM re-ranking, and top-1 matching accuracy.</li>
 * </ul>
 */
package org.blipjava.retrieval;
