package balance

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/internal/usage"
)

// opGen generates a varied, deterministic stream of ops against one
// partition: accounts created as it goes (across slab boundaries), top-ups,
// debits with counters, adjustments, buckets granted in front of buckets
// that reservations hold (their holds move), reservations of money and of
// units over several buckets, many open on one account (indexed),
// commits, releases, put_state writes and deletions, replays, and keys
// reused after their window (superseded records). Many ops fail; that is
// deterministic too.
type opGen struct {
	rng   *rand.Rand
	now   int64
	naccs int
	nkey  int
	open  [][2]string // reserved (account, reservation), maybe closed since
	keys  []Op        // ops applied, to retry or reuse keys
}

func newOpGen(seed uint64) *opGen {
	return &opGen{rng: rand.New(rand.NewPCG(seed, 7)), now: t0}
}

func (g *opGen) acct() string {
	if g.naccs == 0 || g.rng.IntN(30) == 0 {
		return "hot" // many reservations
	}
	return fmt.Sprint("acc-", g.rng.IntN(g.naccs))
}

func (g *opGen) next() Op {
	g.now += int64(g.rng.IntN(40)) * 1e6 // 0–40 ms of op time
	g.nkey++
	op := Op{Key: fmt.Sprint("k", g.nkey), Time: g.now, Account: g.acct()}
	switch k := g.rng.IntN(100); {
	case k < 8 || g.naccs < 50:
		op.Kind, op.AccountType, op.Currency, op.Status = KindOpenAccount, Prepaid, "EUR", Active
		if g.naccs > 0 && g.rng.IntN(4) == 0 {
			op.Status = AccountStatus(1 + g.rng.IntN(3)) // an update
		} else {
			op.Account = fmt.Sprint("acc-", g.naccs)
			g.naccs++
			if g.naccs == 1 {
				g.naccs++ // and "hot", below
			}
		}
		if g.rng.IntN(3) == 0 {
			op.AccountType, op.Currency = Postpaid, "USD"
		}
	case k < 20:
		op.Kind, op.Amount = KindTopUp, dec(fmt.Sprintf("%d.%02d", g.rng.IntN(50), g.rng.IntN(100)))
	case k < 28:
		op.Kind, op.Amount = KindDebit, dec(fmt.Sprintf("0.%02d", 1+g.rng.IntN(99)))
		if g.rng.IntN(2) == 0 {
			op.Counters = []Counter{{ID: fmt.Sprint("c", g.rng.IntN(3)), PeriodStart: g.now / (60 * sec) * 60 * sec, Units: 1, Amount: op.Amount}}
		}
	case k < 31:
		op.Kind, op.Amount, op.Reason = KindAdjust, dec(fmt.Sprintf("-%d.5", g.rng.IntN(3))), "fix"
	case k < 38:
		op.Kind = KindGrantBucket
		op.Bucket = Bucket{ID: fmt.Sprint("b", g.nkey), Unit: usage.Second, Units: uint64(5 + g.rng.IntN(30)), Priority: int32(g.rng.IntN(4))}
	case k < 58:
		op.Kind, op.Reservation, op.Expires = KindReserve, fmt.Sprint("r", g.nkey), g.now+int64(1+g.rng.IntN(20))*sec
		switch g.rng.IntN(3) {
		case 0:
			op.Amount = dec(fmt.Sprintf("0.%02d", 1+g.rng.IntN(99)))
		case 1:
			op.Unit, op.Units, op.Partial = usage.Second, uint64(1+g.rng.IntN(60)), true
		default:
			op.Amount, op.Unit, op.Units, op.Partial = dec("0.10"), usage.Second, uint64(1+g.rng.IntN(20)), true
		}
		g.open = append(g.open, [2]string{op.Account, op.Reservation})
	case k < 78 && len(g.open) > 0:
		i := g.rng.IntN(len(g.open))
		r := g.open[i]
		g.open[i] = g.open[len(g.open)-1]
		g.open = g.open[:len(g.open)-1]
		op.Account, op.Reservation = r[0], r[1]
		op.Kind = KindCommit
		if g.rng.IntN(3) == 0 {
			op.Kind = KindRelease
		} else {
			op.Amount = dec(fmt.Sprintf("0.0%d", g.rng.IntN(10)))
		}
	case k < 86:
		op.Kind, op.Name = KindPutState, fmt.Sprint("chf:", g.rng.IntN(40))
		if g.rng.IntN(4) != 0 {
			op.Data = []byte(fmt.Sprint("session ", g.nkey))
		}
	case k < 94 && len(g.keys) > 0:
		// A retry (replayed or a conflict), or, long after, a key reused
		// after its window.
		old := g.keys[g.rng.IntN(len(g.keys))]
		old.Time = g.now
		if old.Kind == KindTopUp && g.rng.IntN(2) == 0 {
			old.Amount = dec("1.23")
		}
		return old
	default:
		op.Kind, op.Amount = KindCredit, dec("0.01")
	}
	if len(g.keys) < 4000 {
		g.keys = append(g.keys, op)
	} else {
		g.keys[g.rng.IntN(len(g.keys))] = op
	}
	return op
}

// replayer applies logged ops to a state in order, with the expiry sweeps
// as the engine does them.
type replayer struct {
	s   *State
	log []Op
	n   int // ops of log applied
}

func (r *replayer) apply(op Op) {
	_, _, _ = r.s.Apply(&op, nil)
}

func (r *replayer) catchUp(upto int) {
	for ; r.n < upto; r.n++ {
		r.apply(r.log[r.n])
	}
}

// TestSnapshotWhileApplying encodes snapshots in another goroutine while
// the state's goroutine goes on applying ops, and checks each one byte for
// byte against the snapshot of a second state that applied exactly the
// ops before BeginSnapshot: a snapshot is the state at its Seq, nothing
// applied later leaks in, nothing is missing. Run with -race: the encoder
// must never read what Apply writes.
func TestSnapshotWhileApplying(t *testing.T) {
	opts := Options{IdemWindow: 20 * sec, IdemMax: 3000}
	g := newOpGen(1)
	live := &replayer{s: NewState(5, opts)}
	ref := &replayer{s: NewState(5, opts)}
	step := func() {
		op := g.next()
		if g.rng.IntN(50) == 0 {
			// The sweep: expire what is due, as the engine journals it.
			for _, e := range live.s.Due(op.Time, nil, 0) {
				live.log = append(live.log, e)
				live.apply(e)
				live.n++
			}
		}
		live.log = append(live.log, op)
		live.apply(op)
		live.n++
	}
	for range 2500 {
		step()
	}
	rounds := 40
	if testing.Short() {
		rounds = 10
	}
	copies, during := 0, 0
	for round := range rounds {
		for range 100 + g.rng.IntN(400) {
			step()
		}
		live.s.Seq = uint64(round + 1)
		at := live.n
		sn := live.s.BeginSnapshot()
		got := make(chan []byte)
		go func() { got <- sn.Encode(nil) }()
		var data []byte
		for data == nil {
			if live.s.snap == sn {
				copies = max(copies, len(sn.touched))
			}
			select {
			case data = <-got:
			default:
				step()
				during++
			}
		}
		for range 20 {
			step() // ends the snapshot (merges the put_state overlay)
		}
		if live.s.snap != nil {
			t.Fatal("the snapshot did not end")
		}
		if err := live.s.CheckInvariants(); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		ref.log = live.log
		ref.catchUp(at)
		ref.s.Seq = uint64(round + 1)
		want := ref.s.AppendSnapshot(nil)
		if !bytes.Equal(data, want) {
			t.Fatalf("round %d: the snapshot encoded while applying differs from the state at its seq (%d vs %d bytes)", round, len(data), len(want))
		}
		if _, err := LoadSnapshot(data, opts); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	// The live state, after all those snapshots, is the state of the ops.
	ref.log = live.log
	ref.catchUp(live.n)
	live.s.Seq, ref.s.Seq = 0, 0
	if !bytes.Equal(live.s.AppendSnapshot(nil), ref.s.AppendSnapshot(nil)) {
		t.Fatal("the state that was snapshotted while applying differs from its replay")
	}
	blobs := func(s *State) string {
		var b bytes.Buffer
		s.EachState(func(name, acct string, data []byte) { fmt.Fprintf(&b, "%s %s %s\n", name, acct, data) })
		return b.String()
	}
	if a, b := blobs(live.s), blobs(ref.s); a != b || a == "" {
		t.Fatalf("put_state blobs:\n%s\nreplayed:\n%s", a, b)
	}
	if copies == 0 || during == 0 {
		t.Fatalf("no op ran while encoding (%d ops, %d copies): the test tests nothing", during, copies)
	}
	t.Logf("%d ops applied while encoding; up to %d accounts copied in one snapshot", during, copies)
}

// TestTouchWaitsForEncoder drives the encoder's side of the protocol by
// hand: an op on the account the encoder is reading waits until it is
// done with it; an op on an account it has not reached leaves a copy it
// reads instead; an op on an account it passed copies nothing; put_state
// goes to the overlay, visible to EachState but not to the snapshot.
func TestTouchWaitsForEncoder(t *testing.T) {
	f := std(t) // accounts p (10.00) and q
	f.ok(openOp("r", Prepaid, "0"))
	f.ok(Op{Kind: KindTopUp, Account: "r", Amount: dec("5")})
	f.ok(Op{Kind: KindPutState, Account: "p", Name: "chf:x", Data: []byte("old")})
	s := f.s
	sn := s.BeginSnapshot()
	p, q, r := s.acct("p"), s.acct("q"), s.acct("r")
	if p.ord != 0 || q.ord != 1 || r.ord != 2 {
		t.Fatalf("creation order %d %d %d", p.ord, q.ord, r.ord)
	}
	// The encoder is done with p and reading q.
	sn.account(0, p)
	sn.accountDone(0)
	if got := sn.account(1, q); got != q {
		t.Fatal("the encoder reads a copy of an untouched account")
	}
	qBefore := q.balance
	applied := make(chan error)
	go func() {
		op := Op{Kind: KindTopUp, Key: "tq", Account: "q", Amount: dec("1"), Time: f.now}
		_, _, err := s.Apply(&op, nil)
		applied <- err
	}()
	select {
	case err := <-applied:
		t.Fatalf("an op changed the account the encoder was reading (%v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	if !q.balance.Equal(qBefore) { // the race detector checks this read too
		t.Fatal("q changed under the encoder")
	}
	sn.accountDone(1)
	if err := <-applied; err != nil {
		t.Fatal(err)
	}
	// r, not reached yet: the op leaves a copy as of BeginSnapshot.
	f.ok(Op{Kind: KindDebit, Account: "r", Amount: dec("2")})
	if got := sn.account(2, r); got == r || !got.balance.Equal(dec("5")) || !r.balance.Equal(dec("3")) {
		t.Fatalf("encoder reads %s (live %s), want the copy at 5", got.balance, r.balance)
	}
	sn.accountDone(2)
	// p, passed: no copy.
	f.ok(Op{Kind: KindDebit, Account: "p", Amount: dec("1")})
	if p.frozen.Load() != nil {
		t.Fatal("an account the encoder passed was copied")
	}
	// put_state during the snapshot: EachState sees it, the frozen map not.
	f.ok(Op{Kind: KindPutState, Account: "p", Name: "chf:x", Data: []byte("new")})
	f.ok(Op{Kind: KindPutState, Account: "q", Name: "chf:y", Data: []byte("y")})
	var seen []string
	s.EachState(func(name, _ string, data []byte) { seen = append(seen, name+"="+string(data)) })
	if fmt.Sprint(seen) != "[chf:x=new chf:y=y]" {
		t.Fatalf("EachState during a snapshot: %v", seen)
	}
	if len(sn.blobs) != 1 || string(sn.blobs["chf:x"].data) != "old" {
		t.Fatalf("the snapshot's blobs changed: %v", sn.blobs)
	}
	sn.finish()
	f.ok(Op{Kind: KindPutState, Account: "p", Name: "chf:x"}) // ends the snapshot, then deletes
	if s.snap != nil || r.frozen.Load() != nil || s.idem.frozen {
		t.Fatal("the snapshot did not end")
	}
	seen = nil
	s.EachState(func(name, _ string, data []byte) { seen = append(seen, name+"="+string(data)) })
	if fmt.Sprint(seen) != "[chf:y=y]" {
		t.Fatalf("EachState after the snapshot: %v", seen)
	}
}

// TestIdemFreeze: while frozen, the key table writes no chunk of the
// view; the view still reads every record and string as they were, also
// after the ring and the arena came round over them and grew.
func TestIdemFreeze(t *testing.T) {
	var tb idemTable
	o := Options{IdemWindow: 1 << 62, IdemMax: 2500}
	tb.init(0, o)
	rec := func(i int, acct string) {
		k := fmt.Sprint("key-", i)
		res := Result{Kind: KindDebit, Account: acct, Reservation: fmt.Sprint("res-", i)}
		tb.record(k, keyHash(k), uint64(i), int64(i+1), &res, o, 0, false)
	}
	for i := range 3000 {
		rec(i, "a")
	}
	dump := func(v *idemView) string {
		var b bytes.Buffer
		v.live(1<<61, o, func(r *idemRec) {
			fmt.Fprintf(&b, "%s %s %s %d|", v.arena.keyOf(r), v.arena.accountOf(r), v.arena.reservationOf(r), r.hash)
		})
		return b.String()
	}
	v := tb.freeze()
	before := dump(&v)
	// Supersede an old record, then go round the ring twice with longer
	// strings (the arena grows), so every chunk of the view is written.
	k := "key-600"
	pos, ok := tb.find(k, keyHash(k))
	if !ok {
		t.Fatal("key-600 not found")
	}
	res := Result{Kind: KindCredit, Account: "b"}
	tb.record(k, keyHash(k), 1, 1<<40, &res, o, pos, true)
	for i := 3000; i < 8000; i++ {
		rec(i, fmt.Sprint("a-much-longer-account-id-", i))
	}
	if after := dump(&v); after != before {
		t.Fatal("the frozen view changed")
	}
	for i, c := range v.ring {
		if c == tb.ring[i%len(tb.ring)] {
			t.Fatalf("ring chunk %d is shared after being written", i)
		}
	}
	tb.thaw()
	if err := tb.check(o); err != nil {
		t.Fatal(err)
	}
	if tb.len() != 2500 {
		t.Fatalf("%d keys", tb.len())
	}
}

// partitionState is one partition of a 1 M-account node (32 partitions):
// 31,000 accounts (every 10th with a bucket, every 20th with an open
// reservation) and a full idempotency table of 65,536 keys (the serve
// default), after a reserve/commit load.
func partitionState(tb testing.TB) (*State, func(i int)) {
	s := NewState(0, Options{IdemMax: 1 << 16, IdemPresize: true})
	now := t0
	apply := func(op Op) {
		op.Time = now
		now += 10_000
		if _, _, err := s.Apply(&op, nil); err != nil {
			tb.Fatalf("%s %s: %v", op.Kind, op.Key, err)
		}
	}
	ids := make([]string, 31_000)
	for i := range ids {
		id := fmt.Sprintf("acc-%08d", i*32)
		ids[i] = id
		apply(Op{Kind: KindOpenAccount, Key: "o" + id, Account: id, AccountType: Prepaid, Currency: "EUR", Status: Active})
		apply(Op{Kind: KindTopUp, Key: "t" + id, Account: id, Amount: dec("1000.00")})
		if i%10 == 0 {
			apply(Op{Kind: KindGrantBucket, Key: "g" + id, Account: id, Bucket: Bucket{ID: "data-06", Unit: usage.Byte, Units: 10 << 30, ValidUntil: t0 + 30*24*3600*sec}})
		}
		if i%20 == 0 {
			apply(Op{Kind: KindReserve, Key: "r" + id, Account: id, Reservation: "sess-" + id, Amount: dec("0.50"), Expires: now + 3600*sec})
		}
	}
	pair := func(i int) {
		id := ids[(i*7919)%len(ids)]
		apply(Op{Kind: KindReserve, Key: fmt.Sprint("bench-r-", i), Account: id, Reservation: fmt.Sprint("rs-", i), Amount: dec("0.20"), Expires: now + 60*sec})
		apply(Op{Kind: KindCommit, Key: fmt.Sprint("bench-c-", i), Account: id, Reservation: fmt.Sprint("rs-", i), Amount: dec("0.05")})
	}
	for i := range 40_000 {
		pair(i)
	}
	if s.IdemKeys() != 1<<16 {
		tb.Fatalf("%d keys", s.IdemKeys())
	}
	return s, pair
}

// BenchmarkSnapshotPause measures what a snapshot costs the partition
// goroutine of one partition of a 1 M-account node:
//
//   - encode: AppendSnapshot, the whole encoding (what the goroutine used
//     to spend; now the background encoder's work);
//   - begin: BeginSnapshot, the pause the goroutine takes now;
//   - ops-while-encoding: reserve/commit pairs applied while another
//     goroutine encodes (copies of touched accounts and key chunks
//     included), against the same pairs without a snapshot.
func BenchmarkSnapshotPause(b *testing.B) {
	s, pair := partitionState(b)
	next := 40_000
	b.Run("encode", func(b *testing.B) {
		buf := s.AppendSnapshot(nil)
		b.ReportMetric(float64(len(buf)), "bytes")
		for b.Loop() {
			buf = s.AppendSnapshot(buf[:0])
		}
	})
	b.Run("begin", func(b *testing.B) {
		var pause time.Duration
		for b.Loop() {
			start := time.Now()
			sn := s.BeginSnapshot()
			pause += time.Since(start)
			b.StopTimer()
			sn.Encode(nil)
			s.endSnapshot()
			b.StartTimer()
		}
		b.ReportMetric(float64(pause.Nanoseconds())/float64(b.N), "pause-ns")
	})
	b.Run("ops-while-encoding", func(b *testing.B) {
		var during, idle []time.Duration
		for b.Loop() {
			sn := s.BeginSnapshot()
			done := make(chan struct{})
			go func() { sn.Encode(nil); close(done) }()
			for encoding := true; encoding; {
				select {
				case <-done:
					encoding = false
				default:
				}
				start := time.Now()
				pair(next)
				next++
				during = append(during, time.Since(start))
			}
			for range 200 {
				start := time.Now()
				pair(next)
				next++
				idle = append(idle, time.Since(start))
			}
		}
		pct := func(ds []time.Duration, q float64) float64 {
			slices.Sort(ds)
			return float64(ds[int(q*float64(len(ds)-1))].Nanoseconds()) / 1e3
		}
		b.ReportMetric(float64(len(during))/float64(b.N), "pairs-while-encoding")
		b.ReportMetric(pct(during, 0.5), "p50-µs-while")
		b.ReportMetric(pct(during, 0.99), "p99-µs-while")
		b.ReportMetric(pct(during, 1), "max-µs-while")
		b.ReportMetric(pct(idle, 0.5), "p50-µs-idle")
		b.ReportMetric(pct(idle, 0.99), "p99-µs-idle")
		b.ReportMetric(pct(idle, 1), "max-µs-idle")
	})
}
