package balance

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"
)

// TestPutState: named state blobs are stored, replaced and deleted with
// their account's partition, move no money, are not idempotency-checked
// (last write wins), and survive a snapshot.
func TestPutState(t *testing.T) {
	f := std(t)
	get := func() map[string]string {
		m := map[string]string{}
		f.s.EachState(func(name, acct string, data []byte) { m[name] = acct + "=" + string(data) })
		return m
	}
	before := f.view("p")
	res, es := f.ok(Op{Kind: KindPutState, Key: "s1", Account: "p", Name: "chf:a", Data: []byte("one")})
	if len(es) != 0 || res.Kind != KindPutState || res.Replayed {
		t.Fatalf("put: %+v %v", res, es)
	}
	// The same key with other content is not a conflict: last write wins.
	f.ok(Op{Kind: KindPutState, Key: "s1", Account: "p", Name: "chf:a", Data: []byte("two")})
	f.ok(Op{Kind: KindPutState, Key: "s2", Account: "q", Name: "chf:b", Data: []byte("three")})
	if got := get(); len(got) != 2 || got["chf:a"] != "p=two" || got["chf:b"] != "q=three" {
		t.Fatalf("states: %v", got)
	}
	if after := f.view("p"); !after.Balance.Equal(before.Balance) || !after.Held.Equal(before.Held) {
		t.Fatalf("put_state moved money: %+v → %+v", before, after)
	}
	// Snapshot and load: the blobs come back, and the image is stable.
	snap := f.s.AppendSnapshot(nil)
	s2, err := LoadSnapshot(snap, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if again := s2.AppendSnapshot(nil); string(again) != string(snap) {
		t.Fatal("snapshot of a loaded snapshot differs")
	}
	f.s = s2
	if got := get(); len(got) != 2 || got["chf:a"] != "p=two" {
		t.Fatalf("states after snapshot: %v", got)
	}
	// Empty data deletes.
	f.ok(Op{Kind: KindPutState, Key: "s3", Account: "p", Name: "chf:a"})
	if got := get(); len(got) != 1 || got["chf:b"] == "" {
		t.Fatalf("after delete: %v", got)
	}
	// Errors: unknown account, no name, too large, fields of other kinds.
	f.fails(Op{Kind: KindPutState, Account: "nobody", Name: "x", Data: []byte("1")}, ErrUnknownAccount)
	f.fails(Op{Kind: KindPutState, Account: "p", Data: []byte("1")}, ErrInvalid)
	f.fails(Op{Kind: KindPutState, Account: "p", Name: "x", Data: make([]byte, MaxStateBytes+1)}, ErrInvalid)
	f.fails(Op{Kind: KindPutState, Account: "p", Name: "x", Data: []byte("1"), Amount: dec("1")}, ErrInvalid)
	// Names and data of other kinds are refused.
	f.fails(Op{Kind: KindDebit, Account: "p", Amount: dec("1"), Name: "x"}, ErrInvalid)
}

// TestSnapshotVersion1 loads a snapshot of the previous format (no state
// blobs section).
func TestSnapshotVersion1(t *testing.T) {
	f := std(t)
	v2 := f.s.AppendSnapshot(nil)
	// Version 1 is version 2 without the trailing counter and blob
	// counts (0 here), and without the idempotency results' rated and
	// excess amounts: a state without idempotency keys has none.
	f.s = NewState(0, Options{})
	f.ok(openOp("p", Prepaid, "0"))
	f.s.EvictIdem(1 << 62)
	v2 = f.s.AppendSnapshot(nil)
	body := append([]byte(nil), v2[:len(v2)-6]...)
	body[len(snapshotMagic)] = 1
	v1 := appendCRC(body)
	s, err := LoadSnapshot(v1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.AppendSnapshot(nil); string(got) != string(v2) {
		t.Fatal("a version 1 snapshot did not load to the same state")
	}
	if _, err := LoadSnapshot(appendCRC(append(append([]byte(nil), v2[:len(v2)-4]...), 0)), Options{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("trailing byte: %v", err)
	}
}

func appendCRC(body []byte) []byte {
	return binary.LittleEndian.AppendUint32(body, crc32.Checksum(body, castagnoli))
}
