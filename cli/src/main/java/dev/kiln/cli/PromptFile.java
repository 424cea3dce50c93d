package dev.kiln.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Reads a batch's prompts from a file:
 * <ul>
 *   <li>text (any name but {@code .csv}/{@code .jsonl}): one prompt per line; blank lines and lines
 *       starting with {@code #} are skipped;</li>
 *   <li>CSV with a header row: a {@code prompt} column, an optional {@code negative_prompt} column,
 *       and any other column is a parameter of that row (an empty cell leaves it unset);</li>
 *   <li>JSONL: one JSON object per line, {@code {"prompt", "negative_prompt"?, "params"?: {...}}}
 *       where any other key is also a parameter; a line may also be just a JSON string.</li>
 * </ul>
 * Every problem in the file is reported at once, by line, and nothing is submitted.
 */
final class PromptFile {
    enum Format { TXT, CSV, JSONL }

    /**
     * One prompt of the file.
     *
     * @param line   where it is in the file (1-based), for messages and the manifest
     * @param params per-row parameters: a {@code String} (CSV, typed later from the model's schema)
     *               or a {@code JsonNode} (JSONL, already typed)
     */
    record Row(int line, String prompt, String negativePrompt, Map<String, Object> params) {
        Row {
            params = params == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(params));
        }
    }

    static final String PROMPT = "prompt";
    static final String NEGATIVE = "negative_prompt";
    private static final int MAX_REPORTED = 20;

    private PromptFile() {}

    static Format formatOf(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.endsWith(".csv")) return Format.CSV;
        if (n.endsWith(".jsonl") || n.endsWith(".ndjson")) return Format.JSONL;
        return Format.TXT;
    }

    /** Reads a file ({@code -} is standard input), in the given format or the one its name says. */
    static List<Row> read(String name, Format format) {
        String text;
        try {
            byte[] bytes = name.equals("-") ? readStdin() : Files.readAllBytes(Path.of(name));
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (NoSuchFileException e) {
            throw CliException.usage("no such prompts file: " + name);
        } catch (CharacterCodingException e) {
            throw CliException.usage(name + " is not UTF-8 text; save it as UTF-8");
        } catch (IOException e) {
            throw CliException.usage("cannot read " + name + ": " + e.getMessage());
        }
        return parse(name, text, format == null ? formatOf(name) : format);
    }

    static List<Row> parse(String name, String text, Format format) {
        if (text.startsWith("\uFEFF")) text = text.substring(1);
        List<String> problems = new ArrayList<>();
        List<Row> rows = switch (format) {
            case TXT -> text(text);
            case CSV -> csv(text, problems);
            case JSONL -> jsonl(text, problems);
        };
        if (!problems.isEmpty()) {
            StringBuilder b = new StringBuilder(name).append(": ").append(problems.size() == 1 ? "1 problem" : problems.size() + " problems");
            problems.stream().limit(MAX_REPORTED).forEach(p -> b.append("\n  ").append(p));
            if (problems.size() > MAX_REPORTED) b.append("\n  … and ").append(problems.size() - MAX_REPORTED).append(" more");
            throw CliException.usage(b.toString());
        }
        if (rows.isEmpty()) throw CliException.usage(name + " holds no prompts" + (format == Format.TXT ? " (one per line; # starts a comment)" : ""));
        return rows;
    }

    private static List<Row> text(String text) {
        List<Row> rows = new ArrayList<>();
        String[] lines = text.split("\\R", -1);
        for (int i = 0; i < lines.length; i++) {
            String p = lines[i].strip();
            if (p.isEmpty() || p.startsWith("#")) continue;
            rows.add(new Row(i + 1, p, null, Map.of()));
        }
        return rows;
    }

    private static List<Row> csv(String text, List<String> problems) {
        CSVFormat format = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).setIgnoreEmptyLines(true)
                .setTrim(true).setIgnoreSurroundingSpaces(true).get();
        List<Row> rows = new ArrayList<>();
        try (Reader r = new StringReader(text); CSVParser parser = CSVParser.builder().setReader(r).setFormat(format).get()) {
            List<String> header = parser.getHeaderNames();
            String promptColumn = column(header, PROMPT);
            String negativeColumn = column(header, NEGATIVE);
            if (promptColumn == null) {
                problems.add("line 1: the header has no '" + PROMPT + "' column (it has: " + String.join(", ", header)
                        + "); the first row must name the columns, e.g. prompt,negative_prompt,seed");
                return rows;
            }
            for (String h : header) {
                if (h.isBlank()) problems.add("line 1: a column has no name; every column needs one (prompt, negative_prompt, or a parameter)");
            }
            int[] lineStarts = lineStarts(text);
            for (CSVRecord rec : parser) {
                int line = firstNonBlankLine(text, lineStarts, lineAt(lineStarts, rec.getCharacterPosition()));
                if (rec.size() > header.size()) {
                    problems.add("line " + line + ": " + rec.size() + " fields, but the header names " + header.size());
                    continue;
                }
                String prompt = rec.isSet(promptColumn) ? rec.get(promptColumn) : "";
                if (prompt.isBlank()) {
                    problems.add("line " + line + ": the prompt is empty");
                    continue;
                }
                String negative = negativeColumn != null && rec.isSet(negativeColumn) && !rec.get(negativeColumn).isBlank()
                        ? rec.get(negativeColumn) : null;
                Map<String, Object> params = new LinkedHashMap<>();
                for (String h : header) {
                    if (h.equals(promptColumn) || h.equals(negativeColumn) || h.isBlank() || !rec.isSet(h)) continue;
                    String v = rec.get(h);
                    if (!v.isEmpty()) params.put(h, v);
                }
                rows.add(new Row(line, prompt, negative, params));
            }
        } catch (IOException | java.io.UncheckedIOException | IllegalArgumentException | IllegalStateException e) {
            // Commons CSV reports an unclosed quote (wrapped in UncheckedIOException) or a duplicate column name this way.
            Throwable t = e instanceof java.io.UncheckedIOException u && u.getCause() != null ? u.getCause() : e;
            problems.add("not valid CSV: " + t.getMessage());
        }
        return rows;
    }

    /** Offsets where each line starts, so a record's character position gives its line. */
    private static int[] lineStarts(String text) {
        List<Integer> starts = new ArrayList<>();
        starts.add(0);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\n' || (c == '\r' && (i + 1 == text.length() || text.charAt(i + 1) != '\n'))) starts.add(i + 1);
        }
        return starts.stream().mapToInt(Integer::intValue).toArray();
    }

    /** A record's position may be where the blank lines before it start (they are skipped); its line is the first with text. */
    private static int firstNonBlankLine(String text, int[] starts, int line) {
        while (line < starts.length) {
            int from = starts[line - 1];
            int to = starts[line];
            if (!text.substring(from, to).isBlank()) break;
            line++;
        }
        return line;
    }

    private static int lineAt(int[] starts, long position) {
        int i = java.util.Arrays.binarySearch(starts, (int) position);
        return (i >= 0 ? i : -i - 2) + 1;
    }

    private static String column(List<String> header, String name) {
        return header.stream().filter(h -> h.strip().equalsIgnoreCase(name)).findFirst().orElse(null);
    }

    private static List<Row> jsonl(String text, List<String> problems) {
        List<Row> rows = new ArrayList<>();
        String[] lines = text.split("\\R", -1);
        for (int i = 0; i < lines.length; i++) {
            String l = lines[i].strip();
            if (l.isEmpty()) continue;
            int line = i + 1;
            JsonNode n;
            try {
                n = Wire.JSON.readTree(l);
            } catch (JacksonException e) {
                problems.add("line " + line + ": not valid JSON (" + e.getOriginalMessage() + ")");
                continue;
            }
            if (n.isString()) {
                if (n.asString().isBlank()) problems.add("line " + line + ": the prompt is empty");
                else rows.add(new Row(line, n.asString(), null, Map.of()));
                continue;
            }
            if (!n.isObject()) {
                problems.add("line " + line + ": must be a JSON object like {\"prompt\": \"...\"} or a JSON string");
                continue;
            }
            JsonNode p = n.get(PROMPT);
            if (p == null || !p.isString() || p.asString().isBlank()) {
                problems.add("line " + line + ": \"prompt\" must be a non-empty string");
                continue;
            }
            JsonNode neg = n.get(NEGATIVE);
            if (neg != null && !neg.isNull() && !neg.isString()) {
                problems.add("line " + line + ": \"negative_prompt\" must be a string");
                continue;
            }
            Map<String, Object> params = new LinkedHashMap<>();
            JsonNode ps = n.get("params");
            if (ps != null && !ps.isNull()) {
                if (!ps.isObject()) {
                    problems.add("line " + line + ": \"params\" must be an object of parameter values");
                    continue;
                }
                for (var e : ps.properties()) params.put(e.getKey(), e.getValue());
            }
            boolean ok = true;
            for (var e : n.properties()) {
                String k = e.getKey();
                if (k.equals(PROMPT) || k.equals(NEGATIVE) || k.equals("params")) continue;
                if (params.containsKey(k)) {
                    problems.add("line " + line + ": \"" + k + "\" is given both at the top level and in \"params\"");
                    ok = false;
                    continue;
                }
                params.put(k, e.getValue());
            }
            if (!ok) continue;
            String negative = neg == null || neg.isNull() || neg.asString().isBlank() ? null : neg.asString();
            rows.add(new Row(line, p.asString(), negative, params));
        }
        return rows;
    }

    private static byte[] readStdin() throws IOException {
        InputStream in = System.in;
        return in.readAllBytes();
    }
}
