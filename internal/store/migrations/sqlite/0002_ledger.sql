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
-- at is the op's acceptance time in unix nanoseconds (UTC), an INTEGER
-- unlike the TEXT times of 0001: it is the journal's own representation, so
-- the projection holds exactly what the journal holds (no truncation to
-- microseconds), it compares and range-scans as a plain integer, and it is
-- 8 bytes in an index that every entry updates. Money (delta, balance,
-- held_delta, held) is TEXT holding an exact decimal, as in 0001; bucket
-- units are decimals of scale 0. Sums are computed in Go, never with SQL
-- sum() (which would go through a binary float in SQLite).
--
-- WITHOUT ROWID: rows are small and the primary key is the natural order of
-- arrival, so the table is its primary-key B-tree (one B-tree less to write
-- per entry than a rowid table with a separate key index).

CREATE TABLE ledger_entries (
    journal_seq INTEGER NOT NULL CHECK (journal_seq > 0),
    idx         INTEGER NOT NULL CHECK (idx >= 0),
    partition   INTEGER NOT NULL,
    account_id  TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    op_key      TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    reservation TEXT    NOT NULL DEFAULT '',
    asset       TEXT    NOT NULL,
    delta       TEXT    NOT NULL,
    balance     TEXT    NOT NULL,
    held_delta  TEXT    NOT NULL,
    held        TEXT    NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (journal_seq, idx)
) STRICT, WITHOUT ROWID;

-- The account statement: by account and time, paged by (at, journal_seq, idx).
CREATE INDEX ledger_entries_account_at_idx ON ledger_entries (account_id, at, journal_seq, idx);

-- How far each projection has applied its journal: the highest journal
-- sequence committed (it never moves backwards).
CREATE TABLE projection_offsets (
    name       TEXT    NOT NULL PRIMARY KEY,
    seq        INTEGER NOT NULL CHECK (seq >= 0),
    updated_at TEXT    NOT NULL
) STRICT;
