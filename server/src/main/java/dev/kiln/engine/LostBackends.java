package dev.kiln.engine;

import dev.kiln.job.ConcurrentJobChange;
import dev.kiln.job.Job;
import dev.kiln.job.JobChange;
import dev.kiln.job.JobStateMachine;
import dev.kiln.job.JobStatus;
import dev.kiln.job.JobStore;
import dev.kiln.job.Phase;
import dev.kiln.job.SubmitState;
import java.time.Clock;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * A backend that is gone for good (a ComfyUI pod whose container died): the jobs running on its
 * account go back to the queue at once, to run on another account, instead of polling a dead
 * server until their deadline. Only for backends where running a job again is safe and pays
 * nothing twice — a self-hosted ComfyUI, whose prompt died with it. The attempt is not counted
 * (the job did nothing wrong); a runner still holding the job sees it changed and lets go
 * ({@link ConcurrentJobChange}), as with a cancel.
 */
@Component
public class LostBackends {
    private static final Logger log = LoggerFactory.getLogger(LostBackends.class);
    private final JdbcClient jdbc;
    private final JobStore store;
    private final JobStateMachine machine;
    private final Clock clock;

    LostBackends(JdbcClient jdbc, JobStore store, JobStateMachine machine, Clock clock) {
        this.jdbc = jdbc;
        this.store = store;
        this.machine = machine;
        this.clock = clock;
    }

    /** Requeues every job running on this account; returns their ids. */
    public List<String> requeueJobsOn(String accountId, String reason) {
        List<String> ids = jdbc.sql("SELECT id FROM jobs WHERE account_id = ? AND status = 'running' AND phase IN ('submit', 'track')")
                .param(accountId).query(String.class).list();
        List<String> moved = new java.util.ArrayList<>();
        for (String id : ids) {
            for (int i = 0; i < 5; i++) {
                Job j = store.find(id).orElse(null);
                if (j == null || j.status() != JobStatus.RUNNING || !accountId.equals(j.accountId())
                        || !(j.phase() == Phase.SUBMIT || j.phase() == Phase.TRACK)) break;
                try {
                    machine.apply(j, JobChange.to(JobStatus.QUEUED, Phase.DISPATCH, "backend_lost")
                            .attempt(Math.max(0, j.attempt() - 1)).submitState(SubmitState.NONE).remoteId(null).remote(null)
                            .progress(0).error("backend_lost", reason).nextAt(clock.instant()).releaseLease());
                    moved.add(id);
                    break;
                } catch (ConcurrentJobChange e) {
                    // The runner moved it meanwhile; look again.
                }
            }
        }
        if (!moved.isEmpty()) log.warn("{} job(s) on account {} go back to the queue: {}", moved.size(), accountId, reason);
        return moved;
    }
}
