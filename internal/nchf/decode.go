package nchf

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Limits bound what a Decoder accepts. A zero field takes its default.
type Limits struct {
	// MaxBytes is the largest body accepted (default 64 KiB). A larger body
	// is rejected before any parsing, with status 413.
	MaxBytes int
	// MaxDepth is the deepest nesting of objects and arrays (default 32; the
	// deepest modelled path of a ChargingDataRequest is 7).
	MaxDepth int
	// MaxArrayLen is the most elements in one array, and the most unmodelled
	// members kept in one object's Extra (default 256).
	MaxArrayLen int
}

// Default limits.
const (
	DefaultMaxBytes    = 64 << 10
	DefaultMaxDepth    = 32
	DefaultMaxArrayLen = 256
)

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxArrayLen <= 0 {
		l.MaxArrayLen = DefaultMaxArrayLen
	}
	return l
}

// Decoder decodes Nchf_ConvergedCharging bodies within Limits. The zero value
// uses the default limits; a Decoder is safe for concurrent use.
type Decoder struct {
	Limits Limits
}

// ErrorKind classifies a DecodeError.
type ErrorKind uint8

// Kinds of DecodeError.
const (
	// KindSyntax: the body is not well-formed JSON (or not UTF-8).
	KindSyntax ErrorKind = iota + 1
	// KindType: well-formed, but an attribute has the wrong JSON type.
	KindType
	// KindValue: right type, invalid value (negative or too large for its
	// type, malformed date-time).
	KindValue
	// KindMissing: a mandatory attribute is absent.
	KindMissing
	// KindTooLarge: the body exceeds Limits.MaxBytes.
	KindTooLarge
	// KindLimit: nesting depth or array length beyond Limits.
	KindLimit
)

func (k ErrorKind) String() string {
	switch k {
	case KindSyntax:
		return "syntax"
	case KindType:
		return "type"
	case KindValue:
		return "value"
	case KindMissing:
		return "missing"
	case KindTooLarge:
		return "too large"
	case KindLimit:
		return "limit"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// DecodeError reports why a body was rejected and where, like csv.ParseError.
// Use ProblemDetails to answer the peer.
type DecodeError struct {
	Kind ErrorKind
	// Pointer is the RFC 6901 JSON Pointer of the offending attribute
	// ("/multipleUnitUsage/0/usedUnitContainer/1/totalVolume"); "" is the
	// whole body.
	Pointer string
	// Offset is the byte offset in the body where the problem was found.
	Offset int
	// Reason is a short human-readable reason ("must be a non-negative
	// integer").
	Reason string
	// Mandatory tells whether the attribute at Pointer is mandatory in its
	// object (it selects MANDATORY_IE_INCORRECT over OPTIONAL_IE_INCORRECT).
	Mandatory bool

	rev []string // path segments, innermost first, added while unwinding
}

func (e *DecodeError) Error() string {
	p := e.Pointer
	if p == "" {
		p = "body"
	}
	return fmt.Sprintf("nchf: %s: %s (%s error at offset %d)", p, e.Reason, e.Kind, e.Offset)
}

type decoder struct {
	data  []byte
	pos   int
	depth int
	null  bool // the last value read was null (absent)
	lim   Limits
}

// The decoder keeps no path stack: an error collects the member names and
// indexes of the path while it is returned through object and array, so that
// the success path pays nothing for error positions.

func newDecoder(dc Decoder, data []byte) decoder {
	return decoder{data: data, lim: dc.Limits.withDefaults()}
}

// top decodes one top-level object with fn and checks that only white space
// follows.
func (d *decoder) top(fn func() error) error {
	if len(d.data) > d.lim.MaxBytes {
		return &DecodeError{Kind: KindTooLarge, Reason: fmt.Sprintf("body of %d bytes exceeds the limit of %d bytes", len(d.data), d.lim.MaxBytes)}
	}
	d.ws()
	if err := fn(); err != nil {
		if de, ok := err.(*DecodeError); ok {
			de.Pointer = pointer(de.rev)
			de.rev = nil
		}
		return err
	}
	d.ws()
	if d.pos != len(d.data) {
		return d.fail(KindSyntax, "unexpected data after the top-level value")
	}
	return nil
}

// pointer renders path segments, innermost first, as a JSON Pointer.
func pointer(rev []string) string {
	var sb strings.Builder
	for i := len(rev) - 1; i >= 0; i-- {
		sb.WriteByte('/')
		for _, c := range rev[i] {
			switch c {
			case '~':
				sb.WriteString("~0")
			case '/':
				sb.WriteString("~1")
			default:
				sb.WriteRune(c)
			}
		}
	}
	return sb.String()
}

// inMember adds the member name raw (as scanned) to the path of err.
func inMember(err error, raw []byte) error {
	if de, ok := err.(*DecodeError); ok {
		k := raw
		if bytes.IndexByte(k, '\\') >= 0 {
			k, _ = unescape(k)
		}
		de.rev = append(de.rev, string(k))
	}
	return err
}

// inElement adds the array index i to the path of err.
func inElement(err error, i int) error {
	if de, ok := err.(*DecodeError); ok {
		de.rev = append(de.rev, strconv.Itoa(i))
	}
	return err
}

func (d *decoder) fail(kind ErrorKind, reason string) *DecodeError {
	return &DecodeError{Kind: kind, Offset: d.pos, Reason: reason}
}

// missing reports that the mandatory member name of the current object is
// absent.
func (d *decoder) missing(name string) error {
	return &DecodeError{Kind: KindMissing, Offset: d.pos, Reason: "mandatory attribute is missing", Mandatory: true, rev: []string{name}}
}

// req finishes reading a mandatory member: it records presence in seen and
// marks an error about this very member as concerning a mandatory attribute.
func (d *decoder) req(seen *uint32, bit uint32, err error) error {
	if err != nil {
		if de, ok := err.(*DecodeError); ok && len(de.rev) == 0 {
			de.Mandatory = true
		}
		return err
	}
	if !d.null {
		*seen |= bit
	}
	return nil
}

func (d *decoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// typeErr reports that the value at pos is well-formed-looking but of the
// wrong type; if it cannot start any JSON value it is a syntax error.
func (d *decoder) typeErr(want string) error {
	if d.pos >= len(d.data) {
		return d.fail(KindSyntax, "unexpected end of input")
	}
	switch d.data[d.pos] {
	case '{', '[', '"', 't', 'f', 'n', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		// Validate the value so that a syntax error further on is reported
		// as such.
		save := d.pos
		if err := d.skip(); err != nil {
			return err
		}
		d.pos = save
		return d.fail(KindType, "must be "+want)
	}
	return d.fail(KindSyntax, fmt.Sprintf("invalid character %q looking for a value", d.data[d.pos]))
}

// isNull consumes a null literal if one is next, setting d.null.
func (d *decoder) isNull() bool {
	d.null = false
	if d.pos < len(d.data) && d.data[d.pos] == 'n' && bytes.HasPrefix(d.data[d.pos:], []byte("null")) {
		d.pos += 4
		d.null = true
		return true
	}
	return false
}

func (d *decoder) enter() error {
	d.depth++
	if d.depth > d.lim.MaxDepth {
		return d.fail(KindLimit, fmt.Sprintf("nesting deeper than %d", d.lim.MaxDepth))
	}
	return nil
}

// object reads an object, calling fn with each member's unescaped name while
// the decoder is positioned at the member's value; fn must consume the value.
func (d *decoder) object(fn func(key []byte) error) error {
	d.null = false
	if d.pos >= len(d.data) || d.data[d.pos] != '{' {
		return d.typeErr("an object")
	}
	if err := d.enter(); err != nil {
		return err
	}
	d.pos++
	d.ws()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		d.depth--
		return nil
	}
	for {
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return d.fail(KindSyntax, "expected a member name")
		}
		raw, esc, err := d.scanString()
		if err != nil {
			return err
		}
		key := raw
		if esc {
			key, _ = unescape(raw)
		}
		d.ws()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return d.fail(KindSyntax, "expected ':' after a member name")
		}
		d.pos++
		d.ws()
		if err := fn(key); err != nil {
			return inMember(err, raw)
		}
		d.ws()
		if d.pos >= len(d.data) {
			return d.fail(KindSyntax, "unexpected end of input in an object")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
			d.ws()
		case '}':
			d.pos++
			d.depth--
			d.null = false
			return nil
		default:
			return d.fail(KindSyntax, "expected ',' or '}' after a member")
		}
	}
}

// array reads an array (null is absent), calling fn with each index while the
// decoder is positioned at the element; fn must consume it.
func (d *decoder) array(fn func(i int) error) error {
	if d.isNull() {
		return nil
	}
	if d.pos >= len(d.data) || d.data[d.pos] != '[' {
		return d.typeErr("an array")
	}
	if err := d.enter(); err != nil {
		return err
	}
	d.pos++
	d.ws()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		d.depth--
		return nil
	}
	for i := 0; ; i++ {
		if i >= d.lim.MaxArrayLen {
			return d.fail(KindLimit, fmt.Sprintf("more than %d array elements", d.lim.MaxArrayLen))
		}
		if err := fn(i); err != nil {
			return inElement(err, i)
		}
		d.ws()
		if d.pos >= len(d.data) {
			return d.fail(KindSyntax, "unexpected end of input in an array")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
			d.ws()
		case ']':
			d.pos++
			d.depth--
			d.null = false
			return nil
		default:
			return d.fail(KindSyntax, "expected ',' or ']' after an array element")
		}
	}
}

// scanString scans the string starting at pos (a '"'), validating escapes and
// UTF-8, and returns its raw contents and whether they contain escapes.
func (d *decoder) scanString() (raw []byte, esc bool, err error) {
	data := d.data
	start := d.pos + 1
	ascii := true
	i := start
	for {
		// Fast path: eight bytes at a time while none is special, then
		// byte by byte up to the special one.
		for i+8 <= len(data) && swarSpecial(binary.LittleEndian.Uint64(data[i:])) == 0 {
			i += 8
		}
		for i < len(data) && plainASCII[data[i]] {
			i++
		}
		if i >= len(d.data) {
			break
		}
		switch c := d.data[i]; {
		case c == '"':
			raw = d.data[start:i]
			if !ascii && !utf8.Valid(raw) {
				d.pos = start
				return nil, false, d.fail(KindSyntax, "string is not valid UTF-8")
			}
			d.pos = i + 1
			return raw, esc, nil
		case c == '\\':
			esc = true
			i++
			if i >= len(d.data) {
				continue
			}
			switch d.data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(d.data) || !isHex4(d.data[i+1:i+5]) {
					d.pos = i
					return nil, false, d.fail(KindSyntax, "invalid \\u escape in a string")
				}
				i += 4
			default:
				d.pos = i
				return nil, false, d.fail(KindSyntax, "invalid escape in a string")
			}
			i++
		case c < 0x20:
			d.pos = i
			return nil, false, d.fail(KindSyntax, "control character in a string")
		default: // c >= utf8.RuneSelf
			ascii = false
			i++
		}
	}
	d.pos = len(d.data)
	return nil, false, d.fail(KindSyntax, "unterminated string")
}

// swarSpecial is non-zero when one of the eight bytes in x is a control
// character, '"', '\\' or not ASCII (it may also be non-zero otherwise; the
// caller then looks byte by byte).
func swarSpecial(x uint64) uint64 {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	q := x ^ ('"' * lsb)
	b := x ^ ('\\' * lsb)
	return (x | (x-0x20*lsb)&^x | (q-lsb)&^q | (b-lsb)&^b) & msb
}

// plainASCII marks the bytes that stand for themselves inside a string.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func hexVal(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case c <= '9':
			r |= rune(c - '0')
		case c >= 'a':
			r |= rune(c - 'a' + 10)
		default:
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}

// unescape decodes the escapes of a scanned string (a lone surrogate becomes
// U+FFFD, as in encoding/json).
func unescape(raw []byte) ([]byte, bool) {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(raw) {
			return out, false
		}
		switch raw[i] {
		case '"', '\\', '/':
			out = append(out, raw[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if i+4 >= len(raw) {
				return out, false
			}
			r := hexVal(raw[i+1 : i+5])
			i += 4
			if utf16.IsSurrogate(r) {
				if i+6 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' && isHex4(raw[i+3:i+7]) {
					if r2 := utf16.DecodeRune(r, hexVal(raw[i+3:i+7])); r2 != utf8.RuneError {
						r = r2
						i += 6
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return out, false
		}
	}
	return out, true
}

// stringBytes reads a string value and returns its unescaped bytes; they
// alias the input when it has no escapes.
func (d *decoder) stringBytes() ([]byte, error) {
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		return nil, d.typeErr("a string")
	}
	raw, esc, err := d.scanString()
	if err != nil || !esc {
		return raw, err
	}
	u, _ := unescape(raw)
	return u, nil
}

// str reads an optional string (null is absent).
func (d *decoder) str(dst *string) error {
	if d.isNull() {
		return nil
	}
	b, err := d.stringBytes()
	if err != nil {
		return err
	}
	*dst = string(b)
	return nil
}

// enum reads an optional enumeration value; known values are interned, so
// they do not allocate, and unknown ones are kept (3GPP enums are extensible).
func (d *decoder) enum(dst *string) error {
	if d.isNull() {
		return nil
	}
	b, err := d.stringBytes()
	if err != nil {
		return err
	}
	if v, ok := internTable[string(b)]; ok {
		*dst = v
	} else {
		*dst = string(b)
	}
	return nil
}

var internTable = func() map[string]string {
	m := make(map[string]string, len(enumValues))
	for _, v := range enumValues {
		m[v] = v
	}
	return m
}()

func (d *decoder) boolean(dst *bool) error {
	if d.isNull() {
		return nil
	}
	switch {
	case bytes.HasPrefix(d.data[d.pos:], []byte("true")):
		*dst = true
		d.pos += 4
	case bytes.HasPrefix(d.data[d.pos:], []byte("false")):
		*dst = false
		d.pos += 5
	default:
		return d.typeErr("a boolean")
	}
	return nil
}

// number scans a JSON number at pos and returns its span, whether it is
// negative, and whether it has a fraction or an exponent.
func (d *decoder) number() (digits []byte, neg, frac bool, err error) {
	i := d.pos
	if i < len(d.data) && d.data[i] == '-' {
		neg = true
		i++
	}
	ds := i
	switch {
	case i < len(d.data) && d.data[i] == '0':
		i++
		if i < len(d.data) && '0' <= d.data[i] && d.data[i] <= '9' {
			d.pos = i
			return nil, false, false, d.fail(KindSyntax, "invalid number (leading zero)")
		}
	case i < len(d.data) && '1' <= d.data[i] && d.data[i] <= '9':
		for i < len(d.data) && '0' <= d.data[i] && d.data[i] <= '9' {
			i++
		}
	default:
		d.pos = i
		return nil, false, false, d.fail(KindSyntax, "invalid number")
	}
	digits = d.data[ds:i]
	if i < len(d.data) && d.data[i] == '.' {
		frac = true
		i++
		n := i
		for i < len(d.data) && '0' <= d.data[i] && d.data[i] <= '9' {
			i++
		}
		if i == n {
			d.pos = i
			return nil, false, false, d.fail(KindSyntax, "invalid number")
		}
	}
	if i < len(d.data) && (d.data[i] == 'e' || d.data[i] == 'E') {
		frac = true
		i++
		if i < len(d.data) && (d.data[i] == '+' || d.data[i] == '-') {
			i++
		}
		n := i
		for i < len(d.data) && '0' <= d.data[i] && d.data[i] <= '9' {
			i++
		}
		if i == n {
			d.pos = i
			return nil, false, false, d.fail(KindSyntax, "invalid number")
		}
	}
	d.pos = i
	return digits, neg, frac, nil
}

// uint reads an optional unsigned integer no larger than max.
func (d *decoder) uint(max uint64) (uint64, error) {
	if d.isNull() {
		return 0, nil
	}
	if d.pos >= len(d.data) || (d.data[d.pos] != '-' && (d.data[d.pos] < '0' || d.data[d.pos] > '9')) {
		return 0, d.typeErr("an integer")
	}
	start := d.pos
	digits, neg, frac, err := d.number()
	if err != nil {
		return 0, err
	}
	if frac {
		d.pos = start
		return 0, d.fail(KindType, "must be an integer")
	}
	if neg {
		d.pos = start
		return 0, d.fail(KindValue, fmt.Sprintf("must be a non-negative integer (0..%d)", max))
	}
	var v uint64
	for _, c := range digits {
		x := uint64(c - '0')
		if v > (math.MaxUint64-x)/10 {
			d.pos = start
			return 0, d.fail(KindValue, fmt.Sprintf("out of range (0..%d)", max))
		}
		v = v*10 + x
	}
	if v > max {
		d.pos = start
		return 0, d.fail(KindValue, fmt.Sprintf("out of range (0..%d)", max))
	}
	return v, nil
}

func (d *decoder) u64(dst *uint64) error {
	v, err := d.uint(math.MaxUint64)
	if err == nil && !d.null {
		*dst = v
	}
	return err
}

func (d *decoder) u32(dst *uint32) error {
	v, err := d.uint(math.MaxUint32)
	if err == nil && !d.null {
		*dst = uint32(v)
	}
	return err
}

func (d *decoder) u8(dst *uint8) error {
	v, err := d.uint(math.MaxUint8)
	if err == nil && !d.null {
		*dst = uint8(v)
	}
	return err
}

// i64 reads an optional signed integer (DurationSec and plain "integer").
func (d *decoder) i64(dst *int64) error {
	if d.isNull() {
		return nil
	}
	if d.pos >= len(d.data) || (d.data[d.pos] != '-' && (d.data[d.pos] < '0' || d.data[d.pos] > '9')) {
		return d.typeErr("an integer")
	}
	start := d.pos
	digits, neg, frac, err := d.number()
	if err != nil {
		return err
	}
	if frac {
		d.pos = start
		return d.fail(KindType, "must be an integer")
	}
	var v uint64
	for _, c := range digits {
		x := uint64(c - '0')
		if v > (math.MaxUint64-x)/10 {
			v = math.MaxUint64
			break
		}
		v = v*10 + x
	}
	switch {
	case !neg && v <= math.MaxInt64:
		*dst = int64(v)
	case neg && v <= 1<<63:
		*dst = int64(-v) // -(1<<63) wraps to MinInt64 as intended
	default:
		d.pos = start
		return d.fail(KindValue, "out of the range of a 64-bit integer")
	}
	return nil
}

// dateTime reads an optional RFC 3339 date-time (DateTime of TS 29.571).
func (d *decoder) dateTime(dst *time.Time) error {
	if d.isNull() {
		return nil
	}
	start := d.pos
	b, err := d.stringBytes()
	if err != nil {
		if de, ok := err.(*DecodeError); ok && de.Kind == KindType {
			de.Reason = "must be a date-time string (RFC 3339)"
		}
		return err
	}
	t, ok := parseDateTime(b)
	if !ok {
		d.pos = start
		return d.fail(KindValue, "must be an RFC 3339 date-time")
	}
	*dst = t
	return nil
}

// parseDateTime parses RFC 3339 date-time (YYYY-MM-DDTHH:MM:SS[.frac]Z|±hh:mm)
// without allocating for UTC times. Fractions beyond nanoseconds are
// truncated; a leap second (60) is rejected, as by time.Parse.
func parseDateTime(b []byte) (time.Time, bool) {
	if len(b) < 20 {
		return time.Time{}, false
	}
	num := func(p []byte) (int, bool) {
		n := 0
		for _, c := range p {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	hour, ok4 := num(b[11:13])
	minute, ok5 := num(b[14:16])
	sec, ok6 := num(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || b[4] != '-' || b[7] != '-' ||
		(b[10] != 'T' && b[10] != 't') || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	i := 19
	nsec := 0
	if b[i] == '.' {
		i++
		n := 0
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			if n < 9 {
				nsec = nsec*10 + int(b[i]-'0')
			}
			n++
			i++
		}
		if n == 0 {
			return time.Time{}, false
		}
		for ; n < 9; n++ {
			nsec *= 10
		}
	}
	if i >= len(b) {
		return time.Time{}, false
	}
	loc := time.UTC
	switch b[i] {
	case 'Z', 'z':
		i++
	case '+', '-':
		if len(b)-i != 6 || b[i+3] != ':' {
			return time.Time{}, false
		}
		oh, ok1 := num(b[i+1 : i+3])
		om, ok2 := num(b[i+4 : i+6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		off := (oh*60 + om) * 60
		if b[i] == '-' {
			off = -off
		}
		if off != 0 {
			loc = fixedZone(off)
		}
		i += 6
	default:
		return time.Time{}, false
	}
	if i != len(b) {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc), true
}

// zones holds the time zones of offsets in whole quarter hours (every offset
// in use), so that parsing "+08:00" does not allocate; built once, read-only.
var zones = func() (z [2*24*4 + 1]*time.Location) {
	for i := range z {
		z[i] = time.FixedZone("", (i-24*4)*15*60)
	}
	return z
}()

func fixedZone(off int) *time.Location {
	if off%(15*60) == 0 {
		return zones[off/(15*60)+24*4]
	}
	return time.FixedZone("", off)
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// skip consumes and validates one value of any type.
func (d *decoder) skip() error {
	if d.pos >= len(d.data) {
		return d.fail(KindSyntax, "unexpected end of input")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object(func([]byte) error { return d.skip() })
	case c == '[':
		return d.array(func(int) error { return d.skip() })
	case c == '"':
		_, _, err := d.scanString()
		return err
	case c == 't':
		if bytes.HasPrefix(d.data[d.pos:], []byte("true")) {
			d.pos += 4
			return nil
		}
	case c == 'f':
		if bytes.HasPrefix(d.data[d.pos:], []byte("false")) {
			d.pos += 5
			return nil
		}
	case c == 'n':
		if d.isNull() {
			return nil
		}
	case c == '-' || '0' <= c && c <= '9':
		_, _, _, err := d.number()
		return err
	}
	return d.fail(KindSyntax, fmt.Sprintf("invalid character %q looking for a value", d.data[d.pos]))
}

// raw reads any value and keeps a copy of it (null is absent).
func (d *decoder) raw(dst *json.RawMessage) error {
	if d.isNull() {
		return nil
	}
	start := d.pos
	if err := d.skip(); err != nil {
		return err
	}
	*dst = bytes.Clone(d.data[start:d.pos])
	return nil
}

// extra keeps an unmodelled member.
func (d *decoder) extra(dst *[]RawMember, key []byte) error {
	if len(*dst) >= d.lim.MaxArrayLen {
		return d.fail(KindLimit, fmt.Sprintf("more than %d unknown members in one object", d.lim.MaxArrayLen))
	}
	start := d.pos
	if err := d.skip(); err != nil {
		return err
	}
	*dst = append(*dst, RawMember{Name: string(key), Value: bytes.Clone(d.data[start:d.pos])})
	return nil
}

// strs reads an optional array of strings.
func (d *decoder) strs(dst *[]string) error {
	*dst = (*dst)[:0]
	err := d.array(func(i int) error {
		*dst = append(*dst, "")
		return d.str(&(*dst)[i])
	})
	if len(*dst) == 0 {
		*dst = nil
	}
	return err
}

// times reads an optional array of date-times.
func (d *decoder) times(dst *[]time.Time) error {
	*dst = (*dst)[:0]
	err := d.array(func(i int) error {
		*dst = append(*dst, time.Time{})
		return d.dateTime(&(*dst)[i])
	})
	if len(*dst) == 0 {
		*dst = nil
	}
	return err
}
