package dev.kiln.cli;

import picocli.CommandLine.Option;

/** Where Kiln is and how to authenticate: {@code --url}, {@code KILN_URL}, {@code KILN_API_KEY}, {@code KILN_ADMIN_KEY}. */
final class ServerOptions {
    static final String DEFAULT_URL = "http://localhost:8080";

    @Option(names = "--url", paramLabel = "URL",
            description = "Kiln's address (default: $KILN_URL, else " + DEFAULT_URL + "). "
                    + "KILN_API_KEY is sent as 'Authorization: Bearer'; KILN_ADMIN_KEY as 'x-admin-key'.")
    String url;

    /** The URL given on the command line or in KILN_URL, or null. */
    String explicitUrl() {
        if (url != null) return url;
        String env = System.getenv("KILN_URL");
        return env == null || env.isBlank() ? null : env;
    }

    Api api() {
        return api(null);
    }

    /** An API client for the explicit URL, else {@code fallback} (e.g. a manifest's server), else the default. */
    Api api(String fallback) {
        String u = explicitUrl();
        if (u == null) u = fallback != null ? fallback : DEFAULT_URL;
        return new Api(u, System.getenv("KILN_API_KEY"), System.getenv("KILN_ADMIN_KEY"));
    }
}
