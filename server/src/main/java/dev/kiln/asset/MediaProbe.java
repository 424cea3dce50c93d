package dev.kiln.asset;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Semaphore;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.FileImageInputStream;
import javax.imageio.stream.ImageInputStream;

/**
 * What a file is, read from its bytes rather than from a name or a header someone sent: the MIME
 * type from magic bytes, an image's size from its header (without decoding pixels), and a full
 * decode for images that must be usable.
 *
 * <p>The pixel limit is checked on the header, before any pixel is decoded, so a small file that
 * claims to be a huge image (a decompression bomb) costs nothing. Decoding is subsampled to less
 * than twice {@link #DECODE_LONGEST} pixels on the long side, which still reads every byte of the
 * file (so a corrupt one fails) while keeping memory bounded whatever the image's size.
 */
final class MediaProbe {
    static final long DEFAULT_MAX_PIXELS = 50_000_000L;
    /** Decoded images are at least this long (unless the original is smaller), at most twice it. */
    static final int DECODE_LONGEST = 2048;

    /** The image types Kiln accepts as inputs: providers take them and ImageIO decodes them. */
    static final Set<String> INPUT_IMAGE_TYPES = Set.of("image/png", "image/jpeg", "image/webp", "image/gif");

    /** The header facts of a file. Fields are null where unknown; frames, fps and duration only for videos and animated GIFs. */
    record Probe(String mime, Integer width, Integer height, Integer frames, Double fps, Long durationMs) {
        boolean isImage() { return mime.startsWith("image/"); }
        boolean isVideo() { return mime.startsWith("video/"); }
        boolean isAnimated() { return frames != null && frames > 1; }
    }

    private final long maxPixels;
    /** Decoding is CPU- and memory-heavy; more at once than cores only adds memory. */
    private final Semaphore decoders = new Semaphore(Math.max(2, Runtime.getRuntime().availableProcessors()));

    MediaProbe(long maxPixels) {
        this.maxPixels = maxPixels;
    }

    MediaProbe() {
        this(DEFAULT_MAX_PIXELS);
    }

    long maxPixels() { return maxPixels; }

    /** The MIME type from the first bytes of a file, or null if Kiln does not recognise it. */
    static String sniff(byte[] b, int n) {
        if (startsWith(b, n, 0, 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)) return "image/png";
        if (startsWith(b, n, 0, 0xFF, 0xD8, 0xFF)) return "image/jpeg";
        if (startsWith(b, n, 0, 'G', 'I', 'F', '8') && n >= 6 && (b[4] == '7' || b[4] == '9') && b[5] == 'a') return "image/gif";
        if (startsWith(b, n, 0, 'R', 'I', 'F', 'F') && startsWith(b, n, 8, 'W', 'E', 'B', 'P')) return "image/webp";
        if (startsWith(b, n, 4, 'f', 't', 'y', 'p') && n >= 12) {
            // ISO base media files: the major brand tells MP4 from QuickTime, and from the still
            // image formats that share the container.
            String brand = new String(b, 8, 4, StandardCharsets.ISO_8859_1);
            return switch (brand) {
                case "qt  " -> "video/quicktime";
                case "avif", "avis" -> "image/avif";
                case "heic", "heix", "heim", "heis", "mif1", "msf1" -> "image/heic";
                case "M4A ", "M4B ", "M4P " -> null;
                default -> "video/mp4";
            };
        }
        if (startsWith(b, n, 0, 0x1A, 0x45, 0xDF, 0xA3)) {
            // EBML: the DocType element (0x42 0x82) near the start says "webm" or "matroska".
            return indexOf(b, n, "webm".getBytes(StandardCharsets.US_ASCII)) >= 0 ? "video/webm" : "video/x-matroska";
        }
        return null;
    }

    static String sniff(Path file) {
        byte[] head = new byte[64];
        try (InputStream in = Files.newInputStream(file)) {
            int n = in.readNBytes(head, 0, head.length);
            return sniff(head, n);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + file, e);
        }
    }

    /**
     * The facts of a file from its header. Images that ImageIO can read get their size (no pixel
     * is decoded); other recognised types only their MIME type.
     *
     * @param mime the type from {@link #sniff(Path)}, not null
     * @throws MediaException if an image's header is unreadable
     */
    Probe probe(Path file, String mime) {
        // Videos are read by jcodec, in a separate process with limits (VideoProbes), never here.
        if (mime.startsWith("video/")) return new Probe(mime, null, null, null, null, null);
        if (!INPUT_IMAGE_TYPES.contains(mime)) return new Probe(mime, null, null, null, null, null);
        try (ImageInputStream iis = open(file)) {
            ImageReader reader = reader(mime, iis);
            try {
                Probe still = new Probe(mime, reader.getWidth(0), reader.getHeight(0), null, null, null);
                if (!mime.equals("image/gif")) return still;
                // An animated GIF is a video too: frames, frame rate and duration.
                VideoProbe.Facts v = VideoProbe.facts(file, mime);
                if (v.frames() == null || v.frames() < 2) return still;
                return new Probe(mime, still.width(), still.height(), v.frames(), v.fps(), v.durationMs());
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof UncheckedIOException u) throw u;
            // Readers throw all sorts on corrupt data (IIOException, EOFException, index errors).
            throw new MediaException("is not a readable " + shortName(mime) + " image");
        }
    }

    /** Refuses an image whose header claims more pixels than the limit. */
    void checkPixels(Probe p) {
        if (p.width() == null || p.height() == null) return;
        long pixels = (long) p.width() * p.height();
        if (pixels > maxPixels) {
            throw new MediaException("is " + p.width() + "×" + p.height() + " pixels (" + megapixels(pixels)
                    + " megapixels), more than the limit of " + megapixels(maxPixels) + " megapixels");
        }
    }

    /**
     * Decodes every byte of an image (first frame of a GIF), subsampled so the result is at most
     * about twice {@link #DECODE_LONGEST} on its long side.
     *
     * @throws MediaException if the image does not decode, or is over the pixel limit
     */
    BufferedImage decode(Path file, Probe p) {
        checkPixels(p);
        if (p.mime().equals("image/webp")) checkRiffLength(file);
        int longest = Math.max(p.width(), p.height());
        int step = Math.max(1, longest / DECODE_LONGEST);
        decoders.acquireUninterruptibly();
        try (ImageInputStream iis = open(file)) {
            ImageReader reader = reader(p.mime(), iis);
            List<String> warnings = new ArrayList<>();
            reader.addIIOReadWarningListener(warningsInto(warnings));
            try {
                ImageReadParam param = reader.getDefaultReadParam();
                if (step > 1) param.setSourceSubsampling(step, step, 0, 0);
                BufferedImage img = reader.read(0, param);
                // The JPEG decoder fills a truncated file with grey and only warns.
                for (String w : warnings) {
                    if (w.toLowerCase(Locale.ROOT).contains("premature end")) throw new MediaException(undecodable(p.mime()));
                }
                return img;
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof MediaException || e instanceof UncheckedIOException) throw (RuntimeException) e;
            // Readers throw all sorts on corrupt data (IIOException, EOFException, IllegalArgument,
            // ArrayIndexOutOfBounds, ...); none of it is worth showing to the client.
            throw new MediaException(undecodable(p.mime()));
        } finally {
            decoders.release();
        }
    }

    /**
     * The WebP decoder reads missing bytes at the end of a truncated lossless image as zeros and
     * returns a picture; the RIFF header's length tells a truncated file apart.
     */
    private static void checkRiffLength(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] head = in.readNBytes(8);
            long declared = 8 + (Byte.toUnsignedLong(head[4]) | Byte.toUnsignedLong(head[5]) << 8
                    | Byte.toUnsignedLong(head[6]) << 16 | Byte.toUnsignedLong(head[7]) << 24);
            if (Files.size(file) < declared) throw new MediaException(undecodable("image/webp"));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + file, e);
        }
    }

    private static IIOReadWarningListener warningsInto(List<String> warnings) {
        return (source, warning) -> warnings.add(warning);
    }

    /** Opens our own file; failing here is the disk's fault, not the client's. */
    private static ImageInputStream open(Path file) {
        try {
            return new FileImageInputStream(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + file, e);
        }
    }

    private static ImageReader reader(String mime, ImageInputStream iis) {
        Iterator<ImageReader> readers = ImageIO.getImageReadersByMIMEType(mime);
        if (!readers.hasNext()) throw new IllegalStateException("No ImageIO reader for " + mime);
        ImageReader reader = readers.next();
        reader.setInput(iis, true, true);
        return reader;
    }

    static String shortName(String mime) {
        return switch (mime) {
            case "image/png" -> "PNG";
            case "image/jpeg" -> "JPEG";
            case "image/webp" -> "WebP";
            case "image/gif" -> "GIF";
            default -> mime;
        };
    }

    private static String undecodable(String mime) {
        return "could not be decoded as a " + shortName(mime) + " image (damaged or truncated)";
    }

    private static String megapixels(long pixels) {
        double mp = pixels / 1_000_000.0;
        return mp == Math.rint(mp) ? String.valueOf((long) mp) : String.format(Locale.ROOT, "%.1f", mp);
    }

    private static boolean startsWith(byte[] b, int n, int offset, int... magic) {
        if (n < offset + magic.length) return false;
        for (int i = 0; i < magic.length; i++) {
            if ((b[offset + i] & 0xFF) != magic[i]) return false;
        }
        return true;
    }

    private static int indexOf(byte[] b, int n, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= n; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (b[i + j] != needle[j]) continue outer;
            }
            return i;
        }
        return -1;
    }
}
