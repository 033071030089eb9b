package balance

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"reflect"
	"runtime"
	"sync"
	"testing"

	"github.com/tollgate-billing/tollgate/internal/usage"
)

// richState has every kind of content: both account types, buckets in
// several units and orders, reservations with money, units over several
// buckets (beyond the inline holds), an account with an indexed
// reservation set, a below-floor account and idempotency keys.
func richState(t testing.TB) *State {
	t.Helper()
	f := &fixture{t: t.(*testing.T), s: NewState(9, Options{}), now: t0}
	f.ok(openOp("p", Prepaid, "2"))
	f.ok(openOp("q", Postpaid, "0"))
	f.ok(Op{Kind: KindOpenAccount, Account: "y", AccountType: Prepaid, Currency: "JPY", Status: Suspended})
	f.ok(Op{Kind: KindTopUp, Account: "p", Amount: dec("10.25")})
	for i := range 5 {
		f.ok(Op{Kind: KindGrantBucket, Account: "p", Bucket: Bucket{ID: fmt.Sprint("s", i), Unit: usage.Second, Units: 10, Priority: int32(5 - i), ValidUntil: t0 + int64(i+1)*3600*sec}})
	}
	f.ok(Op{Kind: KindGrantBucket, Account: "p", Bucket: Bucket{ID: "data", Unit: usage.Byte, Units: 1 << 40, ValidFrom: t0 - sec}})
	f.ok(Op{Kind: KindReserve, Account: "p", Reservation: "multi", Unit: usage.Second, Units: 35, Amount: dec("1.5"), Expires: t0 + 600*sec})
	f.ok(Op{Kind: KindReserve, Account: "p", Reservation: "data", Unit: usage.Byte, Units: 1 << 20, Expires: t0 + 60*sec})
	for i := range 20 {
		f.ok(reserveOp("q", fmt.Sprint("q", i), "0.01", 0))
	}
	f.ok(openOp("low", Prepaid, "0"))
	f.ok(Op{Kind: KindAdjust, Account: "low", Amount: dec("-3"), Reason: "chargeback"})
	f.now += sec
	f.ok(Op{Kind: KindCommit, Key: "commit-q3", Account: "q", Reservation: "q3", Amount: dec("0.005")})
	return f.s
}

func TestSnapshotRoundTrip(t *testing.T) {
	s := richState(t)
	s.Seq = 12345
	snap := s.AppendSnapshot(nil)
	s2, err := LoadSnapshot(snap, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
	if s2.Seq != 12345 || s2.Partition != 9 || s2.Accounts() != s.Accounts() || s2.Reservations() != s.Reservations() || s2.IdemKeys() != s.IdemKeys() {
		t.Fatalf("loaded: seq %d part %d accounts %d res %d keys %d", s2.Seq, s2.Partition, s2.Accounts(), s2.Reservations(), s2.IdemKeys())
	}
	if again := s2.AppendSnapshot(nil); !bytes.Equal(again, snap) {
		t.Fatal("snapshot of the loaded state differs")
	}
	for _, id := range []string{"p", "q", "y", "low"} {
		v1, _ := s.AccountView(id)
		v2, _ := s2.AccountView(id)
		if !reflect.DeepEqual(v1, v2) {
			t.Fatalf("%s:\n%+v\n%+v", id, v1, v2)
		}
	}
	// Remembered keys survive: a retry is replayed, a conflict detected.
	retry := Op{Kind: KindCommit, Key: "commit-q3", Account: "q", Reservation: "q3", Amount: dec("0.005"), Time: t0 + 2*sec}
	if res, _, err := s2.Apply(&retry, nil); err != nil || !res.Replayed || !res.DebitedAmount.Equal(dec("0.005")) {
		t.Fatalf("retry after load: %+v %v", res, err)
	}
	retry.Amount = dec("0.006")
	if _, _, err := s2.Apply(&retry, nil); !errors.Is(err, ErrKeyConflict) {
		t.Fatalf("conflict after load: %v", err)
	}
	// The wheel was rebuilt.
	if due := s2.Due(t0+600*sec, nil, 0); len(due) != 21 {
		t.Fatalf("%d due after load", len(due))
	}
	// An empty state round-trips too.
	e, err := LoadSnapshot(NewState(2, Options{}).AppendSnapshot(nil), Options{})
	if err != nil || e.Accounts() != 0 || e.Partition != 2 {
		t.Fatalf("empty: %v", err)
	}
}

func TestSnapshotForgetsStaleKeys(t *testing.T) {
	s := NewState(0, Options{IdemWindow: 10 * sec})
	ops := []Op{
		{Kind: KindOpenAccount, Key: "open", Account: "a", AccountType: Postpaid, Currency: "EUR", Status: Active, Time: t0},
		{Kind: KindTopUp, Key: "t1", Account: "a", Amount: dec("1"), Time: t0 + 5*sec},
		{Kind: KindOpenAccount, Key: "open2", Account: "b", AccountType: Postpaid, Currency: "EUR", Status: Active, Time: t0 + 12*sec},
	}
	for i := range ops {
		if _, _, err := s.Apply(&ops[i], nil); err != nil {
			t.Fatal(err)
		}
	}
	s2, err := LoadSnapshot(s.AppendSnapshot(nil), Options{IdemWindow: 10 * sec})
	if err != nil {
		t.Fatal(err)
	}
	if s2.IdemKeys() != 2 { // "open" is outside the window at t0+12s
		t.Fatalf("%d keys", s2.IdemKeys())
	}
}

// reseal recomputes the checksum of a snapshot after a test changed it.
func reseal(snap []byte) []byte {
	body := snap[:len(snap)-4]
	return binary.LittleEndian.AppendUint32(append([]byte(nil), body...), crc32.Checksum(body, castagnoli))
}

func TestLoadSnapshotCorrupt(t *testing.T) {
	snap := richState(t).AppendSnapshot(nil)
	for i := range snap {
		c := append([]byte(nil), snap...)
		c[i] ^= 0x10
		if _, err := LoadSnapshot(c, Options{}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("byte %d flipped: %v", i, err)
		}
	}
	for n := range len(snap) {
		if _, err := LoadSnapshot(snap[:n], Options{}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("truncated to %d: %v", n, err)
		}
	}
	// With a valid checksum, structural damage is still found (and never
	// panics): flip every byte of the body and reseal.
	loaded := 0
	for i := 5; i < len(snap)-4; i++ {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			c := append([]byte(nil), snap...)
			c[i] ^= x
			s, err := LoadSnapshot(reseal(c), Options{})
			if err != nil {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("byte %d: %v", i, err)
				}
				continue
			}
			loaded++
			if err := s.CheckInvariants(); err != nil {
				t.Fatalf("byte %d ^ %#x: loaded an inconsistent state: %v", i, x, err)
			}
		}
	}
	t.Logf("%d of %d resealed mutations still load (consistently)", loaded, 3*(len(snap)-9))
}

// FuzzLoadSnapshot reseals its input, so it exercises the parser rather
// than the checksum: no panic, and whatever loads is consistent and
// re-snapshots stably.
func FuzzLoadSnapshot(f *testing.F) {
	f.Add(NewState(0, Options{}).AppendSnapshot(nil))
	s := NewState(1, Options{})
	for i, op := range []Op{
		{Kind: KindOpenAccount, Key: "o", Account: "a", AccountType: Prepaid, Currency: "EUR", Status: Active},
		{Kind: KindTopUp, Key: "t", Account: "a", Amount: dec("5")},
		{Kind: KindGrantBucket, Key: "g", Account: "a", Bucket: Bucket{ID: "b", Unit: usage.Second, Units: 60}},
		{Kind: KindReserve, Key: "r", Account: "a", Reservation: "r", Amount: dec("1"), Unit: usage.Second, Units: 30, Expires: t0 + sec},
	} {
		op.Time = t0 + int64(i)
		if _, _, err := s.Apply(&op, nil); err != nil {
			f.Fatal(err)
		}
	}
	f.Add(s.AppendSnapshot(nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 4 {
			return
		}
		st, err := LoadSnapshot(reseal(data), Options{})
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if err := st.CheckInvariants(); err != nil {
			t.Fatalf("inconsistent state loaded: %v", err)
		}
		snap := st.AppendSnapshot(nil)
		st2, err := LoadSnapshot(snap, Options{})
		if err != nil {
			t.Fatalf("re-snapshot does not load: %v", err)
		}
		if !bytes.Equal(st2.AppendSnapshot(nil), snap) {
			t.Fatal("snapshot not stable")
		}
	})
}

// bigState builds (once) a partition of n accounts as the engine would:
// every account opened and topped up, every 10th with a data bucket, every
// 20th with an open reservation.
var bigStates sync.Map

func cachedBigState(tb testing.TB, n int) *State {
	if s, ok := bigStates.Load(n); ok {
		return s.(*State)
	}
	s := bigState(tb, n)
	return s
}

func bigState(tb testing.TB, n int) *State {
	s := NewState(0, Options{})
	now := t0
	apply := func(op Op) {
		op.Time = now
		now += 10_000 // 100k ops/s
		if _, _, err := s.Apply(&op, nil); err != nil {
			tb.Fatalf("%s %s: %v", op.Kind, op.Key, err)
		}
	}
	for i := range n {
		id := fmt.Sprintf("imsi-26201%010d", i)
		apply(Op{Kind: KindOpenAccount, Key: "o" + id, Account: id, AccountType: Prepaid, Currency: "EUR", Status: Active})
		apply(Op{Kind: KindTopUp, Key: "t" + id, Account: id, Amount: dec("1000.00")})
		if i%10 == 0 {
			apply(Op{Kind: KindGrantBucket, Key: "g" + id, Account: id, Bucket: Bucket{ID: "data-06", Unit: usage.Byte, Units: 10 << 30, ValidUntil: t0 + 30*24*3600*sec}})
		}
		if i%20 == 0 {
			apply(Op{Kind: KindReserve, Key: "r" + id, Account: id, Reservation: "sess-" + id, Amount: dec("0.50"), Expires: now + 3600*sec})
		}
	}
	return s
}

// BenchmarkSnapshot1M encodes and decodes a partition of 1,000,000
// accounts (the ≤ 5 s recovery target covers 1 M accounts in total).
func BenchmarkSnapshot1M(b *testing.B) {
	const n = 1_000_000
	s := cachedBigState(b, n)
	snap := s.AppendSnapshot(nil)
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(snap)))
		buf := make([]byte, 0, len(snap))
		for b.Loop() {
			buf = s.AppendSnapshot(buf[:0])
		}
		b.ReportMetric(float64(len(snap))/n, "bytes/account")
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "accounts/s")
	})
	// The same accounts without idempotency keys (all stale), to show the
	// cost of each part: a partition that served 100k ops/s for the
	// window has a full key table.
	st, err := LoadSnapshot(snap, Options{})
	if err != nil {
		b.Fatal(err)
	}
	st.EvictIdem(st.lastTime + DefaultIdemWindow)
	noKeys := st.AppendSnapshot(nil)
	st = nil
	for _, c := range []struct {
		name string
		snap []byte
	}{{"decode", snap}, {"decode-accounts-only", noKeys}} {
		b.Run(c.name, func(b *testing.B) {
			runtime.GC()
			b.ReportAllocs()
			b.SetBytes(int64(len(c.snap)))
			for b.Loop() {
				st, err := LoadSnapshot(c.snap, Options{})
				if err != nil || st.Accounts() != n {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(c.snap))/n, "bytes/account")
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "accounts/s")
		})
	}
}

// BenchmarkApplyReserveCommit is the hot path of online charging: a
// reserve and a commit on random accounts of a partition (10 k accounts:
// in cache; 1 M: mostly not), with the idempotency table at its steady
// state (full). One iteration is two ops.
func BenchmarkApplyReserveCommit(b *testing.B) {
	for _, n := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprint("accounts=", n), func(b *testing.B) { benchReserveCommit(b, n) })
	}
}

func benchReserveCommit(b *testing.B, n int) {
	s := bigState(b, n) // fresh: the benchmark drains balances and uses keys up
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("imsi-26201%010d", i)
	}
	// Distinct keys for 2^20 iterations: with IdemMax 2^20 keys, a key is
	// forgotten (by count) before it comes round again.
	const keys = 1 << 20
	ks := make([]string, 2*keys)
	rs := make([]string, keys)
	for i := range rs {
		ks[2*i], ks[2*i+1] = fmt.Sprint("sess", i, ":1"), fmt.Sprint("sess", i, ":2")
		rs[i] = fmt.Sprint("rg", i)
	}
	amount, used := dec("0.20"), dec("0.05")
	now := s.lastTime
	var entries []Entry
	rng := uint64(1)
	i := 0
	apply := func() {
		rng = rng*6364136223846793005 + 1442695040888963407
		acct := ids[(rng>>33)%uint64(n)]
		k := i % keys
		now += 10_000 // 100k ops/s of op time
		res := Op{Kind: KindReserve, Key: ks[2*k], Account: acct, Reservation: rs[k], Amount: amount, Expires: now + 60*sec, Time: now}
		if _, _, err := s.Apply(&res, entries[:0]); err != nil {
			b.Fatal(err)
		}
		com := Op{Kind: KindCommit, Key: ks[2*k+1], Account: acct, Reservation: rs[k], Amount: used, Time: now + 1}
		var err error
		if _, entries, err = s.Apply(&com, entries[:0]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	// Fill the idempotency table to IdemMax first (steady state).
	for s.IdemKeys() < DefaultIdemMax {
		apply()
	}
	runtime.GC()
	b.ReportAllocs()
	for b.Loop() {
		apply()
	}
	b.ReportMetric(2*float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkGCWith1M measures what a garbage collection costs with a
// partition state of 1 M accounts alive: the wall time of a full cycle
// (runtime.GC, all Ps marking) and the heap objects it has to trace. Under
// load the same marking runs beside the partitions for hundreds of
// milliseconds (docs/benchmarks.md, session 5): fewer pointers in the
// account state make it shorter.
func BenchmarkGCWith1M(b *testing.B) {
	s := cachedBigState(b, 1_000_000)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	for b.Loop() {
		runtime.GC()
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/gc")
	b.ReportMetric(float64(ms.HeapObjects), "heap-objects")
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MiB")
	runtime.KeepAlive(s)
}
