package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"
)

// Drivers accepted by [Config].
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Config configures [Open].
type Config struct {
	// Driver is "sqlite" or "postgres". Empty means postgres when DSN is a
	// postgres:// or postgresql:// URL, sqlite otherwise.
	Driver string
	// DSN is, for sqlite, the database file path (its parent directory is
	// created) or a "file:" URI, optionally with query parameters; for
	// postgres, a libpq URL or key=value string as understood by pgx.
	DSN string
	// MaxOpenConns caps the connection pool; 0 chooses a default (8 for
	// sqlite, the driver's default for postgres).
	MaxOpenConns int
	// Migrate applies pending schema migrations in Open. Without it, Open
	// fails unless the schema is already at the version this binary needs.
	Migrate bool
	// Now is the clock for created/updated timestamps; nil means time.Now.
	Now func() time.Time
}

// Store is the records store: master data in SQLite or PostgreSQL. It is
// safe for concurrent use.
type Store struct {
	db     *sql.DB
	driver string
	log    *slog.Logger
	now    func() time.Time
	ledger ledgerStmts
}

// defaultSQLiteConns bounds SQLite connections: readers run concurrently in
// WAL mode, writers queue on the database lock (busy_timeout).
const defaultSQLiteConns = 8

// sqliteBusyTimeout is how long a writer waits for the database lock.
const sqliteBusyTimeout = 10 * time.Second

// Open connects to the records database, checks or migrates its schema and
// returns the Store. logger may be nil.
func Open(ctx context.Context, cfg Config, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	driver := strings.ToLower(cfg.Driver)
	if driver == "" {
		driver = DriverSQLite
		if l := strings.ToLower(cfg.DSN); strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://") {
			driver = DriverPostgres
		}
	}
	var (
		db  *sql.DB
		err error
	)
	maxConns := cfg.MaxOpenConns
	switch driver {
	case DriverSQLite:
		dsn, memory, derr := sqliteDSN(cfg.DSN)
		if derr != nil {
			return nil, derr
		}
		if db, err = sql.Open("sqlite", dsn); err != nil {
			return nil, fmt.Errorf("store: open sqlite: %w", err)
		}
		if maxConns <= 0 {
			maxConns = defaultSQLiteConns
		}
		if memory {
			// Every connection to :memory: is its own database.
			maxConns = 1
		}
		db.SetConnMaxIdleTime(0)
		db.SetMaxIdleConns(maxConns)
	case DriverPostgres, "postgresql", "pgx":
		driver = DriverPostgres
		if cfg.DSN == "" {
			return nil, errors.New("store: postgres needs a DSN")
		}
		if db, err = sql.Open("pgx", cfg.DSN); err != nil {
			return nil, fmt.Errorf("store: open postgres: %w", err)
		}
	default:
		return nil, fmt.Errorf("store: unknown driver %q (want sqlite or postgres)", cfg.Driver)
	}
	if maxConns > 0 {
		db.SetMaxOpenConns(maxConns)
	}
	s := &Store{db: db, driver: driver, log: logger.With("component", "store", "driver", driver), now: now}
	if err := ping(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect %s: %w", driver, err)
	}
	if cfg.Migrate {
		err = s.Migrate(ctx)
	} else {
		err = s.checkSchema(ctx)
	}
	if err == nil && !s.pg() {
		err = s.ledger.prepare(ctx, db)
	}
	if err != nil {
		s.ledger.close()
		db.Close()
		return nil, err
	}
	s.log.InfoContext(ctx, "records store open", "schema_version", s.LatestSchemaVersion(), "max_open_conns", maxConns)
	return s, nil
}

// ping checks the connection. A new SQLite connection switches the file to
// WAL mode, which needs a moment of exclusive access; another connection
// doing the same makes it answer SQLITE_BUSY without waiting on the busy
// timeout, so that case is retried until the timeout.
func ping(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(sqliteBusyTimeout)
	for {
		err := db.PingContext(ctx)
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// sqliteDSN turns a file path or file: URI into a modernc.org/sqlite DSN
// with tollgate's pragmas, creating the file's directory. Pragmas already in
// the DSN win. It reports whether the database is in memory.
func sqliteDSN(dsn string) (string, bool, error) {
	if dsn == "" {
		return "", false, errors.New("store: sqlite needs a DSN (the database file path)")
	}
	base, rawQuery, _ := strings.Cut(dsn, "?")
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", false, fmt.Errorf("store: sqlite DSN parameters: %w", err)
	}
	path := strings.TrimPrefix(base, "file:")
	memory := path == ":memory:" || path == "" || q.Get("mode") == "memory"
	if !memory {
		if dir := filepath.Dir(path); dir != "." && dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return "", false, fmt.Errorf("store: create database directory: %w", err)
			}
		}
	}
	has := map[string]bool{}
	for _, p := range q["_pragma"] {
		name, _, _ := strings.Cut(p, "(")
		name, _, _ = strings.Cut(name, "=")
		has[strings.ToLower(strings.TrimSpace(name))] = true
	}
	add := func(name, value string) {
		if !has[name] {
			q.Add("_pragma", name+"("+value+")")
		}
	}
	add("busy_timeout", fmt.Sprint(sqliteBusyTimeout.Milliseconds()))
	add("foreign_keys", "1")
	if !memory {
		add("journal_mode", "WAL")
	}
	// FULL: a commit is durable across power loss, not only process crash
	// (DESIGN §2.3: nothing acknowledged is lost).
	add("synchronous", "FULL")
	if q.Get("_txlock") == "" {
		// Write transactions take the lock at BEGIN, so two writers queue on
		// busy_timeout instead of one failing to upgrade its read lock.
		q.Set("_txlock", "immediate")
	}
	return base + "?" + q.Encode(), memory, nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.ledger.close()
	return s.db.Close()
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Driver returns "sqlite" or "postgres".
func (s *Store) Driver() string { return s.driver }
