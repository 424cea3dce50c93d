package dev.kiln.asset;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.kiln.support.Ids;
import dev.kiln.support.Json;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.databind.node.ObjectNode;

/** What {@link AssetRepository} must do on every database Kiln runs on. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class AssetRepositoryContract {
    private HikariDataSource ds;
    private JdbcClient jdbc;
    private AssetRepository repo;

    abstract HikariDataSource openDatabase() throws Exception;

    void closeDatabase(HikariDataSource ds) throws Exception {
        ds.close();
    }

    @BeforeAll
    void open() throws Exception {
        ds = openDatabase();
        jdbc = JdbcClient.create(ds);
        repo = new AssetRepository(jdbc);
    }

    @AfterAll
    void close() throws Exception {
        if (ds != null) closeDatabase(ds);
    }

    @BeforeEach
    void empty() {
        jdbc.sql("DELETE FROM assets").update();
    }

    static final String SHA_A = "a".repeat(64);
    static final String SHA_B = "b".repeat(64);
    static final String SHA_C = "c".repeat(64);

    static Asset input(String owner, String sha) {
        return new Asset(Ids.newId("ast"), owner, Asset.ROLE_INPUT, null, null, sha, "image/png", 1234, 640, 480,
                null, null, null, sha, "image/png", false, null, Instant.now().truncatedTo(ChronoUnit.MICROS));
    }

    static Asset output(String job, int index, String sha) {
        return new Asset(Ids.newId("ast"), "usr_1", Asset.ROLE_OUTPUT, job, index, sha, "image/jpeg", 99, 1024, 768,
                null, null, null, null, null, true, null, Instant.now().truncatedTo(ChronoUnit.MICROS));
    }

    @Test
    void everyColumnSurvivesTheRoundTrip() {
        ObjectNode meta = Json.object();
        meta.put("model", "sandbox-video").put("seed", 42).put("prompt", "a kiln at dusk, «quoted»");
        meta.putObject("params").put("cfg", 7.5).putArray("loras").add("x").add("y");
        Asset a = new Asset(Ids.newId("ast"), "usr_1", Asset.ROLE_OUTPUT, "job_1", 3, SHA_A, "video/mp4", 5_000_000_000L,
                1280, 720, 120, 23.976, 5005L, SHA_B, "image/jpeg", true, meta,
                Instant.parse("2025-06-01T10:15:30.123456Z"));

        assertThat(repo.insert(a)).isEqualTo(a);
        assertThat(repo.find(a.id())).contains(a);
        assertThat(repo.find("ast_missing")).isEmpty();

        Asset bare = input("usr_2", SHA_C);
        Asset nulls = new Asset(bare.id(), bare.ownerId(), bare.role(), null, null, SHA_C, "image/png", 1, null, null,
                null, null, null, null, null, false, null, bare.createdAt());
        assertThat(repo.insert(nulls)).isEqualTo(nulls);
        assertThat(repo.find(nulls.id())).contains(nulls);
    }

    @Test
    void repeatingAnOutputInsertChangesNothingAndReturnsTheFirstRow() {
        Asset first = repo.insert(output("job_1", 0, SHA_A));
        Asset again = repo.insert(output("job_1", 0, SHA_B));

        assertThat(again).isEqualTo(first);
        assertThat(repo.listByJob("job_1")).containsExactly(first);
        assertThat(repo.insert(output("job_1", 1, SHA_B)).outputIndex()).isEqualTo(1);
        assertThat(repo.listByJob("job_1")).hasSize(2);
    }

    @Test
    void concurrentInsertsOfTheSameOutputLeaveOneRow() throws Exception {
        TransactionTemplate tx = new TransactionTemplate(new DataSourceTransactionManager(ds));
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Asset>> results = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                String sha = i == 0 ? SHA_A : SHA_B;
                results.add(pool.submit(() -> {
                    start.await();
                    return tx.execute(s -> repo.insert(output("job_race", 0, sha)));
                }));
            }
            start.countDown();
            Asset one = results.get(0).get(20, TimeUnit.SECONDS);
            Asset two = results.get(1).get(20, TimeUnit.SECONDS);
            assertThat(one).isEqualTo(two);
        } finally {
            pool.shutdownNow();
        }
        assertThat(repo.listByJob("job_race")).hasSize(1);
    }

    @Test
    void inputsHaveNoJobAndNeverCollide() {
        repo.insert(input("usr_1", SHA_A));
        repo.insert(input("usr_1", SHA_A));
        assertThat(repo.listByOwner("usr_1", null, 10)).hasSize(2);
    }

    @Test
    void aJobsOutputsComeInOutputOrder() {
        Asset two = repo.insert(output("job_1", 2, SHA_C));
        Asset zero = repo.insert(output("job_1", 0, SHA_A));
        Asset one = repo.insert(output("job_1", 1, SHA_B));
        repo.insert(output("job_2", 0, SHA_A));

        assertThat(repo.listByJob("job_1")).containsExactly(zero, one, two);
        assertThat(repo.findOutput("job_1", 1)).contains(one);
        assertThat(repo.listByJob("job_none")).isEmpty();
    }

    @Test
    void anOwnersAssetsPageNewestFirst() {
        List<Asset> mine = new ArrayList<>();
        for (int i = 0; i < 5; i++) mine.add(repo.insert(input("usr_1", SHA_A)));
        repo.insert(input("usr_2", SHA_A));

        List<Asset> page1 = repo.listByOwner("usr_1", null, 2);
        assertThat(page1).containsExactly(mine.get(4), mine.get(3));
        List<Asset> page2 = repo.listByOwner("usr_1", page1.getLast().id(), 2);
        assertThat(page2).containsExactly(mine.get(2), mine.get(1));
        List<Asset> page3 = repo.listByOwner("usr_1", page2.getLast().id(), 2);
        assertThat(page3).containsExactly(mine.get(0));
        assertThat(repo.listByOwner("usr_1", page3.getLast().id(), 2)).isEmpty();
    }

    @Test
    void deletesOneOrAllOfAJob() {
        Asset in = repo.insert(input("usr_1", SHA_A));
        repo.insert(output("job_1", 0, SHA_B));
        repo.insert(output("job_1", 1, SHA_C));
        Asset other = repo.insert(output("job_2", 0, SHA_C));

        assertThat(repo.deleteByJob("job_1")).isEqualTo(2);
        assertThat(repo.listByJob("job_1")).isEmpty();
        assertThat(repo.delete(in.id())).isTrue();
        assertThat(repo.delete(in.id())).isFalse();
        assertThat(repo.find(other.id())).contains(other);
    }

    @Test
    void knowsWhetherBytesAreStillUsedAsFileOrThumbnail() {
        Asset out = output("job_1", 0, SHA_A);
        repo.insert(new Asset(out.id(), out.ownerId(), out.role(), out.jobId(), out.outputIndex(), SHA_A, out.mime(), out.size(),
                out.width(), out.height(), null, null, null, SHA_B, "image/jpeg", false, null, out.createdAt()));

        assertThat(repo.isReferenced(SHA_A)).isTrue();
        assertThat(repo.isReferenced(SHA_B)).isTrue();
        assertThat(repo.isReferenced(SHA_C)).isFalse();
        repo.delete(out.id());
        assertThat(repo.isReferenced(SHA_A)).isFalse();
        assertThat(repo.isReferenced(SHA_B)).isFalse();
    }
}
