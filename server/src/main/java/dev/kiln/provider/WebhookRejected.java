package dev.kiln.provider;

/** A webhook that failed verification; answered 401 and changes nothing. */
public class WebhookRejected extends RuntimeException {
    public WebhookRejected(String reason) {
        super(reason, null, false, false);
    }
}
