// Package money holds tollgate's exact money types: Decimal, an exact
// fixed-point decimal (an int64 coefficient and a decimal scale), Currency
// with its ISO 4217 minor-unit exponent, and RoundingMode.
//
// Money is never float64 (DESIGN.md §2.2). Every operation that can overflow
// returns an error instead of wrapping; every operation that drops digits
// takes an explicit RoundingMode. Multiplication by a ratio (MulDiv) is
// computed with a 128-bit intermediate, so price × quantity / per is exact
// before its single rounding, and it does not allocate on the common path.
//
// Decimals travel as strings in JSON ("12.50"), YAML and SQL, never as binary
// floating point.
package money
