package dev.kiln.asset;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.stream.FileImageInputStream;
import javax.imageio.stream.ImageInputStream;
import org.jcodec.api.FrameGrab;
import org.jcodec.codecs.vpx.VP8Decoder;
import org.jcodec.common.DemuxerTrack;
import org.jcodec.common.DemuxerTrackMeta;
import org.jcodec.common.io.FileChannelWrapper;
import org.jcodec.common.io.NIOUtils;
import org.jcodec.common.model.Picture;
import org.jcodec.common.model.Size;
import org.jcodec.containers.mp4.demuxer.MP4Demuxer;
import org.w3c.dom.Node;

/**
 * The facts of a stored video (MP4, WebM, animated GIF): size, frame count, frame rate, duration,
 * and its first frame for a poster thumbnail.
 *
 * <ul>
 *   <li>MP4: jcodec's demuxer reads the {@code moov} box (sample tables give frames and
 *       duration); the poster is the first frame decoded by jcodec's H.264 decoder (Baseline,
 *       Main and High 8-bit progressive; others give no poster).
 *   <li>WebM/Matroska: Kiln's own reading of the EBML elements (Info, Tracks, the blocks of each
 *       Cluster), which handles unknown-size Segments and Clusters as live recorders write them;
 *       the poster is the first VP8 frame, tried with jcodec's VP8 decoder. That decoder refuses
 *       many streams (even those of jcodec's own encoder, so the sandbox's WebM clips), and VP9
 *       and AV1 have no pure-Java decoder at all: most WebM files get facts but no poster.
 *   <li>GIF: ImageIO; the frame delays (1/100 s, where 0 or 1 means 1/10 s as browsers play it)
 *       give the duration.
 * </ul>
 * Everything here reads untrusted files: any failure means "unknown", never an exception.
 */
final class VideoProbe {
    /** What a video is; any field may be null when the file does not say. */
    record Facts(Integer width, Integer height, Integer frames, Double fps, Long durationMs) {
        static final Facts UNKNOWN = new Facts(null, null, null, null, null);
    }

    private VideoProbe() {}

    static Facts facts(Path file, String mime) {
        try {
            return switch (mime) {
                case "video/mp4", "video/quicktime" -> mp4(file);
                case "video/webm", "video/x-matroska" -> Matroska.read(file, false).facts();
                case "image/gif" -> gif(file);
                default -> Facts.UNKNOWN;
            };
        } catch (IOException | RuntimeException e) {
            return Facts.UNKNOWN;
        }
    }

    /**
     * The first frame as RGB pixels, or null when it cannot be decoded. Callers check the
     * dimensions against the pixel limit first: decoding allocates the whole frame.
     */
    static BufferedImage poster(Path file, String mime) {
        try {
            return switch (mime) {
                case "video/mp4", "video/quicktime" -> {
                    try (FileChannelWrapper ch = NIOUtils.readableChannel(file.toFile())) {
                        Picture p = FrameGrab.createFrameGrab(ch).getNativeFrame();
                        yield p == null ? null : toImage(p);
                    }
                }
                case "video/webm", "video/x-matroska" -> {
                    Matroska m = Matroska.read(file, true);
                    if (m.firstFrame == null || !"V_VP8".equals(m.codec) || m.width == null || m.height == null) yield null;
                    int w = (m.width + 15) & ~15, h = (m.height + 15) & ~15;
                    byte[][] planes = {new byte[w * h], new byte[w * h / 4], new byte[w * h / 4]};
                    Picture p = new VP8Decoder().decodeFrame(ByteBuffer.wrap(m.firstFrame), planes);
                    yield p == null ? null : toImage(p, m.width, m.height);
                }
                default -> null;
            };
        } catch (Exception | StackOverflowError e) {
            // jcodec's decoders throw all sorts (and worse) on streams they do not support.
            return null;
        }
    }

    // ---- MP4

    private static Facts mp4(Path file) throws IOException {
        try (FileChannelWrapper ch = NIOUtils.readableChannel(file.toFile())) {
            MP4Demuxer d = MP4Demuxer.createMP4Demuxer(ch);
            DemuxerTrack track = d.getVideoTrack();
            if (track == null) return Facts.UNKNOWN;
            DemuxerTrackMeta meta = track.getMeta();
            Size size = meta.getVideoCodecMeta() == null ? null : meta.getVideoCodecMeta().getSize();
            int frames = meta.getTotalFrames();
            double seconds = meta.getTotalDuration();
            return new Facts(size == null ? null : size.getWidth(), size == null ? null : size.getHeight(),
                    frames > 0 ? frames : null, fps(frames, seconds), seconds > 0 ? Math.round(seconds * 1000) : null);
        }
    }

    // ---- GIF

    private static Facts gif(Path file) throws IOException {
        try (ImageInputStream iis = new FileImageInputStream(file.toFile())) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(iis);
            if (!readers.hasNext()) return Facts.UNKNOWN;
            ImageReader reader = readers.next();
            try {
                reader.setInput(iis, false, false);
                int frames = reader.getNumImages(true);
                long centis = 0;
                for (int i = 0; i < frames; i++) centis += gifDelay(reader.getImageMetadata(i));
                double seconds = centis / 100.0;
                return new Facts(reader.getWidth(0), reader.getHeight(0), frames, fps(frames, seconds), centis * 10);
            } finally {
                reader.dispose();
            }
        }
    }

    private static int gifDelay(IIOMetadata meta) {
        Node root = meta.getAsTree("javax_imageio_gif_image_1.0");
        for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n.getNodeName().equals("GraphicControlExtension")) {
                Node d = n.getAttributes().getNamedItem("delayTime");
                int delay = d == null ? 0 : Integer.parseInt(d.getNodeValue());
                return delay <= 1 ? 10 : delay;
            }
        }
        return 10;
    }

    private static Double fps(int frames, double seconds) {
        if (frames <= 0 || !(seconds > 0)) return null;
        return Math.round(frames / seconds * 1000) / 1000.0;
    }

    // ---- pixels

    private static BufferedImage toImage(Picture p) {
        return toImage(p, p.getCroppedWidth(), p.getCroppedHeight());
    }

    /**
     * 4:2:0 YUV (jcodec's signed bytes, offset by -128) to RGB, BT.601 studio range: what H.264
     * and VP8 streams mean unless they signal otherwise.
     */
    static BufferedImage toImage(Picture p, int width, int height) {
        byte[] ys = p.getPlaneData(0), us = p.getPlaneData(1), vs = p.getPlaneData(2);
        int stride = p.getPlaneWidth(0), cstride = p.getPlaneWidth(1);
        int x0 = p.getCrop() == null ? 0 : p.getCrop().getX(), y0 = p.getCrop() == null ? 0 : p.getCrop().getY();
        int w = Math.min(width, stride - x0), h = Math.min(height, p.getPlaneHeight(0) - y0);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            int sy = y + y0;
            for (int x = 0; x < w; x++) {
                int sx = x + x0;
                int c = ((ys[sy * stride + sx] + 128) - 16) * 298;
                int ci = (sy >> 1) * cstride + (sx >> 1);
                int d = us[ci];
                int e = vs[ci];
                int r = clamp((c + 409 * e + 128) >> 8);
                int g = clamp((c - 100 * d - 208 * e + 128) >> 8);
                int b = clamp((c + 516 * d + 128) >> 8);
                row[x] = (r << 16) | (g << 8) | b;
            }
            img.setRGB(0, y, w, 1, row, 0, w);
        }
        return img;
    }

    private static int clamp(int v) {
        return v < 0 ? 0 : Math.min(v, 255);
    }

    // ---- Matroska / WebM

    /** What Kiln reads from a Matroska file: the first video track and its blocks. */
    static final class Matroska {
        private static final int SEGMENT = 0x18538067, INFO = 0x1549A966, TIMECODE_SCALE = 0x2AD7B1, DURATION = 0x4489;
        private static final int TRACKS = 0x1654AE6B, TRACK_ENTRY = 0xAE, TRACK_NUMBER = 0xD7, TRACK_TYPE = 0x83,
                CODEC_ID = 0x86, DEFAULT_DURATION = 0x23E383, VIDEO = 0xE0, PIXEL_WIDTH = 0xB0, PIXEL_HEIGHT = 0xBA;
        private static final int CLUSTER = 0x1F43B675, BLOCK_GROUP = 0xA0, BLOCK = 0xA1, SIMPLE_BLOCK = 0xA3;
        private static final long UNKNOWN_SIZE = -1;
        /** A first frame larger than this is not read for a poster. */
        private static final int MAX_FRAME_BYTES = 16 << 20;

        long timecodeScale = 1_000_000;
        Double duration;
        long videoTrack = -1;
        String codec;
        Integer width, height;
        Long defaultDurationNs;
        int frames;
        byte[] firstFrame;
        private long lastBlockTime;
        private long clusterTime;

        private final FileChannel ch;
        private final long size;

        private Matroska(FileChannel ch) throws IOException {
            this.ch = ch;
            this.size = ch.size();
        }

        static Matroska read(Path file, boolean keepFirstFrame) throws IOException {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                Matroska m = new Matroska(ch);
                m.scan(keepFirstFrame);
                return m;
            }
        }

        Facts facts() {
            Long ms = null;
            if (duration != null) ms = Math.round(duration * timecodeScale / 1e6);
            else if (frames > 0 && defaultDurationNs != null) ms = Math.round((lastBlockTime * timecodeScale + defaultDurationNs) / 1e6);
            Double fps = defaultDurationNs != null && defaultDurationNs > 0
                    ? Math.round(1e12 / defaultDurationNs) / 1000.0
                    : ms == null ? null : fps(frames, ms / 1000.0);
            return new Facts(width, height, frames > 0 ? frames : null, fps, ms);
        }

        /**
         * Walks the file element by element. Segment, Cluster and BlockGroup are entered rather
         * than skipped (their children follow inline), which is also how an unknown size is read.
         */
        private void scan(boolean keepFirstFrame) throws IOException {
            long pos = 0;
            while (pos < size) {
                long[] head = header(pos);
                if (head == null) return;
                int id = (int) head[0];
                long payload = pos + head[2];
                long len = head[1];
                long end = len == UNKNOWN_SIZE ? size : Math.min(size, payload + len);
                switch (id) {
                    case SEGMENT, CLUSTER, BLOCK_GROUP -> {
                        pos = payload;
                        continue;
                    }
                    case 0xE7 -> clusterTime = uint(payload, end); // Cluster Timecode
                    case INFO -> info(payload, end);
                    case TRACKS -> tracks(payload, end);
                    case SIMPLE_BLOCK, BLOCK -> block(payload, end, keepFirstFrame);
                    default -> { }
                }
                if (len == UNKNOWN_SIZE) return; // an unknown-size element we do not enter: nothing more to find
                pos = end;
            }
        }

        private void info(long pos, long end) throws IOException {
            while (pos < end) {
                long[] h = header(pos);
                if (h == null) return;
                long p = pos + h[2], e = Math.min(end, p + h[1]);
                if (h[0] == TIMECODE_SCALE) timecodeScale = uint(p, e);
                if (h[0] == DURATION) duration = floatValue(p, e);
                pos = e;
            }
        }

        private void tracks(long pos, long end) throws IOException {
            while (pos < end) {
                long[] h = header(pos);
                if (h == null) return;
                long p = pos + h[2], e = Math.min(end, p + h[1]);
                if (h[0] == TRACK_ENTRY && videoTrack < 0) trackEntry(p, e);
                pos = e;
            }
        }

        private void trackEntry(long pos, long end) throws IOException {
            long number = -1, type = -1;
            String codecId = null;
            Integer w = null, hgt = null;
            Long dd = null;
            while (pos < end) {
                long[] h = header(pos);
                if (h == null) return;
                long p = pos + h[2], e = Math.min(end, p + h[1]);
                switch ((int) h[0]) {
                    case TRACK_NUMBER -> number = uint(p, e);
                    case TRACK_TYPE -> type = uint(p, e);
                    case CODEC_ID -> codecId = new String(bytes(p, (int) Math.min(64, e - p)), java.nio.charset.StandardCharsets.US_ASCII).trim();
                    case DEFAULT_DURATION -> dd = uint(p, e);
                    case VIDEO -> {
                        long q = p;
                        while (q < e) {
                            long[] v = header(q);
                            if (v == null) break;
                            long vp = q + v[2], ve = Math.min(e, vp + v[1]);
                            if (v[0] == PIXEL_WIDTH) w = (int) uint(vp, ve);
                            if (v[0] == PIXEL_HEIGHT) hgt = (int) uint(vp, ve);
                            q = ve;
                        }
                    }
                    default -> { }
                }
                pos = e;
            }
            if (type == 1) {
                videoTrack = number;
                codec = codecId;
                width = w;
                height = hgt;
                defaultDurationNs = dd;
            }
        }

        private void block(long pos, long end, boolean keepFirstFrame) throws IOException {
            long[] track = vint(pos);
            if (track == null || track[0] != videoTrack) return;
            long p = pos + track[1];
            byte[] b = bytes(p, 4);
            if (b.length < 3) return;
            short rel = (short) (((b[0] & 0xff) << 8) | (b[1] & 0xff));
            lastBlockTime = Math.max(lastBlockTime, clusterTime + rel);
            int lacing = (b[2] >> 1) & 3;
            int count = lacing == 0 || b.length < 4 ? 1 : (b[3] & 0xff) + 1;
            if (frames == 0 && keepFirstFrame && lacing == 0 && end - (p + 3) <= MAX_FRAME_BYTES) {
                firstFrame = bytes(p + 3, (int) (end - (p + 3)));
            }
            frames += count;
        }

        /** {id, size or UNKNOWN_SIZE, header length}, or null at a damaged or cut header. */
        private long[] header(long pos) throws IOException {
            byte[] b = bytes(pos, 12);
            if (b.length == 0) return null;
            int idLen = Integer.numberOfLeadingZeros(b[0] & 0xff) - 23;
            if (idLen < 1 || idLen > 4 || b.length < idLen + 1) return null;
            long id = 0;
            for (int i = 0; i < idLen; i++) id = (id << 8) | (b[i] & 0xff);
            int first = b[idLen] & 0xff;
            int sizeLen = Integer.numberOfLeadingZeros(first) - 23;
            if (sizeLen < 1 || sizeLen > 8 || b.length < idLen + sizeLen) return null;
            long v = first & (0xff >> sizeLen);
            boolean allOnes = v == (0xff >> sizeLen);
            for (int i = 1; i < sizeLen; i++) {
                int x = b[idLen + i] & 0xff;
                allOnes &= x == 0xff;
                v = (v << 8) | x;
            }
            return new long[] {id, allOnes ? UNKNOWN_SIZE : v, idLen + sizeLen};
        }

        /** {value, length} of the variable-size integer at pos. */
        private long[] vint(long pos) throws IOException {
            byte[] b = bytes(pos, 8);
            if (b.length == 0) return null;
            int n = Integer.numberOfLeadingZeros(b[0] & 0xff) - 23;
            if (n < 1 || n > 8 || b.length < n) return null;
            long v = b[0] & (0xff >> n);
            for (int i = 1; i < n; i++) v = (v << 8) | (b[i] & 0xff);
            return new long[] {v, n};
        }

        private long uint(long pos, long end) throws IOException {
            byte[] b = bytes(pos, (int) Math.min(8, end - pos));
            long v = 0;
            for (byte x : b) v = (v << 8) | (x & 0xff);
            return v;
        }

        private Double floatValue(long pos, long end) throws IOException {
            byte[] b = bytes(pos, (int) Math.min(8, end - pos));
            if (b.length == 4) return (double) Float.intBitsToFloat((int) uint(pos, end));
            if (b.length == 8) return Double.longBitsToDouble(uint(pos, end));
            return null;
        }

        private byte[] bytes(long pos, int n) throws IOException {
            if (pos >= size || n <= 0) return new byte[0];
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(n, size - pos));
            while (buf.hasRemaining()) {
                if (ch.read(buf, pos + buf.position()) < 0) break;
            }
            byte[] out = new byte[buf.position()];
            buf.flip().get(out);
            return out;
        }
    }
}
