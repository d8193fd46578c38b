package org.blipjava.checkpoint;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Test helpers that write pickles, torch.save-style zips and safetensors files byte by byte. */
final class TorchFiles {
    private TorchFiles() {}

    /** Emits pickle opcodes; each method appends one opcode (or a short idiom) and returns this. */
    static final class Pickle {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Pickle op(int opcode) {
            out.write(opcode);
            return this;
        }

        Pickle raw(byte[] b) {
            out.writeBytes(b);
            return this;
        }

        Pickle proto(int v) {
            return op(0x80).op(v);
        }

        Pickle mark() {
            return op('(');
        }

        Pickle tuple() {
            return op('t');
        }

        Pickle reduce() {
            return op('R');
        }

        Pickle stop() {
            return op('.');
        }

        Pickle global(String module, String name) {
            return op('c').raw((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
        }

        Pickle stackGlobal(String module, String name) {
            return str(module).str(name).op(0x93);
        }

        Pickle str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            op('X');
            return raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array()).raw(b);
        }

        Pickle integer(long v) {
            if (v >= 0 && v < 256) {
                return op('K').op((int) v);
            }
            if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
                return op('J').raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
            }
            return op(0x8a).op(8).raw(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
        }

        Pickle ints(long... values) {
            mark();
            for (long v : values) {
                integer(v);
            }
            return tuple();
        }

        /** {@code _rebuild_tensor_v2(('storage', torch.<type>, key, 'cpu', numel), offset, size, stride, False, OrderedDict())}. */
        Pickle tensorV2(String storageType, String key, long numel, long offset, long[] size, long[] stride) {
            global("torch._utils", "_rebuild_tensor_v2").mark();
            mark().str("storage").global("torch", storageType).str(key).str("cpu").integer(numel).tuple().op('Q');
            integer(offset).ints(size).ints(stride).op(0x89);
            global("collections", "OrderedDict").op(')').reduce();
            return tuple().reduce();
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }

    /** Contiguous row-major strides of a shape. */
    static long[] strides(long... shape) {
        long[] s = new long[shape.length];
        long acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    /** A state-dict pickle {key: tensorV2(...)} over float32 storages named "0", "1", ... of the given sizes. */
    static byte[] f32StateDict(Map<String, long[]> shapes) {
        Pickle p = new Pickle().proto(2).op('}').mark();
        int key = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long n = TensorData.numel(e.getValue());
            p.str(e.getKey()).tensorV2("FloatStorage", String.valueOf(key++), n, 0, e.getValue(), strides(e.getValue()));
        }
        return p.op('u').stop().bytes();
    }

    /** Little-endian bytes of floats. */
    static byte[] f32(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    /** Options for {@link #writeZip}. */
    record ZipOptions(String archive, boolean deflate, String byteorder) {
        static ZipOptions plain() {
            return new ZipOptions("archive", false, "little");
        }
    }

    /** Writes a torch.save-style zip: {@code <archive>/data.pkl}, {@code <archive>/data/<key>}, version, byteorder. */
    static Path writeZip(Path file, byte[] pickle, Map<String, byte[]> storages, ZipOptions o) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put(o.archive() + "/data.pkl", pickle);
        if (o.byteorder() != null) {
            entries.put(o.archive() + "/byteorder", o.byteorder().getBytes(StandardCharsets.US_ASCII));
        }
        storages.forEach((k, v) -> entries.put(o.archive() + "/data/" + k, v));
        entries.put(o.archive() + "/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        try (OutputStream fos = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(fos)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry ze = new ZipEntry(e.getKey());
                if (o.deflate()) {
                    ze.setMethod(ZipEntry.DEFLATED);
                } else {
                    CRC32 crc = new CRC32();
                    crc.update(e.getValue());
                    ze.setMethod(ZipEntry.STORED);
                    ze.setSize(e.getValue().length);
                    ze.setCompressedSize(e.getValue().length);
                    ze.setCrc(crc.getValue());
                }
                zip.putNextEntry(ze);
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
        return file;
    }

    /** Writes a safetensors file of float32 tensors (values by name, shapes by name). */
    static Path writeSafetensors(Path file, Map<String, float[]> values, Map<String, long[]> shapes) throws IOException {
        StringBuilder header = new StringBuilder("{");
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (Map.Entry<String, float[]> e : values.entrySet()) {
            byte[] b = f32(e.getValue());
            if (header.length() > 1) {
                header.append(',');
            }
            StringBuilder shape = new StringBuilder();
            for (long d : shapes.get(e.getKey())) {
                shape.append(shape.isEmpty() ? "" : ",").append(d);
            }
            header.append('"').append(e.getKey()).append("\":{\"dtype\":\"F32\",\"shape\":[").append(shape)
                    .append("],\"data_offsets\":[").append(data.size()).append(',').append(data.size() + b.length)
                    .append("]}");
            data.writeBytes(b);
        }
        header.append('}');
        byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
        out.writeBytes(h);
        out.writeBytes(data.toByteArray());
        Files.write(file, out.toByteArray());
        return file;
    }

    /**
     * Writes stored entries as a zip whose central directory uses every zip64 field (sizes and
     * offsets saturated in the fixed headers, real values in zip64 extras and end records), as
     * writers do for files over 4 GiB. Local headers are padded so each entry's data is
     * 64-byte aligned, as torch.save does.
     */
    static Path writeZip64(Path file, Map<String, byte[]> entries) throws IOException {
        ByteBuffer out = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        Map<String, long[]> where = new LinkedHashMap<>(); // name -> {offset, size, crc}
        for (Map.Entry<String, byte[]> e : entries.entrySet()) {
            byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
            CRC32 crc = new CRC32();
            crc.update(e.getValue());
            long offset = out.position();
            int pad = (int) ((64 - (offset + 30 + name.length + 4) % 64) % 64);
            out.putInt(0x04034b50).putShort((short) 45).putShort((short) 0).putShort((short) 0).putInt(0)
                    .putInt((int) crc.getValue()).putInt(e.getValue().length).putInt(e.getValue().length)
                    .putShort((short) name.length).putShort((short) (4 + pad)).put(name)
                    .putShort((short) 0x4646).putShort((short) pad).put(new byte[pad]).put(e.getValue());
            where.put(e.getKey(), new long[] {offset, e.getValue().length, crc.getValue()});
        }
        long cdStart = out.position();
        for (Map.Entry<String, long[]> e : where.entrySet()) {
            byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
            long[] w = e.getValue();
            out.putInt(0x02014b50).putShort((short) 45).putShort((short) 45).putShort((short) 0).putShort((short) 0)
                    .putInt(0).putInt((int) w[2]).putInt(-1).putInt(-1).putShort((short) name.length)
                    .putShort((short) 28).putShort((short) 0).putShort((short) 0).putShort((short) 0).putInt(0)
                    .putInt(-1).put(name)
                    .putShort((short) 1).putShort((short) 24).putLong(w[1]).putLong(w[1]).putLong(w[0]);
        }
        long cdEnd = out.position();
        out.putInt(0x06064b50).putLong(44).putShort((short) 45).putShort((short) 45).putInt(0).putInt(0)
                .putLong(where.size()).putLong(where.size()).putLong(cdEnd - cdStart).putLong(cdStart);
        out.putInt(0x07064b50).putInt(0).putLong(cdEnd).putInt(1);
        out.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) -1).putShort((short) -1)
                .putInt(-1).putInt(-1).putShort((short) 0);
        byte[] all = new byte[out.position()];
        out.flip().get(all);
        Files.write(file, all);
        return file;
    }
}
