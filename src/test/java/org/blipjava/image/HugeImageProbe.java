package org.blipjava.image;

import java.nio.file.Path;
import java.util.List;
import java.util.zip.CRC32;
import org.blipjava.tasks.Blip;

/**
 * Run in a child JVM with a small heap by {@link HugeImageDecodingTest}: decodes each file
 * argument through {@link Blip#readImage} (what the batch commands call) and prints one line per
 * file, {@code OK name WxH crc=HEX} or {@code ERR name message}. Only {@link ImageException} is
 * caught, so an {@link OutOfMemoryError} ends the process and fails the test. With
 * {@code --unbounded} first, the decoder has no memory limit, so only its handling of an actual
 * {@link OutOfMemoryError} stands between a huge image and the end of the run.
 */
public final class HugeImageProbe {
    private HugeImageProbe() {}

    public static void main(String[] args) {
        boolean unbounded = args.length > 0 && args[0].equals("--unbounded");
        ImageDecoder decoder = new ImageDecoder(ImageDecoder.DEFAULT_MAX_PIXELS, Long.MAX_VALUE);
        for (String arg : List.of(args).subList(unbounded ? 1 : 0, args.length)) {
            Path file = Path.of(arg);
            try {
                RgbImage image = unbounded ? decoder.read(file) : Blip.readImage(file);
                CRC32 crc = new CRC32();
                crc.update(image.data());
                System.out.println("OK " + file.getFileName() + " " + image.width() + "x" + image.height()
                        + " crc=" + Long.toHexString(crc.getValue()));
            } catch (ImageException e) {
                System.out.println("ERR " + file.getFileName() + " " + e.getMessage());
            }
        }
    }
}
