package balance

import (
	"fmt"
	"strings"
	"testing"
)

// TestIdemArena drives the string arena round its buffer many times with
// keys of varied lengths (so spans pad at the end and the arena grows
// while old records are being forgotten): every remembered key is found
// with its account and reservation, forgotten keys are not, the index
// stays consistent, and the arena stays bounded by what is live.
func TestIdemArena(t *testing.T) {
	var tb idemTable
	tb.init(0, Options{})
	o := Options{IdemWindow: 1 << 62, IdemMax: 1500}
	key := func(i int) string { return fmt.Sprintf("k%d-%s", i, strings.Repeat("x", i%97)) }
	for i := range 20000 {
		k := key(i)
		res := Result{Kind: KindDebit, Account: fmt.Sprintf("acct-%d", i%13), Reservation: strings.Repeat("r", i%7)}
		tb.record(k, keyHash(k), uint64(i), int64(i+1), &res, o, 0, false)
		if i%997 == 0 {
			if err := tb.check(o); err != nil {
				t.Fatalf("after %d: %v", i, err)
			}
		}
	}
	for i := 20000 - 1500; i < 20000; i++ {
		k := key(i)
		p, ok := tb.find(k, keyHash(k))
		if !ok {
			t.Fatalf("key %d forgotten", i)
		}
		r := tb.result(tb.at(p))
		if r.Account != fmt.Sprintf("acct-%d", i%13) || r.Reservation != strings.Repeat("r", i%7) || tb.at(p).hash != uint64(i) {
			t.Fatalf("key %d: %+v", i, r)
		}
	}
	if _, ok := tb.find(key(100), keyHash(key(100))); ok {
		t.Fatal("an evicted key is still found")
	}
	if live := tb.aTail - tb.aHead; tb.arena.size() > 4*live+64*1024 {
		t.Fatalf("arena %d bytes for %d live", tb.arena.size(), live)
	}
}
