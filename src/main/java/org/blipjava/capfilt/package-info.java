/**
 * CapFilt, BLIP's data bootstrapping: a captioner samples synthetic captions for web images, a
 * filter (ITM and ITC) scores them and the web captions, and the matching ones form a new dataset.
 *
 * <ul>
 *   <li>{@link org.blipjava.capfilt.PairReader} streams image-text pairs (JSONL, CSV, Karpathy or
 *       BLIP JSON, WebDataset tar shards via {@link org.blipjava.capfilt.TarShards}); tar members
 *       it cannot use are reported as {@link org.blipjava.capfilt.Skipped}.</li>
 *   <li>{@link org.blipjava.capfilt.CapFilter} handles one image: per-image seeded nucleus
 *       sampling, scoring, threshold or top-k selection.</li>
 *   <li>{@link org.blipjava.capfilt.CapfiltRun} runs a dataset: a decoding thread and a bounded
 *       queue, shards written atomically with a progress file for restarts, the output in the
 *       input's format, {@code decisions.jsonl} and {@link org.blipjava.capfilt.CapfiltReport}.</li>
 *   <li>{@link org.blipjava.capfilt.NoiseBenchmark} (its filter fine-tuned with
 *       {@link org.blipjava.training.Trainer#trainRetrieval})
 *       measures the filter against injected wrong captions on rendered images.</li>
 * </ul>
 */
package org.blipjava.capfilt;
