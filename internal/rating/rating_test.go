package rating

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/internal/money"
)

// testPlan is the plan of most table tests. Prices are chosen so that the
// expected amounts can be worked out by hand in the case comments.
const testPlan = `
id: t
currency: EUR
timezone: Europe/Berlin
services:
  - {id: batch, unit: event}
  - {id: batchv, unit: event}
zones:
  - {id: national, prefixes: ["49"]}
  - {id: mobile, prefixes: ["4915", "4916", "4917"]}
  - {id: intl, prefixes: ["1", "33", "44"]}
bands:
  - {id: holiday, dates: ["2026-12-25", "12-26"]}
  - {id: weekend, days: [sat, sun]}
  - {id: peak, days: [mon, tue, wed, thu, fri], from: "08:00", to: "20:00"}
  - {id: offpeak, default: true}
rates:
  - id: mob-peak                     # rates[0]
    service: voice
    zone: mobile
    band: peak
    connect_fee: "0.05"
    minimum_charge: "0.15"
    increments: {first: 60, next: 60}
    tiers:
      - {upto: 300, price: "0.09", per: 60}
      - {price: "0.05", per: 60}
  - {id: mob, service: voice, zone: mobile, increments: {first: 60, next: 60}, price: "0.04", per: 60}
  - {id: nat, service: voice, zone: national, connect_fee: "0.02", price: "0.03", per: 60}
  - {id: nat-weekend, service: voice, zone: national, band: weekend, price: "0"}
  - {id: nat-holiday, service: voice, zone: national, band: holiday, price: "0.01", per: 60}
  - {id: intl, service: voice, zone: intl, connect_fee: "0.15", increments: {first: 1, next: 1}, price: "0.0035"}
  - {id: any, service: voice, increments: {first: 60, next: 60}, price: "0.99", per: 60}
  - {id: sms, service: sms, price: "0.09"}
  - id: data
    service: data
    increments: {first: 1KiB, next: 1KiB}
    tier_basis: period
    tiers:
      - {upto: 1GiB, price: "2.00", per: 1GiB}
      - {price: "1.00", per: 1GiB}
  - id: batch
    service: batch
    tiers:
      - {upto: 1000, price: "0.010"}
      - {upto: 2000, price: "0.008"}
      - {price: "0.005"}
  - id: batchv
    service: batchv
    tier_mode: volume
    tiers:
      - {upto: 1000, price: "0.010"}
      - {upto: 2000, price: "0.008"}
      - {price: "0.005"}
discounts:
  - id: weekend-voice
    type: percentage
    service: voice
    bands: [weekend]
    percent: "20"
    valid_from: "2026-01-01T00:00:00Z"
    valid_until: "2027-01-01T00:00:00Z"
  - {id: data-cap, type: cap, service: data, amount: "30.00", period: month}
`

// allowPlan tests allowances.
const allowPlan = `
id: allow
currency: EUR
timezone: Europe/Berlin
rates:
  - {service: voice, connect_fee: "0.10", minimum_charge: "0.50", increments: {first: 60, next: 60}, price: "0.20", per: 60}
  - {service: sms, price: "0.09"}
discounts:
  - {id: free-min, type: allowance, service: voice, units: 600, period: month}
  - {id: free-sms, type: allowance, service: sms, units: 100, period: month}
`

// nightPlan has a band that wraps past midnight.
const nightPlan = `
id: night
currency: EUR
timezone: Europe/Berlin
bands:
  - {id: night, from: "22:00", to: "06:00"}
  - {id: day, default: true}
rates:
  - {id: n, service: voice, band: night, price: "1.00", per: 60}
  - {id: d, service: voice, band: day, price: "2.00", per: 60}
`

// dstPlan has a band edge at 02:30, a local time that does not exist on
// the spring DST day in Berlin and exists twice on the autumn one.
const dstPlan = `
id: dst
currency: EUR
timezone: Europe/Berlin
bands:
  - {id: a, from: "00:00", to: "02:30"}
  - {id: b, default: true}
rates:
  - {id: ra, service: voice, band: a, price: "1.00", per: 60}
  - {id: rb, service: voice, band: b, price: "2.00", per: 60}
`

var berlin = mustLoc("Europe/Berlin")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", s, berlin)
	if err != nil {
		panic(err)
	}
	return t
}

func newTestEngine(t testing.TB, docs ...string) *Engine {
	t.Helper()
	var plans []*Plan
	for _, d := range docs {
		p, err := ParsePlan([]byte(d))
		if err != nil {
			t.Fatalf("ParsePlan: %v", err)
		}
		plans = append(plans, p)
	}
	e := NewEngine()
	if err := e.Load(plans); err != nil {
		t.Fatalf("Load: %v", err)
	}
	return e
}

// sumLines checks that the explanation adds up to the amount.
func sumLines(t *testing.T, res *Result) {
	t.Helper()
	var s money.Decimal
	for _, l := range res.Lines {
		var err error
		if s, err = s.Add(l.Amount); err != nil {
			t.Fatal(err)
		}
	}
	if len(res.Lines) > 0 && !s.Equal(res.Amount) {
		t.Errorf("lines add up to %s, amount is %s", s, res.Amount)
	}
}

const (
	mar26 = 1772319600 // 2026-03-01 00:00 Europe/Berlin
	feb26 = 1769900400 // 2026-02-01 00:00 Europe/Berlin
)

func TestRate(t *testing.T) {
	e := newTestEngine(t, testPlan, allowPlan, nightPlan, dstPlan)
	type seg struct {
		band  string
		units uint64
	}
	tests := []struct {
		name  string
		ev    Event
		want  string // amount
		units uint64
		free  uint64
		zone  string
		band  string
		segs  []seg     // tier lines (band, units) in order, if checked
		delta []Counter // if non-nil, the exact deltas
	}{
		{
			// 19:58 → 20:03 to a mobile: 120 s peak, 180 s off-peak.
			// peak: 0.09 × 120/60 = 0.18; off-peak (rate mob): 0.04 × 180/60
			// = 0.12; + connect 0.05 = 0.35 (≥ minimum 0.15).
			name: "band split peak to offpeak",
			ev:   Event{PlanID: "t", Service: "voice", Destination: "+4915112345678", Start: at("2026-03-10 19:58:00"), Quantity: 300},
			want: "0.35", units: 300, zone: "mobile", band: "peak",
			segs: []seg{{"peak", 120}, {"offpeak", 180}},
		},
		{
			// 61 s at 60/60 = 120 units: 0.09 × 2 = 0.18 + 0.05 = 0.23.
			name: "60/60 increments",
			ev:   Event{PlanID: "t", Service: "voice", Destination: "4915112345678", Start: at("2026-03-10 10:00:00"), Quantity: 61},
			want: "0.23", units: 120, zone: "mobile", band: "peak",
		},
		{
			// 400 s → 420 units: tier 0 300 units 0.45, tier 1 120 units
			// 0.10; + 0.05 = 0.60.
			name: "graduated tiers inside an event",
			ev:   Event{PlanID: "t", Service: "voice", Destination: "4916", Start: at("2026-03-10 10:00:00"), Quantity: 400},
			want: "0.60", units: 420, zone: "mobile", band: "peak",
		},
		{
			// 1 s → 60 units: 0.09 + 0.05 = 0.14, raised to the minimum 0.15.
			name: "minimum charge",
			ev:   Event{PlanID: "t", Service: "voice", Destination: "4917", Start: at("2026-03-10 10:00:00"), Quantity: 1},
			want: "0.15", units: 60, zone: "mobile", band: "peak",
		},
		{
			// 1/1 international: 61 × 0.0035 = 0.2135 + 0.15 = 0.3635 → 0.36.
			name: "1/1 increments with connect fee",
			ev:   Event{PlanID: "t", Service: "voice", Destination: "0033123456", Start: at("2026-03-10 10:00:00"), Quantity: 61},
			want: "0.36", units: 61, zone: "intl", band: "peak",
		},
		{
			// No zone: rate "any", 60/60: 61 s → 120 units → 0.99 × 2 = 1.98.
			name: "unknown destination uses zone *",
			ev:   Event{PlanID: "t", Service: "voice", Destination: "999", Start: at("2026-03-10 10:00:00"), Quantity: 61},
			want: "1.98", units: 120, zone: "", band: "peak",
		},
		{
			name: "empty destination uses zone *",
			ev:   Event{PlanID: "t", Service: "voice", Start: at("2026-03-10 10:00:00"), Quantity: 60},
			want: "0.99", units: 60, zone: "", band: "peak",
		},
		{
			// 49 30… is national (49), not mobile: 0.03 × 90/60 = 0.045 +
			// connect 0.02 = 0.065 → half_up 0.07.
			name: "longest prefix 49 vs 4915",
			ev:   Event{PlanID: "t", Service: "voice", Destination: "+493012345", Start: at("2026-03-10 10:00:00"), Quantity: 90},
			want: "0.07", units: 90, zone: "national", band: "peak",
		},
		{
			// Friday 23:58 national, 300 s: 120 s off-peak at 0.03/60 = 0.06,
			// then Saturday (weekend, price 0) 180 s = 0; + 0.02 = 0.08. The
			// weekend discount looks at the start band (off-peak): none.
			name: "split across midnight into the weekend",
			ev:   Event{PlanID: "t", Service: "voice", Destination: "4930", Start: at("2026-03-13 23:58:00"), Quantity: 300},
			want: "0.08", units: 300, zone: "national", band: "offpeak",
			segs: []seg{{"offpeak", 120}, {"weekend", 180}},
		},
		{
			// Tuesday 23:58 → Wednesday 00:03 stays off-peak: one segment.
			name: "midnight inside one band is not a split",
			ev:   Event{PlanID: "t", Service: "voice", Destination: "4930", Start: at("2026-03-10 23:58:00"), Quantity: 300},
			want: "0.17", units: 300, zone: "national", band: "offpeak", // 0.15 + 0.02
			segs: []seg{{"offpeak", 300}},
		},
		{
			// 2026-12-25 is a Friday but a holiday: 0.01 × 120/60 = 0.02; the
			// connect fee is the first segment's rate's (nat-holiday: none).
			name: "holiday date beats weekday",
			ev:   Event{PlanID: "t", Service: "voice", Destination: "4930", Start: at("2026-12-25 10:00:00"), Quantity: 120},
			want: "0.02", units: 120, zone: "national", band: "holiday",
		},
		{
			// "12-26" recurs: Sunday 2027-12-26 is holiday, not weekend.
			name: "recurring holiday beats weekend",
			ev:   Event{PlanID: "t", Service: "voice", Destination: "4930", Start: at("2027-12-26 10:00:00"), Quantity: 120},
			want: "0.02", units: 120, zone: "national", band: "holiday",
		},
		{
			// Saturday mobile 120 s: 0.04 × 2 = 0.08, −20 % = 0.064 → 0.06.
			name: "percentage discount inside validity",
			ev:   Event{PlanID: "t", Service: "voice", Destination: "4915", Start: at("2026-03-14 10:00:00"), Quantity: 120},
			want: "0.06", units: 120, zone: "mobile", band: "weekend",
		},
		{
			name: "percentage discount before validity",
			ev:   Event{PlanID: "t", Service: "voice", Destination: "4915", Start: at("2025-12-27 10:00:00"), Quantity: 120},
			want: "0.08", units: 120, zone: "mobile", band: "weekend",
		},
		{
			name: "percentage discount after validity",
			ev:   Event{PlanID: "t", Service: "voice", Destination: "4915", Start: at("2027-01-02 10:00:00"), Quantity: 120},
			want: "0.08", units: 120, zone: "mobile", band: "weekend",
		},
		{
			// 2500 events graduated: 1000 × 0.010 + 1000 × 0.008 + 500 ×
			// 0.005 = 10 + 8 + 2.50 = 20.50.
			name: "graduated tiers custom service",
			ev:   Event{PlanID: "t", Service: "batch", Start: at("2026-03-10 10:00:00"), Quantity: 2500},
			want: "20.50", units: 2500, band: "peak",
		},
		{
			// Volume: 2500 all at 0.005 = 12.50.
			name: "volume tiers top",
			ev:   Event{PlanID: "t", Service: "batchv", Start: at("2026-03-10 10:00:00"), Quantity: 2500},
			want: "12.50", units: 2500, band: "peak",
		},
		{
			// Volume: 1500 all at 0.008 = 12.00.
			name: "volume tiers middle",
			ev:   Event{PlanID: "t", Service: "batchv", Start: at("2026-03-10 10:00:00"), Quantity: 1500},
			want: "12.00", units: 1500, band: "peak",
		},
		{
			// Volume: 1000 units are positions 0…999, all in tier 0: 10.00.
			name: "volume tiers at the boundary",
			ev:   Event{PlanID: "t", Service: "batchv", Start: at("2026-03-10 10:00:00"), Quantity: 1000},
			want: "10.00", units: 1000, band: "peak",
		},
		{
			// 100 MiB used this month; 200 MiB more: 100 MiB at 2.00/GiB =
			// 0.1953125, 100 MiB at 1.00/GiB = 0.09765625; 0.29296875 → 0.29.
			name: "tier basis period with counter",
			ev: Event{PlanID: "t", Service: "data", Start: at("2026-03-10 10:00:00"), Quantity: 200 << 20,
				Counters: []Counter{{ID: "tier:data", PeriodStart: mar26, Units: 1<<30 - 100<<20}}},
			want: "0.29", units: 200 << 20, band: "peak",
			delta: []Counter{{ID: "tier:data", PeriodStart: mar26, Units: 200 << 20}, {ID: "data-cap", PeriodStart: mar26, Amount: money.MustParse("0.29")}},
		},
		{
			// A February counter is stale in March: 200 MiB at 2.00/GiB =
			// 0.390625 → 0.39.
			name: "stale period counter ignored",
			ev: Event{PlanID: "t", Service: "data", Start: at("2026-03-10 10:00:00"), Quantity: 200 << 20,
				Counters: []Counter{{ID: "tier:data", PeriodStart: feb26, Units: 1<<30 - 100<<20}}},
			want: "0.39", units: 200 << 20, band: "peak",
		},
		{
			// 1 GiB at 2.00 = 2.00, but 29.90 already charged: capped at 0.10.
			name: "cap reached mid-event",
			ev: Event{PlanID: "t", Service: "data", Start: at("2026-03-10 10:00:00"), Quantity: 1 << 30,
				Counters: []Counter{{ID: "data-cap", PeriodStart: mar26, Amount: money.MustParse("29.90")}}},
			want: "0.10", units: 1 << 30, band: "peak",
			delta: []Counter{{ID: "tier:data", PeriodStart: mar26, Units: 1 << 30}, {ID: "data-cap", PeriodStart: mar26, Amount: money.MustParse("0.10")}},
		},
		{
			name: "cap already reached",
			ev: Event{PlanID: "t", Service: "data", Start: at("2026-03-10 10:00:00"), Quantity: 1 << 30,
				Counters: []Counter{{ID: "data-cap", PeriodStart: mar26, Amount: money.MustParse("30.00")}}},
			want: "0.00", units: 1 << 30, band: "peak",
			delta: []Counter{{ID: "tier:data", PeriodStart: mar26, Units: 1 << 30}},
		},
		{
			// 90 s → 120 units, all covered by the allowance: no connect fee,
			// no minimum charge.
			name: "allowance full coverage",
			ev:   Event{PlanID: "allow", Service: "voice", Start: at("2026-03-10 10:00:00"), Quantity: 90},
			want: "0.00", units: 120, free: 120, band: "all",
			delta: []Counter{{ID: "free-min", PeriodStart: mar26, Units: 120}},
		},
		{
			// 540 of 600 used: 60 free, 60 chargeable: 0.20 + 0.10 = 0.30,
			// raised to the minimum 0.50.
			name: "allowance partial coverage",
			ev: Event{PlanID: "allow", Service: "voice", Start: at("2026-03-10 10:00:00"), Quantity: 90,
				Counters: []Counter{{ID: "free-min", PeriodStart: mar26, Units: 540}}},
			want: "0.50", units: 120, free: 60, band: "all",
			delta: []Counter{{ID: "free-min", PeriodStart: mar26, Units: 60}},
		},
		{
			// Allowance used up: 150 s → 180 units: 0.60 + 0.10 = 0.70.
			name: "allowance exhausted",
			ev: Event{PlanID: "allow", Service: "voice", Start: at("2026-03-10 10:00:00"), Quantity: 150,
				Counters: []Counter{{ID: "free-min", PeriodStart: mar26, Units: 600}}},
			want: "0.70", units: 180, band: "all",
			delta: []Counter{},
		},
		{
			name: "allowance stale counter from last month",
			ev: Event{PlanID: "allow", Service: "voice", Start: at("2026-03-10 10:00:00"), Quantity: 150,
				Counters: []Counter{{ID: "free-min", PeriodStart: feb26, Units: 600}}},
			want: "0.00", units: 180, free: 180, band: "all",
		},
		{
			// 3 SMS, 98 of 100 free used: 2 free, 1 at 0.09.
			name: "sms allowance partial",
			ev: Event{PlanID: "allow", Service: "sms", Start: at("2026-03-10 10:00:00"), Quantity: 3,
				Counters: []Counter{{ID: "free-sms", PeriodStart: mar26, Units: 98}}},
			want: "0.09", units: 3, free: 2, band: "all",
			delta: []Counter{{ID: "free-sms", PeriodStart: mar26, Units: 2}},
		},
		{
			// Night wraps past midnight: 23:59 + 120 s is all night, 1.00/min.
			name: "wrapping band across midnight",
			ev:   Event{PlanID: "night", Service: "voice", Start: at("2026-03-10 23:59:00"), Quantity: 120},
			want: "2.00", units: 120, band: "night",
			segs: []seg{{"night", 120}},
		},
		{
			// 05:59 + 120 s: 60 s night (1.00) + 60 s day (2.00) = 3.00.
			name: "wrapping band ends in the morning",
			ev:   Event{PlanID: "night", Service: "voice", Start: at("2026-03-10 05:59:00"), Quantity: 120},
			want: "3.00", units: 120, band: "night",
			segs: []seg{{"night", 60}, {"day", 60}},
		},
		{
			// 2026-03-29 01:30 CET, 2 h: band a until the clocks jump from
			// 02:00 CET to 03:00 CEST (30 min, 30.00); local 03:00 is past
			// 02:30, so band b for the remaining 90 min (180.00). 210.00.
			name: "DST spring forward",
			ev:   Event{PlanID: "dst", Service: "voice", Start: at("2026-03-29 01:30:00"), Quantity: 7200},
			want: "210.00", units: 7200, band: "a",
			segs: []seg{{"a", 1800}, {"b", 5400}},
		},
		{
			// 2026-10-25 01:30 CEST, 2 h: a until 02:30 CEST (60 min, 60.00),
			// b until 03:00 CEST (30 min, 60.00), the clocks go back to 02:00
			// CET: a again until 02:30 CET (30 min, 30.00). 150.00.
			name: "DST fall back",
			ev:   Event{PlanID: "dst", Service: "voice", Start: time.Date(2026, 10, 24, 23, 30, 0, 0, time.UTC), Quantity: 7200},
			want: "150.00", units: 7200, band: "a",
			segs: []seg{{"a", 3600}, {"b", 1800}, {"a", 1800}},
		},
		{
			// Multi-day: Friday 19:00 national for 3 days (259200 s).
			// Fri 19:00–20:00 peak 3600 s at 0.03/60 = 1.80; Fri 20:00–24:00
			// off-peak 14400 s (rate nat again, merged into the first
			// segment: 18000 s = 9.00); Sat+Sun weekend 172800 s free;
			// Mon 00:00–08:00 off-peak 28800 s, Mon 08:00–19:00 peak 39600 s
			// (one segment of rate nat, 68400 s = 34.20). 9.00 + 0 + 34.20
			// + 0.02 = 43.22.
			name: "multi-day event",
			ev:   Event{PlanID: "t", Service: "voice", Destination: "4930", Start: at("2026-03-13 19:00:00"), Quantity: 259200},
			want: "43.22", units: 259200, zone: "national", band: "peak",
			segs: []seg{{"peak", 18000}, {"weekend", 172800}, {"offpeak", 68400}},
		},
		{
			name: "quantity zero charges nothing",
			ev:   Event{PlanID: "t", Service: "voice", Destination: "4915", Start: at("2026-03-10 10:00:00"), Quantity: 0},
			want: "0.00", units: 0, zone: "mobile", band: "peak",
		},
	}
	var res Result
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.ev.Explain = true
			if err := e.Rate(&tc.ev, &res); err != nil {
				t.Fatal(err)
			}
			if got := res.Amount.String(); got != tc.want {
				t.Errorf("amount = %s, want %s\n%s", got, tc.want, dumpLines(res.Lines))
			}
			if res.Units != tc.units || res.FreeUnits != tc.free {
				t.Errorf("units = %d free %d, want %d free %d", res.Units, res.FreeUnits, tc.units, tc.free)
			}
			if res.Zone != tc.zone || res.Band != tc.band {
				t.Errorf("zone/band = %q/%q, want %q/%q", res.Zone, res.Band, tc.zone, tc.band)
			}
			if res.Currency.Code != "EUR" {
				t.Errorf("currency %v", res.Currency)
			}
			if tc.segs != nil {
				var got []seg
				for _, l := range res.Lines {
					if l.Kind == LineTier {
						if n := len(got); n > 0 && got[n-1].band == l.Band && l.Tier > 0 {
							got[n-1].units += l.Units
							continue
						}
						got = append(got, seg{l.Band, l.Units})
					}
				}
				if len(got) != len(tc.segs) {
					t.Fatalf("segments %v, want %v\n%s", got, tc.segs, dumpLines(res.Lines))
				}
				for i := range got {
					if got[i] != tc.segs[i] {
						t.Errorf("segments %v, want %v", got, tc.segs)
					}
				}
			}
			if tc.delta != nil {
				if len(res.Deltas) != len(tc.delta) {
					t.Fatalf("deltas %+v, want %+v", res.Deltas, tc.delta)
				}
				for i, d := range res.Deltas {
					w := tc.delta[i]
					if d.ID != w.ID || d.PeriodStart != w.PeriodStart || d.Units != w.Units || !d.Amount.Equal(w.Amount) {
						t.Errorf("delta[%d] = %+v, want %+v", i, d, w)
					}
				}
			}
			sumLines(t, &res)
		})
	}
}

func dumpLines(ls []Line) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(string(l.Kind) + " " + l.Rate + " " + l.Band + " " + l.Discount + " units=" +
			money.FromInt(int64(l.Units)).String() + " amount=" + l.Amount.String() + " total=" + l.Total.String() + "\n")
	}
	return b.String()
}

func TestRoundingModes(t *testing.T) {
	// National peak, 90 s: 0.03 × 90/60 = 0.045 + 0.02 = 0.065.
	want := map[string]string{
		"half_up": "0.07", "half_even": "0.06", "half_down": "0.06",
		"up": "0.07", "down": "0.06", "ceiling": "0.07", "floor": "0.06",
	}
	for mode, w := range want {
		t.Run(mode, func(t *testing.T) {
			doc := strings.Replace(testPlan, "timezone: Europe/Berlin", "timezone: Europe/Berlin\nrounding: {mode: "+mode+"}", 1)
			e := newTestEngine(t, doc)
			var res Result
			ev := Event{PlanID: "t", Service: "voice", Destination: "4930", Start: at("2026-03-10 10:00:00"), Quantity: 90}
			if err := e.Rate(&ev, &res); err != nil {
				t.Fatal(err)
			}
			if res.Amount.String() != w {
				t.Errorf("%s: %s, want %s", mode, res.Amount, w)
			}
		})
	}
	t.Run("scale 4", func(t *testing.T) {
		doc := strings.Replace(testPlan, "timezone: Europe/Berlin", "timezone: Europe/Berlin\nrounding: {scale: 4}", 1)
		e := newTestEngine(t, doc)
		var res Result
		ev := Event{PlanID: "t", Service: "voice", Destination: "4930", Start: at("2026-03-10 10:00:00"), Quantity: 90}
		if err := e.Rate(&ev, &res); err != nil {
			t.Fatal(err)
		}
		if res.Amount.String() != "0.0650" {
			t.Errorf("got %s, want 0.0650", res.Amount)
		}
	})
}

func TestChargeZero(t *testing.T) {
	doc := strings.Replace(testPlan, "connect_fee: \"0.15\",", "connect_fee: \"0.15\", charge_zero: true,", 1)
	e := newTestEngine(t, doc)
	var res Result
	ev := Event{PlanID: "t", Service: "voice", Destination: "4420", Start: at("2026-03-10 10:00:00"), Explain: true}
	if err := e.Rate(&ev, &res); err != nil {
		t.Fatal(err)
	}
	// Only the connect fee of the international rate.
	if res.Amount.String() != "0.15" || res.Units != 0 {
		t.Fatalf("amount %s units %d, want 0.15 and 0", res.Amount, res.Units)
	}
	sumLines(t, &res)
}

func TestDestinationNormalisation(t *testing.T) {
	e := newTestEngine(t, testPlan)
	for dest, zone := range map[string]string{
		"+4915112345": "mobile", "004915112345": "mobile", "4915112345": "mobile",
		"+4930": "national", "0049": "national", "49": "national", "4": "",
		"+1 555 0100": "intl", "44-20": "intl", "": "", "+": "", "00": "", "0049abc": "national",
		"0": "", "x49": "", "++49": "",
	} {
		var res Result
		ev := Event{PlanID: "t", Service: "sms", Destination: dest, Start: at("2026-03-10 10:00:00"), Quantity: 1}
		if err := e.Rate(&ev, &res); err != nil {
			t.Fatalf("%q: %v", dest, err)
		}
		if res.Zone != zone {
			t.Errorf("%q: zone %q, want %q", dest, res.Zone, zone)
		}
	}
}

func TestRateErrors(t *testing.T) {
	noRate := `
id: norate
currency: EUR
timezone: Europe/Berlin
zones: [{id: national, prefixes: ["49"]}]
bands:
  - {id: peak, days: [mon, tue, wed, thu, fri], from: "08:00", to: "20:00"}
  - {id: offpeak, default: true}
rates:
  - {service: voice, zone: national, band: peak, price: "0.10", per: 60}
`
	huge := `
id: huge
currency: EUR
rates:
  - {service: voice, price: "9000000000", increments: {first: 60, next: 60}}
  - {service: sms, price: "0.000000001"}
`
	e := newTestEngine(t, testPlan, noRate, huge)
	tests := []struct {
		name string
		ev   Event
		want error
	}{
		{"unknown plan", Event{PlanID: "nope", Service: "voice"}, ErrUnknownPlan},
		{"unknown service", Event{PlanID: "t", Service: "fax"}, ErrUnknownService},
		{"built-in not in plan", Event{PlanID: "t", Service: "video"}, ErrUnknownService},
		{"no rate for zone", Event{PlanID: "norate", Service: "voice", Destination: "33", Start: at("2026-03-10 10:00:00"), Quantity: 60}, ErrNoRate},
		{"no rate at start band", Event{PlanID: "norate", Service: "voice", Destination: "49", Start: at("2026-03-10 21:00:00"), Quantity: 60}, ErrNoRate},
		{"no rate after split", Event{PlanID: "norate", Service: "voice", Destination: "49", Start: at("2026-03-10 19:58:00"), Quantity: 300}, ErrNoRate},
		{"amount overflow", Event{PlanID: "huge", Service: "voice", Start: at("2026-03-10 10:00:00"), Quantity: 60}, ErrOverflow},
		{"increment overflow", Event{PlanID: "huge", Service: "voice", Start: at("2026-03-10 10:00:00"), Quantity: math.MaxUint64}, ErrOverflow},
		{"too many band changes", Event{PlanID: "norate", Service: "voice", Destination: "49", Start: at("2026-03-10 10:00:00"), Quantity: 1 << 40}, ErrNoRate},
		{"split too long", Event{PlanID: "t", Service: "voice", Destination: "49", Start: at("2026-03-10 10:00:00"), Quantity: 1 << 40}, ErrInvalidEvent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var res Result
			err := e.Rate(&tc.ev, &res)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	// A tiny price on many units does not overflow: 1e-9 × 2^63 ≈ 9.2e9
	// does, but 1e-9 × 10^18 = 10^9 does not.
	var res Result
	ev := Event{PlanID: "huge", Service: "sms", Start: at("2026-03-10 10:00:00"), Quantity: 1e18}
	if err := e.Rate(&ev, &res); err != nil || res.Amount.String() != "1000000000.00" {
		t.Fatalf("got %s, %v", res.Amount, err)
	}
}

func TestCloudService(t *testing.T) {
	e := NewEngine()
	plans := loadExamples(t)
	if err := e.Load(plans); err != nil {
		t.Fatal(err)
	}
	var res Result
	mar := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Unix()
	// 7200 vCPU-seconds, free tier used up, 0 used this month: volume tier
	// 0 (0.045 per 3600): 0.09; committed use −15 %: 0.0765.
	ev := Event{PlanID: "cloud-compute", Service: "vm-cpu", Start: time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC), Quantity: 7200,
		Counters: []Counter{{ID: "cpu-free-tier", PeriodStart: mar, Units: 180000}}, Explain: true}
	if err := e.Rate(&ev, &res); err != nil {
		t.Fatal(err)
	}
	if res.Amount.String() != "0.0765" || res.Currency.Code != "USD" {
		t.Fatalf("amount %s %s, want 0.0765 USD\n%s", res.Amount, res.Currency, dumpLines(res.Lines))
	}
	// Past 1000 vCPU-hours this month the whole sample is at 0.040/h:
	// 3600 s → 0.04 − 15 % = 0.034.
	ev.Quantity = 3600
	ev.Counters = append(ev.Counters, Counter{ID: "tier:vm-cpu", PeriodStart: mar, Units: 3600000})
	if err := e.Rate(&ev, &res); err != nil {
		t.Fatal(err)
	}
	if res.Amount.String() != "0.0340" {
		t.Fatalf("amount %s, want 0.0340\n%s", res.Amount, dumpLines(res.Lines))
	}
	// Memory: 10 GiB-hours at 0.0050 = 0.0500.
	ev = Event{PlanID: "cloud-compute", Service: "vm-mem", Start: ev.Start, Quantity: 10}
	if err := e.Rate(&ev, &res); err != nil || res.Amount.String() != "0.0500" {
		t.Fatalf("mem: %s %v", res.Amount, err)
	}
	// API calls: 2,500,000 at 0.40 per million = 1.0000.
	ev = Event{PlanID: "cloud-compute", Service: "api-call", Start: ev.Start, Quantity: 2500000}
	if err := e.Rate(&ev, &res); err != nil || res.Amount.String() != "1.0000" {
		t.Fatalf("api: %s %v", res.Amount, err)
	}
}

func TestZeroAllocs(t *testing.T) {
	e := newTestEngine(t, testPlan, allowPlan)
	evs := []Event{
		{PlanID: "t", Service: "voice", Destination: "+4915112345678", Start: at("2026-03-10 19:58:00"), Quantity: 300},
		{PlanID: "t", Service: "data", Start: at("2026-03-10 10:00:00"), Quantity: 200 << 20,
			Counters: []Counter{{ID: "tier:data", PeriodStart: mar26, Units: 1<<30 - 100<<20}}},
		{PlanID: "allow", Service: "sms", Start: at("2026-03-10 10:00:00"), Quantity: 3,
			Counters: []Counter{{ID: "free-sms", PeriodStart: mar26, Units: 98}}},
		{PlanID: "t", Service: "voice", Destination: "4930", Start: at("2026-03-13 19:00:00"), Quantity: 259200},
	}
	var res Result
	for _, ev := range evs {
		allocs := testing.AllocsPerRun(100, func() {
			if err := e.Rate(&ev, &res); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocs per Rate, want 0", ev.Service, allocs)
		}
	}
}
