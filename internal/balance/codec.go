package balance

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/tollgate-billing/tollgate/internal/money"
	"github.com/tollgate-billing/tollgate/internal/usage"
)

// The journal record format (one Batch), version 1. Integers are varints
// (encoding/binary), strings a uvarint length and the bytes, decimals a
// varint coefficient and a scale byte, times varints of unix ns.
//
//	batch   = version:byte partition:varint epoch:uvarint
//	          nops:uvarint op* nentries:uvarint entry*
//	op      = kind:byte fields:uvarint key:str account:str time:varint
//	          then, in bit order, each field whose bit is set (see
//	          presentFields): reservation:str amount:dec unit:byte
//	          units:uvarint expires:varint (partial: no data) reason:str
//	          account_type:byte currency:str credit_limit:dec status:byte
//	          bucket:(id:str unit:byte units:uvarint from:varint
//	          until:varint priority:varint)
//	entry   = ref:uvarint [account:str kind:byte key:str time:varint
//	          reservation:str reason:str when ref is 0]
//	          asset:(uvarint 0 = "money", n+1 = n bytes)
//	          decs:byte (bits: delta, balance, held_delta, held) dec*
//
// An entry whose ref is i+1 takes Account, Kind, Key, Time, Reservation
// and Reason from Ops[i] (entries are produced by ops, so this is the
// common case and saves most of an entry's bytes).
const batchVersion = 1

// minOpBytes and minEntryBytes are the smallest encodings, used to bound
// counts against the input before allocating.
const (
	minOpBytes    = 5
	minEntryBytes = 3
)

func appendStr(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendDec(dst []byte, d money.Decimal) []byte {
	dst = binary.AppendVarint(dst, d.Coef())
	return append(dst, d.Scale())
}

func sameHeader(e *Entry, op *Op) bool {
	return e.Time == op.Time && e.Kind == op.Kind && e.Account == op.Account && e.Key == op.Key &&
		e.Reservation == op.Reservation && e.Reason == op.Reason
}

// AppendBatch appends the binary encoding of b to dst (see the format
// above). It encodes any Batch; DecodeBatch rejects unknown kinds.
func AppendBatch(dst []byte, b *Batch) []byte {
	dst = append(dst, batchVersion)
	dst = binary.AppendVarint(dst, int64(b.Partition))
	dst = binary.AppendUvarint(dst, b.Epoch)
	dst = binary.AppendUvarint(dst, uint64(len(b.Ops)))
	for i := range b.Ops {
		dst = appendOp(dst, &b.Ops[i])
	}
	dst = binary.AppendUvarint(dst, uint64(len(b.Entries)))
	j := 0 // the op the entries are at
	for i := range b.Entries {
		e := &b.Entries[i]
		ref := 0
		for k := j; k < len(b.Ops) && k <= j+1; k++ {
			if sameHeader(e, &b.Ops[k]) {
				ref, j = k+1, k
				break
			}
		}
		dst = binary.AppendUvarint(dst, uint64(ref))
		if ref == 0 {
			dst = appendStr(dst, e.Account)
			dst = append(dst, byte(e.Kind))
			dst = appendStr(dst, e.Key)
			dst = binary.AppendVarint(dst, e.Time)
			dst = appendStr(dst, e.Reservation)
			dst = appendStr(dst, e.Reason)
		}
		if e.Asset == AssetMoney {
			dst = append(dst, 0)
		} else {
			dst = binary.AppendUvarint(dst, uint64(len(e.Asset))+1)
			dst = append(dst, e.Asset...)
		}
		var decs byte
		for k, d := range [4]money.Decimal{e.Delta, e.Balance, e.HeldDelta, e.Held} {
			if d != (money.Decimal{}) {
				decs |= 1 << k
			}
		}
		dst = append(dst, decs)
		for k, d := range [4]money.Decimal{e.Delta, e.Balance, e.HeldDelta, e.Held} {
			if decs&(1<<k) != 0 {
				dst = appendDec(dst, d)
			}
		}
	}
	return dst
}

func appendOp(dst []byte, op *Op) []byte {
	f := presentFields(op)
	dst = append(dst, byte(op.Kind))
	dst = binary.AppendUvarint(dst, uint64(f))
	dst = appendStr(dst, op.Key)
	dst = appendStr(dst, op.Account)
	dst = binary.AppendVarint(dst, op.Time)
	if f&fReservation != 0 {
		dst = appendStr(dst, op.Reservation)
	}
	if f&fAmount != 0 {
		dst = appendDec(dst, op.Amount)
	}
	if f&fUnit != 0 {
		dst = append(dst, byte(op.Unit))
	}
	if f&fUnits != 0 {
		dst = binary.AppendUvarint(dst, op.Units)
	}
	if f&fExpires != 0 {
		dst = binary.AppendVarint(dst, op.Expires)
	}
	if f&fReason != 0 {
		dst = appendStr(dst, op.Reason)
	}
	if f&fAccountType != 0 {
		dst = append(dst, byte(op.AccountType))
	}
	if f&fCurrency != 0 {
		dst = appendStr(dst, op.Currency)
	}
	if f&fCreditLimit != 0 {
		dst = appendDec(dst, op.CreditLimit)
	}
	if f&fStatus != 0 {
		dst = append(dst, byte(op.Status))
	}
	if f&fBucket != 0 {
		bk := &op.Bucket
		dst = appendStr(dst, bk.ID)
		dst = append(dst, byte(bk.Unit))
		dst = binary.AppendUvarint(dst, bk.Units)
		dst = binary.AppendVarint(dst, bk.ValidFrom)
		dst = binary.AppendVarint(dst, bk.ValidUntil)
		dst = binary.AppendVarint(dst, int64(bk.Priority))
	}
	if f&fName != 0 {
		dst = appendStr(dst, op.Name)
	}
	if f&fData != 0 {
		dst = binary.AppendUvarint(dst, uint64(len(op.Data)))
		dst = append(dst, op.Data...)
	}
	if f&fCounters != 0 {
		dst = appendCounters(dst, op.Counters)
	}
	if f&fRateKey != 0 {
		dst = binary.LittleEndian.AppendUint64(dst, op.RateKey)
	}
	return dst
}

func appendCounters(dst []byte, cs []Counter) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(cs)))
	for i := range cs {
		c := &cs[i]
		dst = appendStr(dst, c.ID)
		dst = binary.AppendVarint(dst, c.PeriodStart)
		dst = binary.AppendUvarint(dst, c.Units)
		dst = appendDec(dst, c.Amount)
	}
	return dst
}

// maxCounters bounds the counters of one op or account in decoding.
const maxCounters = 1024

func (d *decoder) counters() []Counter {
	n := d.uvarint()
	if n > maxCounters {
		d.fail("%d counters", n)
		return nil
	}
	cs := make([]Counter, 0, n)
	for i := uint64(0); i < n && d.err == nil; i++ {
		cs = append(cs, Counter{ID: d.str(), PeriodStart: d.varint(), Units: d.uvarint(), Amount: d.dec()})
	}
	return cs
}

// decoder reads the binary formats of this package. Errors are sticky:
// after the first, reads return zero values and the input counts as
// consumed.
type decoder struct {
	data []byte
	off  int
	what string // "batch", "snapshot"
	err  error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s: %s at byte %d", ErrInvalid, d.what, fmt.Sprintf(format, args...), d.off)
	}
	d.off = len(d.data)
}

func (d *decoder) left() int { return len(d.data) - d.off }

func (d *decoder) byte() byte {
	if d.off >= len(d.data) {
		d.fail("truncated")
		return 0
	}
	c := d.data[d.off]
	d.off++
	return c
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.data[d.off:])
	if n <= 0 {
		d.fail("truncated or overlong varint")
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.data[d.off:])
	if n <= 0 {
		d.fail("truncated or overlong varint")
		return 0
	}
	d.off += n
	return v
}

// count reads a count of items of at least size bytes each, checked
// against the input left.
func (d *decoder) count(size int) int {
	n := d.uvarint()
	if n > uint64(d.left()/size) {
		d.fail("count %d exceeds the input", n)
		return 0
	}
	return int(n)
}

// bytes returns the next n bytes (a length prefix already read).
func (d *decoder) bytes(n uint64) []byte {
	if n > uint64(d.left()) {
		d.fail("length %d exceeds the input", n)
		return nil
	}
	b := d.data[d.off : d.off+int(n)]
	d.off += int(n)
	return b
}

func (d *decoder) str() string {
	n := d.uvarint()
	if n == 0 {
		return ""
	}
	return string(d.bytes(n))
}

func (d *decoder) dec() money.Decimal {
	c := d.varint()
	s := d.byte()
	v, err := money.New(c, s)
	if err != nil && d.err == nil {
		d.fail("decimal scale %d", s)
	}
	return v
}

func (d *decoder) kind() Kind {
	k := Kind(d.byte())
	if d.err == nil && (k == KindInvalid || int(k) >= len(kindNames)) {
		d.fail("unknown kind %d", k)
	}
	return k
}

// DecodeBatch decodes a journal record into b, reusing b's slices. It is
// strict: truncation, an unknown version or kind, a length beyond the
// input, a decimal scale beyond money.MaxScale and trailing bytes are
// errors wrapping ErrInvalid (with the byte offset). It never panics.
func DecodeBatch(data []byte, b *Batch) error {
	d := decoder{data: data, what: "batch"}
	b.Ops, b.Entries = b.Ops[:0], b.Entries[:0]
	if v := d.byte(); d.err == nil && v != batchVersion {
		d.fail("unknown version %d", v)
	}
	p := d.varint()
	if p < math.MinInt32 || p > math.MaxInt32 {
		d.fail("partition %d", p)
	}
	b.Partition = int(p)
	b.Epoch = d.uvarint()
	n := d.count(minOpBytes)
	b.Ops = slices.Grow(b.Ops, n)
	for i := 0; i < n && d.err == nil; i++ {
		b.Ops = append(b.Ops, Op{})
		d.op(&b.Ops[i])
	}
	n = d.count(minEntryBytes)
	b.Entries = slices.Grow(b.Entries, n)
	for i := 0; i < n && d.err == nil; i++ {
		b.Entries = append(b.Entries, Entry{})
		e := &b.Entries[i]
		ref := d.uvarint()
		if ref == 0 {
			e.Account = d.str()
			e.Kind = d.kind()
			e.Key = d.str()
			e.Time = d.varint()
			e.Reservation = d.str()
			e.Reason = d.str()
		} else if ref > uint64(len(b.Ops)) {
			d.fail("entry %d refers to op %d of %d", i, ref-1, len(b.Ops))
		} else {
			op := &b.Ops[ref-1]
			e.Account, e.Kind, e.Key, e.Time, e.Reservation, e.Reason = op.Account, op.Kind, op.Key, op.Time, op.Reservation, op.Reason
		}
		if a := d.uvarint(); a == 0 {
			e.Asset = AssetMoney
		} else {
			e.Asset = string(d.bytes(a - 1))
		}
		decs := d.byte()
		if decs > 0xf {
			d.fail("entry %d: decimal flags %#x", i, decs)
		}
		if decs&1 != 0 {
			e.Delta = d.dec()
		}
		if decs&2 != 0 {
			e.Balance = d.dec()
		}
		if decs&4 != 0 {
			e.HeldDelta = d.dec()
		}
		if decs&8 != 0 {
			e.Held = d.dec()
		}
	}
	if d.err == nil && d.off != len(data) {
		d.fail("%d trailing bytes", len(data)-d.off)
	}
	if d.err != nil {
		b.Ops, b.Entries = b.Ops[:0], b.Entries[:0]
		return d.err
	}
	return nil
}

const allFields = fRateKey<<1 - 1

func (d *decoder) op(op *Op) {
	op.Kind = d.kind()
	f := d.uvarint()
	if f&^allFields != 0 {
		d.fail("unknown op fields %#x", f)
		return
	}
	op.Key = d.str()
	op.Account = d.str()
	op.Time = d.varint()
	if f&fReservation != 0 {
		op.Reservation = d.str()
	}
	if f&fAmount != 0 {
		op.Amount = d.dec()
	}
	if f&fUnit != 0 {
		op.Unit = usage.Unit(d.byte())
	}
	if f&fUnits != 0 {
		op.Units = d.uvarint()
	}
	if f&fExpires != 0 {
		op.Expires = d.varint()
	}
	op.Partial = f&fPartial != 0
	if f&fReason != 0 {
		op.Reason = d.str()
	}
	if f&fAccountType != 0 {
		op.AccountType = AccountType(d.byte())
	}
	if f&fCurrency != 0 {
		op.Currency = d.str()
	}
	if f&fCreditLimit != 0 {
		op.CreditLimit = d.dec()
	}
	if f&fStatus != 0 {
		op.Status = AccountStatus(d.byte())
	}
	if f&fBucket != 0 {
		bk := &op.Bucket
		bk.ID = d.str()
		bk.Unit = usage.Unit(d.byte())
		bk.Units = d.uvarint()
		bk.ValidFrom = d.varint()
		bk.ValidUntil = d.varint()
		p := d.varint()
		if p < math.MinInt32 || p > math.MaxInt32 {
			d.fail("bucket priority %d", p)
		}
		bk.Priority = int32(p)
	}
	if f&fName != 0 {
		op.Name = d.str()
	}
	if f&fData != 0 {
		n := d.uvarint()
		if n > MaxStateBytes {
			d.fail("state of %d bytes", n)
			return
		}
		op.Data = append([]byte(nil), d.bytes(n)...)
	}
	if f&fCounters != 0 {
		op.Counters = d.counters()
	}
	if f&fRateKey != 0 {
		b := d.bytes(8)
		if len(b) == 8 {
			op.RateKey = binary.LittleEndian.Uint64(b)
		}
	}
}
