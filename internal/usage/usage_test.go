package usage

import (
	"errors"
	"testing"
)

func TestParseQuantity(t *testing.T) {
	tests := []struct {
		in   string
		u    Unit
		want uint64
		ok   bool
	}{
		{"60", Second, 60, true},
		{"1m30s", Second, 90, true},
		{"2h", Second, 7200, true},
		{"1.5s", Second, 0, false},
		{"-5s", Second, 0, false},
		{"1KiB", Byte, 1024, true},
		{"10 MiB", Byte, 10 << 20, true},
		{"1GB", Byte, 1e9, true},
		{"512B", Byte, 512, true},
		{"18446744073709551615", Byte, 1<<64 - 1, true},
		{"17179869184GiB", Byte, 0, false},
		{"3", Message, 3, true},
		{"3KiB", Message, 0, false},
		{"", Event, 0, false},
		{"-1", Event, 0, false},
	}
	for _, tt := range tests {
		got, err := ParseQuantity(tt.in, tt.u)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("ParseQuantity(%q, %s) = %d, %v; want %d ok=%v", tt.in, tt.u, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("error %v does not wrap ErrInvalid", err)
		}
	}
}

func TestUnitNames(t *testing.T) {
	for u := Second; u <= Generic; u++ {
		got, err := ParseUnit(u.String())
		if err != nil || got != u {
			t.Errorf("ParseUnit(%q) = %v, %v", u.String(), got, err)
		}
	}
	for in, want := range map[string]Unit{"seconds": Second, "bytes": Byte, "messages": Message, "units": Generic, "VCPU_SECONDS": VCPUSecond} {
		if got, err := ParseUnit(in); err != nil || got != want {
			t.Errorf("ParseUnit(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseUnit("furlong"); err == nil {
		t.Error("unknown unit accepted")
	}
}

func TestFormatQuantity(t *testing.T) {
	for _, tt := range []struct {
		q    uint64
		u    Unit
		want string
	}{{90, Second, "1m30s"}, {10 << 20, Byte, "10MiB"}, {1000, Byte, "1000B"}, {3, Message, "3 message"}} {
		if got := FormatQuantity(tt.q, tt.u); got != tt.want {
			t.Errorf("FormatQuantity(%d,%s) = %q, want %q", tt.q, tt.u, got, tt.want)
		}
	}
}
