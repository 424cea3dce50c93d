package dev.kiln.asset;

import dev.kiln.asset.storage.BlobStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The {@code blobs} ledger: which blobs are in the store, which are being written, and how many
 * bytes they take (for the quota). Every instance shares it through the database, which is what
 * makes "no orphan is ever left" and "the quota holds" true for a bucket several instances write.
 *
 * <p>The protocol, per blob:
 * <ol>
 *   <li>{@link #hold}: before uploading, a writer counts itself in ({@code holders + 1}) and sets
 *       {@code held_until} an hour ahead; a blob new to the ledger adds its size to the usage, in
 *       the same transaction and only if the quota allows (else nothing is held and nothing is
 *       uploaded).
 *   <li>The writer uploads (or finds the bytes already there).
 *   <li>{@link #settle}: in the transaction that inserts the asset row the writer counts itself
 *       out; the last one out clears {@code held_until} when a row uses the blob, or makes it a
 *       candidate for removal ({@code held_until = now}) when none does.
 * </ol>
 * A writer that crashes between 2 and 3 leaves {@code held_until} in the past: {@link #collectDue}
 * then removes the blob if no row uses it. {@link #collect} locks the ledger row while it checks
 * and deletes, and a writer's hold waits for that lock, so a blob is never deleted under a writer
 * that has just found it present.
 */
final class BlobLedger {
    private static final Logger log = LoggerFactory.getLogger(BlobLedger.class);
    /** How long a writer may take from its hold to its commit before the blob is up for collection. */
    static final Duration HOLD = Duration.ofHours(1);

    private final JdbcClient jdbc;
    private final TransactionTemplate tx;
    private final BlobStore store;
    private final long quota;
    private final Clock clock;

    BlobLedger(JdbcClient jdbc, TransactionTemplate tx, BlobStore store, long quota, Clock clock) {
        this.jdbc = jdbc;
        this.tx = tx;
        this.store = store;
        this.quota = quota;
        this.clock = clock;
    }

    /**
     * Blobs a writer holds until it settles or releases them; {@code fresh} are those the ledger did
     * not know (so the store cannot have them, unless a stray copy: storing them again is harmless).
     */
    record Hold(Set<String> shas, Set<String> fresh) {}

    /**
     * Counts the caller in as a writer of these blobs (hash → size) and reserves the room of those
     * new to the store.
     *
     * @throws StorageFullException when the new bytes would pass the quota; nothing is held then
     */
    Hold hold(Map<String, Long> blobs) {
        // Sorted: two writers of the same blobs lock their rows in the same order.
        TreeMap<String, Long> sorted = new TreeMap<>(blobs);
        OffsetDateTime now = now(), until = at(clock.instant().plus(HOLD));
        Set<String> fresh = new HashSet<>();
        tx.executeWithoutResult(s -> {
            fresh.clear();
            long added = 0;
            for (Map.Entry<String, Long> b : sorted.entrySet()) {
                while (true) {
                    int held = jdbc.sql("UPDATE blobs SET holders = holders + 1,"
                                    + " held_until = CASE WHEN held_until IS NULL OR held_until < :until THEN :until ELSE held_until END"
                                    + " WHERE sha256 = :sha")
                            .param("until", until).param("sha", b.getKey()).update();
                    if (held == 1) break;
                    int inserted = jdbc.sql("INSERT INTO blobs (sha256, size, holders, held_until, created_at)"
                                    + " VALUES (:sha, :size, 1, :until, :now) ON CONFLICT DO NOTHING")
                            .param("sha", b.getKey()).param("size", b.getValue()).param("until", until).param("now", now).update();
                    if (inserted == 1) {
                        added += b.getValue();
                        fresh.add(b.getKey());
                        break;
                    }
                    // Another writer inserted it between our update and our insert: count in again.
                }
            }
            if (added > 0) reserve(added);
        });
        return new Hold(sorted.keySet(), fresh);
    }

    private void reserve(long bytes) {
        int ok = jdbc.sql("UPDATE storage_usage SET bytes = bytes + :add WHERE id = 1 AND (:quota < 0 OR bytes + :add <= :quota)")
                .param("add", bytes).param("quota", quota).update();
        if (ok == 0) throw new StorageFullException(quota, used(), bytes);
    }

    /**
     * Counts a writer out after it inserted the rows that use these blobs, in that same
     * transaction. A rollback undoes both: the hold then expires and the janitor decides.
     */
    void settle(Collection<String> shas) {
        if (shas.isEmpty()) return;
        jdbc.sql("UPDATE blobs SET holders = CASE WHEN holders > 0 THEN holders - 1 ELSE 0 END,"
                        + " held_until = CASE WHEN holders > 1 THEN held_until"
                        + " WHEN EXISTS (SELECT 1 FROM assets a WHERE a.sha256 = blobs.sha256)"
                        + " OR EXISTS (SELECT 1 FROM assets t WHERE t.thumb_sha256 = blobs.sha256) THEN NULL"
                        + " ELSE :now END"
                        + " WHERE sha256 IN (:shas)")
                .param("now", now()).param("shas", new HashSet<>(shas)).update();
    }

    /** A writer gives up (its upload failed): counts it out and removes what no one uses. */
    void release(Hold h) {
        try {
            tx.executeWithoutResult(s -> jdbc.sql("UPDATE blobs SET holders = CASE WHEN holders > 0 THEN holders - 1 ELSE 0 END,"
                            + " held_until = CASE WHEN holders > 1 THEN held_until ELSE :now END WHERE sha256 IN (:shas)")
                    .param("now", now()).param("shas", h.shas()).update());
            for (String sha : h.shas()) collectQuietly(sha);
        } catch (RuntimeException e) {
            // The hold expires by itself; the janitor removes what is left.
            log.debug("Cannot release the hold on {}: {}", h.shas(), e.toString());
        }
    }

    /** Rows using these blobs are being deleted (in the caller's transaction): check them afterwards. */
    void markCandidates(Collection<String> shas) {
        if (shas.isEmpty()) return;
        jdbc.sql("UPDATE blobs SET held_until = :now WHERE sha256 IN (:shas) AND held_until IS NULL")
                .param("now", now()).param("shas", new HashSet<>(shas)).update();
    }

    /**
     * Removes the blob from the store and the ledger if no writer holds it and no row uses it;
     * settles it if a row does. The ledger row stays locked while the store deletes, so a writer
     * holding the blob at that moment waits and then finds it gone (and uploads it again).
     *
     * @return whether the blob was removed
     * @throws dev.kiln.asset.storage.StorageUnavailableException if the store could not delete it
     *     (the blob stays a candidate)
     */
    boolean collect(String sha) {
        Boolean removed = tx.execute(s -> {
            var row = jdbc.sql("SELECT size, holders, held_until FROM blobs WHERE sha256 = :sha FOR UPDATE")
                    .param("sha", sha)
                    .query((rs, i) -> new Object[] {rs.getLong(1), rs.getInt(2), rs.getObject(3, OffsetDateTime.class)})
                    .optional();
            if (row.isEmpty()) return false;
            long size = (Long) row.get()[0];
            int holders = (Integer) row.get()[1];
            OffsetDateTime until = (OffsetDateTime) row.get()[2];
            if (holders > 0 && until != null && until.toInstant().isAfter(clock.instant())) return false;
            boolean used = jdbc.sql("SELECT 1 FROM assets WHERE sha256 = :sha OR thumb_sha256 = :sha LIMIT 1")
                    .param("sha", sha).query(Integer.class).optional().isPresent();
            if (used) {
                jdbc.sql("UPDATE blobs SET holders = 0, held_until = NULL WHERE sha256 = :sha").param("sha", sha).update();
                return false;
            }
            store.delete(sha);
            jdbc.sql("DELETE FROM blobs WHERE sha256 = :sha").param("sha", sha).update();
            jdbc.sql("UPDATE storage_usage SET bytes = bytes - :size WHERE id = 1").param("size", size).update();
            return true;
        });
        return Boolean.TRUE.equals(removed);
    }

    boolean collectQuietly(String sha) {
        try {
            return collect(sha);
        } catch (RuntimeException e) {
            // Still a candidate in the ledger: the janitor tries again.
            log.warn("Cannot remove the stored blob {} yet: {}", sha, e.getMessage());
            return false;
        }
    }

    /** Collects every blob whose hold expired or that became a candidate; returns how many were removed. */
    int collectDue() {
        int removed = 0;
        Set<String> seen = new HashSet<>();
        while (true) {
            List<String> due = jdbc.sql("SELECT sha256 FROM blobs WHERE held_until < :now ORDER BY held_until LIMIT 500")
                    .param("now", now()).query(String.class).list();
            List<String> fresh = due.stream().filter(seen::add).toList();
            if (fresh.isEmpty()) return removed;
            for (String sha : fresh) {
                if (collectQuietly(sha)) removed++;
            }
        }
    }

    /**
     * Blobs in the store that the ledger does not know, older than {@code olderThan} (left by a
     * Kiln before the ledger, or put there by hand): recorded, then collected like any other.
     */
    int adoptStrays(Instant olderThan) {
        List<BlobStore.BlobStat> batch = new ArrayList<>();
        int[] removed = {0};
        store.forEach(b -> {
            if (!b.modified().isBefore(olderThan)) return;
            batch.add(b);
            if (batch.size() >= 500) {
                removed[0] += adopt(batch);
                batch.clear();
            }
        });
        return removed[0] + adopt(batch);
    }

    private int adopt(List<BlobStore.BlobStat> batch) {
        if (batch.isEmpty()) return 0;
        Set<String> known = new HashSet<>(jdbc.sql("SELECT sha256 FROM blobs WHERE sha256 IN (:shas)")
                .param("shas", batch.stream().map(BlobStore.BlobStat::sha256).toList()).query(String.class).list());
        int removed = 0;
        for (BlobStore.BlobStat b : batch) {
            if (known.contains(b.sha256())) continue;
            tx.executeWithoutResult(s -> {
                int inserted = jdbc.sql("INSERT INTO blobs (sha256, size, holders, held_until, created_at)"
                                + " VALUES (:sha, :size, 0, :now, :now) ON CONFLICT DO NOTHING")
                        .param("sha", b.sha256()).param("size", b.size()).param("now", now()).update();
                if (inserted == 1) {
                    jdbc.sql("UPDATE storage_usage SET bytes = bytes + :size WHERE id = 1").param("size", b.size()).update();
                }
            });
            if (collectQuietly(b.sha256())) removed++;
        }
        return removed;
    }

    /** Bytes of every blob stored or being stored. */
    long used() {
        return jdbc.sql("SELECT bytes FROM storage_usage WHERE id = 1").query(Long.class).optional().orElse(0L);
    }

    long quota() {
        return quota;
    }

    /** @throws StorageFullException when the quota is already used up */
    void checkRoom() {
        if (quota < 0) return;
        long used = used();
        if (used >= quota) throw new StorageFullException(quota, used, 0);
    }

    private OffsetDateTime now() {
        return at(clock.instant());
    }

    private static OffsetDateTime at(Instant i) {
        return i.atOffset(ZoneOffset.UTC);
    }
}
