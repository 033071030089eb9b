package journal

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// consumeN runs Consume on durable until at least n records arrived and were
// acknowledged, then stops it. Call it when exactly n records are waiting.
func consumeN(t *testing.T, j *Journal, durable string, n int) []Record {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var mu sync.Mutex
	var got []Record
	enough := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- j.Consume(ctx, durable, func(batch []Record) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, batch...)
			if len(got) >= n && len(got)-len(batch) < n {
				close(enough)
			}
			return nil
		})
	}()
	select {
	case <-enough:
	case err := <-done:
		t.Fatalf("Consume returned early: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatalf("Consume: %d of %d records after 30s", len(got), n)
	}
	waitAcked(t, j, durable)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Consume: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	return got
}

// waitAcked waits until the durable has no delivered, unacknowledged record.
func waitAcked(t *testing.T, j *Journal, durable string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := j.stream.Consumer(t.Context(), durable)
		if err != nil {
			t.Fatal(err)
		}
		if c.CachedInfo().NumAckPending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("durable %s: %d records still unacknowledged", durable, c.CachedInfo().NumAckPending)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type appended struct {
	part int
	data string
}

// appendSpread appends n records round-robin over parts partitions and
// returns them by sequence.
func appendSpread(t *testing.T, j *Journal, n, parts int, tag string) map[uint64]appended {
	t.Helper()
	last := make([]uint64, parts)
	for p := range parts {
		l, err := j.LastSeq(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		last[p] = l
	}
	want := map[uint64]appended{}
	for i := range n {
		p := i % parts
		d := fmt.Sprintf("%s %d", tag, i)
		last[p] = mustAppend(t, j, p, last[p], d)
		want[last[p]] = appended{p, d}
	}
	return want
}

// checkRecords checks that got holds every record of want exactly once, in
// stream order.
func checkRecords(t *testing.T, got []Record, want map[uint64]appended) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	var prev uint64
	for _, r := range got {
		if r.Seq <= prev {
			t.Fatalf("record %d after %d: not in stream order (or repeated)", r.Seq, prev)
		}
		prev = r.Seq
		w, ok := want[r.Seq]
		if !ok || w.part != r.Partition || w.data != string(r.Data) {
			t.Fatalf("record %d = partition %d %q; want %+v", r.Seq, r.Partition, r.Data, w)
		}
		if r.Time.IsZero() {
			t.Fatalf("record %d has no time", r.Seq)
		}
	}
}

func TestConsume(t *testing.T) {
	j, _ := newJournal(t)
	testConsume(t, j, true)
}

// testConsume; reset reports whether the server has the consumer reset API.
func testConsume(t *testing.T, j *Journal, reset bool) {
	ctx := t.Context()
	if lag, err := j.ConsumerLag(ctx, "ledger"); err != nil || lag != 0 {
		t.Fatalf("lag of an empty journal = %d, %v", lag, err)
	}
	want := appendSpread(t, j, 2500, 5, "first")
	if lag, err := j.ConsumerLag(ctx, "ledger"); err != nil || lag != 2500 {
		t.Fatalf("lag before the durable exists = %d, %v; want 2500", lag, err)
	}
	got := consumeN(t, j, "ledger", 2500)
	checkRecords(t, got, want)
	waitLag(t, j, "ledger", 0)

	// A restarted consumer continues after the last acknowledged batch.
	want = appendSpread(t, j, 100, 3, "second")
	waitLag(t, j, "ledger", 100)
	checkRecords(t, consumeN(t, j, "ledger", 100), want)

	// fn fails: the same batch comes again after a backoff, nothing later
	// comes first, and nothing is lost or accepted twice.
	want = appendSpread(t, j, 50, 2, "retry")
	var accepted []Record
	fails := 0
	ctx2, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	var firstBatch []uint64
	go func() {
		done <- j.Consume(ctx2, "ledger", func(batch []Record) error {
			if fails < 2 {
				fails++
				seqs := seqsOf(batch)
				if firstBatch == nil {
					firstBatch = seqs
				} else if fmt.Sprint(seqs) != fmt.Sprint(firstBatch) {
					return fmt.Errorf("retry got %v; want the failed batch %v", seqs, firstBatch)
				}
				return errors.New("database unavailable")
			}
			accepted = append(accepted, batch...)
			if len(accepted) >= len(want) {
				cancel()
			}
			return nil
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("retrying consumer did not finish")
	}
	if fails != 2 {
		t.Fatalf("fn failed %d times; want 2", fails)
	}
	checkRecords(t, accepted, want)

	// The consumer dies with a batch unacknowledged: the next one gets the
	// batch again, in order.
	want = appendSpread(t, j, 30, 3, "crash")
	ctx3, cancel3 := context.WithCancel(ctx)
	var seen []uint64
	err := j.Consume(ctx3, "ledger", func(batch []Record) error {
		seen = seqsOf(batch)
		cancel3() // "crash": never acknowledged
		return errors.New("crashed")
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) == 0 {
		t.Fatal("the crashing consumer saw nothing")
	}
	if !reset {
		t.Log("server has no consumer reset API: skipping the in-order redelivery check " +
			"(its unacknowledged batch would come back after AckWait, 1 min)")
		return
	}
	start := time.Now()
	got = consumeN(t, j, "ledger", 30)
	checkRecords(t, got, want)
	if d := time.Since(start); d > consumeAckWait/2 {
		t.Errorf("redelivery took %s; want it at once, not after AckWait", d)
	}
}

// waitLag waits for ConsumerLag to reach want: the server updates a
// consumer's pending count asynchronously.
func waitLag(t *testing.T, j *Journal, durable string, want uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		lag, err := j.ConsumerLag(t.Context(), durable)
		if err != nil {
			t.Fatal(err)
		}
		if lag == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("ConsumerLag(%s) = %d; want %d", durable, lag, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func seqsOf(recs []Record) []uint64 {
	s := make([]uint64, len(recs))
	for i, r := range recs {
		s[i] = r.Seq
	}
	return s
}

// TestConsumeLinger: ConsumeWith gathers the records that arrive within the
// linger into one batch, does not wait with a full batch, and, stopped while
// lingering, leaves the gathered records to the next Consume.
func TestConsumeLinger(t *testing.T) {
	j, _ := newJournal(t)
	testConsumeLinger(t, j)
}

func testConsumeLinger(t *testing.T, j *Journal) {
	// Long enough that appending a few records cannot outlast it on a
	// loaded CI machine.
	const linger = 800 * time.Millisecond

	type call struct {
		seqs []uint64
		at   time.Time
	}
	run := func(ctx context.Context, opts ConsumeOptions, calls chan<- call) chan error {
		done := make(chan error, 1)
		go func() {
			done <- j.ConsumeWith(ctx, "ledger", opts, func(batch []Record) error {
				calls <- call{seqsOf(batch), time.Now()}
				return nil
			})
		}()
		return done
	}
	next := func(calls <-chan call) call {
		t.Helper()
		select {
		case c := <-calls:
			return c
		case <-time.After(20 * time.Second):
			t.Fatal("no batch")
			return call{}
		}
	}

	// A small batch waits for the linger and takes what arrives meanwhile.
	ctx, cancel := context.WithCancel(t.Context())
	calls := make(chan call, 100)
	var gathered []uint64
	var mu sync.Mutex
	done := run(ctx, ConsumeOptions{MaxBatch: 100, Linger: linger, Gathering: func(first []Record) {
		mu.Lock()
		gathered = append(gathered, seqsOf(first)...)
		mu.Unlock()
	}}, calls)
	start := time.Now()
	want := appendSpread(t, j, 3, 3, "small")
	time.Sleep(linger / 4)
	for k, v := range appendSpread(t, j, 2, 2, "during") {
		want[k] = v
	}
	c := next(calls)
	if len(c.seqs) != 5 {
		t.Fatalf("batch %v; want the 5 records of the linger in one", c.seqs)
	}
	if d := c.at.Sub(start); d < linger*3/4 || d > 10*linger {
		t.Errorf("small batch delivered after %v; want about the linger (%v)", d, linger)
	}
	mu.Lock()
	if len(gathered) == 0 || gathered[0] != c.seqs[0] {
		t.Errorf("Gathering saw %v; want the first records of %v", gathered, c.seqs)
	}
	mu.Unlock()

	waitAcked(t, j, "ledger")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// A full batch goes at once; the rest waits for its linger. The 150
	// records are appended while no consumer runs (appending them one by
	// one can take longer than the linger on a loaded machine), so that
	// they are all there at the first fetch.
	appendSpread(t, j, 150, 5, "full")
	ctx, cancel = context.WithCancel(t.Context())
	calls = make(chan call, 100)
	start = time.Now()
	done = run(ctx, ConsumeOptions{MaxBatch: 100, Linger: linger}, calls)
	c = next(calls)
	if len(c.seqs) != 100 {
		t.Fatalf("first batch has %d records; want 100 (full)", len(c.seqs))
	}
	if d := c.at.Sub(start); d > linger {
		t.Errorf("full batch delivered after %v; want no linger", d)
	}
	if c = next(calls); len(c.seqs) != 50 {
		t.Fatalf("second batch has %d records; want 50", len(c.seqs))
	}
	waitAcked(t, j, "ledger")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// Stopped while lingering: fn never sees the records, nothing is
	// acknowledged, and the next Consume gets them at once.
	ctx, cancel = context.WithCancel(t.Context())
	calls = make(chan call, 100)
	lingering := make(chan struct{})
	var once sync.Once
	done = run(ctx, ConsumeOptions{MaxBatch: 100, Linger: time.Minute, Gathering: func([]Record) {
		once.Do(func() { close(lingering) })
	}}, calls)
	want = appendSpread(t, j, 7, 3, "stopped")
	select {
	case <-lingering:
	case <-time.After(20 * time.Second):
		t.Fatal("no linger")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Consume did not stop while lingering")
	}
	if len(calls) != 0 {
		t.Fatalf("fn called with %v", (<-calls).seqs)
	}
	waitLag(t, j, "ledger", 7)
	start = time.Now()
	checkRecords(t, consumeN(t, j, "ledger", 7), want)
	if d := time.Since(start); d > consumeAckWait/2 {
		t.Errorf("records gathered before the stop came back after %v; want at once", d)
	}
}
