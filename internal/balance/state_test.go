package balance

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/internal/money"
	"github.com/tollgate-billing/tollgate/internal/usage"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC).UnixNano()

const sec = int64(time.Second)

func dec(s string) money.Decimal { return money.MustParse(s) }

// fixture applies ops to one State, numbering keys and checking the
// invariants after each op and atomicity after each failure.
type fixture struct {
	t   *testing.T
	s   *State
	now int64
	n   int
}

func newFixture(t *testing.T) *fixture {
	return &fixture{t: t, s: NewState(0, Options{}), now: t0}
}

func (f *fixture) key(op *Op) {
	if op.Key == "" {
		f.n++
		op.Key = fmt.Sprintf("k%d", f.n)
	}
	if op.Time == 0 {
		op.Time = f.now
	}
}

func (f *fixture) ok(op Op) (Result, []Entry) {
	f.t.Helper()
	f.key(&op)
	res, es, err := f.s.Apply(&op, nil)
	if err != nil {
		f.t.Fatalf("%s %s: %v", op.Kind, op.Key, err)
	}
	if err := f.s.CheckInvariants(); err != nil {
		f.t.Fatalf("after %s %s: %v", op.Kind, op.Key, err)
	}
	return res, es
}

func (f *fixture) fails(op Op, want error) {
	f.t.Helper()
	f.key(&op)
	before := f.s.AppendSnapshot(nil)
	prev := []Entry{{Key: "sentinel"}}
	_, es, err := f.s.Apply(&op, prev)
	if !errors.Is(err, want) {
		f.t.Fatalf("%s %s: err %v, want %v", op.Kind, op.Key, err, want)
	}
	if len(es) != 1 || es[0].Key != "sentinel" {
		f.t.Fatalf("%s %s failed but returned entries %+v", op.Kind, op.Key, es)
	}
	if after := f.s.AppendSnapshot(nil); !bytes.Equal(before, after) {
		f.t.Fatalf("%s %s failed (%v) but changed the state", op.Kind, op.Key, err)
	}
}

func (f *fixture) view(id string) AccountView {
	f.t.Helper()
	v, ok := f.s.AccountView(id)
	if !ok {
		f.t.Fatalf("no account %q", id)
	}
	return v
}

func openOp(id string, typ AccountType, limit string) Op {
	return Op{Kind: KindOpenAccount, Account: id, AccountType: typ, Currency: "EUR", CreditLimit: dec(limit), Status: Active}
}

// std sets up prepaid "p" (10.00 EUR, limit 0), postpaid "q", and bucket
// "b1" of 100 seconds on "p".
func std(t *testing.T) *fixture {
	f := newFixture(t)
	f.ok(openOp("p", Prepaid, "0"))
	f.ok(openOp("q", Postpaid, "0"))
	f.ok(Op{Kind: KindTopUp, Account: "p", Amount: dec("10.00")})
	f.ok(Op{Kind: KindGrantBucket, Account: "p", Bucket: Bucket{ID: "b1", Unit: usage.Second, Units: 100}})
	return f
}

func reserveOp(acct, id, amount string, units uint64) Op {
	op := Op{Kind: KindReserve, Account: acct, Reservation: id, Expires: t0 + 60*sec}
	if amount != "" {
		op.Amount = dec(amount)
	}
	if units > 0 {
		op.Unit, op.Units = usage.Second, units
	}
	return op
}

func TestApplyErrors(t *testing.T) {
	big := money.FromInt(math.MaxInt64)
	cases := []struct {
		name  string
		setup []Op
		op    Op
		err   error
	}{
		{"no key", nil, Op{Kind: KindTopUp, Key: "-", Account: "p", Amount: dec("1")}, nil},
		{"unknown kind", nil, Op{Kind: Kind(99), Account: "p"}, ErrInvalid},
		{"kind zero", nil, Op{Kind: KindInvalid, Account: "p"}, ErrInvalid},
		{"no account", nil, Op{Kind: KindTopUp, Amount: dec("1")}, ErrInvalid},
		{"unknown account", nil, Op{Kind: KindTopUp, Account: "zz", Amount: dec("1")}, ErrUnknownAccount},
		{"unused field", nil, Op{Kind: KindTopUp, Account: "p", Amount: dec("1"), Reservation: "r"}, ErrInvalid},
		{"units on topup", nil, Op{Kind: KindTopUp, Account: "p", Amount: dec("1"), Unit: usage.Second, Units: 1}, ErrInvalid},
		{"scale 10", nil, Op{Kind: KindTopUp, Account: "p", Amount: dec("0.0000000001")}, ErrInvalid},
		{"negative topup", nil, Op{Kind: KindTopUp, Account: "p", Amount: dec("-1")}, ErrInvalid},
		{"zero topup", nil, Op{Kind: KindTopUp, Account: "p", Amount: dec("0.00")}, ErrInvalid},
		{"zero credit", nil, Op{Kind: KindCredit, Account: "p"}, ErrInvalid},
		{"topup overflow", []Op{{Kind: KindTopUp, Account: "q", Amount: big}}, Op{Kind: KindTopUp, Account: "q", Amount: big}, ErrOverflow},
		{"topup closed", []Op{{Kind: KindOpenAccount, Account: "p", AccountType: Prepaid, Currency: "EUR", Status: Closed}},
			Op{Kind: KindTopUp, Account: "p", Amount: dec("1")}, ErrAccountInactive},
		{"adjust without reason", nil, Op{Kind: KindAdjust, Account: "p", Amount: dec("-1")}, ErrInvalid},
		{"adjust zero", nil, Op{Kind: KindAdjust, Account: "p", Reason: "x"}, ErrInvalid},
		{"open bad type", nil, Op{Kind: KindOpenAccount, Account: "n", AccountType: 3, Currency: "EUR", Status: Active}, ErrInvalid},
		{"open bad status", nil, Op{Kind: KindOpenAccount, Account: "n", AccountType: Prepaid, Currency: "EUR", Status: 9}, ErrInvalid},
		{"open no status", nil, Op{Kind: KindOpenAccount, Account: "n", AccountType: Prepaid, Currency: "EUR"}, ErrInvalid},
		{"open bad currency", nil, Op{Kind: KindOpenAccount, Account: "n", AccountType: Prepaid, Currency: "XXX", Status: Active}, ErrInvalid},
		{"open negative limit", nil, Op{Kind: KindOpenAccount, Account: "n", AccountType: Prepaid, Currency: "EUR", CreditLimit: dec("-1"), Status: Active}, ErrInvalid},
		{"open currency change with balance", nil, Op{Kind: KindOpenAccount, Account: "p", AccountType: Prepaid, Currency: "USD", Status: Active}, ErrCurrencyMismatch},
		{"reserve no id", nil, Op{Kind: KindReserve, Account: "p", Amount: dec("1"), Expires: t0 + sec}, ErrInvalid},
		{"reserve expired", nil, Op{Kind: KindReserve, Account: "p", Reservation: "r", Amount: dec("1"), Expires: t0}, ErrInvalid},
		{"reserve nothing", nil, Op{Kind: KindReserve, Account: "p", Reservation: "r", Expires: t0 + sec}, ErrInvalid},
		{"reserve units without unit", nil, Op{Kind: KindReserve, Account: "p", Reservation: "r", Units: 5, Expires: t0 + sec}, ErrInvalid},
		{"reserve unit without units", nil, Op{Kind: KindReserve, Account: "p", Reservation: "r", Amount: dec("1"), Unit: usage.Second, Expires: t0 + sec}, ErrInvalid},
		{"reserve bad unit", nil, Op{Kind: KindReserve, Account: "p", Reservation: "r", Unit: 99, Units: 1, Expires: t0 + sec}, ErrInvalid},
		{"reserve huge units", nil, Op{Kind: KindReserve, Account: "p", Reservation: "r", Unit: usage.Second, Units: math.MaxUint64, Expires: t0 + sec}, ErrInvalid},
		{"reserve short money", nil, reserveOp("p", "r", "10.01", 0), ErrInsufficientFunds},
		{"reserve short units", nil, reserveOp("p", "r", "", 101), ErrInsufficientFunds},
		{"reserve other unit", nil, Op{Kind: KindReserve, Account: "p", Reservation: "r", Unit: usage.Byte, Units: 1, Expires: t0 + sec}, ErrInsufficientFunds},
		{"reserve duplicate", []Op{reserveOp("p", "r", "1", 0)}, reserveOp("p", "r", "1", 0), ErrReservationExists},
		{"reserve suspended", []Op{{Kind: KindOpenAccount, Account: "p", AccountType: Prepaid, Currency: "EUR", Status: Suspended}},
			reserveOp("p", "r", "1", 0), ErrAccountInactive},
		{"reserve negative", nil, reserveOp("p", "r", "-1", 0), ErrInvalid},
		{"commit unknown", nil, Op{Kind: KindCommit, Account: "p", Reservation: "r"}, ErrUnknownReservation},
		{"commit too much money", []Op{reserveOp("p", "r", "1", 0)}, Op{Kind: KindCommit, Account: "p", Reservation: "r", Amount: dec("1.01")}, ErrExceedsReservation},
		{"commit too many units", []Op{reserveOp("p", "r", "", 10)}, Op{Kind: KindCommit, Account: "p", Reservation: "r", Unit: usage.Second, Units: 11}, ErrExceedsReservation},
		{"commit units of money reservation", []Op{reserveOp("p", "r", "1", 0)}, Op{Kind: KindCommit, Account: "p", Reservation: "r", Unit: usage.Second, Units: 1}, ErrExceedsReservation},
		{"commit other unit", []Op{reserveOp("p", "r", "", 10)}, Op{Kind: KindCommit, Account: "p", Reservation: "r", Unit: usage.Byte, Units: 1}, ErrInvalid},
		{"commit after expiry", []Op{reserveOp("p", "r", "1", 0)}, Op{Kind: KindCommit, Account: "p", Reservation: "r", Time: t0 + 60*sec}, ErrReservationExpired},
		{"commit negative", []Op{reserveOp("p", "r", "1", 0)}, Op{Kind: KindCommit, Account: "p", Reservation: "r", Amount: dec("-1")}, ErrInvalid},
		{"release unknown", nil, Op{Kind: KindRelease, Account: "p", Reservation: "r"}, ErrUnknownReservation},
		{"release with amount", []Op{reserveOp("p", "r", "1", 0)}, Op{Kind: KindRelease, Account: "p", Reservation: "r", Amount: dec("1")}, ErrInvalid},
		{"expire early", []Op{reserveOp("p", "r", "1", 0)}, Op{Kind: KindExpire, Account: "p", Reservation: "r", Time: t0 + 59*sec}, ErrInvalid},
		{"expire unknown", nil, Op{Kind: KindExpire, Account: "p", Reservation: "r"}, ErrUnknownReservation},
		{"debit nothing", nil, Op{Kind: KindDebit, Account: "p"}, ErrInvalid},
		{"debit short", nil, Op{Kind: KindDebit, Account: "p", Amount: dec("10.000000001")}, ErrInsufficientFunds},
		{"debit short with hold", []Op{reserveOp("p", "r", "5", 0)}, Op{Kind: KindDebit, Account: "p", Amount: dec("5.01")}, ErrInsufficientFunds},
		{"debit units short", []Op{reserveOp("p", "r", "", 60)}, Op{Kind: KindDebit, Account: "p", Unit: usage.Second, Units: 41}, ErrInsufficientFunds},
		{"debit money ok units short", nil, Op{Kind: KindDebit, Account: "p", Amount: dec("1"), Unit: usage.Second, Units: 101}, ErrInsufficientFunds},
		{"debit barred", []Op{{Kind: KindOpenAccount, Account: "q", AccountType: Postpaid, Currency: "EUR", Status: Barred}},
			Op{Kind: KindDebit, Account: "q", Amount: dec("1")}, ErrAccountInactive},
		{"debit postpaid overflow", []Op{{Kind: KindDebit, Account: "q", Amount: big}},
			Op{Kind: KindDebit, Account: "q", Amount: money.FromInt(2)}, ErrOverflow},
		{"grant duplicate", nil, Op{Kind: KindGrantBucket, Account: "p", Bucket: Bucket{ID: "b1", Unit: usage.Second, Units: 1}}, ErrInvalid},
		{"grant zero", nil, Op{Kind: KindGrantBucket, Account: "p", Bucket: Bucket{ID: "b2", Unit: usage.Second}}, ErrInvalid},
		{"grant huge", nil, Op{Kind: KindGrantBucket, Account: "p", Bucket: Bucket{ID: "b2", Unit: usage.Second, Units: math.MaxInt64 + 1}}, ErrInvalid},
		{"grant no id", nil, Op{Kind: KindGrantBucket, Account: "p", Bucket: Bucket{Unit: usage.Second, Units: 1}}, ErrInvalid},
		{"grant bad unit", nil, Op{Kind: KindGrantBucket, Account: "p", Bucket: Bucket{ID: "b2", Units: 1}}, ErrInvalid},
		{"grant bad window", nil, Op{Kind: KindGrantBucket, Account: "p", Bucket: Bucket{ID: "b2", Unit: usage.Second, Units: 1, ValidFrom: t0, ValidUntil: t0}}, ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := std(t)
			for _, op := range c.setup {
				f.ok(op)
			}
			if c.err == nil { // the "no key" case
				c.op.Key = ""
				c.op.Time = f.now
				_, _, err := f.s.Apply(&c.op, nil)
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("empty key: %v", err)
				}
				return
			}
			f.fails(c.op, c.err)
		})
	}
}

func TestOpenAccount(t *testing.T) {
	f := newFixture(t)
	res, es := f.ok(Op{Kind: KindOpenAccount, Account: "a", AccountType: Prepaid, Currency: "EUR", CreditLimit: dec("5"), Status: Active})
	if len(es) != 0 || !res.Available.Equal(dec("5")) {
		t.Fatalf("open: %+v %v", res, es)
	}
	// Currency may change while everything is zero.
	f.ok(Op{Kind: KindOpenAccount, Account: "a", AccountType: Prepaid, Currency: "USD", Status: Active})
	if v := f.view("a"); v.Currency != "USD" || !v.CreditLimit.IsZero() {
		t.Fatalf("view %+v", v)
	}
	// A bucket with units blocks it.
	f.ok(Op{Kind: KindGrantBucket, Account: "a", Bucket: Bucket{ID: "x", Unit: usage.Message, Units: 1}})
	f.fails(Op{Kind: KindOpenAccount, Account: "a", AccountType: Prepaid, Currency: "EUR", Status: Active}, ErrCurrencyMismatch)
	f.ok(Op{Kind: KindDebit, Account: "a", Unit: usage.Message, Units: 1})
	f.ok(Op{Kind: KindOpenAccount, Account: "a", AccountType: Prepaid, Currency: "EUR", Status: Active})
	// Lowering the limit below the spending leaves the account below its
	// floor (allowed: master data), charging stays refused.
	f.ok(Op{Kind: KindOpenAccount, Account: "a", AccountType: Prepaid, Currency: "EUR", CreditLimit: dec("5"), Status: Active})
	f.ok(Op{Kind: KindDebit, Account: "a", Amount: dec("4")})
	res, _ = f.ok(Op{Kind: KindOpenAccount, Account: "a", AccountType: Prepaid, Currency: "EUR", CreditLimit: dec("1"), Status: Active})
	if !res.Available.Equal(dec("-3")) {
		t.Fatalf("available %s", res.Available)
	}
	f.fails(Op{Kind: KindDebit, Account: "a", Amount: dec("0.01")}, ErrInsufficientFunds)
	f.ok(Op{Kind: KindTopUp, Account: "a", Amount: dec("3")})
	if v := f.view("a"); !v.Available.IsZero() || f.s.acct("a").below {
		t.Fatalf("after top-up: %+v below=%v", v, f.s.acct("a").below)
	}
}

func TestReserveCommitMoney(t *testing.T) {
	f := std(t)
	res, es := f.ok(reserveOp("p", "r1", "4.00", 0))
	if !res.GrantedAmount.Equal(dec("4")) || !res.Available.Equal(dec("6")) || !res.Balance.Equal(dec("10")) || len(es) != 1 {
		t.Fatalf("reserve: %+v %+v", res, es)
	}
	if e := es[0]; e.Asset != AssetMoney || !e.HeldDelta.Equal(dec("4")) || !e.Held.Equal(dec("4")) || !e.Delta.IsZero() ||
		e.Reservation != "r1" || e.Kind != KindReserve || e.Account != "p" || e.Time != f.now {
		t.Fatalf("entry %+v", e)
	}
	f.now += sec
	res, es = f.ok(Op{Kind: KindCommit, Account: "p", Reservation: "r1", Amount: dec("2.50")})
	if !res.DebitedAmount.Equal(dec("2.5")) || !res.ReleasedAmount.Equal(dec("1.5")) || !res.Balance.Equal(dec("7.5")) ||
		!res.Available.Equal(dec("7.5")) || len(es) != 1 {
		t.Fatalf("commit: %+v %+v", res, es)
	}
	if e := es[0]; !e.Delta.Equal(dec("-2.5")) || !e.HeldDelta.Equal(dec("-4")) || !e.Held.IsZero() || !e.Balance.Equal(dec("7.5")) {
		t.Fatalf("commit entry %+v", e)
	}
	if v := f.view("p"); len(v.Reservations) != 0 || !v.Held.IsZero() {
		t.Fatalf("view %+v", v)
	}
	f.fails(Op{Kind: KindCommit, Account: "p", Reservation: "r1"}, ErrUnknownReservation)
	// The id can be used again once closed.
	f.ok(reserveOp("p", "r1", "1", 0))
	// Commit with zero use is a release.
	res, es = f.ok(Op{Kind: KindCommit, Account: "p", Reservation: "r1"})
	if !res.DebitedAmount.IsZero() || !res.ReleasedAmount.Equal(dec("1")) || !es[0].Delta.IsZero() {
		t.Fatalf("zero commit %+v %+v", res, es)
	}
}

func TestPostpaidNeverShort(t *testing.T) {
	f := std(t)
	res, _ := f.ok(reserveOp("q", "r", "1000000", 0))
	if !res.GrantedAmount.Equal(dec("1000000")) || !res.Available.Equal(dec("-1000000")) {
		t.Fatalf("%+v", res)
	}
	f.ok(Op{Kind: KindCommit, Account: "q", Reservation: "r", Amount: dec("999")})
	f.ok(Op{Kind: KindDebit, Account: "q", Amount: dec("1")})
	if v := f.view("q"); !v.Balance.Equal(dec("-1000")) {
		t.Fatalf("%+v", v)
	}
}

func TestCreditLimit(t *testing.T) {
	f := newFixture(t)
	f.ok(openOp("c", Prepaid, "5.00"))
	f.ok(Op{Kind: KindDebit, Account: "c", Amount: dec("3")})
	f.fails(reserveOp("c", "r", "2.01", 0), ErrInsufficientFunds)
	f.ok(reserveOp("c", "r", "2", 0))
	f.fails(Op{Kind: KindDebit, Account: "c", Amount: dec("0.000000001")}, ErrInsufficientFunds)
	// Adjust may go below the floor; it is then marked and charging stops.
	f.ok(Op{Kind: KindRelease, Account: "c", Reservation: "r"})
	res, _ := f.ok(Op{Kind: KindAdjust, Account: "c", Amount: dec("-10"), Reason: "chargeback"})
	if !res.Available.Equal(dec("-8")) || !f.s.acct("c").below {
		t.Fatalf("%+v", res)
	}
	f.fails(reserveOp("c", "r", "0.01", 0), ErrInsufficientFunds)
	f.ok(Op{Kind: KindAdjust, Account: "c", Amount: dec("8"), Reason: "oops"})
	if f.s.acct("c").below {
		t.Fatal("still below")
	}
	// Adjust works in any status, credit and top-up not when closed.
	f.ok(Op{Kind: KindOpenAccount, Account: "c", AccountType: Prepaid, Currency: "EUR", Status: Closed})
	f.ok(Op{Kind: KindAdjust, Account: "c", Amount: dec("1"), Reason: "final"})
	f.fails(Op{Kind: KindCredit, Account: "c", Amount: dec("1")}, ErrAccountInactive)
	f.ok(Op{Kind: KindOpenAccount, Account: "c", AccountType: Prepaid, Currency: "EUR", Status: Suspended})
	f.ok(Op{Kind: KindCredit, Account: "c", Amount: dec("1"), Reason: "refund"})
	f.fails(Op{Kind: KindDebit, Account: "c", Amount: dec("1")}, ErrAccountInactive)
}

func TestBucketBurnOrder(t *testing.T) {
	f := newFixture(t)
	f.ok(openOp("a", Prepaid, "0"))
	grant := func(id string, units uint64, prio int32, from, until int64) {
		f.ok(Op{Kind: KindGrantBucket, Account: "a", Bucket: Bucket{ID: id, Unit: usage.Second, Units: units, Priority: prio, ValidFrom: from, ValidUntil: until}})
	}
	grant("never", 10, 1, 0, 0)
	grant("late", 10, 1, 0, t0+100*sec)
	grant("soon", 10, 1, 0, t0+50*sec)
	grant("first", 10, 0, 0, 0)
	grant("b-tie", 10, 1, 0, t0+50*sec)
	grant("expired", 10, -5, 0, t0)              // not valid at t0
	grant("future", 10, -5, t0+sec, 0)           // not yet valid
	f.ok(Op{Kind: KindGrantBucket, Account: "a", // another unit
		Bucket: Bucket{ID: "bytes", Unit: usage.Byte, Units: 1000, Priority: -9}})
	var ids []string
	for _, b := range f.view("a").Buckets {
		ids = append(ids, b.ID)
	}
	if got, want := fmt.Sprint(ids), "[bytes expired future first b-tie soon late never]"; got != want {
		t.Fatalf("burn order %s, want %s", got, want)
	}
	_, es := f.ok(Op{Kind: KindReserve, Account: "a", Reservation: "r", Unit: usage.Second, Units: 35, Expires: t0 + 10*sec})
	var got []string
	for _, e := range es {
		got = append(got, fmt.Sprintf("%s:%s", e.Asset, e.HeldDelta))
	}
	if want := "[bucket:first:10 bucket:b-tie:10 bucket:soon:10 bucket:late:5]"; fmt.Sprint(got) != want {
		t.Fatalf("holds %v, want %s", got, want)
	}
	// A bucket granted later with a better priority is placed before the
	// held ones; the holds follow their buckets.
	grant("vip", 5, -1, 0, 0)
	f.now += sec
	res, es := f.ok(Op{Kind: KindCommit, Account: "a", Reservation: "r", Unit: usage.Second, Units: 25})
	got = got[:0]
	for _, e := range es {
		got = append(got, fmt.Sprintf("%s:%s/%s", e.Asset, e.Delta, e.HeldDelta))
	}
	if want := "[bucket:first:-10/-10 bucket:b-tie:-10/-10 bucket:soon:-5/-10 bucket:late:0/-5]"; fmt.Sprint(got) != want || res.DebitedUnits != 25 || res.ReleasedUnits != 10 {
		t.Fatalf("commit %v %+v, want %s", got, res, want)
	}
	// Debit burns in order too, now including "future" (valid from t0+1s).
	_, es = f.ok(Op{Kind: KindDebit, Account: "a", Unit: usage.Second, Units: 20})
	got = got[:0]
	for _, e := range es {
		got = append(got, fmt.Sprintf("%s:%s", e.Asset, e.Delta))
	}
	if want := "[bucket:future:-10 bucket:vip:-5 bucket:soon:-5]"; fmt.Sprint(got) != want {
		t.Fatalf("debit %v, want %s", got, want)
	}
}

func TestPartialReserve(t *testing.T) {
	f := std(t)
	op := reserveOp("p", "r1", "25", 150)
	op.Partial = true
	res, es := f.ok(op)
	if !res.GrantedAmount.Equal(dec("10")) || res.GrantedUnits != 100 || len(es) != 2 {
		t.Fatalf("partial: %+v %+v", res, es)
	}
	// Nothing left: a partial reserve grants zero and creates nothing.
	op = reserveOp("p", "r2", "1", 1)
	op.Partial, op.Key, op.Time = true, "r2-key", f.now
	res, es = f.ok(op)
	if !res.GrantedAmount.IsZero() || res.GrantedUnits != 0 || len(es) != 0 || len(f.view("p").Reservations) != 1 {
		t.Fatalf("zero grant: %+v %+v", res, es)
	}
	f.fails(Op{Kind: KindRelease, Account: "p", Reservation: "r2"}, ErrUnknownReservation)
	// Its result is remembered under the key like any other.
	again := op
	res2, _, err := f.s.Apply(&again, nil)
	if err != nil || !res2.Replayed {
		t.Fatalf("retry: %+v %v", res2, err)
	}
	// Money short but units available: grant only units.
	f.ok(Op{Kind: KindRelease, Account: "p", Reservation: "r1"})
	f.ok(Op{Kind: KindDebit, Account: "p", Amount: dec("10")})
	op = reserveOp("p", "r3", "1", 5)
	op.Partial = true
	res, es = f.ok(op)
	if !res.GrantedAmount.IsZero() || res.GrantedUnits != 5 || len(es) != 1 {
		t.Fatalf("units only: %+v %+v", res, es)
	}
}

func TestExpiry(t *testing.T) {
	f := std(t)
	f.ok(reserveOp("p", "r1", "1", 10)) // expires t0+60s
	op := reserveOp("p", "r2", "2", 0)
	op.Expires = t0 + 30*sec
	f.ok(op)
	op = reserveOp("q", "r3", "3", 0)
	op.Expires = t0 + 3*3600*sec // beyond one wheel revolution
	f.ok(op)
	if due := f.s.Due(t0+29*sec, nil, 0); len(due) != 0 {
		t.Fatalf("due early: %+v", due)
	}
	due := f.s.Due(t0+60*sec, nil, 0)
	if len(due) != 2 || due[0].Reservation != "r2" || due[1].Reservation != "r1" {
		t.Fatalf("due: %+v", due)
	}
	if d := due[0]; d.Kind != KindExpire || d.Key != "expire:p:r2" || d.Account != "p" || d.Time != t0+60*sec {
		t.Fatalf("expire op %+v", d)
	}
	// Due changes nothing by itself: until applied they stay due.
	if again := f.s.Due(t0+60*sec, nil, 1); len(again) != 1 || again[0].Reservation != "r2" {
		t.Fatalf("due with limit: %+v", again)
	}
	// A commit at or after expiry is refused; release still works.
	f.fails(Op{Kind: KindCommit, Account: "p", Reservation: "r2", Amount: dec("1"), Time: t0 + 30*sec}, ErrReservationExpired)
	for _, op := range due {
		res, es := f.ok(op)
		if res.ReleasedAmount.IsZero() || len(es) == 0 {
			t.Fatalf("expire %+v %+v", res, es)
		}
	}
	// Expire is idempotent by state: the reservation is gone.
	f.fails(due[0], ErrUnknownReservation)
	if v := f.view("p"); len(v.Reservations) != 0 || !v.Held.IsZero() || v.Buckets[0].Held != 0 {
		t.Fatalf("after expiry %+v", v)
	}
	if due := f.s.Due(t0+2*3600*sec, nil, 0); len(due) != 0 {
		t.Fatalf("r3 due early (wheel round): %+v", due)
	}
	if due := f.s.Due(t0+3*3600*sec, nil, 0); len(due) != 1 || due[0].Reservation != "r3" {
		t.Fatalf("r3: %+v", due)
	}
	// A reservation expiring before the sweep cursor is still found.
	f.now = t0 + 100*sec
	op = reserveOp("p", "r4", "1", 0)
	op.Expires = t0 + 101*sec
	f.ok(op)
	if due := f.s.Due(t0+200*sec, nil, 0); len(due) != 1 || due[0].Reservation != "r4" {
		t.Fatalf("r4: %+v", due)
	}
	// Reusing a reservation id after expiry expires the new one too.
	f.ok(Op{Kind: KindExpire, Key: "x1", Account: "p", Reservation: "r4", Time: t0 + 200*sec})
	f.now = t0 + 201*sec
	op = reserveOp("p", "r4", "1", 0)
	op.Expires = t0 + 202*sec
	f.ok(op)
	due = f.s.Due(t0+203*sec, nil, 0)
	for _, d := range due {
		f.ok(d)
	}
	if len(f.view("p").Reservations) != 0 {
		t.Fatal("r4 reused: not expired")
	}
}

func TestIdempotency(t *testing.T) {
	f := std(t)
	op := reserveOp("p", "r1", "1.50", 10)
	op.Key = "sess-1:1"
	res, es := f.ok(op)
	// Same key, same content, later time: the stored result, no entries.
	retry := op
	retry.Time = f.now + 5*sec
	res2, es2, err := f.s.Apply(&retry, nil)
	if err != nil || !res2.Replayed || len(es2) != 0 {
		t.Fatalf("retry: %+v %v %v", res2, es2, err)
	}
	res2.Replayed = false
	if !reflect.DeepEqual(res2, res) || len(es) != 2 {
		t.Fatalf("retry result %+v, first %+v", res2, res)
	}
	// Same key, different content.
	for name, mod := range map[string]func(*Op){
		"amount":  func(o *Op) { o.Amount = dec("1.51") },
		"scale":   func(o *Op) { o.Amount = dec("1.5") },
		"units":   func(o *Op) { o.Units = 11 },
		"partial": func(o *Op) { o.Partial = true },
		"account": func(o *Op) { o.Account = "q" },
		"kind":    func(o *Op) { o.Kind = KindRelease; o.Amount = money.Decimal{}; o.Units, o.Unit, o.Expires = 0, 0, 0 },
	} {
		c := op
		mod(&c)
		f.fails(c, ErrKeyConflict)
		_ = name
	}
	// A retry with a later expiry (relative expiries move with the clock)
	// is the same operation.
	later := op
	later.Expires += int64(time.Minute)
	if res3, _, err := f.s.Apply(&later, nil); err != nil || !res3.Replayed {
		t.Fatalf("retry with a later expiry: %+v %v", res3, err)
	}
	// A failed op is not remembered: the same key may succeed later.
	big := reserveOp("p", "r9", "100", 0)
	big.Key = "sess-9:1"
	f.fails(big, ErrInsufficientFunds)
	f.ok(Op{Kind: KindTopUp, Account: "p", Amount: dec("100")})
	f.ok(big)
	// After the window the key is forgotten: the retry is a new op
	// (documented: retries must come within IdemWindow).
	top := Op{Kind: KindTopUp, Key: "pay-1", Account: "p", Amount: dec("1")}
	f.ok(top)
	top.Time = f.now + DefaultIdemWindow - 1
	if r, _, _ := f.s.Apply(&top, nil); !r.Replayed {
		t.Fatal("retry inside the window not replayed")
	}
	top.Time = f.now + DefaultIdemWindow
	if r, es, err := f.s.Apply(&top, nil); err != nil || r.Replayed || len(es) != 1 {
		t.Fatalf("retry after the window: %+v %v", r, err)
	}
	if err := f.s.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

func TestIdemEviction(t *testing.T) {
	s := NewState(0, Options{IdemWindow: 10 * sec, IdemMax: 3})
	apply := func(op Op) Result {
		t.Helper()
		res, _, err := s.Apply(&op, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	apply(Op{Kind: KindOpenAccount, Key: "o", Account: "a", AccountType: Postpaid, Currency: "EUR", Status: Active, Time: t0})
	for i := range 5 {
		apply(Op{Kind: KindTopUp, Key: fmt.Sprint("t", i), Account: "a", Amount: dec("1"), Time: t0 + int64(i)})
	}
	if s.IdemKeys() != 3 {
		t.Fatalf("%d keys, want 3", s.IdemKeys())
	}
	// The oldest were forgotten: t1 applies again, t4 is replayed.
	if r := apply(Op{Kind: KindTopUp, Key: "t1", Account: "a", Amount: dec("1"), Time: t0 + 10}); r.Replayed {
		t.Fatal("t1 remembered beyond IdemMax")
	}
	if r := apply(Op{Kind: KindTopUp, Key: "t4", Account: "a", Amount: dec("1"), Time: t0 + 11}); !r.Replayed {
		t.Fatal("t4 forgotten")
	}
	s.EvictIdem(t0 + 10*sec + 5)
	if s.IdemKeys() != 1 { // t1 (t0+10) is still in its window
		t.Fatalf("%d keys after EvictIdem, want 1", s.IdemKeys())
	}
	if err := s.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

func TestAccountViewIsACopy(t *testing.T) {
	f := std(t)
	f.ok(reserveOp("p", "r", "1", 10))
	v := f.view("p")
	v.Buckets[0].Units = 0
	v.Reservations[0].Holds[0].Units = 0
	w := f.view("p")
	if w.Buckets[0].Units != 100 || w.Reservations[0].Holds[0].Units != 10 || w.Reservations[0].Holds[0].Bucket != "b1" {
		t.Fatalf("view shares state: %+v", w)
	}
	if _, ok := f.s.AccountView("nobody"); ok {
		t.Fatal("unknown account viewed")
	}
}

func TestManyReservationsOneAccount(t *testing.T) {
	f := newFixture(t)
	f.ok(openOp("big", Postpaid, "0"))
	for i := range 100 {
		f.ok(reserveOp("big", fmt.Sprint("r", i), "1", 0))
	}
	for i := 0; i < 100; i += 2 {
		f.ok(Op{Kind: KindCommit, Account: "big", Reservation: fmt.Sprint("r", i), Amount: dec("0.5")})
	}
	f.fails(reserveOp("big", "r1", "1", 0), ErrReservationExists)
	snap := f.s.AppendSnapshot(nil)
	s2, err := LoadSnapshot(snap, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
	if v := f.view("big"); len(v.Reservations) != 50 || !v.Balance.Equal(dec("-25")) {
		t.Fatalf("%d reservations, balance %s", len(v.Reservations), v.Balance)
	}
}

func TestOverflowNeverWraps(t *testing.T) {
	f := newFixture(t)
	f.ok(openOp("a", Postpaid, "0"))
	f.ok(Op{Kind: KindGrantBucket, Account: "a", Bucket: Bucket{ID: "x", Unit: usage.Byte, Units: math.MaxInt64}})
	f.ok(Op{Kind: KindGrantBucket, Account: "a", Bucket: Bucket{ID: "y", Unit: usage.Byte, Units: math.MaxInt64}})
	res, _ := f.ok(Op{Kind: KindReserve, Account: "a", Reservation: "r", Unit: usage.Byte, Units: math.MaxInt64, Expires: t0 + sec})
	if res.GrantedUnits != math.MaxInt64 {
		t.Fatalf("%+v", res)
	}
	f.ok(Op{Kind: KindTopUp, Account: "a", Amount: money.FromInt(math.MaxInt64 - 1)})
	f.fails(Op{Kind: KindTopUp, Account: "a", Amount: money.FromInt(2)}, ErrOverflow)
	// Scale alignment that overflows is an overflow too.
	f.fails(Op{Kind: KindTopUp, Account: "a", Amount: dec("0.000000001")}, ErrOverflow)
}

// The property test: random op sequences over many accounts, all kinds,
// idempotent and conflicting retries, times moving forward, and expiry
// sweeps. After each step every balance and held amount equals the sum of
// the ledger entries emitted so far and CheckInvariants passes; after a
// sweep at t no reservation with Expires ≤ t is open. Halfway, the state
// is snapshotted and loaded, and the copy must answer every later op
// exactly like the original; at the end, replaying the accepted ops into
// a fresh State must give a byte-identical snapshot.
//
// Each State is used by one goroutine (its contract); the seeds run in
// parallel goroutines, so -race checks that States share nothing.
func TestPropertyRandomOps(t *testing.T) {
	steps := 4000
	if testing.Short() {
		steps = 800
	}
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			p := newProp(t, seed)
			p.run(steps)
		})
	}
}

type assetSum struct{ bal, held money.Decimal }

type accepted struct {
	op  Op
	res Result
}

type prop struct {
	t        *testing.T
	rng      *rand.Rand
	opts     Options
	s, s2    *State // s2: loaded from a snapshot of s halfway
	now      int64
	accts    []string
	sums     map[[2]string]*assetSum
	journal  []accepted // accepted, not replayed, in order
	history  []accepted // recorded under their keys (not expire)
	reserves []accepted
	latest   map[string]int
	nkey     int
	counts   map[string]int
}

func newProp(t *testing.T, seed uint64) *prop {
	p := &prop{t: t, rng: rand.New(rand.NewPCG(seed, seed*0x9e3779b97f4a7c15)),
		opts: Options{IdemWindow: 90 * sec}, now: t0,
		sums: map[[2]string]*assetSum{}, latest: map[string]int{}, counts: map[string]int{}}
	p.s = NewState(int(seed), p.opts)
	for i := range 12 {
		p.accts = append(p.accts, fmt.Sprint("acct-", i))
	}
	return p
}

func (p *prop) amount() money.Decimal {
	switch p.rng.IntN(40) {
	case 0:
		return money.FromInt(math.MaxInt64 / 2) // overflow paths
	case 1:
		d, _ := money.New(1, 10) // invalid scale
		return d
	}
	d, _ := money.New(p.rng.Int64N(3000), uint8(p.rng.IntN(4)))
	return d
}

func (p *prop) account() string {
	if p.rng.IntN(50) == 0 {
		return "nobody"
	}
	return p.accts[p.rng.IntN(len(p.accts))]
}

func (p *prop) units() (usage.Unit, uint64) {
	if p.rng.IntN(3) == 0 {
		return 0, 0
	}
	u := usage.Second
	if p.rng.IntN(4) == 0 {
		u = usage.Byte
	}
	return u, uint64(1 + p.rng.IntN(150))
}

// recentReserve returns one of the last accepted reserves.
func (p *prop) recentReserve() (accepted, bool) {
	if len(p.reserves) == 0 {
		return accepted{}, false
	}
	return p.reserves[len(p.reserves)-1-p.rng.IntN(min(len(p.reserves), 8))], true
}

func (p *prop) gen() Op {
	p.nkey++
	op := Op{Key: fmt.Sprint("key-", p.nkey), Account: p.account(), Time: p.now}
	res := fmt.Sprint("r", p.rng.IntN(5))
	switch k := p.rng.IntN(100); {
	case k < 6:
		op.Kind = KindOpenAccount
		op.AccountType = Prepaid
		if p.rng.IntN(3) == 0 {
			op.AccountType = Postpaid
		}
		op.Currency = "EUR"
		if p.rng.IntN(20) == 0 {
			op.Currency = "USD"
		}
		op.Status = Active
		if p.rng.IntN(6) == 0 {
			op.Status = AccountStatus(1 + p.rng.IntN(4))
		}
		if p.rng.IntN(2) == 0 {
			op.CreditLimit = money.FromInt(p.rng.Int64N(50))
		}
	case k < 18:
		op.Kind = KindTopUp
		op.Amount = p.amount()
	case k < 22:
		op.Kind = KindCredit
		op.Amount = p.amount()
		op.Reason = "refund"
	case k < 27:
		op.Kind = KindAdjust
		op.Amount = p.amount()
		if p.rng.IntN(2) == 0 {
			op.Amount, _ = op.Amount.Neg()
		}
		op.Reason = "operator"
	case k < 37:
		op.Kind = KindDebit
		if p.rng.IntN(2) == 0 {
			op.Amount = p.amount()
		}
		op.Unit, op.Units = p.units()
	case k < 62:
		op.Kind = KindReserve
		op.Reservation = res
		if p.rng.IntN(3) > 0 {
			op.Amount = p.amount()
		}
		op.Unit, op.Units = p.units()
		op.Expires = p.now + 1 + p.rng.Int64N(40*sec)
		op.Partial = p.rng.IntN(3) == 0
	case k < 80:
		op.Kind = KindCommit
		op.Reservation = res
		if r, ok := p.recentReserve(); ok && p.rng.IntN(4) > 0 {
			// Use part of a recent grant (or, rarely, more).
			op.Account, op.Reservation = r.op.Account, r.op.Reservation
			if !r.res.GrantedAmount.IsZero() && p.rng.IntN(3) > 0 {
				op.Amount, _ = r.res.GrantedAmount.MulDiv(uint64(p.rng.IntN(12)), 10, 3, money.RoundDown)
			}
			if r.res.GrantedUnits > 0 && p.rng.IntN(3) > 0 {
				op.Unit, op.Units = r.op.Unit, r.res.GrantedUnits*uint64(p.rng.IntN(12))/10
				if op.Units == 0 {
					op.Unit = 0
				}
			}
			break
		}
		if p.rng.IntN(2) == 0 {
			op.Amount = p.amount()
		}
		op.Unit, op.Units = p.units()
	case k < 86:
		op.Kind = KindRelease
		op.Reservation = res
		if r, ok := p.recentReserve(); ok && p.rng.IntN(2) > 0 {
			op.Account, op.Reservation = r.op.Account, r.op.Reservation
		}
	case k < 95:
		op.Kind = KindGrantBucket
		u, n := p.units()
		if n == 0 {
			u, n = usage.Second, 60
		}
		op.Bucket = Bucket{ID: fmt.Sprint("b", p.rng.IntN(30)), Unit: u, Units: n * 10, Priority: int32(p.rng.IntN(3))}
		if p.rng.IntN(3) == 0 {
			op.Bucket.ValidFrom = p.now + p.rng.Int64N(20*sec)
		}
		if p.rng.IntN(3) == 0 {
			op.Bucket.ValidUntil = p.now + 20*sec + p.rng.Int64N(60*sec)
		}
	default:
		op.Kind = KindExpire
		op.Reservation = res
	}
	return op
}

// apply applies op to s (and s2) and checks the entries against the
// running sums.
func (p *prop) apply(op Op) (Result, error) {
	t := p.t
	t.Helper()
	res, es, err := p.s.Apply(&op, nil)
	if p.s2 != nil {
		res2, es2, err2 := p.s2.Apply(&op, nil)
		if fmt.Sprint(err) != fmt.Sprint(err2) || !reflect.DeepEqual(res, res2) || !reflect.DeepEqual(es, es2) {
			t.Fatalf("%s %s: loaded copy diverged:\n %+v %v %+v\n %+v %v %+v", op.Kind, op.Key, res, err, es, res2, err2, es2)
		}
	}
	switch {
	case err != nil:
		p.counts["err:"+op.Kind.String()]++
		if len(es) != 0 {
			t.Fatalf("%s %s failed with entries", op.Kind, op.Key)
		}
		return res, err
	case res.Replayed:
		p.counts["replayed"]++
		if len(es) != 0 {
			t.Fatalf("%s %s replayed with entries", op.Kind, op.Key)
		}
		return res, nil
	}
	p.counts[op.Kind.String()]++
	for _, e := range es {
		if e.Account != op.Account || e.Kind != op.Kind || e.Key != op.Key || e.Time != op.Time ||
			e.Reservation != op.Reservation || e.Reason != op.Reason {
			t.Fatalf("%s %s: entry header %+v", op.Kind, op.Key, e)
		}
		k := [2]string{e.Account, e.Asset}
		sum := p.sums[k]
		if sum == nil {
			sum = &assetSum{}
			p.sums[k] = sum
		}
		var err1, err2 error
		sum.bal, err1 = sum.bal.Add(e.Delta)
		sum.held, err2 = sum.held.Add(e.HeldDelta)
		if err1 != nil || err2 != nil || !sum.bal.Equal(e.Balance) || !sum.held.Equal(e.Held) {
			t.Fatalf("%s %s: entry %+v: ledger sums %s held %s", op.Kind, op.Key, e, sum.bal, sum.held)
		}
	}
	p.journal = append(p.journal, accepted{op, res})
	if op.Kind == KindReserve {
		p.reserves = append(p.reserves, accepted{op, res})
	}
	if op.Kind != KindExpire {
		p.latest[op.Key] = len(p.history)
		p.history = append(p.history, accepted{op, res})
	}
	return res, nil
}

func (p *prop) retry(conflict bool) {
	t := p.t
	if len(p.history) == 0 {
		return
	}
	i := p.rng.IntN(len(p.history))
	if p.rng.IntN(2) == 0 { // favour recent ones, likely in the window
		i = len(p.history) - 1 - p.rng.IntN(min(len(p.history), 20))
	}
	op := p.history[i].op
	op.Time = p.now
	if conflict {
		op.Reason += "!"
	}
	// What the state remembers is the latest accepted op of the key.
	h := p.history[p.latest[op.Key]]
	live := p.now-h.op.Time < p.opts.IdemWindow
	conflict = contentHash(&op) != contentHash(&h.op)
	res, err := p.apply(op)
	switch {
	case live && conflict:
		if !errors.Is(err, ErrKeyConflict) {
			t.Fatalf("conflicting retry of %s: %+v %v", op.Key, res, err)
		}
	case live:
		want := h.res
		want.Replayed = true
		if err != nil || !reflect.DeepEqual(res, want) {
			t.Fatalf("retry of %s: %+v %v, want %+v", op.Key, res, err, want)
		}
	default:
		if res.Replayed || errors.Is(err, ErrKeyConflict) {
			t.Fatalf("retry of %s outside its window: %+v %v", op.Key, res, err)
		}
	}
}

func (p *prop) sweep() {
	t := p.t
	limit := 0
	if p.rng.IntN(2) == 0 {
		limit = 2
	}
	for range 1000 {
		due := p.s.Due(p.now, nil, limit)
		if p.s2 != nil {
			if due2 := p.s2.Due(p.now, nil, limit); !reflect.DeepEqual(due, due2) {
				t.Fatalf("Due diverged: %+v vs %+v", due, due2)
			}
		}
		if len(due) == 0 {
			break
		}
		for _, op := range due {
			if _, err := p.apply(op); err != nil {
				t.Fatalf("expire %s: %v", op.Key, err)
			}
		}
	}
	for _, id := range p.accts {
		v, _ := p.s.AccountView(id)
		for _, r := range v.Reservations {
			if r.Expires <= p.now {
				t.Fatalf("after a sweep at %d, %s reservation %s (expires %d) is open", p.now, id, r.ID, r.Expires)
			}
		}
	}
}

func (p *prop) check() {
	t := p.t
	t.Helper()
	if err := p.s.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
	for _, id := range p.accts {
		v, ok := p.s.AccountView(id)
		if !ok {
			continue
		}
		m := p.sums[[2]string{id, AssetMoney}]
		if m == nil {
			m = &assetSum{}
		}
		if !m.bal.Equal(v.Balance) || !m.held.Equal(v.Held) {
			t.Fatalf("%s: balance %s held %s, ledger %s / %s", id, v.Balance, v.Held, m.bal, m.held)
		}
		for _, b := range v.Buckets {
			m := p.sums[[2]string{id, bucketAssetPrefix + b.ID}]
			if m == nil || !m.bal.Equal(money.FromInt(int64(b.Units))) || !m.held.Equal(money.FromInt(int64(b.Held))) {
				t.Fatalf("%s bucket %s: %d held %d, ledger %+v", id, b.ID, b.Units, b.Held, m)
			}
		}
	}
}

func (p *prop) run(steps int) {
	t := p.t
	for i := range p.accts[:8] { // most accounts exist from the start
		p.apply(Op{Kind: KindOpenAccount, Key: fmt.Sprint("open-", i), Account: p.accts[i], Time: p.now,
			AccountType: AccountType(1 + i%2), Currency: "EUR", Status: Active, CreditLimit: money.FromInt(int64(i))})
		p.apply(Op{Kind: KindTopUp, Key: fmt.Sprint("top-", i), Account: p.accts[i], Time: p.now, Amount: money.FromInt(1000)})
	}
	for step := range steps {
		p.now += p.rng.Int64N(sec)
		if p.rng.IntN(200) == 0 {
			p.now += 2 * p.opts.IdemWindow // beyond every key's window
		}
		switch k := p.rng.IntN(100); {
		case k < 8:
			p.retry(false)
		case k < 10:
			p.retry(true)
		case k < 15:
			p.sweep()
		default:
			p.apply(p.gen())
		}
		p.check()
		if step == steps/2 {
			snap := p.s.AppendSnapshot(nil)
			s2, err := LoadSnapshot(snap, p.opts)
			if err != nil {
				t.Fatal(err)
			}
			if err := s2.CheckInvariants(); err != nil {
				t.Fatal(err)
			}
			if again := s2.AppendSnapshot(nil); !bytes.Equal(snap, again) {
				t.Fatal("snapshot → load → snapshot differs")
			}
			p.s2 = s2
		}
	}
	p.now += 3600 * sec
	p.sweep()
	p.check()
	if p.s.Reservations() != 0 {
		t.Fatalf("%d reservations open after the final sweep", p.s.Reservations())
	}

	// Determinism: replaying the accepted ops gives the same results and a
	// byte-identical snapshot.
	fresh := NewState(p.s.Partition, p.opts)
	for _, a := range p.journal {
		res, _, err := fresh.Apply(&a.op, nil)
		if err != nil || !reflect.DeepEqual(res, a.res) {
			t.Fatalf("replay of %s %s: %+v %v, want %+v", a.op.Kind, a.op.Key, res, err, a.res)
		}
	}
	want := p.s.AppendSnapshot(nil)
	if got := fresh.AppendSnapshot(nil); !bytes.Equal(got, want) {
		t.Fatalf("replayed state differs: snapshot %d vs %d bytes", len(got), len(want))
	}
	if got := p.s2.AppendSnapshot(nil); !bytes.Equal(got, want) {
		t.Fatalf("state loaded halfway differs at the end: snapshot %d vs %d bytes", len(got), len(want))
	}
	for _, k := range []string{"reserve", "commit", "release", "expire", "debit", "topup", "credit", "adjust", "grant_bucket", "open_account", "replayed", "err:reserve", "err:commit"} {
		if p.counts[k] == 0 {
			t.Errorf("no %s in %d steps: %v", k, steps, p.counts)
		}
	}
	t.Logf("%d accepted ops, %d keys remembered, outcomes %v", len(p.journal), p.s.IdemKeys(), p.counts)
}

// TestIdemIndexCollisions drives the key index with colliding hashes
// (forced), so that probing, backward-shift deletion and supersession are
// exercised beyond what real hashes reach.
func TestIdemIndexCollisions(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	var tab idemTable
	tab.init(0, Options{})
	o := Options{IdemWindow: 1000, IdemMax: 300}
	now := int64(0)
	fakeHash := func(key string) uint64 { return uint64(len(key)%3) * 0x9e3779b97f4a7c15 }
	for i := range 5000 {
		now += int64(rng.IntN(3))
		key := fmt.Sprint("k", rng.IntN(700))
		kh := fakeHash(key)
		pos, known := tab.find(key, kh)
		if known && !stale(tab.at(pos).time, now, o.IdemWindow) {
			continue // a replay: nothing recorded
		}
		res := Result{Kind: KindTopUp, Account: "a", Time: now}
		tab.record(key, kh, 0, now, &res, o, pos, known)
		if i%97 == 0 {
			if err := tab.checkWith(o, fakeHash); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
	}
	if err := tab.checkWith(o, fakeHash); err != nil {
		t.Fatal(err)
	}
}
