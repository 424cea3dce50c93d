package dev.kiln.asset;

/**
 * Bytes already in Kiln's storage, checksummed and probed, that no database row refers to yet:
 * what {@link AssetService#storeOutput} returns, for the job engine to insert with
 * {@link AssetService#insertOutput} in the transaction that marks the job succeeded.
 * Dimensions and video fields are null where unknown; the thumbnail fields are null when there is
 * no thumbnail (images too large to decode, types ImageIO cannot read, videos whose first frame
 * Kiln cannot decode). A video's thumbnail is its poster, a still of the first frame.
 */
public record StoredMedia(
        String sha256, String mime, long size, Integer width, Integer height,
        Integer frames, Double fps, Long durationMs, String thumbSha256, String thumbMime) {}
