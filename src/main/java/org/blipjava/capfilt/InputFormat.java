package org.blipjava.capfilt;

/** The dataset layouts CapFilt reads, and writes its output in. */
public enum InputFormat {
    /** One {@code {"image", "caption"}} object per line ({@code captions.jsonl}). */
    JSONL,
    /** CSV with a header naming {@code image} and {@code caption} columns ({@code captions.csv}). */
    CSV,
    /** Karpathy's {@code {"images": [{"filepath", "filename", "sentences": [{"raw"}]}]}}. */
    COCO_KARPATHY,
    /** BLIP's annotation list {@code [{"image", "caption"}]}. */
    BLIP_JSON,
    /** WebDataset tar shards: {@code KEY.jpg} or {@code KEY.png} with {@code KEY.txt}. */
    WEBDATASET
}
