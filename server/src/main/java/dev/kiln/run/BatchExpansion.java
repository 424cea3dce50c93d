package dev.kiln.run;

import dev.kiln.catalog.ParamResolver;
import dev.kiln.job.JobRequest;
import dev.kiln.job.JobService;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A run's jobs: prompts × count × grid, in that order (each prompt, each copy of it, each grid
 * cell), so a job's index in the run says which combination it is.
 */
final class BatchExpansion {
    private BatchExpansion() {}

    static List<JobService.Variant> expand(JobRequest req) {
        List<Map<String, Object>> cells = cells(req.grid());
        List<JobService.Variant> out = new ArrayList<>();
        for (String prompt : req.prompts()) {
            for (int copy = 0; copy < req.count(); copy++) {
                for (Map<String, Object> cell : cells) {
                    Map<String, Object> params = new LinkedHashMap<>(req.params());
                    params.putAll(cell);
                    if (req.count() > 1 && params.get(ParamResolver.SEED) instanceof Number s && s.longValue() >= 0
                            && !cell.containsKey(ParamResolver.SEED)) {
                        // Copies of one prompt with a fixed seed step the seed, so they differ (as batch UIs do).
                        params.put(ParamResolver.SEED, s.longValue() + copy);
                    }
                    out.add(new JobService.Variant(prompt, params, cell));
                }
            }
        }
        return out;
    }

    /** The cartesian product of the grid, in the order given; one empty cell without a grid. */
    static List<Map<String, Object>> cells(Map<String, List<Object>> grid) {
        List<Map<String, Object>> cells = new ArrayList<>();
        cells.add(new LinkedHashMap<>());
        for (Map.Entry<String, List<Object>> axis : grid.entrySet()) {
            List<Map<String, Object>> next = new ArrayList<>();
            for (Map<String, Object> c : cells) {
                for (Object v : axis.getValue()) {
                    Map<String, Object> n = new LinkedHashMap<>(c);
                    n.put(axis.getKey(), v);
                    next.add(n);
                }
            }
            cells = next;
        }
        return cells;
    }
}
