package dev.kiln.compat.vibewave;

import dev.kiln.compat.ConditionalOnCompat;
import dev.kiln.compat.JobWaiter;
import dev.kiln.config.KilnProperties;
import dev.kiln.job.Job;
import dev.kiln.user.Caller;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.function.Function;
import org.springframework.core.env.Environment;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Component;
import org.springframework.web.context.request.async.DeferredResult;
import org.springframework.web.servlet.support.ServletUriComponentsBuilder;

/**
 * Vibewave's synchronous calls ({@code generate-image}, {@code /api/qwen/generate}, the batches):
 * they answer when their jobs end, without holding a request thread; one that outlives its wait
 * ({@code KILN_VIBEWAVE_WAIT}, 10 min by default, or the call's {@code timeout} in seconds) is 408
 * while its jobs go on (their status stays readable).
 */
@Component
@ConditionalOnCompat("004")
class SyncAnswers {
    static final String PROPERTY = "kiln.vibewave-wait";
    private final Duration wait;
    private final JobWaiter waiter;
    private final VibewaveJobs jobs;
    private final KilnProperties props;
    private final Executor render = Executors.newVirtualThreadPerTaskExecutor();

    SyncAnswers(Environment env, JobWaiter waiter, VibewaveJobs jobs, KilnProperties props) {
        this.wait = dev.kiln.config.Durations.parse(env.getProperty(PROPERTY, "10m"));
        this.waiter = waiter;
        this.jobs = jobs;
        this.props = props;
    }

    /** Where {@code files} URLs point: PUBLIC_BASE_URL, else the address this request came to. */
    String base() {
        String b = props.webhookBase();
        return b != null ? b : ServletUriComponentsBuilder.fromCurrentContextPath().build().toUriString();
    }

    Duration wait(Integer timeoutSeconds) {
        if (timeoutSeconds == null) return wait;
        if (timeoutSeconds < 1 || timeoutSeconds > 3600) throw VibewaveException.badRequest("timeout must be from 1 to 3600 seconds");
        return Duration.ofSeconds(timeoutSeconds);
    }

    /** Answers {@code shape} of the jobs (reloaded) once all have ended; 408 if {@code max} passes first. */
    DeferredResult<ResponseEntity<Object>> after(Caller caller, List<Job> started, Duration max, Function<List<Job>, Object> shape) {
        DeferredResult<ResponseEntity<Object>> result = new DeferredResult<>(max.toMillis() + 60_000);
        List<String> ids = started.stream().map(Job::id).toList();
        waiter.whenDone(ids, max).thenRunAsync(() -> {
            try {
                List<Job> now = ids.stream().map(id -> jobs.find(caller, id)).toList();
                if (now.stream().anyMatch(j -> !j.status().terminal())) {
                    result.setErrorResult(new VibewaveException(408, "Generation timed out after " + max.toSeconds() + " s; "
                            + (ids.size() == 1 ? "request " + ids.getFirst() + " goes on: GET /api/runpod/workflows/status/" + ids.getFirst()
                            : "its requests go on: " + String.join(", ", ids))));
                    return;
                }
                result.setResult(ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(shape.apply(now)));
            } catch (RuntimeException e) {
                result.setErrorResult(e);
            }
        }, render);
        return result;
    }
}
