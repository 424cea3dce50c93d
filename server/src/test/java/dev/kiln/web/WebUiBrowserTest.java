package dev.kiln.web;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Download;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.assertions.LocatorAssertions;
import com.microsoft.playwright.assertions.PageAssertions;
import com.microsoft.playwright.options.AriaRole;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The web UI in a real headless Chromium against a whole Kiln (local mode, sandbox providers):
 * the Generate form, a run finishing live, a grid run, a locked parameter refused at its field,
 * cancelling a job, reloading mid-run, the library (detail, download, reuse, delete) and the admin
 * pages. Every page visited is saved as a screenshot under {@code target/screenshots/}.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kiln.sandbox-latency=2s",
        "kiln.allow-private-urls=true",
        "kiln.catalog-dir=src/test/resources/catalog-test",
        "kiln.sandbox-comfy-models=checkpoints/test.safetensors"})
class WebUiBrowserTest {
    static Browser chromium;
    static Path data;

    @LocalServerPort
    int port;
    BrowserContext context;
    Page page;

    @DynamicPropertySource
    static void dataDir(DynamicPropertyRegistry r) throws IOException {
        data = Files.createTempDirectory("kiln-web");
        r.add("kiln.data-dir", data::toString);
    }

    @BeforeAll
    static void launch() {
        chromium = Browser.launch();
        // A shared two-core machine can be slow; waits end as soon as the page is right.
        com.microsoft.playwright.assertions.PlaywrightAssertions.setDefaultAssertionTimeout(30_000);
    }

    @AfterAll
    static void quit() {
        if (chromium != null) chromium.close();
    }

    @BeforeEach
    void open() {
        context = chromium.browser.newContext(new com.microsoft.playwright.Browser.NewContextOptions()
                .setBaseURL("http://127.0.0.1:" + port).setViewportSize(1280, 900).setAcceptDownloads(true));
        context.setDefaultTimeout(30_000);
        page = context.newPage();
    }

    @AfterEach
    void close() {
        context.close();
    }

    /** Fills the form for a model and submits it; returns the run page's URL. */
    private String submit(String model, String prompt, int count) {
        page.navigate("/?model=" + model);
        page.fill("#f-prompt", prompt);
        page.fill("#f-count", String.valueOf(count));
        page.click("#submit");
        page.waitForURL(Pattern.compile(".*/runs/run_[a-z0-9]+$"));
        return page.url();
    }

    private void awaitRunStatus(String status, double timeoutMs) {
        assertThat(page.locator("[data-run-status]")).hasText(status, new LocatorAssertions.HasTextOptions().setTimeout(timeoutMs));
    }

    @Test
    void submitFromTheFormAndWatchTheRunFinishLive() throws IOException {
        page.navigate("/");
        assertThat(page).hasTitle(Pattern.compile("Generate"));
        page.selectOption("#f-model", "sandbox-image");
        // The fields were swapped for the model's: every parameter with its default and help.
        assertThat(page.locator("#help-model")).hasText("Offline test model; draws a pattern from the prompt and seed.");
        assertThat(page.locator("#f-params-width")).hasValue("512");
        assertThat(page.locator("#help-width")).containsText("range 64–2048");
        assertThat(page.locator("#f-params-output_format")).hasValue("png");
        page.fill("#f-prompt", "a red lighthouse");
        page.fill("#f-params-width", "256");
        page.fill("#f-params-height", "256");
        page.fill("#f-count", "3");
        // The estimate follows the form: 3 jobs × 256² px at one credit per megapixel.
        assertThat(page.locator("[data-jobs]")).hasText("3");
        assertThat(page.locator("[data-cost]")).hasText("0.19 credits");
        Browser.screenshot(page, "generate");
        List<String> streams = java.util.Collections.synchronizedList(new ArrayList<>());
        page.onRequest(r -> { if (r.url().contains("/v1/events?run=")) streams.add(r.url()); });
        page.click("#submit");
        page.waitForURL(Pattern.compile(".*/runs/run_[a-z0-9]+$"));
        assertThat(page.locator("#run-progress")).isVisible();
        // Finished, seen without a reload: the page follows the run's event stream.
        awaitRunStatus("succeeded", 60_000);
        assertThat(streams).hasSize(1);
        assertThat(page.locator(".tile img")).hasCount(3);
        assertThat(page.locator("[data-counts]")).hasText("3 of 3 done");
        assertThat(page).hasTitle(Pattern.compile("succeeded · 3/3"));
        Browser.screenshot(page, "run");

        Download zip = page.waitForDownload(() -> page.click("[data-zip]"));
        Path file = zip.path();
        List<String> names = new ArrayList<>();
        try (ZipInputStream in = new ZipInputStream(Files.newInputStream(file))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) names.add(e.getName());
        }
        assertThat(names).contains("manifest.csv", "manifest.json");
        assertThat(names.stream().filter(n -> n.endsWith(".png"))).hasSize(3);

        page.navigate("/runs");
        assertThat(page.locator("table.list tbody tr").first()).containsText("succeeded · 3/3");
        Browser.screenshot(page, "runs");
    }

    @Test
    void aGridRunIsShownAsALabelledGrid() {
        page.navigate("/?model=sandbox-image");
        page.fill("#f-prompt", "grid of squares");
        page.fill("#f-params-width", "128");
        page.fill("#f-params-height", "128");
        page.click("details.grid-axes summary");
        page.selectOption("#f-grid1-param", "width");
        page.fill("#f-grid1-values", "128, 192");
        page.selectOption("#f-grid2-param", "num_outputs");
        page.fill("#f-grid2-values", "1, 2");
        assertThat(page.locator("[data-jobs]")).hasText("4");
        page.click("#submit");
        page.waitForURL(Pattern.compile(".*/runs/run_[a-z0-9]+$"));
        awaitRunStatus("succeeded", 60_000);
        Locator table = page.locator("table.grid-table");
        assertThat(table).hasCount(1);
        assertThat(table.locator("thead th")).hasText(new String[] {"width \\ num_outputs", "num_outputs = 1", "num_outputs = 2"});
        assertThat(table.locator("tbody th")).hasText(new String[] {"width = 128", "width = 192"});
        assertThat(table.locator("td img")).hasCount(4);
        Browser.screenshot(page, "run-grid");
    }

    @Test
    void aLockedParameterIsShownLockedAndRefusedAtItsField() {
        page.navigate("/?model=test-locked");
        Locator steps = page.locator("#f-params-steps");
        assertThat(steps).hasValue("8");
        assertThat(steps).not().isEditable();
        assertThat(page.locator("label[for=f-params-steps]")).containsText("locked");
        // Settings carried over from elsewhere (or a tampered form) can still send another value: the core refuses it.
        steps.evaluate("e => { e.readOnly = false; e.value = '12'; }");
        page.fill("#f-prompt", "locked test");
        page.click("#submit");
        Locator error = page.locator("#err-params-steps");
        assertThat(error).isVisible();
        assertThat(error).containsText("8");
        assertThat(page.locator("#f-params-steps")).hasAttribute("aria-invalid", "true");
        assertThat(page.locator("#f-params-steps")).hasAttribute("aria-describedby", Pattern.compile("err-params-steps"));
        Browser.screenshot(page, "generate-locked-error");
    }

    @Test
    void cancellingAJobAndReloadingMidRun() {
        // The sandbox's ComfyUI runs one prompt at a time (2 s each), so the last jobs wait at the provider.
        submit("test-comfyui", "many lighthouses", 8);
        Locator last = page.locator(".tile").last();
        assertThat(last).hasAttribute("data-status", Pattern.compile("queued|running"));
        String jobId = last.getAttribute("id");
        last.getByRole(AriaRole.BUTTON, new Locator.GetByRoleOptions().setName(Pattern.compile("Cancel job"))).click();
        assertThat(page.locator("#" + jobId)).hasAttribute("data-status", "canceled");
        assertThat(page.locator("[data-run-status]")).hasText("running");
        Browser.screenshot(page, "run-cancel");
        // Reload mid-run: the same state, and it keeps following the run.
        page.reload();
        assertThat(page.locator("#" + jobId)).hasAttribute("data-status", "canceled");
        assertThat(page.locator("[data-run-status]")).hasText("running");
        awaitRunStatus("partial", 120_000);
        assertThat(page.locator("[data-counts]")).hasText("8 of 8 done");
        assertThat(page.locator(".tile[data-status=succeeded]")).hasCount(7);
    }

    @Test
    void theLibraryShowsAnOutputWithItsDetailsAndDownloadsReusesAndDeletesIt() throws IOException {
        submit("sandbox-image", "library lighthouse", 2);
        awaitRunStatus("succeeded", 60_000);
        page.navigate("/library?q=library+lighthouse");
        Locator items = page.locator("#gallery li.item");
        assertThat(items).hasCount(2);
        assertThat(items.first().locator("img")).isVisible();
        Browser.screenshot(page, "library");
        items.first().locator("a").click();
        page.waitForURL(Pattern.compile(".*/library/ast_[a-z0-9]+$"));
        String detail = page.url();
        assertThat(page.locator("h1")).hasText("library lighthouse");
        Locator meta = page.locator(".detail dl").first();
        assertThat(meta).containsText("sandbox-image");
        assertThat(meta).containsText("Seed");
        assertThat(meta).containsText("Provider");
        assertThat(page.locator(".detail img").first()).isVisible();
        Browser.screenshot(page, "library-detail");

        Download d = page.waitForDownload(() -> page.click("[data-download]"));
        assertThat(Files.size(d.path())).isGreaterThan(100);
        assertThat(d.suggestedFilename()).endsWith(".png");

        page.click("[data-reuse]");
        page.waitForURL(Pattern.compile(".*/\\?from=ast_[a-z0-9]+$"));
        assertThat(page.locator("#f-model")).hasValue("sandbox-image");
        assertThat(page.locator("#f-prompt")).hasValue("library lighthouse");
        assertThat(page.locator("#f-params-width")).hasValue("512");

        page.navigate(detail);
        page.onDialog(com.microsoft.playwright.Dialog::accept);
        page.click("[data-delete]");
        page.waitForURL(Pattern.compile(".*/library$"));
        page.navigate("/library?q=library+lighthouse");
        assertThat(items).hasCount(1);
        assertThat(page.navigate(detail).status()).isEqualTo(404);
    }

    @Test
    void theAdminPageShowsAccountsQueuesUsersFailuresAndCharts() {
        page.navigate("/manage");
        assertThat(page.locator("h1")).hasText("Admin");
        assertThat(page.locator("figure.chart svg")).hasCount(3);
        Locator row = page.locator("tr[id^=account-]", new Page.LocatorOptions().setHasText("replicate")).first();
        assertThat(row.locator("[data-state]")).hasText("ready");
        row.getByRole(AriaRole.BUTTON, new Locator.GetByRoleOptions().setName(Pattern.compile("^Disable"))).click();
        row = page.locator("tr[id^=account-]", new Page.LocatorOptions().setHasText("replicate")).first();
        assertThat(row.locator("[data-state]")).hasText("disabled");
        row.getByRole(AriaRole.BUTTON, new Locator.GetByRoleOptions().setName(Pattern.compile("^Enable"))).click();
        row = page.locator("tr[id^=account-]", new Page.LocatorOptions().setHasText("replicate")).first();
        assertThat(row.locator("[data-state]")).not().hasText("disabled");
        row.getByRole(AriaRole.BUTTON, new Locator.GetByRoleOptions().setName(Pattern.compile("^Check"))).click();
        row = page.locator("tr[id^=account-]", new Page.LocatorOptions().setHasText("replicate")).first();
        assertThat(row.locator("[data-state]")).hasText("ready");
        Browser.screenshot(page, "admin");
    }
}
