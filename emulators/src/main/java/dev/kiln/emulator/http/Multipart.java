package dev.kiln.emulator.http;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Just enough {@code multipart/form-data} parsing (RFC 7578) for the upload endpoint. */
public final class Multipart {
    private static final Pattern BOUNDARY = Pattern.compile("boundary=(?:\"([^\"]+)\"|([^;\\s]+))", Pattern.CASE_INSENSITIVE);
    private static final Pattern NAME = Pattern.compile("[;\\s]name=\"([^\"]*)\"", Pattern.CASE_INSENSITIVE);
    private static final Pattern FILENAME = Pattern.compile("filename=\"([^\"]*)\"", Pattern.CASE_INSENSITIVE);

    /** One form field; {@code filename} and {@code contentType} may be null. */
    public record Part(String name, String filename, String contentType, byte[] body) {}

    private Multipart() {}

    /** The parts of a body, or IllegalArgumentException when it is not multipart form data. */
    public static List<Part> parse(String contentType, byte[] body) {
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
            throw new IllegalArgumentException("expected multipart/form-data");
        }
        Matcher m = BOUNDARY.matcher(contentType);
        if (!m.find()) throw new IllegalArgumentException("multipart boundary missing");
        byte[] delimiter = ("--" + (m.group(1) != null ? m.group(1) : m.group(2))).getBytes(StandardCharsets.ISO_8859_1);
        List<Part> parts = new ArrayList<>();
        int pos = indexOf(body, delimiter, 0);
        if (pos < 0) throw new IllegalArgumentException("multipart boundary not found in body");
        while (true) {
            pos += delimiter.length;
            if (pos + 1 < body.length && body[pos] == '-' && body[pos + 1] == '-') return parts; // closing delimiter
            pos = skipLineBreak(body, pos);
            int headerEnd = indexOf(body, new byte[] {'\r', '\n', '\r', '\n'}, pos);
            if (headerEnd < 0) throw new IllegalArgumentException("multipart part without headers end");
            String headers = new String(body, pos, headerEnd - pos, StandardCharsets.UTF_8);
            int start = headerEnd + 4;
            byte[] next = new byte[delimiter.length + 2];
            next[0] = '\r';
            next[1] = '\n';
            System.arraycopy(delimiter, 0, next, 2, delimiter.length);
            int end = indexOf(body, next, start);
            if (end < 0) throw new IllegalArgumentException("multipart part not terminated");
            parts.add(part(headers, Arrays.copyOfRange(body, start, end)));
            pos = end + 2;
        }
    }

    private static Part part(String headers, byte[] content) {
        String name = null, filename = null, type = null;
        for (String line : headers.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon < 0) continue;
            String key = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).trim();
            if (key.equals("content-disposition")) {
                Matcher n = NAME.matcher(value);
                if (n.find()) name = n.group(1);
                Matcher f = FILENAME.matcher(value);
                if (f.find()) filename = f.group(1);
            } else if (key.equals("content-type")) {
                type = value;
            }
        }
        return new Part(name, filename, type, content);
    }

    private static int skipLineBreak(byte[] b, int pos) {
        if (pos + 1 < b.length && b[pos] == '\r' && b[pos + 1] == '\n') return pos + 2;
        throw new IllegalArgumentException("malformed multipart delimiter line");
    }

    private static int indexOf(byte[] haystack, byte[] needle, int from) {
        byte first = needle[0];
        int last = haystack.length - needle.length;
        outer:
        for (int i = from; i <= last; i++) {
            if (haystack[i] != first) continue;
            for (int j = 1; j < needle.length; j++) if (haystack[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }
}
