package dev.kiln.provider;

import tools.jackson.databind.JsonNode;

/**
 * The provider accepted a job.
 *
 * @param remoteId the provider's id for it
 * @param remote what the adapter needs to remember about it (stored by Kiln, handed back in
 *     {@link RemoteRef}); may be null
 * @param status its state if the answer already told (e.g. a synchronous mode), else null
 */
public record Submitted(String remoteId, JsonNode remote, RemoteStatus status) {}
