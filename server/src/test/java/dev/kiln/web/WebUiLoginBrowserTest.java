package dev.kiln.web;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import dev.kiln.user.Users;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * With {@code KILN_AUTH=on} the UI asks for a login, keeps the session in its cookie, sends the
 * session's CSRF token with every write (a run submitted from the form), and keeps the admin page
 * to admins.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kiln.auth=on",
        "kiln.admin-key=web-test-admin-key-0123456789",
        "kiln.sandbox-latency=500ms"})
class WebUiLoginBrowserTest {
    static Browser chromium;

    @LocalServerPort
    int port;
    @Autowired
    Users users;

    @DynamicPropertySource
    static void dataDir(DynamicPropertyRegistry r) throws IOException {
        String dir = Files.createTempDirectory("kiln-web-auth").toString();
        r.add("kiln.data-dir", () -> dir);
    }

    @BeforeAll
    static void launch() {
        chromium = Browser.launch();
        com.microsoft.playwright.assertions.PlaywrightAssertions.setDefaultAssertionTimeout(30_000);
    }

    @AfterAll
    static void quit() {
        if (chromium != null) chromium.close();
    }

    @Test
    void aUserLogsInSubmitsWithTheSessionsCsrfTokenAndIsKeptOutOfAdmin() {
        users.create("alice", "correct horse battery", "user", BigDecimal.valueOf(50));
        try (BrowserContext context = chromium.browser.newContext(new com.microsoft.playwright.Browser.NewContextOptions()
                .setBaseURL("http://127.0.0.1:" + port).setViewportSize(1280, 900))) {
            context.setDefaultTimeout(30_000);
            Page page = context.newPage();
            page.navigate("/library");
            page.waitForURL(Pattern.compile(".*/login\\?next=%2Flibrary$"));
            Browser.screenshot(page, "login");

            page.fill("#l-user", "alice");
            page.fill("#l-pass", "wrong password");
            page.click("button[type=submit]");
            assertThat(page.locator("[role=alert]")).hasText("Wrong username or password.");
            assertThat(page.locator("#l-user")).hasValue("alice");

            page.fill("#l-pass", "correct horse battery");
            page.click("button[type=submit]");
            page.waitForURL(Pattern.compile(".*/library$"));
            assertThat(page.locator(".who")).containsText("alice");
            assertThat(page.locator("nav")).not().containsText("Admin");

            // A write with the session cookie: the form carries the session's CSRF token.
            page.navigate("/?model=sandbox-image");
            page.fill("#f-prompt", "a logged-in lighthouse");
            page.fill("#f-params-width", "128");
            page.fill("#f-params-height", "128");
            page.click("#submit");
            page.waitForURL(Pattern.compile(".*/runs/run_[a-z0-9]+$"));
            assertThat(page.locator("[data-run-status]")).hasText("succeeded");

            assertThat(page.navigate("/manage").status()).isEqualTo(403);
            assertThat(page.locator("h1")).hasText("Not allowed");

            page.navigate("/");
            page.click(".who button");
            page.waitForURL(Pattern.compile(".*/login$"));
            page.navigate("/runs");
            page.waitForURL(Pattern.compile(".*/login\\?next=%2Fruns$"));
        }
    }
}
