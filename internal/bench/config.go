package bench

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tollgate-billing/tollgate/internal/config"
)

// Ledger backends of [BalanceConfig.Ledger].
const (
	LedgerNone     = "none"
	LedgerSQLite   = "sqlite"
	LedgerPostgres = "postgres"
)

// BalanceConfig configures the balance-engine benchmark ([RunBalance]).
// Start from [DefaultBalanceConfig]; Validate reports every problem.
type BalanceConfig struct {
	// Accounts is the number of prepaid EUR accounts opened and topped up
	// in the setup phase; the load picks among them uniformly.
	Accounts int
	// Duration of the measured load, after Warmup.
	Duration time.Duration
	// Warmup is run before the measured load and not counted.
	Warmup time.Duration
	// Ops, when positive, replaces Duration: the load ends after this many
	// operations (Go benchmarks set it to b.N). Warmup is then skipped.
	Ops int64
	// Rate is the target rate in operations per second (open loop); 0
	// runs closed loop, each worker issuing its next operation as soon as
	// the last one answered.
	Rate int
	// Workers is the number of concurrent requesters, the most operations
	// in flight at a time.
	Workers int
	// Partitions, MaxBatch and SnapshotEvery configure the engine (0 means
	// the engine's default).
	Partitions    int
	MaxBatch      int
	SnapshotEvery int
	// Sync is the embedded JetStream fsync policy (always or interval) and
	// SyncInterval its period with interval.
	Sync         string
	SyncInterval time.Duration
	// DataDir holds the NATS store and the SQLite ledger; empty means a
	// new temporary directory, removed at the end unless Keep.
	DataDir string
	Keep    bool
	// Ledger projects the journal into an SQL ledger while the load runs:
	// none, sqlite (in DataDir) or postgres (PostgresDSN; a fresh schema is
	// created and dropped at the end unless Keep).
	Ledger      string
	PostgresDSN string
	// Recovery measures restarts after the load: after a crash (no final
	// snapshot) and after a clean stop with snapshots.
	Recovery bool
	// Seed seeds the account choice; runs with one seed pick the same
	// accounts in each worker.
	Seed uint64
	// CPUProfile, when not nil, receives a CPU profile of the load phase.
	CPUProfile io.Writer
	// Trace, when set, receives a Go execution trace of the load phase
	// (go tool trace): where the goroutines of a latency spike waited.
	Trace io.Writer
	// RecoveryProfile, when not nil, receives a CPU profile of the first
	// engine restart of the recovery measurement (after the crash).
	RecoveryProfile io.Writer
	// Progress, when not nil, receives one line per phase as it happens.
	Progress io.Writer
}

// DefaultBalanceConfig returns the defaults: 1M accounts, 20s closed loop
// with 256 workers, 32 partitions, fsync always, no ledger.
func DefaultBalanceConfig() BalanceConfig {
	return BalanceConfig{
		Accounts:     1_000_000,
		Duration:     20 * time.Second,
		Warmup:       2 * time.Second,
		Workers:      256,
		Partitions:   32,
		Sync:         config.SyncPolicyAlways,
		SyncInterval: time.Second,
		Ledger:       LedgerNone,
		Seed:         1,
	}
}

// Validate reports every problem of c at once.
func (c BalanceConfig) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("bench: %s: %s", field, fmt.Sprintf(format, args...)))
	}
	if c.Accounts < 1 {
		bad("accounts", "must be at least 1; got %d", c.Accounts)
	}
	if c.Ops < 0 {
		bad("ops", "must not be negative; got %d", c.Ops)
	}
	if c.Ops <= 0 && c.Duration <= 0 {
		bad("duration", "must be positive; got %s", c.Duration)
	}
	if c.Warmup < 0 {
		bad("warmup", "must not be negative; got %s", c.Warmup)
	}
	if c.Rate < 0 {
		bad("rate", "must not be negative (0 = as fast as possible); got %d", c.Rate)
	}
	if c.Workers < 1 {
		bad("workers", "must be at least 1; got %d", c.Workers)
	}
	if c.Partitions < 0 {
		bad("partitions", "must not be negative; got %d", c.Partitions)
	}
	if c.MaxBatch < 0 {
		bad("max-batch", "must not be negative; got %d", c.MaxBatch)
	}
	if c.SnapshotEvery < 0 {
		bad("snapshot-every", "must not be negative; got %d", c.SnapshotEvery)
	}
	switch c.Sync {
	case config.SyncPolicyAlways:
	case config.SyncPolicyInterval:
		if c.SyncInterval <= 0 {
			bad("sync-interval", "must be positive with sync interval; got %s", c.SyncInterval)
		}
	default:
		bad("sync", "must be always or interval; got %q", c.Sync)
	}
	switch c.Ledger {
	case LedgerNone, LedgerSQLite:
		if c.PostgresDSN != "" {
			bad("postgres-dsn", "only used with ledger postgres")
		}
	case LedgerPostgres:
		if c.PostgresDSN == "" {
			bad("postgres-dsn", "required with ledger postgres")
		}
	default:
		bad("ledger", "must be none, sqlite or postgres; got %q", c.Ledger)
	}
	return errors.Join(errs...)
}
