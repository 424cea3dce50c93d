package dev.kiln.web;

import dev.kiln.asset.Asset;
import dev.kiln.asset.AssetService;
import dev.kiln.catalog.Catalog;
import dev.kiln.catalog.Model;
import dev.kiln.config.KilnProperties;
import dev.kiln.job.GenerationRequest;
import dev.kiln.job.Job;
import dev.kiln.job.JobService;
import dev.kiln.run.Run;
import dev.kiln.run.RunService;
import dev.kiln.support.ErrorCode;
import dev.kiln.support.Json;
import dev.kiln.support.KilnException;
import dev.kiln.user.Caller;
import jakarta.servlet.http.HttpServletResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Controller;
import org.springframework.util.MultiValueMap;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseBody;
import org.springframework.web.multipart.MultipartFile;
import tools.jackson.databind.JsonNode;

/**
 * The Generate page ({@code /}): a form built from the catalogue. Changing the model or mode
 * swaps the fields ({@code /runs/form}); every change refreshes the estimate
 * ({@code /runs/estimate}); images are uploaded as they are chosen or dropped
 * ({@code /runs/upload}); the form posts to {@code /runs}, which goes through the same check as
 * {@code POST /v1/runs} and shows its field errors next to their fields.
 */
@Controller
class GeneratePage {
    private final Catalog catalog;
    private final RunService runs;
    private final JobService jobs;
    private final AssetService assets;
    private final KilnProperties props;

    GeneratePage(Catalog catalog, RunService runs, JobService jobs, AssetService assets, KilnProperties props) {
        this.catalog = catalog;
        this.runs = runs;
        this.jobs = jobs;
        this.assets = assets;
        this.props = props;
    }

    @GetMapping("/")
    String page(Optional<Caller> caller, @RequestParam(required = false) String model, @RequestParam(required = false) String mode,
                @RequestParam(required = false) String from, org.springframework.ui.Model view) {
        Caller c = WebAdvice.need(caller);
        GenerateForm form = from != null ? fromAsset(c, from) : null;
        if (form == null) {
            Model m = models().stream().filter(x -> x.id().equals(model)).findFirst().orElse(models().getFirst());
            form = GenerateForm.fresh(m, mode);
        }
        return show(form, view, "web/generate");
    }

    @GetMapping("/runs/form")
    String fields(Optional<Caller> caller, @RequestParam MultiValueMap<String, String> values, org.springframework.ui.Model view) {
        WebAdvice.need(caller);
        GenerateForm old = GenerateForm.read(values);
        Model m = catalog.find(old.model).orElse(models().getFirst());
        GenerateForm form = GenerateForm.fresh(m, old.mode);
        // Keep what was typed that still applies.
        form.prompt = old.prompt;
        form.prompts = old.prompts;
        form.negativePrompt = old.negativePrompt;
        form.count = old.count;
        return show(form, view, "web/generate :: fields");
    }

    @PostMapping("/runs/estimate")
    String estimate(Optional<Caller> caller, @RequestParam MultiValueMap<String, String> values, org.springframework.ui.Model view) {
        WebAdvice.need(caller);
        GenerateForm form = GenerateForm.read(values);
        form.settle(models());
        Model m = catalog.find(form.model).orElseThrow();
        view.addAttribute("estimate", form.estimate(m, props.sandboxLatency().toMillis() / 1000.0));
        return "web/generate :: estimate";
    }

    @PostMapping("/runs")
    String submit(Optional<Caller> caller, @RequestParam MultiValueMap<String, String> values, HttpServletResponse res,
                  org.springframework.ui.Model view) {
        Caller c = WebAdvice.need(caller);
        GenerateForm form = GenerateForm.read(values);
        form.settle(models());
        Model m = catalog.find(form.model).orElseThrow();
        try {
            GenerationRequest r = form.toRequest(m);
            RunService.Prepared p = runs.prepare(c, r, Json.tree(form.received(r)));
            Run run = runs.insert(p);
            return "redirect:/runs/" + run.id();
        } catch (KilnException e) {
            if (e.errors().isEmpty()) form.otherErrors.add(e.getMessage());
            else form.fileErrors(e.errors(), knownFields(form, m));
            res.setStatus(e.code().status());
            return show(form, view, "web/generate");
        }
    }

    /** An image chosen or dropped on the form, stored as an input asset; the form then refers to it as {@code asset:ID}. */
    @PostMapping("/runs/upload")
    @ResponseBody
    ResponseEntity<Map<String, String>> upload(Optional<Caller> caller, @RequestParam(name = "file", required = false) MultipartFile file) {
        Caller c = WebAdvice.need(caller);
        if (file == null || file.isEmpty()) throw KilnException.validation("file", "choose an image file");
        Asset a = assets.upload(c.id(), file);
        return ResponseEntity.ok(Map.of("id", a.id(), "ref", "asset:" + a.id(), "thumbnail", "/v1/assets/" + a.id() + "/thumbnail"));
    }

    private String show(GenerateForm form, org.springframework.ui.Model view, String template) {
        List<Model> all = models();
        form.settle(all);
        Model m = catalog.find(form.model).orElseThrow();
        view.addAttribute("form", form);
        view.addAttribute("models", all);
        view.addAttribute("model", m);
        view.addAttribute("fields", form.fields(m));
        view.addAttribute("imageFields", form.imageFields(m));
        view.addAttribute("gridParams", form.gridParams(m));
        view.addAttribute("promptRequired", m.mode(form.mode).promptRequired());
        view.addAttribute("estimate", form.estimate(m, props.sandboxLatency().toMillis() / 1000.0));
        return template;
    }

    private Set<String> knownFields(GenerateForm form, Model m) {
        Set<String> known = new HashSet<>(List.of("model", "mode", "prompt", "prompts", "negative_prompt", "count", "grid", "params", "images"));
        form.fields(m).forEach(f -> known.add("params." + f.name()));
        form.imageFields(m).forEach(f -> known.add("images." + f.name()));
        return known;
    }

    /** The models people pick from: those some account can run first; sandbox-only test models last. */
    private List<Model> models() {
        List<Model> all = new ArrayList<>(catalog.all());
        if (all.isEmpty()) throw new KilnException(ErrorCode.NOT_FOUND, "the catalogue has no models");
        return all;
    }

    /** The form as it was for the job that made this asset ("use these settings again"). */
    private GenerateForm fromAsset(Caller c, String assetId) {
        Asset a = assets.find(assetId).filter(x -> c.owns(x.ownerId())).orElse(null);
        if (a == null || a.jobId() == null) return null;
        Job j;
        try {
            j = jobs.get(c, a.jobId());
        } catch (KilnException e) {
            return null;
        }
        Model m = catalog.find(j.model()).orElse(null);
        if (m == null) return null;
        GenerateForm f = GenerateForm.fresh(m, j.mode());
        f.prompt = j.prompt();
        f.negativePrompt = j.negativePrompt() == null ? "" : j.negativePrompt();
        JsonNode params = j.params();
        if (params != null) params.properties().forEach(e -> f.params.put(e.getKey(), e.getValue().isString() ? e.getValue().asString() : Json.write(e.getValue())));
        JsonNode inputs = j.inputs();
        if (inputs != null) inputs.properties().forEach(e -> {
            List<String> refs = new ArrayList<>();
            e.getValue().forEach(id -> refs.add("asset:" + id.asString()));
            f.images.put(e.getKey(), refs);
        });
        return f;
    }

}
