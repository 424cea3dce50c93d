package dev.kiln.compat.wavespeedbatch;

import dev.kiln.compat.ConditionalOnCompat;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import org.springframework.http.CacheControl;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code /app}: the batch generator's web form (Prompt, Subject Image URL, Reference Image URLs
 * comma-separated, Width/Height, Batch Count, "Start Batch Generation"), posting to
 * {@code /api/batch} and following the batch through {@code /status/{runId}}, its images shown as
 * they arrive. One static page, no template engine.
 */
@Tag(name = BatchController.TAG)
@RestController
@ConditionalOnCompat("000")
class AppPage {
    private final byte[] html;

    AppPage() {
        try (InputStream in = AppPage.class.getResourceAsStream("app.html")) {
            if (in == null) throw new IllegalStateException("app.html is missing from the build");
            html = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Operation(summary = "The batch generator's web form", description = "An HTML page: the form, then a live view of the batch and its images.")
    @GetMapping(value = "/app", produces = MediaType.TEXT_HTML_VALUE)
    ResponseEntity<byte[]> app() {
        return ResponseEntity.ok().contentType(new MediaType("text", "html", java.nio.charset.StandardCharsets.UTF_8))
                .cacheControl(CacheControl.noCache()).body(html);
    }
}
