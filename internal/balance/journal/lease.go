package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Lease is the ownership of a partition: while it is unexpired, only Owner
// may run the partition. A lease is taken and kept by compare-and-set
// writes to the lease bucket, and its expiry is part of the value, so that
// whose clock decides is explicit (every call takes now).
type Lease struct {
	Partition int
	Owner     string
	// Epoch is the lease bucket revision of the write that acquired the
	// lease. It strictly increases from one acquisition of a partition to
	// the next (by any owner), and stays the same across renewals.
	Epoch uint64
	// Expires is when the lease ends unless renewed. A released lease has
	// expired.
	Expires time.Time

	revision uint64 // lease bucket revision of the last write, for CAS
}

// leaseValue is the lease bucket value, JSON so that `nats kv get` shows it.
type leaseValue struct {
	Owner   string `json:"owner"`
	Expires int64  `json:"expires_unix_nano"`
	// Epoch is 0 in the acquiring write (its revision is not known before
	// the write), the acquiring revision in renewals.
	Epoch uint64 `json:"epoch,omitempty"`
}

func leaseKey(part int) string { return "p" + strconv.Itoa(part) }

// Current returns the partition's lease record: ok is false when the
// partition never had one. The lease may have expired or been released:
// compare Expires with the caller's clock.
func (j *Journal) Current(ctx context.Context, part int) (Lease, bool, error) {
	if err := checkPartition(part); err != nil {
		return Lease{}, false, err
	}
	e, err := j.kv.Get(ctx, leaseKey(part))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Lease{}, false, nil
	}
	if err != nil {
		return Lease{}, false, fmt.Errorf("journal: lease of partition %d: %w", part, err)
	}
	var v leaseValue
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		return Lease{}, false, fmt.Errorf("journal: lease of partition %d: bad value at revision %d: %w", part, e.Revision(), err)
	}
	l := Lease{Partition: part, Owner: v.Owner, Epoch: v.Epoch, Expires: time.Unix(0, v.Expires).UTC(), revision: e.Revision()}
	if l.Epoch == 0 {
		l.Epoch = e.Revision() // the acquiring write itself
	}
	return l, true, nil
}

// Acquire takes the partition's lease for owner until now + LeaseTTL. It
// succeeds when the partition has no lease, when its lease expired (Expires
// ≤ now) or was released, or when owner already holds it (a restarted
// node); each success starts a new, higher epoch. Otherwise the error is
// [ErrLeaseHeld], naming the holder.
//
// After acquiring, the new owner loads the snapshot, replays the journal
// and appends an epoch-marker record expecting the last sequence it saw:
// from then on an append of the previous owner fails with [ErrWrongLastSeq].
func (j *Journal) Acquire(ctx context.Context, part int, owner string, now time.Time) (Lease, error) {
	if err := checkPartition(part); err != nil {
		return Lease{}, err
	}
	if owner == "" {
		return Lease{}, errors.New("journal: acquire: empty owner")
	}
	key := leaseKey(part)
	expires := now.Add(j.cfg.LeaseTTL)
	val, err := json.Marshal(leaseValue{Owner: owner, Expires: expires.UnixNano()})
	if err != nil {
		return Lease{}, err
	}
	// A lost compare-and-set means someone else wrote meanwhile: look again.
	for range 3 {
		cur, ok, err := j.Current(ctx, part)
		if err != nil {
			return Lease{}, err
		}
		var rev uint64
		switch {
		case !ok:
			rev, err = j.kv.Create(ctx, key, val)
			if errors.Is(err, jetstream.ErrKeyExists) {
				continue
			}
		case cur.Owner != owner && cur.Expires.After(now):
			return Lease{}, heldError(cur)
		default:
			rev, err = j.kv.Update(ctx, key, val, cur.revision)
			if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
				continue
			}
		}
		if err != nil {
			return Lease{}, fmt.Errorf("journal: acquire partition %d: %w", part, err)
		}
		return Lease{Partition: part, Owner: owner, Epoch: rev, Expires: expires.UTC(), revision: rev}, nil
	}
	cur, ok, err := j.Current(ctx, part)
	if err != nil {
		return Lease{}, err
	}
	if ok {
		return Lease{}, heldError(cur)
	}
	return Lease{}, fmt.Errorf("%w: partition %d: contended", ErrLeaseHeld, part)
}

func heldError(cur Lease) error {
	return fmt.Errorf("%w: partition %d is held by %q (epoch %d) until %s",
		ErrLeaseHeld, cur.Partition, cur.Owner, cur.Epoch, cur.Expires.Format(time.RFC3339Nano))
}

// Renew extends l until now + LeaseTTL. If anyone wrote the lease since l
// was acquired or last renewed (a takeover after expiry, a release), the
// error is [ErrLeaseLost] and the caller must stop running the partition.
// A lease that expired but was not taken over is renewed.
func (j *Journal) Renew(ctx context.Context, l Lease, now time.Time) (Lease, error) {
	if l.revision == 0 {
		return Lease{}, errors.New("journal: renew: lease was not acquired with Acquire")
	}
	expires := now.Add(j.cfg.LeaseTTL)
	val, err := json.Marshal(leaseValue{Owner: l.Owner, Expires: expires.UnixNano(), Epoch: l.Epoch})
	if err != nil {
		return Lease{}, err
	}
	rev, err := j.kv.Update(ctx, leaseKey(l.Partition), val, l.revision)
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyNotFound) {
			return Lease{}, fmt.Errorf("%w: partition %d, %q epoch %d", ErrLeaseLost, l.Partition, l.Owner, l.Epoch)
		}
		return Lease{}, fmt.Errorf("journal: renew partition %d: %w", l.Partition, err)
	}
	l.Expires, l.revision = expires.UTC(), rev
	return l, nil
}

// Release gives l up at once: the lease is written as expired, so that
// another owner can acquire it without waiting for the TTL. If l was
// already lost the error is [ErrLeaseLost] (and nothing is written).
func (j *Journal) Release(ctx context.Context, l Lease) error {
	if l.revision == 0 {
		return errors.New("journal: release: lease was not acquired with Acquire")
	}
	val, err := json.Marshal(leaseValue{Owner: l.Owner, Expires: 0, Epoch: l.Epoch})
	if err != nil {
		return err
	}
	if _, err := j.kv.Update(ctx, leaseKey(l.Partition), val, l.revision); err != nil {
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyNotFound) {
			return fmt.Errorf("%w: partition %d, %q epoch %d", ErrLeaseLost, l.Partition, l.Owner, l.Epoch)
		}
		return fmt.Errorf("journal: release partition %d: %w", l.Partition, err)
	}
	return nil
}
