package dev.kiln.api;

import dev.kiln.archive.airtable.AirtableArchive;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

@Tag(name = "Admin: archive", description = "The Airtable archive of runs and its backlog")
@RestController
class AdminArchiveController {
    private final AirtableArchive archive;

    AdminArchiveController(AirtableArchive archive) {
        this.archive = archive;
    }

    @Operation(summary = "The Airtable archive's backlog", description = "Whether archiving is on (AIRTABLE_TOKEN, AIRTABLE_BASE_ID, "
            + "AIRTABLE_TABLE), how many runs still wait to be written (pending; without a record yet; failing and retried), how many are "
            + "archived, the oldest waiting, the last error, and until when Airtable asked Kiln to pause (after a 429).")
    @GetMapping("/v1/admin/archive")
    AirtableArchive.Backlog backlog() {
        return archive.backlog();
    }
}
