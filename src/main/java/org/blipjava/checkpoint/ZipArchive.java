package org.blipjava.checkpoint;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The entries of a zip file that is already memory-mapped, read from its central directory
 * (zip64 included). Stored entries are returned as slices of the mapping, so a tensor's bytes
 * are never copied; deflated entries are inflated into the caller's arena.
 *
 * <p>Only what PyTorch's writer produces is needed: one disk, stored or deflated entries, no
 * encryption.
 */
final class ZipArchive {
    private static final int LOCAL_HEADER_SIG = 0x04034b50;
    private static final int CENTRAL_HEADER_SIG = 0x02014b50;
    private static final int EOCD_SIG = 0x06054b50;
    private static final int ZIP64_EOCD_SIG = 0x06064b50;
    private static final int ZIP64_LOCATOR_SIG = 0x07064b50;
    private static final int EOCD_SIZE = 22;
    private static final int MAX_COMMENT = 0xffff;
    private static final int METHOD_STORED = 0;
    private static final int METHOD_DEFLATED = 8;

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** One entry as the central directory describes it. */
    record Entry(String name, int method, long crc, long compressedSize, long size, long localHeaderOffset) {}

    private final Path path;
    private final MemorySegment file;
    private final Map<String, Entry> entries;

    private ZipArchive(Path path, MemorySegment file, Map<String, Entry> entries) {
        this.path = path;
        this.file = file;
        this.entries = entries;
    }

    /** Whether the mapping starts like a zip file (a local file header). */
    static boolean looksLikeZip(MemorySegment file) {
        return file.byteSize() >= 4 && file.get(U32, 0) == LOCAL_HEADER_SIG;
    }

    /** Reads the central directory; throws {@link CheckpointException} naming {@code path} when it is damaged. */
    static ZipArchive read(Path path, MemorySegment file) {
        long size = file.byteSize();
        long eocd = findEndOfCentralDirectory(path, file);
        long count = u16(file, eocd + 10);
        long cdSize = u32(file, eocd + 12);
        long cdOffset = u32(file, eocd + 16);
        if (count == 0xffff || cdSize == 0xffffffffL || cdOffset == 0xffffffffL) {
            // Zip64: the real values live in the zip64 end record that a locator just before points to.
            long locator = eocd - 20;
            if (locator < 0 || file.get(U32, locator) != ZIP64_LOCATOR_SIG) {
                throw corrupt(path, "the zip64 end-of-central-directory locator is missing");
            }
            long z64 = file.get(U64, locator + 8);
            if (z64 < 0 || z64 + 56 > size || file.get(U32, z64) != ZIP64_EOCD_SIG) {
                throw corrupt(path, "the zip64 end-of-central-directory record is missing");
            }
            count = file.get(U64, z64 + 32);
            cdSize = file.get(U64, z64 + 40);
            cdOffset = file.get(U64, z64 + 48);
        }
        if (cdOffset < 0 || cdSize < 0 || cdOffset + cdSize > size || count < 0 || count > cdSize / 46) {
            throw corrupt(path, "the central directory lies outside the file");
        }
        Map<String, Entry> entries = new LinkedHashMap<>();
        long pos = cdOffset;
        long end = cdOffset + cdSize;
        for (long i = 0; i < count; i++) {
            if (pos + 46 > end || file.get(U32, pos) != CENTRAL_HEADER_SIG) {
                throw corrupt(path, "central directory entry " + i + " is damaged");
            }
            int flags = u16(file, pos + 8);
            int method = u16(file, pos + 10);
            long crc = u32(file, pos + 16);
            long compressed = u32(file, pos + 20);
            long uncompressed = u32(file, pos + 24);
            int nameLen = u16(file, pos + 28);
            int extraLen = u16(file, pos + 30);
            int commentLen = u16(file, pos + 32);
            long localOffset = u32(file, pos + 42);
            long nameAt = pos + 46;
            if (nameAt + nameLen + extraLen + commentLen > end) {
                throw corrupt(path, "central directory entry " + i + " is damaged");
            }
            String name = new String(file.asSlice(nameAt, nameLen).toArray(ValueLayout.JAVA_BYTE),
                    StandardCharsets.UTF_8);
            if ((flags & 1) != 0) {
                throw new CheckpointException(path + ": zip entry '" + name + "' is encrypted");
            }
            // Zip64 extended information: only the fields saturated in the fixed header are present, in this order.
            long extra = nameAt + nameLen;
            long extraEnd = extra + extraLen;
            while (extra + 4 <= extraEnd) {
                int id = u16(file, extra);
                int len = u16(file, extra + 2);
                long data = extra + 4;
                if (data + len > extraEnd) {
                    break;
                }
                if (id == 0x0001) {
                    long p = data;
                    if (uncompressed == 0xffffffffL && p + 8 <= data + len) {
                        uncompressed = file.get(U64, p);
                        p += 8;
                    }
                    if (compressed == 0xffffffffL && p + 8 <= data + len) {
                        compressed = file.get(U64, p);
                        p += 8;
                    }
                    if (localOffset == 0xffffffffL && p + 8 <= data + len) {
                        localOffset = file.get(U64, p);
                    }
                }
                extra = data + len;
            }
            if (entries.put(name, new Entry(name, method, crc, compressed, uncompressed, localOffset)) != null) {
                throw corrupt(path, "the zip lists entry '" + name + "' twice");
            }
            pos = extraEnd + commentLen;
        }
        return new ZipArchive(path, file, Collections.unmodifiableMap(entries));
    }

    private static long findEndOfCentralDirectory(Path path, MemorySegment file) {
        long size = file.byteSize();
        long last = size - EOCD_SIZE;
        long first = Math.max(0, last - MAX_COMMENT);
        for (long p = last; p >= first; p--) {
            if (file.get(U32, p) == EOCD_SIG && p + EOCD_SIZE + u16(file, p + 20) == size) {
                return p;
            }
        }
        throw corrupt(path, "no end-of-central-directory record (the file is truncated or not a zip)");
    }

    /** All entries by name, in central-directory order. */
    Map<String, Entry> entries() {
        return entries;
    }

    /**
     * The entry's uncompressed bytes: a slice of the mapping when stored, otherwise inflated into
     * {@code arena}. The CRC is checked only when {@code verifyCrc} is set (it reads every byte).
     */
    MemorySegment data(Entry e, Arena arena, boolean verifyCrc) {
        long local = e.localHeaderOffset();
        long size = file.byteSize();
        if (local < 0 || local + 30 > size || file.get(U32, local) != LOCAL_HEADER_SIG) {
            throw corrupt(path, "the local header of entry '" + e.name() + "' is missing");
        }
        long start = local + 30 + u16(file, local + 26) + u16(file, local + 28);
        if (e.compressedSize() < 0 || start + e.compressedSize() > size) {
            throw corrupt(path, "entry '" + e.name() + "' extends past the end of the file");
        }
        MemorySegment raw = file.asSlice(start, e.compressedSize());
        MemorySegment out;
        if (e.method() == METHOD_STORED) {
            if (e.size() != e.compressedSize()) {
                throw corrupt(path, "stored entry '" + e.name() + "' has inconsistent sizes");
            }
            out = raw;
        } else if (e.method() == METHOD_DEFLATED) {
            out = inflate(e, raw, arena);
        } else {
            throw new CheckpointException(path + ": zip entry '" + e.name() + "' uses compression method "
                    + e.method() + "; only stored and deflated entries are supported");
        }
        if (verifyCrc) {
            CRC32 crc = new CRC32();
            crc.update(out.asByteBuffer());
            if (crc.getValue() != e.crc()) {
                throw corrupt(path, "entry '" + e.name() + "' fails its CRC check");
            }
        }
        return out;
    }

    private MemorySegment inflate(Entry e, MemorySegment raw, Arena arena) {
        // Deflate cannot expand data more than about 1032 times; a larger claim is a corrupt header.
        if (e.size() < 0 || e.size() / 1032 > e.compressedSize() + 1) {
            throw corrupt(path, "deflated entry '" + e.name() + "' claims an impossible size of " + e.size());
        }
        MemorySegment out = arena.allocate(Math.max(1, e.size()), 64).asSlice(0, e.size());
        Inflater inflater = new Inflater(true);
        try {
            inflater.setInput(raw.asByteBuffer());
            ByteBuffer dst = out.asByteBuffer();
            while (dst.hasRemaining()) {
                int n = inflater.inflate(dst);
                if (n == 0 && (inflater.finished() || inflater.needsInput() || inflater.needsDictionary())) {
                    break;
                }
            }
            if (dst.hasRemaining()) {
                throw corrupt(path, "deflated entry '" + e.name() + "' is shorter than its recorded size");
            }
        } catch (DataFormatException ex) {
            throw new CheckpointException(path + ": deflated entry '" + e.name() + "' is corrupt: "
                    + ex.getMessage(), ex);
        } finally {
            inflater.end();
        }
        return out;
    }

    private static int u16(MemorySegment s, long at) {
        return s.get(U16, at) & 0xffff;
    }

    private static long u32(MemorySegment s, long at) {
        return s.get(U32, at) & 0xffffffffL;
    }

    private static CheckpointException corrupt(Path path, String what) {
        return new CheckpointException(path + ": " + what + "; the file is truncated or corrupt");
    }
}
