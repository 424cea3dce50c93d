package dev.kiln.compat.dotbase;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the {@code .base} API examples as their users run them: the curl lines in bash, the Python
 * with {@code requests}, the TypeScript in Node (its type annotations stripped, relative URLs
 * resolved against Kiln's origin as a page served from there would). The only change to each is
 * the one the README's "Coming from .base" names: the base URL ({@code http://localhost:3000}
 * becomes Kiln's), and with {@code KILN_AUTH=on} one header.
 */
final class SeedExamples {
    static final String SEED_BASE = "http://localhost:3000";

    private SeedExamples() {}

    record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\nstdout: " + out + "\nstderr: " + err;
        }
    }

    /** A curl example; {@code header}, when given, is added to each curl call as {@code -H}. */
    static Result curl(String example, String base, String header) {
        String script = example.replace(SEED_BASE, base);
        if (header != null) script = script.replace("curl ", "curl -sS -H '" + header + "' ");
        else script = script.replace("curl ", "curl -sS ");
        return run(List.of("bash", "-c", script), Map.of());
    }

    /** A Python example; with a header, {@code requests} sends it on every call (as a session would). */
    static Result python(String example, String base, String header) {
        String prelude = "";
        if (header != null) {
            int colon = header.indexOf(':');
            prelude = "import requests as __r\n__s = __r.Session()\n__s.headers['" + header.substring(0, colon).strip() + "'] = '"
                    + header.substring(colon + 1).strip() + "'\n__r.post = __s.post\n__r.get = __s.get\n__r.delete = __s.delete\n";
        }
        return run(List.of("python3", "-c", prelude + example.replace(SEED_BASE, base)), Map.of());
    }

    /** A TypeScript example in Node: fetch resolves relative URLs against {@code base}, adding {@code header} if given. */
    static Result js(String example, String base, String header) {
        String prelude = """
                const __base = process.env.KILN_BASE;
                const __header = process.env.KILN_HEADER || '';
                const __fetch = globalThis.fetch;
                globalThis.fetch = (url, opts = {}) => {
                  const headers = { ...(opts.headers || {}) };
                  if (__header) { const i = __header.indexOf(':'); headers[__header.slice(0, i).trim()] = __header.slice(i + 1).trim(); }
                  return __fetch(new URL(url, __base), { ...opts, headers });
                };
                """;
        return run(List.of("node", "--input-type=module", "-e", prelude + stripTypes(example)),
                Map.of("KILN_BASE", base, "KILN_HEADER", header == null ? "" : header));
    }

    /** Removes the TypeScript annotations the examples use ({@code id: string}, {@code action?: string}). */
    static String stripTypes(String ts) {
        return ts.replaceAll("(\\w+)\\??: (string|number|boolean)\\b", "$1");
    }

    private static Result run(List<String> command, Map<String, String> env) {
        try {
            java.nio.file.Path out = java.nio.file.Files.createTempFile("seed-example", ".out");
            java.nio.file.Path err = java.nio.file.Files.createTempFile("seed-example", ".err");
            try {
                ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(command)).redirectOutput(out.toFile()).redirectError(err.toFile());
                pb.environment().putAll(env);
                Process p = pb.start();
                p.getOutputStream().close();
                if (!p.waitFor(120, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new IllegalStateException("example did not finish in 120 s: " + command);
                }
                return new Result(p.exitValue(), java.nio.file.Files.readString(out, StandardCharsets.UTF_8).strip(),
                        java.nio.file.Files.readString(err, StandardCharsets.UTF_8).strip());
            } finally {
                java.nio.file.Files.deleteIfExists(out);
                java.nio.file.Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
