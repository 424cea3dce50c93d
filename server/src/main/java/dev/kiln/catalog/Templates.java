package dev.kiln.catalog;

import dev.kiln.support.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Fills binding templates: JSON whose strings may hold {@code ${name}} placeholders.
 *
 * <ul>
 *   <li>A string that is exactly one placeholder becomes the typed value ({@code "${width}"} → 512);
 *       if the value is absent the field is dropped (or the array element, if in an array).
 *   <li>Placeholders inside a longer string are interpolated as text ({@code "${width}*${height}"}).
 *   <li>{@code ${images.NAME}} is the list of that input's images and {@code ${images.NAME[i]}} one
 *       of them, each turned into JSON by the adapter's mapper (an uploaded URL, a file name...).
 * </ul>
 *
 * The same mechanism fills provider request bodies and ComfyUI workflow graphs.
 */
public final class Templates {
    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([A-Za-z0-9_.\\[\\]-]+)}");
    private static final Pattern IMAGE_REF = Pattern.compile("images\\.([A-Za-z0-9_-]+)(?:\\[(\\d+)])?");

    private Templates() {}

    /**
     * @param <I> how the caller represents an image (the provider SPI's {@code InputImage})
     */
    public static <I> JsonNode render(JsonNode template, Map<String, Object> values,
                                      Map<String, List<I>> images, Function<I, JsonNode> imageMapper) {
        if (template == null) return Json.object();
        JsonNode out = renderNode(template, new Context<>(values, images, imageMapper));
        return out == null ? JsonNodeFactory.instance.nullNode() : out;
    }

    /** The names a template refers to, e.g. {@code width} or {@code images.reference}, for load-time checks. */
    public static List<String> placeholders(JsonNode template) {
        List<String> names = new ArrayList<>();
        collect(template, names);
        return names;
    }

    private static void collect(JsonNode n, List<String> names) {
        if (n == null) return;
        if (n.isString()) {
            Matcher m = PLACEHOLDER.matcher(n.asString());
            while (m.find()) names.add(m.group(1));
        } else if (n.isContainer()) {
            for (JsonNode c : n) collect(c, names);
        }
    }

    private record Context<I>(Map<String, Object> values, Map<String, List<I>> images, Function<I, JsonNode> mapper) {}

    private static JsonNode renderNode(JsonNode n, Context<?> ctx) {
        if (n.isObject()) {
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            n.properties().forEach(e -> {
                JsonNode v = renderNode(e.getValue(), ctx);
                if (v != null) o.set(e.getKey(), v);
            });
            return o;
        }
        if (n.isArray()) {
            ArrayNode a = JsonNodeFactory.instance.arrayNode();
            for (JsonNode c : n) {
                JsonNode v = renderNode(c, ctx);
                if (v != null) a.add(v);
            }
            return a;
        }
        if (!n.isString()) return n.deepCopy();
        String s = n.asString();
        Matcher whole = PLACEHOLDER.matcher(s);
        if (whole.matches()) return lookup(whole.group(1), ctx);
        Matcher m = PLACEHOLDER.matcher(s);
        StringBuilder sb = new StringBuilder();
        boolean any = false;
        while (m.find()) {
            any = true;
            JsonNode v = lookup(m.group(1), ctx);
            String text = v == null || v.isNull() ? "" : v.isString() ? v.asString() : v.toString();
            m.appendReplacement(sb, Matcher.quoteReplacement(text));
        }
        if (!any) return n.deepCopy();
        m.appendTail(sb);
        return JsonNodeFactory.instance.stringNode(sb.toString());
    }

    private static <I> JsonNode lookup(String name, Context<I> ctx) {
        Matcher im = IMAGE_REF.matcher(name);
        if (im.matches()) {
            List<I> list = ctx.images().getOrDefault(im.group(1), List.of());
            if (im.group(2) != null) {
                int i = Integer.parseInt(im.group(2));
                return i < list.size() ? ctx.mapper().apply(list.get(i)) : null;
            }
            if (list.isEmpty()) return null;
            ArrayNode a = JsonNodeFactory.instance.arrayNode();
            list.forEach(img -> a.add(ctx.mapper().apply(img)));
            return a;
        }
        if (!ctx.values().containsKey(name)) return null;
        Object v = ctx.values().get(name);
        return v == null ? null : Json.tree(v);
    }
}
