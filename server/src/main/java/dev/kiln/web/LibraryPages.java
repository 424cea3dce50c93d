package dev.kiln.web;

import dev.kiln.asset.Asset;
import dev.kiln.asset.AssetService;
import dev.kiln.job.Job;
import dev.kiln.job.JobService;
import dev.kiln.support.Json;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import java.time.Duration;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.util.UriComponentsBuilder;

/**
 * The library ({@code /library}): every output as an endless grid, newest first, filtered by
 * model, status, prompt text and date; the next page loads as the end of the grid scrolls into
 * view. {@code /library/{assetId}} shows one output with everything about how it was made, with
 * download, delete and "use these settings again".
 */
@Controller
class LibraryPages {
    static final int PAGE = 60;
    private final Library library;
    private final AssetService assets;
    private final JobService jobs;

    LibraryPages(Library library, AssetService assets, JobService jobs) {
        this.library = library;
        this.assets = assets;
        this.jobs = jobs;
    }

    @GetMapping("/library")
    String page(Optional<Caller> caller, @RequestParam(required = false) String model, @RequestParam(required = false) String status,
                @RequestParam(required = false) String q, @RequestParam(required = false) String from,
                @RequestParam(required = false) String to, Model view) {
        Caller c = WebAdvice.need(caller);
        Library.Filter f = filter(model, status, q, from, to);
        items(c, f, null, view);
        view.addAttribute("filter", f);
        view.addAttribute("models", library.models(c.isAdmin() ? null : c.id()));
        view.addAttribute("statuses", List.of("succeeded", "failed", "canceled", "timed_out", "running", "queued"));
        return "web/library";
    }

    @GetMapping("/library/page")
    String more(Optional<Caller> caller, @RequestParam(required = false) String model, @RequestParam(required = false) String status,
                @RequestParam(required = false) String q, @RequestParam(required = false) String from,
                @RequestParam(required = false) String to, @RequestParam String after, Model view) {
        Caller c = WebAdvice.need(caller);
        items(c, filter(model, status, q, from, to), after, view);
        return "web/library :: items";
    }

    private void items(Caller c, Library.Filter f, String after, Model view) {
        List<Library.Item> page = library.page(c.isAdmin() ? null : c.id(), f, after, PAGE + 1);
        boolean more = page.size() > PAGE;
        List<Library.Item> items = more ? page.subList(0, PAGE) : page;
        view.addAttribute("items", items);
        view.addAttribute("next", more ? next(f, items.getLast().assetId()) : null);
    }

    private static String next(Library.Filter f, String after) {
        return UriComponentsBuilder.fromPath("/library/page")
                .queryParamIfPresent("model", Optional.ofNullable(f.model()).filter(s -> !s.isBlank()))
                .queryParamIfPresent("status", Optional.ofNullable(f.status()).filter(s -> !s.isBlank()))
                .queryParamIfPresent("q", Optional.ofNullable(f.text()).filter(s -> !s.isBlank()))
                .queryParamIfPresent("from", Optional.ofNullable(f.from()))
                .queryParamIfPresent("to", Optional.ofNullable(f.to()))
                .queryParam("after", after).encode().build().toUriString();
    }

    private static Library.Filter filter(String model, String status, String q, String from, String to) {
        return new Library.Filter(model, status, q, date(from), date(to));
    }

    private static LocalDate date(String s) {
        if (s == null || s.isBlank()) return null;
        try {
            return LocalDate.parse(s.trim());
        } catch (DateTimeParseException e) {
            throw KilnException.validation("date", "must be a date as YYYY-MM-DD, got '" + s + "'");
        }
    }

    @GetMapping("/library/{assetId}")
    String detail(Optional<Caller> caller, @PathVariable String assetId, Model view) {
        Caller c = WebAdvice.need(caller);
        Asset a = assets.find(assetId).filter(x -> c.owns(x.ownerId()) && Asset.ROLE_OUTPUT.equals(x.role()))
                .orElseThrow(() -> KilnException.notFound("output", assetId));
        Job j = jobs.get(c, a.jobId());
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("Model", j.model() + " · " + j.mode());
        meta.put("Provider", j.provider() == null ? "" : j.provider());
        meta.put("Status", j.status().wire());
        if (j.params() != null && j.params().has("seed")) meta.put("Seed", j.params().get("seed").asString());
        if (j.gridCell() != null && !j.gridCell().isEmpty()) meta.put("Grid cell", Json.write(j.gridCell()));
        meta.put("Size", (a.width() == null ? "?" : a.width() + "×" + a.height()) + " · " + a.mime() + " · " + human(a.size()));
        if (a.durationMs() != null) meta.put("Duration", String.format("%.1f s", a.durationMs() / 1000.0) + (a.fps() == null ? "" : " at " + a.fps() + " fps"));
        meta.put("Cost", j.cost() == null ? "0" : j.cost().stripTrailingZeros().toPlainString() + " credits");
        meta.put("Created", when(j.createdAt()));
        if (j.startedAt() != null) meta.put("Started", when(j.startedAt()));
        if (j.finishedAt() != null) meta.put("Finished", when(j.finishedAt()));
        if (j.startedAt() != null && j.finishedAt() != null) {
            meta.put("Took", String.format("%.1f s", Duration.between(j.startedAt(), j.finishedAt()).toMillis() / 1000.0));
        }
        meta.put("Job", j.id());
        if (a.sandbox()) meta.put("Made by", "the sandbox (offline test output)");
        List<Map.Entry<String, String>> params = new ArrayList<>();
        if (j.params() != null) j.params().properties().forEach(e -> params.add(Map.entry(e.getKey(), e.getValue().isString() ? e.getValue().asString() : Json.write(e.getValue()))));
        List<Asset> siblings = assets.outputsOf(j.id());
        view.addAttribute("asset", a);
        view.addAttribute("job", j);
        view.addAttribute("meta", meta);
        view.addAttribute("params", params);
        view.addAttribute("siblings", siblings.size() > 1 ? siblings : List.of());
        view.addAttribute("filename", j.id() + "-" + (a.outputIndex() == null ? 0 : a.outputIndex()) + "." + RunPages.extension(a.mime()));
        return "web/asset";
    }

    /** Deletes the job that made this output, with all its outputs (as {@code DELETE /v1/jobs/{id}} does). */
    @PostMapping("/library/{assetId}/delete")
    String delete(Optional<Caller> caller, @PathVariable String assetId) {
        Caller c = WebAdvice.need(caller);
        Asset a = assets.find(assetId).filter(x -> c.owns(x.ownerId()) && x.jobId() != null)
                .orElseThrow(() -> KilnException.notFound("output", assetId));
        jobs.delete(c, a.jobId());
        return "redirect:/library";
    }

    static String when(java.time.Instant t) {
        return t.toString().substring(0, 19).replace('T', ' ') + " UTC";
    }

    private static String human(long bytes) {
        if (bytes < 1024) return bytes + " B";
        if (bytes < 1024 * 1024) return String.format("%.1f KB", bytes / 1024.0);
        return String.format("%.1f MB", bytes / 1048576.0);
    }
}
