// Package servicetest gives tests the external services of DESIGN §6: a
// fresh PostgreSQL schema (TOLLGATE_TEST_POSTGRES), an external NATS URL
// (TOLLGATE_TEST_NATS). When a service is not configured or not reachable
// the test is skipped, unless TOLLGATE_REQUIRE_SERVICES=1 (as in CI), which
// makes it fail instead.
package servicetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// Required reports whether CI demands every service (TOLLGATE_REQUIRE_SERVICES=1).
func Required() bool { return os.Getenv("TOLLGATE_REQUIRE_SERVICES") == "1" }

// Unavailable skips t, or fails it when services are required.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if Required() {
		t.Fatalf(format+" (and TOLLGATE_REQUIRE_SERVICES=1)", args...)
	}
	t.Skipf(format, args...)
}

var (
	pgOnce sync.Once
	pgErr  error
)

// Postgres returns a DSN of TOLLGATE_TEST_POSTGRES whose search_path is a
// new, empty schema, dropped when the test ends.
func Postgres(t testing.TB) string {
	t.Helper()
	base := os.Getenv("TOLLGATE_TEST_POSTGRES")
	if base == "" {
		Unavailable(t, "TOLLGATE_TEST_POSTGRES is not set")
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
		Unavailable(t, "PostgreSQL at TOLLGATE_TEST_POSTGRES unreachable: %v", pgErr)
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	schema := "tg_test_" + hex.EncodeToString(rnd[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
		return base + " search_path=" + schema // key=value DSN
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("TOLLGATE_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// NATS returns TOLLGATE_TEST_NATS, the URL of an external NATS server.
func NATS(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TOLLGATE_TEST_NATS")
	if u == "" {
		Unavailable(t, "TOLLGATE_TEST_NATS is not set")
	}
	return u
}
