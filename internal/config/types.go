package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written in YAML as a Go duration string such
// as "10s", "1m30s" or "0".
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String formats d like time.Duration ("1m30s").
func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalYAML implements yaml.Unmarshaler. Errors are reported as
// *yaml.TypeError so that the decoder collects them with the others.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return typeError(n, "expected a duration such as \"10s\"")
	}
	v, err := time.ParseDuration(strings.TrimSpace(n.Value))
	if err != nil {
		msg := fmt.Sprintf("invalid duration %q", n.Value)
		if _, nerr := strconv.ParseFloat(n.Value, 64); nerr == nil {
			msg += " (missing unit, write e.g. \"" + n.Value + "s\")"
		}
		return typeError(n, msg)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// ByteSize is a size in bytes, written in YAML either as an integer or as a
// string with a unit: B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB,
// TiB (powers of 1024), e.g. "512MiB".
type ByteSize int64

var byteUnits = []struct {
	name string
	mult int64
}{
	// Largest first, "B" last: String picks the first unit that divides
	// exactly, ParseByteSize the first suffix that matches.
	{"TiB", 1 << 40}, {"TB", 1e12}, {"GiB", 1 << 30}, {"GB", 1e9},
	{"MiB", 1 << 20}, {"MB", 1e6}, {"KiB", 1 << 10}, {"KB", 1e3}, {"B", 1},
}

// ParseByteSize parses an integer with an optional unit (see [ByteSize]).
func ParseByteSize(s string) (ByteSize, error) {
	s = strings.TrimSpace(s)
	num, mult := s, int64(1)
	for _, u := range byteUnits {
		if len(s) > len(u.name) && strings.EqualFold(s[len(s)-len(u.name):], u.name) {
			num, mult = strings.TrimSpace(s[:len(s)-len(u.name)]), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q (want bytes, or a number with unit B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)", s)
	}
	if n != 0 && (n > math.MaxInt64/mult || n < math.MinInt64/mult) {
		return 0, fmt.Errorf("size %q overflows", s)
	}
	return ByteSize(n * mult), nil
}

// String formats b with the largest unit that divides it exactly.
func (b ByteSize) String() string {
	if b != 0 {
		for _, u := range byteUnits[:len(byteUnits)-1] {
			if int64(b)%u.mult == 0 {
				return strconv.FormatInt(int64(b)/u.mult, 10) + u.name
			}
		}
	}
	return strconv.FormatInt(int64(b), 10)
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return typeError(n, "expected a size such as 1073741824 or \"1GiB\"")
	}
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return typeError(n, err.Error())
	}
	*b = v
	return nil
}

// MarshalYAML implements yaml.Marshaler: a plain integer when no unit
// divides b, else a string such as "512MiB".
func (b ByteSize) MarshalYAML() (any, error) {
	s := b.String()
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return int64(b), nil
	}
	return s, nil
}

// typeError builds the error type the YAML decoder collects (rather than
// aborting on), in the decoder's own "line N: message" form.
func typeError(n *yaml.Node, msg string) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s", n.Line, msg)}}
}
