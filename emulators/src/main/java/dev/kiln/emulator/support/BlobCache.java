package dev.kiln.emulator.support;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Byte blobs kept in memory up to a total size, least recently used first out. The emulator keeps
 * two: rendered outputs (a miss just renders again) and uploaded media (a miss is an expired
 * upload, as on the real service after 7 days).
 */
public final class BlobCache {

    /** A stored file. */
    public record Blob(byte[] bytes, String contentType, String filename) {}

    private final long maxBytes;
    private final LinkedHashMap<String, Blob> map = new LinkedHashMap<>(64, 0.75f, true);
    private long bytes;

    public BlobCache(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    public synchronized Blob get(String key) {
        return map.get(key);
    }

    /** Stores a blob; one larger than the whole budget is not kept. */
    public synchronized void put(String key, Blob blob) {
        Blob old = map.remove(key);
        if (old != null) bytes -= old.bytes().length;
        if (blob.bytes().length > maxBytes) return;
        map.put(key, blob);
        bytes += blob.bytes().length;
        Iterator<Map.Entry<String, Blob>> it = map.entrySet().iterator();
        while (bytes > maxBytes && it.hasNext()) {
            bytes -= it.next().getValue().bytes().length;
            it.remove();
        }
    }

    public synchronized void clear() {
        map.clear();
        bytes = 0;
    }
}
