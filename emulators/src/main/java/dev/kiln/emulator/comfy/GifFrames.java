package dev.kiln.emulator.comfy;

import dev.kiln.emulator.render.SandboxRenderer;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;

/**
 * Animated GIFs for sandbox videos, written with the JDK's GIF writer. Frames are indexed against
 * a fixed 6×6×6 colour cube, so no per-frame palette search is needed and long clips stay fast.
 */
final class GifFrames {
    private static final IndexColorModel CUBE;

    static {
        byte[] r = new byte[256], g = new byte[256], b = new byte[256];
        for (int i = 0; i < 216; i++) {
            r[i] = (byte) (i / 36 * 51);
            g[i] = (byte) (i / 6 % 6 * 51);
            b[i] = (byte) (i % 6 * 51);
        }
        CUBE = new IndexColorModel(8, 256, r, g, b);
    }

    private GifFrames() {}

    static byte[] encode(String prompt, long seed, int width, int height, int frames, double fps) {
        BufferedImage base = ComfyMachine.decode(SandboxRenderer.render(prompt, seed, width, height, "png"));
        int[] rgb = base.getRGB(0, 0, width, height, null, 0, width);
        byte[] index = new byte[rgb.length];
        for (int i = 0; i < rgb.length; i++) {
            int p = rgb[i];
            index[i] = (byte) (((p >> 16 & 0xff) + 25) / 51 * 36 + ((p >> 8 & 0xff) + 25) / 51 * 6 + ((p & 0xff) + 25) / 51);
        }
        int delay = (int) Math.max(2, Math.round(100 / Math.max(0.01, fps)));
        ImageWriter writer = ImageIO.getImageWritersByFormatName("gif").next();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ImageOutputStream ios = ImageIO.createImageOutputStream(out)) {
            writer.setOutput(ios);
            writer.prepareWriteSequence(null);
            ImageTypeSpecifier type = new ImageTypeSpecifier(CUBE, CUBE.createCompatibleSampleModel(width, height));
            for (int f = 0; f < frames; f++) {
                BufferedImage frame = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_INDEXED, CUBE);
                byte[] dst = ((DataBufferByte) frame.getRaster().getDataBuffer()).getData();
                // Scroll the pattern by one step per frame (wrapping), so consecutive frames differ.
                int shift = (int) ((long) f * width / Math.max(1, frames));
                for (int y = 0; y < height; y++) {
                    int row = y * width;
                    int first = width - shift;
                    System.arraycopy(index, row + shift, dst, row, first);
                    System.arraycopy(index, row, dst, row + first, shift);
                }
                IIOMetadata meta = writer.getDefaultImageMetadata(type, null);
                configure(meta, delay, f == 0 ? SandboxRenderer.MARKER + "\nseed=" + seed + "\nprompt=" + abbreviate(prompt) : null);
                writer.writeToSequence(new IIOImage(frame, null, meta), (ImageWriteParam) null);
            }
            writer.endWriteSequence();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            writer.dispose();
        }
        return out.toByteArray();
    }

    private static String abbreviate(String prompt) {
        String p = prompt == null ? "" : prompt;
        // GIF comments are ASCII; keep the marker readable whatever the prompt holds.
        p = p.replaceAll("[^\\x20-\\x7e]", "?");
        return p.length() > 200 ? p.substring(0, 200) : p;
    }

    /** Frame delay, and on the first frame the loop extension and a comment marking sandbox output. */
    private static void configure(IIOMetadata meta, int delayCentis, String comment) throws IOException {
        String format = meta.getNativeMetadataFormatName();
        IIOMetadataNode root = (IIOMetadataNode) meta.getAsTree(format);
        IIOMetadataNode gce = child(root, "GraphicControlExtension");
        gce.setAttribute("disposalMethod", "none");
        gce.setAttribute("userInputFlag", "FALSE");
        gce.setAttribute("transparentColorFlag", "FALSE");
        gce.setAttribute("delayTime", Integer.toString(delayCentis));
        gce.setAttribute("transparentColorIndex", "0");
        if (comment != null) {
            IIOMetadataNode comments = child(root, "CommentExtensions");
            IIOMetadataNode c = new IIOMetadataNode("CommentExtension");
            c.setAttribute("value", comment);
            comments.appendChild(c);
            IIOMetadataNode apps = child(root, "ApplicationExtensions");
            IIOMetadataNode app = new IIOMetadataNode("ApplicationExtension");
            app.setAttribute("applicationID", "NETSCAPE");
            app.setAttribute("authenticationCode", "2.0");
            app.setUserObject(new byte[] {1, 0, 0}); // loop forever
            apps.appendChild(app);
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
}
