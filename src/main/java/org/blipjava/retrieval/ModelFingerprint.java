package org.blipjava.retrieval;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.TreeSet;
import org.blipjava.checkpoint.Checkpoints;
import org.blipjava.checkpoint.LoadedWeights;
import org.blipjava.checkpoint.TensorData;

/**
 * What identifies a model for an index: a digest of its weights, so that the same model is
 * recognized wherever its folder lies (moved, renamed, a Hub snapshot or a local copy of it) and
 * a folder whose weights were replaced is not taken for the model it used to hold.
 *
 * <p>The weights are those the loader reads ({@link Checkpoints#open}). Each tensor contributes a
 * SHA-256 of its element type, its shape and {@value #SAMPLES} of its elements evenly spaced from
 * first to last (all of them when it has fewer); the fingerprint is the SHA-256 of the distinct
 * tensor digests in sorted order, its first 16 bytes in hex. Names and files play no part, so the
 * same weights re-saved as {@code pytorch_model.bin} or in shards, with tied weights stored once
 * or twice, give the same fingerprint; weights converted to another precision give another. About
 * 64 elements per tensor are read, a few milliseconds for a BLIP-base checkpoint.
 */
public final class ModelFingerprint {
    static final int SAMPLES = 64;

    private ModelFingerprint() {}

    /**
     * The fingerprint of the weights in a model directory (or of one weight file).
     *
     * @throws IOException when the weights cannot be read
     */
    public static String of(Path modelDirectory) throws IOException {
        try (LoadedWeights weights = Checkpoints.open(modelDirectory)) {
            TreeSet<String> digests = new TreeSet<>();
            for (TensorData t : weights.stateDict().tensors().values()) {
                digests.add(HexFormat.of().formatHex(tensorDigest(t)));
            }
            MessageDigest all = sha256();
            for (String d : digests) {
                all.update(d.getBytes(StandardCharsets.US_ASCII));
            }
            return HexFormat.of().formatHex(all.digest(), 0, 16);
        }
    }

    private static byte[] tensorDigest(TensorData t) {
        MessageDigest md = sha256();
        md.update(t.dtype().safetensorsName().getBytes(StandardCharsets.US_ASCII));
        for (long d : t.shape()) {
            md.update((byte) ';');
            md.update(Long.toString(d).getBytes(StandardCharsets.US_ASCII));
        }
        long n = t.numel();
        int size = t.dtype().byteSize();
        long samples = Math.min(n, SAMPLES);
        byte[] element = new byte[size];
        for (long i = 0; i < samples; i++) {
            long at = samples == 1 ? 0 : i * (n - 1) / (samples - 1);
            for (int b = 0; b < size; b++) {
                element[b] = t.bytes().get(ValueLayout.JAVA_BYTE, at * size + b);
            }
            md.update(element);
        }
        return md.digest();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256, which every Java platform must provide", e);
        }
    }
}
