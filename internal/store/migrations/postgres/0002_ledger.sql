-- 0002 ledger: the SQL projection of the balance journals (package
-- balance/ledger feeds it from a durable JetStream consumer).
--
-- One row per ledger entry (balance.Entry): one movement of one balance or
-- bucket of one account. (journal_seq, idx) — the journal record's sequence
-- and the entry's position in it — identify an entry, which makes the
-- projection idempotent: re-applying a redelivered record inserts nothing.
--
-- No foreign key to accounts: the balance engine may know an account before
-- its master data is visible here, and the ledger must never reject an entry.
--
-- at is the op's acceptance time in unix nanoseconds (UTC), a BIGINT unlike
-- the TIMESTAMPTZ of 0001: it is the journal's own representation, so the
-- projection holds exactly what the journal holds (TIMESTAMPTZ would
-- truncate to microseconds), and both dialects store the same value. For a
-- human: to_timestamp(at / 1e9). Money is NUMERIC without a type modifier
-- (the scale given is kept exactly), as in 0001; bucket units are decimals
-- of scale 0.

CREATE TABLE ledger_entries (
    journal_seq BIGINT  NOT NULL CHECK (journal_seq > 0),
    idx         INTEGER NOT NULL CHECK (idx >= 0),
    partition   INTEGER NOT NULL,
    account_id  TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    op_key      TEXT    NOT NULL,
    at          BIGINT  NOT NULL,
    reservation TEXT    NOT NULL DEFAULT '',
    asset       TEXT    NOT NULL,
    delta       NUMERIC NOT NULL,
    balance     NUMERIC NOT NULL,
    held_delta  NUMERIC NOT NULL,
    held        NUMERIC NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (journal_seq, idx)
);

-- The account statement: by account and time, paged by (at, journal_seq, idx).
CREATE INDEX ledger_entries_account_at_idx ON ledger_entries (account_id, at, journal_seq, idx);

-- How far each projection has applied its journal: the highest journal
-- sequence committed (it never moves backwards).
CREATE TABLE projection_offsets (
    name       TEXT        NOT NULL PRIMARY KEY,
    seq        BIGINT      NOT NULL CHECK (seq >= 0),
    updated_at TIMESTAMPTZ NOT NULL
);
