package dev.kiln.emulator.render;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A WebM file (the Matroska subset browsers play, https://www.webmproject.org/docs/container/)
 * around already-encoded VP8 frames: EBML header, then one Segment with a SeekHead, Info (with the
 * duration), Tracks (one video track, {@code V_VP8}), Clusters of SimpleBlocks and Cues.
 *
 * <p>jcodec has a Matroska muxer, but its files carry wrong timestamps (ffprobe reads a
 * 24,000,000 s duration and 25 fps for a 1 s clip at 16 fps), so Kiln writes the container itself;
 * every size is known up front because the whole file is built in memory.
 */
final class WebmWriter {
    // Element ids (Matroska spec), written with their length-marker bits as they appear in files.
    private static final int EBML = 0x1A45DFA3, EBML_VERSION = 0x4286, EBML_READ_VERSION = 0x42F7, EBML_MAX_ID = 0x42F2,
            EBML_MAX_SIZE = 0x42F3, DOC_TYPE = 0x4282, DOC_TYPE_VERSION = 0x4287, DOC_TYPE_READ_VERSION = 0x4285;
    private static final int SEGMENT = 0x18538067, SEEK_HEAD = 0x114D9B74, SEEK = 0x4DBB, SEEK_ID = 0x53AB, SEEK_POSITION = 0x53AC;
    private static final int INFO = 0x1549A966, TIMECODE_SCALE = 0x2AD7B1, DURATION = 0x4489, MUXING_APP = 0x4D80, WRITING_APP = 0x5741;
    private static final int TRACKS = 0x1654AE6B, TRACK_ENTRY = 0xAE, TRACK_NUMBER = 0xD7, TRACK_UID = 0x73C5, TRACK_TYPE = 0x83,
            FLAG_LACING = 0x9C, CODEC_ID = 0x86, DEFAULT_DURATION = 0x23E383, VIDEO = 0xE0, PIXEL_WIDTH = 0xB0, PIXEL_HEIGHT = 0xBA;
    private static final int CLUSTER = 0x1F43B675, TIMECODE = 0xE7, SIMPLE_BLOCK = 0xA3;
    private static final int CUES = 0x1C53BB6B, CUE_POINT = 0xBB, CUE_TIME = 0xB3, CUE_TRACK_POSITIONS = 0xB7, CUE_TRACK = 0xF7,
            CUE_CLUSTER_POSITION = 0xF1;
    /** Block timecodes are signed 16-bit offsets from their cluster's: start a new cluster well before that. */
    private static final long CLUSTER_SPAN_MS = 5_000;

    private WebmWriter() {}

    /**
     * @param frames VP8 frames in display order, one every {@code 1/fps} s
     * @param keyFrames which of them are key frames
     */
    static byte[] write(List<byte[]> frames, boolean[] keyFrames, int width, int height, int fps) {
        // Timecodes in milliseconds (TimecodeScale 1,000,000 ns).
        List<byte[]> clusters = new ArrayList<>();
        List<long[]> cueTimes = new ArrayList<>(); // {cluster start ms}
        int i = 0;
        while (i < frames.size()) {
            long start = timecode(i, fps);
            Out cluster = new Out();
            cluster.uint(TIMECODE, start);
            do {
                Out block = new Out();
                block.vint(1); // track number
                long rel = timecode(i, fps) - start;
                block.raw((int) (rel >> 8) & 0xff, (int) rel & 0xff);
                block.raw(keyFrames[i] ? 0x80 : 0x00);
                block.bytes(frames.get(i));
                cluster.element(SIMPLE_BLOCK, block.toByteArray());
                i++;
            } while (i < frames.size() && (timecode(i, fps) - start < CLUSTER_SPAN_MS || !keyFrames[i]));
            clusters.add(element(CLUSTER, cluster.toByteArray()));
            cueTimes.add(new long[] {start});
        }

        Out info = new Out();
        info.uint(TIMECODE_SCALE, 1_000_000);
        info.element(DURATION, float64(timecode(frames.size(), fps)));
        info.element(MUXING_APP, "kiln".getBytes(StandardCharsets.US_ASCII));
        info.element(WRITING_APP, "kiln sandbox".getBytes(StandardCharsets.US_ASCII));
        byte[] infoEl = element(INFO, info.toByteArray());

        Out video = new Out();
        video.uint(PIXEL_WIDTH, width);
        video.uint(PIXEL_HEIGHT, height);
        Out track = new Out();
        track.uint(TRACK_NUMBER, 1);
        track.uint(TRACK_UID, 1);
        track.uint(TRACK_TYPE, 1); // video
        track.uint(FLAG_LACING, 0);
        track.element(CODEC_ID, "V_VP8".getBytes(StandardCharsets.US_ASCII));
        track.uint(DEFAULT_DURATION, Math.round(1e9 / fps));
        track.element(VIDEO, video.toByteArray());
        byte[] tracksEl = element(TRACKS, element(TRACK_ENTRY, track.toByteArray()));

        // Positions are relative to the start of the Segment's payload. The SeekHead has a fixed
        // size (8-byte positions), so it can be laid out before the positions are known.
        int seekHeadSize = seekHead(0, 0, 0).length;
        long infoPos = seekHeadSize;
        long tracksPos = infoPos + infoEl.length;
        long clusterPos = tracksPos + tracksEl.length;
        Out cues = new Out();
        long pos = clusterPos;
        for (int c = 0; c < clusters.size(); c++) {
            Out tp = new Out();
            tp.uint(CUE_TRACK, 1);
            tp.uint(CUE_CLUSTER_POSITION, pos);
            Out point = new Out();
            point.uint(CUE_TIME, cueTimes.get(c)[0]);
            point.element(CUE_TRACK_POSITIONS, tp.toByteArray());
            cues.element(CUE_POINT, point.toByteArray());
            pos += clusters.get(c).length;
        }
        long cuesPos = pos;

        Out segment = new Out();
        segment.bytes(seekHead(infoPos, tracksPos, cuesPos));
        segment.bytes(infoEl);
        segment.bytes(tracksEl);
        for (byte[] c : clusters) segment.bytes(c);
        segment.element(CUES, cues.toByteArray());

        Out header = new Out();
        header.uint(EBML_VERSION, 1);
        header.uint(EBML_READ_VERSION, 1);
        header.uint(EBML_MAX_ID, 4);
        header.uint(EBML_MAX_SIZE, 8);
        header.element(DOC_TYPE, "webm".getBytes(StandardCharsets.US_ASCII));
        header.uint(DOC_TYPE_VERSION, 2);
        header.uint(DOC_TYPE_READ_VERSION, 2);

        Out file = new Out();
        file.element(EBML, header.toByteArray());
        file.element(SEGMENT, segment.toByteArray());
        return file.toByteArray();
    }

    /** Frame {@code i}'s time in ms, rounded from the exact {@code i/fps} s so that rounding never accumulates. */
    private static long timecode(int i, int fps) {
        return Math.round(i * 1000.0 / fps);
    }

    private static byte[] seekHead(long info, long tracks, long cues) {
        Out head = new Out();
        int[] ids = {INFO, TRACKS, CUES};
        long[] positions = {info, tracks, cues};
        for (int k = 0; k < ids.length; k++) {
            Out seek = new Out();
            seek.element(SEEK_ID, idBytes(ids[k]));
            seek.element(SEEK_POSITION, be(positions[k], 8));
            head.element(SEEK, seek.toByteArray());
        }
        return element(SEEK_HEAD, head.toByteArray());
    }

    private static byte[] element(int id, byte[] payload) {
        Out o = new Out();
        o.element(id, payload);
        return o.toByteArray();
    }

    private static byte[] float64(double v) {
        return be(Double.doubleToLongBits(v), 8);
    }

    private static byte[] idBytes(int id) {
        int n = id > 0xFFFFFF ? 4 : id > 0xFFFF ? 3 : id > 0xFF ? 2 : 1;
        return be(id, n);
    }

    private static byte[] be(long v, int n) {
        byte[] b = new byte[n];
        for (int k = n - 1; k >= 0; k--, v >>>= 8) b[k] = (byte) v;
        return b;
    }

    private static final class Out extends ByteArrayOutputStream {
        void raw(int... bytes) {
            for (int b : bytes) write(b);
        }

        void bytes(byte[] b) {
            writeBytes(b);
        }

        /** An EBML variable-size integer (element sizes, the track number of a block). */
        void vint(long v) {
            int n = 1;
            while (n < 8 && v >= (1L << (7 * n)) - 1) n++;
            byte[] b = be(v, n);
            b[0] |= (byte) (0x80 >>> (n - 1));
            writeBytes(b);
        }

        void element(int id, byte[] payload) {
            writeBytes(idBytes(id));
            vint(payload.length);
            writeBytes(payload);
        }

        void uint(int id, long v) {
            int n = 1;
            while (n < 8 && (v >>> (8 * n)) != 0) n++;
            element(id, be(v, n));
        }
    }
}
