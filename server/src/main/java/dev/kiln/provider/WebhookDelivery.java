package dev.kiln.provider;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** A webhook as received: raw body bytes (signatures cover them) and headers, names case-insensitive. */
public record WebhookDelivery(Map<String, List<String>> headers, byte[] body, Instant receivedAt) {

    public WebhookDelivery {
        TreeMap<String, List<String>> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        h.putAll(headers);
        headers = h;
    }

    public String header(String name) {
        List<String> v = headers.get(name);
        return v == null || v.isEmpty() ? null : v.getFirst();
    }
}
