package org.blipjava.image;

/**
 * transformers' {@code image_transforms.center_crop} on an 8-bit image: the window starts at
 * {@code floor((in - crop) / 2)} on each axis (so an odd excess leaves the extra row or column
 * at the bottom/right), and where the image is smaller than the crop the missing pixels are 0,
 * the image sitting at {@code ceil((crop - in) / 2)} as the reference's zero padding puts it.
 * Stateless.
 */
final class CenterCrop {
    private CenterCrop() {}

    /** The {@code cropWidth x cropHeight} centre of {@code image}, zero-padded where it is smaller. */
    static RgbImage apply(RgbImage image, int cropHeight, int cropWidth) {
        if (cropHeight <= 0 || cropWidth <= 0) {
            throw new IllegalArgumentException("crop size must be positive, got " + cropHeight + "x" + cropWidth);
        }
        int inW = image.width();
        int inH = image.height();
        if (inW == cropWidth && inH == cropHeight) {
            return image;
        }
        // floorDiv gives Python's // for negative excess too; the padded case then reduces to the
        // same offset (top + ceil(pad / 2) = 0 relative to the padded canvas).
        int top = Math.floorDiv(inH - cropHeight, 2);
        int left = Math.floorDiv(inW - cropWidth, 2);
        byte[] in = image.data();
        byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(cropWidth, cropHeight), 3)];
        int x0 = Math.max(0, -left);
        int x1 = Math.min(cropWidth, inW - left);
        for (int y = 0; y < cropHeight; y++) {
            int sy = y + top;
            if (sy < 0 || sy >= inH || x1 <= x0) {
                continue;
            }
            System.arraycopy(in, (sy * inW + x0 + left) * 3, out, (y * cropWidth + x0) * 3, (x1 - x0) * 3);
        }
        return new RgbImage(cropWidth, cropHeight, out, true);
    }
}
