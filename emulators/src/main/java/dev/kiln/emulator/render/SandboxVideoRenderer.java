package dev.kiln.emulator.render;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOInvalidTreeException;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.jcodec.codecs.h264.H264Encoder;
import org.jcodec.codecs.vpx.VP8Encoder;
import org.jcodec.common.Codec;
import org.jcodec.common.MuxerTrack;
import org.jcodec.common.VideoCodecMeta;
import org.jcodec.common.VideoEncoder;
import org.jcodec.common.io.ByteBufferSeekableByteChannel;
import org.jcodec.common.model.ColorSpace;
import org.jcodec.common.model.Packet;
import org.jcodec.common.model.Picture;
import org.jcodec.common.model.Size;
import org.jcodec.containers.mp4.muxer.MP4Muxer;

/**
 * Renders the sandbox's stand-in for a generated video: the {@link SandboxRenderer} pattern of the
 * prompt and seed, animated (waves travel, shapes orbit, the palette turns) along a loop that
 * closes after the last frame. Same inputs, same bytes.
 *
 * <ul>
 *   <li>{@code mp4}: H.264 (Constrained Baseline, jcodec's pure-Java encoder) in an MP4 file.
 *   <li>{@code webm}: VP8 (jcodec's encoder, every frame a key frame) in a WebM file written by
 *       {@link WebmWriter}. No pure-Java VP9 encoder exists; VP8 in WebM plays in every browser.
 *   <li>{@code gif}: an animated GIF (ImageIO), lossless since the pattern has 256 colours; frame
 *       delays are in 1/100 s, spread so that the whole clip lasts {@code frames/fps} seconds.
 * </ul>
 * Odd sizes are rounded up to even for the two video codecs (4:2:0 chroma needs pairs of pixels).
 */
public final class SandboxVideoRenderer {
    /** Most frames one clip may have (the catalogue allows 161). */
    public static final int MAX_FRAMES = 1000;
    /** Largest side of a sandbox video. */
    public static final int MAX_SIDE = 2048;
    /** VP8 quantizer index (0..127): visibly clean at a few KB per 256² frame. */
    private static final int VP8_QP = 24;

    private SandboxVideoRenderer() {}

    /**
     * @param format {@code mp4}, {@code webm} or {@code gif}
     * @throws IllegalArgumentException for an unknown format, a side outside 2..{@value #MAX_SIDE},
     *     frames outside 1..{@value #MAX_FRAMES} or fps outside 1..120
     */
    public static byte[] render(String format, int width, int height, int frames, int fps, String prompt, long seed) {
        String f = normalize(format);
        if (width < 2 || height < 2 || width > MAX_SIDE || height > MAX_SIDE) {
            throw new IllegalArgumentException("video sides must be 2.." + MAX_SIDE + ", not " + width + "x" + height);
        }
        if (frames < 1 || frames > MAX_FRAMES) throw new IllegalArgumentException("frames must be 1.." + MAX_FRAMES + ", not " + frames);
        if (fps < 1 || fps > 120) throw new IllegalArgumentException("fps must be 1..120, not " + fps);
        String p = prompt == null ? "" : prompt;
        try {
            return switch (f) {
                case "mp4" -> mp4(scene(p, seed, even(width), even(height)), frames, fps);
                case "webm" -> webm(scene(p, seed, even(width), even(height)), frames, fps);
                default -> gif(new Pattern.Scene(p, seed, width, height), frames, fps, p, seed);
            };
        } catch (IOException e) {
            throw new UncheckedIOException("rendering to memory failed", e);
        }
    }

    /** {@code mp4}, {@code webm} or {@code gif} for a format name, else IllegalArgumentException. */
    public static String normalize(String format) {
        String f = format == null ? "mp4" : format.toLowerCase(Locale.ROOT);
        return switch (f) {
            case "mp4", "webm", "gif" -> f;
            default -> throw new IllegalArgumentException("unsupported video format: " + format);
        };
    }

    /** Whether a format name is one of the video formats. */
    public static boolean isVideoFormat(String format) {
        if (format == null) return false;
        String f = format.toLowerCase(Locale.ROOT);
        return f.equals("mp4") || f.equals("webm") || f.equals("gif");
    }

    /** The MIME type of a video format name. */
    public static String mimeType(String format) {
        String f = normalize(format);
        return f.equals("gif") ? "image/gif" : "video/" + f;
    }

    private static Pattern.Scene scene(String prompt, long seed, int width, int height) {
        return new Pattern.Scene(prompt, seed, width, height);
    }

    private static int even(int side) {
        return side + (side & 1);
    }

    // ---- MP4 / H.264

    private static byte[] mp4(Pattern.Scene scene, int frames, int fps) throws IOException {
        H264Encoder encoder = H264Encoder.createH264Encoder();
        // Key frame every second: players can seek, and P-frames keep the file small.
        encoder.setKeyInterval(Math.max(1, fps));
        Picture pic = Picture.create(scene.width, scene.height, ColorSpace.YUV420J);
        ByteBuffer buf = ByteBuffer.allocate(Math.max(encoder.estimateBufferSize(pic), scene.width * scene.height * 3 + 65_536));
        List<Packet> packets = new ArrayList<>(frames);
        long total = 0;
        int[] argb = new int[scene.width * scene.height];
        for (int i = 0; i < frames; i++) {
            toYuv(scene, i, frames, argb, pic);
            buf.clear();
            VideoEncoder.EncodedFrame ef = encoder.encodeFrame(pic, buf);
            ByteBuffer data = copy(ef.getData());
            total += data.remaining();
            packets.add(Packet.createPacket(data, i, fps, 1, i, ef.isKeyFrame() ? Packet.FrameType.KEY : Packet.FrameType.INTER, null));
        }
        // The muxer writes into a fixed buffer: the frames plus room for the header's tables.
        ByteBuffer out = ByteBuffer.allocate((int) (total + 16_384 + 64L * frames));
        ByteBufferSeekableByteChannel ch = ByteBufferSeekableByteChannel.writeToByteBuffer(out);
        MP4Muxer muxer = MP4Muxer.createMP4MuxerToChannel(ch);
        MuxerTrack track = muxer.addVideoTrack(Codec.H264,
                VideoCodecMeta.createSimpleVideoCodecMeta(new Size(scene.width, scene.height), ColorSpace.YUV420J));
        for (Packet p : packets) track.addFrame(p);
        muxer.finish();
        // The channel writes through a view of the buffer: read the first size() bytes of it.
        byte[] bytes = new byte[(int) ch.size()];
        out.duplicate().position(0).get(bytes);
        clearTimes(ByteBuffer.wrap(bytes), 0, bytes.length);
        return bytes;
    }

    /**
     * Zeroes the creation and modification times jcodec stamps into mvhd, tkhd and mdhd: the same
     * prompt and seed must give the same bytes whenever they are rendered (the emulator renders
     * again after a restart, and content addressing relies on it).
     */
    private static void clearTimes(ByteBuffer b, int from, int to) {
        int at = from;
        while (at + 8 <= to) {
            long size = b.getInt(at) & 0xffffffffL;
            if (size == 1 && at + 16 <= to) size = b.getLong(at + 8); // jcodec writes mdat with a 64-bit size
            if (size < 8 || at + size > to) return;
            String type = new String(new byte[] {b.get(at + 4), b.get(at + 5), b.get(at + 6), b.get(at + 7)},
                    java.nio.charset.StandardCharsets.ISO_8859_1);
            switch (type) {
                case "moov", "trak", "mdia" -> clearTimes(b, at + 8, (int) (at + size));
                case "mvhd", "tkhd", "mdhd" -> {
                    int version = b.get(at + 8);
                    int times = version == 1 ? 16 : 8; // two 64-bit or two 32-bit times after version and flags
                    for (int i = 0; i < times; i++) b.put(at + 12 + i, (byte) 0);
                }
                default -> { }
            }
            at += (int) size;
        }
    }

    // ---- WebM / VP8

    private static byte[] webm(Pattern.Scene scene, int frames, int fps) {
        VP8Encoder encoder = VP8Encoder.createVP8Encoder(VP8_QP);
        Picture pic = Picture.create(scene.width, scene.height, ColorSpace.YUV420J);
        ByteBuffer buf = ByteBuffer.allocate(Math.max(encoder.estimateBufferSize(pic), scene.width * scene.height * 3 + 65_536));
        List<byte[]> encoded = new ArrayList<>(frames);
        boolean[] key = new boolean[frames];
        int[] argb = new int[scene.width * scene.height];
        for (int i = 0; i < frames; i++) {
            toYuv(scene, i, frames, argb, pic);
            buf.clear();
            VideoEncoder.EncodedFrame ef = encoder.encodeFrame(pic, buf);
            ByteBuffer d = ef.getData();
            byte[] b = new byte[d.remaining()];
            d.duplicate().get(b);
            encoded.add(b);
            key[i] = ef.isKeyFrame();
        }
        return WebmWriter.write(encoded, key, scene.width, scene.height, fps);
    }

    /**
     * Frame {@code i} as 4:2:0 YUV with BT.601 studio-range levels (Y 16..235), which is what
     * H.264 and VP8 decoders assume when a stream says nothing else. jcodec keeps 8-bit samples as
     * signed bytes offset by -128.
     */
    private static void toYuv(Pattern.Scene scene, int frame, int frames, int[] argb, Picture pic) {
        int w = scene.width, h = scene.height;
        scene.indices(frame, frames, argb);
        int[] pal = scene.palette;
        byte[] ys = pic.getPlaneData(0), us = pic.getPlaneData(1), vs = pic.getPlaneData(2);
        int cw = w >> 1;
        for (int y = 0; y < h; y += 2) {
            for (int x = 0; x < w; x += 2) {
                int sr = 0, sg = 0, sb = 0;
                for (int dy = 0; dy < 2; dy++) {
                    for (int dx = 0; dx < 2; dx++) {
                        int idx = (y + dy) * w + x + dx;
                        int c = pal[argb[idx] & 255];
                        int r = (c >> 16) & 255, g = (c >> 8) & 255, b = c & 255;
                        sr += r;
                        sg += g;
                        sb += b;
                        ys[idx] = (byte) ((((66 * r + 129 * g + 25 * b + 128) >> 8) + 16) - 128);
                    }
                }
                int r = sr >> 2, g = sg >> 2, b = sb >> 2;
                int ci = (y >> 1) * cw + (x >> 1);
                us[ci] = (byte) ((((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128) - 128);
                vs[ci] = (byte) ((((112 * r - 94 * g - 18 * b + 128) >> 8) + 128) - 128);
            }
        }
    }

    private static ByteBuffer copy(ByteBuffer src) {
        ByteBuffer c = ByteBuffer.allocate(src.remaining());
        c.put(src.duplicate());
        c.flip();
        return c;
    }

    // ---- GIF

    private static byte[] gif(Pattern.Scene scene, int frames, int fps, String prompt, long seed) throws IOException {
        int w = scene.width, h = scene.height;
        byte[] r = new byte[256], g = new byte[256], b = new byte[256];
        for (int i = 0; i < 256; i++) {
            r[i] = (byte) (scene.palette[i] >> 16);
            g[i] = (byte) (scene.palette[i] >> 8);
            b[i] = (byte) scene.palette[i];
        }
        IndexColorModel cm = new IndexColorModel(8, 256, r, g, b);
        ImageWriter writer = ImageIO.getImageWritersByFormatName("gif").next();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int[] idx = new int[w * h];
        try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            writer.setOutput(out);
            writer.prepareWriteSequence(null);
            ImageWriteParam param = writer.getDefaultWriteParam();
            ImageTypeSpecifier type = new ImageTypeSpecifier(cm, cm.createCompatibleSampleModel(w, h));
            for (int i = 0; i < frames; i++) {
                BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_INDEXED, cm);
                byte[] px = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
                scene.indices(i, frames, idx);
                for (int k = 0; k < idx.length; k++) px[k] = (byte) idx[k];
                // Delays in 1/100 s from the exact timeline, so 24 fps gives 4,4,5,4,4,... not all 4s.
                int delay = (int) (Math.round((i + 1) * 100.0 / fps) - Math.round(i * 100.0 / fps));
                IIOMetadata meta = writer.getDefaultImageMetadata(type, param);
                frameMetadata(meta, delay, i == 0, "kiln-sandbox seed=" + seed + " prompt=" + truncate(prompt));
                writer.writeToSequence(new IIOImage(img, null, meta), param);
            }
            writer.endWriteSequence();
        } finally {
            writer.dispose();
        }
        return bytes.toByteArray();
    }

    private static void frameMetadata(IIOMetadata meta, int delay, boolean first, String comment) throws IIOInvalidTreeException {
        String format = meta.getNativeMetadataFormatName();
        IIOMetadataNode root = (IIOMetadataNode) meta.getAsTree(format);
        IIOMetadataNode gce = child(root, "GraphicControlExtension");
        gce.setAttribute("disposalMethod", "none");
        gce.setAttribute("userInputFlag", "FALSE");
        gce.setAttribute("transparentColorFlag", "FALSE");
        gce.setAttribute("transparentColorIndex", "0");
        gce.setAttribute("delayTime", Integer.toString(Math.max(1, delay)));
        if (first) {
            IIOMetadataNode apps = child(root, "ApplicationExtensions");
            IIOMetadataNode app = new IIOMetadataNode("ApplicationExtension");
            app.setAttribute("applicationID", "NETSCAPE");
            app.setAttribute("authenticationCode", "2.0");
            app.setUserObject(new byte[] {1, 0, 0}); // loop forever
            apps.appendChild(app);
            IIOMetadataNode comments = child(root, "CommentExtensions");
            IIOMetadataNode c = new IIOMetadataNode("CommentExtension");
            c.setAttribute("value", comment);
            comments.appendChild(c);
        }
        meta.setFromTree(format, root);
    }

    private static IIOMetadataNode child(IIOMetadataNode root, String name) {
        for (int i = 0; i < root.getLength(); i++) {
            if (root.item(i).getNodeName().equalsIgnoreCase(name)) return (IIOMetadataNode) root.item(i);
        }
        IIOMetadataNode n = new IIOMetadataNode(name);
        root.appendChild(n);
        return n;
    }

    private static String truncate(String prompt) {
        // GIF comments are ASCII by convention; keep them short.
        String ascii = prompt.replaceAll("[^\\x20-\\x7e]", "?");
        return ascii.length() > 200 ? ascii.substring(0, 200) : ascii;
    }
}
