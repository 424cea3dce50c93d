package dev.kiln.provider;

import tools.jackson.databind.JsonNode;

/** A remote job as Kiln remembers it: the provider's id and what the adapter asked to keep. */
public record RemoteRef(String remoteId, JsonNode remote) {}
