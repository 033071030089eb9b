package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migrations are SQL files migrations/<dialect>/NNNN_name.sql, applied in
// version order, each in its own transaction together with its row in
// schema_migrations. Both dialects must have the same versions.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations(dialect string) ([]migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("store: migrations for %s: %w", dialect, err)
	}
	var out []migration
	for _, e := range entries {
		base, ok := strings.CutSuffix(e.Name(), ".sql")
		if !ok {
			continue
		}
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || name == "" {
			return nil, fmt.Errorf("store: migration file %s/%s: want NNNN_name.sql", dir, e.Name())
		}
		b, err := fs.ReadFile(migrationFS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("store: %s migrations: version %d missing", dialect, i+1)
		}
	}
	return out, nil
}

// SchemaVersion returns the highest migration applied to the database, 0
// for an empty database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	return s.schemaVersion(ctx, s.db)
}

func (s *Store) schemaVersion(ctx context.Context, q querier) (int, error) {
	var exists bool
	var err error
	if s.pg() {
		err = q.QueryRowContext(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists)
	} else {
		err = q.QueryRowContext(ctx,
			`SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&exists)
	}
	if err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	if !exists {
		return 0, nil
	}
	var v sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return int(v.Int64), nil
}

// LatestSchemaVersion is the schema version this binary migrates to.
func (s *Store) LatestSchemaVersion() int {
	ms, err := loadMigrations(s.driver)
	if err != nil {
		return 0
	}
	return len(ms)
}

// checkSchema fails unless the database is exactly at the latest version.
func (s *Store) checkSchema(ctx context.Context) error {
	ms, err := loadMigrations(s.driver)
	if err != nil {
		return err
	}
	cur, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	switch latest := len(ms); {
	case cur > latest:
		return fmt.Errorf("%w: database at version %d, binary knows up to %d", ErrSchemaTooNew, cur, latest)
	case cur < latest:
		return fmt.Errorf("%w: database at version %d, binary needs %d (enable store migrate)", ErrSchemaOutdated, cur, latest)
	}
	return nil
}

// Migrate applies the pending migrations. It is safe to run again and from
// several processes at once (PostgreSQL serializes them with an advisory
// lock, SQLite with its database lock). It refuses a database whose schema
// is newer than this binary's.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := loadMigrations(s.driver)
	if err != nil {
		return err
	}
	latest := len(ms)
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.migrationLock(ctx, tx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.migrationsTableDDL())
		return err
	})
	if err != nil {
		return fmt.Errorf("store: create schema_migrations: %w", err)
	}
	for _, m := range ms {
		applied := false
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			if err := s.migrationLock(ctx, tx); err != nil {
				return err
			}
			cur, err := s.schemaVersion(ctx, tx)
			if err != nil {
				return err
			}
			if cur > latest {
				return fmt.Errorf("%w: database at version %d, binary knows up to %d", ErrSchemaTooNew, cur, latest)
			}
			if cur >= m.version {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("store: migration %04d_%s: %w", m.version, m.name, err)
			}
			if _, err := s.exec(ctx, tx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, s.timeArg(s.now())); err != nil {
				return fmt.Errorf("store: record migration %04d_%s: %w", m.version, m.name, err)
			}
			applied = true
			return nil
		})
		if err != nil {
			return err
		}
		if applied {
			s.log.InfoContext(ctx, "applied schema migration", "version", m.version, "name", m.name)
		}
	}
	return nil
}

func (s *Store) migrationsTableDDL() string {
	if s.pg() {
		return `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER     NOT NULL PRIMARY KEY,
    name       TEXT        NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL
)`
	}
	return `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at TEXT    NOT NULL
) STRICT`
}

// migrationLock serializes migrators of the same PostgreSQL schema until the
// transaction ends. SQLite's BEGIN IMMEDIATE already holds the write lock.
func (s *Store) migrationLock(ctx context.Context, tx *sql.Tx) error {
	if !s.pg() {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('tollgate.migrate.' || coalesce(current_schema(), '')))`)
	if err != nil {
		return fmt.Errorf("store: migration lock: %w", err)
	}
	return nil
}
