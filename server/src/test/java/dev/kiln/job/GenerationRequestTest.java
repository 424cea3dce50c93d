package dev.kiln.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.support.FieldError;
import dev.kiln.support.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The typed request seed façades build: checked exactly as a /v1 body, errors under /v1 field names. */
class GenerationRequestTest {

    @Test
    void aTypedRequestIsCheckedLikeTheSameJsonBody() {
        GenerationRequest typed = GenerationRequest.of("sandbox-image").prompt("a fox").param("width", 768).param("seed", 7)
                .negativePrompt("blur").priority(2).origin("000").build();
        List<FieldError> errors = new ArrayList<>();
        JobRequest fromTyped = JobRequest.check(typed, false, JobRequestTest.CATALOG, errors);
        assertThat(errors).isEmpty();
        JobRequest fromJson = JobRequest.parse(Json.parse("""
                {"model":"sandbox-image","prompt":"a fox","negative_prompt":"blur","priority":2,"params":{"width":768,"seed":7}}"""),
                false, JobRequestTest.CATALOG, new ArrayList<>());
        assertThat(fromTyped.params()).isEqualTo(fromJson.params());
        assertThat(fromTyped.prompts()).isEqualTo(fromJson.prompts());
        assertThat(fromTyped.negativePrompt()).isEqualTo(fromJson.negativePrompt());
        assertThat(fromTyped.origin()).isEqualTo("000");
        assertThat(fromJson.origin()).isEqualTo(GenerationRequest.V1);
    }

    @Test
    void everyBadValueIsReportedUnderItsV1Name() {
        GenerationRequest bad = GenerationRequest.of("sandbox-image").prompt(" ").param("width", 5000).param("bogus", true)
                .image("reference", "ftp://example.com/x.png").priority(11)
                .webhook(new GenerationRequest.ClientWebhook("not a url", List.of("done"))).build();
        List<FieldError> errors = new ArrayList<>();
        JobRequest.check(bad, false, JobRequestTest.CATALOG, errors);
        assertThat(errors).extracting(FieldError::field).contains("prompt", "params.width", "params.bogus",
                "images.reference[0]", "priority", "webhook.url", "webhook.events[0]");
    }

    @Test
    void aRunTakesPromptsCountAndGrid() {
        GenerationRequest run = GenerationRequest.of("sandbox-image").prompts(List.of("a", "b")).count(2)
                .grid("width", List.of(256, 512)).build();
        List<FieldError> errors = new ArrayList<>();
        JobRequest r = JobRequest.check(run, true, JobRequestTest.CATALOG, errors);
        assertThat(errors).isEmpty();
        assertThat(r.jobCount()).isEqualTo(2 * 2 * 2);
        assertThat(r.grid()).isEqualTo(Map.of("width", List.of(256L, 512L)));

        List<FieldError> single = new ArrayList<>();
        JobRequest.check(run, false, JobRequestTest.CATALOG, single);
        assertThat(single).extracting(FieldError::field).contains("prompt");
    }

    @Test
    void anUnknownModelIsNamed() {
        List<FieldError> errors = new ArrayList<>();
        assertThat(JobRequest.check(GenerationRequest.of("nope").prompt("a").build(), false, JobRequestTest.CATALOG, errors)).isNull();
        assertThat(errors).singleElement().extracting(FieldError::field).isEqualTo("model");
    }
}
