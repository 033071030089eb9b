package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/internal/account"
	"github.com/tollgate-billing/tollgate/internal/balance"
	"github.com/tollgate-billing/tollgate/internal/money"
	"github.com/tollgate-billing/tollgate/internal/servicetest"
)

// ledgerT0 is the time of the first generated entry.
var ledgerT0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano()

// genLedger returns nrec records from seq on, each with perRec debit
// entries spread round-robin over accounts "acc-0" … and 1 ms apart.
func genLedger(seq uint64, nrec, perRec, accounts int) []LedgerRecord {
	recs := make([]LedgerRecord, nrec)
	for r := range recs {
		s := seq + uint64(r)
		es := make([]balance.Entry, perRec)
		for i := range es {
			n := int64(s)*int64(perRec) + int64(i)
			es[i] = balance.Entry{
				Account:   fmt.Sprintf("acc-%d", n%int64(accounts)),
				Kind:      balance.KindDebit,
				Key:       fmt.Sprintf("cdr-%d", n),
				Time:      ledgerT0 + n*int64(time.Millisecond),
				Asset:     balance.AssetMoney,
				Delta:     money.MustParse("-0.0125"),
				Balance:   money.MustParse("99.9875"),
				HeldDelta: money.MustParse("0"),
				Held:      money.MustParse("0"),
			}
		}
		recs[r] = LedgerRecord{JournalSeq: s, Partition: int(s % 4), Entries: es}
	}
	return recs
}

func mustApply(t testing.TB, s *Store, name string, recs []LedgerRecord) {
	t.Helper()
	if err := s.ApplyLedger(ctx, name, recs); err != nil {
		t.Fatalf("ApplyLedger: %v", err)
	}
}

func wantLedger(t *testing.T, s *Store, name string, count int64, offset uint64) {
	t.Helper()
	if n, err := s.LedgerCount(ctx); err != nil || n != count {
		t.Errorf("LedgerCount = %d, %v; want %d", n, err, count)
	}
	if o, err := s.ProjectionOffset(ctx, name); err != nil || o != offset {
		t.Errorf("ProjectionOffset(%s) = %d, %v; want %d", name, o, err, offset)
	}
}

func TestLedgerApplyIdempotent(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		s := db.open(t)
		wantLedger(t, s, "ledger", 0, 0)
		recs := genLedger(1, 3, 4, 2)
		mustApply(t, s, "ledger", recs)
		wantLedger(t, s, "ledger", 12, 3)
		// Redelivery of everything, of a part, and an empty call.
		mustApply(t, s, "ledger", recs)
		mustApply(t, s, "ledger", recs[1:2])
		mustApply(t, s, "ledger", nil)
		wantLedger(t, s, "ledger", 12, 3)
		// Another projection name has its own offset.
		wantLedger(t, s, "other", 12, 0)
		mustApply(t, s, "other", recs[:1])
		wantLedger(t, s, "other", 12, 1)
		wantLedger(t, s, "ledger", 12, 3)
		// A record without entries still advances the offset.
		mustApply(t, s, "ledger", []LedgerRecord{{JournalSeq: 4, Partition: 1}})
		wantLedger(t, s, "ledger", 12, 4)
	})
}

func TestLedgerOutOfOrderAndOverlap(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		s := db.open(t)
		all := genLedger(1, 10, 3, 3)
		steps := []struct {
			recs   []LedgerRecord
			count  int64
			offset uint64
		}{
			{all[4:6], 6, 6},                         // 5, 6
			{all[2:5], 12, 6},                        // 3, 4, 5: offset stays at 6
			{append(all[0:2:2], all[5:7]...), 21, 7}, // 1, 2, 6, 7
			{[]LedgerRecord{all[9], all[7], all[8], all[9]}, 30, 10},
			{all, 30, 10},
		}
		for i, st := range steps {
			mustApply(t, s, "ledger", st.recs)
			t.Run(fmt.Sprint("step", i), func(t *testing.T) { wantLedger(t, s, "ledger", st.count, st.offset) })
		}
		sums, err := s.LedgerSums(ctx, "acc-1")
		if err != nil {
			t.Fatal(err)
		}
		if got := sums[balance.AssetMoney].Count; got != 10 {
			t.Errorf("acc-1 entries = %d, want 10", got)
		}
	})
}

func TestLedgerConflictingContent(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		s := db.open(t)
		recs := genLedger(1, 2, 2, 1)
		mustApply(t, s, "ledger", recs)
		for _, tc := range []struct {
			field  string
			mutate func(r *LedgerRecord)
		}{
			{"delta", func(r *LedgerRecord) { r.Entries[1].Delta = money.MustParse("-0.0126") }},
			{"account_id", func(r *LedgerRecord) { r.Entries[0].Account = "someone-else" }},
			{"partition", func(r *LedgerRecord) { r.Partition++ }},
			{"time", func(r *LedgerRecord) { r.Entries[0].Time++ }},
		} {
			bad := LedgerRecord{JournalSeq: recs[1].JournalSeq, Partition: recs[1].Partition,
				Entries: append([]balance.Entry(nil), recs[1].Entries...)}
			tc.mutate(&bad)
			// A new record in the same call must not be applied either.
			err := s.ApplyLedger(ctx, "ledger", []LedgerRecord{genLedger(3, 1, 2, 1)[0], bad})
			wantErr(t, err, ErrConflict, tc.field, "journal_seq 2")
			wantLedger(t, s, "ledger", 4, 2)
		}
		// The same position with equal values of a different scale is the
		// same entry.
		same := LedgerRecord{JournalSeq: recs[0].JournalSeq, Partition: recs[0].Partition,
			Entries: append([]balance.Entry(nil), recs[0].Entries...)}
		same.Entries[0].Delta = money.MustParse("-0.012500")
		mustApply(t, s, "ledger", []LedgerRecord{same})
		wantLedger(t, s, "ledger", 4, 2)
	})
}

func TestLedgerBadInput(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		s := db.open(t)
		wantErr(t, s.ApplyLedger(ctx, "", genLedger(1, 1, 1, 1)), account.ErrInvalid, "name")
		wantErr(t, s.ApplyLedger(ctx, "ledger", []LedgerRecord{{JournalSeq: 0}}), account.ErrInvalid, "journal_seq")
		wantErr(t, s.ApplyLedger(ctx, "ledger", []LedgerRecord{{JournalSeq: 1 << 63}}), account.ErrInvalid, "journal_seq")
		for _, q := range []LedgerQuery{
			{},
			{Account: "a", Limit: -1},
			{Account: "a", Limit: MaxLimit + 1},
			{Account: "a", After: "garbage!"},
			{Account: "a", After: "djE6MTox"}, // "v1:1:1"
			{Account: "a", From: time.Unix(10, 0), To: time.Unix(10, 0)},
		} {
			_, _, err := s.Ledger(ctx, q)
			if !errors.Is(err, account.ErrInvalid) {
				t.Errorf("Ledger(%+v) error = %v, want ErrInvalid", q, err)
			}
		}
		wantLedger(t, s, "ledger", 0, 0)
	})
}

func TestLedgerExactValues(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		s := db.open(t)
		amounts := []string{"12.3456789", "0", "0.00", "-0.000000000000000001", "9223372036854775807",
			"-92233720368.54775807", "1000000.01", "-1.50"}
		at := time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC).UnixNano() // nanoseconds survive
		var es []balance.Entry
		for i, a := range amounts {
			es = append(es, balance.Entry{
				Account: "exact", Kind: balance.KindAdjust, Key: fmt.Sprintf("adj-%d", i), Time: at + int64(i),
				Reservation: "res-é-" + a, Asset: "bucket:b-1", Reason: "operator's reason ✓ 'quoted' ?",
				Delta: money.MustParse(a), Balance: money.MustParse(a), HeldDelta: money.MustParse(a), Held: money.MustParse(a),
			})
		}
		mustApply(t, s, "ledger", []LedgerRecord{{JournalSeq: 1 << 62, Partition: 7, Entries: es}})
		rows, next, err := s.Ledger(ctx, LedgerQuery{Account: "exact"})
		if err != nil || next != "" || len(rows) != len(amounts) {
			t.Fatalf("Ledger = %d rows, next %q, %v", len(rows), next, err)
		}
		for i, r := range rows {
			e := es[i]
			want := LedgerRow{JournalSeq: 1 << 62, Index: i, Partition: 7, Account: e.Account, Kind: "adjust", Key: e.Key,
				Time: time.Unix(0, e.Time).UTC(), Reservation: e.Reservation, Asset: e.Asset,
				Delta: e.Delta, Balance: e.Balance, HeldDelta: e.HeldDelta, Held: e.Held, Reason: e.Reason}
			if r != want {
				t.Errorf("row %d = %+v\nwant %+v", i, r, want)
			}
			for _, d := range []money.Decimal{r.Delta, r.Balance, r.HeldDelta, r.Held} {
				if d.String() != amounts[i] {
					t.Errorf("row %d amount %q, want %q (scale kept)", i, d, amounts[i])
				}
			}
		}
	})
}

func TestLedgerPaging(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		s := db.open(t)
		// 2 accounts, 60 entries, acc-0 at even ms 0, 2, …, 58 (30 entries).
		mustApply(t, s, "ledger", genLedger(0+1, 20, 3, 2))
		base := time.Unix(0, ledgerT0).UTC()
		ms := func(n int) time.Time { return base.Add(time.Duration(n) * time.Millisecond) }
		// Entry n has time ledgerT0 + n ms where n = seq*3 + idx (seq from 1).
		// acc-0 holds the even n in 3..62: 4, 6, …, 62.
		var all []LedgerRow
		cursor := ""
		for page := 0; ; page++ {
			rows, next, err := s.Ledger(ctx, LedgerQuery{Account: "acc-0", Limit: 7, After: cursor})
			if err != nil {
				t.Fatal(err)
			}
			if page == 1 {
				// Entries added meanwhile, all later than the cursor, show up
				// once, in order.
				mustApply(t, s, "ledger", genLedger(21, 2, 3, 2))
			}
			all = append(all, rows...)
			if next == "" {
				if len(rows) > 7 {
					t.Fatalf("last page has %d rows", len(rows))
				}
				break
			}
			if len(rows) != 7 {
				t.Fatalf("page %d has %d rows", page, len(rows))
			}
			cursor = next
		}
		if len(all) != 33 {
			t.Fatalf("paged %d entries, want 33", len(all))
		}
		for i, r := range all {
			if want := ms(4 + 2*i); !r.Time.Equal(want) || r.Account != "acc-0" {
				t.Fatalf("entry %d: %s at %v, want acc-0 at %v", i, r.Account, r.Time, want)
			}
		}
		// Time range [10 ms, 20 ms): 10, 12, 14, 16, 18, in pages of 2.
		var got []string
		cursor = ""
		for {
			rows, next, err := s.Ledger(ctx, LedgerQuery{Account: "acc-0", From: ms(10), To: ms(20), Limit: 2, After: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				got = append(got, r.Key)
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if want := "cdr-10 cdr-12 cdr-14 cdr-16 cdr-18"; strings.Join(got, " ") != want {
			t.Errorf("range page keys = %v, want %s", got, want)
		}
		// Open-ended ranges and an exact last page.
		if rows, next, err := s.Ledger(ctx, LedgerQuery{Account: "acc-0", From: ms(60)}); err != nil || len(rows) != 5 || next != "" {
			t.Errorf("from 60ms: %d rows, next %q, %v", len(rows), next, err)
		}
		if rows, next, err := s.Ledger(ctx, LedgerQuery{Account: "acc-0", To: ms(8), Limit: 2}); err != nil || len(rows) != 2 || next != "" {
			t.Errorf("to 8ms: %d rows, next %q, %v", len(rows), next, err)
		}
		if rows, _, err := s.Ledger(ctx, LedgerQuery{Account: "nobody"}); err != nil || len(rows) != 0 {
			t.Errorf("unknown account: %d rows, %v", len(rows), err)
		}
		// Same-time entries are ordered by (journal_seq, idx).
		same := []balance.Entry{{Account: "tie", Time: 5, Delta: money.FromInt(1), Asset: balance.AssetMoney},
			{Account: "tie", Time: 5, Delta: money.FromInt(2), Asset: balance.AssetMoney}}
		mustApply(t, s, "ledger", []LedgerRecord{{JournalSeq: 101, Entries: same}, {JournalSeq: 100, Entries: same}})
		var order []string
		cursor = ""
		for {
			rows, next, err := s.Ledger(ctx, LedgerQuery{Account: "tie", Limit: 1, After: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				order = append(order, fmt.Sprintf("%d/%d", r.JournalSeq, r.Index))
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if want := "100/0 100/1 101/0 101/1"; strings.Join(order, " ") != want {
			t.Errorf("tie order = %v, want %s", order, want)
		}
	})
}

func TestLedgerSums(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		s := db.open(t)
		d := money.MustParse
		entry := func(asset, delta, bal, hdelta, held string) balance.Entry {
			return balance.Entry{Account: "acc", Asset: asset, Delta: d(delta), Balance: d(bal), HeldDelta: d(hdelta), Held: d(held)}
		}
		mustApply(t, s, "ledger", []LedgerRecord{
			{JournalSeq: 1, Entries: []balance.Entry{entry("money", "100.00", "100.00", "0", "0"), entry("bucket:b1", "500", "500", "0", "0")}},
			{JournalSeq: 2, Entries: []balance.Entry{entry("money", "0", "100.00", "10.5", "10.5")}},
			// Applied out of order: the last entry is by journal position.
			{JournalSeq: 4, Entries: []balance.Entry{entry("money", "-0.001", "89.549", "0", "0"), entry("bucket:b1", "-20", "480", "0", "0")}},
			{JournalSeq: 3, Entries: []balance.Entry{entry("money", "-10.45", "89.55", "-10.5", "0")}},
			{JournalSeq: 5, Entries: []balance.Entry{{Account: "other", Asset: "money", Delta: d("1"), Balance: d("1")}}},
		})
		sums, err := s.LedgerSums(ctx, "acc")
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]LedgerSum{
			"money":     {Delta: d("89.549"), HeldDelta: d("0"), Count: 4, Balance: d("89.549"), Held: d("0"), LastSeq: 4, LastIndex: 0},
			"bucket:b1": {Delta: d("480"), HeldDelta: d("0"), Count: 2, Balance: d("480"), Held: d("0"), LastSeq: 4, LastIndex: 1},
		}
		if len(sums) != len(want) {
			t.Fatalf("sums = %+v", sums)
		}
		for asset, w := range want {
			g := sums[asset]
			if !g.Delta.Equal(w.Delta) || !g.HeldDelta.Equal(w.HeldDelta) || g.Count != w.Count ||
				!g.Balance.Equal(w.Balance) || !g.Held.Equal(w.Held) || g.LastSeq != w.LastSeq || g.LastIndex != w.LastIndex {
				t.Errorf("%s: %+v, want %+v", asset, g, w)
			}
			if !g.Delta.Equal(g.Balance) {
				t.Errorf("%s: Σ delta %s ≠ balance %s", asset, g.Delta, g.Balance)
			}
		}
		if sums, err := s.LedgerSums(ctx, "nobody"); err != nil || len(sums) != 0 {
			t.Errorf("LedgerSums(nobody) = %v, %v", sums, err)
		}
	})
}

// TestLedgerLargeBatch applies 50,000 entries in one call, re-applies them
// (the redelivery path, which verifies every stored entry) and reports the
// rates.
func TestLedgerLargeBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("large batch in -short mode")
	}
	forEachDB(t, func(t *testing.T, db *testDB) {
		s := db.open(t)
		recs := genLedger(1, 500, 100, 1000)
		start := time.Now()
		mustApply(t, s, "ledger", recs)
		d := time.Since(start)
		t.Logf("%s: 50000 new entries in one ApplyLedger: %v (%.0f entries/s)", db.cfg.Driver, d, 50000/d.Seconds())
		start = time.Now()
		mustApply(t, s, "ledger", recs)
		d = time.Since(start)
		t.Logf("%s: 50000 redelivered entries: %v (%.0f entries/s)", db.cfg.Driver, d, 50000/d.Seconds())
		wantLedger(t, s, "ledger", 50000, 500)
		sums, err := s.LedgerSums(ctx, "acc-7")
		if err != nil || sums["money"].Count != 50 || !sums["money"].Delta.Equal(money.MustParse("-0.625")) {
			t.Errorf("acc-7 sums = %+v, %v", sums, err)
		}
	})
}

// BenchmarkApplyLedger measures the projection's write rate: records of 10
// entries (a group commit of 10 ops) applied in transactions of 10 … 5000
// records over 10,000 accounts — small ones as the projector writes when
// it keeps up without a linger, large ones when it lingers or is behind.
// Besides the wall time it reports the process CPU time per entry
// (cpu-µs/entry: user + system, every thread; for PostgreSQL the server's
// share is not in it), which is what the projection costs a busy node.
//
//	TOLLGATE_TEST_POSTGRES=postgres://… go test -run '^$' -bench ApplyLedger ./internal/store/
func BenchmarkApplyLedger(b *testing.B) {
	const perRec = 10
	for _, driver := range []string{DriverSQLite, DriverPostgres} {
		b.Run(driver, func(b *testing.B) {
			for _, nrec := range []int{10, 100, 1000, 2000, 5000} {
				b.Run(fmt.Sprintf("entries=%d", nrec*perRec), func(b *testing.B) {
					s := benchStore(b, driver)
					seq := uint64(1)
					var cpu time.Duration
					b.ReportAllocs()
					b.ResetTimer()
					for b.Loop() {
						b.StopTimer()
						recs := genLedger(seq, nrec, perRec, 10000)
						seq += uint64(nrec)
						b.StartTimer()
						c0 := processCPU()
						if err := s.ApplyLedger(context.Background(), "bench", recs); err != nil {
							b.Fatal(err)
						}
						cpu += processCPU() - c0
					}
					entries := float64(b.N * nrec * perRec)
					b.ReportMetric(entries/b.Elapsed().Seconds(), "entries/s")
					b.ReportMetric(float64(cpu.Microseconds())/entries, "cpu-µs/entry")
				})
			}
		})
	}
}

func benchStore(b *testing.B, driver string) *Store {
	b.Helper()
	cfg := Config{Driver: driver, Migrate: true}
	if driver == DriverSQLite {
		cfg.DSN = filepath.Join(b.TempDir(), "bench.db")
	} else {
		cfg.DSN = servicetest.Postgres(b)
	}
	s, err := Open(context.Background(), cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// TestLedgerInsertSizes applies batches whose entry counts take every
// INSERT size (chunks of 2^k rows, 256 at most) and mixes of them, on new
// and on redelivered (overlapping) entries, in one Store (the statements
// are prepared once and reused).
func TestLedgerInsertSizes(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		s := db.open(t)
		seq, total := uint64(1), int64(0)
		for _, n := range []int{1, 2, 3, 7, 100, 255, 256, 257, 511, 513, 1000} {
			recs := genLedger(seq, n, 1, 37)
			mustApply(t, s, "ledger", recs)
			total += int64(n)
			seq += uint64(n)
			wantLedger(t, s, "ledger", total, seq-1)
			// Redelivered with one new record: the overlap path.
			recs = append(recs, genLedger(seq, 1, 1, 37)...)
			mustApply(t, s, "ledger", recs)
			total++
			seq++
			wantLedger(t, s, "ledger", total, seq-1)
		}
		var sum money.Decimal
		for a := range 37 {
			sums, err := s.LedgerSums(ctx, fmt.Sprintf("acc-%d", a))
			if err != nil {
				t.Fatal(err)
			}
			c := sums[balance.AssetMoney]
			if sum, err = sum.Add(c.Delta); err != nil {
				t.Fatal(err)
			}
		}
		if want, _ := money.MustParse("-0.0125").MulInt(total); !sum.Equal(want) {
			t.Errorf("Σ delta = %s, want %s", sum, want)
		}
	})
}

// TestLedgerInsertOrRollback: the SQLite INSERT of ledger entries is OR
// ROLLBACK (it needs no statement journal): a constraint violation ends the
// whole transaction, so the rows of a failed INSERT can never be committed
// in part, and the Store keeps working.
func TestLedgerInsertOrRollback(t *testing.T) {
	s, err := Open(ctx, Config{Driver: DriverSQLite, DSN: filepath.Join(t.TempDir(), "t.db"), Migrate: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	args := func(seq, n int) []any {
		var a []any
		for i := range n {
			a = append(a, seq, i, 0, "acc", "debit", "k", 1, "", "money", "-1", "-1", "0", "0", "")
		}
		return a
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, sqliteLedgerInsert(2, false), args(1, 2)...); err != nil {
		t.Fatal(err)
	}
	// Rows 2/0 and 2/1 are new, 1/1 is not.
	bad := append(args(2, 2), args(1, 2)[ledgerNCols:]...)
	_, err = tx.ExecContext(ctx, sqliteLedgerInsert(3, false), bad...)
	if err == nil || classify(err).kind != uniqueViolation {
		t.Fatalf("duplicate INSERT = %v, want a unique violation", err)
	}
	// SQLite has rolled the transaction back: nothing is left to commit
	// (with ABORT the first INSERT would be committed here).
	if err := tx.Commit(); err == nil {
		t.Error("Commit after the failed INSERT succeeded; want the transaction rolled back")
	}
	if n, err := s.LedgerCount(ctx); err != nil || n != 0 {
		t.Fatalf("LedgerCount after the failed transaction = %d, %v; want 0", n, err)
	}
	mustApply(t, s, "ledger", genLedger(1, 3, 2, 2))
	wantLedger(t, s, "ledger", 6, 3)
}

// TestLedgerOneConnection: ApplyLedger needs no connection besides its
// transaction's. (Preparing a statement on the database inside it waited
// for a free connection while every other one waited for the transaction's
// write lock: with a busy pool, for busy_timeout.)
func TestLedgerOneConnection(t *testing.T) {
	s, err := Open(ctx, Config{Driver: DriverSQLite, DSN: filepath.Join(t.TempDir(), "t.db"), Migrate: true, MaxOpenConns: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	recs := genLedger(1, 511, 1, 5) // every INSERT size: 256 + 128 + … + 1
	if err := s.ApplyLedger(tctx, "ledger", recs); err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyLedger(tctx, "ledger", append(recs, genLedger(512, 511, 1, 5)...)); err != nil { // overlapping
		t.Fatal(err)
	}
	wantLedger(t, s, "ledger", 1022, 1022)
}
