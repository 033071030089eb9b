package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The same tests run against SQLite (always, in t.TempDir) and PostgreSQL
// (when TOLLGATE_TEST_POSTGRES holds a DSN; each test gets its own schema).
// Without PostgreSQL the postgres subtests skip, unless
// TOLLGATE_REQUIRE_SERVICES=1, which makes them fail.

// fakeClock is a settable clock for Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testDB is one database for one test.
type testDB struct {
	cfg   Config // Migrate true, Now the fake clock
	clock *fakeClock
}

// open opens a Store on the test database and closes it at cleanup.
func (db *testDB) open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), db.cfg, nil)
	if err != nil {
		t.Fatalf("Open(%s): %v", db.cfg.Driver, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// forEachDB runs fn as a subtest per dialect, each on a fresh database.
func forEachDB(t *testing.T, fn func(t *testing.T, db *testDB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		fn(t, &testDB{clock: clock, cfg: Config{
			Driver:  DriverSQLite,
			DSN:     filepath.Join(t.TempDir(), "data", "tollgate.db"),
			Migrate: true,
			Now:     clock.Now,
		}})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		dsn := postgresSchema(t)
		clock := newFakeClock()
		fn(t, &testDB{clock: clock, cfg: Config{
			Driver:       DriverPostgres,
			DSN:          dsn,
			MaxOpenConns: 8,
			Migrate:      true,
			Now:          clock.Now,
		}})
	})
}

var (
	pgOnce sync.Once
	pgErr  error
)

// postgresSchema returns a DSN for a new, empty schema of the test
// PostgreSQL, dropped at cleanup; it skips (or fails, when services are
// required) without PostgreSQL.
func postgresSchema(t *testing.T) string {
	t.Helper()
	base := os.Getenv("TOLLGATE_TEST_POSTGRES")
	required := os.Getenv("TOLLGATE_REQUIRE_SERVICES") == "1"
	if base == "" {
		if required {
			t.Fatal("TOLLGATE_TEST_POSTGRES is not set and TOLLGATE_REQUIRE_SERVICES=1")
		}
		t.Skip("TOLLGATE_TEST_POSTGRES not set")
	}
	pgOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		db, err := sql.Open("pgx", base)
		if err != nil {
			pgErr = err
			return
		}
		defer db.Close()
		pgErr = db.PingContext(ctx)
	})
	if pgErr != nil {
		if required {
			t.Fatalf("PostgreSQL at TOLLGATE_TEST_POSTGRES unreachable: %v", pgErr)
		}
		t.Skipf("PostgreSQL at TOLLGATE_TEST_POSTGRES unreachable: %v", pgErr)
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	schema := "tg_test_" + hex.EncodeToString(rnd[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return withSearchPath(t, base, schema)
}

// withSearchPath adds search_path=schema to a URL or key=value DSN.
func withSearchPath(t *testing.T, dsn, schema string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("TOLLGATE_TEST_POSTGRES: %v", err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}
