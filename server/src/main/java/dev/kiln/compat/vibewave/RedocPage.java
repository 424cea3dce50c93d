package dev.kiln.compat.vibewave;

import dev.kiln.compat.ConditionalOnCompat;
import io.swagger.v3.oas.annotations.Hidden;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code /redoc}, as FastAPI serves it beside {@code /docs}: ReDoc rendering Kiln's OpenAPI
 * document ({@code /openapi.json}, every API including the seed ones). The page loads ReDoc's
 * standalone bundle (github.com/Redocly/redoc, "Deployment: HTML element"), vendored from npm's
 * redoc 2.5.0 under static/ui/vendor (MIT, its licence beside it) so the page works offline.
 */
@Hidden
@RestController
@ConditionalOnCompat("004")
class RedocPage {
    static final String PAGE = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
              <meta charset="utf-8">
              <title>Kiln API - ReDoc</title>
              <meta name="viewport" content="width=device-width, initial-scale=1">
              <style>body { margin: 0; padding: 0; }</style>
            </head>
            <body>
              <redoc spec-url="/openapi.json"></redoc>
              <noscript>ReDoc needs JavaScript; the OpenAPI document itself is at <a href="/openapi.json">/openapi.json</a>,
                and the interactive reference at <a href="/docs">/docs</a>.</noscript>
              <script src="/ui/vendor/redoc.standalone.js"></script>
            </body>
            </html>
            """;

    @GetMapping(path = "/redoc", produces = MediaType.TEXT_HTML_VALUE)
    String redoc() {
        return PAGE;
    }
}
