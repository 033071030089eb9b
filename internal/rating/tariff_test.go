package rating

import (
	"testing"
	"time"
)

func TestNextTariffChange(t *testing.T) {
	e := NewEngine()
	if err := e.Load(loadExamples(t)); err != nil {
		t.Fatal(err)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	cases := []struct {
		name   string
		at     time.Time
		within time.Duration
		want   time.Time // zero: none
	}{
		// consumer-eu: peak Mon–Fri 08:00–20:00, weekend, holidays.
		{"Friday evening peak ends at 20:00", time.Date(2026, 11, 20, 19, 58, 30, 0, berlin), time.Hour,
			time.Date(2026, 11, 20, 20, 0, 0, 0, berlin)},
		{"off-peak Friday night becomes weekend at midnight", time.Date(2026, 11, 20, 22, 0, 0, 0, berlin), 4 * time.Hour,
			time.Date(2026, 11, 21, 0, 0, 0, 0, berlin)},
		{"no change within the window", time.Date(2026, 11, 20, 9, 0, 0, 0, berlin), time.Hour, time.Time{}},
		{"the weekend ends at midnight on Monday", time.Date(2026, 11, 21, 12, 0, 0, 0, berlin), 72 * time.Hour,
			time.Date(2026, 11, 23, 0, 0, 0, 0, berlin)},
		// The night of the switch to summer time: 02:00 → 03:00 on 29 March 2026 (a Sunday).
		{"across the DST shift", time.Date(2026, 3, 28, 23, 0, 0, 0, berlin), 36 * time.Hour,
			time.Date(2026, 3, 30, 0, 0, 0, 0, berlin)},
	}
	for _, c := range cases {
		got, ok := e.NextTariffChange("consumer-eu", c.at, c.within)
		if ok != !c.want.IsZero() || (ok && !got.Equal(c.want)) {
			t.Errorf("%s: got %v %v, want %v", c.name, got.In(berlin), ok, c.want)
		}
	}
	if _, ok := e.NextTariffChange("nope", time.Now(), time.Hour); ok {
		t.Error("unknown plan has a tariff change")
	}
}
