package dev.kiln.archive.airtable;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Airtable's Web API as the archive uses it, keeping Airtable's rules
 * (https://airtable.com/developers/web/api/rate-limits): at most {@value #PER_SECOND} requests in
 * any second to the base (with a margin for the network), at most {@value #MAX_RECORDS} records
 * per write (https://airtable.com/developers/web/api/create-records), and after a 429 no request
 * at all for the wait Airtable asks (30 s). Writes use {@code typecast: true}, so a Status the
 * table's select does not list yet is added rather than refused.
 */
final class AirtableClient {
    static final int PER_SECOND = 5;
    static final int MAX_RECORDS = 10;
    /** Kept between the first and the sixth request on top of the second, for clocks and the network. */
    private static final long MARGIN_MS = 150;

    private final AirtableSettings settings;
    private final JsonMapper json;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final ArrayDeque<Long> recent = new ArrayDeque<>();
    private long pausedUntil;
    private long requests;
    private long rateLimited;

    AirtableClient(AirtableSettings settings, JsonMapper json) {
        this.settings = settings;
        this.json = json;
    }

    /** A record to write: its id (null to create it) and its fields by name. */
    record Write(String id, Map<String, Object> fields) {}

    /** Creates up to ten records; returns their ids in order. */
    List<String> create(List<Write> records) throws AirtableException, InterruptedException {
        JsonNode r = send("POST", tableUri(), body(records, false));
        return ids(r, records.size());
    }

    /** Updates up to ten records, changing only the fields given (PATCH). */
    void update(List<Write> records) throws AirtableException, InterruptedException {
        JsonNode r = send("PATCH", tableUri(), body(records, true));
        ids(r, records.size());
    }

    /**
     * Appends one file to an attachment cell through Airtable's upload endpoint (at most 5 MB,
     * https://airtable.com/developers/web/api/upload-attachment); returns the URL Airtable serves it at.
     */
    String upload(String recordId, String field, String contentType, byte[] bytes, String filename)
            throws AirtableException, InterruptedException {
        ObjectNode b = json.createObjectNode();
        b.put("contentType", contentType);
        b.put("file", Base64.getEncoder().encodeToString(bytes));
        b.put("filename", filename);
        URI uri = URI.create(settings.contentUrl() + "/v0/" + seg(settings.baseId()) + "/" + seg(recordId) + "/" + seg(field) + "/uploadAttachment");
        JsonNode r = send("POST", uri, b);
        String url = null;
        for (JsonNode cell : r.path("fields")) {
            if (cell.isArray() && !cell.isEmpty()) url = cell.get(cell.size() - 1).path("url").asString(null);
        }
        return url;
    }

    /** How many requests were sent, and how many Airtable answered 429. */
    synchronized long[] counts() {
        return new long[] {requests, rateLimited};
    }

    /** Until when (epoch ms) the client sends nothing after a 429; 0 when it is not waiting. */
    synchronized long pausedUntil() {
        return pausedUntil > System.currentTimeMillis() ? pausedUntil : 0;
    }

    private ObjectNode body(List<Write> records, boolean withIds) {
        if (records.isEmpty() || records.size() > MAX_RECORDS) throw new IllegalArgumentException("1 to " + MAX_RECORDS + " records per request");
        ObjectNode b = json.createObjectNode();
        ArrayNode arr = b.putArray("records");
        for (Write w : records) {
            ObjectNode r = arr.addObject();
            if (withIds) r.put("id", w.id());
            r.set("fields", json.valueToTree(w.fields()));
        }
        b.put("typecast", true);
        return b;
    }

    private static List<String> ids(JsonNode r, int expected) throws AirtableException {
        JsonNode recs = r.path("records");
        if (!recs.isArray() || recs.size() != expected) throw new AirtableException(200, null, "Airtable answered without the records written");
        return java.util.stream.StreamSupport.stream(recs.spliterator(), false).map(n -> n.path("id").asString()).toList();
    }

    private URI tableUri() {
        return URI.create(settings.apiUrl() + "/v0/" + seg(settings.baseId()) + "/" + seg(settings.table()));
    }

    private static String seg(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private JsonNode send(String method, URI uri, JsonNode body) throws AirtableException, InterruptedException {
        pace();
        HttpRequest req = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + settings.token())
                .header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofByteArray(json.writeValueAsBytes(body))).build();
        HttpResponse<byte[]> r;
        try {
            r = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new AirtableException(0, null, "Airtable could not be reached: " + e.getClass().getSimpleName());
        }
        JsonNode answer;
        try {
            answer = r.body().length == 0 ? json.createObjectNode() : json.readTree(r.body());
        } catch (RuntimeException e) {
            answer = json.createObjectNode();
        }
        if (r.statusCode() == 429) {
            synchronized (this) {
                rateLimited++;
                pausedUntil = System.currentTimeMillis() + settings.rateLimitWait().toMillis();
            }
        }
        if (r.statusCode() / 100 != 2) {
            JsonNode e = answer.path("error");
            String type = e.isString() ? e.asString() : e.path("type").asString(null);
            String message = e.isObject() ? e.path("message").asString("") : "";
            throw new AirtableException(r.statusCode(), type, message.isEmpty() ? "Airtable answered " + r.statusCode() : message);
        }
        return answer;
    }

    /** Waits until a request keeps Airtable's limits, and counts it. */
    private void pace() throws InterruptedException {
        while (true) {
            long wait;
            synchronized (this) {
                long now = System.currentTimeMillis();
                while (!recent.isEmpty() && recent.peekFirst() <= now - 1000 - MARGIN_MS) recent.pollFirst();
                if (pausedUntil > now) {
                    wait = pausedUntil - now;
                } else if (recent.size() >= PER_SECOND) {
                    wait = recent.peekFirst() + 1000 + MARGIN_MS - now;
                } else {
                    recent.addLast(now);
                    requests++;
                    return;
                }
            }
            Thread.sleep(Math.max(1, wait));
        }
    }
}
