package dev.kiln.provider.replicate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.provider.replicate.ReplicateResults.Comparison;
import dev.kiln.support.Json;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

class ReplicateResultsTest {
    private static JsonNode wanted(String json, String imageField) {
        ObjectNode w = (ObjectNode) Json.parse(json);
        JsonNode f = w.get(imageField);
        if (f instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) a.set(i, ReplicateResults.ANY_IMAGE);
        } else {
            w.set(imageField, ReplicateResults.ANY_IMAGE);
        }
        return w;
    }

    @Test
    void aSucceededPredictionCarriesItsPredictTime() {
        JsonNode p = Json.parse("{\"id\":\"p1\",\"status\":\"succeeded\",\"output\":[\"https://replicate.delivery/a.png\"],"
                + "\"metrics\":{\"predict_time\":5.23,\"total_time\":6.1}}");
        var s = (dev.kiln.provider.RemoteStatus.Succeeded) ReplicateResults.status(p);
        assertThat(s.runTime()).isEqualTo(java.time.Duration.ofMillis(5230));
        JsonNode without = Json.parse("{\"id\":\"p2\",\"status\":\"succeeded\",\"output\":\"https://replicate.delivery/b.png\"}");
        assertThat(((dev.kiln.provider.RemoteStatus.Succeeded) ReplicateResults.status(without)).runTime()).isNull();
        JsonNode bad = Json.parse("{\"id\":\"p3\",\"status\":\"succeeded\",\"output\":\"https://x/c.png\",\"metrics\":{\"predict_time\":\"soon\"}}");
        assertThat(((dev.kiln.provider.RemoteStatus.Succeeded) ReplicateResults.status(bad)).runTime()).isNull();
    }

    @Test
    void inputsCompareByValueImagesMatchAnyUrlAndAMissingImageCannotBeTold() {
        JsonNode w = wanted("{\"prompt\":\"p\",\"scale\":2,\"image\":\"x\"}", "image");
        assertThat(ReplicateResults.compare(w, Json.parse("{\"prompt\":\"p\",\"scale\":2.0,\"image\":\"https://u/1.png\",\"extra\":1}")))
                .isEqualTo(Comparison.SAME);
        assertThat(ReplicateResults.compare(w, Json.parse("{\"prompt\":\"p\",\"scale\":2}"))).isEqualTo(Comparison.CANNOT_TELL);
        assertThat(ReplicateResults.compare(w, Json.parse("{\"prompt\":\"q\",\"scale\":2}"))).as("differs elsewhere").isEqualTo(Comparison.DIFFERENT);
        assertThat(ReplicateResults.compare(w, Json.parse("{\"prompt\":\"p\",\"scale\":3,\"image\":\"u\"}"))).isEqualTo(Comparison.DIFFERENT);

        JsonNode list = wanted("{\"prompt\":\"p\",\"image_input\":[\"a\",\"b\"]}", "image_input");
        assertThat(ReplicateResults.compare(list, Json.parse("{\"prompt\":\"p\",\"image_input\":[\"u\",\"v\"]}"))).isEqualTo(Comparison.SAME);
        assertThat(ReplicateResults.compare(list, Json.parse("{\"prompt\":\"p\",\"image_input\":[\"u\"]}"))).isEqualTo(Comparison.CANNOT_TELL);
        assertThat(ReplicateResults.compare(list, Json.parse("{\"prompt\":\"p\",\"image_input\":[]}"))).isEqualTo(Comparison.CANNOT_TELL);
        assertThat(ReplicateResults.compare(list, Json.parse("{\"prompt\":\"p\"}"))).isEqualTo(Comparison.CANNOT_TELL);
        assertThat(ReplicateResults.compare(Json.parse("{\"tags\":[\"a\"]}"), Json.parse("{}"))).as("not images").isEqualTo(Comparison.DIFFERENT);
    }
}
