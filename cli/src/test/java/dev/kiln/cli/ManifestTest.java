package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManifestTest {
    static Wire.Job job(String id, String status, String prompt, long seed, String errorCode, String errorMessage) {
        return Wire.JSON.readValue("""
                {"id": "%s", "run_id": "run_1", "model": "m", "mode": "txt2img", "status": "%s", "progress": 1,
                 "prompt": %s, "negative_prompt": null, "params": {"seed": %d, "width": 64}, "grid_cell": {"width": 64},
                 "attempts": 1, "outputs": [], "error": %s}
                """.formatted(id, status, Wire.JSON.writeValueAsString(prompt), seed,
                errorCode == null ? "null" : "{\"code\": \"" + errorCode + "\", \"message\": \"" + errorMessage + "\"}"), Wire.Job.class);
    }

    @Test
    void writesJsonAndCsvThatReadBack(@TempDir Path dir) throws Exception {
        Manifest m = new Manifest(dir, "http://localhost:8080", "m", "p.csv");
        m.addRun("run_1", "m");
        m.job(job("job_b", "failed", "a \"quoted\", prompt", 2, "provider_rejected", "size out of range"), 2, 7);
        m.job(job("job_a", "succeeded", "собака в шляпе", 1, null, null), 1, 3);
        m.files("job_a", List.of(new Manifest.FileEntry("0001_собака-в-шляпе_s1.png", 10, "ab", "image/png", 64, 64)));
        m.write();

        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("manifest.json", "manifest.csv");
        }

        Manifest back = Manifest.load(dir);
        assertThat(back.server()).isEqualTo("http://localhost:8080");
        assertThat(back.runs()).containsExactly("run_1");
        assertThat(back.entries()).extracting(Manifest.Entry::jobId).containsExactly("job_a", "job_b");
        assertThat(back.knownFile("job_a", 0)).isEqualTo("0001_собака-в-шляпе_s1.png");
        assertThat(back.entry("job_b").errorCode()).isEqualTo("provider_rejected");
        assertThat(back.entry("job_a").params().get("width").asInt()).isEqualTo(64);

        List<CSVRecord> rows = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get()
                .parse(new StringReader(Files.readString(dir.resolve("manifest.csv")))).getRecords();
        assertThat(rows).hasSize(2);
        assertThat(rows.get(0).getParser().getHeaderNames()).isEqualTo(Manifest.CSV_COLUMNS);
        assertThat(rows.get(0).get("job_id")).isEqualTo("job_a");
        assertThat(rows.get(0).get("line")).isEqualTo("3");
        assertThat(rows.get(0).get("seed")).isEqualTo("1");
        assertThat(rows.get(0).get("file")).isEqualTo("0001_собака-в-шляпе_s1.png");
        assertThat(rows.get(0).get("params")).isEqualTo("{\"seed\":1,\"width\":64}");
        assertThat(rows.get(0).get("grid_cell")).isEqualTo("{\"width\":64}");
        assertThat(rows.get(1).get("prompt")).isEqualTo("a \"quoted\", prompt");
        assertThat(rows.get(1).get("error_code")).isEqualTo("provider_rejected");
        assertThat(rows.get(1).get("error_message")).isEqualTo("size out of range");
        assertThat(rows.get(1).get("file")).isEmpty();
    }

    @Test
    void aLaterStateKeepsTheLineAndFilesAlreadyKnown(@TempDir Path dir) {
        Manifest m = new Manifest(dir, "u", "m", null);
        m.job(job("job_a", "running", "p", 1, null, null), 1, 5);
        m.files("job_a", List.of(new Manifest.FileEntry("f.png", 1, "x", "image/png", 1, 1)));
        m.job(job("job_a", "succeeded", "p", 1, null, null), 1, null);
        assertThat(m.entry("job_a").line()).isEqualTo(5);
        assertThat(m.entry("job_a").files()).hasSize(1);
        assertThat(m.entry("job_a").status()).isEqualTo("succeeded");
    }

    @Test
    void aFailedDownloadIsRecordedUntilASaveSucceeds(@TempDir Path dir) {
        Manifest m = new Manifest(dir, "u", "m", null);
        m.job(job("job_a", "succeeded", "p", 1, null, null), 1, 1);
        m.downloadFailed("job_a", "cannot download ast_1: 404");
        m.job(job("job_a", "succeeded", "p", 1, null, null), 1, null);
        assertThat(m.entry("job_a").errorCode()).isEqualTo("download_failed");
        m.files("job_a", List.of(new Manifest.FileEntry("f.png", 1, "x", "image/png", 1, 1)));
        assertThat(m.entry("job_a").errorCode()).isNull();
    }

    @Test
    void noManifestIsNull(@TempDir Path dir) {
        assertThat(Manifest.load(dir)).isNull();
    }

    @Test
    void aForeignManifestJsonIsAUsageError(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("manifest.json"), "[1, 2]");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Manifest.load(dir))
                .isInstanceOfSatisfying(CliException.class, e -> assertThat(e.exitCode()).isEqualTo(Exit.USAGE))
                .hasMessageContaining("is not a manifest this CLI wrote");
    }
}
