package journal

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
)

func TestSnapshot(t *testing.T) {
	j, _ := newJournal(t)
	testSnapshot(t, j, 20<<20)
}

func testSnapshot(t *testing.T, j *Journal, size int) {
	ctx := t.Context()
	const part = 2
	if _, _, ok, err := j.LoadSnapshot(ctx, part); err != nil || ok {
		t.Fatalf("LoadSnapshot before any = %v, %v", ok, err)
	}
	data := make([]byte, size)
	_, _ = rand.Read(data)
	if err := j.SaveSnapshot(ctx, part, 1234, data); err != nil {
		t.Fatalf("SaveSnapshot: %v", err)
	}
	seq, got, ok, err := j.LoadSnapshot(ctx, part)
	if err != nil || !ok || seq != 1234 || !bytes.Equal(got, data) {
		t.Fatalf("LoadSnapshot = seq %d, %d bytes, %v, %v; want 1234, the %d bytes saved", seq, len(got), ok, err, len(data))
	}

	// A newer snapshot replaces it; an older one is refused.
	small := []byte("newer state")
	if err := j.SaveSnapshot(ctx, part, 2000, small); err != nil {
		t.Fatal(err)
	}
	if err := j.SaveSnapshot(ctx, part, 1999, data); !errors.Is(err, ErrStaleSnapshot) {
		t.Fatalf("saving an older snapshot: %v; want ErrStaleSnapshot", err)
	}
	if err := j.SaveSnapshot(ctx, part, 2000, small); err != nil {
		t.Fatalf("saving the same sequence again: %v", err)
	}
	seq, got, ok, err = j.LoadSnapshot(ctx, part)
	if err != nil || !ok || seq != 2000 || !bytes.Equal(got, small) {
		t.Fatalf("after replace: seq %d %q %v %v", seq, got, ok, err)
	}
	// Other partitions have none; an empty snapshot is a snapshot.
	if err := j.SaveSnapshot(ctx, part+1, 5, nil); err != nil {
		t.Fatal(err)
	}
	if seq, got, ok, err := j.LoadSnapshot(ctx, part+1); err != nil || !ok || seq != 5 || len(got) != 0 {
		t.Fatalf("empty snapshot: %d %q %v %v", seq, got, ok, err)
	}
}
