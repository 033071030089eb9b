package balance_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/tollgate-billing/tollgate/internal/balance"
	"github.com/tollgate-billing/tollgate/internal/money"
)

// TestEngineSnapshotsUnderLoadRecover: partitions snapshot in the
// background while many goroutines keep changing balances; after a crash
// (recovery = latest snapshot + the journal after it) every acknowledged
// op is there exactly once, and retries of them are recognized.
func TestEngineSnapshotsUnderLoadRecover(t *testing.T) {
	c := newCluster(t)
	e := c.engine(t, "n1", nil)
	const accounts, workers, rounds = 24, 8, 150
	for i := range accounts {
		open(t, e, fmt.Sprintf("s%d", i))
	}
	var mu sync.Mutex
	want := map[string]money.Decimal{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				acc := fmt.Sprintf("s%d", (w*7+r)%accounts)
				amt := eur(fmt.Sprintf("0.%02d", 1+(w+r)%97))
				if _, err := e.Do(context.Background(), &balance.Op{Kind: balance.KindTopUp, Key: fmt.Sprintf("w%d-%d", w, r), Account: acc, Amount: amt}); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				want[acc], _ = want[acc].Add(amt)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	snaps := 0
	for p := range 4 {
		if _, _, ok, err := c.j.LoadSnapshot(t.Context(), p); err != nil {
			t.Fatal(err)
		} else if ok {
			snaps++
		}
	}
	if snaps == 0 {
		t.Fatal("no partition was snapshotted during the load")
	}
	balance.Crash(e)
	e = c.engine(t, "n1", nil)
	defer e.Stop(context.Background())
	for i := range accounts {
		acc := fmt.Sprintf("s%d", i)
		v, err := e.Account(t.Context(), acc)
		exp, _ := eur("10.00").Add(want[acc])
		if err != nil || !v.Balance.Equal(exp) {
			t.Fatalf("%s after recovery: balance %s, want %s (%v)", acc, v.Balance, exp, err)
		}
	}
	r := do(t, e, balance.Op{Kind: balance.KindTopUp, Key: "w3-100", Account: fmt.Sprintf("s%d", (3*7+100)%accounts), Amount: eur(fmt.Sprintf("0.%02d", 1+(3+100)%97))})
	if !r.Replayed {
		t.Fatalf("a retry after recovery was applied again: %+v", r)
	}
}
