-- What each account can run, as its last health check found it (for ComfyUI: the node classes and
-- model files of its /object_info, summarised). Kept apart from the accounts row, which the
-- dispatcher reads every round: the row only says when the capabilities last changed.
ALTER TABLE accounts ADD COLUMN capabilities_at TIMESTAMP WITH TIME ZONE;

CREATE TABLE account_capabilities (
    account_id  VARCHAR(40) PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    checked_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    body        TEXT NOT NULL
);
