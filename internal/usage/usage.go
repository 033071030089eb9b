// Package usage defines the units in which tollgate measures consumption.
// A quantity is always a uint64 count of one Unit: seconds of a call, bytes
// of a data session, messages, events, or generic cloud units such as
// vCPU-seconds. Volumes are never int32 (DESIGN.md §2.2).
package usage

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// Unit is the unit of a usage quantity.
type Unit uint8

// The units. Time-based units (Second) can be split across tariff time
// bands; the others are rated at the event's start time.
const (
	Invalid    Unit = iota
	Second          // duration, e.g. a voice call
	Byte            // volume, e.g. a data session
	Message         // an SMS or MMS
	Event           // a one-time event of a custom service
	VCPUSecond      // cloud compute: one vCPU for one second
	GiBHour         // cloud memory or storage: one GiB held for one hour
	Generic         // a generic counted unit for custom services ("unit")
)

var unitNames = [...]string{
	Invalid:    "invalid",
	Second:     "second",
	Byte:       "byte",
	Message:    "message",
	Event:      "event",
	VCPUSecond: "vcpu_second",
	GiBHour:    "gib_hour",
	Generic:    "unit",
}

// ErrInvalid is wrapped by every parse error of this package.
var ErrInvalid = errors.New("usage: invalid")

// String returns the unit's configuration name ("second", "byte" …).
func (u Unit) String() string {
	if int(u) < len(unitNames) {
		return unitNames[u]
	}
	return "Unit(" + strconv.Itoa(int(u)) + ")"
}

// IsTime reports whether quantities of u are durations in seconds, which
// rating may split at time-band boundaries.
func (u Unit) IsTime() bool { return u == Second }

// ParseUnit parses a unit name; plural forms ("seconds", "bytes") are accepted.
func ParseUnit(s string) (Unit, error) {
	s = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), "s")
	for i, n := range unitNames {
		if i != int(Invalid) && (n == s || strings.TrimSuffix(n, "s") == s) {
			return Unit(i), nil
		}
	}
	return Invalid, fmt.Errorf("%w unit %q (want second, byte, message, event, vcpu_second, gib_hour or unit)", ErrInvalid, s)
}

// MarshalText implements encoding.TextMarshaler.
func (u Unit) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (u *Unit) UnmarshalText(b []byte) error {
	v, err := ParseUnit(string(b))
	if err != nil {
		return err
	}
	*u = v
	return nil
}

var byteSuffixes = []struct {
	s string
	m uint64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12}, {"b", 1},
}

// ParseQuantity parses a quantity of unit u. Plain integers are accepted for
// every unit. Seconds also accept Go durations with whole seconds ("90s",
// "1m30s", "2h"); bytes accept binary and decimal suffixes ("1KiB",
// "10 MiB", "1GB", "512B").
func ParseQuantity(s string, u Unit) (uint64, error) {
	t := strings.TrimSpace(s)
	if n, err := strconv.ParseUint(t, 10, 64); err == nil {
		return n, nil
	}
	switch u {
	case Second:
		d, err := time.ParseDuration(t)
		if err != nil || d < 0 || d%time.Second != 0 {
			return 0, fmt.Errorf("%w quantity %q of seconds (want an integer or a duration in whole seconds such as 60s or 1m)", ErrInvalid, s)
		}
		return uint64(d / time.Second), nil
	case Byte:
		lt := strings.ToLower(t)
		for _, suf := range byteSuffixes {
			if !strings.HasSuffix(lt, suf.s) {
				continue
			}
			num := strings.TrimSpace(lt[:len(lt)-len(suf.s)])
			n, err := strconv.ParseUint(num, 10, 64)
			if err != nil {
				break
			}
			hi, lo := bits.Mul64(n, suf.m)
			if hi != 0 {
				return 0, fmt.Errorf("%w quantity %q: overflows uint64", ErrInvalid, s)
			}
			return lo, nil
		}
		return 0, fmt.Errorf("%w quantity %q of bytes (want an integer or a size such as 1KiB, 10MiB, 1GB)", ErrInvalid, s)
	}
	return 0, fmt.Errorf("%w quantity %q of %s (want a non-negative integer)", ErrInvalid, s, u)
}

// FormatQuantity formats q of unit u for people: "1m30s", "10MiB", "3 messages".
func FormatQuantity(q uint64, u Unit) string {
	switch u {
	case Second:
		if q <= math.MaxInt64/uint64(time.Second) {
			return (time.Duration(q) * time.Second).String()
		}
	case Byte:
		units := []string{"TiB", "GiB", "MiB", "KiB"}
		for i, m := range []uint64{1 << 40, 1 << 30, 1 << 20, 1 << 10} {
			if q >= m && q%m == 0 {
				return strconv.FormatUint(q/m, 10) + units[i]
			}
		}
		return strconv.FormatUint(q, 10) + "B"
	}
	return strconv.FormatUint(q, 10) + " " + u.String()
}
