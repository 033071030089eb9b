package balance

import (
	"encoding/binary"
	"hash/crc32"
	"math"
	"slices"
	"sync"

	"github.com/tollgate-billing/tollgate/internal/money"
	"github.com/tollgate-billing/tollgate/internal/usage"
)

// The snapshot format, version 1: the whole partition state, compact and
// fast to load. Numbers and decimals are encoded as in the journal record
// (codec.go). Strings live in two string tables, each loaded as ONE Go
// string that the records slice (no allocation per account id, bucket or
// reservation id): one for the accounts section, one for the idempotency
// section (so that its memory is freed once those keys are forgotten).
// A record holds only a string's length: strings are consumed from their
// table in order.
//
//	snapshot  = "TGBS" version:byte header accounts idem crc32c:uint32le
//	header    = partition:varint seq:uvarint last_time:varint
//	            naccounts nbuckets nreservations nholds:uvarint
//	            ncurrencies:uvarint currency:str*
//	accounts  = strtab:str account*
//	account   = id:len currency:uvarint(index) type:byte status:byte
//	            flags:byte(1 = below floor) limit:dec balance:dec held:dec
//	            nbuckets:uvarint bucket* nres:uvarint reservation*
//	bucket    = asset:len ("bucket:<id>") unit:byte units:uvarint
//	            from:varint until:varint priority:varint held:uvarint
//	reservation = id:len expires:varint created:varint amount:dec
//	            unit:byte units:uvarint nholds:uvarint
//	            (bucket:uvarint units:uvarint)*
//	idem      = nkeys:uvarint strtab:str record*
//	record    = key:len hash:uint64le time:varint kind:byte account:len
//	            reservation:len granted:dec granted_units:uvarint
//	            debited:dec debited_units:uvarint released:dec
//	            released_units:uvarint balance:dec available:dec
//	            time:varint
//
// Accounts are written in creation order, their buckets in burn order and
// reservations in their internal order, idempotency records oldest first
// (only those still in the window at the latest op time): the encoding is
// a deterministic function of the ops applied, so two states that applied
// the same ops have byte-identical snapshots.
const (
	snapshotMagic   = "TGBS"
	snapshotVersion = 2
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// AppendSnapshot appends the snapshot of the whole partition state to dst.
// It is BeginSnapshot and Encode in one goroutine.
func (s *State) AppendSnapshot(dst []byte) []byte {
	sn := s.BeginSnapshot()
	dst = sn.Encode(dst)
	s.endSnapshot()
	return dst
}

// Encode appends the snapshot of the partition state as it was at
// BeginSnapshot to dst. It may run in any goroutine, concurrently with
// the state's owner applying ops (see freeze.go), and must be called once.
//
// It reads every account exactly once, in creation order (the owner may
// change an account once the encoder is past it), so the counts of the
// header come from the same pass as the records.
func (sn *Snapshot) Encode(dst []byte) []byte {
	start := len(dst)
	dst = append(dst, snapshotMagic...)
	dst = append(dst, snapshotVersion)
	dst = binary.AppendVarint(dst, int64(sn.partition))
	dst = binary.AppendUvarint(dst, sn.seq)
	dst = binary.AppendVarint(dst, sn.lastTime)

	var nb, nh, nres, nc int
	curIdx := map[string]int{}
	var curs []string
	sc := getScratch()
	defer putScratch(sc)
	strs := slices.Grow(sc.strs[:0], 16*sn.naccts)
	recs := slices.Grow(sc.recs[:0], 40*sn.naccts)
	cnts := sc.cnts[:0] // the counters section's records
	defer func() { sc.strs, sc.recs, sc.cnts = strs, recs, cnts }()
	i := 0
	for _, sl := range sn.slabs {
		for k := range sl {
			a := sn.account(i, &sl[k])
			ci, ok := curIdx[a.currency]
			if !ok {
				ci = len(curs)
				curIdx[a.currency] = ci
				curs = append(curs, a.currency)
			}
			strs = append(strs, a.id...)
			recs = binary.AppendUvarint(recs, uint64(len(a.id)))
			recs = binary.AppendUvarint(recs, uint64(ci))
			var flags byte
			if a.below {
				flags |= 1
			}
			recs = append(recs, byte(a.typ), byte(a.status), flags)
			recs = appendDec(recs, a.limit)
			recs = appendDec(recs, a.balance)
			recs = appendDec(recs, a.held)
			recs = binary.AppendUvarint(recs, uint64(len(a.buckets)))
			nb += len(a.buckets)
			for j := range a.buckets {
				b := &a.buckets[j]
				strs = append(strs, b.asset...)
				recs = binary.AppendUvarint(recs, uint64(len(b.asset)))
				recs = append(recs, byte(b.Unit))
				recs = binary.AppendUvarint(recs, b.Units)
				recs = binary.AppendVarint(recs, b.ValidFrom)
				recs = binary.AppendVarint(recs, b.ValidUntil)
				recs = binary.AppendVarint(recs, int64(b.Priority))
				recs = binary.AppendUvarint(recs, b.held)
			}
			recs = binary.AppendUvarint(recs, uint64(len(a.res)))
			nres += len(a.res)
			for _, r := range a.res {
				if len(r.holds) > len(r.inl) {
					nh += len(r.holds)
				}
				strs = append(strs, r.id...)
				recs = binary.AppendUvarint(recs, uint64(len(r.id)))
				recs = binary.AppendVarint(recs, r.expires)
				recs = binary.AppendVarint(recs, r.created)
				recs = appendDec(recs, r.amount)
				recs = append(recs, byte(r.unit))
				recs = binary.AppendUvarint(recs, r.units)
				recs = binary.AppendUvarint(recs, uint64(len(r.holds)))
				for _, h := range r.holds {
					recs = binary.AppendUvarint(recs, uint64(h.b))
					recs = binary.AppendUvarint(recs, h.units)
				}
			}
			if len(a.counters) > 0 {
				nc++
				cnts = appendStr(cnts, a.id)
				cnts = appendCounters(cnts, a.counters)
			}
			sn.accountDone(i)
			i++
		}
	}
	dst = binary.AppendUvarint(dst, uint64(i))
	dst = binary.AppendUvarint(dst, uint64(nb))
	dst = binary.AppendUvarint(dst, uint64(nres))
	dst = binary.AppendUvarint(dst, uint64(nh))
	dst = binary.AppendUvarint(dst, uint64(len(curs)))
	for _, c := range curs {
		dst = appendStr(dst, c)
	}
	dst = binary.AppendUvarint(dst, uint64(len(strs)))
	dst = append(dst, strs...)
	dst = append(dst, recs...)

	strs, recs = strs[:0], recs[:0]
	nkeys := 0
	ar := sn.idem.arena
	sn.idem.live(sn.lastTime, sn.opts, func(rec *idemRec) {
		// Straight from the packed record and the arena: no Result, no
		// strings (a partition holds tens of thousands of keys).
		nkeys++
		strs = append(strs, ar.keyOf(rec)...)
		strs = append(strs, ar.accountOf(rec)...)
		strs = append(strs, ar.reservationOf(rec)...)
		recs = binary.AppendUvarint(recs, uint64(rec.klen))
		recs = binary.LittleEndian.AppendUint64(recs, rec.hash)
		recs = binary.AppendVarint(recs, rec.time)
		recs = append(recs, byte(rec.kind))
		recs = binary.AppendUvarint(recs, uint64(rec.alen))
		recs = binary.AppendUvarint(recs, uint64(rec.rlen))
		// Granted, debited, released (amount then units), balance,
		// available, rated, excess, time: the order of Result.
		for i := range 3 {
			recs = binary.AppendVarint(recs, rec.coef[i])
			recs = append(recs, rec.scale[i])
			recs = binary.AppendUvarint(recs, rec.units[i])
		}
		for i := 3; i < 7; i++ {
			recs = binary.AppendVarint(recs, rec.coef[i])
			recs = append(recs, rec.scale[i])
		}
		recs = binary.AppendVarint(recs, rec.time)
	})
	dst = binary.AppendUvarint(dst, uint64(nkeys))
	dst = binary.AppendUvarint(dst, uint64(len(strs)))
	dst = append(dst, strs...)
	dst = append(dst, recs...)

	// Version 2: the accounts' period counters, the put_state blobs.
	dst = binary.AppendUvarint(dst, uint64(nc))
	dst = append(dst, cnts...)
	dst = binary.AppendUvarint(dst, uint64(len(sn.blobs)))
	eachBlob(sn.blobs, nil, func(name, acct string, data []byte) {
		dst = appendStr(dst, name)
		dst = appendStr(dst, acct)
		dst = binary.AppendUvarint(dst, uint64(len(data)))
		dst = append(dst, data...)
	})
	sn.finish() // nothing of the state is read after this
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// scratch is the working memory of one Encode, reused by the next: a
// partition of a 1 M-account node encodes ~7 MB per snapshot, and buffers
// allocated anew for each were a fifth of all the heap allocated under
// load (BenchmarkBalanceDurable's memory profile) — which brings the GC
// cycles, whose marking of the whole account state is what stalls the
// partitions, closer together. A sync.Pool keeps a few (snapshots of
// different partitions run at once) and lets the GC take them back.
type scratch struct{ strs, recs, cnts []byte }

var scratchPool sync.Pool

func getScratch() *scratch {
	if sc, ok := scratchPool.Get().(*scratch); ok {
		return sc
	}
	return &scratch{}
}

func putScratch(sc *scratch) { scratchPool.Put(sc) }

// getSnapBuf returns a buffer for Encode's output, from those handed back
// with putSnapBuf once a snapshot was saved.
func getSnapBuf() []byte {
	if b, ok := snapBufPool.Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return nil
}

// putSnapBuf hands back a buffer that is no longer read.
func putSnapBuf(b []byte) {
	if cap(b) > 0 {
		snapBufPool.Put(&b)
	}
}

var snapBufPool sync.Pool

// strtab hands out consecutive substrings of one string.
type strtab struct {
	s   string
	off int
}

func (d *decoder) take(t *strtab) string {
	n := d.uvarint()
	if n > uint64(len(t.s)-t.off) {
		d.fail("string of %d bytes beyond its table", n)
		return ""
	}
	v := t.s[t.off : t.off+int(n)]
	t.off += int(n)
	return v
}

func (d *decoder) strtab() strtab {
	return strtab{s: string(d.bytes(d.uvarint()))}
}

// LoadSnapshot rebuilds a partition state from a snapshot. It checks the
// checksum, the version and every length, and the state's consistency as
// it goes (held money and units equal the reservations' holds, buckets in
// burn order, account and reservation ids unique); any problem is an error
// wrapping ErrInvalid. Accounts, buckets and reservations are allocated in
// a few large slabs, and their ids are substrings of one string, so a
// million accounts load with a handful of allocations beyond the map.
func LoadSnapshot(data []byte, opts Options) (*State, error) {
	d := decoder{data: data, what: "snapshot"}
	if len(data) < len(snapshotMagic)+1+4 || string(data[:len(snapshotMagic)]) != snapshotMagic {
		d.fail("not a balance snapshot")
		return nil, d.err
	}
	body := data[:len(data)-4]
	if got, want := crc32.Checksum(body, castagnoli), binary.LittleEndian.Uint32(data[len(body):]); got != want {
		d.fail("checksum %08x, want %08x", got, want)
		return nil, d.err
	}
	d.data, d.off = body, len(snapshotMagic)
	version := d.byte()
	if v := version; v != snapshotVersion && v != 1 {
		d.fail("unknown version %d", v)
		return nil, d.err
	}
	p := d.varint()
	if p < math.MinInt32 || p > math.MaxInt32 {
		d.fail("partition %d", p)
	}
	s := NewState(int(p), opts)
	s.Seq = d.uvarint()
	s.lastTime = d.varint()
	nacc := d.count(12)
	nb := d.count(7)
	nres := d.count(8)
	nh := d.count(2)
	ncur := d.count(4)
	curs := make([]string, ncur)
	for i := range curs {
		c, err := money.LookupCurrency(string(d.bytes(d.uvarint())))
		if err != nil && d.err == nil {
			d.fail("%v", err)
		}
		curs[i] = c.Code
	}
	if d.err != nil {
		return nil, d.err
	}

	tab := d.strtab()
	s.accounts = newAcctIndex(int(nacc))
	accts := make([]account, nacc)
	s.slabs = [][]account{accts}
	buckets := make([]bucketState, nb)
	ress := make([]reservation, nres)
	resPtrs := make([]*reservation, nres)
	holds := make([]hold, nh)
	for i := range accts {
		if d.err != nil {
			break
		}
		a := &accts[i]
		a.ord = uint32(i)
		d.account(a, &tab, curs, &buckets, &ress, &resPtrs, &holds)
		if d.err != nil {
			break
		}
		if !s.accounts.add(s.slabs, 0, i) {
			d.fail("account %q twice", a.id)
		}
		for _, r := range a.res {
			s.wheel.add(r)
		}
		s.nres += len(a.res)
	}
	s.naccts = nacc
	if d.err == nil && (len(buckets) != 0 || len(ress) != 0 || len(holds) != 0 || tab.off != len(tab.s)) {
		d.fail("counts do not match the records (%d buckets, %d reservations, %d holds, %d string bytes left)",
			len(buckets), len(ress), len(holds), len(tab.s)-tab.off)
	}

	nkeys := d.count(11)
	if d.err != nil {
		return nil, d.err
	}
	itab := d.strtab()
	s.idem.init(min(nkeys, s.opts.IdemMax), s.opts)
	for range nkeys {
		if d.err != nil {
			break
		}
		key := d.take(&itab)
		if d.left() < 8 {
			d.fail("truncated")
			break
		}
		hash := binary.LittleEndian.Uint64(d.data[d.off:])
		d.off += 8
		t := d.varint()
		var r Result
		r.Kind = d.kind()
		r.Account = d.take(&itab)
		r.Reservation = d.take(&itab)
		r.GrantedAmount = d.dec()
		r.GrantedUnits = d.uvarint()
		r.DebitedAmount = d.dec()
		r.DebitedUnits = d.uvarint()
		r.ReleasedAmount = d.dec()
		r.ReleasedUnits = d.uvarint()
		r.Balance = d.dec()
		r.Available = d.dec()
		if version >= 2 {
			r.Rated, r.Excess = d.dec(), d.dec()
		}
		r.Time = d.varint()
		if d.err == nil && r.Time != t {
			d.fail("idempotency key %q: result time %d, recorded at %d", key, r.Time, t)
		}
		if d.err != nil {
			break
		}
		if len(key) > maxKeyLen || len(r.Account) > maxIDLen || len(r.Reservation) > maxIDLen {
			// Apply never records longer ones (checkShape); the table's
			// arena relies on it.
			d.fail("idempotency key %.40q: key, account or reservation too long", key)
			break
		}
		kh := keyHash(key)
		if _, dup := s.idem.find(key, kh); dup || key == "" {
			d.fail("idempotency key %q twice or empty", key)
			break
		}
		s.idem.record(key, kh, hash, t, &r, s.opts, 0, false)
	}
	if d.err == nil && itab.off != len(itab.s) {
		d.fail("%d bytes of key strings left", len(itab.s)-itab.off)
	}
	if version >= 2 {
		na := d.uvarint()
		for i := uint64(0); i < na && d.err == nil; i++ {
			id := d.str()
			cs := d.counters()
			a := s.acct(id)
			if a == nil || len(a.counters) > 0 {
				d.fail("counters of unknown or repeated account %q", id)
				break
			}
			a.counters = cs
		}
		n := d.uvarint()
		for i := uint64(0); i < n && d.err == nil; i++ {
			name, acct := d.str(), d.str()
			size := d.uvarint()
			if size > MaxStateBytes {
				d.fail("state %q of %d bytes", name, size)
				break
			}
			data := append([]byte(nil), d.bytes(size)...)
			if s.acct(acct) == nil || name == "" {
				d.fail("state %q of unknown account %q", name, acct)
				break
			}
			if s.blobs == nil {
				s.blobs = make(map[string]blob, n)
			}
			if _, dup := s.blobs[name]; dup {
				d.fail("state %q twice", name)
				break
			}
			s.blobs[name] = blob{account: s.acct(acct).id, data: data}
		}
	}
	if d.err == nil && d.off != len(d.data) {
		d.fail("%d trailing bytes", len(d.data)-d.off)
	}
	if d.err != nil {
		return nil, d.err
	}
	return s, nil
}

// account decodes one account, taking its buckets, reservations and holds
// from the front of the slabs.
func (d *decoder) account(a *account, tab *strtab, curs []string, buckets *[]bucketState, ress *[]reservation, resPtrs *[]*reservation, holds *[]hold) {
	a.id = d.take(tab)
	ci := d.uvarint()
	if ci >= uint64(len(curs)) {
		d.fail("currency %d of %d", ci, len(curs))
		return
	}
	a.currency = curs[ci]
	a.typ, a.status = AccountType(d.byte()), AccountStatus(d.byte())
	flags := d.byte()
	a.below = flags&1 != 0
	a.limit, a.balance, a.held = d.dec(), d.dec(), d.dec()
	switch {
	case d.err != nil:
		return
	case a.id == "":
		d.fail("empty account id")
	case a.typ != Prepaid && a.typ != Postpaid, a.status < Active || a.status > Closed, flags > 1,
		a.below && a.typ != Prepaid:
		d.fail("account %q: type %d, status %d, flags %d", a.id, a.typ, a.status, flags)
	case a.limit.Sign() < 0 || a.held.Sign() < 0:
		d.fail("account %q: negative credit limit or held money", a.id)
	}
	if a.typ == Prepaid && !a.below {
		if avail, err := a.availableWith(a.balance, a.held); err != nil || avail.Sign() < 0 {
			d.fail("account %q: below its floor without an adjustment", a.id)
			return
		}
	}
	nb := d.uvarint()
	if nb > uint64(len(*buckets)) {
		d.fail("account %q: more buckets than counted", a.id)
		return
	}
	a.buckets = (*buckets)[:nb:nb]
	*buckets = (*buckets)[nb:]
	for i := range a.buckets {
		b := &a.buckets[i]
		b.asset = d.take(tab)
		b.Unit = usage.Unit(d.byte())
		b.Units = d.uvarint()
		b.ValidFrom = d.varint()
		b.ValidUntil = d.varint()
		pr := d.varint()
		b.Priority = int32(pr)
		b.held = d.uvarint()
		if d.err != nil {
			return
		}
		if len(b.asset) <= len(bucketAssetPrefix) || b.asset[:len(bucketAssetPrefix)] != bucketAssetPrefix {
			d.fail("account %q: bad bucket asset %q", a.id, b.asset)
			return
		}
		b.ID = b.asset[len(bucketAssetPrefix):]
		if !validUnit(b.Unit) || b.Units > math.MaxInt64 || b.held > b.Units || int64(b.Priority) != pr ||
			(i > 0 && !burnsBefore(&a.buckets[i-1].Bucket, &b.Bucket)) {
			d.fail("account %q: bad bucket %q", a.id, b.asset)
			return
		}
	}
	nr := d.uvarint()
	if nr > uint64(len(*ress)) {
		d.fail("account %q: more reservations than counted", a.id)
		return
	}
	a.res = (*resPtrs)[:nr:nr]
	*resPtrs = (*resPtrs)[nr:]
	var sum money.Decimal
	var bheld [8]uint64
	for i := range a.res {
		r := &(*ress)[i]
		a.res[i] = r
		r.acct, r.pos = a, int32(i)
		r.id = d.take(tab)
		r.expires = d.varint()
		r.created = d.varint()
		r.amount = d.dec()
		r.unit = usage.Unit(d.byte())
		r.units = d.uvarint()
		n := d.uvarint()
		if d.err != nil {
			return
		}
		if r.id == "" || r.amount.Sign() < 0 || (r.units > 0) != validUnit(r.unit) || (r.units == 0 && r.unit != usage.Invalid) ||
			(r.amount.IsZero() && r.units == 0) || n > nb || (n == 0) != (r.units == 0) {
			d.fail("account %q: bad reservation %q", a.id, r.id)
			return
		}
		if n <= uint64(len(r.inl)) {
			r.holds = r.inl[:n]
		} else {
			if n > uint64(len(*holds)) {
				d.fail("account %q: more holds than counted", a.id)
				return
			}
			r.holds = (*holds)[:n:n]
			*holds = (*holds)[n:]
		}
		var units uint64
		for j := range r.holds {
			bi, u := d.uvarint(), d.uvarint()
			if d.err != nil {
				return
			}
			// Holds are in burn order: strictly increasing bucket indices.
			if bi >= nb || (j > 0 && bi <= uint64(r.holds[j-1].b)) || u == 0 || a.buckets[bi].Unit != r.unit || u > math.MaxInt64-units {
				d.fail("account %q reservation %q: bad hold", a.id, r.id)
				return
			}
			r.holds[j] = hold{b: int32(bi), units: u}
			units += u
			if bi < uint64(len(bheld)) {
				bheld[bi] += u
			}
		}
		if units != r.units {
			d.fail("account %q reservation %q: holds sum to %d, not %d", a.id, r.id, units, r.units)
			return
		}
		var err error
		if sum, err = sum.Add(r.amount); err != nil {
			d.fail("account %q: held money overflows", a.id)
			return
		}
	}
	*ress = (*ress)[nr:]
	if !sum.Equal(a.held) {
		d.fail("account %q: held %s, reservations hold %s", a.id, a.held, sum)
		return
	}
	if nr > 0 {
		if nr > resIndexAt {
			a.resIdx = make(map[string]*reservation, 2*nr)
			for _, r := range a.res {
				a.resIdx[r.id] = r
			}
			if len(a.resIdx) != len(a.res) {
				d.fail("account %q: reservation ids repeat", a.id)
				return
			}
		} else {
			for i, r := range a.res {
				for _, x := range a.res[:i] {
					if x.id == r.id {
						d.fail("account %q: reservation %q twice", a.id, r.id)
						return
					}
				}
			}
		}
	}
	if nb > uint64(len(bheld)) {
		// Rare: many buckets. Sum exactly.
		all := make([]uint64, nb)
		for _, r := range a.res {
			for _, h := range r.holds {
				all[h.b] += h.units
			}
		}
		for i := range a.buckets {
			if all[i] != a.buckets[i].held {
				d.fail("account %q bucket %q: held %d, reservations hold %d", a.id, a.buckets[i].ID, a.buckets[i].held, all[i])
				return
			}
		}
	} else {
		for i := range a.buckets {
			if bheld[i] != a.buckets[i].held {
				d.fail("account %q bucket %q: held %d, reservations hold %d", a.id, a.buckets[i].ID, a.buckets[i].held, bheld[i])
				return
			}
		}
	}
	for i := 1; i < len(a.buckets); i++ {
		for j := 0; j < i; j++ {
			if a.buckets[j].ID == a.buckets[i].ID {
				d.fail("account %q: bucket %q twice", a.id, a.buckets[i].ID)
				return
			}
		}
	}
}
