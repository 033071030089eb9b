package bench

import (
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// BalanceReport is the result of [RunBalance]. Latencies are in
// milliseconds and rates in operations per second (float64: measurements,
// never amounts of money).
type BalanceReport struct {
	Config   ReportConfig    `json:"config"`
	Machine  Machine         `json:"machine"`
	Setup    SetupReport     `json:"setup"`
	Load     LoadReport      `json:"load"`
	Ledger   *LedgerReport   `json:"ledger,omitempty"`
	Recovery *RecoveryReport `json:"recovery,omitempty"`
	// DataDir and PostgresSchema are set when they were kept.
	DataDir        string `json:"data_dir,omitempty"`
	PostgresSchema string `json:"postgres_schema,omitempty"`
}

// ReportConfig is the configuration a report was measured with.
type ReportConfig struct {
	Accounts      int     `json:"accounts"`
	DurationSec   float64 `json:"duration_s"`
	WarmupSec     float64 `json:"warmup_s"`
	Rate          int     `json:"rate"`
	Workers       int     `json:"workers"`
	Partitions    int     `json:"partitions"`
	MaxBatch      int     `json:"max_batch,omitempty"`
	SnapshotEvery int     `json:"snapshot_every,omitempty"`
	Sync          string  `json:"sync"`
	SyncInterval  string  `json:"sync_interval,omitempty"`
	Ledger        string  `json:"ledger"`
	Recovery      bool    `json:"recovery"`
}

func reportConfig(c BalanceConfig) ReportConfig {
	r := ReportConfig{Accounts: c.Accounts, DurationSec: c.Duration.Seconds(), WarmupSec: c.Warmup.Seconds(),
		Rate: c.Rate, Workers: c.Workers, Partitions: c.Partitions, MaxBatch: c.MaxBatch,
		SnapshotEvery: c.SnapshotEvery, Sync: c.Sync, Ledger: c.Ledger, Recovery: c.Recovery}
	if r.Partitions == 0 {
		r.Partitions = 32 // the engine's default
	}
	if c.Sync == "interval" {
		r.SyncInterval = c.SyncInterval.String()
	}
	return r
}

// Machine describes where the benchmark ran.
type Machine struct {
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	GoVersion  string `json:"go_version"`
	OS         string `json:"os"`
	// LoadAvg is /proc/loadavg when the run started (Linux only).
	LoadAvg string `json:"loadavg,omitempty"`
}

func machineInfo() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(),
		OS: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		m.LoadAvg = strings.TrimSpace(string(b))
	}
	return m
}

// SetupReport is the setup phase: one KindOpenAccount and one KindTopUp per
// account, from all workers at once (itself a durable-throughput figure).
type SetupReport struct {
	Accounts  int               `json:"accounts"`
	Ops       uint64            `json:"ops"`
	Seconds   float64           `json:"seconds"`
	OpsPerSec float64           `json:"ops_per_sec"`
	Latency   Percentiles       `json:"latency"`
	Errors    map[string]uint64 `json:"errors,omitempty"`
}

// LoadReport is the measured load: reserve + commit pairs on uniformly
// random accounts. Latency counts from when an operation was due: in open
// loop the reserve's scheduled time (so queueing behind a slow answer
// counts), the commit's when its reserve answered.
type LoadReport struct {
	Mode          string  `json:"mode"` // closed or open
	TargetRate    int     `json:"target_rate,omitempty"`
	Workers       int     `json:"workers"`
	WarmupSeconds float64 `json:"warmup_seconds"`
	Seconds       float64 `json:"seconds"`
	Ops           uint64  `json:"ops"`
	OpsPerSec     float64 `json:"ops_per_sec"`
	// MissedPairs (open loop) were due before the end but never issued:
	// the engine could not keep up with the rate.
	MissedPairs int64             `json:"missed_pairs,omitempty"`
	Latency     Percentiles       `json:"latency"`
	Reserve     Percentiles       `json:"reserve"`
	Commit      Percentiles       `json:"commit"`
	Errors      map[string]uint64 `json:"errors,omitempty"`
	Batch       BatchReport       `json:"batch"`
	Runtime     RuntimeReport     `json:"runtime"`

	loadEnd time.Time
	lag     *Histogram
}

// BatchReport is the engine's group commit during the load, read from its
// metrics tollgate_balance_append_batch_ops and
// tollgate_balance_append_seconds (quantiles interpolated within buckets).
type BatchReport struct {
	Appends      uint64   `json:"appends"`
	MeanOps      float64  `json:"mean_ops"`
	P50Ops       float64  `json:"p50_ops"`
	P99Ops       float64  `json:"p99_ops"`
	AppendMeanMs float64  `json:"append_mean_ms"`
	AppendP50Ms  float64  `json:"append_p50_ms"`
	AppendP99Ms  float64  `json:"append_p99_ms"`
	Sizes        []Bucket `json:"sizes,omitempty"`
}

// Bucket is one histogram bucket: Count observations ≤ Le (and above the
// previous bucket).
type Bucket struct {
	Le    string `json:"le"`
	Count uint64 `json:"count"`
}

// LedgerReport is the SQL ledger projection running during the load.
type LedgerReport struct {
	Backend string `json:"backend"`
	// SetupDrainSeconds: the projection of the setup caught up this long
	// after the setup ended (before the load started).
	SetupDrainSeconds float64 `json:"setup_drain_seconds"`
	// Lag samples of tollgate_ledger_projection_lag_seconds every 100ms
	// during the measured load.
	LagSamples uint64  `json:"lag_samples"`
	LagMeanMs  float64 `json:"lag_mean_ms"`
	LagP99Ms   float64 `json:"lag_p99_ms"`
	LagMaxMs   float64 `json:"lag_max_ms"`
	// DrainSeconds: time from the end of the load until the projector's
	// offset reached JournalLastSeq.
	DrainSeconds    float64 `json:"drain_seconds"`
	Drained         bool    `json:"drained"`
	JournalLastSeq  uint64  `json:"journal_last_seq"`
	ProjectedOffset uint64  `json:"projected_offset"`
	// RecordsProjected counts distinct records written; RecordsMissing are
	// journal records never projected (a hole in the ledger when > 0).
	RecordsProjected uint64 `json:"records_projected"`
	RecordsMissing   int64  `json:"records_missing"`
	EntriesProjected uint64 `json:"entries_projected"`
	LedgerRows       int64  `json:"ledger_rows"`
}

// RecoveryReport is the restart of the engine on the same journal after
// the load.
type RecoveryReport struct {
	Accounts    int          `json:"accounts"`
	Partitions  int          `json:"partitions"`
	CrashMethod string       `json:"crash_method"`
	Crash       RecoveryCase `json:"crash"`
	Clean       RecoveryCase `json:"clean"`
}

// RecoveryCase is one restart: the stop, then the embedded NATS server's
// start (JetStream recovers its files) and the engine's Start (every
// partition: lease, snapshot load, journal tail replay, epoch record).
type RecoveryCase struct {
	// JournalRecords is the number of records in the journal stream at the
	// stop: what snapshots do not cover yet, plus one per partition.
	JournalRecords     uint64  `json:"journal_records"`
	StopSeconds        float64 `json:"stop_seconds"`
	NATSRestartSeconds float64 `json:"nats_restart_seconds"`
	EngineStartSeconds float64 `json:"engine_start_seconds"`
	TotalSeconds       float64 `json:"total_seconds"`
	PartitionsServing  int     `json:"partitions_serving"`
	// Verified and Mismatches compare sampled accounts' balance and held
	// amount after the restart with before.
	Verified   int `json:"verified"`
	Mismatches int `json:"mismatches"`
}

// WriteText writes the report for people.
func (r *BalanceReport) WriteText(w io.Writer) error {
	var b strings.Builder
	c := r.Config
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("tollgate bench balance")
	sync := c.Sync
	if c.SyncInterval != "" {
		sync += " " + c.SyncInterval
	}
	p("  machine     %d CPUs (GOMAXPROCS %d), %s, %s, loadavg at start %s", r.Machine.CPUs, r.Machine.GOMAXPROCS,
		r.Machine.OS, r.Machine.GoVersion, r.Machine.LoadAvg)
	p("  config      %d accounts, %d partitions, %d workers, fsync %s, ledger %s", c.Accounts, c.Partitions,
		c.Workers, sync, c.Ledger)
	p("")
	s := r.Setup
	p("setup (open account + top-up for every account)")
	p("  %d ops in %.2fs = %.0f ops/s; latency %s", s.Ops, s.Seconds, s.OpsPerSec, latencyLine(s.Latency))
	writeErrors(&b, s.Errors)
	p("")
	l := r.Load
	mode := "closed loop (as fast as possible)"
	if l.Mode == "open" {
		mode = fmt.Sprintf("open loop, target %d ops/s", l.TargetRate)
	}
	p("load (reserve 0.50 + commit 0.1234 on random accounts), %s, %d workers", mode, l.Workers)
	p("  %d ops in %.2fs (after %.1fs warmup) = %.0f ops/s", l.Ops, l.Seconds, l.WarmupSeconds, l.OpsPerSec)
	if l.MissedPairs > 0 {
		p("  MISSED: %d reserve+commit pairs were due but never issued (rate not sustained)", l.MissedPairs)
	}
	p("  latency  all     %s", latencyLine(l.Latency))
	p("           reserve %s", latencyLine(l.Reserve))
	p("           commit  %s", latencyLine(l.Commit))
	writeErrors(&b, l.Errors)
	bt := l.Batch
	p("  group commit: %d appends, ops/append mean %.1f p50 %.1f p99 %.1f; append latency mean %.3fms p50 %.3fms p99 %.3fms",
		bt.Appends, bt.MeanOps, bt.P50Ops, bt.P99Ops, bt.AppendMeanMs, bt.AppendP50Ms, bt.AppendP99Ms)
	rt := l.Runtime
	p("  go runtime: scheduler latency p50 %.3fms p99 %.3fms max %.3fms; %d GC cycles, %.1fms stopped; %.0f MB allocated",
		rt.SchedP50Ms, rt.SchedP99Ms, rt.SchedMaxMs, rt.GCCycles, rt.GCPauseMs, rt.AllocatedMB)
	if len(bt.Sizes) > 0 {
		var parts []string
		for _, s := range bt.Sizes {
			parts = append(parts, fmt.Sprintf("≤%s:%d", s.Le, s.Count))
		}
		p("  ops/append distribution: %s", strings.Join(parts, " "))
	}
	if lr := r.Ledger; lr != nil {
		p("")
		p("ledger projection into %s", lr.Backend)
		p("  setup drained %.2fs after the setup", lr.SetupDrainSeconds)
		p("  lag during the load (%d samples): mean %.1fms p99 %.1fms max %.1fms", lr.LagSamples, lr.LagMeanMs, lr.LagP99Ms, lr.LagMaxMs)
		drained := "drained"
		if !lr.Drained {
			drained = "NOT drained"
		}
		p("  %s %.2fs after the load (offset %d of journal seq %d)", drained, lr.DrainSeconds, lr.ProjectedOffset, lr.JournalLastSeq)
		p("  %d records, %d entries projected; %d ledger rows; records missing: %d", lr.RecordsProjected,
			lr.EntriesProjected, lr.LedgerRows, lr.RecordsMissing)
	}
	if rr := r.Recovery; rr != nil {
		p("")
		p("recovery of %d accounts in %d partitions", rr.Accounts, rr.Partitions)
		p("  crash = %s", rr.CrashMethod)
		for _, x := range []struct {
			name string
			c    RecoveryCase
		}{{"after crash     ", rr.Crash}, {"after clean stop", rr.Clean}} {
			p("  %s stop %.2fs; journal records %d; restart %.2fs = NATS %.2fs + engine Start %.2fs; %d partitions serving; %d probes match, %d differ",
				x.name, x.c.StopSeconds, x.c.JournalRecords, x.c.TotalSeconds, x.c.NATSRestartSeconds, x.c.EngineStartSeconds,
				x.c.PartitionsServing, x.c.Verified, x.c.Mismatches)
		}
	}
	if r.DataDir != "" {
		p("")
		p("data kept in %s", r.DataDir)
	}
	if r.PostgresSchema != "" {
		p("PostgreSQL schema kept: %s", r.PostgresSchema)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func latencyLine(p Percentiles) string {
	return fmt.Sprintf("p50 %.3fms p90 %.3fms p99 %.3fms p99.9 %.3fms max %.3fms (n=%d)",
		p.P50Ms, p.P90Ms, p.P99Ms, p.P999Ms, p.MaxMs, p.Count)
}

func writeErrors(b *strings.Builder, errs map[string]uint64) {
	if len(errs) == 0 {
		return
	}
	fmt.Fprint(b, "  errors:")
	for _, k := range slices.Sorted(maps.Keys(errs)) {
		fmt.Fprintf(b, " %s=%d", k, errs[k])
	}
	fmt.Fprintln(b)
}
