package money

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrUnknownCurrency is returned for a code that is not an active ISO 4217
// currency.
var ErrUnknownCurrency = errors.New("money: unknown currency")

// Currency is an ISO 4217 currency: its alphabetic code and the exponent of
// its minor unit (2 for EUR cents, 0 for JPY, 3 for KWD fils).
type Currency struct {
	Code     string
	Exponent uint8
}

// String returns the currency code.
func (c Currency) String() string { return c.Code }

// IsZero reports whether c is the zero Currency (no currency).
func (c Currency) IsZero() bool { return c.Code == "" }

// Exponent groups of active ISO 4217 currencies (list as amended to 2025).
// Codes not listed under 0, 3 or 4 have exponent 2.
const (
	iso4217Exp2 = "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD " +
		"CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP " +
		"GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL " +
		"MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN " +
		"QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD " +
		"TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG"
	iso4217Exp0 = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
	iso4217Exp3 = "BHD IQD JOD KWD LYD OMR TND"
	iso4217Exp4 = "CLF UYW"
)

var currencies = func() map[string]Currency {
	m := make(map[string]Currency, 200)
	for exp, list := range map[uint8]string{0: iso4217Exp0, 2: iso4217Exp2, 3: iso4217Exp3, 4: iso4217Exp4} {
		for _, code := range strings.Fields(list) {
			m[code] = Currency{Code: code, Exponent: exp}
		}
	}
	return m
}()

// LookupCurrency returns the ISO 4217 currency with the given code, which
// must be three upper-case letters.
func LookupCurrency(code string) (Currency, error) {
	c, ok := currencies[code]
	if !ok {
		return Currency{}, fmt.Errorf("%w %q", ErrUnknownCurrency, code)
	}
	return c, nil
}

// Currencies returns every known currency, sorted by code.
func Currencies() []Currency {
	out := make([]Currency, 0, len(currencies))
	for _, c := range currencies {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// RoundToMinor rounds d to the currency's minor unit (2 digits for EUR).
func (c Currency) RoundToMinor(d Decimal, mode RoundingMode) (Decimal, error) {
	return d.Round(c.Exponent, mode)
}

// MarshalText implements encoding.TextMarshaler (the code).
func (c Currency) MarshalText() ([]byte, error) { return []byte(c.Code), nil }

// UnmarshalText implements encoding.TextUnmarshaler; the code must be known.
func (c *Currency) UnmarshalText(b []byte) error {
	v, err := LookupCurrency(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}
