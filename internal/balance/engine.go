package balance

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-billing/tollgate/internal/balance/journal"
)

// Journal is what the engine needs from the partition journals (package
// balance/journal implements it on NATS JetStream). Neither Append nor
// SaveSnapshot may keep data after it returns: the engine reuses it.
type Journal interface {
	Append(ctx context.Context, part int, expectLastSeq uint64, data []byte) (uint64, error)
	Replay(ctx context.Context, part int, afterSeq uint64, fn func(seq uint64, data []byte) error) (uint64, error)
	Truncate(ctx context.Context, part int, uptoSeq uint64) error
	SaveSnapshot(ctx context.Context, part int, seq uint64, data []byte) error
	LoadSnapshot(ctx context.Context, part int) (uint64, []byte, bool, error)
	Acquire(ctx context.Context, part int, owner string, now time.Time) (journal.Lease, error)
	Renew(ctx context.Context, l journal.Lease, now time.Time) (journal.Lease, error)
	Release(ctx context.Context, l journal.Lease) error
	Current(ctx context.Context, part int) (journal.Lease, bool, error)
}

// EngineConfig configures an Engine.
type EngineConfig struct {
	// Partitions is the number of partitions accounts are hashed into. It
	// is part of the data layout: every node of a cluster must use the same
	// value, and it cannot change once data exists. Default 32.
	Partitions int
	// NodeID names this node as a lease owner; it must be stable across
	// restarts of the same node (so a restarted node takes its partitions
	// back at once) and unique in the cluster.
	NodeID  string
	Journal Journal
	// LeaseTTL is how long a lease lasts without renewal (renewed every
	// TTL/3); default 5s. A partition of a dead node moves after it.
	LeaseTTL time.Duration
	// MaxBatch bounds the ops of one group commit; default 1024.
	MaxBatch int
	// MaxBatchBytes bounds the estimated encoded size of one group commit;
	// it must stay below the journal's record limit. Default: half the
	// journal's MaxRecord() when it has one, else 512 KiB.
	MaxBatchBytes int
	// SnapshotEvery is the least number of journaled ops between two
	// snapshots of a partition (default 20000); a larger state waits longer
	// (see snapshotThreshold). It bounds the journal tail a recovery replays.
	SnapshotEvery int
	// KeepFrom, when set, returns the lowest journal sequence a reader
	// still needs (the SQL ledger projection's next record): truncation
	// after a snapshot never purges it or anything after it.
	KeepFrom func(ctx context.Context) (uint64, error)
	// SweepInterval is how often expired reservations are released
	// (default 250ms).
	SweepInterval time.Duration
	State         Options
	Now           func() time.Time
	Logger        *slog.Logger
	Registerer    prometheus.Registerer
}

func (c *EngineConfig) defaults() {
	if c.Partitions <= 0 {
		c.Partitions = 32
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = 5 * time.Second
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 1024
	}
	if c.MaxBatchBytes <= 0 {
		c.MaxBatchBytes = 512 << 10
		if m, ok := c.Journal.(interface{ MaxRecord() int }); ok && m.MaxRecord() > 0 {
			c.MaxBatchBytes = m.MaxRecord() / 2
		}
	}
	if c.SnapshotEvery <= 0 {
		c.SnapshotEvery = 20000
	}
	if c.SweepInterval <= 0 {
		c.SweepInterval = 250 * time.Millisecond
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Engine is the balance engine of one node: it owns some (in one-node mode
// all) partitions, each served by one goroutine that validates operations
// against the in-memory State, group-commits them to the partition's
// journal, and only then answers (DESIGN §2.3).
//
// Partition state is only touched by its goroutine (or, at start and stop,
// by the goroutine that starts or stops it); there are no nested locks.
type Engine struct {
	cfg EngineConfig
	log *slog.Logger
	m   *metrics

	parts  []*partition
	wg     sync.WaitGroup // partition goroutines and the lease loop
	snapWG sync.WaitGroup // background snapshot saves

	// head is the highest journal sequence this node appended (a hint for
	// idle partitions, see keepUp); purgeMu serializes the truncations of
	// the shared stream and purged is how far the last one went.
	head    atomic.Uint64
	purgeMu sync.Mutex
	purged  uint64
	stop    context.CancelFunc
	ctx     context.Context
}

// PartitionOf returns the partition of an account: FNV-1a of its id modulo n.
func PartitionOf(account string, n int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(account))
	return int(h.Sum32() % uint32(n))
}

// NewEngine returns an engine; Start acquires and recovers its partitions.
func NewEngine(cfg EngineConfig) (*Engine, error) {
	cfg.defaults()
	if cfg.Journal == nil {
		return nil, errors.New("balance: engine needs a journal")
	}
	if cfg.NodeID == "" {
		return nil, errors.New("balance: engine needs a node id")
	}
	e := &Engine{cfg: cfg, log: cfg.Logger.With("component", "balance"), m: newMetrics(cfg.Registerer)}
	e.parts = make([]*partition, cfg.Partitions)
	for i := range e.parts {
		e.parts[i] = &partition{id: i, e: e}
	}
	return e, nil
}

// Start takes every partition it can get a lease for, recovers it from its
// snapshot and journal, and starts serving. Partitions held by other nodes
// are retried in the background and taken over when their lease expires.
func (e *Engine) Start(ctx context.Context) error {
	rctx, stop := context.WithCancel(context.Background())
	e.ctx, e.stop = rctx, stop
	// Recover partitions in parallel: snapshot decoding and replay are CPU
	// work, loading is I/O.
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)*2))
	)
	for _, p := range e.parts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := p.takeOver(ctx); err != nil && !errors.Is(err, journal.ErrLeaseHeld) {
				mu.Lock()
				errs = append(errs, fmt.Errorf("partition %d: %w", p.id, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		e.Stop(ctx)
		return err
	}
	e.wg.Add(1)
	go e.leaseLoop(rctx)
	e.log.Info("balance engine started", "node", e.cfg.NodeID, "partitions", len(e.parts), "owned", e.Owned())
	return nil
}

// Stop stops every partition goroutine after its in-flight batch, snapshots
// the owned partitions and releases their leases so another node can take
// them at once.
func (e *Engine) Stop(ctx context.Context) error {
	return e.halt(ctx, true)
}

// Halt stops serving the way a dying node does: no final snapshot, and the
// leases are left to expire (tests and benchmarks of recovery and failover).
func (e *Engine) Halt(ctx context.Context) error { return e.halt(ctx, false) }

// halt stops serving; with release false the leases are left to expire, as
// when a node dies.
func (e *Engine) halt(ctx context.Context, release bool) error {
	if e.stop != nil {
		e.stop()
	}
	e.wg.Wait()
	e.snapWG.Wait()
	var errs []error
	for _, p := range e.parts {
		if p.run.Swap(nil) == nil {
			continue
		}
		if release {
			if err := p.snapshot(ctx); err != nil {
				errs = append(errs, err)
			}
			if err := p.release(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		p.state = nil
	}
	return errors.Join(errs...)
}

// release gives the partition's lease up (at a clean stop). The stop
// cancels the lease loop, possibly in the middle of a renewal whose write
// landed but whose answer was lost: the lease then has a newer revision
// than the one held. If it is still ours in the same epoch, that one is
// released.
func (p *partition) release(ctx context.Context) error {
	j := p.e.cfg.Journal
	held := p.currentLease()
	err := j.Release(ctx, held)
	if !errors.Is(err, journal.ErrLeaseLost) {
		return err
	}
	cur, ok, cerr := j.Current(ctx, p.id)
	if cerr != nil || !ok || cur.Owner != held.Owner || cur.Epoch != held.Epoch {
		return err
	}
	return j.Release(ctx, cur)
}

// Owned returns the number of partitions this node serves.
func (e *Engine) Owned() int {
	n := 0
	for _, p := range e.parts {
		if p.owned() {
			n++
		}
	}
	return n
}

// Do applies one operation: validated, journaled (group commit) and only
// then answered. A context that ends while waiting returns its error; the
// op may still have been applied, and retrying with the same Key returns
// its result (idempotency).
func (e *Engine) Do(ctx context.Context, op *Op) (Result, error) {
	if err := checkSizes(op); err != nil {
		return Result{}, err
	}
	p := e.parts[PartitionOf(op.Account, len(e.parts))]
	r := getRequest()
	r.op = *op
	r.op.Time = 0
	if err := p.submit(ctx, r); err != nil {
		return Result{}, err
	}
	res, err := r.res, r.err
	putRequest(r)
	e.m.ops.WithLabelValues(op.Kind.String(), resultLabel(err)).Inc()
	return res, err
}

// States calls fn for every put_state blob of the partitions this node
// serves whose name starts with prefix, as of the last committed batch. fn
// runs outside the partition goroutines on copies.
func (e *Engine) States(ctx context.Context, prefix string, fn func(name, account string, data []byte) error) error {
	type item struct {
		name, account string
		data          []byte
	}
	for _, p := range e.parts {
		if !p.owned() {
			continue
		}
		var items []item
		r := getRequest()
		r.fn = func(st *State) {
			st.EachState(func(name, account string, data []byte) {
				if strings.HasPrefix(name, prefix) {
					items = append(items, item{name, account, append([]byte(nil), data...)})
				}
			})
		}
		if err := p.submit(ctx, r); err != nil {
			return err
		}
		err := r.err
		putRequest(r)
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := fn(it.name, it.account, it.data); err != nil {
				return err
			}
		}
	}
	return nil
}

// Account returns the current view of an account: balances, buckets and
// open reservations, as of the last committed batch.
func (e *Engine) Account(ctx context.Context, id string) (AccountView, error) {
	p := e.parts[PartitionOf(id, len(e.parts))]
	r := getRequest()
	r.read = id
	if err := p.submit(ctx, r); err != nil {
		return AccountView{}, err
	}
	v, err := r.view, r.err
	putRequest(r)
	return v, err
}

// Limits on the strings of an op, so that one op cannot outgrow a journal
// record.
const (
	maxKeyLen    = 512
	maxIDLen     = 256
	maxReasonLen = 1024
)

func checkSizes(op *Op) error {
	switch {
	case op.Account == "" || op.Key == "":
		return fmt.Errorf("%w: account and key are required", ErrInvalid)
	case len(op.Key) > maxKeyLen:
		return fmt.Errorf("%w: key longer than %d bytes", ErrInvalid, maxKeyLen)
	case len(op.Account) > maxIDLen, len(op.Reservation) > maxIDLen, len(op.Bucket.ID) > maxIDLen, len(op.Currency) > 8:
		return fmt.Errorf("%w: account, reservation or bucket id longer than %d bytes", ErrInvalid, maxIDLen)
	case len(op.Reason) > maxReasonLen:
		return fmt.Errorf("%w: reason longer than %d bytes", ErrInvalid, maxReasonLen)
	case len(op.Name) > maxKeyLen:
		return fmt.Errorf("%w: state name longer than %d bytes", ErrInvalid, maxKeyLen)
	case len(op.Data) > MaxStateBytes:
		return fmt.Errorf("%w: state of %d bytes, at most %d", ErrInvalid, len(op.Data), MaxStateBytes)
	}
	return nil
}

// opBytes estimates the encoded size of an op and the entries it produced
// (each entry repeats the op's strings).
func opBytes(op *Op, entries int) int {
	strs := len(op.Key) + len(op.Account) + len(op.Reservation) + len(op.Reason) + len(op.Bucket.ID) + len(op.Name) + len(op.Data) + 16
	return (1+entries)*(strs+64) + len(op.Bucket.ID)*entries
}

func resultLabel(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrInsufficientFunds):
		return "insufficient_funds"
	case errors.Is(err, ErrNotOwner), errors.Is(err, ErrFenced), errors.Is(err, ErrUnavailable):
		return "unavailable"
	}
	return "rejected"
}

// leaseLoop renews owned leases and tries to take over the others.
func (e *Engine) leaseLoop(ctx context.Context) {
	defer e.wg.Done()
	t := time.NewTicker(e.cfg.LeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, p := range e.parts {
			if ctx.Err() != nil {
				return
			}
			if p.owned() {
				held := p.currentLease()
				l, err := e.cfg.Journal.Renew(ctx, held, e.cfg.Now())
				if errors.Is(err, journal.ErrLeaseLost) {
					// A renewal whose answer was lost (a timeout) may have
					// been written: if the lease is still ours in the same
					// epoch, adopt it.
					if cur, ok, cerr := e.cfg.Journal.Current(ctx, p.id); cerr == nil && ok &&
						cur.Owner == held.Owner && cur.Epoch == held.Epoch {
						l, err = e.cfg.Journal.Renew(ctx, cur, e.cfg.Now())
					}
				}
				if err != nil {
					if errors.Is(err, journal.ErrLeaseLost) {
						e.log.Warn("partition lease lost", "partition", p.id)
						p.lose()
					} else {
						e.log.Warn("partition lease renewal failed", "partition", p.id, "err", err)
					}
					continue
				}
				p.setLease(l)
				continue
			}
			if err := p.takeOver(ctx); err == nil {
				e.log.Info("partition taken over", "partition", p.id, "epoch", p.currentLease().Epoch)
			} else if !errors.Is(err, journal.ErrLeaseHeld) && ctx.Err() == nil {
				e.log.Warn("partition takeover failed", "partition", p.id, "err", err)
			}
		}
		e.m.setOwned(e.Owned())
	}
}

// request is one op or read handed to a partition goroutine.
type request struct {
	op   Op
	read string // account id of a read; then op is unused
	// fn, when set, is run on the partition state in the partition
	// goroutine (a read of several accounts' data); op is unused.
	fn func(*State)
	// txn, when set, is a transaction's fn (Engine.Txn); txnState tells
	// whether it may still be abandoned.
	txn      func(Doer) error
	txnState atomic.Int32
	res      Result
	view     AccountView
	err      error
	done     chan struct{}
}

var requestPool = sync.Pool{New: func() any { return &request{done: make(chan struct{}, 1)} }}

func getRequest() *request { return requestPool.Get().(*request) }

func putRequest(r *request) {
	done := r.done
	*r = request{done: done}
	requestPool.Put(r)
}

// partition is one partition of the engine; this node serves it while
// run is non-nil.
type partition struct {
	id  int
	e   *Engine
	run atomic.Pointer[runHandle]

	leaseMu sync.Mutex
	lease   journal.Lease

	// Owned by the partition goroutine while it runs (and by takeOver
	// before it starts, and by halt after it stopped).
	state     *State
	lastSeq   uint64
	lastTime  int64 // time of the last op applied (unix ns)
	sinceSnap int   // ops journaled since the last snapshot
	bytes     int   // estimated encoded size of the batch being built
	snapping  atomic.Bool
	// What the partition still needs of the journal (see floor), guarded
	// by floorMu: the background snapshot save reads and writes it too.
	floorMu      sync.Mutex
	savedFirst   uint64 // first own record after the latest saved snapshot; 0: none yet
	pendingFirst uint64 // the same for the snapshot being saved
	snapPending  bool
	floorLast    uint64 // the partition's last record
	batch        Batch
	buf          []byte
	pending      []*request
	reads        []*request
	expireOps    []Op
}

// runHandle is one period of serving a partition: its request queue and
// goroutine.
type runHandle struct {
	reqs    chan *request
	cancel  context.CancelFunc
	stopped chan struct{}
}

func (p *partition) owned() bool { return p.run.Load() != nil }

func (p *partition) setLease(l journal.Lease) {
	p.leaseMu.Lock()
	p.lease = l
	p.leaseMu.Unlock()
}

func (p *partition) currentLease() journal.Lease {
	p.leaseMu.Lock()
	defer p.leaseMu.Unlock()
	return p.lease
}

// submit hands r to the partition goroutine and waits for the answer.
// On error r may still be referenced by the goroutine and must not be
// reused.
func (p *partition) submit(ctx context.Context, r *request) error {
	h := p.run.Load()
	if h == nil {
		return fmt.Errorf("%w (partition %d)", ErrNotOwner, p.id)
	}
	select {
	case h.reqs <- r:
	case <-h.stopped:
		return fmt.Errorf("%w (partition %d stopped)", ErrUnavailable, p.id)
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-r.done:
		return nil
	case <-h.stopped:
		select {
		case <-r.done:
			return nil
		default:
			if !r.abandon() {
				<-r.done // a running transaction is answered by the goroutine's exit
				return nil
			}
			return fmt.Errorf("%w (partition %d stopped)", ErrUnavailable, p.id)
		}
	case <-ctx.Done():
		if !r.abandon() {
			<-r.done
			return nil
		}
		return ctx.Err()
	}
}

// takeOver acquires the lease, rebuilds the state from the latest snapshot
// and the journal tail, fences older owners with an epoch record, and
// starts the partition goroutine.
func (p *partition) takeOver(ctx context.Context) error {
	e := p.e
	start := time.Now()
	l, err := e.cfg.Journal.Acquire(ctx, p.id, e.cfg.NodeID, e.cfg.Now())
	if err != nil {
		return err
	}
	p.setLease(l)
	if err := p.recover(ctx); err != nil {
		_ = e.cfg.Journal.Release(ctx, l)
		return err
	}
	pctx, cancel := context.WithCancel(e.ctx)
	h := &runHandle{reqs: make(chan *request, 4*e.cfg.MaxBatch), cancel: cancel, stopped: make(chan struct{})}
	p.run.Store(h)
	e.wg.Add(1)
	go p.serve(pctx, h)
	e.m.recovery.Observe(time.Since(start).Seconds())
	return nil
}

// recover loads the snapshot, replays the journal after it, and appends the
// epoch record that fences any older owner (retrying when an old owner's
// append slipped in meanwhile).
func (p *partition) recover(ctx context.Context) error {
	e := p.e
	seq, data, ok, err := e.cfg.Journal.LoadSnapshot(ctx, p.id)
	if err != nil {
		return fmt.Errorf("load snapshot: %w", err)
	}
	var st *State
	if ok {
		if st, err = LoadSnapshot(data, e.cfg.State); err != nil {
			return fmt.Errorf("snapshot at seq %d: %w", seq, err)
		}
		st.Seq = seq
	} else {
		st = NewState(p.id, e.cfg.State)
	}
	for attempt := 0; ; attempt++ {
		if err := p.replay(ctx, st); err != nil {
			return err
		}
		marker := Batch{Partition: p.id, Epoch: p.currentLease().Epoch}
		mseq, err := e.cfg.Journal.Append(ctx, p.id, st.Seq, AppendBatch(nil, &marker))
		if errors.Is(err, journal.ErrWrongLastSeq) && attempt < 10 {
			continue // an old owner appended after our replay: replay again
		}
		if err != nil {
			return fmt.Errorf("epoch record: %w", err)
		}
		st.Seq = mseq
		break
	}
	p.state, p.lastSeq, p.sinceSnap = st, st.Seq, 0
	p.floorMu.Lock()
	// The records after the snapshot start somewhere after its sequence
	// (after 0 without one: everything is needed).
	p.savedFirst, p.pendingFirst, p.snapPending, p.floorLast = seq+1, 0, false, st.Seq
	if !ok {
		p.savedFirst = 1
	}
	p.floorMu.Unlock()
	e.noteHead(st.Seq)
	return nil
}

// replay applies every journal record after st.Seq.
func (p *partition) replay(ctx context.Context, st *State) error {
	var b Batch
	var entries []Entry
	_, err := p.e.cfg.Journal.Replay(ctx, p.id, st.Seq, func(seq uint64, data []byte) error {
		if err := DecodeBatch(data, &b); err != nil {
			return fmt.Errorf("journal record %d: %w", seq, err)
		}
		for i := range b.Ops {
			var err error
			if _, entries, err = st.Apply(&b.Ops[i], entries[:0]); err != nil {
				return fmt.Errorf("journal record %d op %d (%s %s): replay diverged: %w", seq, i, b.Ops[i].Kind, b.Ops[i].Key, err)
			}
		}
		st.Seq = seq
		return nil
	})
	return err
}

// lose stops serving the partition after its lease was lost.
func (p *partition) lose() {
	if h := p.run.Swap(nil); h != nil {
		h.cancel()
		<-h.stopped
		p.state = nil
	}
}

// snapshot saves the partition state and truncates the journal below it.
// It runs after the partition goroutine stopped (at a clean stop).
func (p *partition) snapshot(ctx context.Context) error {
	if p.state == nil {
		return nil
	}
	p.e.snapWG.Wait()
	return p.save(ctx, p.state.Seq, p.state.AppendSnapshot(nil))
}

// snapshotThreshold is the number of journaled ops after which the
// partition is snapshotted: at least SnapshotEvery, and at least half the
// size of the state (accounts plus remembered keys). A snapshot costs in
// proportion to the state, a recovery replays the tail: growing the
// interval with the state keeps snapshot work a bounded share of the load
// (a 1 M-account node at 100k ops/s would otherwise write tens of MB of
// snapshots per second and stall its journal).
//
// Each partition's threshold is stretched by its own 0–60 %, so that
// partitions under the same uniform load do not all snapshot at once.
func (p *partition) snapshotThreshold() int {
	base := max(p.e.cfg.SnapshotEvery, (p.state.Accounts()+p.state.IdemKeys())/2)
	return base + base*((p.id*37)%61)/100
}

// snapshotAsync freezes the state in the partition goroutine (microseconds:
// State.BeginSnapshot copies nothing up front), then encodes and saves it
// in the background while the partition keeps serving; the encoding is
// exactly the state at seq (see freeze.go).
func (p *partition) snapshotAsync() {
	sn := p.state.BeginSnapshot()
	seq := sn.Seq()
	p.sinceSnap = 0
	p.snapping.Store(true)
	p.floorMu.Lock()
	p.snapPending, p.pendingFirst = true, 0
	p.floorMu.Unlock()
	p.e.snapWG.Add(1)
	go func() {
		defer p.e.snapWG.Done()
		defer p.snapping.Store(false)
		data := sn.Encode(getSnapBuf())
		defer putSnapBuf(data)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := p.save(ctx, seq, data); err != nil {
			p.e.log.Warn("snapshot failed", "partition", p.id, "seq", seq, "err", err)
		}
	}()
}

// save stores a snapshot taken at seq (in the background, or at a clean
// stop), then lets the journal go below what every partition still needs:
// when this node serves every partition, with one purge of the whole
// stream below the lowest such point (whole message blocks dropped; the
// appends of the other partitions hardly notice), otherwise with a purge
// of this partition's own records (which holds up every append to the
// stream while the store looks for them).
func (p *partition) save(ctx context.Context, seq uint64, data []byte) error {
	e := p.e
	start := time.Now()
	err := e.cfg.Journal.SaveSnapshot(ctx, p.id, seq, data)
	p.floorMu.Lock()
	if err == nil && p.snapPending {
		p.savedFirst = p.pendingFirst
	}
	p.snapPending = false
	p.floorMu.Unlock()
	if err != nil {
		return fmt.Errorf("partition %d snapshot: %w", p.id, err)
	}
	done, err := e.truncateStream(ctx)
	if !done {
		err = p.truncate(ctx, seq)
	}
	if err != nil {
		return err
	}
	e.m.observeSnapshot(time.Since(start), len(data))
	return nil
}

// truncate purges the partition's own records below seq (and below what
// the ledger projection has not read yet).
func (p *partition) truncate(ctx context.Context, seq uint64) error {
	upto := seq
	if keep := p.e.cfg.KeepFrom; keep != nil {
		k, err := keep(ctx)
		if err != nil {
			return fmt.Errorf("partition %d truncate: reader position: %w", p.id, err)
		}
		upto = min(upto, k)
	}
	if err := p.e.cfg.Journal.Truncate(ctx, p.id, upto); err != nil {
		return fmt.Errorf("partition %d truncate: %w", p.id, err)
	}
	return nil
}

// appended records a journal append of the partition at seq.
func (p *partition) appended(seq uint64) {
	p.floorMu.Lock()
	if p.snapPending && p.pendingFirst == 0 {
		p.pendingFirst = seq
	}
	if p.savedFirst == 0 {
		p.savedFirst = seq
	}
	p.floorLast = seq
	p.floorMu.Unlock()
	p.e.noteHead(seq)
}

// floor is the lowest journal sequence the partition needs kept: its first
// record after the latest saved snapshot (recovery replays from there) or,
// when it has none, its last record (which the fencing of the next append
// compares with).
func (p *partition) floor() uint64 {
	f, _ := p.floorWhy()
	return f
}

// floorWhy is floor, and whether it is the partition's last record (no
// record after the latest saved snapshot) rather than its first record
// after that snapshot.
func (p *partition) floorWhy() (floor uint64, last bool) {
	p.floorMu.Lock()
	defer p.floorMu.Unlock()
	if p.savedFirst != 0 {
		return p.savedFirst, false
	}
	return p.floorLast, true
}

func (e *Engine) noteHead(seq uint64) {
	for {
		h := e.head.Load()
		if seq <= h || e.head.CompareAndSwap(h, seq) {
			return
		}
	}
}

// StreamTruncater is implemented by a journal whose partitions share one
// stream that can be truncated as a whole (journal.Journal).
type StreamTruncater interface {
	TruncateStream(ctx context.Context, belowSeq uint64) error
}

// truncateStream purges the shared journal below the lowest point any
// partition or the ledger projection still needs. done is false when it
// cannot (a partition served by another node, whose needs this node does
// not know, or a journal without the ability): then each partition
// truncates its own records.
func (e *Engine) truncateStream(ctx context.Context) (done bool, err error) {
	tr, ok := e.cfg.Journal.(StreamTruncater)
	if !ok {
		return false, nil
	}
	below := uint64(math.MaxUint64)
	for _, p := range e.parts {
		if !p.owned() {
			return false, nil
		}
		below = min(below, p.floor())
	}
	if keep := e.cfg.KeepFrom; keep != nil {
		k, err := keep(ctx)
		if err != nil {
			return true, fmt.Errorf("truncate: reader position: %w", err)
		}
		below = min(below, k)
	}
	e.purgeMu.Lock()
	defer e.purgeMu.Unlock()
	if below <= e.purged+uint64(e.cfg.SnapshotEvery) {
		return true, nil // little to gain yet
	}
	if err := tr.TruncateStream(ctx, below); err != nil {
		return true, fmt.Errorf("truncate the journal below %d: %w", below, err)
	}
	e.purged = below
	return true, nil
}

// keepUp keeps an idle partition from holding back the truncation of the
// shared stream: when it has appended nothing for a long stretch of the
// stream and what it needs lies far behind the head, it snapshots (when it
// needs records after its latest saved snapshot, or has none saved) or
// else appends an empty record (so that its last record, which the
// fencing of appends needs, is recent). A busy partition is left to its
// own snapshot cadence. It reports false when the partition must stop.
func (p *partition) keepUp(ctx context.Context) bool {
	e := p.e
	gap := uint64(4 * e.cfg.SnapshotEvery)
	floor, last := p.floorWhy()
	head := e.head.Load()
	if head < gap || p.lastSeq > head-gap || floor > head-gap || p.snapping.Load() {
		return true
	}
	if !last {
		p.snapshotAsync()
		return true
	}
	marker := Batch{Partition: p.id, Epoch: p.currentLease().Epoch}
	p.buf = AppendBatch(p.buf[:0], &marker)
	seq, err := e.cfg.Journal.Append(ctx, p.id, p.lastSeq, p.buf)
	if err != nil {
		return p.rebuild(ctx, err)
	}
	p.lastSeq, p.state.Seq = seq, seq
	p.appended(seq)
	return true
}

// serve is the partition goroutine: collect a batch of requests, apply
// them to the state, append them as one journal record, answer.
func (p *partition) serve(ctx context.Context, h *runHandle) {
	e := p.e
	defer e.wg.Done()
	defer close(h.stopped)
	sweep := time.NewTicker(e.cfg.SweepInterval)
	defer sweep.Stop()
	for {
		var first *request
		select {
		case <-ctx.Done():
			p.failQueued(h, ErrUnavailable)
			return
		case first = <-h.reqs:
		case <-sweep.C:
			p.sweep(ctx)
			if !p.keepUp(ctx) {
				p.failQueued(h, ErrUnavailable)
				return
			}
			continue
		}
		p.pending, p.reads = p.pending[:0], p.reads[:0]
		p.batch.Ops, p.batch.Entries = p.batch.Ops[:0], p.batch.Entries[:0]
		p.bytes = 0
		p.accept(first)
	drain:
		for len(p.batch.Ops) < e.cfg.MaxBatch && p.bytes < e.cfg.MaxBatchBytes {
			select {
			case r := <-h.reqs:
				p.accept(r)
			default:
				break drain
			}
		}
		if !p.commit(ctx) {
			p.failQueued(h, ErrUnavailable)
			return
		}
	}
}

// accept applies one request to the state (tentatively: it answers only
// after the batch is durable).
func (p *partition) accept(r *request) {
	if r.read != "" || r.fn != nil {
		p.reads = append(p.reads, r)
		return
	}
	if r.txn != nil {
		p.runTxn(r)
		return
	}
	res, _, err := p.apply(&r.op)
	if err != nil {
		r.err = err
		r.done <- struct{}{}
		return
	}
	r.res = res
	p.pending = append(p.pending, r)
}

// apply stamps op with the partition's time, applies it to the state and
// adds it (unless it was a replay) and its entries to the batch being
// built; it returns the batch bytes it added. A refused op leaves the
// batch as it was.
func (p *partition) apply(op *Op) (Result, int, error) {
	op.Time = p.tick()
	n := len(p.batch.Entries)
	res, entries, err := p.state.Apply(op, p.batch.Entries)
	p.batch.Entries = entries
	if err != nil {
		p.batch.Entries = p.batch.Entries[:n]
		return Result{}, 0, err
	}
	b := 0
	if !res.Replayed {
		p.batch.Ops = append(p.batch.Ops, *op)
		b = opBytes(op, len(p.batch.Entries)-n)
		p.bytes += b
	}
	return res, b, nil
}

// tick returns the time for the next op: the clock, but never earlier than
// the previous op's, so that op times in a journal never go backwards (the
// idempotency window and expiry depend on them).
func (p *partition) tick() int64 {
	t := p.e.cfg.Now().UnixNano()
	if t <= p.lastTime {
		t = p.lastTime + 1
	}
	p.lastTime = t
	return t
}

// commit appends the batch and answers; it reports false when the
// partition must stop (fenced or unrecoverable).
func (p *partition) commit(ctx context.Context) bool {
	e := p.e
	ok := true
	if len(p.batch.Ops) > 0 {
		p.batch.Partition, p.batch.Epoch = p.id, p.currentLease().Epoch
		p.buf = AppendBatch(p.buf[:0], &p.batch)
		start := time.Now()
		seq, err := e.cfg.Journal.Append(ctx, p.id, p.lastSeq, p.buf)
		e.m.observeAppend(time.Since(start), len(p.batch.Ops))
		if err != nil {
			// The state ran ahead of the journal: answer failure and
			// rebuild from the journal (or stop if fenced).
			fail := fmt.Errorf("%w: journal append: %v", ErrUnavailable, err)
			if errors.Is(err, journal.ErrWrongLastSeq) {
				fail = fmt.Errorf("%w (partition %d)", ErrFenced, p.id)
			}
			for _, r := range p.pending {
				r.res, r.err = Result{}, fail
			}
			ok = p.rebuild(ctx, err)
		} else {
			p.lastSeq, p.state.Seq = seq, seq
			p.appended(seq)
			p.sinceSnap += len(p.batch.Ops)
		}
	}
	for _, r := range p.pending {
		r.done <- struct{}{}
	}
	for _, r := range p.reads {
		if ok && r.fn != nil {
			r.fn(p.state)
		} else if ok {
			v, found := p.state.AccountView(r.read)
			if !found {
				r.err = fmt.Errorf("%w %q", ErrUnknownAccount, r.read)
			}
			r.view = v
		} else {
			r.err = ErrUnavailable
		}
		r.done <- struct{}{}
	}
	if ok && p.sinceSnap >= p.snapshotThreshold() && !p.snapping.Load() {
		p.snapshotAsync()
	}
	return ok
}

// rebuild recovers the partition after a failed append. When the append was
// fenced, another node owns the partition: stop serving it.
func (p *partition) rebuild(ctx context.Context, cause error) bool {
	e := p.e
	if errors.Is(cause, journal.ErrWrongLastSeq) {
		e.log.Warn("partition fenced by a newer owner; stopping it", "partition", p.id)
		p.run.Store(nil)
		return false
	}
	for delay := 50 * time.Millisecond; ctx.Err() == nil; delay = min(2*delay, 2*time.Second) {
		if err := p.recover(ctx); err == nil {
			return true
		} else {
			e.log.Error("partition rebuild failed; retrying", "partition", p.id, "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
	}
	return false
}

// sweep journals the release of expired reservations.
func (p *partition) sweep(ctx context.Context) {
	now := p.tick()
	p.expireOps = p.state.Due(now, p.expireOps[:0], p.e.cfg.MaxBatch)
	if len(p.expireOps) == 0 {
		return
	}
	p.pending, p.reads = p.pending[:0], p.reads[:0]
	p.batch.Ops, p.batch.Entries = p.batch.Ops[:0], p.batch.Entries[:0]
	for i := range p.expireOps {
		op := p.expireOps[i]
		n := len(p.batch.Entries)
		_, entries, err := p.state.Apply(&op, p.batch.Entries)
		if err != nil {
			p.batch.Entries = p.batch.Entries[:n]
			continue
		}
		p.batch.Entries = entries
		p.batch.Ops = append(p.batch.Ops, op)
	}
	p.commit(ctx)
}

// failQueued answers every queued request with err (at shutdown).
func (p *partition) failQueued(h *runHandle, err error) {
	for {
		select {
		case r := <-h.reqs:
			r.err = err
			r.done <- struct{}{}
		default:
			return
		}
	}
}
