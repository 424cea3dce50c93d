package dev.kiln.asset;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Prints a storage misconfiguration as a plain "what is wrong / what to do" at start-up, without a stack trace. */
public class StorageFailureAnalyzer extends AbstractFailureAnalyzer<StorageConfigException> {
    @Override
    protected FailureAnalysis analyze(Throwable root, StorageConfigException cause) {
        return new FailureAnalysis(cause.getMessage(), cause.action(), cause);
    }
}
