package balance

import (
	"reflect"
	"testing"

	"github.com/tollgate-billing/tollgate/internal/money"
)

// allowance rates n messages: the first 2 of each period are free (counter
// "free"), the rest cost 0.10 each (counted in "paid").
func allowance(n uint64) RateFunc {
	return func(cs []Counter) (money.Decimal, []Counter, error) {
		var used uint64
		for _, c := range cs {
			if c.ID == "free" && c.PeriodStart == 1000 {
				used = c.Units
			}
		}
		free := min(n, 2-min(used, 2))
		paid := n - free
		amount, _ := money.New(int64(paid)*10, 2)
		var deltas []Counter
		if free > 0 {
			deltas = append(deltas, Counter{ID: "free", PeriodStart: 1000, Units: free})
		}
		if paid > 0 {
			deltas = append(deltas, Counter{ID: "paid", PeriodStart: 1000, Units: paid, Amount: amount})
		}
		return amount, deltas, nil
	}
}

// TestRatedOps: rated debits and commits are priced against the account's
// period counters inside the partition, so an allowance is spent exactly
// once across concurrent users; a commit beyond its reservation reports the
// excess; retries replay the first result; and replaying the journaled ops
// (which carry the outcome, not the function) rebuilds the same state.
func TestRatedOps(t *testing.T) {
	f := std(t)
	// journal keeps the ops as the engine journals them: Apply sets a
	// rated op's Amount and Counters and drops its Rate.
	var journal []Op
	apply := func(op Op) Result {
		t.Helper()
		op.Time = f.now
		res, _, err := f.s.Apply(&op, nil)
		if err != nil {
			t.Fatalf("%s: %v", op.Key, err)
		}
		if op.Rate != nil {
			t.Fatalf("%s: Rate kept after Apply", op.Key)
		}
		op.excess = money.Decimal{}
		journal = append(journal, op)
		return res
	}
	r1 := apply(Op{Kind: KindDebit, Key: "sms1", Account: "p", Rate: allowance(1), RateKey: 11})
	r2 := apply(Op{Kind: KindDebit, Key: "sms2", Account: "p", Rate: allowance(2), RateKey: 12})
	if !r1.Rated.IsZero() || r2.Rated.String() != "0.10" || r2.DebitedAmount.String() != "0.10" {
		t.Fatalf("rated: %s then %s (debited %s)", r1.Rated, r2.Rated, r2.DebitedAmount)
	}
	v := f.view("p")
	want := []Counter{{ID: "free", PeriodStart: 1000, Units: 2}, {ID: "paid", PeriodStart: 1000, Units: 1, Amount: dec("0.10")}}
	if !reflect.DeepEqual(v.Counters, want) || v.Balance.String() != "9.90" {
		t.Fatalf("after two rated debits: balance %s counters %+v", v.Balance, v.Counters)
	}
	// A retry replays the stored result, though the counters moved on.
	again, _, err := f.s.Apply(&Op{Kind: KindDebit, Key: "sms1", Account: "p", Rate: allowance(1), RateKey: 11, Time: f.now}, nil)
	if err != nil || !again.Replayed || !again.Rated.IsZero() || !again.DebitedAmount.IsZero() {
		t.Fatalf("retry: %+v %v", again, err)
	}
	// A rated commit beyond its reservation takes what is held and
	// reports the rest.
	apply(Op{Kind: KindReserve, Key: "res", Account: "p", Reservation: "s1", Amount: dec("0.05"), Expires: f.now + 1e12})
	c := apply(Op{Kind: KindCommit, Key: "com", Account: "p", Reservation: "s1", Rate: allowance(3), RateKey: 13})
	if c.DebitedAmount.String() != "0.05" || c.Excess.String() != "0.25" || c.Rated.String() != "0.30" {
		t.Fatalf("commit: debited %s excess %s rated %s", c.DebitedAmount, c.Excess, c.Rated)
	}
	if r, _, _ := f.s.Apply(&Op{Kind: KindCommit, Key: "com", Account: "p", Reservation: "s1", Rate: allowance(3), RateKey: 13, Time: f.now}, nil); !r.Replayed || r.Excess.String() != "0.25" {
		t.Fatalf("replayed commit lost its excess: %+v", r)
	}
	// A snapshot keeps the counters.
	s2, err := LoadSnapshot(f.s.AppendSnapshot(nil), Options{})
	if err != nil {
		t.Fatal(err)
	}
	v2, _ := s2.AccountView("p")
	if !reflect.DeepEqual(v2.Counters, f.view("p").Counters) {
		t.Fatalf("counters after snapshot: %+v", v2.Counters)
	}
	// Replaying the journaled ops (outcomes, no functions) on the starting
	// state gives the same account, counters included.
	g := std(t)
	for i := range journal {
		op := journal[i]
		if op.Kind != KindReserve && op.RateKey != 0 && op.Amount.IsZero() && len(op.Counters) == 0 {
			t.Fatalf("journaled op %s has no outcome", op.Key)
		}
		if _, _, err := g.s.Apply(&op, nil); err != nil {
			t.Fatalf("replay %s: %v", op.Key, err)
		}
	}
	if got, want := g.view("p"), f.view("p"); !reflect.DeepEqual(got, want) {
		t.Fatalf("replay differs:\n got %+v\nwant %+v", got, want)
	}
	// Errors: a rated op without a RateKey.
	f.fails(Op{Kind: KindDebit, Account: "p", Rate: allowance(1)}, ErrInvalid)
}
