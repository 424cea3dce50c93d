package dev.kiln.provider;

/** A verified webhook: which remote job it is about, and the delivery id used to drop duplicates. */
public record WebhookNotice(String remoteId, String deliveryId) {}
