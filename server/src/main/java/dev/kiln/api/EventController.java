package dev.kiln.api;

import dev.kiln.user.Caller;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

@Tag(name = "Events")
@RestController
class EventController {
    private final EventHub hub;
    private final dev.kiln.run.RunService runs;
    private final dev.kiln.job.JobService jobs;

    EventController(EventHub hub, dev.kiln.run.RunService runs, dev.kiln.job.JobService jobs) {
        this.hub = hub;
        this.runs = runs;
        this.jobs = jobs;
    }

    @Operation(summary = "Job events (Server-Sent Events)",
            description = "One `job` event (data: the job) per state or progress change of the caller's own jobs (an admin's: all),"
                    + " filtered by run and/or job. A run or job of another user answers 404, like one that does not exist.")
    @GetMapping(value = "/v1/events", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
    SseEmitter events(Caller caller, @RequestParam(required = false) String run, @RequestParam(required = false) String job) {
        if (run != null) runs.get(caller, run);
        if (job != null) jobs.get(caller, job);
        return hub.subscribe(caller, run, job);
    }
}
