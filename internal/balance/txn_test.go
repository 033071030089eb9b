package balance_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	master "github.com/tollgate-billing/tollgate/internal/account"
	"github.com/tollgate-billing/tollgate/internal/balance"
	"github.com/tollgate-billing/tollgate/internal/money"
)

// chargeTxn is a CHF-like transaction: commit the previous reservation's
// usage, reserve the next grant sized by what the commit left, and store a
// session blob naming the new reservation — each step reading the one
// before.
func chargeTxn(acc string, n int, used string, out *string) func(balance.Doer) error {
	return func(d balance.Doer) error {
		ctx := context.Background()
		if n > 0 {
			if _, err := d.Do(ctx, &balance.Op{Kind: balance.KindCommit, Key: fmt.Sprintf("%s:%d:c", acc, n), Account: acc,
				Reservation: fmt.Sprintf("%s/%d", acc, n-1), Amount: money.MustParse(used)}); err != nil {
				return err
			}
		}
		res, err := d.Do(ctx, &balance.Op{Kind: balance.KindReserve, Key: fmt.Sprintf("%s:%d:r", acc, n), Account: acc,
			Reservation: fmt.Sprintf("%s/%d", acc, n), Amount: eur("4.00"), Partial: true,
			Expires: time.Now().Add(time.Hour).UnixNano()})
		if err != nil {
			return err
		}
		blob := fmt.Sprintf("rid=%s/%d granted=%s", acc, n, res.GrantedAmount)
		if _, err := d.Do(ctx, &balance.Op{Kind: balance.KindPutState, Key: "sess:" + acc, Account: acc,
			Name: "sess:" + acc, Data: []byte(blob)}); err != nil {
			return err
		}
		*out = blob
		return nil
	}
}

func states(t *testing.T, e *balance.Engine, prefix string) map[string]string {
	t.Helper()
	got := map[string]string{}
	if err := e.States(t.Context(), prefix, func(name, _ string, data []byte) error {
		got[name] = string(data)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestTxn: the ops of a transaction see each other's results, are durable
// together (they survive a crash right after Txn returns), and a retry of
// the same transaction replays instead of charging twice.
func TestTxn(t *testing.T) {
	c := newCluster(t)
	e := c.engine(t, "n1", nil)
	open(t, e, "acc-t")
	var blob string
	if err := e.Txn(t.Context(), "acc-t", chargeTxn("acc-t", 0, "", &blob)); err != nil {
		t.Fatal(err)
	}
	if blob != "rid=acc-t/0 granted=4.00" {
		t.Fatalf("first grant: %q", blob)
	}
	// The second commits 3.00 of the 4.00 held (7.00 left) and reserves 4.00 more.
	if err := e.Txn(t.Context(), "acc-t", chargeTxn("acc-t", 1, "3.00", &blob)); err != nil {
		t.Fatal(err)
	}
	// The third commits the 4.00 held (3.00 left) and can only get 3.00 of
	// the 4.00 asked.
	if err := e.Txn(t.Context(), "acc-t", chargeTxn("acc-t", 2, "4.00", &blob)); err != nil {
		t.Fatal(err)
	}
	if blob != "rid=acc-t/2 granted=3.00" {
		t.Fatalf("third grant: %q", blob)
	}
	balance.Crash(e)
	e = c.engine(t, "n1", nil)
	defer e.Stop(context.Background())
	v, err := e.Account(t.Context(), "acc-t")
	if err != nil {
		t.Fatal(err)
	}
	if !v.Balance.Equal(eur("3.00")) || !v.Held.Equal(eur("3.00")) || len(v.Reservations) != 1 || v.Reservations[0].ID != "acc-t/2" {
		t.Fatalf("after crash: balance %s held %s reservations %+v", v.Balance, v.Held, v.Reservations)
	}
	if got := states(t, e, "sess:")["sess:acc-t"]; got != blob {
		t.Fatalf("session blob after crash: %q, want %q", got, blob)
	}
	// A retry of the last transaction (its answer lost) replays.
	var again string
	if err := e.Txn(t.Context(), "acc-t", chargeTxn("acc-t", 2, "4.00", &again)); err != nil {
		t.Fatal(err)
	}
	if again != blob {
		t.Fatalf("retry answered %q, first %q", again, blob)
	}
	if v2, _ := e.Account(t.Context(), "acc-t"); !v2.Balance.Equal(v.Balance) || !v2.Held.Equal(v.Held) {
		t.Fatalf("retry moved money: %+v", v2)
	}
}

// TestTxnErrors: fn's error comes back after the ops applied before it are
// durable; ops outside the partition, a panic and a Doer kept past fn are
// refused without stopping the partition.
func TestTxnErrors(t *testing.T) {
	c := newCluster(t)
	e := c.engine(t, "n1", nil)
	defer e.Stop(context.Background())
	open(t, e, "acc-e")
	boom := errors.New("boom")
	err := e.Txn(t.Context(), "acc-e", func(d balance.Doer) error {
		if _, err := d.Do(t.Context(), &balance.Op{Kind: balance.KindDebit, Key: "e:d", Account: "acc-e", Amount: eur("1.00")}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("fn error: %v", err)
	}
	if v, _ := e.Account(t.Context(), "acc-e"); !v.Balance.Equal(eur("9.00")) {
		t.Fatalf("the debit before the error: balance %s", v.Balance)
	}
	// An op the state refuses is refused inside the transaction, which goes on.
	err = e.Txn(t.Context(), "acc-e", func(d balance.Doer) error {
		_, err := d.Do(t.Context(), &balance.Op{Kind: balance.KindDebit, Key: "e:big", Account: "acc-e", Amount: eur("100.00")})
		if !errors.Is(err, balance.ErrInsufficientFunds) {
			return fmt.Errorf("overdraft: %v", err)
		}
		_, err = d.Do(t.Context(), &balance.Op{Kind: balance.KindDebit, Key: "e:small", Account: "acc-e", Amount: eur("0.50")})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// An account of another partition.
	other := ""
	for i := 0; other == ""; i++ {
		if id := fmt.Sprintf("x%d", i); balance.PartitionOf(id, 4) != balance.PartitionOf("acc-e", 4) {
			other = id
		}
	}
	open(t, e, other)
	err = e.Txn(t.Context(), "acc-e", func(d balance.Doer) error {
		_, err := d.Do(t.Context(), &balance.Op{Kind: balance.KindDebit, Key: "e:other", Account: other, Amount: eur("1.00")})
		return err
	})
	if !errors.Is(err, balance.ErrInvalid) {
		t.Fatalf("op on another partition: %v", err)
	}
	// A panic is an error; the partition keeps serving.
	var kept balance.Doer
	err = e.Txn(t.Context(), "acc-e", func(d balance.Doer) error {
		kept = d
		var m map[string]int
		m["x"]++
		return nil
	})
	if err == nil {
		t.Fatal("a panicking transaction succeeded")
	}
	if _, err := kept.Do(t.Context(), &balance.Op{Kind: balance.KindDebit, Key: "e:late", Account: "acc-e", Amount: eur("1.00")}); err == nil {
		t.Fatal("a Doer used after its transaction applied an op")
	}
	if v, err := e.Account(t.Context(), "acc-e"); err != nil || !v.Balance.Equal(eur("8.50")) {
		t.Fatalf("after the refusals: %+v %v", v, err)
	}
}

// TestTxnContext: a transaction whose context ends while it is queued never
// runs; one whose fn started is waited for and answered.
func TestTxnContext(t *testing.T) {
	c := newCluster(t)
	e := c.engine(t, "n1", nil)
	defer e.Stop(context.Background())
	open(t, e, "acc-c")
	started, release := make(chan struct{}), make(chan struct{})
	blocker := make(chan error, 1)
	go func() {
		blocker <- e.Txn(context.Background(), "acc-c", func(balance.Doer) error {
			close(started)
			<-release // holds the partition goroutine (tests only)
			return nil
		})
	}()
	<-started
	var ran atomic.Bool
	ctx, cancel := context.WithCancel(t.Context())
	queued := make(chan error, 1)
	go func() {
		queued <- e.Txn(ctx, "acc-c", func(d balance.Doer) error {
			ran.Store(true)
			_, err := d.Do(context.Background(), &balance.Op{Kind: balance.KindDebit, Key: "c:abandoned", Account: "acc-c", Amount: eur("1.00")})
			return err
		})
	}()
	time.Sleep(50 * time.Millisecond) // let it queue
	cancel()
	if err := <-queued; !errors.Is(err, context.Canceled) {
		t.Fatalf("abandoned transaction: %v", err)
	}
	close(release)
	if err := <-blocker; err != nil {
		t.Fatal(err)
	}
	// The partition has gone past the abandoned request.
	if v, err := e.Account(t.Context(), "acc-c"); err != nil || !v.Balance.Equal(eur("10.00")) || ran.Load() {
		t.Fatalf("abandoned transaction ran (%v): %+v %v", ran.Load(), v, err)
	}

	// A context that ends while fn runs: Txn still answers fn's outcome.
	ctx, cancel = context.WithCancel(t.Context())
	err := e.Txn(ctx, "acc-c", func(d balance.Doer) error {
		cancel()
		_, err := d.Do(context.Background(), &balance.Op{Kind: balance.KindDebit, Key: "c:run", Account: "acc-c", Amount: eur("1.00")})
		return err
	})
	if err != nil {
		t.Fatalf("transaction cancelled while running: %v", err)
	}
	if v, _ := e.Account(t.Context(), "acc-c"); !v.Balance.Equal(eur("9.00")) {
		t.Fatalf("balance %s", v.Balance)
	}
}

// TestTxnConcurrent: transactions and plain ops from many goroutines on a
// few accounts (race detector): every account ends at exactly its charges.
func TestTxnConcurrent(t *testing.T) {
	c := newCluster(t)
	e := c.engine(t, "n1", nil)
	defer e.Stop(context.Background())
	const accounts, workers, rounds = 6, 8, 25
	for i := range accounts {
		open(t, e, fmt.Sprintf("cc%d", i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				acc := fmt.Sprintf("cc%d", (w+r)%accounts)
				err := e.Txn(t.Context(), acc, func(d balance.Doer) error {
					for k := range 2 {
						if _, err := d.Do(t.Context(), &balance.Op{Kind: balance.KindDebit, Key: fmt.Sprintf("w%d:r%d:%d", w, r, k),
							Account: acc, Amount: eur("0.01")}); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total := money.Decimal{}
	for i := range accounts {
		v, err := e.Account(t.Context(), fmt.Sprintf("cc%d", i))
		if err != nil {
			t.Fatal(err)
		}
		total, _ = total.Add(v.Balance)
	}
	want := eur(fmt.Sprintf("%d.%02d", (accounts*1000-workers*rounds*2)/100, (accounts*1000-workers*rounds*2)%100))
	if !total.Equal(want) {
		t.Fatalf("total balance %s, want %s", total, want)
	}
}

// TestMirrorTxn: a transaction on an account the engine does not know yet
// mirrors it from master data and runs fn again.
func TestMirrorTxn(t *testing.T) {
	c := newCluster(t)
	e := c.engine(t, "n1", nil)
	defer e.Stop(context.Background())
	cur, err := money.LookupCurrency("EUR")
	if err != nil {
		t.Fatal(err)
	}
	m := balance.Mirror{Engine: e, Account: func(_ context.Context, id string) (master.Account, error) {
		return master.Account{ID: id, Type: master.Prepaid, Currency: cur, Status: master.Active, Version: 1}, nil
	}}
	calls := 0
	err = m.Txn(t.Context(), "acc-new", func(d balance.Doer) error {
		calls++
		_, err := d.Do(t.Context(), &balance.Op{Kind: balance.KindTopUp, Key: "m:top", Account: "acc-new", Amount: eur("2.00")})
		return err
	})
	if err != nil || calls != 2 {
		t.Fatalf("mirror txn: %v after %d calls", err, calls)
	}
	if v, err := e.Account(t.Context(), "acc-new"); err != nil || !v.Balance.Equal(eur("2.00")) {
		t.Fatalf("mirrored account: %+v %v", v, err)
	}
}
