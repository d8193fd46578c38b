package org.blipjava.retrieval;

/**
 * Size and modification time of an image file, which decide whether it must be embedded again.
 *
 * @param size     bytes
 * @param modified milliseconds since the epoch
 */
public record FileStamp(long size, long modified) {}
