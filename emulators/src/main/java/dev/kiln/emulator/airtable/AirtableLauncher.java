package dev.kiln.emulator.airtable;

import dev.kiln.emulator.Emulator;
import dev.kiln.emulator.Launcher;
import java.util.Map;

/** Starts the Airtable Web API emulator with one base holding the "Generations" table of the batch generator's schema. */
public final class AirtableLauncher implements Launcher {
    @Override
    public String service() {
        return "airtable";
    }

    @Override
    public String title() {
        return "Airtable";
    }

    @Override
    public Emulator start(Options o) {
        AirtableEmulator e = AirtableEmulator.start(AirtableEmulator.Config.defaults().withPort(o.port()).withToken(o.keyOrNew()));
        return new Emulator(service(), title(), e.baseUrl(), e.config().token(),
                Map.of("AIRTABLE_BASE_ID", e.config().baseId(), "AIRTABLE_TABLE", e.config().table(),
                        "AIRTABLE_API_URL", e.baseUrl(), "AIRTABLE_CONTENT_URL", e.baseUrl()), e);
    }
}
