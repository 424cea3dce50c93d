package dev.kiln.compat.mediagen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.account.AccountState;
import dev.kiln.job.JobStatus;
import dev.kiln.support.ErrorCode;
import dev.kiln.support.FieldError;
import dev.kiln.support.Json;
import dev.kiln.support.KilnException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.http.ResponseEntity;
import tools.jackson.databind.JsonNode;

/** The façade's error renderer, status table and account-state mapping, without a server. */
class MediaGenErrorsTest {
    @Test
    void aFullQueueAnswersInTheGuidesExactShapeWithRetryAfter() {
        // The core's refusal as its admission (and the shared lane) raises it: queue_overloaded, Retry-After, user_action.
        KilnException core = new KilnException(ErrorCode.QUEUE_OVERLOADED, "the shared lane holds 25 jobs, its limit",
                List.of(), Duration.ofSeconds(30), "Retry later.");
        ResponseEntity<Object> r = MediaGenErrors.render(core);
        assertThat(r.getStatusCode().value()).isEqualTo(503);
        assertThat(r.getHeaders().getFirst("Retry-After")).isEqualTo("30");
        JsonNode body = Json.tree(r.getBody());
        JsonNode guide = Json.parse(SeedScripts.resource("queue-overloaded.json"));
        // Same keys, nested the same way, as the guide's example; only the detail's "..." is filled in.
        assertThat(body.propertyNames()).containsExactlyElementsOf(guide.propertyNames());
        assertThat(body.get("detail").propertyNames()).containsExactlyElementsOf(guide.get("detail").propertyNames());
        assertThat(body.get("detail").get("code").asString()).isEqualTo("queue_overloaded");
        assertThat(body.get("detail").get("detail").asString()).startsWith("Generation queue is overloaded").contains("25 jobs");
        assertThat(body.get("detail").get("user_action").asString()).isEqualTo("Retry later.");

        ResponseEntity<Object> noWait = MediaGenErrors.render(new KilnException(ErrorCode.QUEUE_OVERLOADED, "full", List.of(), null, null));
        assertThat(noWait.getHeaders().getFirst("Retry-After")).isEqualTo("30");
        assertThat(Json.tree(noWait.getBody()).get("detail").get("user_action").asString()).isEqualTo("Retry later.");
    }

    @Test
    void coreFieldNamesComeBackAsThePayloadNamesThem() {
        ResponseEntity<Object> r = MediaGenErrors.render(KilnException.validation(List.of(
                new FieldError("params.steps", "is locked to 8"), new FieldError("images.first_frame[0]", "is not an image"),
                new FieldError("count", "too many"), new FieldError("prompt", "is too long"))));
        assertThat(r.getStatusCode().value()).isEqualTo(422);
        JsonNode body = Json.tree(r.getBody());
        assertThat(body.get("status").asString()).isEqualTo("error");
        assertThat(body.get("code").asString()).isEqualTo("validation_failed");
        assertThat(body.get("details").findValuesAsString("field")).containsExactly("steps", "first_frame_image", "batch_size", "prompt");
        assertThat(body.get("error").asString()).contains("steps", "first_frame_image");

        ResponseEntity<Object> credits = MediaGenErrors.render(new KilnException(ErrorCode.INSUFFICIENT_CREDITS, "balance 0.1 < 0.4"));
        assertThat(credits.getStatusCode().value()).isEqualTo(402);
        assertThat(Json.tree(credits.getBody()).get("code").asString()).isEqualTo("insufficient_credits");
    }

    @Test
    void theStatusTableEndsEveryTaskInCompletedOrFailed() {
        assertThat(TaskStates.of(JobStatus.QUEUED)).isEqualTo("queued");
        assertThat(TaskStates.of(JobStatus.RUNNING)).isEqualTo("processing");
        assertThat(TaskStates.of(JobStatus.SUCCEEDED)).isEqualTo("completed");
        for (JobStatus s : List.of(JobStatus.FAILED, JobStatus.CANCELED, JobStatus.TIMED_OUT)) assertThat(TaskStates.of(s)).isEqualTo("failed");
        for (JobStatus s : JobStatus.values()) assertThat(TaskStates.of(s)).isNotNull();
        assertThat(TaskStates.of(List.of(JobStatus.QUEUED, JobStatus.QUEUED))).isEqualTo("queued");
        assertThat(TaskStates.of(List.of(JobStatus.SUCCEEDED, JobStatus.QUEUED))).isEqualTo("processing");
        assertThat(TaskStates.of(List.of(JobStatus.SUCCEEDED, JobStatus.FAILED))).isEqualTo("completed");
        assertThat(TaskStates.of(List.of(JobStatus.CANCELED, JobStatus.FAILED))).isEqualTo("failed");
    }

    @Test
    void accountStatesAreTheGuidesAndFailedNeverBecomesReadyWithoutACheck() {
        // pending|checking|ready|failed|disabled, the same five words; ready only after a passing check.
        assertThat(List.of(AccountState.values()).stream().map(AccountState::wire).toList())
                .containsExactly("pending", "checking", "ready", "failed", "disabled");
        assertThat(AccountState.FAILED.canBecome(AccountState.READY)).isFalse();
        assertThat(AccountState.PENDING.canBecome(AccountState.READY)).isFalse();
        assertThat(AccountState.DISABLED.canBecome(AccountState.READY)).isFalse();
        assertThat(AccountState.FAILED.canBecome(AccountState.CHECKING)).isTrue();
        assertThat(AccountState.CHECKING.canBecome(AccountState.READY)).isTrue();
    }
}
