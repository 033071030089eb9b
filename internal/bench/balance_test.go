package bench

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestBalanceConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(c *BalanceConfig)
		want []string // every problem reported; nil = valid
	}{
		{"defaults", func(*BalanceConfig) {}, nil},
		{"interval", func(c *BalanceConfig) { c.Sync = "interval" }, nil},
		{"ops instead of duration", func(c *BalanceConfig) { c.Ops, c.Duration = 1000, 0 }, nil},
		{"sqlite", func(c *BalanceConfig) { c.Ledger = LedgerSQLite }, nil},
		{"postgres", func(c *BalanceConfig) { c.Ledger, c.PostgresDSN = LedgerPostgres, "postgres://x" }, nil},
		{"everything wrong", func(c *BalanceConfig) {
			*c = BalanceConfig{Accounts: 0, Duration: 0, Warmup: -1, Rate: -1, Workers: 0, Partitions: -1,
				MaxBatch: -1, SnapshotEvery: -1, Sync: "never", Ledger: "mysql", Ops: -1}
		}, []string{"accounts: must be at least 1", "ops: must not be negative", "duration: must be positive",
			"warmup: must not be negative", "rate: must not be negative", "workers: must be at least 1",
			"partitions: must not be negative", "max-batch: must not be negative",
			"snapshot-every: must not be negative", `sync: must be always or interval; got "never"`,
			`ledger: must be none, sqlite or postgres; got "mysql"`}},
		{"interval without period", func(c *BalanceConfig) { c.Sync, c.SyncInterval = "interval", 0 },
			[]string{"sync-interval: must be positive"}},
		{"postgres without dsn", func(c *BalanceConfig) { c.Ledger = LedgerPostgres },
			[]string{"postgres-dsn: required with ledger postgres"}},
		{"dsn without postgres", func(c *BalanceConfig) { c.PostgresDSN = "postgres://x" },
			[]string{"postgres-dsn: only used with ledger postgres"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultBalanceConfig()
			tt.mod(&c)
			err := c.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if n := len(strings.Split(err.Error(), "\n")); n != len(tt.want) {
				t.Errorf("%d problems, want %d:\n%v", n, len(tt.want), err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestPromHistQuantile(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "x", Buckets: []float64{1, 2, 4, 8}})
	reg.MustRegister(h)
	before := gatherHist(reg, "x")
	for range 10 {
		h.Observe(0.5) // bucket ≤1
	}
	for range 10 {
		h.Observe(3) // bucket ≤4
	}
	ph := gatherHist(reg, "x").sub(before)
	if ph.count != 20 || ph.mean() != 1.75 {
		t.Fatalf("count %d mean %v", ph.count, ph.mean())
	}
	if q := ph.quantile(0.5); q != 1 {
		t.Errorf("p50 = %v, want 1 (top of the first bucket)", q)
	}
	if q := ph.quantile(0.75); math.Abs(q-3) > 1e-9 {
		t.Errorf("p75 = %v, want 3 (half way through the ≤4 bucket)", q)
	}
	b := batchReport(ph, promHist{})
	if len(b.Sizes) != 2 || b.Sizes[0] != (Bucket{"1", 10}) || b.Sizes[1] != (Bucket{"4", 10}) {
		t.Errorf("sizes %+v", b.Sizes)
	}
	if gatherHist(reg, "absent").count != 0 || gatherValue(reg, "absent") != 0 {
		t.Error("absent metric not zero")
	}
}

// TestRunBalanceSmall runs every phase at a small scale: setup, open-loop
// load, SQLite ledger projection and both restarts.
func TestRunBalanceSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded JetStream")
	}
	cfg := DefaultBalanceConfig()
	cfg.Accounts, cfg.Duration, cfg.Warmup, cfg.Workers, cfg.Partitions = 500, 500*time.Millisecond, 100*time.Millisecond, 16, 4
	cfg.Rate = 2000
	cfg.Sync = "interval"
	cfg.SnapshotEvery = 20
	cfg.Ledger = LedgerSQLite
	cfg.Recovery = true
	cfg.DataDir = t.TempDir()
	var progress strings.Builder
	cfg.Progress = &progress
	rep, err := RunBalance(t.Context(), cfg)
	if err != nil {
		t.Fatalf("%v\nprogress:\n%s", err, progress.String())
	}
	if rep.Setup.Ops != 1000 || rep.Setup.Errors != nil {
		t.Errorf("setup: %+v", rep.Setup)
	}
	l := rep.Load
	if l.Mode != "open" || l.Ops == 0 || l.Errors != nil || l.Batch.Appends == 0 || l.Latency.Count != l.Ops {
		t.Errorf("load: %+v", l)
	}
	if l.Runtime.SchedMaxMs <= 0 {
		t.Errorf("runtime report empty: %+v", l.Runtime)
	}
	// 2000 ops/s for 0.5s: about 1000 ops measured.
	if l.Ops < 600 || l.Ops > 1400 {
		t.Errorf("open loop issued %d ops, want about 1000", l.Ops)
	}
	lr := rep.Ledger
	if lr == nil || !lr.Drained || lr.ProjectedOffset < lr.JournalLastSeq || lr.EntriesProjected == 0 {
		t.Errorf("ledger: %+v", lr)
	}
	rr := rep.Recovery
	if rr == nil || rr.Crash.PartitionsServing != 4 || rr.Clean.PartitionsServing != 4 ||
		rr.Crash.Verified != 200 || rr.Clean.Verified != 200 {
		t.Errorf("recovery: %+v", rr)
	}
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"setup", "open loop, target 2000 ops/s", "ledger projection into sqlite", "after crash", "after clean stop"} {
		if !strings.Contains(text.String(), w) {
			t.Errorf("report lacks %q:\n%s", w, text.String())
		}
	}
}

// BenchmarkBalanceDurable measures durable reserve + commit operations
// (closed loop, 256 workers, 32 partitions, 100k accounts) on an embedded
// JetStream under both fsync policies; b.N is the number of operations. The
// setup (open and top up every account) runs once per policy, untimed.
//
//	go test -run '^$' -bench BalanceDurable -benchtime 200000x ./internal/bench/
//
// `tollgate bench balance` runs the same workload at any scale.
func BenchmarkBalanceDurable(b *testing.B) {
	for _, sync := range []string{"always", "interval"} {
		cfg := DefaultBalanceConfig()
		cfg.Accounts = 100_000
		cfg.Sync = sync
		cfg.Duration = 0
		var h *harness
		b.Run(fmt.Sprintf("accounts=%d/sync=%s", cfg.Accounts, sync), func(b *testing.B) {
			ctx := context.Background()
			if h == nil {
				var err error
				if h, err = openHarness(ctx, cfg); err != nil {
					b.Fatal(err)
				}
				if _, err := h.setup(ctx); err != nil {
					b.Fatal(err)
				}
			}
			lc := cfg
			lc.Ops = int64(max(b.N, 2))
			b.ReportAllocs()
			b.ResetTimer()
			rep, err := h.load(ctx, lc)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			if len(rep.Errors) > 0 {
				b.Fatalf("errors: %v", rep.Errors)
			}
			b.ReportMetric(rep.OpsPerSec, "ops/s")
			b.ReportMetric(rep.Latency.P50Ms, "p50-ms")
			b.ReportMetric(rep.Latency.P99Ms, "p99-ms")
			b.ReportMetric(rep.Batch.MeanOps, "ops/append")
		})
		if h != nil {
			if err := h.close(); err != nil {
				b.Error(err)
			}
		}
	}
}
