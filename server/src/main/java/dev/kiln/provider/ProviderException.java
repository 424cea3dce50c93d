package dev.kiln.provider;

import java.time.Duration;

/**
 * A provider call that did not work, sorted by what the caller does next. Messages carry the
 * provider's status, code and request id, never a credential.
 */
public abstract sealed class ProviderException extends RuntimeException {
    private final String provider;
    private final int httpStatus;
    private final String providerCode;

    ProviderException(String provider, String message, String providerCode, int httpStatus, Throwable cause) {
        super(message, cause, false, false);
        this.provider = provider;
        this.httpStatus = httpStatus;
        this.providerCode = providerCode;
    }

    public String provider() { return provider; }
    public int httpStatus() { return httpStatus; }
    public String providerCode() { return providerCode; }

    @Override
    public String getMessage() {
        StringBuilder sb = new StringBuilder(provider).append(": ").append(super.getMessage());
        if (httpStatus > 0) sb.append(" (HTTP ").append(httpStatus);
        if (providerCode != null) sb.append(httpStatus > 0 ? ", " : " (").append("code ").append(providerCode);
        if (httpStatus > 0 || providerCode != null) sb.append(')');
        return sb.toString();
    }

    /** The provider is unreachable or answered with a server error: retry later, with backoff. */
    public static final class Unavailable extends ProviderException {
        public Unavailable(String provider, String message, int httpStatus, Throwable cause) {
            super(provider, message, null, httpStatus, cause);
        }
    }

    /** Too many requests: back off this account until {@link #retryAfter()} (may be null). */
    public static final class RateLimited extends ProviderException {
        private final Duration retryAfter;

        public RateLimited(String provider, String message, Duration retryAfter) {
            super(provider, message, null, 429, null);
            this.retryAfter = retryAfter;
        }

        public Duration retryAfter() { return retryAfter; }
    }

    /** The credential was refused: quarantine the account; the job may go to another one. */
    public static final class AuthFailed extends ProviderException {
        public AuthFailed(String provider, String message, int httpStatus) {
            super(provider, message, null, httpStatus, null);
        }
    }

    /** The provider refused this request (bad input, moderation): fail the job, no retry. */
    public static final class Rejected extends ProviderException {
        public Rejected(String provider, String message, String providerCode, int httpStatus) {
            super(provider, message, providerCode, httpStatus, null);
        }
    }

    /** The remote job (or output) no longer exists at the provider: fail the job. */
    public static final class NotFound extends ProviderException {
        public NotFound(String provider, String message, int httpStatus) {
            super(provider, message, null, httpStatus, null);
        }
    }

    /**
     * A submit whose outcome is unknown (timeout or reset after the request was sent, or an answer
     * that cannot be read): reconcile, never resubmit blindly.
     */
    public static final class Ambiguous extends ProviderException {
        public Ambiguous(String provider, String message, Throwable cause) {
            super(provider, message, null, 0, cause);
        }
    }

    /** The provider answered something Kiln cannot read: treated like {@link Unavailable} for reads. */
    public static final class Malformed extends ProviderException {
        public Malformed(String provider, String message, int httpStatus) {
            super(provider, message, null, httpStatus, null);
        }
    }
}
