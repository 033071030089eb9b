package balance

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/tollgate-billing/tollgate/internal/money"
	"github.com/tollgate-billing/tollgate/internal/usage"
)

// sampleBatch runs a realistic sequence through a State and returns the
// batch of accepted ops and their entries, as the engine journals it.
func sampleBatch(tb testing.TB, nops int) *Batch {
	tb.Helper()
	s := NewState(3, Options{})
	b := &Batch{Partition: 3, Epoch: 7}
	now := t0
	add := func(op Op) {
		op.Time = now
		now += 1000
		res, es, err := s.Apply(&op, b.Entries)
		if err != nil {
			tb.Fatalf("%s %s: %v", op.Kind, op.Key, err)
		}
		if !res.Replayed {
			b.Entries = es
			b.Ops = append(b.Ops, op)
		}
	}
	for i := 0; len(b.Ops) < nops; i++ {
		acct := fmt.Sprintf("msisdn-4915%08d", i)
		switch i % 4 {
		case 0:
			add(Op{Kind: KindOpenAccount, Key: "open:" + acct, Account: acct, AccountType: Prepaid, Currency: "EUR", CreditLimit: dec("5.00"), Status: Active})
			add(Op{Kind: KindTopUp, Key: "top:" + acct, Account: acct, Amount: dec("20.00"), Reason: "voucher 1234"})
			add(Op{Kind: KindGrantBucket, Key: "grant:" + acct, Account: acct, Bucket: Bucket{ID: "data-2025-06", Unit: usage.Byte, Units: 5 << 30, ValidUntil: t0 + 30*24*3600*sec, Priority: 1}})
		case 1:
			acct = fmt.Sprintf("msisdn-4915%08d", i-1)
			add(Op{Kind: KindReserve, Key: "sess-" + acct + ":1", Account: acct, Reservation: "sess-" + acct + ":rg10", Amount: dec("0.50"), Unit: usage.Byte, Units: 10 << 20, Expires: now + 300*sec})
			add(Op{Kind: KindCommit, Key: "sess-" + acct + ":2", Account: acct, Reservation: "sess-" + acct + ":rg10", Amount: dec("0.1234"), Unit: usage.Byte, Units: 7 << 20})
		case 2:
			acct = fmt.Sprintf("msisdn-4915%08d", i-2)
			add(Op{Kind: KindDebit, Key: "sms-" + acct, Account: acct, Amount: dec("0.09")})
			add(Op{Kind: KindAdjust, Key: "adj-" + acct, Account: acct, Amount: dec("-0.01"), Reason: "rounding"})
			add(Op{Kind: KindDebit, Key: "rated-" + acct, Account: acct, Amount: dec("0.05"), RateKey: 42,
				Counters: []Counter{{ID: "free-sms", PeriodStart: 1748736000, Units: 1}, {ID: "cap", PeriodStart: 1748736000, Amount: dec("0.05")}}})
			add(Op{Kind: KindPutState, Key: "st-" + acct, Account: acct, Name: "chf:" + acct, Data: []byte(`{"ref":"` + acct + `"}`)})
		case 3:
			acct = fmt.Sprintf("msisdn-4915%08d", i-3)
			add(Op{Kind: KindReserve, Key: "r-" + acct, Account: acct, Reservation: "x", Amount: dec("1"), Expires: now + sec, Partial: true})
			now += 2 * sec
			add(Op{Kind: KindExpire, Key: "expire:" + acct + ":x", Account: acct, Reservation: "x"})
			add(Op{Kind: KindCredit, Key: "cr-" + acct, Account: acct, Amount: dec("2"), Reason: "goodwill"})
		}
	}
	return b
}

func TestBatchRoundTrip(t *testing.T) {
	b := sampleBatch(t, 256)
	// An entry that belongs to no op is encoded in full.
	b.Entries = append(b.Entries, Entry{Account: "other", Kind: KindAdjust, Key: "k", Time: -5, Asset: "bucket:z",
		Delta: dec("-1.5"), Balance: money.FromInt(3), HeldDelta: dec("0.00"), Held: dec("2"), Reason: "r"})
	data := AppendBatch(nil, b)
	var got Batch
	if err := DecodeBatch(data, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&got, b) {
		t.Fatalf("round trip differs")
	}
	t.Logf("%d ops, %d entries: %d bytes (%d per op)", len(b.Ops), len(b.Entries), len(data), len(data)/len(b.Ops))
	// Decoding into a used Batch replaces its content.
	empty := &Batch{Partition: 1, Epoch: 99}
	if err := DecodeBatch(AppendBatch(nil, empty), &got); err != nil {
		t.Fatal(err)
	}
	if got.Partition != 1 || got.Epoch != 99 || len(got.Ops) != 0 || len(got.Entries) != 0 {
		t.Fatalf("marker batch: %+v", got)
	}
}

func TestDecodeBatchStrict(t *testing.T) {
	b := sampleBatch(t, 12)
	data := AppendBatch(nil, b)
	var got Batch
	for n := range len(data) {
		if err := DecodeBatch(data[:n], &got); !errors.Is(err, ErrInvalid) {
			t.Fatalf("truncated to %d of %d bytes: %v", n, len(data), err)
		}
		if len(got.Ops) != 0 || len(got.Entries) != 0 {
			t.Fatal("failed decode left content")
		}
	}
	bad := map[string][]byte{
		"trailing":    append(append([]byte(nil), data...), 0),
		"version":     append([]byte{2}, data[1:]...),
		"kind":        func() []byte { d := append([]byte(nil), data...); d[4] = 200; return d }(), // first op's kind
		"huge count":  {batchVersion, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"long string": {batchVersion, 0, 0, 1, byte(KindTopUp), 0, 0x7f, 'a'},
		"scale": func() []byte {
			d18, _ := money.New(1, money.MaxScale)
			d := AppendBatch(nil, &Batch{Entries: []Entry{{Kind: KindDebit, Asset: AssetMoney, Delta: d18}}})
			d[len(d)-1] = money.MaxScale + 1 // the scale byte
			return d
		}(),
		"entry kind": AppendBatch(nil, &Batch{Entries: []Entry{{Kind: 0, Asset: AssetMoney}}}),
		"entry ref":  {batchVersion, 0, 0, 0, 1, 5, 0, 0},
	}
	if data[4] != byte(KindOpenAccount) {
		t.Fatalf("layout changed: byte 4 is %d", data[4])
	}
	for name, d := range bad {
		if err := DecodeBatch(d, &got); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// FuzzDecodeBatch: no input panics, and whatever decodes re-encodes to
// bytes that decode to the same batch.
func FuzzDecodeBatch(f *testing.F) {
	f.Add(AppendBatch(nil, sampleBatch(f, 8)))
	f.Add(AppendBatch(nil, sampleBatch(f, 40)))
	f.Add(AppendBatch(nil, &Batch{Partition: 5, Epoch: 1}))
	f.Add([]byte{batchVersion, 0, 0, 1, byte(KindTopUp), 2, 1, 'k', 1, 'a', 0, 100, 2, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var b Batch
		if err := DecodeBatch(data, &b); err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		enc := AppendBatch(nil, &b)
		var b2 Batch
		if err := DecodeBatch(enc, &b2); err != nil {
			t.Fatalf("re-encoded batch does not decode: %v", err)
		}
		if !reflect.DeepEqual(normBatch(&b), normBatch(&b2)) {
			t.Fatalf("round trip differs:\n%+v\n%+v", b, b2)
		}
		if enc2 := AppendBatch(nil, &b2); string(enc2) != string(enc) {
			t.Fatal("encoding is not stable")
		}
	})
}

// normBatch makes nil and empty slices compare equal.
func normBatch(b *Batch) Batch {
	c := *b
	if len(c.Ops) == 0 {
		c.Ops = nil
	}
	if len(c.Entries) == 0 {
		c.Entries = nil
	}
	return c
}

func BenchmarkBatch(b *testing.B) {
	batch := sampleBatch(b, 256)
	data := AppendBatch(nil, batch)
	b.Run("encode-256", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		buf := make([]byte, 0, len(data))
		for b.Loop() {
			buf = AppendBatch(buf[:0], batch)
		}
		b.ReportMetric(float64(len(batch.Ops))*float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	})
	b.Run("decode-256", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		var out Batch
		for b.Loop() {
			if err := DecodeBatch(data, &out); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(batch.Ops))*float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	})
}
