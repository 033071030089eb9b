package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-billing/tollgate/internal/balance"
	"github.com/tollgate-billing/tollgate/internal/balance/journal"
	"github.com/tollgate-billing/tollgate/internal/balance/ledger"
	"github.com/tollgate-billing/tollgate/internal/clusterstate"
	"github.com/tollgate-billing/tollgate/internal/config"
	"github.com/tollgate-billing/tollgate/internal/money"
	"github.com/tollgate-billing/tollgate/internal/store"
)

// The amounts of the workload.
var (
	topUpAmount   = money.MustParse("1000.00")
	reserveAmount = money.MustParse("0.50")
	commitAmount  = money.MustParse("0.1234")
)

// reserveTTL is the expiry of the load's reservations (each is committed
// long before).
const reserveTTL = 5 * time.Minute

// nodeID is the engine's lease owner; a restarted engine reuses it and so
// takes its partitions back at once, as a restarted node does.
const nodeID = "bench-node"

// drainTimeout bounds the wait for the ledger projection to catch up.
const drainTimeout = 10 * time.Minute

// RunBalance runs the balance-engine benchmark: an embedded JetStream in
// cfg.DataDir, an engine, the setup (open and top up every account), the
// load, and optionally the ledger projection and recovery measurements.
func RunBalance(ctx context.Context, cfg BalanceConfig) (*BalanceReport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rep := &BalanceReport{Config: reportConfig(cfg), Machine: machineInfo()}
	h, err := openHarness(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := h.close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if cfg.Keep {
		rep.DataDir = h.dir
		rep.PostgresSchema = h.pgSchema
	}

	h.progress("setup: opening and topping up %d accounts (%d workers, sync %s)", cfg.Accounts, cfg.Workers, cfg.Sync)
	if rep.Setup, err = h.setup(ctx); err != nil {
		return rep, err
	}
	h.progress("setup: %d ops in %.1fs = %.0f ops/s", rep.Setup.Ops, rep.Setup.Seconds, rep.Setup.OpsPerSec)
	if h.proj != nil {
		h.progress("ledger: waiting for the projection of the setup to drain")
		d, ok, err := h.drain(ctx)
		if err != nil {
			return rep, err
		}
		rep.Ledger = &LedgerReport{Backend: cfg.Ledger, SetupDrainSeconds: d.Seconds()}
		if !ok {
			return rep, fmt.Errorf("bench: ledger projection did not catch up with the setup in %s", drainTimeout)
		}
		h.progress("ledger: setup drained %.1fs after the setup ended", d.Seconds())
	}

	mode := "closed loop"
	if cfg.Rate > 0 {
		mode = fmt.Sprintf("open loop at %d ops/s", cfg.Rate)
	}
	h.progress("load: %s, %s warmup + %s, %d workers", mode, cfg.Warmup, cfg.Duration, cfg.Workers)
	if rep.Load, err = h.load(ctx, cfg); err != nil {
		return rep, err
	}
	h.progress("load: %.0f ops/s, p50 %.3fms p99 %.3fms p99.9 %.3fms", rep.Load.OpsPerSec,
		rep.Load.Latency.P50Ms, rep.Load.Latency.P99Ms, rep.Load.Latency.P999Ms)

	if h.proj != nil {
		if err := h.ledgerReport(ctx, rep); err != nil {
			return rep, err
		}
	}
	if cfg.Recovery {
		h.progress("recovery: crash, then restart")
		if rep.Recovery, err = h.recovery(ctx); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// harness is one benchmark's engine and its surroundings.
type harness struct {
	profiledRecovery bool // the first restart was profiled (RecoveryProfile)
	cfg              BalanceConfig
	dir              string
	tmp              bool
	nats             config.NATS
	conn             *clusterstate.Conn
	j                *journal.Journal
	reg              *prometheus.Registry
	eng              *balance.Engine
	accounts         []string
	runs             atomic.Uint64 // load runs so far, for unique reservation ids

	st         *store.Store
	proj       *ledger.Projector
	projStop   context.CancelFunc
	projDone   chan error
	pgSchema   string
	dropSchema func() error
}

func openHarness(ctx context.Context, cfg BalanceConfig) (h *harness, err error) {
	h = &harness{cfg: cfg, dir: cfg.DataDir, reg: prometheus.NewRegistry()}
	if h.dir == "" {
		if h.dir, err = os.MkdirTemp("", "tollgate-bench-"); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		h.tmp = true
	} else if err = os.MkdirAll(h.dir, 0o750); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer func() {
		if err != nil {
			_ = h.close()
		}
	}()
	h.nats = config.Default().NATS
	h.nats.Embedded.ServerName = "tollgate-bench"
	h.nats.Embedded.Sync = cfg.Sync
	h.nats.Embedded.SyncInterval = config.Duration(cfg.SyncInterval)
	if err = h.openEngine(ctx, h.reg); err != nil {
		return h, err
	}
	h.accounts = make([]string, cfg.Accounts)
	for i := range h.accounts {
		h.accounts[i] = fmt.Sprintf("acc-%08d", i)
	}
	if cfg.Ledger != LedgerNone {
		if err = h.startLedger(ctx); err != nil {
			return h, err
		}
	}
	return h, nil
}

// openJournal opens the journal as `tollgate serve` does: snapshots on a
// side connection.
func openJournal(ctx context.Context, conn *clusterstate.Conn) (*journal.Journal, error) {
	sjs, err := conn.Side("snapshots")
	if err != nil {
		return nil, err
	}
	return journal.Open(ctx, conn.JS(), journal.Config{SnapshotJS: sjs})
}

// openEngine opens the cluster state and the journal and starts an engine
// registering its metrics in reg.
func (h *harness) openEngine(ctx context.Context, reg prometheus.Registerer) error {
	if h.conn == nil {
		conn, err := clusterstate.Open(ctx, h.nats, h.dir, nil)
		if err != nil {
			return err
		}
		h.conn = conn
		if h.j, err = openJournal(ctx, conn); err != nil {
			return err
		}
	}
	// The idempotency table as `tollgate serve` sizes it.
	def := config.Default().Balance
	e, err := balance.NewEngine(balance.EngineConfig{
		Partitions: h.cfg.Partitions, NodeID: nodeID, Journal: h.j,
		MaxBatch: h.cfg.MaxBatch, SnapshotEvery: h.cfg.SnapshotEvery, Registerer: reg,
		KeepFrom: h.keepFrom(),
		State:    balance.Options{IdemWindow: int64(def.IdempotencyWindow.Std()), IdemMax: def.IdempotencyMaxKeys, IdemPresize: true},
	})
	if err != nil {
		return err
	}
	if err := e.Start(ctx); err != nil {
		return err
	}
	h.eng = e
	return nil
}

func (h *harness) progress(format string, args ...any) {
	if h.cfg.Progress != nil {
		fmt.Fprintf(h.cfg.Progress, "bench: "+format+"\n", args...)
	}
}

// close stops everything and removes what the benchmark created (unless
// Keep).
func (h *harness) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errs []error
	h.stopLedger()
	if h.eng != nil {
		if err := h.eng.Stop(ctx); err != nil {
			errs = append(errs, err)
		}
		h.eng = nil
	}
	if h.conn != nil {
		if err := h.conn.Close(ctx); err != nil {
			errs = append(errs, err)
		}
		h.conn = nil
	}
	if h.st != nil {
		if err := h.st.Close(); err != nil {
			errs = append(errs, err)
		}
		h.st = nil
	}
	if h.dropSchema != nil && !h.cfg.Keep {
		if err := h.dropSchema(); err != nil {
			errs = append(errs, err)
		}
	}
	if h.tmp && !h.cfg.Keep {
		if err := os.RemoveAll(h.dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// --- setup ---

func (h *harness) setup(ctx context.Context) (SetupReport, error) {
	var next atomic.Int64
	var first firstErr
	const chunk = 64
	hists := make([]*Histogram, h.cfg.Workers)
	errc := make([]errCounts, h.cfg.Workers)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range h.cfg.Workers {
		hists[w], errc[w] = NewHistogram(), errCounts{}
		wg.Go(func() {
			hist, ec := hists[w], errc[w]
			var op balance.Op
			for ctx.Err() == nil {
				lo := int(next.Add(chunk)) - chunk
				if lo >= len(h.accounts) {
					return
				}
				for _, id := range h.accounts[lo:min(lo+chunk, len(h.accounts))] {
					op = balance.Op{Kind: balance.KindOpenAccount, Key: "open:" + id, Account: id,
						AccountType: balance.Prepaid, Currency: "EUR", Status: balance.Active}
					t0 := time.Now()
					_, err := h.eng.Do(ctx, &op)
					hist.Record(time.Since(t0))
					if err != nil {
						ec.add(err)
						first.set(err)
						continue
					}
					op = balance.Op{Kind: balance.KindTopUp, Key: "topup:" + id, Account: id, Amount: topUpAmount}
					t0 = time.Now()
					_, err = h.eng.Do(ctx, &op)
					hist.Record(time.Since(t0))
					if err != nil {
						ec.add(err)
						first.set(err)
					}
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return SetupReport{}, err
	}
	all, errs := mergeHists(hists), mergeErrs(errc)
	rep := SetupReport{Accounts: len(h.accounts), Ops: all.Count(), Seconds: round3(elapsed.Seconds()),
		OpsPerSec: math.Round(float64(all.Count()) / elapsed.Seconds()), Latency: all.Summary(), Errors: errs}
	if len(errs) > 0 {
		return rep, fmt.Errorf("bench: setup failed: %v; first: %w", errs, first.err)
	}
	return rep, nil
}

// --- load ---

// loadWorker is one requester's tallies.
type loadWorker struct {
	reserve, commit *Histogram
	errs            errCounts
	ops             uint64
}

func (h *harness) load(ctx context.Context, cfg BalanceConfig) (LoadReport, error) {
	run := h.runs.Add(1)
	batchBefore := gatherHist(h.reg, "tollgate_balance_append_batch_ops")
	appendBefore := gatherHist(h.reg, "tollgate_balance_append_seconds")

	warmup := cfg.Warmup
	if cfg.Ops > 0 {
		warmup = 0
	}
	var (
		stop    atomic.Bool
		budget  atomic.Int64 // ops left when cfg.Ops > 0
		workers = make([]*loadWorker, cfg.Workers)
		wg      sync.WaitGroup
	)
	budget.Store(cfg.Ops)
	rtBefore := readRuntime()
	start := time.Now()
	measureFrom := start.Add(warmup)
	end := measureFrom.Add(cfg.Duration)
	var lagSamples *Histogram
	lagDone := make(chan struct{})
	if h.proj != nil {
		lagSamples = NewHistogram()
		go func() {
			defer close(lagDone)
			t := time.NewTicker(100 * time.Millisecond)
			defer t.Stop()
			for !stop.Load() {
				<-t.C
				if time.Now().After(measureFrom) {
					lagSamples.Record(time.Duration(gatherValue(h.reg, "tollgate_ledger_projection_lag_seconds") * 1e9))
				}
			}
		}()
	} else {
		close(lagDone)
	}
	if cfg.CPUProfile != nil {
		if err := pprof.StartCPUProfile(cfg.CPUProfile); err != nil {
			return LoadReport{}, fmt.Errorf("bench: cpu profile: %w", err)
		}
	}
	if cfg.Trace != nil {
		if err := trace.Start(cfg.Trace); err != nil {
			return LoadReport{}, fmt.Errorf("bench: trace: %w", err)
		}
	}
	pairEvery := 0.0 // open loop: ns between pairs
	if cfg.Rate > 0 {
		pairEvery = 2e9 / float64(cfg.Rate)
	}
	// Open loop: the pacer hands each pair, when it is due, to an idle worker.
	pace := newPacer(ctx, start, end, pairEvery, cfg.Workers)
	for w := range cfg.Workers {
		lw := &loadWorker{reserve: NewHistogram(), commit: NewHistogram(), errs: errCounts{}}
		workers[w] = lw
		rng := mrand.New(mrand.NewPCG(cfg.Seed, uint64(w)))
		prefix := "b" + strconv.FormatUint(run, 10) + "." + strconv.Itoa(w) + "."
		wg.Go(func() {
			var op balance.Op
			buf := make([]byte, 0, 48)
			for n := uint64(0); ; n++ {
				if stop.Load() || ctx.Err() != nil {
					return
				}
				if cfg.Ops > 0 && budget.Add(-2) < 0 {
					return
				}
				var intended time.Time
				if pairEvery > 0 {
					t, ok := <-pace.Due
					if !ok {
						return
					}
					intended = t
				}
				acc := h.accounts[rng.IntN(len(h.accounts))]
				buf = strconv.AppendUint(append(buf[:0], prefix...), n, 10)
				rid := string(buf)
				op = balance.Op{Kind: balance.KindReserve, Key: "r:" + rid, Account: acc, Reservation: rid,
					Amount: reserveAmount, Expires: time.Now().Add(reserveTTL).UnixNano()}
				t0 := time.Now()
				if intended.IsZero() {
					intended = t0
				}
				_, err := h.eng.Do(ctx, &op)
				t1 := time.Now()
				measured := !intended.Before(measureFrom)
				if measured {
					lw.reserve.Record(t1.Sub(intended))
					lw.ops++
				}
				if err != nil {
					if measured {
						lw.errs.add(err)
					}
					continue
				}
				op = balance.Op{Kind: balance.KindCommit, Key: "c:" + rid, Account: acc, Reservation: rid, Amount: commitAmount}
				_, err = h.eng.Do(ctx, &op)
				t2 := time.Now()
				if measured {
					lw.commit.Record(t2.Sub(t1))
					lw.ops++
					if err != nil {
						lw.errs.add(err)
					}
				}
			}
		})
	}
	if cfg.Ops <= 0 {
		// Closed loop: stop at the end. Open loop: give the pairs due
		// before the end a grace period to be issued (their latency counts
		// from when they were due); those still not issued are Missed.
		stopAt := end
		if pairEvery > 0 {
			stopAt = end.Add(min(5*time.Second, cfg.Duration/2))
		}
		allDone := make(chan struct{})
		go func() { wg.Wait(); close(allDone) }()
		select {
		case <-time.After(time.Until(stopAt)):
		case <-allDone:
		case <-ctx.Done():
		}
		stop.Store(true)
	}
	pace.Stop()
	wg.Wait()
	stop.Store(true)
	finished := time.Now()
	rtAfter := readRuntime()
	if cfg.CPUProfile != nil {
		pprof.StopCPUProfile()
	}
	if cfg.Trace != nil {
		trace.Stop()
	}
	<-lagDone
	if err := ctx.Err(); err != nil {
		return LoadReport{}, err
	}
	window := end.Sub(measureFrom)
	if cfg.Ops > 0 {
		window = finished.Sub(measureFrom)
	}
	res, com, all := NewHistogram(), NewHistogram(), NewHistogram()
	errc := make([]errCounts, len(workers))
	var ops uint64
	for i, lw := range workers {
		res.Merge(lw.reserve)
		com.Merge(lw.commit)
		errc[i] = lw.errs
		ops += lw.ops
	}
	all.Merge(res)
	all.Merge(com)
	rep := LoadReport{
		Mode: "closed", TargetRate: cfg.Rate, Workers: cfg.Workers,
		WarmupSeconds: warmup.Seconds(), Seconds: round3(window.Seconds()),
		Ops: ops, OpsPerSec: math.Round(float64(ops) / window.Seconds()),
		Latency: all.Summary(), Reserve: res.Summary(), Commit: com.Summary(), Errors: mergeErrs(errc),
		Batch: batchReport(gatherHist(h.reg, "tollgate_balance_append_batch_ops").sub(batchBefore),
			gatherHist(h.reg, "tollgate_balance_append_seconds").sub(appendBefore)),
		Runtime: rtAfter.since(rtBefore),
	}
	if cfg.Rate > 0 {
		rep.Mode = "open"
		rep.MissedPairs = pace.Missed()
	}
	rep.loadEnd = finished
	rep.lag = lagSamples
	return rep, nil
}

// --- ledger projection ---

func (h *harness) startLedger(ctx context.Context) error {
	scfg := store.Config{Migrate: true}
	switch h.cfg.Ledger {
	case LedgerSQLite:
		scfg.Driver, scfg.DSN = store.DriverSQLite, filepath.Join(h.dir, "ledger.db")
	case LedgerPostgres:
		dsn, err := h.pgSchemaDSN(ctx)
		if err != nil {
			return err
		}
		scfg.Driver, scfg.DSN = store.DriverPostgres, dsn
	}
	st, err := store.Open(ctx, scfg, nil)
	if err != nil {
		return err
	}
	h.st = st
	h.proj = ledger.New(ledger.Config{Source: ledger.JournalSource(h.j), Decode: balance.DecodeBatch, Sink: st, Registerer: h.reg})
	pctx, cancel := context.WithCancel(context.Background())
	h.projStop, h.projDone = cancel, make(chan error, 1)
	go func() { h.projDone <- h.proj.Run(pctx) }()
	return nil
}

// pgSchemaDSN creates a fresh schema and returns the DSN with it as
// search_path.
func (h *harness) pgSchemaDSN(ctx context.Context) (string, error) {
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	schema := "tollgate_bench_" + hex.EncodeToString(rnd[:])
	admin, err := sql.Open("pgx", h.cfg.PostgresDSN)
	if err != nil {
		return "", fmt.Errorf("bench: postgres: %w", err)
	}
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		admin.Close()
		return "", fmt.Errorf("bench: postgres: create schema: %w", err)
	}
	h.pgSchema = schema
	h.dropSchema = func() error {
		defer admin.Close()
		dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := admin.ExecContext(dctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			return fmt.Errorf("bench: postgres: drop schema %s: %w", schema, err)
		}
		return nil
	}
	base := h.cfg.PostgresDSN
	if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
		return base + " search_path=" + schema, nil
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("bench: postgres-dsn: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// stopLedger stops the projector and returns its error, if it failed.
func (h *harness) stopLedger() error {
	if h.projStop == nil {
		return nil
	}
	h.projStop()
	err := <-h.projDone
	h.projStop = nil
	return err
}

// projectorFailed returns the projector's error if it stopped on its own.
func (h *harness) projectorFailed() error {
	select {
	case err := <-h.projDone:
		h.projDone <- err
		if err == nil {
			err = errors.New("ledger: projector stopped")
		}
		return err
	default:
		return nil
	}
}

// journalLastSeq is the last sequence of the journal stream (all
// partitions).
func (h *harness) journalLastSeq(ctx context.Context) (uint64, error) {
	s, err := h.conn.JS().Stream(ctx, h.j.Config().Stream)
	if err != nil {
		return 0, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.State.LastSeq, nil
}

// drain waits until the projector has committed the journal's last record;
// it returns how long that took and false on timeout.
func (h *harness) drain(ctx context.Context) (time.Duration, bool, error) {
	start := time.Now()
	last, err := h.journalLastSeq(ctx)
	if err != nil {
		return 0, false, err
	}
	for h.proj.Offset() < last {
		if err := h.projectorFailed(); err != nil {
			return time.Since(start), false, err
		}
		if time.Since(start) > drainTimeout {
			return time.Since(start), false, nil
		}
		select {
		case <-ctx.Done():
			return 0, false, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return time.Since(start), true, nil
}

func (h *harness) ledgerReport(ctx context.Context, rep *BalanceReport) error {
	lr := rep.Ledger
	if s := rep.Load.lag; s != nil && s.Count() > 0 {
		lr.LagSamples = s.Count()
		lr.LagMeanMs, lr.LagP99Ms, lr.LagMaxMs = ms(s.Mean()), ms(s.Quantile(0.99)), ms(s.Max())
	}
	last, err := h.journalLastSeq(ctx)
	if err != nil {
		return err
	}
	lr.JournalLastSeq = last
	h.progress("ledger: waiting for the projection to reach journal seq %d", last)
	_, ok, err := h.drain(ctx)
	if err != nil {
		return err
	}
	lr.Drained = ok
	lr.DrainSeconds = round3(time.Since(rep.Load.loadEnd).Seconds())
	lr.ProjectedOffset = h.proj.Offset()
	records := uint64(gatherValue(h.reg, "tollgate_ledger_projected_records_total"))
	redelivered := uint64(gatherValue(h.reg, "tollgate_ledger_redelivered_records_total"))
	lr.RecordsProjected = records - redelivered
	lr.EntriesProjected = uint64(gatherValue(h.reg, "tollgate_ledger_projected_entries_total"))
	// Every stream sequence is one journal record (the stream starts
	// empty), so a record never projected is a hole in the SQL ledger.
	lr.RecordsMissing = int64(last) - int64(lr.RecordsProjected)
	if n, err := h.st.LedgerCount(ctx); err == nil {
		lr.LedgerRows = n
	}
	h.progress("ledger: lag p99 %.1fms max %.1fms, drained %.1fs after the load", lr.LagP99Ms, lr.LagMaxMs, lr.DrainSeconds)
	if !ok {
		return fmt.Errorf("bench: ledger projection did not catch up in %s", drainTimeout)
	}
	return nil
}

// --- recovery ---

// halter is the crash-like stop (no snapshot, leases left to expire) the
// engine may export; without it the benchmark pulls the cluster state out
// from under the engine instead.
type halter interface {
	Halt(ctx context.Context) error
}

// probe is an account's balance as seen before a restart.
type probe struct {
	id            string
	balance, held money.Decimal
}

func (h *harness) probes(ctx context.Context, n int) ([]probe, error) {
	rng := mrand.New(mrand.NewPCG(h.cfg.Seed, 99))
	out := make([]probe, 0, n)
	for range n {
		id := h.accounts[rng.IntN(len(h.accounts))]
		v, err := h.eng.Account(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("bench: read %s: %w", id, err)
		}
		out = append(out, probe{id, v.Balance, v.Held})
	}
	return out, nil
}

func (h *harness) verify(ctx context.Context, ps []probe) (ok, bad int) {
	for _, p := range ps {
		v, err := h.eng.Account(ctx, p.id)
		if err != nil || !v.Balance.Equal(p.balance) || !v.Held.Equal(p.held) {
			bad++
			continue
		}
		ok++
	}
	return ok, bad
}

// retained returns the records left in the journal stream: after a
// snapshot's truncation, about the tail a restart replays.
func (h *harness) retained(ctx context.Context) uint64 {
	s, err := h.conn.JS().Stream(ctx, h.j.Config().Stream)
	if err != nil {
		return 0
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0
	}
	return info.State.Msgs
}

// restart reopens the cluster state and starts a new engine, timing both.
func (h *harness) restart(ctx context.Context, rc *RecoveryCase) error {
	t0 := time.Now()
	conn, err := clusterstate.Open(ctx, h.nats, h.dir, nil)
	if err != nil {
		return err
	}
	h.conn = conn
	if h.j, err = openJournal(ctx, conn); err != nil {
		return err
	}
	t1 := time.Now()
	profiling := false
	if w := h.cfg.RecoveryProfile; w != nil && !h.profiledRecovery {
		profiling = pprof.StartCPUProfile(w) == nil
		h.profiledRecovery = true
	}
	err = h.openEngine(ctx, prometheus.NewRegistry())
	if profiling {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return err
	}
	t2 := time.Now()
	rc.NATSRestartSeconds = round3(t1.Sub(t0).Seconds())
	rc.EngineStartSeconds = round3(t2.Sub(t1).Seconds())
	rc.TotalSeconds = round3(t2.Sub(t0).Seconds())
	rc.PartitionsServing = h.eng.Owned()
	return nil
}

func (h *harness) closeConn(ctx context.Context) error {
	err := h.conn.Close(ctx)
	h.conn, h.j = nil, nil
	return err
}

func (h *harness) recovery(ctx context.Context) (*RecoveryReport, error) {
	if err := h.stopLedger(); err != nil {
		return nil, fmt.Errorf("bench: ledger projector: %w", err)
	}
	rep := &RecoveryReport{Accounts: len(h.accounts), Partitions: h.eng.Owned()}
	ps, err := h.probes(ctx, 200)
	if err != nil {
		return nil, err
	}

	// 1. Crash: no final snapshot; the restart loads the periodic
	// snapshots and replays the journal tail after them.
	rc := &rep.Crash
	rc.JournalRecords = h.retained(ctx)
	t0 := time.Now()
	if hl, ok := any(h.eng).(halter); ok {
		rep.CrashMethod = "Engine.Halt (no snapshot, leases kept), then the embedded NATS server shut down"
		if err := hl.Halt(ctx); err != nil {
			return nil, fmt.Errorf("bench: halt: %w", err)
		}
		if err := h.closeConn(ctx); err != nil {
			return nil, err
		}
	} else {
		rep.CrashMethod = "embedded NATS server shut down under the running engine (its final snapshot and " +
			"lease release then fail), as the engine exports no crash-like stop"
		if err := h.closeConn(ctx); err != nil {
			return nil, err
		}
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_ = h.eng.Stop(sctx) // fails to snapshot: the cluster state is gone
		cancel()
	}
	rc.StopSeconds = round3(time.Since(t0).Seconds())
	h.eng = nil
	h.progress("recovery: crashed with %d journal records retained; restarting", rc.JournalRecords)
	if err := h.restart(ctx, rc); err != nil {
		return nil, fmt.Errorf("bench: restart after crash: %w", err)
	}
	rc.Verified, rc.Mismatches = h.verify(ctx, ps)
	h.progress("recovery: after crash serving %d partitions in %.2fs (NATS %.2fs + engine %.2fs); %d/%d probes match",
		rc.PartitionsServing, rc.TotalSeconds, rc.NATSRestartSeconds, rc.EngineStartSeconds, rc.Verified, len(ps))

	// 2. Clean stop: Stop snapshots every partition; the restart loads
	// the snapshots and replays (almost) nothing.
	cc := &rep.Clean
	t0 = time.Now()
	if err := h.eng.Stop(ctx); err != nil {
		return nil, fmt.Errorf("bench: stop: %w", err)
	}
	h.eng = nil
	cc.StopSeconds = round3(time.Since(t0).Seconds())
	cc.JournalRecords = h.retained(ctx)
	if err := h.closeConn(ctx); err != nil {
		return nil, err
	}
	h.progress("recovery: clean stop (snapshots) took %.2fs; restarting", cc.StopSeconds)
	if err := h.restart(ctx, cc); err != nil {
		return nil, fmt.Errorf("bench: restart after clean stop: %w", err)
	}
	cc.Verified, cc.Mismatches = h.verify(ctx, ps)
	h.progress("recovery: after clean stop serving %d partitions in %.2fs (NATS %.2fs + engine %.2fs); %d/%d probes match",
		cc.PartitionsServing, cc.TotalSeconds, cc.NATSRestartSeconds, cc.EngineStartSeconds, cc.Verified, len(ps))
	if rc.Mismatches > 0 || cc.Mismatches > 0 {
		return rep, fmt.Errorf("bench: recovered balances differ from those before the restart (%d after crash, %d after clean stop)",
			rc.Mismatches, cc.Mismatches)
	}
	return rep, nil
}

// --- errors ---

// errCounts counts errors by category.
type errCounts map[string]uint64

func (c errCounts) add(err error) { c[errLabel(err)]++ }

// firstErr remembers the first error of a run, to show with the counts.
type firstErr struct {
	once sync.Once
	err  error
}

func (f *firstErr) set(err error) { f.once.Do(func() { f.err = err }) }

func errLabel(err error) string {
	for _, e := range []struct {
		err   error
		label string
	}{
		{balance.ErrInsufficientFunds, "insufficient_funds"},
		{balance.ErrUnavailable, "unavailable"},
		{balance.ErrFenced, "fenced"},
		{balance.ErrNotOwner, "not_owner"},
		{balance.ErrKeyConflict, "key_conflict"},
		{balance.ErrUnknownAccount, "unknown_account"},
		{balance.ErrUnknownReservation, "unknown_reservation"},
		{balance.ErrReservationExpired, "reservation_expired"},
		{balance.ErrInvalid, "invalid"},
		{context.DeadlineExceeded, "deadline"},
		{context.Canceled, "canceled"},
	} {
		if errors.Is(err, e.err) {
			return e.label
		}
	}
	return "other"
}

func mergeErrs(cs []errCounts) map[string]uint64 {
	out := map[string]uint64{}
	for _, c := range cs {
		for k, v := range c {
			out[k] += v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func mergeHists(hs []*Histogram) *Histogram {
	all := NewHistogram()
	for _, h := range hs {
		all.Merge(h)
	}
	return all
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// keepFrom protects the journal records the ledger projection has not read
// from the truncation that follows a snapshot, as tollgate serve does.
func (h *harness) keepFrom() func(context.Context) (uint64, error) {
	if h.cfg.Ledger == LedgerNone {
		return nil
	}
	return ledger.KeepFrom(h.j, ledger.DefaultName)
}
