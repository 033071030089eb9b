package money

import (
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

func TestParseString(t *testing.T) {
	tests := []struct {
		in, out string
		err     error
	}{
		{"0", "0", nil},
		{"12", "12", nil},
		{"-0.0125", "-0.0125", nil},
		{"+3.50", "3.50", nil},
		{".5", "0.5", nil},
		{"0.000000000000000001", "0.000000000000000001", nil},
		{"9223372036854775807", "9223372036854775807", nil},
		{"-9223372036854775808", "-9223372036854775808", nil},
		{"9223372036854775808", "", ErrOverflow},
		{"99999999999999999999", "", ErrOverflow},
		{"0.0000000000000000001", "", ErrScale},
		{"", "", ErrSyntax},
		{"-", "", ErrSyntax},
		{"1.", "", ErrSyntax},
		{"1.2.3", "", ErrSyntax},
		{"1e3", "", ErrSyntax},
		{"NaN", "", ErrSyntax},
		{"1,000", "", ErrSyntax},
		{" 1", "", ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, err := Parse(tt.in)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Parse(%q) err = %v, want %v", tt.in, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got := d.String(); got != tt.out {
				t.Fatalf("Parse(%q).String() = %q, want %q", tt.in, got, tt.out)
			}
		})
	}
}

func TestRoundModes(t *testing.T) {
	// Values × modes → result at scale 0, the classic table.
	values := []string{"5.5", "2.5", "1.6", "1.1", "1.0", "-1.0", "-1.1", "-1.6", "-2.5", "-5.5"}
	want := map[RoundingMode][]string{
		RoundUp:       {"6", "3", "2", "2", "1", "-1", "-2", "-2", "-3", "-6"},
		RoundDown:     {"5", "2", "1", "1", "1", "-1", "-1", "-1", "-2", "-5"},
		RoundCeiling:  {"6", "3", "2", "2", "1", "-1", "-1", "-1", "-2", "-5"},
		RoundFloor:    {"5", "2", "1", "1", "1", "-1", "-2", "-2", "-3", "-6"},
		RoundHalfUp:   {"6", "3", "2", "1", "1", "-1", "-1", "-2", "-3", "-6"},
		RoundHalfDown: {"5", "2", "2", "1", "1", "-1", "-1", "-2", "-2", "-5"},
		RoundHalfEven: {"6", "2", "2", "1", "1", "-1", "-1", "-2", "-2", "-6"},
	}
	for mode, outs := range want {
		for i, v := range values {
			got, err := MustParse(v).Round(0, mode)
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != outs[i] {
				t.Errorf("Round(%s, 0, %s) = %s, want %s", v, mode, got, outs[i])
			}
			// MulDiv by 1/1 to scale 0 must agree with Round.
			md, err := MustParse(v).MulDiv(1, 1, 0, mode)
			if err != nil {
				t.Fatal(err)
			}
			if !md.Equal(got) {
				t.Errorf("MulDiv(%s,1,1,0,%s) = %s, want %s", v, mode, md, got)
			}
		}
	}
}

// ratRound is the reference: round the exact rational r to scale digits.
func ratRound(r *big.Rat, scale uint8, mode RoundingMode) *big.Rat {
	m := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)
	x := new(big.Rat).Mul(r, new(big.Rat).SetInt(m))
	num, den := x.Num(), x.Denom()
	neg := num.Sign() < 0
	an := new(big.Int).Abs(num)
	q, rem := new(big.Int).QuoRem(an, den, new(big.Int))
	if rem.Sign() != 0 {
		c := new(big.Int).Lsh(rem, 1).Cmp(den)
		up := false
		switch mode {
		case RoundUp:
			up = true
		case RoundCeiling:
			up = !neg
		case RoundFloor:
			up = neg
		case RoundHalfUp:
			up = c >= 0
		case RoundHalfDown:
			up = c > 0
		case RoundHalfEven:
			up = c > 0 || (c == 0 && q.Bit(0) == 1)
		}
		if up {
			q.Add(q, big.NewInt(1))
		}
	}
	if neg {
		q.Neg(q)
	}
	return new(big.Rat).SetFrac(q, m)
}

func randDecimal(r *rand.Rand) Decimal {
	var c int64
	switch r.IntN(4) {
	case 0:
		c = r.Int64N(1000) - 500
	case 1:
		c = r.Int64N(1_000_000_000) - 500_000_000
	case 2:
		c = r.Int64()
		if r.IntN(2) == 0 {
			c = -c
		}
	default:
		c = r.Int64N(1<<40) - 1<<39
	}
	return Decimal{coef: c, scale: uint8(r.IntN(MaxScale + 1))}
}

func fits(r *big.Rat, scale uint8) bool {
	m := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)
	x := new(big.Rat).Mul(r, new(big.Rat).SetInt(m))
	return x.IsInt() && x.Num().IsInt64()
}

// Property: Add, Sub, MulInt are exact or report overflow, never wrap.
func TestPropertyAddSubExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 60000; i++ {
		a, b := randDecimal(r), randDecimal(r)
		sc := max(a.scale, b.scale)
		for _, op := range []string{"add", "sub"} {
			var got Decimal
			var err error
			want := new(big.Rat)
			if op == "add" {
				got, err = a.Add(b)
				want.Add(a.Rat(), b.Rat())
			} else {
				got, err = a.Sub(b)
				want.Sub(a.Rat(), b.Rat())
			}
			if err != nil {
				if !errors.Is(err, ErrOverflow) {
					t.Fatalf("%s(%s,%s): unexpected error %v", op, a, b, err)
				}
				if fits(want, sc) {
					t.Fatalf("%s(%s,%s) reported overflow but %s fits", op, a, b, want.FloatString(int(sc)))
				}
				continue
			}
			if got.Rat().Cmp(want) != 0 {
				t.Fatalf("%s(%s,%s) = %s, want %s", op, a, b, got, want.FloatString(int(sc)))
			}
			if got.scale != sc {
				t.Fatalf("%s scale = %d, want %d", op, got.scale, sc)
			}
		}
		n := r.Int64N(1_000_000) - 500_000
		got, err := a.MulInt(n)
		want := new(big.Rat).Mul(a.Rat(), new(big.Rat).SetInt64(n))
		if err != nil {
			if fits(want, a.scale) {
				t.Fatalf("MulInt(%s,%d) overflow but fits", a, n)
			}
		} else if got.Rat().Cmp(want) != 0 {
			t.Fatalf("MulInt(%s,%d) = %s", a, n, got)
		}
		// Cmp agrees with big.Rat.
		if a.Cmp(b) != a.Rat().Cmp(b.Rat()) {
			t.Fatalf("Cmp(%s,%s) = %d", a, b, a.Cmp(b))
		}
	}
}

// Property: Round and MulDiv equal the exact rational result rounded once.
func TestPropertyRoundMulDiv(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	modes := []RoundingMode{RoundHalfUp, RoundHalfEven, RoundHalfDown, RoundUp, RoundDown, RoundCeiling, RoundFloor}
	for i := 0; i < 60000; i++ {
		a := randDecimal(r)
		mode := modes[r.IntN(len(modes))]
		sc := uint8(r.IntN(MaxScale + 1))
		got, err := a.Round(sc, mode)
		want := ratRound(a.Rat(), sc, mode)
		if err != nil {
			if fits(want, sc) {
				t.Fatalf("Round(%s,%d,%s) overflow but fits", a, sc, mode)
			}
		} else if got.Rat().Cmp(want) != 0 {
			t.Fatalf("Round(%s,%d,%s) = %s, want %s", a, sc, mode, got, want.FloatString(int(sc)))
		}

		num := r.Uint64() >> uint(r.IntN(64))
		den := r.Uint64()>>uint(r.IntN(64)) + 1
		got, err = a.MulDiv(num, den, sc, mode)
		exact := new(big.Rat).Mul(a.Rat(), new(big.Rat).SetFrac(new(big.Int).SetUint64(num), new(big.Int).SetUint64(den)))
		want = ratRound(exact, sc, mode)
		if err != nil {
			if !errors.Is(err, ErrOverflow) {
				t.Fatalf("MulDiv: %v", err)
			}
			if fits(want, sc) {
				t.Fatalf("MulDiv(%s,%d,%d,%d,%s) overflow but %s fits", a, num, den, sc, mode, want.FloatString(int(sc)))
			}
			continue
		}
		if got.Rat().Cmp(want) != 0 {
			t.Fatalf("MulDiv(%s,%d,%d,%d,%s) = %s, want %s", a, num, den, sc, mode, got, want.FloatString(int(sc)))
		}
	}
}

// Property: String and Parse round-trip, and JSON too.
func TestPropertyRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 30000; i++ {
		a := randDecimal(r)
		b, err := Parse(a.String())
		if err != nil || b != a {
			t.Fatalf("Parse(String(%#v)) = %#v, %v", a, b, err)
		}
		js, _ := json.Marshal(a)
		var c Decimal
		if err := json.Unmarshal(js, &c); err != nil || c != a {
			t.Fatalf("JSON round trip of %s: %s → %#v %v", a, js, c, err)
		}
	}
}

func TestJSONNumberLiteralIsExact(t *testing.T) {
	var v struct{ P Decimal }
	if err := json.Unmarshal([]byte(`{"P": 0.1}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.P.String() != "0.1" {
		t.Fatalf("got %s", v.P)
	}
	if err := json.Unmarshal([]byte(`{"P": 1e5}`), &v); err == nil {
		t.Fatal("exponent form accepted")
	}
}

func TestExtremes(t *testing.T) {
	minD := Decimal{coef: math.MinInt64}
	if _, err := minD.Neg(); !errors.Is(err, ErrOverflow) {
		t.Fatal("Neg(min) did not overflow")
	}
	if _, err := minD.MulInt(-1); !errors.Is(err, ErrOverflow) {
		t.Fatal("MulInt(min,-1) did not overflow")
	}
	if _, err := FromInt(1).MulDiv(1, 0, 2, RoundHalfUp); !errors.Is(err, ErrDivZero) {
		t.Fatal("division by zero not reported")
	}
	// Wide intermediate (slow path): (2^62) × (2^63) / (2^63) at scale 18.
	d := Decimal{coef: 1 << 62}
	got, err := d.MulDiv(1<<63, 1<<63, 0, RoundHalfUp)
	if err != nil || got.coef != 1<<62 {
		t.Fatalf("wide MulDiv = %v %v", got, err)
	}
}

func TestCurrency(t *testing.T) {
	for code, exp := range map[string]uint8{"EUR": 2, "USD": 2, "JPY": 0, "KWD": 3, "CLF": 4, "CNY": 2, "VND": 0} {
		c, err := LookupCurrency(code)
		if err != nil || c.Exponent != exp {
			t.Errorf("LookupCurrency(%s) = %v %v, want exponent %d", code, c, err, exp)
		}
	}
	if _, err := LookupCurrency("eur"); !errors.Is(err, ErrUnknownCurrency) {
		t.Error("lower-case code accepted")
	}
	if _, err := LookupCurrency("XXX"); err == nil {
		t.Error("XXX accepted")
	}
	eur, _ := LookupCurrency("EUR")
	v, _ := eur.RoundToMinor(MustParse("1.005"), RoundHalfEven)
	if v.String() != "1.00" {
		t.Errorf("half-even 1.005 → %s", v)
	}
	if len(Currencies()) < 150 {
		t.Errorf("only %d currencies", len(Currencies()))
	}
}

func TestScan(t *testing.T) {
	var d Decimal
	if err := d.Scan("12.340"); err != nil || d.String() != "12.340" {
		t.Fatal(d, err)
	}
	if err := d.Scan(int64(7)); err != nil || d.String() != "7" {
		t.Fatal(d, err)
	}
	if err := d.Scan(1.5); err == nil {
		t.Fatal("float64 scanned into money")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"0", "-1.50", "+.5", "9223372036854775807", "1e3", "0.000000000000000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			return
		}
		e, err := Parse(d.String())
		if err != nil || e != d {
			t.Fatalf("round trip %q → %s → %v %v", s, d, e, err)
		}
	})
}

func BenchmarkMulDiv(b *testing.B) {
	p := MustParse("0.0125")
	b.ReportAllocs()
	for b.Loop() {
		_, _ = p.MulDiv(437, 60, 9, RoundHalfUp)
	}
}
