package rating

import (
	"testing"
	"time"
)

// Benchmarks of the rating hot path (S1.9: rating tables resident in
// memory). Run:
//
//	go test -run '^$' -bench . -benchmem ./internal/rating/
//
// Targets: ≤ 1 µs and 0 allocs per rated event with Explain off.
func BenchmarkRate(b *testing.B) {
	e := NewEngine()
	if err := e.Load(loadExamples(b)); err != nil {
		b.Fatal(err)
	}
	berlin := mustLoc("Europe/Berlin")
	mar := time.Date(2026, 3, 1, 0, 0, 0, 0, berlin).Unix()
	cases := []struct {
		name string
		ev   Event
	}{
		{
			// (a) Tuesday 19:58 → 20:03 to a German mobile: peak/off-peak split.
			"voice-band-split",
			Event{PlanID: "consumer-eu", Service: "voice", Destination: "+4915112345678",
				Start: time.Date(2026, 3, 10, 19, 58, 0, 0, berlin), Quantity: 300},
		},
		{
			// (b) 200 MiB of data across the 1 GiB tier edge, tier_basis
			// period with a usage counter, under the monthly cap.
			"data-tiers-period",
			Event{PlanID: "consumer-eu", Service: "data", Destination: "",
				Start: time.Date(2026, 3, 10, 10, 0, 0, 0, berlin), Quantity: 200 << 20,
				Counters: []Counter{
					{ID: "tier:data", PeriodStart: mar, Units: 1<<30 - 100<<20},
					{ID: "data-cap", PeriodStart: mar, Units: 0},
				}},
		},
		{
			// (c) A Saturday SMS with a percentage discount (weekend −25 %)
			// and an allowance counter (100 free SMS used up this month).
			"sms-discount-allowance",
			Event{PlanID: "bench-sms", Service: "sms", Destination: "+4915112345678",
				Start: time.Date(2026, 3, 14, 10, 0, 0, 0, berlin), Quantity: 1,
				Counters: []Counter{{ID: "free-sms", PeriodStart: mar, Units: 100}}},
		},
	}
	p, err := ParsePlan([]byte(benchSMSPlan))
	if err != nil {
		b.Fatal(err)
	}
	plans := append(loadExamples(b), p)
	if err := e.Load(plans); err != nil {
		b.Fatal(err)
	}
	for _, explain := range []bool{false, true} {
		for _, c := range cases {
			name := c.name
			if explain {
				name += "/explain"
			}
			b.Run(name, func(b *testing.B) {
				ev := c.ev
				ev.Explain = explain
				var res Result
				if err := e.Rate(&ev, &res); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				n := 0
				for b.Loop() {
					if err := e.Rate(&ev, &res); err != nil {
						b.Fatal(err)
					}
					n++
				}
				// Duration(n).Seconds()×1e9 is n as a real number.
				b.ReportMetric(time.Duration(n).Seconds()*1e9/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}

const benchSMSPlan = `
id: bench-sms
currency: EUR
timezone: Europe/Berlin
zones:
  - {id: national, prefixes: ["49"]}
  - {id: mobile, prefixes: ["4915", "4916", "4917"]}
bands:
  - {id: weekend, days: [sat, sun]}
  - {id: weekday, default: true}
rates:
  - {service: sms, price: "0.09"}
discounts:
  - {id: free-sms, type: allowance, service: sms, units: 100, period: month}
  - {id: weekend-sms, type: percentage, service: sms, bands: [weekend], percent: "25"}
`
