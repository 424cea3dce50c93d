package dev.kiln.cli;

import java.text.Normalizer;
import java.util.Locale;
import java.util.Map;

/**
 * Names of downloaded outputs: {@code 0007_a-red-fox-at-dawn_s1234.png} — the job's place in the
 * batch (so a folder lists in submission order), the start of its prompt, its seed, and an output
 * number when a job has several. Letters of any script are kept; everything else becomes a dash.
 */
final class FileNames {
    private static final int SLUG_LENGTH = 40;
    private static final Map<String, String> EXTENSIONS = Map.of(
            "image/png", "png", "image/jpeg", "jpg", "image/webp", "webp", "image/gif", "gif",
            "video/mp4", "mp4", "video/webm", "webm", "video/quicktime", "mov");

    private FileNames() {}

    static String of(int position, int total, Wire.Job job, int index, int outputs, String mime) {
        int width = Math.max(4, String.valueOf(total).length());
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%0" + width + "d", position));
        b.append('_').append(slug(job.prompt()));
        Long seed = job.seed();
        if (seed != null) b.append("_s").append(seed);
        if (outputs > 1) b.append('_').append(index + 1);
        return b.append('.').append(extension(mime)).toString();
    }

    static String slug(String prompt) {
        if (prompt == null) return "output";
        String s = Normalizer.normalize(prompt, Normalizer.Form.NFKD).replaceAll("\\p{M}+", "").toLowerCase(Locale.ROOT);
        s = s.replaceAll("[^\\p{L}\\p{N}]+", "-").replaceAll("^-+|-+$", "");
        if (s.codePointCount(0, s.length()) > SLUG_LENGTH) {
            s = s.substring(0, s.offsetByCodePoints(0, SLUG_LENGTH));
            int dash = s.lastIndexOf('-');
            if (dash > SLUG_LENGTH / 2) s = s.substring(0, dash);
            s = s.replaceAll("-+$", "");
        }
        return s.isEmpty() ? "output" : s;
    }

    static String extension(String mime) {
        if (mime == null) return "bin";
        String m = mime.toLowerCase(Locale.ROOT);
        int semi = m.indexOf(';');
        if (semi >= 0) m = m.substring(0, semi).strip();
        String e = EXTENSIONS.get(m);
        if (e != null) return e;
        int slash = m.indexOf('/');
        String sub = slash >= 0 ? m.substring(slash + 1) : "";
        return sub.matches("[a-z0-9]{1,8}") ? sub : "bin";
    }
}
