package dev.kiln.provider;

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

    /** No way to tell: Kiln fails the job rather than risk paying twice. */
    record Unknown(String reason) implements Reconciliation {}
}
