package store

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/internal/servicetest"
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
		dsn := servicetest.Postgres(t)
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
