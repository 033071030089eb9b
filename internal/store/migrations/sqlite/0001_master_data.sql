-- 0001 master data: accounts, subscribers, tariff plans (versioned
-- documents) and the history of plan assignments.
--
-- Conventions (SQLite): ids are TEXT; money is TEXT holding an exact decimal
-- ("12.3456789"); times are TEXT in UTC, fixed width with microseconds
-- ("2025-01-02T03:04:05.000000Z") so that text order is time order; booleans
-- are INTEGER 0/1. Tables are STRICT so that a value of the wrong type is an
-- error, not a silent conversion.

CREATE TABLE accounts (
    id           TEXT    NOT NULL PRIMARY KEY,
    name         TEXT    NOT NULL,
    external_id  TEXT,
    type         TEXT    NOT NULL CHECK (type IN ('prepaid', 'postpaid')),
    currency     TEXT    NOT NULL CHECK (length(currency) = 3),
    credit_limit TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('active', 'suspended', 'barred', 'closed')),
    billing_day  INTEGER NOT NULL CHECK (billing_day BETWEEN 1 AND 28),
    version      INTEGER NOT NULL,
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL
) STRICT;

CREATE UNIQUE INDEX accounts_external_id_key ON accounts (external_id) WHERE external_id IS NOT NULL;
CREATE INDEX accounts_status_idx ON accounts (status, id);

CREATE TABLE subscribers (
    id          TEXT    NOT NULL PRIMARY KEY,
    account_id  TEXT    NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
    imsi        TEXT,
    msisdn      TEXT,
    supi        TEXT,
    external_id TEXT,
    status      TEXT    NOT NULL CHECK (status IN ('active', 'suspended', 'barred', 'closed')),
    version     INTEGER NOT NULL,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    CHECK (imsi IS NOT NULL OR msisdn IS NOT NULL OR supi IS NOT NULL OR external_id IS NOT NULL)
) STRICT;

CREATE UNIQUE INDEX subscribers_imsi_key ON subscribers (imsi) WHERE imsi IS NOT NULL;
CREATE UNIQUE INDEX subscribers_msisdn_key ON subscribers (msisdn) WHERE msisdn IS NOT NULL;
CREATE UNIQUE INDEX subscribers_supi_key ON subscribers (supi) WHERE supi IS NOT NULL;
CREATE UNIQUE INDEX subscribers_external_id_key ON subscribers (external_id) WHERE external_id IS NOT NULL;
CREATE INDEX subscribers_account_id_idx ON subscribers (account_id, id);

-- A plan is a named, versioned document; its format belongs to the rating
-- package. Deleting a plan only marks it deleted: versions stay for history.
CREATE TABLE plans (
    id             TEXT    NOT NULL PRIMARY KEY,
    latest_version INTEGER NOT NULL,
    deleted        INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL
) STRICT;

CREATE TABLE plan_versions (
    plan_id    TEXT    NOT NULL REFERENCES plans (id) ON DELETE RESTRICT,
    version    INTEGER NOT NULL CHECK (version >= 1),
    name       TEXT    NOT NULL,
    currency   TEXT    NOT NULL,
    document   BLOB    NOT NULL,
    source     TEXT    NOT NULL CHECK (source IN ('api', 'file')),
    checksum   TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    PRIMARY KEY (plan_id, version)
) STRICT;

-- Which plan rates an account when: [valid_from, valid_until), NULL = open.
-- The store keeps an account's rows free of overlap.
CREATE TABLE plan_assignments (
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    plan_id     TEXT NOT NULL REFERENCES plans (id) ON DELETE RESTRICT,
    valid_from  TEXT NOT NULL,
    valid_until TEXT,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (account_id, valid_from),
    CHECK (valid_until IS NULL OR valid_until > valid_from)
) STRICT;

CREATE INDEX plan_assignments_plan_id_idx ON plan_assignments (plan_id, valid_until);
