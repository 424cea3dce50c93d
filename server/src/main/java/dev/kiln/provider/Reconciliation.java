package dev.kiln.provider;

import java.util.List;

/** What the provider's records say about an ambiguous submission. */
public sealed interface Reconciliation {

    /** The provider has it: track this remote job. */
    record Found(Submitted submitted) implements Reconciliation {}

    /** The provider's records prove it never received the request: it is safe to submit. */
    record NotFound() implements Reconciliation {}

    /**
     * The provider cannot answer now (unreachable, its list failed): Kiln asks again later, until
     * the job's deadline, and only then gives up.
     */
    record NotYet(String reason) implements Reconciliation {}

    /**
     * The provider holds jobs that may be this submission but shows too little to tell (WaveSpeed
     * lists no inputs; Replicate keeps no data URIs): any of them may be this one unless it belongs
     * to another Kiln job. Kiln submits only when every one of them does (then this one provably
     * never arrived), and otherwise fails the job as ambiguous rather than pay twice.
     *
     * @param remoteIds the candidates' remote ids, never empty
     * @param reason why they cannot be told apart, for the job's error message
     */
    record Unconfirmed(List<String> remoteIds, String reason) implements Reconciliation {
        public Unconfirmed {
            remoteIds = List.copyOf(remoteIds);
            if (remoteIds.isEmpty()) throw new IllegalArgumentException("no candidates: that is NotFound");
        }
    }

    /** No way to tell: Kiln fails the job rather than risk paying twice. */
    record Unknown(String reason) implements Reconciliation {}
}
