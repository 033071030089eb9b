package balance

import (
	"runtime"
	"slices"
	"sync/atomic"
)

// Snapshots without stopping the partition.
//
// BeginSnapshot freezes the state in O(1) work (no copy of accounts or
// keys) and returns a Snapshot whose Encode may run in another goroutine
// while the partition goroutine goes on applying ops. Encode produces
// exactly the snapshot AppendSnapshot would have produced at the moment of
// BeginSnapshot, by these rules:
//
//   - Accounts: the encoder reads the accounts that existed at
//     BeginSnapshot once each, in creation order, and publishes how far it
//     got (cursor). Before Apply changes an account the encoder may still
//     read, it leaves a deep copy of it in account.frozen for the encoder
//     (touch); when the encoder is reading that very account, Apply waits
//     for it to finish that one account (a few hundred ns of work).
//     Accounts created later are beyond the encoder's slabs. A
//     reservation's object is only written through its account (touched
//     first), or after it was closed through it, so the encoder never
//     reads one being written; the wheel links it does not read.
//   - Idempotency keys: the ring and the arena are chunked; the encoder
//     reads the chunk lists of BeginSnapshot, and the table copies a chunk
//     before it writes to it (idemTable.freeze).
//   - put_state blobs: the encoder reads the map of BeginSnapshot; changes
//     go to an overlay (State.blobsNew) until the snapshot ends.
//
// The snapshot ends when the encoder is done: the next Apply (or
// BeginSnapshot) notices and merges the overlay back (endSnapshot).

// Snapshot is the state of a partition frozen by BeginSnapshot, for Encode.
type Snapshot struct {
	epoch     uint32
	partition int
	seq       uint64
	lastTime  int64
	opts      Options
	slabs     [][]account // the account slabs as they were (headers)
	naccts    int
	idem      idemView
	blobs     map[string]blob

	// cursor tells the partition goroutine how far the encoder got: 2i+1
	// while it reads account i (in creation order), 2i+2 once it is done
	// with it.
	cursor atomic.Uint64
	done   atomic.Bool   // the encoder has read everything
	doneCh chan struct{} // closed with done

	// Owned by the partition goroutine: the accounts it left a copy for.
	touched []*account
}

// frozenAccount is a copy of an account as a snapshot must see it.
type frozenAccount struct {
	epoch uint32 // Snapshot.epoch
	a     account
}

// Seq is the journal sequence the snapshot is taken at.
func (sn *Snapshot) Seq() uint64 { return sn.seq }

// BeginSnapshot freezes the state as it is now for a snapshot: the
// returned Snapshot's Encode, which may run in another goroutine, encodes
// exactly this state (at Seq) while the state's owner goes on applying
// ops. Encode must be called once. BeginSnapshot itself costs O(slabs +
// key table chunks), microseconds; each account changed before the encoder
// read it costs a copy of the account.
//
// A snapshot still being encoded ends first: BeginSnapshot waits for its
// encoder.
func (s *State) BeginSnapshot() *Snapshot {
	if sn := s.snap; sn != nil {
		<-sn.doneCh
		s.endSnapshot()
	}
	s.snapEpoch++
	sn := &Snapshot{
		epoch: s.snapEpoch, partition: s.Partition, seq: s.Seq, lastTime: s.lastTime, opts: s.opts,
		slabs: slices.Clone(s.slabs), naccts: s.naccts,
		idem: s.idem.freeze(), blobs: s.blobs,
		doneCh: make(chan struct{}),
	}
	s.snap = sn
	return sn
}

// snapTouch is called by Apply before an op on account id while a
// snapshot is in progress: it ends the snapshot when its encoder is done,
// else protects the account from the op's changes.
func (s *State) snapTouch(id string) {
	if s.snap.done.Load() {
		s.endSnapshot()
		return
	}
	if a := s.acct(id); a != nil {
		s.touch(a)
	}
}

// touch makes sure that the encoder of the snapshot in progress never
// reads account a while the partition goroutine changes it, and reads it
// as it was at BeginSnapshot: when the encoder has not passed a yet, it
// leaves a copy in a.frozen (once per snapshot), and when the encoder is
// reading a right now, it waits until it is done with it.
//
// The protocol (both sides sequentially consistent atomics): the encoder
// stores cursor = 2i+1, then loads a.frozen; touch stores a.frozen, then
// loads cursor. Either the encoder sees the copy, or touch sees cursor ≥
// 2i+1 and waits for 2i+2 before the caller writes.
func (s *State) touch(a *account) {
	sn := s.snap
	i := uint64(a.ord)
	if i >= uint64(sn.naccts) || sn.cursor.Load() >= 2*i+2 {
		return // created after BeginSnapshot, or already encoded
	}
	if f := a.frozen.Load(); f != nil && f.epoch == sn.epoch {
		return // copied already
	}
	a.frozen.Store(freezeAccount(a, sn.epoch))
	sn.touched = append(sn.touched, a)
	for sn.cursor.Load() == 2*i+1 {
		runtime.Gosched()
	}
}

// freezeAccount returns a deep copy of what a snapshot encodes of a.
func freezeAccount(a *account, epoch uint32) *frozenAccount {
	f := &frozenAccount{epoch: epoch}
	c := &f.a
	c.id, c.currency, c.limit, c.balance, c.held = a.id, a.currency, a.limit, a.balance, a.held
	c.typ, c.status, c.below, c.ord = a.typ, a.status, a.below, a.ord
	c.buckets = slices.Clone(a.buckets)
	c.counters = slices.Clone(a.counters)
	if len(a.res) > 0 {
		rs := make([]reservation, len(a.res))
		c.res = make([]*reservation, len(a.res))
		for k, r := range a.res {
			x := &rs[k]
			x.id, x.expires, x.created, x.amount, x.unit, x.units = r.id, r.expires, r.created, r.amount, r.unit, r.units
			x.holds = append(x.inl[:0], r.holds...)
			x.pos = int32(k)
			c.res[k] = x
		}
	}
	return f
}

// endSnapshot ends the snapshot in progress once its encoder is done: the
// copies are dropped, the key table writes in place again, and the
// put_state overlay is merged.
func (s *State) endSnapshot() {
	sn := s.snap
	for _, a := range sn.touched {
		a.frozen.Store(nil)
	}
	sn.touched = nil
	s.idem.thaw()
	if len(s.blobsNew) > 0 {
		if s.blobs == nil {
			s.blobs = make(map[string]blob, len(s.blobsNew))
		}
		for n, b := range s.blobsNew {
			if b.data == nil {
				delete(s.blobs, n)
			} else {
				s.blobs[n] = b
			}
		}
	}
	s.blobsNew = nil
	s.snap = nil
}

// account returns what the encoder reads of the i-th account a: a itself,
// or the copy touch left for this snapshot. It publishes that the encoder
// is reading account i.
func (sn *Snapshot) account(i int, a *account) *account {
	sn.cursor.Store(2*uint64(i) + 1)
	if f := a.frozen.Load(); f != nil && f.epoch == sn.epoch {
		return &f.a
	}
	return a
}

// accountDone publishes that the encoder is done with the i-th account.
func (sn *Snapshot) accountDone(i int) { sn.cursor.Store(2*uint64(i) + 2) }

// finish publishes that the encoder has read everything.
func (sn *Snapshot) finish() {
	sn.done.Store(true)
	close(sn.doneCh)
}
