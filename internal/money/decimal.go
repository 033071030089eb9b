package money

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strconv"
)

// MaxScale is the largest number of fractional digits a Decimal can carry.
const MaxScale = 18

// Errors returned by Decimal arithmetic and parsing.
var (
	ErrOverflow = errors.New("money: overflow")
	ErrSyntax   = errors.New("money: invalid decimal")
	ErrScale    = errors.New("money: scale out of range")
	ErrDivZero  = errors.New("money: division by zero")
)

// pow10 holds 10^0 … 10^19 (10^19 still fits in a uint64).
var pow10 = [20]uint64{
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000,
	10000000000, 100000000000, 1000000000000, 10000000000000, 100000000000000,
	1000000000000000, 10000000000000000, 100000000000000000, 1000000000000000000,
	10000000000000000000,
}

// Decimal is an exact decimal number, coef × 10^-scale. The zero value is 0.
// Decimals with different scales compare and add exactly; 1.5 and 1.50 are
// equal (Cmp == 0) but print differently.
type Decimal struct {
	coef  int64
	scale uint8
}

// New returns coef × 10^-scale.
func New(coef int64, scale uint8) (Decimal, error) {
	if scale > MaxScale {
		return Decimal{}, ErrScale
	}
	return Decimal{coef: coef, scale: scale}, nil
}

// FromInt returns the integer i as a Decimal of scale 0.
func FromInt(i int64) Decimal { return Decimal{coef: i} }

// Coef returns the coefficient; the value is Coef() × 10^-Scale().
func (d Decimal) Coef() int64 { return d.coef }

// Scale returns the number of fractional digits.
func (d Decimal) Scale() uint8 { return d.scale }

// Sign returns -1, 0 or +1.
func (d Decimal) Sign() int {
	switch {
	case d.coef < 0:
		return -1
	case d.coef > 0:
		return 1
	}
	return 0
}

// IsZero reports whether d == 0.
func (d Decimal) IsZero() bool { return d.coef == 0 }

// Neg returns -d. It fails only for the most negative coefficient.
func (d Decimal) Neg() (Decimal, error) {
	if d.coef == math.MinInt64 {
		return Decimal{}, ErrOverflow
	}
	return Decimal{coef: -d.coef, scale: d.scale}, nil
}

// Abs returns |d|.
func (d Decimal) Abs() (Decimal, error) {
	if d.coef < 0 {
		return d.Neg()
	}
	return d, nil
}

// upscale returns d with the larger scale s ≥ d.scale, exactly.
func (d Decimal) upscale(s uint8) (Decimal, error) {
	if s == d.scale {
		return d, nil
	}
	if s > MaxScale {
		return Decimal{}, ErrScale
	}
	c, ok := mulInt64(d.coef, pow10[s-d.scale])
	if !ok {
		return Decimal{}, ErrOverflow
	}
	return Decimal{coef: c, scale: s}, nil
}

func mulInt64(a int64, m uint64) (int64, bool) {
	if a == 0 || m == 1 {
		return a, true
	}
	if m > math.MaxInt64 {
		return 0, false
	}
	neg := a < 0
	ua := uint64(a)
	if neg {
		ua = -ua
	}
	hi, lo := bits.Mul64(ua, m)
	if hi != 0 {
		return 0, false
	}
	return fromMagnitude(lo, neg)
}

// fromMagnitude converts |v| and a sign into an int64, reporting overflow.
func fromMagnitude(v uint64, neg bool) (int64, bool) {
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return int64(-v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

func align(a, b Decimal) (Decimal, Decimal, error) {
	var err error
	switch {
	case a.scale < b.scale:
		a, err = a.upscale(b.scale)
	case b.scale < a.scale:
		b, err = b.upscale(a.scale)
	}
	return a, b, err
}

// Add returns d + e exactly, at the larger of the two scales.
func (d Decimal) Add(e Decimal) (Decimal, error) {
	a, b, err := align(d, e)
	if err != nil {
		return addBig(d, e, false)
	}
	s := a.coef + b.coef
	if (s > a.coef) != (b.coef > 0) {
		return Decimal{}, ErrOverflow
	}
	return Decimal{coef: s, scale: a.scale}, nil
}

// Sub returns d - e exactly, at the larger of the two scales.
func (d Decimal) Sub(e Decimal) (Decimal, error) {
	a, b, err := align(d, e)
	if err != nil {
		return addBig(d, e, true)
	}
	s := a.coef - b.coef
	if (s < a.coef) != (b.coef > 0) {
		return Decimal{}, ErrOverflow
	}
	return Decimal{coef: s, scale: a.scale}, nil
}

// addBig is the slow path of Add and Sub when aligning the scales overflows
// although the result may still fit.
func addBig(d, e Decimal, sub bool) (Decimal, error) {
	sc := max(d.scale, e.scale)
	ten := big.NewInt(10)
	x := new(big.Int).Mul(big.NewInt(d.coef), new(big.Int).Exp(ten, big.NewInt(int64(sc-d.scale)), nil))
	y := new(big.Int).Mul(big.NewInt(e.coef), new(big.Int).Exp(ten, big.NewInt(int64(sc-e.scale)), nil))
	if sub {
		x.Sub(x, y)
	} else {
		x.Add(x, y)
	}
	if !x.IsInt64() {
		return Decimal{}, ErrOverflow
	}
	return Decimal{coef: x.Int64(), scale: sc}, nil
}

// Cmp compares d and e exactly: -1 if d < e, 0 if equal, +1 if d > e.
func (d Decimal) Cmp(e Decimal) int {
	if d.Sign() != e.Sign() {
		if d.Sign() < e.Sign() {
			return -1
		}
		return 1
	}
	a, b, err := align(d, e)
	if err != nil {
		// Scaling overflowed: the larger-scaled number is small; compare
		// with big integers (rare: only near the int64 range).
		return d.big().Cmp(e.big())
	}
	switch {
	case a.coef < b.coef:
		return -1
	case a.coef > b.coef:
		return 1
	}
	return 0
}

// Equal reports whether d and e have the same value (any scale).
func (d Decimal) Equal(e Decimal) bool { return d.Cmp(e) == 0 }

// Min returns the smaller of d and e.
func Min(d, e Decimal) Decimal {
	if d.Cmp(e) <= 0 {
		return d
	}
	return e
}

// Max returns the larger of d and e.
func Max(d, e Decimal) Decimal {
	if d.Cmp(e) >= 0 {
		return d
	}
	return e
}

// MulInt returns d × n exactly.
func (d Decimal) MulInt(n int64) (Decimal, error) {
	neg := (d.coef < 0) != (n < 0)
	hi, lo := bits.Mul64(absU(d.coef), absU(n))
	if hi != 0 {
		return Decimal{}, ErrOverflow
	}
	c, ok := fromMagnitude(lo, neg)
	if !ok {
		return Decimal{}, ErrOverflow
	}
	if c == 0 {
		neg = false
	}
	return Decimal{coef: c, scale: d.scale}, nil
}

func absU(v int64) uint64 {
	if v < 0 {
		return -uint64(v)
	}
	return uint64(v)
}

// Round returns d rounded to scale fractional digits with mode. When scale
// is larger than d's scale, digits are added exactly (no rounding happens).
func (d Decimal) Round(scale uint8, mode RoundingMode) (Decimal, error) {
	if scale > MaxScale {
		return Decimal{}, ErrScale
	}
	if scale >= d.scale {
		return d.upscale(scale)
	}
	div := pow10[d.scale-scale]
	neg := d.coef < 0
	a := absU(d.coef)
	q, r := a/div, a%div
	q = roundQuotient(q, r, div, neg, mode)
	c, ok := fromMagnitude(q, neg)
	if !ok {
		return Decimal{}, ErrOverflow
	}
	return Decimal{coef: c, scale: scale}, nil
}

// MulDiv returns d × num / den rounded to scale digits with mode. The
// product is formed in 128 bits so no precision is lost before the single
// rounding; results that need more than 128 bits fall back to math/big.
func (d Decimal) MulDiv(num, den uint64, scale uint8, mode RoundingMode) (Decimal, error) {
	if den == 0 {
		return Decimal{}, ErrDivZero
	}
	if scale > MaxScale {
		return Decimal{}, ErrScale
	}
	neg := d.coef < 0
	hi, lo := bits.Mul64(absU(d.coef), num)
	if scale >= d.scale {
		m := pow10[scale-d.scale]
		if m != 1 {
			var ok bool
			hi, lo, ok = mul128by64(hi, lo, m)
			if !ok {
				return d.mulDivBig(num, den, scale, mode)
			}
		}
	} else {
		dh, dl := bits.Mul64(den, pow10[d.scale-scale])
		if dh != 0 {
			return d.mulDivBig(num, den, scale, mode)
		}
		den = dl
	}
	// 128-bit ÷ 64-bit long division.
	qh, r1 := hi/den, hi%den
	ql, r := bits.Div64(r1, lo, den)
	if qh != 0 {
		return Decimal{}, ErrOverflow
	}
	q := roundQuotient(ql, r, den, neg, mode)
	if q < ql { // wrapped past 2^64-1
		return Decimal{}, ErrOverflow
	}
	c, ok := fromMagnitude(q, neg && q != 0)
	if !ok {
		return Decimal{}, ErrOverflow
	}
	return Decimal{coef: c, scale: scale}, nil
}

func mul128by64(hi, lo, m uint64) (uint64, uint64, bool) {
	h1, l1 := bits.Mul64(lo, m)
	h2, l2 := bits.Mul64(hi, m)
	if h2 != 0 {
		return 0, 0, false
	}
	nh, carry := bits.Add64(h1, l2, 0)
	if carry != 0 {
		return 0, 0, false
	}
	return nh, l1, true
}

// mulDivBig is the exact slow path of MulDiv for intermediates wider than
// 128 bits.
func (d Decimal) mulDivBig(num, den uint64, scale uint8, mode RoundingMode) (Decimal, error) {
	n := new(big.Int).SetUint64(absU(d.coef))
	n.Mul(n, new(big.Int).SetUint64(num))
	dn := new(big.Int).SetUint64(den)
	ten := big.NewInt(10)
	if scale >= d.scale {
		n.Mul(n, new(big.Int).Exp(ten, big.NewInt(int64(scale-d.scale)), nil))
	} else {
		dn.Mul(dn, new(big.Int).Exp(ten, big.NewInt(int64(d.scale-scale)), nil))
	}
	q, r := new(big.Int).QuoRem(n, dn, new(big.Int))
	if !q.IsUint64() {
		return Decimal{}, ErrOverflow
	}
	// Compare 2r with den for the half cases, in big arithmetic.
	twice := new(big.Int).Lsh(r, 1)
	qu := roundQuotientCmp(q.Uint64(), r.Sign() != 0, twice.Cmp(dn), d.coef < 0, mode)
	if qu < q.Uint64() {
		return Decimal{}, ErrOverflow
	}
	c, ok := fromMagnitude(qu, d.coef < 0 && qu != 0)
	if !ok {
		return Decimal{}, ErrOverflow
	}
	return Decimal{coef: c, scale: scale}, nil
}

// roundQuotient rounds the magnitude quotient q (with remainder r of divisor
// div, r < div) of a value whose sign is neg.
func roundQuotient(q, r, div uint64, neg bool, mode RoundingMode) uint64 {
	if r == 0 {
		return q
	}
	// half: compare r with div-r to avoid overflow of 2r.
	var half int
	switch other := div - r; {
	case r < other:
		half = -1
	case r > other:
		half = 1
	}
	return roundQuotientCmp(q, true, half, neg, mode)
}

// roundQuotientCmp applies mode given whether the remainder is non-zero and
// how twice the remainder compares with the divisor (-1, 0, +1).
func roundQuotientCmp(q uint64, inexact bool, half int, neg bool, mode RoundingMode) uint64 {
	if !inexact {
		return q
	}
	up := false
	switch mode {
	case RoundDown:
	case RoundUp:
		up = true
	case RoundCeiling:
		up = !neg
	case RoundFloor:
		up = neg
	case RoundHalfUp:
		up = half >= 0
	case RoundHalfDown:
		up = half > 0
	case RoundHalfEven:
		up = half > 0 || (half == 0 && q%2 == 1)
	}
	if up {
		return q + 1
	}
	return q
}

func (d Decimal) big() *big.Rat {
	den := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.scale)), nil)
	return new(big.Rat).SetFrac(big.NewInt(d.coef), den)
}

// Rat returns d as an exact big.Rat (for tests and reporting, not hot paths).
func (d Decimal) Rat() *big.Rat { return d.big() }

// String formats d with exactly Scale() fractional digits, e.g. "-1.50".
func (d Decimal) String() string {
	var buf [24]byte
	return string(d.AppendText(buf[:0]))
}

// AppendText appends the String form of d to b.
func (d Decimal) AppendText(b []byte) []byte {
	if d.coef < 0 {
		b = append(b, '-')
	}
	var digits [20]byte
	s := strconv.AppendUint(digits[:0], absU(d.coef), 10)
	sc := int(d.scale)
	if sc == 0 {
		return append(b, s...)
	}
	if len(s) <= sc {
		b = append(b, '0', '.')
		for i := len(s); i < sc; i++ {
			b = append(b, '0')
		}
		return append(b, s...)
	}
	b = append(b, s[:len(s)-sc]...)
	b = append(b, '.')
	return append(b, s[len(s)-sc:]...)
}

// Normalize returns d with trailing fractional zeros removed (1.500 → 1.5).
func (d Decimal) Normalize() Decimal {
	for d.scale > 0 && d.coef%10 == 0 {
		d.coef /= 10
		d.scale--
	}
	return d
}

// Parse parses a plain decimal such as "12", "-0.0125" or "+3.50". Exponents,
// thousands separators, NaN and infinities are rejected; at most MaxScale
// fractional digits are accepted.
func Parse(s string) (Decimal, error) {
	if len(s) == 0 {
		return Decimal{}, fmt.Errorf("%w: empty string", ErrSyntax)
	}
	i := 0
	neg := false
	switch s[0] {
	case '-':
		neg = true
		i++
	case '+':
		i++
	}
	var mag uint64
	scale := -1
	digits := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c == '.' {
			if scale >= 0 {
				return Decimal{}, fmt.Errorf("%w: %q", ErrSyntax, s)
			}
			scale = 0
			continue
		}
		if c < '0' || c > '9' {
			return Decimal{}, fmt.Errorf("%w: %q", ErrSyntax, s)
		}
		digits++
		hi, lo := bits.Mul64(mag, 10)
		lo, carry := bits.Add64(lo, uint64(c-'0'), 0)
		if hi != 0 || carry != 0 {
			return Decimal{}, fmt.Errorf("%w: %q", ErrOverflow, s)
		}
		mag = lo
		if scale >= 0 {
			scale++
			if scale > MaxScale {
				return Decimal{}, fmt.Errorf("%w: %q has more than %d fractional digits", ErrScale, s, MaxScale)
			}
		}
	}
	if digits == 0 || scale == 0 {
		return Decimal{}, fmt.Errorf("%w: %q", ErrSyntax, s)
	}
	if scale < 0 {
		scale = 0
	}
	c, ok := fromMagnitude(mag, neg)
	if !ok {
		return Decimal{}, fmt.Errorf("%w: %q", ErrOverflow, s)
	}
	return Decimal{coef: c, scale: uint8(scale)}, nil
}

// MustParse is Parse for constants in tests and examples; it panics on error.
func MustParse(s string) Decimal {
	d, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}
