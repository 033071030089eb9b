package ledger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-billing/tollgate/internal/account"
	"github.com/tollgate-billing/tollgate/internal/balance"
	"github.com/tollgate-billing/tollgate/internal/store"
)

// Record is one journal record as a Source delivers it. It has the fields of
// journal.Record, so a journal record converts with ledger.Record(r).
type Record struct {
	// Seq is the journal sequence: unique across all partitions, and
	// increasing in the order the journal stored the records.
	Seq uint64
	// Partition is the journal partition, -1 if unknown (the projector
	// uses the partition recorded in the batch itself).
	Partition int
	// Time is when the journal stored the record; zero if unknown.
	Time time.Time
	Data []byte
}

// Source delivers journal records to a durable consumer (implemented over
// journal.Journal.ConsumeWith).
type Source interface {
	// Consume calls fn with batches of records, in journal order, from the
	// first record not acknowledged for the durable consumer durable, until
	// ctx is done (then it returns nil). When fn returns nil the batch is
	// acknowledged; when fn returns an error the batch is not
	// acknowledged and is offered again later. Delivery is at least once,
	// possibly out of order after a failure. Records gathered for a batch
	// that fn has not accepted when ctx ends stay unacknowledged.
	Consume(ctx context.Context, durable string, opts SourceOptions, fn func(batch []Record) error) error
}

// SourceOptions tell a Source how to gather batches.
type SourceOptions struct {
	// MaxRecords caps the records of one batch.
	MaxRecords int
	// Linger: once a batch has its first record, the source waits for
	// more until the oldest record of the batch is Linger old (at most
	// Linger from now) or the batch has MaxRecords records. 0 delivers
	// whatever is available at once.
	Linger time.Duration
	// Gathering is called with the first records of a batch before the
	// source lingers for more (for the lag).
	Gathering func(first []Record)
}

// Decoder decodes a journal record into b (balance.DecodeBatch). It must
// not keep data, and must fill b afresh.
type Decoder func(data []byte, b *balance.Batch) error

// Sink stores ledger entries (implemented by *store.Store).
type Sink interface {
	ApplyLedger(ctx context.Context, name string, recs []store.LedgerRecord) error
	ProjectionOffset(ctx context.Context, name string) (uint64, error)
}

var _ Sink = (*store.Store)(nil)

// ErrCorrupt: a journal record could not be decoded. The projector stops at
// it rather than leave a hole in the ledger.
var ErrCorrupt = errors.New("ledger: undecodable journal record")

// DefaultName is the default durable consumer and offset name.
const DefaultName = "ledger"

// DefaultMaxEntries is the default number of entries per SQL transaction.
// With SQLite's default page cache the rate fell past about 10,000 (the
// cache spilled within the transaction); with the ledger's larger cache it
// keeps rising slowly (5.97 against 7.41 µs of CPU per entry at 50,000, see
// store.BenchmarkApplyLedger), but a transaction holds SQLite's write lock
// throughout — about 70 ms for 10,000 entries — and master-data writes wait
// for it.
const DefaultMaxEntries = 10000

// DefaultMaxRecords is the default number of journal records per delivered
// batch (Config.MaxRecords).
const DefaultMaxRecords = 5000

// Config configures a Projector.
type Config struct {
	// Name is the durable consumer's name and the offset's name in the
	// sink; default "ledger".
	Name   string
	Source Source
	Decode Decoder
	Sink   Sink
	// MaxEntries caps the entries of one SQL transaction: a delivered batch
	// with more is written in several (each advancing the offset);
	// default DefaultMaxEntries. A single record is never split.
	MaxEntries int
	// MaxRecords caps the journal records of one delivered batch; default
	// DefaultMaxRecords.
	MaxRecords int
	// Linger is how long the source may gather records for one batch
	// (SourceOptions.Linger): larger SQL transactions cost much less per
	// entry (fewer commits, each dirty index page written once for many
	// entries), and a record reaches SQL at most Linger plus one
	// transaction after the journal stored it. 0 writes whatever is
	// available at once; negative is 0.
	Linger time.Duration
	// Logger may be nil.
	Logger *slog.Logger
	// Registerer receives the metrics when non-nil.
	Registerer prometheus.Registerer
	// Now is the clock for the lag; nil means time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.MaxEntries <= 0 {
		c.MaxEntries = DefaultMaxEntries
	}
	if c.MaxRecords <= 0 {
		c.MaxRecords = DefaultMaxRecords
	}
	c.Linger = max(0, c.Linger)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

func (c Config) validate() error {
	var errs []error
	if c.Source == nil {
		errs = append(errs, errors.New("ledger: config: Source is required"))
	}
	if c.Decode == nil {
		errs = append(errs, errors.New("ledger: config: Decode is required"))
	}
	if c.Sink == nil {
		errs = append(errs, errors.New("ledger: config: Sink is required"))
	}
	return errors.Join(errs...)
}

// Projector feeds the SQL ledger from the journal. Run it once at a time per
// Name (the durable consumer is shared); Lag may be called concurrently.
type Projector struct {
	cfg Config
	log *slog.Logger
	m   *metrics

	// offset is the highest journal sequence known to be committed.
	offset atomic.Uint64
	// pendingSince is the age origin (unix ns) of the oldest record in
	// hand (delivered, gathered or decoded, not committed), 0 when none;
	// lastLag the age of the oldest record of the last commit when it
	// committed (ns).
	pendingSince atomic.Int64
	lastLag      atomic.Int64

	// mu guards fatal.
	mu    sync.Mutex
	fatal error
}

// New returns a Projector. Missing required fields are reported by Run.
func New(cfg Config) *Projector {
	cfg = cfg.withDefaults()
	p := &Projector{cfg: cfg, log: cfg.Logger.With("component", "ledger-projector", "projection", cfg.Name)}
	p.m = newMetrics(cfg.Registerer, cfg.Name, p.lagGauge, p.log)
	return p
}

// Run projects until ctx is done (it then returns nil) or a record cannot be
// projected (a decode error or a conflicting entry: it returns the error,
// and the record stays unacknowledged).
func (p *Projector) Run(ctx context.Context) error {
	if err := p.cfg.validate(); err != nil {
		return err
	}
	off, err := p.cfg.Sink.ProjectionOffset(ctx, p.cfg.Name)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("ledger: read offset: %w", err)
	}
	p.offset.Store(off)
	p.m.seq.Set(float64(off))
	p.log.InfoContext(ctx, "ledger projection starting", "offset", off)

	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	opts := SourceOptions{MaxRecords: p.cfg.MaxRecords, Linger: p.cfg.Linger, Gathering: p.gathering}
	err = p.cfg.Source.Consume(cctx, p.cfg.Name, opts, func(batch []Record) error {
		err := p.handle(cctx, batch)
		if err != nil && p.isFatal(err) {
			p.mu.Lock()
			if p.fatal == nil {
				p.fatal = err
			}
			p.mu.Unlock()
			cancel()
		}
		return err
	})
	p.pendingSince.Store(0)
	p.mu.Lock()
	fatal := p.fatal
	p.mu.Unlock()
	switch {
	case fatal != nil:
		return fatal
	case ctx.Err() != nil:
		p.log.InfoContext(ctx, "ledger projection stopped", "offset", p.offset.Load())
		return nil
	case err != nil:
		return fmt.Errorf("ledger: consume: %w", err)
	}
	return nil
}

// gathering notes the first records of a batch the source lingers over: the
// lag counts them from now on.
func (p *Projector) gathering(first []Record) {
	var oldest int64
	for _, r := range first {
		if t := r.Time.UnixNano(); !r.Time.IsZero() && (oldest == 0 || t < oldest) {
			oldest = t
		}
	}
	if oldest == 0 {
		oldest = p.cfg.Now().UnixNano()
	}
	p.pendingSince.CompareAndSwap(0, oldest)
}

// isFatal tells errors that retrying cannot cure.
func (p *Projector) isFatal(err error) bool {
	return errors.Is(err, ErrCorrupt) || errors.Is(err, store.ErrConflict) || errors.Is(err, account.ErrInvalid)
}

// Lag is how far the SQL ledger is behind now: the age of the oldest record
// delivered but not yet committed; 0 when every delivered record is
// committed.
func (p *Projector) Lag() time.Duration {
	since := p.pendingSince.Load()
	if since == 0 {
		return 0
	}
	return max(0, p.cfg.Now().Sub(time.Unix(0, since)))
}

// lagGauge is the value of tollgate_ledger_projection_lag_seconds: Lag
// while records are in hand, else the age the oldest record of the last
// transaction had when it committed.
func (p *Projector) lagGauge() time.Duration {
	if lag := p.Lag(); lag > 0 || p.pendingSince.Load() != 0 {
		return lag
	}
	return time.Duration(p.lastLag.Load())
}

// Offset returns the highest journal sequence the projector knows to be
// committed to the sink.
func (p *Projector) Offset() uint64 { return p.offset.Load() }

// handle projects one delivered batch.
func (p *Projector) handle(ctx context.Context, batch []Record) error {
	var (
		recs    = make([]store.LedgerRecord, 0, len(batch))
		times   = make([]int64, 0, len(batch)) // age origin per record (unix ns)
		oldest  int64
		corrupt error
	)
	for _, r := range batch {
		var b balance.Batch
		if err := p.cfg.Decode(r.Data, &b); err != nil {
			p.m.decodeErrors.Inc()
			p.log.ErrorContext(ctx, "undecodable journal record: ledger projection stops here",
				"seq", r.Seq, "partition", r.Partition, "bytes", len(r.Data), "error", err)
			corrupt = fmt.Errorf("%w: seq %d (partition %d): %w", ErrCorrupt, r.Seq, r.Partition, err)
			break
		}
		if r.Partition >= 0 && r.Partition != b.Partition {
			p.log.WarnContext(ctx, "journal record's partition differs from its batch's", "seq", r.Seq,
				"record_partition", r.Partition, "batch_partition", b.Partition)
		}
		t := recordTime(r, &b)
		if oldest == 0 || (t != 0 && t < oldest) {
			oldest = t
		}
		recs = append(recs, store.LedgerRecord{JournalSeq: r.Seq, Partition: b.Partition, Entries: b.Entries})
		times = append(times, t)
	}
	if oldest != 0 {
		p.pendingSince.Store(oldest)
	}
	defer p.pendingSince.Store(0)

	for len(recs) > 0 {
		// As many records as fit in MaxEntries, at least one.
		n, entries := 0, 0
		for n < len(recs) && (n == 0 || entries+len(recs[n].Entries) <= p.cfg.MaxEntries) {
			entries += len(recs[n].Entries)
			n++
		}
		if err := p.apply(ctx, recs[:n], times[:n], entries); err != nil {
			if corrupt != nil {
				return errors.Join(corrupt, err)
			}
			return err
		}
		recs, times = recs[n:], times[n:]
		// The rest is still in hand.
		if len(times) > 0 {
			p.pendingSince.Store(minNonZero(times))
		}
	}
	return corrupt
}

// apply writes one transaction's worth of records.
func (p *Projector) apply(ctx context.Context, recs []store.LedgerRecord, times []int64, entries int) error {
	off := p.offset.Load()
	var maxSeq uint64
	redelivered := 0
	for _, r := range recs {
		if r.JournalSeq <= off {
			redelivered++
		}
		maxSeq = max(maxSeq, r.JournalSeq)
	}
	start := time.Now()
	if err := p.cfg.Sink.ApplyLedger(ctx, p.cfg.Name, recs); err != nil {
		p.m.applyErrors.Inc()
		if ctx.Err() == nil {
			level := slog.LevelWarn
			if p.isFatal(err) {
				level = slog.LevelError
			}
			p.log.Log(ctx, level, "ledger projection: apply failed", "records", len(recs), "entries", entries,
				"first_seq", recs[0].JournalSeq, "last_seq", recs[len(recs)-1].JournalSeq, "error", err)
		}
		return err
	}
	p.m.applySeconds.Observe(time.Since(start).Seconds())
	now := p.cfg.Now()
	if oldest := minNonZero(times); oldest != 0 {
		// The delay of this transaction: how long its longest-waiting
		// record took from the journal to SQL.
		lag := max(0, now.Sub(time.Unix(0, oldest)))
		p.lastLag.Store(int64(lag))
		p.m.delay.Observe(lag.Seconds())
	}
	if maxSeq > off {
		// Only Run's goroutine stores the offset.
		p.offset.Store(maxSeq)
		p.m.seq.Set(float64(maxSeq))
	}
	p.m.entries.Add(float64(entries))
	p.m.records.Add(float64(len(recs)))
	p.m.redelivered.Add(float64(redelivered))
	p.m.batchSize.Observe(float64(len(recs)))
	return nil
}

// recordTime is the age origin of a record (unix ns): when the journal
// stored it, else the newest op or entry time in it; 0 if none is known.
func recordTime(r Record, b *balance.Batch) int64 {
	if !r.Time.IsZero() {
		return r.Time.UnixNano()
	}
	var t int64
	for i := range b.Ops {
		t = max(t, b.Ops[i].Time)
	}
	for i := range b.Entries {
		t = max(t, b.Entries[i].Time)
	}
	return t
}

func minNonZero(ts []int64) int64 {
	var m int64
	for _, t := range ts {
		if t != 0 && (m == 0 || t < m) {
			m = t
		}
	}
	return m
}
