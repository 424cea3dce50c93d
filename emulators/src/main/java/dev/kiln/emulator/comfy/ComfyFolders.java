package dev.kiln.emulator.comfy;

import dev.kiln.emulator.comfy.ComfyMachine;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A ComfyUI's {@code input}, {@code output} and {@code temp} folders, in memory and bounded: the
 * oldest outputs are dropped when the total passes the limit (inputs are kept). Output names are
 * numbered per prefix as ComfyUI numbers them ({@code pony_00001_.png}, {@code pony_00002_.png}).
 */
public final class ComfyFolders implements ComfyMachine.Storage {
    private final long maxBytes;
    private final Map<String, byte[]> files = new LinkedHashMap<>();
    private final Map<String, Integer> counters = new HashMap<>();
    private long bytes;

    public ComfyFolders(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    public static String key(String type, String subfolder, String name) {
        return type + "/" + (subfolder == null ? "" : subfolder) + "/" + name;
    }

    @Override
    public synchronized byte[] input(String name) {
        int slash = name.lastIndexOf('/');
        return slash < 0 ? files.get(key("input", "", name)) : files.get(key("input", name.substring(0, slash), name.substring(slash + 1)));
    }

    @Override
    public synchronized String save(String type, String subfolder, String prefix, String suffix, byte[] content) {
        String counterKey = type + "/" + subfolder + "/" + prefix + "\u0000" + suffix;
        int n = counters.getOrDefault(counterKey, 0);
        String name;
        do {
            // Concatenated, never formatted: a '%' in filename_prefix is part of the name.
            name = prefix + "_" + String.format(java.util.Locale.ROOT, "%05d", ++n) + suffix;
        } while (files.containsKey(key(type, subfolder, name)));
        counters.put(counterKey, n);
        put(key(type, subfolder, name), content);
        return name;
    }

    public synchronized byte[] get(String type, String subfolder, String name) {
        return files.get(key(type, subfolder, name));
    }

    /**
     * Stores an upload as ComfyUI's {@code /upload/image} does: with {@code overwrite} the name is
     * kept; without it identical bytes reuse the name and different ones get {@code "name (1).ext"}.
     * Returns the name used.
     */
    public synchronized String upload(String type, String subfolder, String name, byte[] content, boolean overwrite) {
        String used = name;
        if (!overwrite) {
            int dot = name.lastIndexOf('.');
            String stem = dot < 0 ? name : name.substring(0, dot), ext = dot < 0 ? "" : name.substring(dot);
            for (int i = 1; files.containsKey(key(type, subfolder, used)) && !Arrays.equals(files.get(key(type, subfolder, used)), content); i++) {
                used = stem + " (" + i + ")" + ext;
            }
        }
        put(key(type, subfolder, used), content);
        return used;
    }

    /** The names of the uploaded inputs (with their subfolder, as LoadImage names them). */
    public synchronized List<String> inputNames() {
        List<String> out = new ArrayList<>();
        for (String k : files.keySet()) {
            if (!k.startsWith("input/")) continue;
            String rest = k.substring("input/".length());
            out.add(rest.startsWith("/") ? rest.substring(1) : rest);
        }
        return out;
    }

    public synchronized void clear() {
        files.clear();
        counters.clear();
        bytes = 0;
    }

    private void put(String key, byte[] content) {
        byte[] old = files.remove(key);
        if (old != null) bytes -= old.length;
        files.put(key, content);
        bytes += content.length;
        for (Iterator<Map.Entry<String, byte[]>> it = files.entrySet().iterator(); bytes > maxBytes && it.hasNext(); ) {
            Map.Entry<String, byte[]> e = it.next();
            if (e.getKey().startsWith("input/") || e.getKey().equals(key)) continue;
            bytes -= e.getValue().length;
            it.remove();
        }
    }
}
