package dev.kiln.user;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class LocalRequestsTest {
    @Test
    void loopbackNamesAreRecognisedAsWrittenNeverResolved() {
        for (String h : List.of("localhost", "LOCALHOST:8080", "localhost.", "app.localhost:3000", "127.0.0.1", "127.0.0.1:8080",
                "127.255.0.9", "[::1]", "[::1]:8080")) {
            assertThat(LocalRequests.loopbackHost(h)).as(h).isTrue();
        }
        for (String h : List.of("", "evil.example", "127.0.0.1.nip.io", "localhost.evil.example", "localhost:80:80", "128.0.0.1",
                "127.0.0.256", "[::2]", "[::1]x", "0.0.0.0", "2130706433", "127.1", "::1", "10.0.0.1")) {
            assertThat(LocalRequests.loopbackHost(h)).as(h).isFalse();
        }
        assertThat(LocalRequests.loopbackHost(null)).isFalse();
    }

    @Test
    void originsMustBeLoopbackPagesOrAllowed() {
        assertThat(LocalRequests.allowedOrigin(null, List.of())).isTrue();
        assertThat(LocalRequests.allowedOrigin("http://localhost:5173", List.of())).isTrue();
        assertThat(LocalRequests.allowedOrigin("https://127.0.0.1", List.of())).isTrue();
        assertThat(LocalRequests.allowedOrigin("http://evil.example", List.of())).isFalse();
        assertThat(LocalRequests.allowedOrigin("null", List.of())).isFalse();
        assertThat(LocalRequests.allowedOrigin("file://", List.of())).isFalse();
        assertThat(LocalRequests.allowedOrigin("chrome-extension://abc", List.of())).isFalse();
        assertThat(LocalRequests.allowedOrigin("https://app.example.com", List.of("https://app.example.com"))).isTrue();
    }
}
