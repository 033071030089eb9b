package ledger

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/internal/balance"
	"github.com/tollgate-billing/tollgate/internal/balance/journal"
	"github.com/tollgate-billing/tollgate/internal/clusterstate"
	"github.com/tollgate-billing/tollgate/internal/config"
	"github.com/tollgate-billing/tollgate/internal/money"
)

// TestProjectJournalLinger runs the projector over a real journal (an
// embedded JetStream) with a linger: a few records reach SQL together
// after the linger, not before; a projector stopped while it lingers has
// written and acknowledged nothing, and the next one projects every record
// exactly once.
func TestProjectJournalLinger(t *testing.T) {
	ctx := t.Context()
	conn, err := clusterstate.Open(ctx, config.Default().NATS, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	j, err := journal.Open(ctx, conn.JS(), journal.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s := openStore(t)
	var (
		last    uint64 // partition 0's last sequence
		entries int
		bal     money.Decimal
	)
	appendTopUps := func(n int) {
		t.Helper()
		for range n {
			entries++
			amount := money.MustParse("1.25")
			if bal, err = bal.Add(amount); err != nil {
				t.Fatal(err)
			}
			key := fmt.Sprintf("k%d", entries)
			at := time.Now().UnixNano()
			b := balance.Batch{Partition: 0, Epoch: 1,
				Ops: []balance.Op{{Kind: balance.KindTopUp, Key: key, Account: "a1", Time: at, Amount: amount}},
				Entries: []balance.Entry{{Account: "a1", Kind: balance.KindTopUp, Key: key, Time: at,
					Asset: balance.AssetMoney, Delta: amount, Balance: bal}}}
			if last, err = j.Append(ctx, 0, last, balance.AppendBatch(nil, &b)); err != nil {
				t.Fatal(err)
			}
		}
	}
	count := func() int64 {
		n, err := s.LedgerCount(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	run := func(p *Projector) (stop func()) {
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- p.Run(rctx) }()
		return func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run = %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not stop")
			}
		}
	}

	// Stopped while lingering: nothing written, nothing acknowledged.
	p := New(Config{Source: JournalSource(j), Decode: balance.DecodeBatch, Sink: s, Linger: time.Minute})
	stop := run(p)
	appendTopUps(4)
	waitFor(t, "the linger", func() bool { return p.Lag() > 0 })
	stop()
	if n := count(); n != 0 {
		t.Fatalf("LedgerCount after a stop mid-linger = %d; want 0", n)
	}
	if off, err := s.ProjectionOffset(ctx, DefaultName); err != nil || off != 0 {
		t.Fatalf("offset after a stop mid-linger = %d, %v; want 0", off, err)
	}
	if floor, _, err := j.AckFloor(ctx, DefaultName); err != nil || floor != 0 {
		t.Fatalf("ack floor after a stop mid-linger = %d, %v; want 0", floor, err)
	}

	// The next projector gets those records, and lingers over new ones.
	const linger = 500 * time.Millisecond
	p = New(Config{Source: JournalSource(j), Decode: balance.DecodeBatch, Sink: s, Linger: linger})
	stop = run(p)
	defer stop()
	waitFor(t, "the first records", func() bool { return count() == 4 })
	waitFor(t, "the acknowledgement", func() bool { return p.Lag() == 0 })
	start := time.Now()
	appendTopUps(3)
	time.Sleep(linger / 2)
	if n := count(); n != 4 {
		t.Errorf("LedgerCount half-way through the linger = %d; want 4", n)
	}
	if p.Lag() < linger/4 {
		t.Errorf("Lag while lingering = %v; want the records' age", p.Lag())
	}
	waitFor(t, "the lingering records", func() bool { return count() == 7 })
	if d := time.Since(start); d < linger*3/4 {
		t.Errorf("lingering records written after %v; want about the linger %v", d, linger)
	}
	sums, err := s.LedgerSums(ctx, "a1")
	if err != nil || sums[balance.AssetMoney].Count != 7 || !sums[balance.AssetMoney].Delta.Equal(bal) {
		t.Errorf("sums = %+v, %v; want 7 entries summing to %s", sums, err, bal)
	}
	waitFor(t, "the offset", func() bool {
		off, err := s.ProjectionOffset(ctx, DefaultName)
		return err == nil && off == last
	})
}
