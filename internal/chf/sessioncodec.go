package chf

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tollgate-billing/tollgate/internal/balance"
	"github.com/tollgate-billing/tollgate/internal/money"
)

// The binary form of a Session (the put_state blob EngineStore writes).
//
//	blob    = magic session
//	magic   = 0xF1                        (0xF0 | version; never '{', so never JSON)
//	session = { tag value } 0x00          (Session fields, tags strictly increasing)
//	group   = { tag value } 0x00          (Group fields, likewise)
//
// A field is written as its one-byte tag (below: never renumber or reuse
// one) and its value; a field at its zero value is left out, as the JSON
// form's omitempty did, so a blob written before a field existed decodes
// with that field zero. Values:
//
//	string, Currency   uvarint length, bytes (Currency: its code, restored with money.LookupCurrency)
//	uint32, uint64     uvarint
//	int                zig-zag varint
//	bool               the tag alone (true)
//	Decimal            zig-zag varint coefficient, one byte scale (written unless coef and scale are 0)
//	time.Time          zig-zag varint Unix seconds, uvarint nanoseconds (written unless IsZero)
//	json.RawMessage    uvarint length, bytes (written when non-nil: nil and empty differ)
//	[]uint64           uvarint count, uvarints (written when non-nil)
//	[]*Group           uvarint count, groups (written when non-nil)
//
// Times are kept as instants: they decode in UTC, with every nanosecond but
// without the zone the JSON form kept as an offset (the CHF only orders and
// subtracts them, and CDRs are written in UTC). Compare them with Equal.
//
// Adding a field to Session or Group: append a line to sessionFields or
// groupFields with the next tag. TestSessionCodecCoversEveryField fails
// until every exported field is listed.
const (
	sessionMagic   = 0xF1
	sessionVersion = sessionMagic & 0x0F
)

// codecField is one field of the binary form: its tag, its Go name (for
// errors and the field-coverage test), and how it is written and read.
// enc leaves the field out when it is zero.
type codecField[T any] struct {
	tag  byte
	name string
	enc  func(b []byte, tag byte, v *T) []byte
	dec  func(d *blobDecoder, v *T)
}

// sessionFields are the fields of Session, by tag (tag == index+1).
var sessionFields = [...]codecField[Session]{
	{1, "Ref", func(b []byte, t byte, s *Session) []byte { return putString(b, t, s.Ref) }, func(d *blobDecoder, s *Session) { s.Ref = d.string() }},
	{2, "SUPI", func(b []byte, t byte, s *Session) []byte { return putString(b, t, s.SUPI) }, func(d *blobDecoder, s *Session) { s.SUPI = d.string() }},
	{3, "AccountID", func(b []byte, t byte, s *Session) []byte { return putString(b, t, s.AccountID) }, func(d *blobDecoder, s *Session) { s.AccountID = d.string() }},
	{4, "PlanID", func(b []byte, t byte, s *Session) []byte { return putString(b, t, s.PlanID) }, func(d *blobDecoder, s *Session) { s.PlanID = d.string() }},
	{5, "Currency", func(b []byte, t byte, s *Session) []byte { return putString(b, t, s.Currency.Code) }, func(d *blobDecoder, s *Session) { s.Currency = d.currency() }},
	{6, "NFName", func(b []byte, t byte, s *Session) []byte { return putString(b, t, s.NFName) }, func(d *blobDecoder, s *Session) { s.NFName = d.string() }},
	{7, "NFFunction", func(b []byte, t byte, s *Session) []byte { return putString(b, t, s.NFFunction) }, func(d *blobDecoder, s *Session) { s.NFFunction = d.string() }},
	{8, "NotifyURI", func(b []byte, t byte, s *Session) []byte { return putString(b, t, s.NotifyURI) }, func(d *blobDecoder, s *Session) { s.NotifyURI = d.string() }},
	{9, "ChargingID", func(b []byte, t byte, s *Session) []byte { return putUint(b, t, uint64(s.ChargingID)) }, func(d *blobDecoder, s *Session) { s.ChargingID = d.uint32() }},
	{10, "DNN", func(b []byte, t byte, s *Session) []byte { return putString(b, t, s.DNN) }, func(d *blobDecoder, s *Session) { s.DNN = d.string() }},
	{11, "RATType", func(b []byte, t byte, s *Session) []byte { return putString(b, t, s.RATType) }, func(d *blobDecoder, s *Session) { s.RATType = d.string() }},
	{12, "GPSI", func(b []byte, t byte, s *Session) []byte { return putString(b, t, s.GPSI) }, func(d *blobDecoder, s *Session) { s.GPSI = d.string() }},
	{13, "Created", func(b []byte, t byte, s *Session) []byte { return putTime(b, t, s.Created) }, func(d *blobDecoder, s *Session) { s.Created = d.time() }},
	{14, "LastActivity", func(b []byte, t byte, s *Session) []byte { return putTime(b, t, s.LastActivity) }, func(d *blobDecoder, s *Session) { s.LastActivity = d.time() }},
	{15, "LastISN", func(b []byte, t byte, s *Session) []byte { return putUint(b, t, uint64(s.LastISN)) }, func(d *blobDecoder, s *Session) { s.LastISN = d.uint32() }},
	{16, "LastStatus", func(b []byte, t byte, s *Session) []byte { return putInt(b, t, int64(s.LastStatus)) }, func(d *blobDecoder, s *Session) { s.LastStatus = d.int() }},
	{17, "LastBody", func(b []byte, t byte, s *Session) []byte { return putRaw(b, t, s.LastBody) }, func(d *blobDecoder, s *Session) { s.LastBody = d.raw() }},
	{18, "CreateBody", func(b []byte, t byte, s *Session) []byte { return putRaw(b, t, s.CreateBody) }, func(d *blobDecoder, s *Session) { s.CreateBody = d.raw() }},
	{19, "RecordSeq", func(b []byte, t byte, s *Session) []byte { return putUint(b, t, uint64(s.RecordSeq)) }, func(d *blobDecoder, s *Session) { s.RecordSeq = d.uint32() }},
	{20, "RecordOpened", func(b []byte, t byte, s *Session) []byte { return putTime(b, t, s.RecordOpened) }, func(d *blobDecoder, s *Session) { s.RecordOpened = d.time() }},
	{21, "Groups", func(b []byte, t byte, s *Session) []byte { return putGroups(b, t, s.Groups) }, func(d *blobDecoder, s *Session) { s.Groups = d.groups() }},
	{22, "Closed", func(b []byte, t byte, s *Session) []byte { return putBool(b, t, s.Closed) }, func(d *blobDecoder, s *Session) { s.Closed = true }},
}

// groupFields are the fields of Group, by tag (tag == index+1).
var groupFields = [...]codecField[Group]{
	{1, "RG", func(b []byte, t byte, g *Group) []byte { return putUint(b, t, uint64(g.RG)) }, func(d *blobDecoder, g *Group) { g.RG = d.uint32() }},
	{2, "Reservation", func(b []byte, t byte, g *Group) []byte { return putString(b, t, g.Reservation) }, func(d *blobDecoder, g *Group) { g.Reservation = d.string() }},
	{3, "Held", func(b []byte, t byte, g *Group) []byte { return putDecimal(b, t, g.Held) }, func(d *blobDecoder, g *Group) { g.Held = d.decimal() }},
	{4, "Granted", func(b []byte, t byte, g *Group) []byte { return putUint(b, t, g.Granted) }, func(d *blobDecoder, g *Group) { g.Granted = d.uvarint() }},
	{5, "Grants", func(b []byte, t byte, g *Group) []byte { return putUint(b, t, uint64(g.Grants)) }, func(d *blobDecoder, g *Group) { g.Grants = d.uint32() }},
	{6, "FinalGranted", func(b []byte, t byte, g *Group) []byte { return putBool(b, t, g.FinalGranted) }, func(d *blobDecoder, g *Group) { g.FinalGranted = true }},
	{7, "Uplink", func(b []byte, t byte, g *Group) []byte { return putUint(b, t, g.Uplink) }, func(d *blobDecoder, g *Group) { g.Uplink = d.uvarint() }},
	{8, "Downlink", func(b []byte, t byte, g *Group) []byte { return putUint(b, t, g.Downlink) }, func(d *blobDecoder, g *Group) { g.Downlink = d.uvarint() }},
	{9, "Volume", func(b []byte, t byte, g *Group) []byte { return putUint(b, t, g.Volume) }, func(d *blobDecoder, g *Group) { g.Volume = d.uvarint() }},
	{10, "Time", func(b []byte, t byte, g *Group) []byte { return putUint(b, t, g.Time) }, func(d *blobDecoder, g *Group) { g.Time = d.uvarint() }},
	{11, "Units", func(b []byte, t byte, g *Group) []byte { return putUint(b, t, g.Units) }, func(d *blobDecoder, g *Group) { g.Units = d.uvarint() }},
	{12, "Amount", func(b []byte, t byte, g *Group) []byte { return putDecimal(b, t, g.Amount) }, func(d *blobDecoder, g *Group) { g.Amount = d.decimal() }},
	{13, "First", func(b []byte, t byte, g *Group) []byte { return putTime(b, t, g.First) }, func(d *blobDecoder, g *Group) { g.First = d.time() }},
	{14, "Last", func(b []byte, t byte, g *Group) []byte { return putTime(b, t, g.Last) }, func(d *blobDecoder, g *Group) { g.Last = d.time() }},
	{15, "LSNs", func(b []byte, t byte, g *Group) []byte { return putUints(b, t, g.LSNs) }, func(d *blobDecoder, g *Group) { g.LSNs = d.uints() }},
	{16, "Unbilled", func(b []byte, t byte, g *Group) []byte { return putDecimal(b, t, g.Unbilled) }, func(d *blobDecoder, g *Group) { g.Unbilled = d.decimal() }},
}

// appendSession appends the binary form of s to b; it allocates only when
// b is too small.
func appendSession(b []byte, s *Session) []byte {
	b = append(b, sessionMagic)
	return appendFields(b, sessionFields[:], s)
}

func appendFields[T any](b []byte, fields []codecField[T], v *T) []byte {
	for i := range fields {
		b = fields[i].enc(b, fields[i].tag, v)
	}
	return append(b, 0)
}

// encodeBufs holds scratch buffers for encodeSession.
var encodeBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// encodeSession returns the binary form of s in a buffer of its own (the
// balance engine keeps it), with one allocation: it is built in a pooled
// scratch buffer and copied out.
func encodeSession(s *Session) []byte {
	bp := encodeBufs.Get().(*[]byte)
	b := appendSession((*bp)[:0], s)
	out := make([]byte, len(b))
	copy(out, b)
	if cap(b) <= 4*balance.MaxStateBytes {
		*bp = b
		encodeBufs.Put(bp)
	}
	return out
}

// decodeSessionBlob decodes a stored session into s (a zero Session): the
// binary form, or the JSON form written by versions before it.
func decodeSessionBlob(data []byte, s *Session) error {
	switch {
	case len(data) == 0:
		return errors.New("empty session blob")
	case data[0] == '{':
		if err := json.Unmarshal(data, s); err != nil {
			return fmt.Errorf("JSON session: %w", err)
		}
		for i, g := range s.Groups {
			if g == nil {
				return fmt.Errorf("JSON session: group %d is null", i)
			}
		}
		return nil
	case data[0] == sessionMagic:
		return decodeSession(data, s)
	case data[0]&0xF0 == 0xF0:
		return fmt.Errorf("binary session of version %d, this version reads version %d (written by a newer tollgate?)", data[0]&0x0F, sessionVersion)
	default:
		return fmt.Errorf("not a session blob (first byte 0x%02x)", data[0])
	}
}

// decodeSession decodes the binary form (magic byte included) into s.
func decodeSession(data []byte, s *Session) error {
	if len(data) > balance.MaxStateBytes {
		return fmt.Errorf("binary session of %d bytes, at most %d", len(data), balance.MaxStateBytes)
	}
	if len(data) == 0 || data[0] != sessionMagic {
		return errors.New("binary session: bad magic byte")
	}
	d := blobDecoder{b: data, off: 1}
	decodeFields(&d, sessionFields[:], s)
	if d.err == nil && d.off != len(d.b) {
		d.err = fmt.Errorf("%d bytes after the end of the session at byte %d", len(d.b)-d.off, d.off)
	}
	if d.err != nil {
		return fmt.Errorf("binary session: %w", d.err)
	}
	return nil
}

// decodeFields reads the fields of one value up to its 0x00 end tag.
func decodeFields[T any](d *blobDecoder, fields []codecField[T], v *T) {
	last := 0
	for d.err == nil {
		if d.off >= len(d.b) {
			d.fail("truncated: no end tag")
			return
		}
		at, tag := d.off, int(d.b[d.off])
		d.off++
		if tag == 0 {
			return
		}
		if tag <= last {
			d.fail("field tag %d at byte %d after tag %d (repeated or out of order)", tag, at, last)
			return
		}
		if tag > len(fields) || int(fields[tag-1].tag) != tag {
			d.fail("unknown field tag %d at byte %d (written by a newer tollgate?)", tag, at)
			return
		}
		last = tag
		f := &fields[tag-1]
		f.dec(d, v)
		if d.err != nil {
			d.err = fmt.Errorf("%s (tag %d at byte %d): %w", f.name, tag, at, d.err)
		}
	}
}

// Encoding helpers: each leaves the field out when it is zero.

func putTag(b []byte, tag byte) []byte { return append(b, tag) }

func putString(b []byte, tag byte, s string) []byte {
	if s == "" {
		return b
	}
	b = binary.AppendUvarint(putTag(b, tag), uint64(len(s)))
	return append(b, s...)
}

func putRaw(b []byte, tag byte, r []byte) []byte {
	if r == nil {
		return b
	}
	b = binary.AppendUvarint(putTag(b, tag), uint64(len(r)))
	return append(b, r...)
}

func putUint(b []byte, tag byte, v uint64) []byte {
	if v == 0 {
		return b
	}
	return binary.AppendUvarint(putTag(b, tag), v)
}

func putInt(b []byte, tag byte, v int64) []byte {
	if v == 0 {
		return b
	}
	return binary.AppendVarint(putTag(b, tag), v)
}

func putBool(b []byte, tag byte, v bool) []byte {
	if !v {
		return b
	}
	return putTag(b, tag)
}

func putDecimal(b []byte, tag byte, v money.Decimal) []byte {
	if v.Coef() == 0 && v.Scale() == 0 {
		return b
	}
	b = binary.AppendVarint(putTag(b, tag), v.Coef())
	return append(b, v.Scale())
}

func putTime(b []byte, tag byte, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	// t.Unix() wraps for times beyond ±2.9e11 years; time.Unix undoes the
	// wrap, so every Time comes back exactly.
	b = binary.AppendVarint(putTag(b, tag), t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

func putUints(b []byte, tag byte, v []uint64) []byte {
	if v == nil {
		return b
	}
	b = binary.AppendUvarint(putTag(b, tag), uint64(len(v)))
	for _, x := range v {
		b = binary.AppendUvarint(b, x)
	}
	return b
}

// noGroup stands for a nil *Group (read only).
var noGroup Group

func putGroups(b []byte, tag byte, gs []*Group) []byte {
	if gs == nil {
		return b
	}
	b = binary.AppendUvarint(putTag(b, tag), uint64(len(gs)))
	for _, g := range gs {
		if g == nil {
			g = &noGroup // never in a live session; written as an empty group
		}
		b = appendFields(b, groupFields[:], g)
	}
	return b
}

// blobDecoder reads the binary form. The first error sticks: later reads
// return zero values, and decodeFields stops.
type blobDecoder struct {
	b   []byte
	off int
	err error
}

func (d *blobDecoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
}

func (d *blobDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if !d.advance(n) {
		return 0
	}
	return v
}

func (d *blobDecoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if !d.advance(n) {
		return 0
	}
	return v
}

// advance moves past a varint of n bytes as encoding/binary reports it
// (0: truncated, < 0: overflow); it reports whether there was one.
func (d *blobDecoder) advance(n int) bool {
	switch {
	case n == 0:
		d.fail("truncated varint at byte %d", d.off)
	case n < 0:
		d.fail("varint overflows 64 bits at byte %d", d.off)
	default:
		d.off += n
		return true
	}
	return false
}

func (d *blobDecoder) uint32() uint32 {
	v := d.uvarint()
	if v > 1<<32-1 {
		d.fail("%d does not fit 32 bits", v)
		return 0
	}
	return uint32(v)
}

func (d *blobDecoder) int() int {
	v := d.varint()
	if int64(int(v)) != v {
		d.fail("%d does not fit an int", v)
		return 0
	}
	return int(v)
}

// length reads a length or a count of items of at least one byte each: it
// cannot exceed what is left of the blob.
func (d *blobDecoder) length(what string) int {
	n := d.uvarint()
	if d.err != nil {
		return 0
	}
	if left := len(d.b) - d.off; n > uint64(left) {
		d.fail("%s of %d at byte %d, only %d bytes left", what, n, d.off, left)
		return 0
	}
	return int(n)
}

func (d *blobDecoder) bytes(what string) []byte {
	n := d.length(what)
	if d.err != nil {
		return nil
	}
	b := d.b[d.off : d.off+n]
	d.off += n
	return b
}

func (d *blobDecoder) string() string { return string(d.bytes("string length")) }

// raw returns a copy (the blob's buffer is not the session's to keep),
// non-nil even when empty.
func (d *blobDecoder) raw() json.RawMessage {
	b := d.bytes("body length")
	if d.err != nil {
		return nil
	}
	return append(make(json.RawMessage, 0, len(b)), b...)
}

func (d *blobDecoder) currency() money.Currency {
	code := d.bytes("currency length")
	if d.err != nil || len(code) == 0 {
		return money.Currency{}
	}
	c, err := money.LookupCurrency(string(code))
	if err != nil {
		d.fail("%w", err)
	}
	return c
}

func (d *blobDecoder) decimal() money.Decimal {
	coef := d.varint()
	if d.err != nil {
		return money.Decimal{}
	}
	if d.off >= len(d.b) {
		d.fail("truncated decimal: no scale at byte %d", d.off)
		return money.Decimal{}
	}
	scale := d.b[d.off]
	d.off++
	v, err := money.New(coef, scale)
	if err != nil {
		d.fail("decimal scale %d: %w", scale, err)
	}
	return v
}

func (d *blobDecoder) time() time.Time {
	sec := d.varint()
	nsec := d.uvarint()
	if d.err != nil {
		return time.Time{}
	}
	if nsec >= 1e9 {
		d.fail("time with %d nanoseconds", nsec)
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

func (d *blobDecoder) uints() []uint64 {
	n := d.length("LSN count")
	if d.err != nil {
		return nil
	}
	v := make([]uint64, n)
	for i := range v {
		v[i] = d.uvarint()
	}
	return v
}

func (d *blobDecoder) groups() []*Group {
	n := d.length("group count")
	if d.err != nil {
		return nil
	}
	gs := make([]*Group, n)
	for i := range gs {
		g := &Group{}
		decodeFields(d, groupFields[:], g)
		if d.err != nil {
			d.err = fmt.Errorf("group %d: %w", i, d.err)
			return nil
		}
		gs[i] = g
	}
	return gs
}
