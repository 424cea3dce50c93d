-- Storage (local folder or S3 bucket): a ledger of the content-addressed blobs Kiln stored or is
-- storing, shared by every instance. A writer records a hold (holders + 1, held_until) before it
-- uploads and settles it in the transaction that inserts the asset row; a blob whose hold expired
-- (its writer crashed between upload and commit) or whose last row went (held_until = the time it
-- became a candidate) is removed by the janitor once no asset uses it. held_until IS NULL: settled,
-- nothing to check.
CREATE TABLE blobs (
    sha256     CHAR(64) PRIMARY KEY,
    size       BIGINT   NOT NULL,
    holders    INT      NOT NULL DEFAULT 0,
    held_until TIMESTAMP WITH TIME ZONE,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX blobs_held ON blobs (held_until);

-- The bytes of every blob in the ledger, kept in the transactions that add or remove blobs, so a
-- quota (KILN_STORAGE_QUOTA) is checked and reserved in one statement.
CREATE TABLE storage_usage (
    id    INT    PRIMARY KEY,
    bytes BIGINT NOT NULL
);

-- Settings every instance must share: the key that signs asset URLs, the identity of the local
-- asset folder.
CREATE TABLE storage_settings (
    name       VARCHAR(64) PRIMARY KEY,
    val        TEXT        NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL
);

-- Blobs stored before this version. Thumbnails had no recorded size: they count as 0 bytes.
INSERT INTO blobs (sha256, size, holders, held_until, created_at)
    SELECT sha256, MAX(size), 0, NULL, MIN(created_at) FROM assets GROUP BY sha256;
INSERT INTO blobs (sha256, size, holders, held_until, created_at)
    SELECT thumb_sha256, 0, 0, NULL, MIN(created_at) FROM assets
    WHERE thumb_sha256 IS NOT NULL AND thumb_sha256 NOT IN (SELECT sha256 FROM blobs)
    GROUP BY thumb_sha256;
INSERT INTO storage_usage (id, bytes) SELECT 1, COALESCE(SUM(size), 0) FROM blobs;
