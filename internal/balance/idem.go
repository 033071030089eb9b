package balance

import (
	"fmt"
	"slices"

	"github.com/tollgate-billing/tollgate/internal/money"
)

// idemRec is one remembered idempotency key: the content hash of the op
// that used it, when, and the result it got, packed (120 bytes). It holds
// no pointers: its strings (key, account, reservation) live in the table's
// byte arena, so the garbage collector never scans the ring — a full table
// of a million keys costs the GC nothing to mark (it used to be most of the
// heap to scan, and a mark phase that stalled the partitions).
type idemRec struct {
	soff       uint64 // arena offset of key, then account, then reservation
	klen, alen uint16
	rlen       uint16
	kind       Kind
	// superseded: the key has a newer record (so popping this one must
	// not remove the key from the index).
	superseded bool
	kh         uint64 // keyHash(key)
	hash       uint64 // contentHash of the op
	time       int64  // the op's time, also Result.Time
	coef       [7]int64
	units      [3]uint64
	scale      [7]uint8
}

func (rec *idemRec) setResult(r *Result) {
	rec.kind = r.Kind
	for i, d := range [7]money.Decimal{r.GrantedAmount, r.DebitedAmount, r.ReleasedAmount, r.Balance, r.Available, r.Rated, r.Excess} {
		rec.coef[i], rec.scale[i] = d.Coef(), d.Scale()
	}
	rec.units = [3]uint64{r.GrantedUnits, r.DebitedUnits, r.ReleasedUnits}
}

// result returns the stored Result (Replayed false).
func (t *idemTable) result(rec *idemRec) Result {
	var d [7]money.Decimal
	for i := range d {
		d[i], _ = money.New(rec.coef[i], rec.scale[i]) // scales come from valid decimals
	}
	return Result{Kind: rec.kind, Account: string(t.accountOf(rec)), Reservation: string(t.reservationOf(rec)),
		GrantedAmount: d[0], GrantedUnits: rec.units[0], DebitedAmount: d[1], DebitedUnits: rec.units[1],
		ReleasedAmount: d[2], ReleasedUnits: rec.units[2], Balance: d[3], Available: d[4], Rated: d[5], Excess: d[6],
		Time: rec.time}
}

// keyOf, accountOf and reservationOf are a record's strings in the arena
// (valid until the record is popped).
func (t *idemTable) keyOf(rec *idemRec) []byte         { return t.arena.keyOf(rec) }
func (t *idemTable) accountOf(rec *idemRec) []byte     { return t.arena.accountOf(rec) }
func (t *idemTable) reservationOf(rec *idemRec) []byte { return t.arena.reservationOf(rec) }

func (a idemArena) keyOf(rec *idemRec) []byte { return a.span(rec.soff, int(rec.klen)) }
func (a idemArena) accountOf(rec *idemRec) []byte {
	return a.span(rec.soff+uint64(rec.klen), int(rec.alen))
}
func (a idemArena) reservationOf(rec *idemRec) []byte {
	return a.span(rec.soff+uint64(rec.klen)+uint64(rec.alen), int(rec.rlen))
}

// The ring and the arena are lists of fixed-size chunks (a power of two of
// them), so that a snapshot in progress can go on reading the chunks as
// they were while the partition goroutine goes on applying ops: a chunk
// the snapshot shares is copied before it is written (copy on write, see
// freeze). A span of the arena never crosses a chunk boundary.
const (
	ringChunkShift = 10 // 1024 records (120 KiB) per ring chunk
	ringChunk      = 1 << ringChunkShift
	// A record's strings take at most maxKeyLen + 2·maxIDLen bytes
	// (checkShape; LoadSnapshot checks it too), well below a chunk.
	arenaChunkShift = 14 // 16 KiB per arena chunk
	arenaChunk      = 1 << arenaChunkShift
)

// idemRing is the ring of records: absolute position p is in chunk
// (p / ringChunk) mod len.
type idemRing []*[ringChunk]idemRec

func (r idemRing) at(pos uint64) *idemRec {
	return &r[(pos>>ringChunkShift)&uint64(len(r)-1)][pos&(ringChunk-1)]
}

func (r idemRing) size() uint64 { return uint64(len(r)) << ringChunkShift }

// idemArena is the byte arena of the records' strings: absolute offset o
// is in chunk (o / arenaChunk) mod len.
type idemArena []*[arenaChunk]byte

func (a idemArena) span(off uint64, n int) []byte {
	i := off & (arenaChunk - 1)
	return a[(off>>arenaChunkShift)&uint64(len(a)-1)][i : i+uint64(n)]
}

func (a idemArena) size() uint64 { return uint64(len(a)) << arenaChunkShift }

func newRing(chunks int) idemRing {
	r := make(idemRing, chunks)
	for i := range r {
		r[i] = new([ringChunk]idemRec)
	}
	return r
}

func newArena(chunks int) idemArena {
	a := make(idemArena, chunks)
	for i := range a {
		a[i] = new([arenaChunk]byte)
	}
	return a
}

// alloc reserves n (≤ arenaChunk) contiguous bytes at the arena's tail and
// returns their offset. Offsets are absolute (they only grow); a span
// never crosses a chunk boundary: a span that would is moved to the start
// of the next chunk, the skip left as padding. The arena doubles when the
// live records' strings do not fit.
func (t *idemTable) alloc(n int) uint64 {
	for {
		pad := uint64(0)
		if i := t.aTail & (arenaChunk - 1); i+uint64(n) > arenaChunk {
			pad = arenaChunk - i
		}
		if t.aTail+pad+uint64(n)-t.aHead <= t.arena.size() {
			t.aTail += pad
			off := t.aTail
			t.aTail += uint64(n)
			return off
		}
		t.growArena()
	}
}

// growArena doubles the arena into new chunks, keeping every live byte at
// its absolute offset.
func (t *idemTable) growArena() {
	old := t.arena
	t.arena = newArena(2 * len(old))
	for p := t.aHead; p < t.aTail; {
		n := min(arenaChunk-p&(arenaChunk-1), t.aTail-p)
		copy(t.arena.span(p, int(n)), old.span(p, int(n)))
		p += n
	}
	t.arenaShared = nil // the new chunks are the table's own
}

// atW is at for a record about to be written: while the table is frozen,
// a chunk the snapshot shares is copied first.
func (t *idemTable) atW(pos uint64) *idemRec {
	if t.frozen {
		if c := (pos >> ringChunkShift) & uint64(len(t.ring)-1); c < uint64(len(t.ringShared)) && t.ringShared[c] {
			cp := *t.ring[c]
			t.ring[c] = &cp
			t.ringShared[c] = false
		}
	}
	return t.ring.at(pos)
}

// spanW is arena.span for bytes about to be written: while the table is
// frozen, a chunk the snapshot shares is copied first.
func (t *idemTable) spanW(off uint64, n int) []byte {
	if t.frozen {
		if c := (off >> arenaChunkShift) & uint64(len(t.arena)-1); c < uint64(len(t.arenaShared)) && t.arenaShared[c] {
			cp := *t.arena[c]
			t.arena[c] = &cp
			t.arenaShared[c] = false
		}
	}
	return t.arena.span(off, n)
}

// idemView is the idempotency table as it was when a snapshot began: the
// chunk lists of that moment and the positions in use. The table copies a
// chunk before it writes to it while it is frozen, so the view's chunks
// never change and another goroutine may read them.
type idemView struct {
	ring       idemRing
	arena      idemArena
	head, tail uint64
}

// freeze returns the table's current view and makes the table copy every
// chunk of the view before it writes to it, until thaw. O(chunks): a few
// hundred pointers for 65 k keys.
func (t *idemTable) freeze() idemView {
	v := idemView{ring: slices.Clone(t.ring), arena: slices.Clone(t.arena), head: t.head, tail: t.tail}
	t.ringShared = fillTrue(t.ringShared, len(t.ring))
	t.arenaShared = fillTrue(t.arenaShared, len(t.arena))
	t.frozen = true
	return v
}

// thaw ends freeze: no snapshot reads the view any more.
func (t *idemTable) thaw() { t.frozen = false }

func fillTrue(b []bool, n int) []bool {
	if cap(b) < n {
		b = make([]bool, n)
	}
	b = b[:n]
	for i := range b {
		b[i] = true
	}
	return b
}

// live calls fn for the records of the view that were the current record
// of their key and not stale at now, oldest first.
func (v *idemView) live(now int64, o Options, fn func(*idemRec)) {
	for p := v.head; p != v.tail; p++ {
		rec := v.ring.at(p)
		if !rec.superseded && !stale(rec.time, now, o.IdemWindow) {
			fn(rec)
		}
	}
}

// idemTable remembers idempotency keys in insertion order: a ring of
// records (a FIFO queue, so forgetting the oldest is O(1)) and an index
// from key to the record's absolute position in the ring. A key used
// again after it went stale gets a new record; the stale one stays in the
// ring, marked superseded, until it reaches the front.
//
// The index is a flat open-addressing table (linear probing, backward
// shift deletion) of (64-bit key hash, position) slots at most half full.
// It holds no pointers, so the garbage collector does not scan it, and a
// lookup of a new key — the common case — touches one cache line and no
// key string; a hash match is confirmed against the record's key.
type idemTable struct {
	slots []idemSlot // len is a power of two
	n     int        // used slots
	ring  idemRing   // len (chunks) is a power of two
	head  uint64     // absolute position of the oldest record
	tail  uint64     // absolute position after the newest
	// arena holds the records' strings in record order (len a power of
	// two); [aHead, aTail) are the absolute offsets in use.
	arena        idemArena
	aHead, aTail uint64
	// While frozen (a snapshot reads the view freeze returned), the chunks
	// marked shared are copied before they are written.
	frozen      bool
	ringShared  []bool
	arenaShared []bool
}

type idemSlot struct {
	kh   uint64
	pos1 uint64 // position + 1; 0 = empty
}

func (t *idemTable) init(n int, o Options) {
	c := 1024
	for c < n {
		c <<= 1
	}
	t.ring = newRing(c / ringChunk)
	slots := 2 * c
	if o.IdemPresize {
		for slots < 2*o.IdemMax {
			slots <<= 1
		}
	}
	t.slots = make([]idemSlot, slots)
	t.arena = newArena(64 * c / arenaChunk)
	t.n, t.head, t.tail, t.aHead, t.aTail = 0, 0, 0, 0, 0
	t.frozen, t.ringShared, t.arenaShared = false, nil, nil
}

func (t *idemTable) len() int { return int(t.tail - t.head) }

func (t *idemTable) at(pos uint64) *idemRec { return t.ring.at(pos) }

// stale reports whether a record of time rt is outside the window at now.
func stale(rt, now, window int64) bool {
	return rt < now && uint64(now)-uint64(rt) >= uint64(window)
}

// keyHash is the index hash of an idempotency key.
func keyHash(key string) uint64 {
	h := hasher(0x6a09e667f3bcc908)
	h.str(key)
	return h.sum()
}

// find returns the position of key's current record (possibly stale).
func (t *idemTable) find(key string, kh uint64) (uint64, bool) {
	mask := uint64(len(t.slots) - 1)
	for i := kh & mask; ; i = (i + 1) & mask {
		sl := &t.slots[i]
		if sl.pos1 == 0 {
			return 0, false
		}
		if sl.kh == kh && string(t.keyOf(t.at(sl.pos1-1))) == key {
			return sl.pos1 - 1, true
		}
	}
}

func (t *idemTable) insert(kh, pos uint64) {
	if 2*(t.n+1) > len(t.slots) {
		t.rehash(2 * len(t.slots))
	}
	mask := uint64(len(t.slots) - 1)
	i := kh & mask
	for t.slots[i].pos1 != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = idemSlot{kh: kh, pos1: pos + 1}
	t.n++
}

func (t *idemTable) rehash(size int) {
	old := t.slots
	t.slots = make([]idemSlot, size)
	mask := uint64(size - 1)
	for _, sl := range old {
		if sl.pos1 == 0 {
			continue
		}
		i := sl.kh & mask
		for t.slots[i].pos1 != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = sl
	}
}

// remove deletes the slot of (kh, pos), shifting the slots after it back
// so that no probe sequence is broken.
func (t *idemTable) remove(kh, pos uint64) {
	mask := uint64(len(t.slots) - 1)
	i := kh & mask
	for t.slots[i].pos1 != pos+1 {
		if t.slots[i].pos1 == 0 {
			return // not indexed (cannot happen)
		}
		i = (i + 1) & mask
	}
	for j := (i + 1) & mask; t.slots[j].pos1 != 0; j = (j + 1) & mask {
		home := t.slots[j].kh & mask
		// The slot at j may move to i unless its home lies cyclically
		// in (i, j].
		if (i <= j && (home <= i || home > j)) || (i > j && home <= i && home > j) {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = idemSlot{}
	t.n--
}

// record remembers key → res. old is the position of the key's previous
// (stale) record when hadOld, as find returned it. It first forgets what
// op time now makes stale, and the oldest beyond IdemMax.
func (t *idemTable) record(key string, kh, hash uint64, now int64, res *Result, o Options, old uint64, hadOld bool) {
	t.recordKey(key, res.Account, res.Reservation, kh, hash, now, res, o, old, hadOld)
}

func (t *idemTable) recordKey(key, account, reservation string, kh, hash uint64, now int64, res *Result, o Options, old uint64, hadOld bool) {
	if hadOld {
		// Mark it before evicting: popping it must not unindex the key.
		t.atW(old).superseded = true
		t.remove(kh, old)
	}
	t.evict(now, o)
	for t.len() >= o.IdemMax {
		t.pop()
	}
	if uint64(t.len()) == t.ring.size() {
		t.grow()
	}
	n := len(key) + len(account) + len(reservation)
	off := t.alloc(n)
	b := t.spanW(off, n)
	i := copy(b, key)
	i += copy(b[i:], account)
	copy(b[i:], reservation)
	pos := t.tail
	rec := t.atW(pos)
	*rec = idemRec{soff: off, klen: uint16(len(key)), alen: uint16(len(account)), rlen: uint16(len(reservation)),
		kh: kh, hash: hash, time: now}
	rec.setResult(res)
	t.tail++
	t.insert(kh, pos)
}

// evict forgets the records at the front that are stale at now.
func (t *idemTable) evict(now int64, o Options) {
	for t.head != t.tail && stale(t.at(t.head).time, now, o.IdemWindow) {
		t.pop()
	}
	for t.len() > o.IdemMax {
		t.pop()
	}
}

// pop forgets the oldest record. Its slot in the ring is not cleared (that
// would cost a write of cold memory per op): it is overwritten when the
// ring comes round, so at most one ring's worth of forgotten keys and
// results stays reachable.
func (t *idemTable) pop() {
	rec := t.at(t.head)
	if !rec.superseded {
		t.remove(rec.kh, t.head)
	}
	t.head++
	if t.head == t.tail {
		t.aHead = t.aTail
	} else {
		t.aHead = t.at(t.head).soff
	}
}

// grow doubles the ring into new chunks.
func (t *idemTable) grow() {
	old := t.ring
	t.ring = newRing(2 * len(old))
	for p := t.head; p != t.tail; p++ {
		*t.ring.at(p) = *old.at(p)
	}
	t.ringShared = nil // the new chunks are the table's own
}

func (t *idemTable) check(o Options) error { return t.checkWith(o, keyHash) }

// checkWith is check with the key hash function given (tests force
// collisions).
func (t *idemTable) checkWith(o Options, keyHash func(string) uint64) error {
	if uint64(t.len()) > t.ring.size() || t.len() > o.IdemMax {
		return fmt.Errorf("idempotency: %d records, ring %d, max %d", t.len(), t.ring.size(), o.IdemMax)
	}
	if 2*t.n > len(t.slots) {
		return fmt.Errorf("idempotency: index %d of %d slots used", t.n, len(t.slots))
	}
	used := 0
	mask := uint64(len(t.slots) - 1)
	for i, sl := range t.slots {
		if sl.pos1 == 0 {
			continue
		}
		used++
		p := sl.pos1 - 1
		if p < t.head || p >= t.tail {
			return fmt.Errorf("idempotency: slot %d points at %d outside [%d,%d)", i, p, t.head, t.tail)
		}
		rec := t.at(p)
		key := string(t.keyOf(rec))
		if rec.kh != sl.kh || keyHash(key) != sl.kh || rec.superseded {
			return fmt.Errorf("idempotency: slot %d: record %q does not match or is superseded", i, key)
		}
		// Every slot between its home and itself is occupied.
		for j := sl.kh & mask; j != uint64(i); j = (j + 1) & mask {
			if t.slots[j].pos1 == 0 {
				return fmt.Errorf("idempotency: slot %d unreachable from its home %d", i, sl.kh&mask)
			}
		}
		if q, ok := t.find(key, rec.kh); !ok || q != p {
			return fmt.Errorf("idempotency: key %q not found", key)
		}
	}
	live := 0
	for p := t.head; p != t.tail; p++ {
		if !t.at(p).superseded {
			live++
		}
	}
	if used != t.n || live != t.n {
		return fmt.Errorf("idempotency: %d slots used, %d counted, %d current records", used, t.n, live)
	}
	return nil
}

// The content hash of an op: every field but Time, each string length
// prefixed, words mixed with an invertible multiply-xorshift step and a
// final avalanche. It is stable across processes and versions (it is
// stored in snapshots), so never change it without bumping the snapshot
// version.
const (
	hashSeed = 0x2d358dccaa6c78a5
	hashMul  = 0x9e3779b97f4a7c15
)

type hasher uint64

func (h *hasher) word(v uint64) {
	x := (uint64(*h) ^ v) * hashMul
	*h = hasher(x ^ x>>29)
}

func (h *hasher) str(s string) {
	h.word(uint64(len(s)))
	for len(s) >= 8 {
		h.word(uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56)
		s = s[8:]
	}
	if len(s) > 0 {
		var v uint64
		for i := 0; i < len(s); i++ {
			v |= uint64(s[i]) << (8 * i)
		}
		h.word(v)
	}
}

func (h *hasher) sum() uint64 {
	x := uint64(*h)
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// contentHash hashes op without Time (the engine sets Time on each
// attempt, so a retry differs only there) and without Expires: clients give
// a reservation's expiry relative to the moment they send ("expires in
// 5 minutes"), so a retry carries a later absolute expiry for the same
// reservation; it is the same operation and gets the original result.
func contentHash(op *Op) uint64 {
	h := hasher(hashSeed)
	amount := op.Amount
	if op.RateKey != 0 {
		// A rated op's amount and counter changes come from rating inside
		// the partition: its content is the rating input, RateKey.
		amount = money.Decimal{}
		h.word(op.RateKey)
	} else {
		for i := range op.Counters {
			c := &op.Counters[i]
			h.str(c.ID)
			h.word(uint64(c.PeriodStart))
			h.word(c.Units)
			h.word(uint64(c.Amount.Coef()))
			h.word(uint64(c.Amount.Scale()))
		}
	}
	flags := uint64(op.Kind) | uint64(op.Unit)<<8 | uint64(op.AccountType)<<16 | uint64(op.Status)<<24 |
		uint64(amount.Scale())<<32 | uint64(op.CreditLimit.Scale())<<40 | uint64(op.Bucket.Unit)<<48
	if op.Partial {
		flags |= 1 << 56
	}
	h.word(flags)
	h.str(op.Key)
	h.str(op.Account)
	h.str(op.Reservation)
	h.word(uint64(amount.Coef()))
	h.word(op.Units)
	h.str(op.Reason)
	h.str(op.Currency)
	h.word(uint64(op.CreditLimit.Coef()))
	h.str(op.Bucket.ID)
	h.word(op.Bucket.Units)
	h.word(uint64(op.Bucket.ValidFrom))
	h.word(uint64(op.Bucket.ValidUntil))
	h.word(uint64(uint32(op.Bucket.Priority)))
	return h.sum()
}
