package dev.kiln.emulator.airtable;

import static dev.kiln.emulator.http.EmulatorHttp.answer;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.kiln.emulator.http.EmulatorHttp;
import dev.kiln.emulator.support.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A local Airtable Web API (docs/PROVIDERS.md, "Airtable") on the JDK HTTP server, bound to
 * 127.0.0.1, holding one base with one table whose fields have types. What it answers, and how,
 * follows Airtable's own reference:
 *
 * <ul>
 *   <li>{@code GET /v0/{baseId}/{table}} — list records ({@code pageSize} ≤ 100, {@code offset},
 *       {@code maxRecords}), https://airtable.com/developers/web/api/list-records;</li>
 *   <li>{@code GET /v0/{baseId}/{table}/{recordId}} — one record,
 *       https://airtable.com/developers/web/api/get-record;</li>
 *   <li>{@code POST /v0/{baseId}/{table}} {@code {records:[{fields}], typecast}} — at most 10
 *       records per request, https://airtable.com/developers/web/api/create-records;</li>
 *   <li>{@code PATCH} (merge) / {@code PUT} (replace) {@code /v0/{baseId}/{table}}
 *       {@code {records:[{id, fields}], typecast}}, at most 10, and {@code PATCH /v0/{baseId}/{table}/{recordId}},
 *       https://airtable.com/developers/web/api/update-multiple-records;</li>
 *   <li>{@code POST /v0/{baseId}/{recordId}/{attachmentFieldIdOrName}/uploadAttachment}
 *       {@code {contentType, file (base64), filename}}, at most 5 MB, appended to the cell (on
 *       Airtable this is {@code content.airtable.com}),
 *       https://airtable.com/developers/web/api/upload-attachment;</li>
 *   <li>errors {@code {"error":{"type","message"}}} with Airtable's statuses and types (401
 *       AUTHENTICATION_REQUIRED, 403 INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND, 404 NOT_FOUND, 422
 *       UNKNOWN_FIELD_NAME / INVALID_VALUE_FOR_COLUMN / INVALID_MULTIPLE_CHOICE_OPTIONS /
 *       INVALID_RECORDS), https://airtable.com/developers/web/api/errors;</li>
 *   <li>rate limits: 5 requests per second per base; the request over it answers 429 and every
 *       request to that base keeps answering 429 for 30 seconds,
 *       https://airtable.com/developers/web/api/rate-limits.</li>
 * </ul>
 *
 * <p>Attachments written as {@code {url, filename}} are fetched (Airtable downloads and re-hosts
 * them) and read back as {@code {id, url, filename, size, type}} with the URL on this emulator.
 * {@code typecast:true} converts strings as Airtable does on a best-effort basis (a new select
 * option is created; without typecast an unknown option is refused). Tests can take the service
 * down ({@link #down}: every request answers 503) and read what was asked ({@link #requests}).
 */
public final class AirtableEmulator implements AutoCloseable {
    static final int MAX_RECORDS_PER_REQUEST = 10;
    static final int MAX_UPLOAD_BYTES = 5 * 1024 * 1024;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /** Airtable's field types used by the batch generator's table. */
    public enum FieldType { SINGLE_LINE_TEXT, LONG_TEXT, URL, ATTACHMENT, SINGLE_SELECT, DATE, NUMBER }

    /**
     * @param requestsPerSecond per base (Airtable: 5)
     * @param lockout how long a base answers 429 after its limit was passed (Airtable: 30 s)
     */
    public record Config(int port, String token, String baseId, String table, Map<String, FieldType> fields,
                         int requestsPerSecond, Duration lockout) {
        public Config {
            fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
        }

        /** The batch generator's "Generations" table (its 15 fields), Airtable's limits, a random token. */
        public static Config defaults() {
            Map<String, FieldType> f = new LinkedHashMap<>();
            f.put("Prompt", FieldType.SINGLE_LINE_TEXT);
            f.put("Subject", FieldType.ATTACHMENT);
            f.put("References", FieldType.ATTACHMENT);
            f.put("Output", FieldType.ATTACHMENT);
            f.put("Output URL", FieldType.URL);
            f.put("Model", FieldType.SINGLE_LINE_TEXT);
            f.put("Size", FieldType.SINGLE_LINE_TEXT);
            f.put("Request IDs", FieldType.LONG_TEXT);
            f.put("Seen IDs", FieldType.LONG_TEXT);
            f.put("Failed IDs", FieldType.LONG_TEXT);
            f.put("Status", FieldType.SINGLE_SELECT);
            f.put("Run ID", FieldType.SINGLE_LINE_TEXT);
            f.put("Created At", FieldType.DATE);
            f.put("Last Update", FieldType.DATE);
            f.put("Completed At", FieldType.DATE);
            return new Config(0, "pat" + random(14) + "." + random(32), "app" + random(14), "Generations", f, 5, Duration.ofSeconds(30));
        }

        public Config withPort(int p) {
            return new Config(p, token, baseId, table, fields, requestsPerSecond, lockout);
        }

        public Config withToken(String t) {
            return new Config(port, t, baseId, table, fields, requestsPerSecond, lockout);
        }

        public Config withLockout(Duration d) {
            return new Config(port, token, baseId, table, fields, requestsPerSecond, d);
        }
    }

    /** One request as the emulator saw it, and its answer's status. */
    public record Seen(Instant at, String method, String path, int status) {}

    /** An attachment as stored: its read shape and its bytes (null when its URL could not be fetched). */
    record Attachment(String id, String url, String filename, String type, byte[] bytes) {}

    record Rec(String id, Instant createdTime, Map<String, Object> fields) {}

    private final Config config;
    private final HttpServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final HttpClient fetcher = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NORMAL).build();
    private final Map<String, Rec> records = Collections.synchronizedMap(new LinkedHashMap<>());
    private final Map<String, Attachment> attachments = new ConcurrentHashMap<>();
    private final Set<String> selectOptions = Collections.synchronizedSet(new LinkedHashSet<>(List.of("processing", "completed", "failed")));
    private final ArrayDeque<Instant> window = new ArrayDeque<>();
    private Instant lockedUntil = Instant.EPOCH;
    private volatile boolean down;
    private int perSecond;
    private Duration lockout;
    private final List<Seen> seen = new CopyOnWriteArrayList<>();

    private AirtableEmulator(Config config) throws IOException {
        this.config = config;
        this.perSecond = config.requestsPerSecond();
        this.lockout = config.lockout();
        this.server = EmulatorHttp.loopbackServer(config.port(), executor, this::handle);
    }

    public static AirtableEmulator start(Config config) {
        try {
            AirtableEmulator e = new AirtableEmulator(config);
            e.server.start();
            return e;
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot start the Airtable emulator", ex);
        }
    }

    public Config config() {
        return config;
    }

    public String baseUrl() {
        return EmulatorHttp.baseUrl(server);
    }

    /** Takes the service down (every request answers 503) or brings it back. */
    public void down(boolean isDown) {
        this.down = isDown;
    }

    /** Changes the rate limit per base and the lockout after it (tests of a client's back-off). */
    public synchronized void limits(int requestsPerSecond, Duration lockoutAfter) {
        this.perSecond = requestsPerSecond;
        this.lockout = lockoutAfter;
    }

    /** Starts the 429 lockout now, as when another client of the same base passed its limit. */
    public synchronized void lockOut() {
        lockedUntil = Instant.now().plus(lockout);
    }

    /** Every request so far, in order. */
    public List<Seen> requests() {
        return List.copyOf(seen);
    }

    /** The records of the table, as {@code GET} reads them. */
    public List<JsonNode> records() {
        synchronized (records) {
            return records.values().stream().map(r -> (JsonNode) read(r)).toList();
        }
    }

    /** The bytes of a stored attachment, or null when Airtable could not fetch its URL. */
    public byte[] attachmentBytes(String attachmentId) {
        Attachment a = attachments.get(attachmentId);
        return a == null ? null : a.bytes();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    // ------------------------------------------------------------------ HTTP

    private void handle(HttpExchange ex) {
        int status = 500;
        try (ex) {
            String path = ex.getRequestURI().getRawPath();
            if (path.startsWith("/attachments/")) {
                status = serveAttachment(ex, path);
                return;
            }
            ObjectNode body;
            int[] code = {200};
            try {
                body = route(ex, path, code);
            } catch (EmulatorHttp.Refused r) {
                code[0] = r.status;
                body = (ObjectNode) r.body;
            }
            status = code[0];
            answer(ex, status, body);
        } catch (IOException | RuntimeException e) {
            EmulatorHttp.answerQuietly(ex, 500, error("SERVER_ERROR", "An internal error occurred"));
        } finally {
            seen.add(new Seen(Instant.now(), ex.getRequestMethod(), ex.getRequestURI().getRawPath(), status));
        }
    }

    private ObjectNode route(HttpExchange ex, String path, int[] code) throws IOException {
        if (down) throw refused(503, "SERVICE_UNAVAILABLE", "The service is temporarily unavailable. Please retry shortly.");
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (auth == null || !auth.equals("Bearer " + config.token())) {
            throw refused(401, "AUTHENTICATION_REQUIRED", "Authentication required");
        }
        String[] parts = path.split("/");
        // "", "v0", base, ...
        if (parts.length < 4 || !parts[1].equals("v0")) throw notFound();
        String base = decode(parts[2]);
        if (!base.equals(config.baseId())) throw noModel();
        rateLimit();
        String method = ex.getRequestMethod();
        if (parts.length == 6 && parts[5].equals("uploadAttachment") && method.equals("POST")) {
            return upload(decode(parts[3]), decode(parts[4]), EmulatorHttp.readBody(ex, MAX_UPLOAD_BYTES * 2, tooLarge()));
        }
        String table = decode(parts[3]);
        if (!table.equals(config.table())) throw noModel();
        String recordId = parts.length >= 5 ? decode(parts[4]) : null;
        if (parts.length > 5) throw notFound();
        return switch (method) {
            case "GET" -> recordId == null ? list(ex) : read(find(recordId));
            case "POST" -> {
                if (recordId != null) throw notFound();
                yield create(json(ex));
            }
            case "PATCH", "PUT" -> recordId == null ? updateMany(json(ex), method.equals("PUT")) : updateOne(recordId, json(ex), method.equals("PUT"));
            default -> throw notFound();
        };
    }

    /** 5 requests per second per base; the one over answers 429, and so does every request for the lockout after it. */
    private synchronized void rateLimit() {
        Instant now = Instant.now();
        if (now.isBefore(lockedUntil)) throw rateLimited();
        while (!window.isEmpty() && !window.peekFirst().isAfter(now.minusSeconds(1))) window.pollFirst();
        if (window.size() >= perSecond) {
            lockedUntil = now.plus(lockout);
            throw rateLimited();
        }
        window.addLast(now);
    }

    private static EmulatorHttp.Refused rateLimited() {
        return refused(429, "RATE_LIMIT_REACHED", "Rate limit exceeded. Please try again later");
    }

    private ObjectNode list(HttpExchange ex) {
        int pageSize = intParam(ex, "pageSize", 100);
        if (pageSize < 1 || pageSize > 100) throw refused(422, "INVALID_REQUEST_UNKNOWN", "Invalid request: parameter validation failed. Check your request data.");
        int max = intParam(ex, "maxRecords", Integer.MAX_VALUE);
        int from = 0;
        String offset = EmulatorHttp.queryParam(ex, "offset");
        if (offset != null) {
            try {
                from = Integer.parseInt(offset.substring(offset.indexOf('/') + 1));
            } catch (RuntimeException e) {
                throw refused(422, "LIST_RECORDS_ITERATOR_NOT_AVAILABLE", "The iterator is not available");
            }
        }
        List<Rec> all;
        synchronized (records) {
            all = new ArrayList<>(records.values());
        }
        int end = Math.min(Math.min(all.size(), max), from + pageSize);
        ObjectNode out = Json.object();
        ArrayNode arr = out.putArray("records");
        for (int i = from; i < end; i++) arr.add(read(all.get(i)));
        if (end < Math.min(all.size(), max)) out.put("offset", "itr" + random(14) + "/" + end);
        return out;
    }

    private ObjectNode create(ObjectNode body) {
        boolean typecast = body.path("typecast").asBoolean(false);
        JsonNode recs = body.get("records");
        List<Map<String, Object>> prepared = new ArrayList<>();
        if (recs == null) {
            // A single record may be sent as {fields} (create-records: "fields" instead of "records").
            if (!body.has("fields")) throw refused(422, "INVALID_REQUEST_MISSING_FIELDS", "Could not find field \"fields\" in the request body");
            prepared.add(fields(body.get("fields"), typecast, Map.of(), false));
            Rec r = insert(prepared.getFirst());
            return read(r);
        }
        checkRecords(recs);
        for (JsonNode r : recs) prepared.add(fields(r.get("fields"), typecast, Map.of(), false));
        ObjectNode out = Json.object();
        ArrayNode arr = out.putArray("records");
        for (Map<String, Object> f : prepared) arr.add(read(insert(f)));
        return out;
    }

    private ObjectNode updateMany(ObjectNode body, boolean replace) {
        boolean typecast = body.path("typecast").asBoolean(false);
        JsonNode recs = body.get("records");
        if (recs == null) throw refused(422, "INVALID_REQUEST_MISSING_FIELDS", "Could not find field \"records\" in the request body");
        checkRecords(recs);
        List<Rec> targets = new ArrayList<>();
        List<Map<String, Object>> changes = new ArrayList<>();
        for (JsonNode r : recs) {
            Rec rec = find(r.path("id").asString(""));
            targets.add(rec);
            changes.add(fields(r.get("fields"), typecast, rec.fields(), replace));
        }
        ObjectNode out = Json.object();
        ArrayNode arr = out.putArray("records");
        for (int i = 0; i < targets.size(); i++) arr.add(read(apply(targets.get(i), changes.get(i), replace)));
        return out;
    }

    private ObjectNode updateOne(String id, ObjectNode body, boolean replace) {
        Rec rec = find(id);
        return read(apply(rec, fields(body.get("fields"), body.path("typecast").asBoolean(false), rec.fields(), replace), replace));
    }

    private static void checkRecords(JsonNode recs) {
        if (!recs.isArray()) throw refused(422, "INVALID_RECORDS", "Invalid records: \"records\" must be an array");
        if (recs.size() > MAX_RECORDS_PER_REQUEST) {
            throw refused(422, "INVALID_RECORDS", "You may only create, update or delete up to " + MAX_RECORDS_PER_REQUEST
                    + " records per request; got " + recs.size());
        }
    }

    private Rec insert(Map<String, Object> fields) {
        Rec r = new Rec("rec" + random(14), Instant.now(), new LinkedHashMap<>(fields));
        records.put(r.id(), r);
        return r;
    }

    private Rec apply(Rec rec, Map<String, Object> changes, boolean replace) {
        synchronized (records) {
            if (replace) rec.fields().clear();
            changes.forEach((k, v) -> {
                if (v == null) rec.fields().remove(k);
                else rec.fields().put(k, v);
            });
        }
        return rec;
    }

    private Rec find(String id) {
        Rec r = records.get(id);
        if (r == null) throw refused(404, "NOT_FOUND", "Could not find record " + id);
        return r;
    }

    /** Checks and converts the cell values of one record; an empty value clears the cell. */
    private Map<String, Object> fields(JsonNode given, boolean typecast, Map<String, Object> current, boolean replace) {
        if (given == null || !given.isObject()) throw refused(422, "INVALID_REQUEST_MISSING_FIELDS", "Could not find field \"fields\" in the request body");
        Map<String, Object> out = new LinkedHashMap<>();
        for (String name : given.propertyNames()) {
            FieldType type = config.fields().get(name);
            if (type == null) throw refused(422, "UNKNOWN_FIELD_NAME", "Unknown field name: \"" + name + "\"");
            JsonNode v = given.get(name);
            out.put(name, v == null || v.isNull() ? null : cell(name, type, v, typecast));
        }
        return out;
    }

    private Object cell(String name, FieldType type, JsonNode v, boolean typecast) {
        return switch (type) {
            case SINGLE_LINE_TEXT, LONG_TEXT, URL -> {
                if (v.isString()) yield v.asString();
                if (typecast && (v.isNumber() || v.isBoolean())) yield v.asString();
                throw cannotAccept(name, v);
            }
            case NUMBER -> {
                if (v.isNumber()) yield v.numberValue();
                if (typecast && v.isString()) {
                    try {
                        yield Double.parseDouble(v.asString());
                    } catch (NumberFormatException e) {
                        throw cannotAccept(name, v);
                    }
                }
                throw cannotAccept(name, v);
            }
            case DATE -> {
                if (!v.isString()) throw cannotAccept(name, v);
                try {
                    yield Instant.parse(v.asString()).toString();
                } catch (RuntimeException e) {
                    if (v.asString().matches("\\d{4}-\\d{2}-\\d{2}")) yield v.asString();
                    throw cannotAccept(name, v);
                }
            }
            case SINGLE_SELECT -> {
                if (!v.isString()) throw cannotAccept(name, v);
                String option = v.asString();
                if (!selectOptions.contains(option)) {
                    if (!typecast) {
                        throw refused(422, "INVALID_MULTIPLE_CHOICE_OPTIONS", "Insufficient permissions to create new select option \"\"" + option + "\"\"");
                    }
                    selectOptions.add(option);
                }
                yield option;
            }
            case ATTACHMENT -> {
                if (!v.isArray()) throw cannotAccept(name, v);
                List<Attachment> list = new ArrayList<>();
                for (JsonNode a : v) {
                    if (a.hasNonNull("id") && attachments.containsKey(a.get("id").asString())) {
                        list.add(attachments.get(a.get("id").asString()));
                    } else if (a.hasNonNull("url") && a.get("url").isString()) {
                        list.add(fetch(a.get("url").asString(), a.path("filename").asString(null)));
                    } else {
                        throw cannotAccept(name, v);
                    }
                }
                yield list;
            }
        };
    }

    /** Airtable downloads a written attachment URL and re-hosts the file. */
    private Attachment fetch(String url, String filename) {
        byte[] bytes = null;
        String type = "application/octet-stream";
        try {
            HttpResponse<byte[]> r = fetcher.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20)).GET().build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() == 200) {
                bytes = r.body();
                type = r.headers().firstValue("Content-Type").orElse(type);
            }
        } catch (IOException | RuntimeException e) {
            // Kept as Airtable keeps it: an attachment whose file never arrived.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String name = filename != null ? filename : url.replaceAll("[?#].*$", "").replaceAll(".*/", "");
        return store(name.isEmpty() ? "file" : name, type, bytes);
    }

    private Attachment store(String filename, String type, byte[] bytes) {
        String id = "att" + random(14);
        Attachment a = new Attachment(id, baseUrl() + "/attachments/" + id + "/" + URLEncoderUtf8.encode(filename), filename, type, bytes);
        attachments.put(id, a);
        return a;
    }

    private ObjectNode upload(String recordId, String field, byte[] raw) {
        ObjectNode body = EmulatorHttp.jsonObject(raw);
        if (body == null) throw refused(422, "INVALID_REQUEST_UNKNOWN", "Invalid request: parameter validation failed. Check your request data.");
        Rec rec = find(recordId);
        String name = fieldName(field);
        if (name == null) throw refused(422, "UNKNOWN_FIELD_NAME", "Unknown field name: \"" + field + "\"");
        if (config.fields().get(name) != FieldType.ATTACHMENT) throw refused(422, "INVALID_VALUE_FOR_COLUMN", "Field \"" + name + "\" is not an attachment field");
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(body.path("file").asString(""));
        } catch (IllegalArgumentException e) {
            throw refused(422, "INVALID_REQUEST_UNKNOWN", "Invalid request: \"file\" must be base64");
        }
        if (bytes.length == 0 || !body.path("contentType").isString() || !body.path("filename").isString()) {
            throw refused(422, "INVALID_REQUEST_UNKNOWN", "Invalid request: contentType, file and filename are required");
        }
        if (bytes.length > MAX_UPLOAD_BYTES) throw tooLargeRefusal();
        Attachment a = store(body.get("filename").asString(), body.get("contentType").asString(), bytes);
        synchronized (records) {
            @SuppressWarnings("unchecked")
            List<Attachment> cell = (List<Attachment>) rec.fields().computeIfAbsent(name, k -> new ArrayList<Attachment>());
            cell.add(a);
        }
        // The answer keys the record's fields by field id (upload-attachment's response).
        ObjectNode out = Json.object();
        out.put("id", rec.id());
        out.put("createdTime", rec.createdTime().toString());
        ObjectNode fields = out.putObject("fields");
        synchronized (records) {
            fields.set(fieldId(name), value(rec.fields().get(name)));
        }
        return out;
    }

    private String fieldName(String idOrName) {
        if (config.fields().containsKey(idOrName)) return idOrName;
        for (String n : config.fields().keySet()) if (fieldId(n).equals(idOrName)) return n;
        return null;
    }

    private String fieldId(String name) {
        int i = new ArrayList<>(config.fields().keySet()).indexOf(name);
        return "fld" + String.format("%014d", i + 1);
    }

    private int serveAttachment(HttpExchange ex, String path) throws IOException {
        String[] parts = path.split("/");
        Attachment a = parts.length >= 3 ? attachments.get(parts[2]) : null;
        if (a == null || a.bytes() == null) {
            EmulatorHttp.send(ex, 404, "text/plain", "Not found".getBytes(StandardCharsets.UTF_8), Map.of());
            return 404;
        }
        EmulatorHttp.send(ex, 200, a.type(), a.bytes(), Map.of());
        return 200;
    }

    // ------------------------------------------------------------------ shapes

    private ObjectNode read(Rec r) {
        ObjectNode o = Json.object();
        o.put("id", r.id());
        o.put("createdTime", r.createdTime().toString());
        ObjectNode f = o.putObject("fields");
        synchronized (records) {
            // Empty cells are left out, as Airtable leaves them out.
            r.fields().forEach((k, v) -> {
                JsonNode n = value(v);
                if (n != null && !(n.isArray() && n.isEmpty()) && !(n.isString() && n.asString().isEmpty())) f.set(k, n);
            });
        }
        return o;
    }

    private JsonNode value(Object v) {
        if (v == null) return null;
        if (v instanceof List<?> list) {
            ArrayNode arr = Json.MAPPER.createArrayNode();
            for (Object o : list) {
                Attachment a = (Attachment) o;
                ObjectNode n = arr.addObject();
                n.put("id", a.id());
                n.put("url", a.url());
                n.put("filename", a.filename());
                n.put("size", a.bytes() == null ? 0 : a.bytes().length);
                n.put("type", a.type());
            }
            return arr;
        }
        return Json.MAPPER.valueToTree(v);
    }

    private static ObjectNode json(HttpExchange ex) throws IOException {
        byte[] raw = EmulatorHttp.readBody(ex, 10 * 1024 * 1024, tooLarge());
        ObjectNode body = EmulatorHttp.jsonObject(raw);
        if (body == null) throw refused(422, "INVALID_REQUEST_UNKNOWN", "Invalid request: parameter validation failed. Check your request data.");
        return body;
    }

    private static ObjectNode error(String type, String message) {
        ObjectNode o = Json.object();
        ObjectNode e = o.putObject("error");
        e.put("type", type);
        e.put("message", message);
        return o;
    }

    static EmulatorHttp.Refused refused(int status, String type, String message) {
        return new EmulatorHttp.Refused(status, error(type, message));
    }

    private static EmulatorHttp.Refused cannotAccept(String field, JsonNode v) {
        return refused(422, "INVALID_VALUE_FOR_COLUMN", "Field \"" + field + "\" cannot accept the provided value");
    }

    private static EmulatorHttp.Refused notFound() {
        // Some of Airtable's 404s carry the error as a plain string.
        ObjectNode o = Json.object();
        o.put("error", "NOT_FOUND");
        return new EmulatorHttp.Refused(404, o);
    }

    private static EmulatorHttp.Refused noModel() {
        return refused(403, "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND", "Invalid permissions, or the requested model was not found. Check that both "
                + "your user and your token have the required permissions, and that the model names and/or ids are correct.");
    }

    private static ObjectNode tooLarge() {
        return error("REQUEST_TOO_LARGE", "Request body is too large");
    }

    private static EmulatorHttp.Refused tooLargeRefusal() {
        return new EmulatorHttp.Refused(413, tooLarge());
    }

    private static int intParam(HttpExchange ex, String name, int dflt) {
        String v = EmulatorHttp.queryParam(ex, name);
        if (v == null) return dflt;
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw refused(422, "INVALID_REQUEST_UNKNOWN", "Invalid request: parameter validation failed. Check your request data.");
        }
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    static String random(int n) {
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) sb.append(ALNUM.charAt(RANDOM.nextInt(ALNUM.length())));
        return sb.toString();
    }

    /** Percent-encoding for a path segment. */
    private static final class URLEncoderUtf8 {
        static String encode(String s) {
            return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
        }
    }
}
