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

    EventController(EventHub hub) {
        this.hub = hub;
    }

    @Operation(summary = "Job events (Server-Sent Events)",
            description = "One `job` event (data: the job) per state or progress change, filtered by run and/or job.")
    @GetMapping(value = "/v1/events", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
    SseEmitter events(Caller caller, @RequestParam(required = false) String run, @RequestParam(required = false) String job) {
        return hub.subscribe(caller, run, job);
    }
}
