package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/internal/money"
	"github.com/tollgate-billing/tollgate/internal/servicetest"
)

// TestLedgerProcess runs the SQL ledger projection in its own process
// (`tollgate ledger`) beside `tollgate serve --ledger-projection=false`:
// serve alone projects nothing; the ledger process projects what serve
// journals into serve's SQLite file; killed with SIGKILL and restarted, it
// goes on from where it was, and no entry is lost or written twice. With
// TOLLGATE_TEST_POSTGRES it runs a second time with both on PostgreSQL.
func TestLedgerProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs two processes")
	}
	bin := buildBinary(t)
	t.Run("sqlite", func(t *testing.T) { ledgerProcess(t, bin, "") })
	t.Run("postgres", func(t *testing.T) { ledgerProcess(t, bin, servicetest.Postgres(t)) })
}

// ledgerProcess runs the test on the store dsn; "" is serve's SQLite file.
func ledgerProcess(t *testing.T, bin, dsn string) {
	dir := t.TempDir()
	natsAddr := freePort(t)
	args := []string{"--data-dir", filepath.Join(dir, "serve"), "--nats-listen", natsAddr,
		"--ledger-projection=false", "--nats-sync", "always"}
	if dsn == "" {
		dsn = filepath.Join(dir, "serve", "tollgate.db")
	} else {
		args = append(args, "--store-dsn", dsn)
	}
	s := startServe(t, bin, args...)
	c := newCrashClient(1)

	s.call(201, "POST", "/api/v1/accounts", `{"id":"led-1","name":"Ledger","type":"prepaid","currency":"EUR","credit_limit":"0"}`)
	topUp := func(key, amount string) {
		t.Helper()
		op := moneyOp("led-1", "topup", "topups", key, money.MustParse(amount), "")
		if a, status, err := c.send(s.addr, op); err != nil || status != http.StatusOK {
			t.Fatalf("top-up %s: %d %v %s", key, status, err, a.raw)
		}
	}
	topUp("led-topup-1", "10.00")

	// serve does not project: nothing reaches the SQL ledger.
	time.Sleep(time.Second)
	if rows := readLedger(t, c, s.addr, "led-1"); len(rows) != 0 {
		t.Fatalf("serve --ledger-projection=false projected %d entries: %+v", len(rows), rows)
	}
	if v := metric(t, s.addr, "tollgate_ledger_projected_entries_total"); v != "" {
		t.Errorf("serve exports the projection's metrics (%s) although it does not run it", v)
	}
	if !strings.Contains(s.logs(), "tollgate ledger") {
		t.Errorf("serve does not say that the projection is off and what runs it:\n%s", s.logs())
	}

	startLedger := func() *proc {
		l := &proc{t: t, addr: freePort(t), exited: make(chan error, 1)}
		return l.start(bin, "ledger", "--data-dir", filepath.Join(dir, "ledger"), "--http-addr", l.addr,
			"--nats-url", "nats://"+natsAddr, "--store-dsn", dsn)
	}
	waitEntries := func(want int) []ledgerRow {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			rows := readLedger(t, c, s.addr, "led-1")
			if len(rows) >= want || time.Now().After(deadline) {
				return rows
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	l := startLedger()
	rows := waitEntries(1)
	if len(rows) != 1 || rows[0].Key != "led-topup-1" || rows[0].Balance.String() != "10.00" {
		t.Fatalf("after the ledger process started: %+v\n%s", rows, l.logs())
	}
	if v := metric(t, l.addr, "tollgate_ledger_projected_entries_total"); v != "1" {
		t.Errorf("ledger process: tollgate_ledger_projected_entries_total = %q, want 1", v)
	}

	// Killed, then more work while it is down, then restarted.
	if err := l.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-l.exited
	for i := 2; i <= 5; i++ {
		topUp(fmt.Sprintf("led-topup-%d", i), "1.00")
	}
	l = startLedger()
	rows = waitEntries(5)
	seen := map[string]int{}
	for _, r := range rows {
		seen[r.Key]++
	}
	if len(rows) != 5 || len(seen) != 5 {
		t.Fatalf("after a SIGKILL and a restart: %d entries, keys %v; want each of 5 top-ups once\n%s", len(rows), seen, l.logs())
	}
	if last := rows[len(rows)-1]; last.Balance.String() != "14.00" {
		t.Errorf("last entry's balance %s, want 14.00", last.Balance)
	}
	l.stop()
	s.stop()
}
