package money

import "fmt"

// RoundingMode says which way digits that do not fit are rounded. A tariff
// names its mode explicitly; there is no hidden default in arithmetic.
type RoundingMode uint8

const (
	// RoundHalfUp rounds to nearest, ties away from zero (commercial rounding).
	RoundHalfUp RoundingMode = iota
	// RoundHalfEven rounds to nearest, ties to the even digit (banker's rounding).
	RoundHalfEven
	// RoundHalfDown rounds to nearest, ties toward zero.
	RoundHalfDown
	// RoundUp rounds away from zero.
	RoundUp
	// RoundDown rounds toward zero (truncation).
	RoundDown
	// RoundCeiling rounds toward +∞.
	RoundCeiling
	// RoundFloor rounds toward −∞.
	RoundFloor
)

var roundingNames = [...]string{
	RoundHalfUp:   "half_up",
	RoundHalfEven: "half_even",
	RoundHalfDown: "half_down",
	RoundUp:       "up",
	RoundDown:     "down",
	RoundCeiling:  "ceiling",
	RoundFloor:    "floor",
}

// String returns the mode's configuration name, e.g. "half_up".
func (m RoundingMode) String() string {
	if int(m) < len(roundingNames) {
		return roundingNames[m]
	}
	return fmt.Sprintf("RoundingMode(%d)", uint8(m))
}

// ParseRoundingMode parses a configuration name such as "half_even".
func ParseRoundingMode(s string) (RoundingMode, error) {
	for i, n := range roundingNames {
		if n == s {
			return RoundingMode(i), nil
		}
	}
	return 0, fmt.Errorf("money: unknown rounding mode %q (want one of half_up, half_even, half_down, up, down, ceiling, floor)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (m RoundingMode) MarshalText() ([]byte, error) {
	if int(m) >= len(roundingNames) {
		return nil, fmt.Errorf("money: invalid rounding mode %d", uint8(m))
	}
	return []byte(roundingNames[m]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *RoundingMode) UnmarshalText(b []byte) error {
	v, err := ParseRoundingMode(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}
