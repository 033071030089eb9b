package balance_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/internal/balance"
	"github.com/tollgate-billing/tollgate/internal/balance/journal"
	"github.com/tollgate-billing/tollgate/internal/clusterstate"
	"github.com/tollgate-billing/tollgate/internal/config"
	"github.com/tollgate-billing/tollgate/internal/money"
)

// cluster is one embedded JetStream shared by the engines of a test.
type cluster struct {
	conn *clusterstate.Conn
	j    *journal.Journal
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	cfg := config.Default().NATS
	cfg.Embedded.ServerName = "balance-test"
	conn, err := clusterstate.Open(t.Context(), cfg, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	j, err := journal.Open(t.Context(), conn.JS(), journal.Config{LeaseTTL: 600 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return &cluster{conn: conn, j: j}
}

// clock is a settable offset from real time, so one engine can believe a
// lease has expired before it really has.
type clock struct{ off atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) advance(d time.Duration) { c.off.Add(int64(d)) }
func (c *cluster) engine(t *testing.T, node string, ck *clock) *balance.Engine {
	t.Helper()
	if ck == nil {
		ck = &clock{}
	}
	e, err := balance.NewEngine(balance.EngineConfig{Partitions: 4, NodeID: node, Journal: c.j,
		LeaseTTL: 1500 * time.Millisecond, SnapshotEvery: 5, SweepInterval: 20 * time.Millisecond, Now: ck.now})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	return e
}

func do(t *testing.T, e *balance.Engine, op balance.Op) balance.Result {
	t.Helper()
	res, err := e.Do(t.Context(), &op)
	if err != nil {
		t.Fatalf("%s %s: %v", op.Kind, op.Key, err)
	}
	return res
}

func eur(s string) money.Decimal { return money.MustParse(s) }

func open(t *testing.T, e *balance.Engine, acc string) {
	t.Helper()
	do(t, e, balance.Op{Kind: balance.KindOpenAccount, Key: "open:" + acc, Account: acc,
		AccountType: balance.Prepaid, Currency: "EUR", Status: balance.Active})
	do(t, e, balance.Op{Kind: balance.KindTopUp, Key: "top:" + acc, Account: acc, Amount: eur("10.00")})
}

func TestEngineReserveCommitIdempotent(t *testing.T) {
	c := newCluster(t)
	e := c.engine(t, "n1", nil)
	defer e.Stop(context.Background())
	open(t, e, "acc-1")
	exp := time.Now().Add(time.Minute).UnixNano()
	r := do(t, e, balance.Op{Kind: balance.KindReserve, Key: "s1:1", Account: "acc-1", Reservation: "s1", Amount: eur("4.00"), Expires: exp})
	if !r.GrantedAmount.Equal(eur("4.00")) || !r.Available.Equal(eur("6.00")) {
		t.Fatalf("reserve: %+v", r)
	}
	// Retransmission: same key, same content → same answer, nothing twice.
	again := do(t, e, balance.Op{Kind: balance.KindReserve, Key: "s1:1", Account: "acc-1", Reservation: "s1", Amount: eur("4.00"), Expires: exp})
	if !again.Replayed || !again.GrantedAmount.Equal(r.GrantedAmount) {
		t.Fatalf("retry: %+v", again)
	}
	// Same key, other content → conflict.
	if _, err := e.Do(t.Context(), &balance.Op{Kind: balance.KindReserve, Key: "s1:1", Account: "acc-1", Reservation: "s1", Amount: eur("5.00"), Expires: exp}); !errors.Is(err, balance.ErrKeyConflict) {
		t.Fatalf("conflicting retry: %v", err)
	}
	cm := do(t, e, balance.Op{Kind: balance.KindCommit, Key: "s1:2", Account: "acc-1", Reservation: "s1", Amount: eur("1.25")})
	if !cm.Balance.Equal(eur("8.75")) || !cm.Available.Equal(eur("8.75")) {
		t.Fatalf("commit: %+v", cm)
	}
	// Prepaid cannot go below its limit (0).
	if _, err := e.Do(t.Context(), &balance.Op{Kind: balance.KindDebit, Key: "d1", Account: "acc-1", Amount: eur("9.00")}); !errors.Is(err, balance.ErrInsufficientFunds) {
		t.Fatalf("overdraft: %v", err)
	}
	v, err := e.Account(t.Context(), "acc-1")
	if err != nil || !v.Balance.Equal(eur("8.75")) {
		t.Fatalf("view: %+v %v", v, err)
	}
}

func TestEngineExpirySweep(t *testing.T) {
	c := newCluster(t)
	e := c.engine(t, "n1", nil)
	defer e.Stop(context.Background())
	open(t, e, "acc-x")
	do(t, e, balance.Op{Kind: balance.KindReserve, Key: "r", Account: "acc-x", Reservation: "r1", Amount: eur("3"),
		Expires: time.Now().Add(50 * time.Millisecond).UnixNano()})
	deadline := time.Now().Add(5 * time.Second)
	for {
		v, err := e.Account(t.Context(), "acc-x")
		if err != nil {
			t.Fatal(err)
		}
		if v.Held.IsZero() && len(v.Reservations) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reservation outlived its expiry: %+v", v)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := e.Do(t.Context(), &balance.Op{Kind: balance.KindCommit, Key: "late", Account: "acc-x", Reservation: "r1", Amount: eur("1")}); err == nil {
		t.Fatal("commit after expiry accepted")
	}
}

// TestEngineRecovery restarts the engine after a clean stop (snapshot) and
// after a crash (no snapshot, lease not released): every acknowledged op
// is there, exactly once.
func TestEngineRecovery(t *testing.T) {
	c := newCluster(t)
	e := c.engine(t, "n1", nil)
	const n = 40
	for i := range n {
		open(t, e, fmt.Sprintf("a%d", i))
		do(t, e, balance.Op{Kind: balance.KindDebit, Key: fmt.Sprintf("d%d", i), Account: fmt.Sprintf("a%d", i), Amount: eur("0.10")})
	}
	if err := e.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	check := func(e *balance.Engine, want string) {
		t.Helper()
		for i := range n {
			v, err := e.Account(t.Context(), fmt.Sprintf("a%d", i))
			if err != nil || !v.Balance.Equal(eur(want)) {
				t.Fatalf("a%d after restart: %+v %v", i, v, err)
			}
		}
	}
	e = c.engine(t, "n1", nil)
	check(e, "9.90")
	for i := range n {
		do(t, e, balance.Op{Kind: balance.KindDebit, Key: fmt.Sprintf("e%d", i), Account: fmt.Sprintf("a%d", i), Amount: eur("0.10")})
	}
	balance.Crash(e) // no snapshot, no lease release
	e = c.engine(t, "n1", nil)
	defer e.Stop(context.Background())
	check(e, "9.80")
	// Retries of acknowledged ops after the crash are not applied twice.
	r := do(t, e, balance.Op{Kind: balance.KindDebit, Key: "e7", Account: "a7", Amount: eur("0.10")})
	if !r.Replayed {
		t.Fatalf("retry after crash applied again: %+v", r)
	}
	check(e, "9.80")
}

// TestLeaseFencing: two engines on one JetStream. Only one owns a
// partition; when the owner stops renewing, the other takes over and
// continues from the journal with nothing lost; an old owner that still
// believes it owns the partition is fenced.
func TestLeaseFencing(t *testing.T) {
	c := newCluster(t)
	a := c.engine(t, "node-a", nil)
	open(t, a, "acc-1")
	do(t, a, balance.Op{Kind: balance.KindDebit, Key: "a1", Account: "acc-1", Amount: eur("1.00")})

	bClock := &clock{}
	b := c.engine(t, "node-b", bClock)
	defer b.Stop(context.Background())
	if b.Owned() != 0 {
		t.Fatalf("node-b owns %d partitions while node-a holds them all", b.Owned())
	}
	if _, err := b.Do(t.Context(), &balance.Op{Kind: balance.KindDebit, Key: "b1", Account: "acc-1", Amount: eur("1.00")}); !errors.Is(err, balance.ErrNotOwner) {
		t.Fatalf("node-b served an op it does not own: %v", err)
	}

	// node-b's clock runs ahead: it sees node-a's leases as expired and
	// takes the partitions while node-a still thinks it owns them.
	bClock.advance(10 * time.Second)
	waitOwned(t, b, 4)
	if _, err := a.Do(t.Context(), &balance.Op{Kind: balance.KindDebit, Key: "a2", Account: "acc-1", Amount: eur("1.00")}); !errors.Is(err, balance.ErrFenced) && !errors.Is(err, balance.ErrNotOwner) {
		t.Fatalf("old owner's append was not fenced: %v", err)
	}
	r := do(t, b, balance.Op{Kind: balance.KindDebit, Key: "b2", Account: "acc-1", Amount: eur("1.00")})
	if !r.Balance.Equal(eur("8.00")) {
		t.Fatalf("new owner lost or duplicated data: balance %s, want 8.00", r.Balance)
	}
	waitOwned(t, a, 0)
	_ = a.Stop(context.Background())
}

// TestTakeoverAfterOwnerDies: the owner stops renewing (dies); after the
// lease TTL the other node takes over by itself.
func TestTakeoverAfterOwnerDies(t *testing.T) {
	c := newCluster(t)
	a := c.engine(t, "node-a", nil)
	open(t, a, "acc-9")
	b := c.engine(t, "node-b", nil)
	defer b.Stop(context.Background())
	balance.Crash(a)
	waitOwned(t, b, 4)
	r := do(t, b, balance.Op{Kind: balance.KindDebit, Key: "x", Account: "acc-9", Amount: eur("2.50")})
	if !r.Balance.Equal(eur("7.50")) {
		t.Fatalf("balance after takeover %s", r.Balance)
	}
}

func waitOwned(t *testing.T, e *balance.Engine, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for e.Owned() != n {
		if time.Now().After(deadline) {
			t.Fatalf("engine owns %d partitions, want %d", e.Owned(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestEngineConcurrent runs reserve/commit from many goroutines; the
// balances at the end equal what was committed.
func TestEngineConcurrent(t *testing.T) {
	c := newCluster(t)
	e := c.engine(t, "n1", nil)
	defer e.Stop(context.Background())
	const accounts, workers, rounds = 16, 8, 50
	for i := range accounts {
		open(t, e, fmt.Sprintf("c%d", i))
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				acc := fmt.Sprintf("c%d", (w*rounds+r)%accounts)
				id := fmt.Sprintf("w%d-r%d", w, r)
				exp := time.Now().Add(time.Minute).UnixNano()
				if _, err := e.Do(context.Background(), &balance.Op{Kind: balance.KindReserve, Key: id + ":res", Account: acc, Reservation: id, Amount: eur("0.05"), Expires: exp}); err != nil {
					t.Error(err)
					return
				}
				if _, err := e.Do(context.Background(), &balance.Op{Kind: balance.KindCommit, Key: id + ":com", Account: acc, Reservation: id, Amount: eur("0.01")}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	total := money.Decimal{}
	for i := range accounts {
		v, err := e.Account(t.Context(), fmt.Sprintf("c%d", i))
		if err != nil {
			t.Fatal(err)
		}
		total, _ = total.Add(v.Balance)
	}
	want := eur(fmt.Sprintf("%d.00", 10*accounts))
	spent, _ := eur("0.01").MulInt(workers * rounds)
	want, _ = want.Sub(spent)
	if !total.Equal(want) {
		t.Fatalf("total balance %s, want %s", total, want)
	}
}

// TestEngineLargeOpsStayUnderRecordLimit: ops with long keys and reasons
// submitted at once are split over several appends instead of one record
// too large for the journal.
func TestEngineLargeOpsStayUnderRecordLimit(t *testing.T) {
	c := newCluster(t)
	e := c.engine(t, "n1", nil)
	defer e.Stop(context.Background())
	open(t, e, "big")
	pad := strings.Repeat("k", 500)
	reason := strings.Repeat("r", 1000)
	var wg sync.WaitGroup
	errs := make(chan error, 3000)
	for i := range 3000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.Do(context.Background(), &balance.Op{Kind: balance.KindCredit, Key: fmt.Sprintf("%s-%d", pad, i),
				Account: "big", Amount: eur("0.01"), Reason: reason})
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	v, err := e.Account(t.Context(), "big")
	if err != nil || !v.Balance.Equal(eur("40.00")) {
		t.Fatalf("balance %v %v, want 40.00", v.Balance, err)
	}
	if _, err := e.Do(t.Context(), &balance.Op{Kind: balance.KindCredit, Key: strings.Repeat("x", 600), Account: "big", Amount: eur("1"), Reason: "r"}); !errors.Is(err, balance.ErrInvalid) {
		t.Fatalf("oversized key accepted: %v", err)
	}
}

// TestTruncationKeepsUnreadRecords: snapshots truncate the journal only
// below what the reader (KeepFrom) has consumed.
func TestTruncationKeepsUnreadRecords(t *testing.T) {
	c := newCluster(t)
	var keep atomic.Uint64 // the reader has consumed nothing yet
	e, err := balance.NewEngine(balance.EngineConfig{Partitions: 1, NodeID: "n1", Journal: c.j, SnapshotEvery: 3,
		KeepFrom: func(context.Context) (uint64, error) { return keep.Load(), nil }})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	open(t, e, "k1")
	for i := range 30 {
		do(t, e, balance.Op{Kind: balance.KindDebit, Key: fmt.Sprintf("d%d", i), Account: "k1", Amount: eur("0.01")})
	}
	if err := e.Stop(t.Context()); err != nil { // final snapshot + truncate
		t.Fatal(err)
	}
	count := func() int {
		n := 0
		if _, err := c.j.Replay(t.Context(), 0, 0, func(uint64, []byte) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n < 32 {
		t.Fatalf("journal kept %d records, want every one of the 32+ the reader has not consumed", n)
	}
	// Once the reader has consumed everything, the next snapshot truncates.
	last, err := c.j.LastSeq(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	keep.Store(last + 10)
	e, err = balance.NewEngine(balance.EngineConfig{Partitions: 1, NodeID: "n1", Journal: c.j, SnapshotEvery: 3,
		KeepFrom: func(context.Context) (uint64, error) { return keep.Load(), nil }})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	do(t, e, balance.Op{Kind: balance.KindDebit, Key: "final", Account: "k1", Amount: eur("0.01")})
	if err := e.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := count(); n > 3 {
		t.Fatalf("journal still has %d records after a snapshot with nothing left to read", n)
	}
}

// TestStreamTruncation: one engine serving every partition truncates the
// shared journal as a whole below what every partition needs. Idle
// partitions (no traffic after their accounts opened) must not hold it
// back; after the truncation a crash loses nothing and appends to the idle
// partitions still pass the fencing.
func TestStreamTruncation(t *testing.T) {
	c := newCluster(t)
	newEngine := func() *balance.Engine {
		e, err := balance.NewEngine(balance.EngineConfig{Partitions: 4, NodeID: "n1", Journal: c.j,
			LeaseTTL: 1500 * time.Millisecond, SnapshotEvery: 20, SweepInterval: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		return e
	}
	e := newEngine()
	// One account in each partition; the load goes to the first only.
	accs := map[int]string{}
	for i := 0; len(accs) < 4; i++ {
		id := fmt.Sprintf("st%d", i)
		if _, ok := accs[balance.PartitionOf(id, 4)]; !ok {
			accs[balance.PartitionOf(id, 4)] = id
			open(t, e, id)
		}
	}
	stream, err := c.conn.JS().Stream(t.Context(), journal.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	opened := info.State.LastSeq // every idle partition's records are at or below this
	busy := accs[0]
	const n = 600
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; ; i++ {
		if i < n {
			do(t, e, balance.Op{Kind: balance.KindDebit, Key: fmt.Sprintf("st:d%d", i), Account: busy, Amount: eur("0.01")})
			continue
		}
		if info, err = stream.Info(t.Context()); err != nil {
			t.Fatal(err)
		}
		if info.State.FirstSeq > opened {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the journal was not truncated past the idle partitions' records: first seq %d, opened up to %d, last %d",
				info.State.FirstSeq, opened, info.State.LastSeq)
		}
		time.Sleep(20 * time.Millisecond)
	}
	balance.Crash(e)
	e = newEngine()
	defer e.Stop(context.Background())
	for part, id := range accs {
		want := "10.00"
		if part == 0 {
			want = "4.00"
		}
		v, err := e.Account(t.Context(), id)
		if err != nil || !v.Balance.Equal(eur(want)) {
			t.Fatalf("%s (partition %d) after truncation and crash: %+v %v", id, part, v, err)
		}
		do(t, e, balance.Op{Kind: balance.KindDebit, Key: "st:after:" + id, Account: id, Amount: eur("1.00")})
	}
}

// TestStopAfterLostRenewalAnswer: the stop cancels the lease loop, maybe
// in the middle of a renewal whose write landed but whose answer was lost.
// The lease is then one revision ahead of what the engine holds; the stop
// must still release it (and succeed).
func TestStopAfterLostRenewalAnswer(t *testing.T) {
	c := newCluster(t)
	e := c.engine(t, "n1", nil)
	cur, ok, err := c.j.Current(t.Context(), 2)
	if err != nil || !ok {
		t.Fatalf("lease of partition 2: %v %v", ok, err)
	}
	// The renewal the engine never heard back from.
	if _, err := c.j.Renew(t.Context(), cur, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := e.Stop(t.Context()); err != nil {
		t.Fatalf("stop: %v", err)
	}
	after, _, err := c.j.Current(t.Context(), 2)
	if err != nil || after.Expires.After(time.Unix(0, 0).UTC()) {
		t.Fatalf("partition 2's lease after the stop: %+v %v (want released)", after, err)
	}
}
