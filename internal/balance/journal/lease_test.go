package journal

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// t0 is the tests' clock start: leases never read the real clock.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func TestLeases(t *testing.T) {
	j, _ := newJournal(t)
	testLeases(t, j)
}

func testLeases(t *testing.T, j *Journal) {
	ctx := t.Context()
	ttl := j.Config().LeaseTTL
	const part = 5

	if _, ok, err := j.Current(ctx, part); err != nil || ok {
		t.Fatalf("Current before any lease = %v, %v", ok, err)
	}
	a, err := j.Acquire(ctx, part, "node-a", t0)
	if err != nil {
		t.Fatalf("A acquires: %v", err)
	}
	if a.Owner != "node-a" || a.Partition != part || a.Epoch == 0 || !a.Expires.Equal(t0.Add(ttl)) {
		t.Fatalf("A's lease = %+v", a)
	}

	// B cannot take a live lease; the error names the holder.
	_, err = j.Acquire(ctx, part, "node-b", t0.Add(time.Second))
	if !errors.Is(err, ErrLeaseHeld) || !strings.Contains(err.Error(), `"node-a"`) {
		t.Fatalf("B acquires a held lease: %v; want ErrLeaseHeld naming node-a", err)
	}

	// A renews: same epoch, later expiry.
	a2, err := j.Renew(ctx, a, t0.Add(2*time.Second))
	if err != nil {
		t.Fatalf("A renews: %v", err)
	}
	if a2.Epoch != a.Epoch || !a2.Expires.Equal(t0.Add(2*time.Second+ttl)) {
		t.Fatalf("renewed lease = %+v (was %+v)", a2, a)
	}
	// Just before the renewed expiry B still cannot; at it, B can.
	if _, err := j.Acquire(ctx, part, "node-b", a2.Expires.Add(-time.Nanosecond)); !errors.Is(err, ErrLeaseHeld) {
		t.Fatalf("B before expiry: %v; want ErrLeaseHeld", err)
	}
	later := a2.Expires
	b, err := j.Acquire(ctx, part, "node-b", later)
	if err != nil {
		t.Fatalf("B acquires an expired lease: %v", err)
	}
	if b.Epoch <= a.Epoch {
		t.Fatalf("B's epoch %d not above A's %d", b.Epoch, a.Epoch)
	}
	cur, ok, err := j.Current(ctx, part)
	if err != nil || !ok || cur.Owner != "node-b" || cur.Epoch != b.Epoch {
		t.Fatalf("Current = %+v, %v, %v; want B's", cur, ok, err)
	}
	// A finds out at its next renewal, and cannot release B's lease.
	if _, err := j.Renew(ctx, a2, later); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("A renews after takeover: %v; want ErrLeaseLost", err)
	}
	if err := j.Release(ctx, a2); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("A releases after takeover: %v; want ErrLeaseLost", err)
	}

	// B releases: A can take over at once, long before B's expiry, with a
	// higher epoch again.
	b, err = j.Renew(ctx, b, later.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Release(ctx, b); err != nil {
		t.Fatalf("B releases: %v", err)
	}
	if cur, ok, err := j.Current(ctx, part); err != nil || !ok || cur.Expires.After(later) {
		t.Fatalf("released lease = %+v, %v, %v; want expired", cur, ok, err)
	}
	a3, err := j.Acquire(ctx, part, "node-a", later.Add(2*time.Second))
	if err != nil {
		t.Fatalf("A acquires after B released: %v", err)
	}
	if a3.Epoch <= b.Epoch {
		t.Fatalf("epoch after release %d not above %d", a3.Epoch, b.Epoch)
	}
	if _, err := j.Renew(ctx, b, later.Add(2*time.Second)); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("B renews after releasing: %v; want ErrLeaseLost", err)
	}

	// The holder acquiring again (a restarted node) gets a new epoch.
	a4, err := j.Acquire(ctx, part, "node-a", later.Add(3*time.Second))
	if err != nil || a4.Epoch <= a3.Epoch {
		t.Fatalf("re-acquire by the holder = %+v, %v; want a higher epoch than %d", a4, err, a3.Epoch)
	}
	if _, err := j.Renew(ctx, a3, later.Add(3*time.Second)); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("renew of the superseded lease: %v; want ErrLeaseLost", err)
	}

	// Partitions are independent.
	if _, err := j.Acquire(ctx, part+1, "node-b", t0); err != nil {
		t.Fatalf("B acquires another partition: %v", err)
	}
	if _, err := j.Acquire(ctx, part, "", t0); err == nil {
		t.Fatal("Acquire with an empty owner succeeded")
	}
	if _, err := j.Renew(ctx, Lease{Partition: part, Owner: "x"}, t0); err == nil {
		t.Fatal("Renew of a made-up lease succeeded")
	}
}

func TestLeaseRace(t *testing.T) {
	j, _ := newJournal(t)
	ctx := t.Context()
	owners := []string{"n1", "n2", "n3", "n4", "n5", "n6"}
	errs := make(chan error, len(owners))
	for _, o := range owners {
		go func() {
			_, err := j.Acquire(ctx, 9, o, t0)
			errs <- err
		}()
	}
	won := 0
	for range owners {
		err := <-errs
		switch {
		case err == nil:
			won++
		case !errors.Is(err, ErrLeaseHeld):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d owners acquired the same lease at once; want 1", won)
	}
}
