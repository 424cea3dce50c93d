package dev.kiln.emulator.replicate;

import static dev.kiln.emulator.http.EmulatorHttp.answer;
import static dev.kiln.emulator.http.EmulatorHttp.send;

import com.sun.net.httpserver.HttpExchange;
import dev.kiln.emulator.http.EmulatorHttp;
import dev.kiln.emulator.http.Multipart;
import dev.kiln.emulator.support.BlobCache;
import dev.kiln.emulator.support.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Replicate's Files API as its OpenAPI description has it (api.replicate.com's openapi.json,
 * {@code files.create}, {@code files.get}, {@code files.list}, {@code files.delete}): a multipart
 * upload with the bytes in {@code content} (and optional {@code filename}, {@code type},
 * {@code metadata}), answered 201 with the file object {@code {id, checksums.sha256, content_type,
 * created_at, expires_at, metadata, size, urls.get}}; files over 100 MB are refused with 413. A
 * file expires an hour after it was made (the example in that description).
 */
final class ReplicateFiles {
    static final int MAX_SIZE = 100 * 1024 * 1024;
    static final Duration LIFETIME = Duration.ofHours(1);

    private record Entry(String id, String name, String contentType, long size, String sha256, JsonNode metadata,
                         Instant createdAt, Instant expiresAt) {}

    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private final BlobCache contents = new BlobCache(256L * 1024 * 1024);

    void create(HttpExchange ex, String apiUrl) throws IOException {
        byte[] raw = EmulatorHttp.readBody(ex, MAX_SIZE + 64 * 1024, problem(413, "Content Too Large", "Files must be less than 100MB in size"));
        List<Multipart.Part> parts;
        try {
            parts = Multipart.parse(ex.getRequestHeaders().getFirst("Content-Type"), raw);
        } catch (IllegalArgumentException e) {
            throw invalid("the body must be multipart/form-data: " + e.getMessage());
        }
        Multipart.Part content = part(parts, "content");
        if (content == null || content.filename() == null && content.contentType() == null && content.body().length == 0) {
            throw invalid("content is required");
        }
        if (content.body().length > MAX_SIZE) {
            throw new EmulatorHttp.Refused(413, problem(413, "Content Too Large", "Files must be less than 100MB in size"));
        }
        Multipart.Part filenamePart = part(parts, "filename");
        String name = filenamePart != null ? text(filenamePart) : content.filename() != null ? content.filename() : "file";
        if (name.getBytes(StandardCharsets.UTF_8).length > 255) throw invalid("filename must be at most 255 bytes");
        Multipart.Part typePart = part(parts, "type");
        String type = typePart != null ? text(typePart)
                : content.contentType() != null ? content.contentType() : "application/octet-stream";
        JsonNode metadata = Json.object();
        Multipart.Part meta = part(parts, "metadata");
        if (meta != null) {
            metadata = EmulatorHttp.jsonObject(meta.body());
            if (metadata == null) throw invalid("metadata must be a JSON object");
        }
        Instant now = Instant.now();
        entries.values().removeIf(e -> e.expiresAt().isBefore(now));
        String id = ReplicateEmulator.newId();
        Entry e = new Entry(id, name, type, content.body().length, sha256(content.body()), metadata, now, now.plus(LIFETIME));
        entries.put(id, e);
        contents.put(id, new BlobCache.Blob(content.body(), type, name));
        ObjectNode body = json(e, apiUrl);
        send(ex, 201, "application/json", Json.MAPPER.writeValueAsBytes(body), Map.of("Location", body.path("urls").path("get").asString()));
    }

    void get(HttpExchange ex, String id, String apiUrl) throws IOException {
        Entry e = live(id);
        if (e == null) {
            answer(ex, 404, problem(404, "Not found", "File not found"));
            return;
        }
        answer(ex, 200, json(e, apiUrl));
    }

    void list(HttpExchange ex, String apiUrl) throws IOException {
        ObjectNode page = Json.object();
        page.putNull("next");
        page.putNull("previous");
        var results = page.putArray("results");
        entries.values().stream().filter(e -> !e.expiresAt().isBefore(Instant.now()))
                .sorted(Comparator.comparing(Entry::createdAt).reversed()).limit(100).forEach(e -> results.add(json(e, apiUrl)));
        answer(ex, 200, page);
    }

    void delete(HttpExchange ex, String id) throws IOException {
        if (live(id) == null) {
            answer(ex, 404, problem(404, "Not found", "File not found"));
            return;
        }
        entries.remove(id);
        send(ex, 204, "application/json", new byte[0], Map.of());
    }

    /** The bytes of a live file named by the path after {@code /files/} (its id, possibly with more after it), or null. */
    byte[] content(String rest) {
        String id = rest.split("[/?#]", 2)[0];
        if (live(id) == null) return null;
        BlobCache.Blob b = contents.get(id);
        return b == null ? null : b.bytes();
    }

    private Entry live(String id) {
        Entry e = entries.get(id);
        return e == null || e.expiresAt().isBefore(Instant.now()) ? null : e;
    }

    private static ObjectNode json(Entry e, String apiUrl) {
        ObjectNode o = Json.object();
        o.put("id", e.id());
        o.putObject("checksums").put("sha256", e.sha256());
        o.put("content_type", e.contentType());
        o.put("created_at", e.createdAt().toString());
        o.put("expires_at", e.expiresAt().toString());
        o.set("metadata", e.metadata());
        o.put("size", e.size());
        o.putObject("urls").put("get", apiUrl + "/files/" + e.id());
        return o;
    }

    private static Multipart.Part part(List<Multipart.Part> parts, String name) {
        return parts.stream().filter(p -> name.equals(p.name())).findFirst().orElse(null);
    }

    private static String text(Multipart.Part p) {
        return new String(p.body(), StandardCharsets.UTF_8).strip();
    }

    private static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    private static ObjectNode problem(int status, String title, String detail) {
        ObjectNode o = Json.object();
        o.put("title", title);
        o.put("detail", detail);
        o.put("status", status);
        return o;
    }

    private static EmulatorHttp.Refused invalid(String detail) {
        return new EmulatorHttp.Refused(422, problem(422, "Invalid file", detail));
    }
}
