package dev.kiln.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.catalog.Catalog;
import dev.kiln.job.JobRequest;
import dev.kiln.job.JobService;
import dev.kiln.support.FieldError;
import dev.kiln.support.Json;
import dev.kiln.testing.TestCatalog;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BatchExpansionTest {
    static final Catalog CATALOG = TestCatalog.shipped();

    static JobRequest run(String json) {
        List<FieldError> errors = new ArrayList<>();
        JobRequest r = JobRequest.parse(Json.parse(json), true, CATALOG, errors);
        assertThat(errors).isEmpty();
        return r;
    }

    @Test
    void gridCellsAreTheCartesianProductInOrder() {
        var cells = BatchExpansion.cells(new LinkedHashMap<>(Map.of("a", List.<Object>of(1, 2))));
        assertThat(cells).hasSize(2);
        var g = new LinkedHashMap<String, List<Object>>();
        g.put("w", List.of(1, 2));
        g.put("f", List.of("x", "y", "z"));
        assertThat(BatchExpansion.cells(g)).hasSize(6).first().isEqualTo(Map.of("w", 1, "f", "x"));
        assertThat(BatchExpansion.cells(Map.of())).containsExactly(Map.of());
    }

    @Test
    void promptsTimesCopiesTimesGridInThatOrder() {
        JobRequest r = run("{\"model\":\"sandbox-image\",\"prompts\":[\"a\",\"b\"],\"count\":2,\"grid\":{\"width\":[256,512]}}");
        List<JobService.Variant> v = BatchExpansion.expand(r);
        assertThat(v).hasSize((int) r.jobCount()).hasSize(8);
        assertThat(v).extracting(JobService.Variant::prompt).containsExactly("a", "a", "a", "a", "b", "b", "b", "b");
        assertThat(v).extracting(x -> x.params().get("width")).containsExactly(256L, 512L, 256L, 512L, 256L, 512L, 256L, 512L);
        assertThat(v.getFirst().cell()).isEqualTo(Map.of("width", 256L));
    }

    @Test
    void copiesOfAFixedSeedStepItAndARandomSeedStaysRandom() {
        List<JobService.Variant> fixed = BatchExpansion.expand(run("{\"model\":\"sandbox-image\",\"prompts\":[\"a\"],\"count\":3,\"params\":{\"seed\":7}}"));
        assertThat(fixed).extracting(x -> x.params().get("seed")).containsExactly(7L, 8L, 9L);
        List<JobService.Variant> random = BatchExpansion.expand(run("{\"model\":\"sandbox-image\",\"prompts\":[\"a\"],\"count\":2}"));
        assertThat(random).extracting(x -> x.params().get("seed")).containsExactly(-1L, -1L);
        List<JobService.Variant> gridSeed = BatchExpansion.expand(
                run("{\"model\":\"sandbox-image\",\"prompts\":[\"a\"],\"count\":2,\"grid\":{\"seed\":[3]}}"));
        assertThat(gridSeed).as("a seed from the grid is kept as given").extracting(x -> x.params().get("seed")).containsExactly(3L, 3L);
    }
}
