package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-billing/tollgate/internal/balance"
	"github.com/tollgate-billing/tollgate/internal/money"
	"github.com/tollgate-billing/tollgate/internal/store"
)

// The tests run the projector against a fake in-memory journal and a real
// SQLite store. Records are JSON-encoded balance.Batch values.

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func jsonDecode(data []byte, b *balance.Batch) error {
	*b = balance.Batch{}
	return json.Unmarshal(data, b)
}

// fakeJournal builds n records (seq 1..n) of perRec topup entries over the
// given accounts, with consistent running balances; record i was stored at
// t0 + i ms. (The batches carry no ops: the projector reads only entries.)
func fakeJournal(t *testing.T, n, perRec int, accounts []string) []Record {
	t.Helper()
	bal := map[string]money.Decimal{}
	recs := make([]Record, n)
	for i := range recs {
		seq := uint64(i + 1)
		b := balance.Batch{Partition: i % 3, Epoch: 1}
		for j := range perRec {
			acct := accounts[(i*perRec+j)%len(accounts)]
			amount := money.MustParse(fmt.Sprintf("%d.%02d", j+1, seq%100))
			nb, err := bal[acct].Add(amount)
			if err != nil {
				t.Fatal(err)
			}
			bal[acct] = nb
			at := t0.Add(time.Duration(seq) * time.Millisecond).UnixNano()
			key := fmt.Sprintf("topup-%d-%d", seq, j)
			b.Entries = append(b.Entries, balance.Entry{Account: acct, Kind: balance.KindTopUp, Key: key, Time: at,
				Asset: balance.AssetMoney, Delta: amount, Balance: nb})
		}
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		recs[i] = Record{Seq: seq, Partition: b.Partition, Time: t0.Add(time.Duration(seq) * time.Millisecond), Data: data}
	}
	return recs
}

// fakeSource is an in-memory journal with a durable consumer: it delivers
// unacknowledged records in batches and offers a batch again when fn fails.
type fakeSource struct {
	mu    sync.Mutex
	recs  []Record
	acked map[uint64]bool
	batch int
	// pick chooses the next batch among the unacknowledged records (in
	// order); nil takes the first batch of them.
	pick func(pending []Record) []Record
	// crashAfterFn, when it returns true for a batch fn accepted, makes
	// Consume return errCrash without acknowledging (a crash between the
	// commit and the acknowledgement).
	crashAfterFn func(batch []Record) bool
	// redeliverAcked re-sends every acknowledged record once more after
	// the last pending one (lost acknowledgements).
	redeliverAcked bool
	redelivered    bool
	redo           []Record // acknowledged records to deliver again
	calls          int
	opts           SourceOptions // of the last Consume
}

var errCrash = errors.New("fake source: crashed before ack")

func newSource(recs []Record, batch int) *fakeSource {
	return &fakeSource{recs: recs, acked: map[uint64]bool{}, batch: batch}
}

func (s *fakeSource) next() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	var pending []Record
	for _, r := range s.recs {
		if !s.acked[r.Seq] {
			pending = append(pending, r)
		}
	}
	if len(pending) == 0 && s.redeliverAcked && !s.redelivered {
		s.redelivered = true
		s.redo = append(s.redo, s.recs...)
	}
	if len(pending) == 0 {
		return s.redo[:min(s.batch, len(s.redo))]
	}
	if s.pick != nil {
		return s.pick(pending)
	}
	return pending[:min(s.batch, len(pending))]
}

func (s *fakeSource) allAcked() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.acked) == len(s.recs) && (!s.redeliverAcked || s.redelivered) && len(s.redo) == 0
}

func (s *fakeSource) Consume(ctx context.Context, durable string, opts SourceOptions, fn func([]Record) error) error {
	if durable == "" {
		return errors.New("fake source: empty durable")
	}
	s.mu.Lock()
	s.opts = opts
	s.mu.Unlock()
	for ctx.Err() == nil {
		b := s.next()
		if len(b) == 0 {
			select {
			case <-ctx.Done():
			case <-time.After(time.Millisecond):
			}
			continue
		}
		if opts.Linger > 0 && len(b) < opts.MaxRecords {
			// Gather: tell, wait, then take what is there by now.
			if opts.Gathering != nil {
				opts.Gathering(b)
			}
			select {
			case <-ctx.Done():
				return nil // nothing acknowledged
			case <-time.After(opts.Linger):
			}
			b = s.next()
		}
		if opts.MaxRecords > 0 && len(b) > opts.MaxRecords {
			b = b[:opts.MaxRecords]
		}
		s.mu.Lock()
		s.calls++
		s.mu.Unlock()
		if err := fn(b); err != nil {
			select { // offered again after a backoff
			case <-ctx.Done():
			case <-time.After(time.Millisecond):
			}
			continue
		}
		if s.crashAfterFn != nil && s.crashAfterFn(b) {
			return errCrash
		}
		s.mu.Lock()
		for _, r := range b {
			s.acked[r.Seq] = true
		}
		if len(s.redo) > 0 && len(b) > 0 && &s.redo[0] == &b[0] {
			s.redo = s.redo[len(b):]
		}
		s.mu.Unlock()
	}
	return nil
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.Config{
		Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "tollgate.db"), Migrate: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// runUntil runs p until src has every record acknowledged, then stops it.
func runUntil(t *testing.T, p *Projector, src *fakeSource) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	deadline := time.After(20 * time.Second)
	for !src.allAcked() {
		select {
		case err := <-done:
			t.Fatalf("Run returned early: %v", err)
		case <-deadline:
			t.Fatal("projection did not finish")
		case <-time.After(time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run after cancel = %v, want nil", err)
	}
}

// checkLedger asserts that every entry of recs is stored exactly once and
// that every account's balance is the sum of its deltas.
func checkLedger(t *testing.T, s *store.Store, recs []Record, accounts []string) {
	t.Helper()
	ctx := context.Background()
	want := map[string]bool{}
	for _, r := range recs {
		var b balance.Batch
		if err := jsonDecode(r.Data, &b); err != nil {
			t.Fatal(err)
		}
		for i, e := range b.Entries {
			want[fmt.Sprintf("%d/%d %s %s %s", r.Seq, i, e.Account, e.Key, e.Delta)] = true
		}
	}
	if n, err := s.LedgerCount(ctx); err != nil || n != int64(len(want)) {
		t.Errorf("LedgerCount = %d, %v; want %d", n, err, len(want))
	}
	seen := map[string]bool{}
	for _, a := range accounts {
		cursor := ""
		for {
			rows, next, err := s.Ledger(ctx, store.LedgerQuery{Account: a, Limit: store.MaxLimit, After: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				k := fmt.Sprintf("%d/%d %s %s %s", r.JournalSeq, r.Index, r.Account, r.Key, r.Delta)
				if !want[k] || seen[k] {
					t.Errorf("unexpected or repeated entry %s", k)
				}
				seen[k] = true
			}
			if next == "" {
				break
			}
			cursor = next
		}
		sums, err := s.LedgerSums(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if m := sums[balance.AssetMoney]; !m.Delta.Equal(m.Balance) {
			t.Errorf("%s: Σ delta %s ≠ balance %s", a, m.Delta, m.Balance)
		}
	}
	if len(seen) != len(want) {
		t.Errorf("found %d of %d entries", len(seen), len(want))
	}
	var maxSeq uint64
	for _, r := range recs {
		maxSeq = max(maxSeq, r.Seq)
	}
	if off, err := s.ProjectionOffset(ctx, DefaultName); err != nil || off != maxSeq {
		t.Errorf("offset = %d, %v; want %d", off, err, maxSeq)
	}
}

func metricValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		m := mf.GetMetric()[0]
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	t.Fatalf("metric %s not found", name)
	return 0
}

var accounts = []string{"a1", "a2", "a3", "a4", "a5"}

func TestProjectExactlyOnce(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(src *fakeSource)
	}{
		{"in order", func(src *fakeSource) {}},
		{"lost acks redeliver everything", func(src *fakeSource) { src.redeliverAcked = true }},
		{"later records first", func(src *fakeSource) {
			// A redelivery behind newer records: the tail comes first.
			src.pick = func(pending []Record) []Record {
				if len(pending) == len(src.recs) {
					return pending[len(pending)/2:]
				}
				return pending[:min(src.batch, len(pending))]
			}
		}},
		{"overlapping batches", func(src *fakeSource) {
			calls := 0
			src.pick = func(pending []Record) []Record {
				calls++
				b := pending[:min(src.batch, len(pending))]
				if calls%2 == 0 { // also send the last acknowledged record again
					for i := len(src.recs) - 1; i >= 0; i-- {
						if r := src.recs[i]; src.acked[r.Seq] && r.Seq < b[0].Seq {
							return append([]Record{r}, b...)
						}
					}
				}
				return b
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := openStore(t)
			recs := fakeJournal(t, 200, 7, accounts)
			src := newSource(recs, 16)
			tc.setup(src)
			reg := prometheus.NewRegistry()
			p := New(Config{Source: src, Decode: jsonDecode, Sink: s, Registerer: reg})
			runUntil(t, p, src)
			checkLedger(t, s, recs, accounts)
			if got := metricValue(t, reg, "tollgate_ledger_projected_seq"); got != 200 {
				t.Errorf("projected_seq = %v", got)
			}
			if got := metricValue(t, reg, "tollgate_ledger_projected_records_total"); got < 200 {
				t.Errorf("projected_records_total = %v", got)
			}
			if tc.name == "lost acks redeliver everything" {
				if got := metricValue(t, reg, "tollgate_ledger_redelivered_records_total"); got != 200 {
					t.Errorf("redelivered_records_total = %v, want 200", got)
				}
			}
		})
	}
}

// TestProjectCrashBetweenCommitAndAck: the process dies after the SQL
// commit and before the acknowledgement; the restarted projector gets the
// batch again and adds nothing twice.
func TestProjectCrashBetweenCommitAndAck(t *testing.T) {
	s := openStore(t)
	recs := fakeJournal(t, 100, 3, accounts)
	src := newSource(recs, 10)
	crashes := 0
	src.crashAfterFn = func(b []Record) bool {
		if b[0].Seq == 41 && crashes == 0 {
			crashes++
			return true
		}
		return false
	}
	reg := prometheus.NewRegistry()
	p := New(Config{Source: src, Decode: jsonDecode, Sink: s, Registerer: reg})
	if err := p.Run(context.Background()); !errors.Is(err, errCrash) {
		t.Fatalf("Run = %v, want the crash", err)
	}
	if off, _ := s.ProjectionOffset(context.Background(), DefaultName); off != 50 {
		t.Fatalf("offset after crash = %d, want 50 (committed, not acknowledged)", off)
	}
	// Restart in the same process: same registry, same name.
	p = New(Config{Source: src, Decode: jsonDecode, Sink: s, Registerer: reg})
	runUntil(t, p, src)
	checkLedger(t, s, recs, accounts)
	if got := metricValue(t, reg, "tollgate_ledger_redelivered_records_total"); got != 10 {
		t.Errorf("redelivered_records_total = %v, want 10", got)
	}
	if got := metricValue(t, reg, "tollgate_ledger_projected_records_total"); got != 110 {
		t.Errorf("projected_records_total = %v, want 110 (both runs)", got)
	}
}

func TestProjectDecodeErrorStops(t *testing.T) {
	s := openStore(t)
	recs := fakeJournal(t, 30, 2, accounts)
	recs[24].Data = []byte(`{"Partition": 1, "Entries": [{"Delta": "1.2.3"}]}`) // seq 25
	src := newSource(recs, 10)
	reg := prometheus.NewRegistry()
	p := New(Config{Source: src, Decode: jsonDecode, Sink: s, Registerer: reg})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := p.Run(ctx)
	if !errors.Is(err, ErrCorrupt) || ctx.Err() != nil {
		t.Fatalf("Run = %v, want ErrCorrupt before the timeout", err)
	}
	t.Logf("Run: %v", err)
	if got := metricValue(t, reg, "tollgate_ledger_decode_errors_total"); got != 1 {
		t.Errorf("decode_errors_total = %v, want 1", got)
	}
	// The records before the bad one are projected; it and the later ones
	// are not, and stay unacknowledged.
	checkLedger(t, s, recs[:24], accounts)
	if src.acked[21] || src.acked[25] || !src.acked[20] {
		t.Errorf("acked: 20 %v, 21 %v, 25 %v; want true, false, false", src.acked[20], src.acked[21], src.acked[25])
	}
	if p.Lag() != 0 {
		t.Errorf("Lag after stop = %v", p.Lag())
	}
}

// flakySink fails its first failures calls, then blocks each call until
// release is closed (if set), then writes to the store.
type flakySink struct {
	*store.Store
	mu       sync.Mutex
	failures int
	entered  chan struct{}
	release  chan struct{}
}

func (f *flakySink) ApplyLedger(ctx context.Context, name string, recs []store.LedgerRecord) error {
	f.mu.Lock()
	fail := f.failures > 0
	if fail {
		f.failures--
	}
	f.mu.Unlock()
	if fail {
		return errors.New("flaky: connection reset")
	}
	if f.entered != nil {
		f.entered <- struct{}{}
		<-f.release
	}
	return f.Store.ApplyLedger(ctx, name, recs)
}

func TestProjectRetriesSinkErrors(t *testing.T) {
	s := openStore(t)
	recs := fakeJournal(t, 20, 2, accounts)
	src := newSource(recs, 5)
	reg := prometheus.NewRegistry()
	sink := &flakySink{Store: s, failures: 3}
	p := New(Config{Source: src, Decode: jsonDecode, Sink: sink, Registerer: reg})
	runUntil(t, p, src)
	checkLedger(t, s, recs, accounts)
	if got := metricValue(t, reg, "tollgate_ledger_apply_errors_total"); got != 3 {
		t.Errorf("apply_errors_total = %v, want 3", got)
	}
}

func TestProjectConflictStops(t *testing.T) {
	s := openStore(t)
	recs := fakeJournal(t, 10, 2, accounts)
	// Seq 5 is already stored with different content (two journals writing
	// into one ledger, say).
	var b balance.Batch
	if err := jsonDecode(recs[4].Data, &b); err != nil {
		t.Fatal(err)
	}
	b.Entries[1].Delta = money.MustParse("1000")
	if err := s.ApplyLedger(context.Background(), "other", []store.LedgerRecord{{JournalSeq: 5, Partition: b.Partition, Entries: b.Entries}}); err != nil {
		t.Fatal(err)
	}
	p := New(Config{Source: newSource(recs, 3), Decode: jsonDecode, Sink: s})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Run(ctx); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Run = %v, want store.ErrConflict", err)
	}
	if p.Offset() != 3 {
		t.Errorf("Offset = %d, want 3", p.Offset())
	}
}

func TestProjectLag(t *testing.T) {
	s := openStore(t)
	recs := fakeJournal(t, 10, 1, accounts) // stored at t0+1ms … t0+10ms
	src := newSource(recs, 5)
	var (
		mu  sync.Mutex
		now = t0.Add(3 * time.Second)
	)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	sink := &flakySink{Store: s, entered: make(chan struct{}), release: make(chan struct{})}
	reg := prometheus.NewRegistry()
	p := New(Config{Source: src, Decode: jsonDecode, Sink: sink, Registerer: reg, Now: clock})
	if p.Lag() != 0 {
		t.Fatalf("Lag before start = %v", p.Lag())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	enter := func() {
		t.Helper()
		select {
		case <-sink.entered:
		case err := <-done:
			t.Fatalf("Run returned early: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("the sink was not called")
		}
	}
	// First batch (seq 1–5) in hand: the lag is the oldest record's age,
	// growing while the sink is stuck.
	enter()
	if lag, want := p.Lag(), 3*time.Second-time.Millisecond; lag != want {
		t.Errorf("Lag in hand = %v, want %v", lag, want)
	}
	advance(2 * time.Second)
	if lag, want := p.Lag(), 5*time.Second-time.Millisecond; lag != want {
		t.Errorf("Lag while stuck = %v, want %v", lag, want)
	}
	if g := metricValue(t, reg, "tollgate_ledger_projection_lag_seconds"); g != (5*time.Second - time.Millisecond).Seconds() {
		t.Errorf("lag gauge while stuck = %v", g)
	}
	sink.release <- struct{}{}
	// Second batch (seq 6–10).
	enter()
	if lag, want := p.Lag(), 5*time.Second-6*time.Millisecond; lag != want {
		t.Errorf("Lag of second batch = %v, want %v", lag, want)
	}
	advance(time.Second)
	sink.release <- struct{}{}
	for !src.allAcked() {
		time.Sleep(time.Millisecond)
	}
	// Caught up: Lag is 0, the gauge keeps the measured delay of the last
	// commit: the age of its oldest record (seq 6 stored at t0+6ms,
	// committed at t0+6s), the longest any of its records waited.
	if lag := p.Lag(); lag != 0 {
		t.Errorf("Lag caught up = %v", lag)
	}
	if g, want := metricValue(t, reg, "tollgate_ledger_projection_lag_seconds"), (6*time.Second - 6*time.Millisecond).Seconds(); g != want {
		t.Errorf("lag gauge caught up = %v, want %v", g, want)
	}
	if n := metricValue(t, reg, "tollgate_ledger_commit_delay_seconds"); n != 2 {
		t.Errorf("commit_delay_seconds observations = %v, want 2", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	checkLedger(t, s, recs, accounts)
	if got := metricValue(t, reg, "tollgate_ledger_projection_batch_size"); got != 2 {
		t.Errorf("batch_size observations = %v, want 2", got)
	}
}

func TestProjectSplitsLargeBatches(t *testing.T) {
	s := openStore(t)
	recs := fakeJournal(t, 50, 10, accounts)
	src := newSource(recs, 50)
	reg := prometheus.NewRegistry()
	p := New(Config{Source: src, Decode: jsonDecode, Sink: s, Registerer: reg, MaxEntries: 95})
	runUntil(t, p, src)
	checkLedger(t, s, recs, accounts)
	// 9 records (90 entries) per transaction: 6 transactions.
	if got := metricValue(t, reg, "tollgate_ledger_projection_batch_size"); got != 6 {
		t.Errorf("transactions = %v, want 6", got)
	}
}

func TestConfigValidate(t *testing.T) {
	err := New(Config{}).Run(context.Background())
	for _, field := range []string{"Source", "Decode", "Sink"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("Run with empty config = %v, want %s named", err, field)
		}
	}
}

// TestProjectJournalCodec runs the projector with the journal's own codec
// (balance.AppendBatch / balance.DecodeBatch), including a truncated record.
func TestProjectJournalCodec(t *testing.T) {
	s := openStore(t)
	var recs []Record
	for i := range 5 {
		seq := uint64(i + 1)
		at := t0.Add(time.Duration(seq) * time.Second).UnixNano()
		amount := money.MustParse(fmt.Sprintf("%d.50", seq))
		bal := money.MustParse(fmt.Sprintf("%d.50", seq*100))
		b := balance.Batch{Partition: 2, Epoch: 7,
			Ops: []balance.Op{{Kind: balance.KindTopUp, Key: fmt.Sprintf("k%d", seq), Account: "a1", Time: at, Amount: amount}},
			Entries: []balance.Entry{{Account: "a1", Kind: balance.KindTopUp, Key: fmt.Sprintf("k%d", seq), Time: at,
				Asset: balance.AssetMoney, Delta: amount, Balance: bal}}}
		recs = append(recs, Record{Seq: seq * 10, Partition: 2, Data: balance.AppendBatch(nil, &b)})
	}
	recs[4].Data = recs[4].Data[:len(recs[4].Data)-1]
	p := New(Config{Source: newSource(recs, 2), Decode: balance.DecodeBatch, Sink: s})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Run(ctx); !errors.Is(err, ErrCorrupt) || !errors.Is(err, balance.ErrInvalid) {
		t.Fatalf("Run = %v, want ErrCorrupt wrapping balance.ErrInvalid", err)
	}
	rows, _, err := s.Ledger(context.Background(), store.LedgerQuery{Account: "a1"})
	if err != nil || len(rows) != 4 {
		t.Fatalf("Ledger = %d rows, %v; want 4", len(rows), err)
	}
	for i, r := range rows {
		seq := uint64(i + 1)
		if r.JournalSeq != seq*10 || r.Partition != 2 || r.Kind != "topup" || r.Key != fmt.Sprintf("k%d", seq) ||
			!r.Time.Equal(t0.Add(time.Duration(seq)*time.Second)) || r.Delta.String() != fmt.Sprintf("%d.50", seq) {
			t.Errorf("row %d = %+v", i, r)
		}
	}
}

// waitFor polls cond until it holds or 10s have passed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestProjectLinger: a small batch is gathered for Linger, counted in the
// lag meanwhile, and written in one transaction with the records that
// arrived during the linger.
func TestProjectLinger(t *testing.T) {
	s := openStore(t)
	recs := fakeJournal(t, 5, 2, accounts)
	src := newSource(recs[:3], 100)
	reg := prometheus.NewRegistry()
	const linger = 300 * time.Millisecond
	p := New(Config{Source: src, Decode: jsonDecode, Sink: s, Registerer: reg, Linger: linger, MaxRecords: 50})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- p.Run(ctx) }()

	waitFor(t, "the linger", func() bool { return p.Lag() > 0 })
	src.mu.Lock()
	if src.opts.Linger != linger || src.opts.MaxRecords != 50 || src.opts.Gathering == nil {
		t.Errorf("source options = %+v", src.opts)
	}
	src.recs = append(src.recs, recs[3:]...) // arrive while the projector lingers
	src.mu.Unlock()
	if n, err := s.LedgerCount(ctx); err != nil || n != 0 {
		t.Errorf("LedgerCount while lingering = %d, %v; want 0", n, err)
	}
	if off, err := s.ProjectionOffset(ctx, DefaultName); err != nil || off != 0 {
		t.Errorf("offset while lingering = %d, %v; want 0", off, err)
	}
	if g := metricValue(t, reg, "tollgate_ledger_projection_lag_seconds"); g <= 0 {
		t.Errorf("lag gauge while lingering = %v, want > 0", g)
	}

	waitFor(t, "the flush", src.allAcked)
	if d := time.Since(start); d < linger {
		t.Errorf("flushed after %v, before the linger (%v) ended", d, linger)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	checkLedger(t, s, recs, accounts)
	if got := metricValue(t, reg, "tollgate_ledger_projection_batch_size"); got != 1 {
		t.Errorf("transactions = %v, want 1 (the records that came during the linger with the others)", got)
	}
	if p.Lag() != 0 {
		t.Errorf("Lag after the flush = %v", p.Lag())
	}
}

// TestProjectStopMidLinger: the projector stops while it gathers a batch:
// nothing is written, acknowledged or counted as projected; the next run
// projects every record exactly once.
func TestProjectStopMidLinger(t *testing.T) {
	s := openStore(t)
	recs := fakeJournal(t, 20, 3, accounts)
	src := newSource(recs, 100)
	p := New(Config{Source: src, Decode: jsonDecode, Sink: s, Linger: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	waitFor(t, "the linger", func() bool { return p.Lag() > 0 })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop during the linger")
	}
	if n, err := s.LedgerCount(context.Background()); err != nil || n != 0 {
		t.Errorf("LedgerCount = %d, %v; want 0", n, err)
	}
	if off, err := s.ProjectionOffset(context.Background(), DefaultName); err != nil || off != 0 || p.Offset() != 0 {
		t.Errorf("offset = %d (projector %d), %v; want 0", off, p.Offset(), err)
	}
	src.mu.Lock()
	acked := len(src.acked)
	src.mu.Unlock()
	if acked != 0 {
		t.Errorf("%d records acknowledged", acked)
	}
	if p.Lag() != 0 {
		t.Errorf("Lag after stop = %v", p.Lag())
	}
	// Restarted (without a linger): everything, once.
	p = New(Config{Source: src, Decode: jsonDecode, Sink: s})
	runUntil(t, p, src)
	checkLedger(t, s, recs, accounts)
}
