package balance

import "hash/maphash"

// acctIndex finds a partition's accounts by id: an open-addressed table
// (linear probing) of the accounts' places in the slabs. It holds no
// pointers, so the garbage collector does not trace it. The Go map of ids
// to *account it replaces held 1 M string keys and 1 M pointers for every
// GC cycle to follow: a full GC with a 1 M-account partition took 57–59 ms,
// now 19–25 ms (BenchmarkGCWith1M), and under load the marking runs beside
// the partitions (docs/benchmarks.md, session 5). Lookups cost the same
// (BenchmarkApplyReserveCommit). Accounts are never removed, so there are
// no tombstones.
type acctIndex struct {
	slots []acctSlot // len is a power of two, or 0
	n     int
	seed  maphash.Seed
}

// acctSlot is one account's place: slabs[slab-1][off]; slab 0 marks an
// empty slot. tag is the high half of the id's hash, compared before the
// id itself.
type acctSlot struct {
	tag, slab, off uint32
}

func newAcctIndex(n int) acctIndex {
	x := acctIndex{seed: maphash.MakeSeed()}
	size := 8
	for size*3 < n*4 {
		size *= 2
	}
	x.slots = make([]acctSlot, size)
	return x
}

func (x *acctIndex) len() int { return x.n }

// get returns the account id, or nil.
func (x *acctIndex) get(slabs [][]account, id string) *account {
	if x.n == 0 {
		return nil
	}
	h := maphash.String(x.seed, id)
	tag, mask := uint32(h>>32), uint64(len(x.slots)-1)
	for i := h & mask; ; i = (i + 1) & mask {
		sl := &x.slots[i]
		if sl.slab == 0 {
			return nil
		}
		if sl.tag == tag {
			if a := &slabs[sl.slab-1][sl.off]; a.id == id {
				return a
			}
		}
	}
}

// add indexes the account at slabs[slab][off], whose id must not be
// indexed yet (add reports false, changing nothing, if it is).
func (x *acctIndex) add(slabs [][]account, slab, off int) bool {
	if (x.n+1)*4 > len(x.slots)*3 {
		x.grow(slabs)
	}
	id := slabs[slab][off].id
	h := maphash.String(x.seed, id)
	tag, mask := uint32(h>>32), uint64(len(x.slots)-1)
	for i := h & mask; ; i = (i + 1) & mask {
		sl := &x.slots[i]
		if sl.slab == 0 {
			*sl = acctSlot{tag: tag, slab: uint32(slab) + 1, off: uint32(off)}
			x.n++
			return true
		}
		if sl.tag == tag && slabs[sl.slab-1][sl.off].id == id {
			return false
		}
	}
}

// grow doubles the table (hashing every id again).
func (x *acctIndex) grow(slabs [][]account) {
	old := x.slots
	x.slots = make([]acctSlot, max(8, 2*len(old)))
	mask := uint64(len(x.slots) - 1)
	for _, sl := range old {
		if sl.slab == 0 {
			continue
		}
		h := maphash.String(x.seed, slabs[sl.slab-1][sl.off].id)
		i := h & mask
		for x.slots[i].slab != 0 {
			i = (i + 1) & mask
		}
		x.slots[i] = sl
	}
}
