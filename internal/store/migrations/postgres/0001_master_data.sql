-- 0001 master data: accounts, subscribers, tariff plans (versioned
-- documents) and the history of plan assignments.
--
-- Conventions (PostgreSQL): ids are TEXT; money is NUMERIC without a type
-- modifier, so that the scale given is kept exactly ("12.3456789"); times
-- are TIMESTAMPTZ (microseconds, the store truncates to match); plan
-- documents are BYTEA so that their bytes, and so their checksum, survive
-- unchanged.

CREATE TABLE accounts (
    id           TEXT        NOT NULL PRIMARY KEY,
    name         TEXT        NOT NULL,
    external_id  TEXT,
    type         TEXT        NOT NULL CHECK (type IN ('prepaid', 'postpaid')),
    currency     CHAR(3)     NOT NULL,
    credit_limit NUMERIC     NOT NULL,
    status       TEXT        NOT NULL CHECK (status IN ('active', 'suspended', 'barred', 'closed')),
    billing_day  SMALLINT    NOT NULL CHECK (billing_day BETWEEN 1 AND 28),
    version      BIGINT      NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

CREATE UNIQUE INDEX accounts_external_id_key ON accounts (external_id) WHERE external_id IS NOT NULL;
CREATE INDEX accounts_status_idx ON accounts (status, id);

CREATE TABLE subscribers (
    id          TEXT        NOT NULL PRIMARY KEY,
    account_id  TEXT        NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
    imsi        TEXT,
    msisdn      TEXT,
    supi        TEXT,
    external_id TEXT,
    status      TEXT        NOT NULL CHECK (status IN ('active', 'suspended', 'barred', 'closed')),
    version     BIGINT      NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    CHECK (imsi IS NOT NULL OR msisdn IS NOT NULL OR supi IS NOT NULL OR external_id IS NOT NULL)
);

CREATE UNIQUE INDEX subscribers_imsi_key ON subscribers (imsi) WHERE imsi IS NOT NULL;
CREATE UNIQUE INDEX subscribers_msisdn_key ON subscribers (msisdn) WHERE msisdn IS NOT NULL;
CREATE UNIQUE INDEX subscribers_supi_key ON subscribers (supi) WHERE supi IS NOT NULL;
CREATE UNIQUE INDEX subscribers_external_id_key ON subscribers (external_id) WHERE external_id IS NOT NULL;
CREATE INDEX subscribers_account_id_idx ON subscribers (account_id, id);

-- A plan is a named, versioned document; its format belongs to the rating
-- package. Deleting a plan only marks it deleted: versions stay for history.
CREATE TABLE plans (
    id             TEXT        NOT NULL PRIMARY KEY,
    latest_version INTEGER     NOT NULL,
    deleted        BOOLEAN     NOT NULL DEFAULT FALSE,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE plan_versions (
    plan_id    TEXT        NOT NULL REFERENCES plans (id) ON DELETE RESTRICT,
    version    INTEGER     NOT NULL CHECK (version >= 1),
    name       TEXT        NOT NULL,
    currency   CHAR(3)     NOT NULL,
    document   BYTEA       NOT NULL,
    source     TEXT        NOT NULL CHECK (source IN ('api', 'file')),
    checksum   TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (plan_id, version)
);

-- Which plan rates an account when: [valid_from, valid_until), NULL = open.
-- The store keeps an account's rows free of overlap.
CREATE TABLE plan_assignments (
    account_id  TEXT        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    plan_id     TEXT        NOT NULL REFERENCES plans (id) ON DELETE RESTRICT,
    valid_from  TIMESTAMPTZ NOT NULL,
    valid_until TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, valid_from),
    CHECK (valid_until IS NULL OR valid_until > valid_from)
);

CREATE INDEX plan_assignments_plan_id_idx ON plan_assignments (plan_id, valid_until);
