package dev.kiln.web;

import dev.kiln.asset.Asset;
import dev.kiln.asset.AssetService;
import dev.kiln.job.Job;
import dev.kiln.job.JobService;
import dev.kiln.job.JobStatus;
import dev.kiln.run.Run;
import dev.kiln.run.RunService;
import dev.kiln.support.Json;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import tools.jackson.databind.JsonNode;

/**
 * The runs list ({@code /runs}) and a run's page ({@code /runs/{id}}): a live grid of its jobs.
 * The page listens to the run's {@code /v1/events} stream in the browser and, on each event,
 * fetches the {@code /runs/{id}/live} fragment again; everything shown comes from the database,
 * so a reload shows the same state. Cancel the run or one job; download a finished run's outputs
 * as a ZIP with a CSV and a JSON manifest.
 */
@Controller
class RunPages {
    private static final int PAGE = 50;
    private final RunService runs;
    private final JobService jobs;
    private final AssetService assets;

    RunPages(RunService runs, JobService jobs, AssetService assets) {
        this.runs = runs;
        this.jobs = jobs;
        this.assets = assets;
    }

    /** One row of the runs list. */
    record RunRow(String id, String model, String mode, String prompt, Instant createdAt, Progress progress) {}

    @GetMapping("/runs")
    String list(Optional<Caller> caller, @RequestParam(required = false) String before, Model view) {
        Caller c = WebAdvice.need(caller);
        List<Run> page = runs.list(c, before, PAGE + 1);
        boolean more = page.size() > PAGE;
        List<Run> items = more ? page.subList(0, PAGE) : page;
        List<RunRow> rows = items.stream().map(r -> new RunRow(r.id(), r.model(), r.mode(), firstPrompt(r), r.createdAt(),
                Progress.of(runs.summarize(r), List.of()))).toList();
        view.addAttribute("rows", rows);
        view.addAttribute("next", more ? items.getLast().id() : null);
        return "web/runs";
    }

    @GetMapping("/runs/{id}")
    String page(Optional<Caller> caller, @PathVariable String id, Model view) {
        Caller c = WebAdvice.need(caller);
        live(c, id, view);
        return "web/run";
    }

    /** The live part of the run page; 286 once the run is finished, which tells htmx to stop polling. */
    @GetMapping("/runs/{id}/live")
    String fragment(Optional<Caller> caller, @PathVariable String id, HttpServletResponse res, Model view) {
        live(WebAdvice.need(caller), id, view);
        if (((Progress) view.getAttribute("progress")).finished()) res.setStatus(286);
        return "web/run :: live";
    }

    @PostMapping("/runs/{id}/cancel")
    String cancel(Optional<Caller> caller, @PathVariable String id, HttpServletRequest req, Model view) {
        Caller c = WebAdvice.need(caller);
        runs.cancel(c, id);
        return after(c, id, req, view);
    }

    @PostMapping("/runs/{id}/jobs/{jobId}/cancel")
    String cancelJob(Optional<Caller> caller, @PathVariable String id, @PathVariable String jobId, HttpServletRequest req, Model view) {
        Caller c = WebAdvice.need(caller);
        Job j = jobs.get(c, jobId);
        if (!id.equals(j.runId())) throw KilnException.notFound("job", jobId);
        jobs.cancel(c, jobId);
        return after(c, id, req, view);
    }

    private String after(Caller c, String id, HttpServletRequest req, Model view) {
        if (req.getHeader("HX-Request") == null) return "redirect:/runs/" + id;
        live(c, id, view);
        return "web/run :: live";
    }

    /**
     * The run's outputs as a ZIP, with {@code manifest.csv} and {@code manifest.json} (one entry
     * per job: file names, prompt, parameters, seed, grid cell, status, error).
     */
    @GetMapping("/runs/{id}/outputs.zip")
    void zip(Optional<Caller> caller, @PathVariable String id, HttpServletResponse res) throws IOException {
        Caller c = WebAdvice.need(caller);
        Run r = runs.get(c, id);
        List<Job> list = runs.jobsOf(r);
        Map<String, List<Asset>> outs = assets.outputsOf(list.stream().filter(j -> j.status() == JobStatus.SUCCEEDED).map(Job::id).toList());
        res.setContentType("application/zip");
        res.setHeader("Content-Disposition", "attachment; filename=\"" + r.id() + ".zip\"");
        List<Map<String, Object>> manifest = new ArrayList<>();
        StringBuilder csv = new StringBuilder("index,job_id,status,file,prompt,seed,grid_cell,params,error\n");
        try (OutputStream out = res.getOutputStream(); ZipOutputStream zip = new ZipOutputStream(out)) {
            for (Job j : list) {
                List<String> files = new ArrayList<>();
                for (Asset a : outs.getOrDefault(j.id(), List.of())) {
                    String name = String.format("%04d-%s-%d.%s", j.runIndex() == null ? 0 : j.runIndex(), j.id(),
                            a.outputIndex() == null ? 0 : a.outputIndex(), extension(a.mime()));
                    zip.putNextEntry(new ZipEntry(name));
                    try (InputStream in = assets.open(a.sha256(), 0, a.size())) {
                        in.transferTo(zip);
                    }
                    zip.closeEntry();
                    files.add(name);
                }
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("index", j.runIndex());
                e.put("job_id", j.id());
                e.put("status", j.status().wire());
                e.put("files", files);
                e.put("prompt", j.prompt());
                e.put("negative_prompt", j.negativePrompt());
                e.put("params", j.params());
                e.put("grid_cell", j.gridCell());
                e.put("error", j.errorMessage());
                manifest.add(e);
                JsonNode seed = j.params() == null ? null : j.params().get("seed");
                csv.append(j.runIndex()).append(',').append(j.id()).append(',').append(j.status().wire()).append(',')
                        .append(cell(String.join(" ", files))).append(',').append(cell(j.prompt())).append(',')
                        .append(seed == null ? "" : seed.asString()).append(',')
                        .append(cell(j.gridCell() == null ? "" : Json.write(j.gridCell()))).append(',')
                        .append(cell(j.params() == null ? "" : Json.write(j.params()))).append(',')
                        .append(cell(j.status() == JobStatus.SUCCEEDED || j.errorMessage() == null ? "" : j.errorMessage())).append('\n');
            }
            zip.putNextEntry(new ZipEntry("manifest.csv"));
            zip.write(csv.toString().getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("run_id", r.id());
            doc.put("model", r.model());
            doc.put("mode", r.mode());
            doc.put("created_at", r.createdAt().toString());
            doc.put("jobs", manifest);
            zip.putNextEntry(new ZipEntry("manifest.json"));
            zip.write(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(doc));
            zip.closeEntry();
        }
    }

    // ---- the live view --------------------------------------------------------------------------

    /** A run's counts, as a progress bar and a tab title show them. */
    record Progress(String status, int total, int done, int succeeded, int failed, int canceled, int running, int queued,
                    Integer etaSeconds) {
        static Progress of(RunService.Summary s, List<Job> jobs) {
            Map<JobStatus, Integer> c = s.counts();
            int succeeded = c.getOrDefault(JobStatus.SUCCEEDED, 0);
            int failed = c.getOrDefault(JobStatus.FAILED, 0) + c.getOrDefault(JobStatus.TIMED_OUT, 0);
            int canceled = c.getOrDefault(JobStatus.CANCELED, 0);
            int running = c.getOrDefault(JobStatus.RUNNING, 0);
            int queued = c.getOrDefault(JobStatus.QUEUED, 0);
            return new Progress(s.status(), s.total(), succeeded + failed + canceled, succeeded, failed, canceled, running, queued,
                    s.status().equals("running") ? eta(jobs) : null);
        }

        /**
         * Seconds left, from the jobs' own ETAs (the model's ETA rule, fixed when each was
         * planned): what the running ones still need, plus the queued ones spread over as many
         * slots as are busy now.
         */
        private static Integer eta(List<Job> jobs) {
            if (jobs.isEmpty()) return null;
            Instant now = Instant.now();
            double work = 0;
            int busy = 0;
            for (Job j : jobs) {
                if (j.status().terminal()) continue;
                int eta = j.etaSeconds() == null ? 0 : j.etaSeconds();
                if (j.status() == JobStatus.RUNNING && j.startedAt() != null) {
                    busy++;
                    work += Math.max(0, eta - Duration.between(j.startedAt(), now).toMillis() / 1000.0);
                } else {
                    work += eta;
                }
            }
            return (int) Math.ceil(work / Math.max(1, busy));
        }

        public int percent() {
            return total == 0 ? 100 : (int) Math.floor(100.0 * done / total);
        }

        public boolean finished() {
            return !status.equals("running");
        }

        public String title() {
            return finished() ? status + " · " + done + "/" + total : percent() + "% · " + done + "/" + total;
        }
    }

    /** One job's tile. */
    record Tile(String id, int index, String status, int progress, Integer queuePosition, String prompt, String seed,
                String cell, String assetId, boolean video, boolean hasThumb, String error, boolean active) {}

    /** A grid run's results as a table: rows × columns of the grid's parameters, one table per prompt and copy. */
    record GridTable(String caption, String rowAxis, List<String> rowLabels, String colAxis, List<String> colLabels, List<List<Tile>> rows) {}

    private void live(Caller c, String id, Model view) {
        Run r = runs.get(c, id);
        List<Job> list = runs.jobsOf(r);
        Map<String, List<Asset>> outs = assets.outputsOf(list.stream().filter(j -> j.status() == JobStatus.SUCCEEDED).map(Job::id).toList());
        List<Tile> tiles = new ArrayList<>();
        for (Job j : list) {
            List<Asset> o = outs.getOrDefault(j.id(), List.of());
            Asset first = o.isEmpty() ? null : o.getFirst();
            JsonNode seed = j.params() == null ? null : j.params().get("seed");
            String error = j.status() == JobStatus.SUCCEEDED || j.errorMessage() == null ? null
                    : (j.errorCode() == null ? "" : j.errorCode() + ": ") + j.errorMessage();
            tiles.add(new Tile(j.id(), j.runIndex() == null ? 0 : j.runIndex(), j.status().wire(), (int) Math.round(j.progress() * 100),
                    j.status() == JobStatus.QUEUED ? jobs.queuePosition(j) : j.status().terminal() ? null : j.queuePosition(), j.prompt(),
                    seed == null ? "" : seed.asString(), cellLabel(j.gridCell()), first == null ? null : first.id(),
                    first != null && first.mime().startsWith("video/"), first != null && first.hasThumbnail(), error,
                    !j.status().terminal()));
        }
        Progress p = Progress.of(runs.summarize(r), list);
        view.addAttribute("run", r);
        view.addAttribute("prompt", firstPrompt(r));
        view.addAttribute("progress", p);
        view.addAttribute("tiles", tiles);
        view.addAttribute("tables", tables(r, list, tiles));
    }

    private static List<GridTable> tables(Run r, List<Job> list, List<Tile> tiles) {
        Map<String, List<String>> axes = new LinkedHashMap<>();
        for (Job j : list) {
            if (j.gridCell() == null || !j.gridCell().isObject()) continue;
            j.gridCell().properties().forEach(e -> {
                List<String> values = axes.computeIfAbsent(e.getKey(), k -> new ArrayList<>());
                String v = text(e.getValue());
                if (!values.contains(v)) values.add(v);
            });
        }
        if (axes.isEmpty() || axes.size() > 2) return List.of();
        List<String> names = new ArrayList<>(axes.keySet());
        String rowAxis = names.size() == 2 ? names.get(0) : null;
        String colAxis = names.get(names.size() - 1);
        List<String> rowLabels = rowAxis == null ? List.of("") : axes.get(rowAxis);
        List<String> colLabels = axes.get(colAxis);
        int groupSize = rowLabels.size() * colLabels.size();
        List<GridTable> out = new ArrayList<>();
        for (int start = 0; start < tiles.size(); start += groupSize) {
            List<List<Tile>> rows = new ArrayList<>();
            for (int ri = 0; ri < rowLabels.size(); ri++) {
                List<Tile> row = new ArrayList<>();
                for (int ci = 0; ci < colLabels.size(); ci++) {
                    int k = start + ri * colLabels.size() + ci;
                    row.add(k < tiles.size() ? tiles.get(k) : null);
                }
                rows.add(row);
            }
            Tile first = tiles.get(start);
            int copy = start / groupSize;
            out.add(new GridTable("“" + abbreviate(first.prompt(), 80) + "” · set " + (copy + 1), rowAxis, rowLabels, colAxis, colLabels, rows));
        }
        return out;
    }

    private static String cellLabel(JsonNode cell) {
        if (cell == null || !cell.isObject() || cell.isEmpty()) return null;
        List<String> parts = new ArrayList<>();
        cell.properties().forEach(e -> parts.add(e.getKey() + "=" + text(e.getValue())));
        return String.join(", ", parts);
    }

    private static String text(JsonNode n) {
        return n.isString() ? n.asString() : Json.write(n);
    }

    static String firstPrompt(Run r) {
        JsonNode req = r.request();
        if (req == null) return "";
        if (req.path("prompt").isString()) return req.path("prompt").asString();
        JsonNode list = req.path("prompts");
        if (list.isArray() && !list.isEmpty()) {
            LinkedHashSet<String> s = new LinkedHashSet<>();
            list.forEach(x -> s.add(x.asString()));
            return list.get(0).asString() + (s.size() > 1 ? " (+" + (s.size() - 1) + " more)" : "");
        }
        return "";
    }

    static String abbreviate(String s, int max) {
        if (s == null) return "";
        return s.length() <= max ? s : s.substring(0, max - 1) + "…";
    }

    static String extension(String mime) {
        return switch (mime) {
            case "image/jpeg" -> "jpg";
            case "image/png" -> "png";
            case "image/webp" -> "webp";
            case "image/gif" -> "gif";
            case "video/mp4" -> "mp4";
            case "video/webm" -> "webm";
            default -> "bin";
        };
    }

    private static String cell(String s) {
        if (s == null) return "";
        return s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }
}
