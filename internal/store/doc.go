// Package store is tollgate's records store (DESIGN.md §3): the SQL database
// that holds master data — accounts, subscribers, tariff plans and the
// history of which plan applied to an account when. Later records (rated
// CDRs, statistics, the error table, ledger, bills) join it.
//
// # Engines
//
// SQLite (modernc.org/sqlite, pure Go) is the embedded default: Config.DSN
// is the database file, whose directory Open creates. Open adds these
// pragmas unless the DSN already sets them: WAL journal, busy_timeout 10 s,
// foreign_keys on, synchronous FULL (a commit survives power loss), and
// _txlock=immediate so that write transactions take the database lock at
// BEGIN and queue instead of failing to upgrade. PostgreSQL
// (github.com/jackc/pgx/v5 through database/sql) is used when Config.Driver
// is "postgres" or the DSN is a postgres:// URL; a search_path parameter in
// the URL selects a schema.
//
// # Schema and migrations
//
// Migrations are embedded SQL files, migrations/<dialect>/NNNN_name.sql, one
// set per dialect with the same versions. Each runs in its own transaction
// together with its row in schema_migrations(version, name, applied_at), so
// a failed migration leaves nothing behind; PostgreSQL migrators take an
// advisory lock per schema. Open migrates when Config.Migrate is set and
// otherwise insists on the current version; it always refuses a database
// whose schema is newer than the binary (ErrSchemaTooNew).
//
// Queries are written once with ? placeholders and rebound to $n for
// PostgreSQL. Dialect differences are confined to column types:
//
//	value      SQLite (STRICT tables)                PostgreSQL
//	money      TEXT  exact decimal "12.3456789"      NUMERIC (scale kept)
//	time       TEXT  "2006-01-02T15:04:05.000000Z"   TIMESTAMPTZ
//	boolean    INTEGER 0/1                           BOOLEAN
//	document   BLOB                                  BYTEA
//
// Times are UTC with microsecond precision in both (the store truncates on
// the way in, so both dialects return identical values); SQLite's fixed-width
// text sorts in time order. Money is scanned through money.Decimal and never
// passes through float64.
//
// Tables: accounts; subscribers (unique partial indexes on imsi, msisdn,
// supi and external_id, each when set); plans (one row per plan: latest
// version, deleted flag) and plan_versions (the documents, kept verbatim with
// their SHA-256); plan_assignments ([valid_from, valid_until) per account,
// primary key (account_id, valid_from)).
//
// # Semantics
//
// Every state change is idempotent. Create with an existing id and the same
// content returns the stored record (created=false), with different content
// ErrConflict. Updates carry the version they were based on (optimistic
// concurrency, ErrStale otherwise); repeating an update that already took
// effect returns the stored record. PutPlan appends a version unless the
// document's checksum equals the latest one. AssignPlan of the same plan from
// the same instant returns the existing assignment.
//
// Errors wrap ErrNotFound, ErrConflict, ErrStale, ErrInUse or, for bad input,
// account.ErrInvalid (a *account.FieldError naming the field). Unique and
// foreign-key violations of both drivers are mapped to these, with the field
// named ("imsi \"001010000000001\" already belongs to another subscriber").
//
// The clock (Config.Now) is injected for timestamps; generated ids are
// UUIDv7 strings.
package store
