package rating

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/internal/money"
	"go.yaml.in/yaml/v3"
)

// genPlan builds a random plan that is meant to validate. With bandRates
// false no rate or discount depends on the band, so that splitting an
// event at band edges must not change its price.
func genPlan(r *rand.Rand, id string, bandRates, discounts bool) *Plan {
	pick := func(s ...string) string { return s[r.IntN(len(s))] }
	dec := func(maxCoef int64, scale uint8) *money.Decimal {
		d, _ := money.New(r.Int64N(maxCoef+1), scale)
		return &d
	}
	p := &Plan{ID: id, Currency: pick("EUR", "JPY", "KWD", "USD"),
		Timezone: pick("UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "America/Sao_Paulo")}
	if r.IntN(3) == 0 {
		s := uint8(r.IntN(10))
		p.Rounding.Scale = &s
	}
	if r.IntN(2) == 0 {
		p.Rounding.Mode = money.RoundingMode(r.IntN(7)).String()
	}
	// Zones with distinct prefixes.
	used := map[string]bool{}
	for z := range r.IntN(5) {
		zone := Zone{ID: fmt.Sprintf("z%d", z)}
		for range 1 + r.IntN(3) {
			pre := fmt.Sprint(1 + r.IntN(999))
			if !used[pre] {
				used[pre] = true
				zone.Prefixes = append(zone.Prefixes, pre)
			}
		}
		if len(zone.Prefixes) > 0 {
			p.Zones = append(p.Zones, zone)
		}
	}
	// Bands.
	if r.IntN(4) != 0 {
		days := []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
		for b := range 1 + r.IntN(4) {
			band := Band{ID: fmt.Sprintf("b%d", b)}
			switch r.IntN(4) {
			case 0:
				band.Days = []string{days[r.IntN(7)], days[r.IntN(7)]}
				if band.Days[0] == band.Days[1] {
					band.Days = band.Days[:1]
				}
			case 1:
				band.Dates = []string{fmt.Sprintf("%02d-%02d", 1+r.IntN(12), 1+r.IntN(28)), fmt.Sprintf("2026-%02d-%02d", 1+r.IntN(12), 1+r.IntN(28))}
			default:
				f, t := r.IntN(24*4), r.IntN(24*4)
				if f == t {
					t = (t + 1) % (24 * 4)
				}
				band.From = fmt.Sprintf("%02d:%02d", f/4, f%4*15)
				band.To = fmt.Sprintf("%02d:%02d", t/4, t%4*15)
				if r.IntN(2) == 0 {
					band.Days = []string{days[r.IntN(7)]}
				}
			}
			p.Bands = append(p.Bands, band)
		}
		p.Bands = append(p.Bands, Band{ID: "def", Default: true})
	}
	p.Services = []Service{{ID: "cpu", Unit: "vcpu_second"}, {ID: "park", Unit: "second"}}
	genRate := func(svc, zone, band string) Rate {
		rt := Rate{Service: svc, Zone: zone, Band: band}
		if r.IntN(2) == 0 {
			rt.ConnectFee = *dec(100, 2)
		}
		if r.IntN(3) == 0 {
			rt.MinimumCharge = *dec(1000, 3)
		}
		rt.ChargeZero = r.IntN(4) == 0
		if r.IntN(2) == 0 {
			rt.Increments = &Increments{First: Quantity(1 + r.IntN(120)), Next: Quantity(1 + r.IntN(60))}
		}
		if r.IntN(2) == 0 {
			rt.Price = dec(100000, uint8(r.IntN(10)))
			rt.Per = Quantity(r.IntN(100))
		} else {
			var upto uint64
			n := 1 + r.IntN(4)
			for i := range n {
				t := Tier{Price: dec(100000, uint8(r.IntN(10))), Per: Quantity(r.IntN(4000))}
				if i < n-1 {
					upto += 1 + uint64(r.IntN(5000))
					t.UpTo = Quantity(upto)
				}
				rt.Tiers = append(rt.Tiers, t)
			}
			if r.IntN(2) == 0 {
				rt.TierMode = "volume"
			}
		}
		return rt
	}
	services := []string{"voice", "sms", "data", "cpu", "park"}
	basis := map[string]bool{}
	for _, s := range services {
		basis[s] = r.IntN(3) == 0
	}
	for _, s := range services {
		rt := genRate(s, "", "")
		if basis[s] {
			rt.TierBasis = "period"
		}
		p.Rates = append(p.Rates, rt) // catch-all: every event has a rate
		for _, z := range p.Zones {
			if r.IntN(2) == 0 {
				rt := genRate(s, z.ID, "")
				if basis[s] {
					rt.TierBasis = "period"
				}
				p.Rates = append(p.Rates, rt)
			}
		}
		if bandRates {
			for _, b := range p.Bands {
				if !b.Default && r.IntN(2) == 0 {
					p.Rates = append(p.Rates, genRate(s, "*", b.ID))
				}
			}
		}
	}
	if discounts {
		for i := range r.IntN(5) {
			d := Discount{ID: fmt.Sprintf("d%d", i), Service: services[r.IntN(len(services))]}
			switch r.IntN(3) {
			case 0:
				d.Type, d.Units, d.Period = DiscountAllowance, Quantity(1+r.IntN(1000)), pick("day", "week", "month", "year")
			case 1:
				d.Type, d.Percent = DiscountPercentage, dec(10000, 2)
				if d.Percent.IsZero() {
					d.Percent = dec(0, 0)
					*d.Percent = money.FromInt(100)
				}
			default:
				d.Type, d.Amount, d.Period = DiscountCap, dec(1000, 0), pick("day", "month")
				if r.IntN(2) == 0 {
					d.Service = "*"
				}
			}
			if bandRates && len(p.Bands) > 1 && r.IntN(3) == 0 {
				d.Bands = []string{p.Bands[0].ID}
			}
			if r.IntN(3) == 0 {
				d.ValidFrom = "2026-01-01"
				d.ValidUntil = "2026-06-01T12:00:00Z"
			}
			p.Discounts = append(p.Discounts, d)
		}
	}
	return p
}

func genEvent(r *rand.Rand, p *Plan) Event {
	services := []string{"voice", "sms", "data", "cpu", "park"}
	ev := Event{PlanID: p.ID, Service: services[r.IntN(len(services))], Explain: true}
	switch r.IntN(4) {
	case 0:
	case 1:
		ev.Destination = "+" + fmt.Sprint(r.IntN(100000))
	default:
		if len(p.Zones) > 0 {
			z := p.Zones[r.IntN(len(p.Zones))]
			ev.Destination = z.Prefixes[0] + fmt.Sprint(r.IntN(1000))
		}
	}
	// 2025-10 … 2026-12, to cross DST changes in both hemispheres.
	ev.Start = time.Unix(1759276800+r.Int64N(450*86400), 0)
	switch r.IntN(4) {
	case 0:
		ev.Quantity = uint64(r.IntN(3))
	case 1:
		ev.Quantity = uint64(r.IntN(4000))
	case 2:
		ev.Quantity = uint64(r.IntN(3 * 86400))
	default:
		ev.Quantity = r.Uint64N(1 << 34)
	}
	if r.IntN(2) == 0 {
		for _, d := range p.Discounts {
			ev.Counters = append(ev.Counters, Counter{ID: d.ID, PeriodStart: ev.Start.Unix() - r.Int64N(86400*40), Units: uint64(r.IntN(2000)), Amount: money.FromInt(r.Int64N(1000))})
		}
		for _, s := range services {
			ev.Counters = append(ev.Counters, Counter{ID: "tier:" + s, PeriodStart: ev.Start.Unix() - r.Int64N(86400*40), Units: uint64(r.IntN(20000))})
		}
	}
	return ev
}

// expected errors from random events on valid plans.
func expectedErr(err error) bool {
	return err == nil || errors.Is(err, ErrOverflow) || errors.Is(err, ErrInvalidEvent)
}

func TestPropertyRandomPlans(t *testing.T) {
	n := 400
	if testing.Short() {
		n = 60
	}
	r := rand.New(rand.NewPCG(1, 2))
	var res, res2 Result
	valid := 0
	for i := range n {
		bandRates := i%2 == 0
		discounts := i%3 != 0
		p := genPlan(r, fmt.Sprintf("p%d", i), bandRates, discounts)
		if err := p.Validate(); err != nil {
			// Random rates can be unreachable or duplicate; that is the
			// validator's job. Anything else is a generator bug.
			for _, line := range strings.Split(fieldErrors(err), "\n") {
				if line != "" && !strings.Contains(line, "unreachable") && !strings.Contains(line, "duplicate rate") {
					t.Fatalf("generated plan invalid: %s", line)
				}
			}
			continue
		}
		valid++
		e := NewEngine()
		// The same plan without bands: the non-split computation.
		flat := *p
		flat.ID = p.ID + "-flat"
		flat.Bands = nil
		if err := e.Load([]*Plan{p, &flat}); err != nil {
			if bandRates {
				// Band-specific rates do not exist in the flat copy.
				if err := e.Load([]*Plan{p}); err != nil {
					t.Fatal(err)
				}
			} else {
				t.Fatal(err)
			}
		}
		for range 25 {
			ev := genEvent(r, p)
			err := func() (err error) {
				defer func() {
					if x := recover(); x != nil {
						err = fmt.Errorf("panic: %v", x)
					}
				}()
				return e.Rate(&ev, &res)
			}()
			if !expectedErr(err) {
				b, _ := yaml.Marshal(p)
				t.Fatalf("Rate: %v\nevent %+v\nplan:\n%s", err, ev, b)
			}
			if err != nil {
				continue
			}
			if res.Amount.Sign() < 0 {
				t.Fatalf("negative amount %s", res.Amount)
			}
			// The lines add up to the amount; without discounts, the sum
			// of the lines before the rounding line, rounded once, is it.
			var sum money.Decimal
			for _, l := range res.Lines {
				if l.Kind == LineRounding {
					continue
				}
				sum, _ = sum.Add(l.Amount)
			}
			if !discounts {
				cp, _ := compile(p)
				want, _ := sum.Round(cp.scale, cp.mode)
				if !want.Equal(res.Amount) {
					t.Fatalf("lines round to %s, amount %s", want, res.Amount)
				}
			}
			sumLines(t, &res)
			if res.FreeUnits > res.Units {
				t.Fatalf("free %d > units %d", res.FreeUnits, res.Units)
			}
			// Splitting invariance: when no rate or discount depends on the
			// band, the split computation equals the flat one.
			if !bandRates {
				ev2 := ev
				ev2.PlanID = flat.ID
				if err := e.Rate(&ev2, &res2); err != nil {
					t.Fatalf("flat: %v", err)
				}
				if !res.Amount.Equal(res2.Amount) || res.Units != res2.Units || res.FreeUnits != res2.FreeUnits {
					t.Fatalf("split %s (%d units) ≠ flat %s (%d units)\nevent %+v\n%s", res.Amount, res.Units, res2.Amount, res2.Units, ev, dumpLines(res.Lines))
				}
			}
		}
	}
	if valid < n/3 {
		t.Fatalf("only %d of %d generated plans were valid", valid, n)
	}
}

// TestLoadAtomic: a batch with one bad plan changes nothing.
func TestLoadAtomic(t *testing.T) {
	e := newTestEngine(t, testPlan)
	ev := Event{PlanID: "t", Service: "voice", Destination: "+4915112345678", Start: at("2026-03-10 19:58:00"), Quantity: 300}
	var res Result
	if err := e.Rate(&ev, &res); err != nil || res.Amount.String() != "0.35" {
		t.Fatalf("before: %s %v", res.Amount, err)
	}
	good, _ := ParsePlan([]byte(strings.Replace(testPlan, `price: "0.04"`, `price: "0.08"`, 1)))
	other, _ := ParsePlan([]byte(allowPlan))
	bad := &Plan{ID: "bad", Currency: "EUR", Rates: []Rate{{Service: "voice"}}}
	err := e.Load([]*Plan{good, other, bad, nil})
	if !errors.Is(err, ErrInvalidPlan) || !strings.Contains(err.Error(), `plan "bad"`) || !strings.Contains(err.Error(), "plans[3]") {
		t.Fatalf("Load err = %v", err)
	}
	if ids := e.PlanIDs(); !reflect.DeepEqual(ids, []string{"t"}) {
		t.Fatalf("PlanIDs after failed Load = %v", ids)
	}
	if err := e.Rate(&ev, &res); err != nil || res.Amount.String() != "0.35" {
		t.Fatalf("after failed Load: %s %v", res.Amount, err)
	}
	// Duplicate ids in one batch are refused too.
	if err := e.Load([]*Plan{good, good}); !errors.Is(err, ErrInvalidPlan) {
		t.Fatalf("duplicate: %v", err)
	}
	// A good batch replaces the catalog: off-peak is now 0.08/min.
	if err := e.Load([]*Plan{good, other}); err != nil {
		t.Fatal(err)
	}
	if err := e.Rate(&ev, &res); err != nil || res.Amount.String() != "0.47" { // 0.18 + 0.24 + 0.05
		t.Fatalf("after Load: %s %v", res.Amount, err)
	}
	if ids := e.PlanIDs(); !reflect.DeepEqual(ids, []string{"allow", "t"}) {
		t.Fatalf("PlanIDs = %v", ids)
	}
	// The zero Engine is usable and empty.
	var z Engine
	if err := z.Rate(&ev, &res); !errors.Is(err, ErrUnknownPlan) || len(z.PlanIDs()) != 0 {
		t.Fatalf("zero engine: %v", err)
	}
}

// TestConcurrentRateDuringLoad rates from several goroutines while the
// catalog is swapped; run with -race. Every result is one of the two
// catalogs' answers, never a mix or an error.
func TestConcurrentRateDuringLoad(t *testing.T) {
	a, _ := ParsePlan([]byte(testPlan))
	b, _ := ParsePlan([]byte(strings.Replace(testPlan, `price: "0.04"`, `price: "0.08"`, 1)))
	e := NewEngine()
	if err := e.Load([]*Plan{a}); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var res Result
			ev := Event{PlanID: "t", Service: "voice", Destination: "+4915112345678", Start: at("2026-03-10 19:58:00"), Quantity: 300, Explain: g%2 == 0}
			for !stop.Load() {
				if err := e.Rate(&ev, &res); err != nil {
					errs <- err
					return
				}
				if s := res.Amount.String(); s != "0.35" && s != "0.47" {
					errs <- fmt.Errorf("amount %s", s)
					return
				}
			}
		}()
	}
	for i := range 200 {
		p := a
		if i%2 == 0 {
			p = b
		}
		if err := e.Load([]*Plan{p}); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			_ = e.Load([]*Plan{p, {ID: "broken"}})
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// fuzzSeeds returns the example and scenario plans.
func fuzzSeeds(f *testing.F) [][]byte { return fuzzSeedsT(f) }

func fuzzSeedsT(f testing.TB) [][]byte {
	var out [][]byte
	for _, pat := range []string{examplesDir + "/*.yaml", "testdata/scenarios/*/plan.yaml"} {
		files, _ := filepath.Glob(pat)
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			out = append(out, b)
		}
	}
	return append(out, []byte(testPlan), []byte(allowPlan), []byte(nightPlan), []byte(dstPlan))
}

// FuzzParsePlan: no input makes parsing, validation, compilation or rating
// panic; a plan that parses loads, rates a sample event of every service
// and survives a YAML round trip.
func FuzzParsePlan(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Add([]byte(`{"id":"j","currency":"EUR","rates":[{"service":"sms","price":"1"}]}`))
	f.Fuzz(fuzzBody)
}

func fuzzBody(t *testing.T, data []byte) {
	{
		p, err := ParsePlan(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidPlan) {
				t.Fatalf("error does not wrap ErrInvalidPlan: %v", err)
			}
			return
		}
		e := NewEngine()
		if err := e.Load([]*Plan{p}); err != nil {
			t.Fatalf("plan validated but does not load: %v", err)
		}
		cp, _ := compile(p)
		var res Result
		for _, s := range cp.services {
			for _, q := range []uint64{0, 1, 61, 1 << 20, 90000} {
				ev := Event{PlanID: p.ID, Service: s.id, Destination: "+4915112345", Start: time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC), Quantity: q, Explain: q%2 == 1}
				err := e.Rate(&ev, &res)
				if err != nil && !errors.Is(err, ErrNoRate) && !expectedErr(err) {
					t.Fatalf("Rate: %v", err)
				}
				if err == nil && res.Amount.Sign() < 0 {
					t.Fatalf("negative amount %s", res.Amount)
				}
			}
		}
		b, err := yaml.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := ParsePlan(b)
		if err != nil {
			t.Fatalf("round trip: %v\n%s", err, b)
		}
		// Compare as JSON: an empty list and no list are the same plan.
		pj, _ := json.Marshal(p)
		qj, _ := json.Marshal(q)
		if !bytes.Equal(pj, qj) {
			t.Fatalf("round trip differs:\n%s\n%s\n%s", b, pj, qj)
		}
	}
}

// FuzzRate: arbitrary event fields on the example plans never panic, and
// the explanation always adds up.
func FuzzRate(f *testing.F) {
	f.Add(uint8(0), "+4915112345678", int64(1773169080), uint64(300), uint64(0), int64(0), true)
	f.Add(uint8(1), "", int64(1773140400), uint64(200<<20), uint64(1<<30-100<<20), int64(1772319600), false)
	f.Add(uint8(2), "0049", int64(-1), uint64(1<<63), uint64(99), int64(1772319600), true)
	f.Add(uint8(5), "819012345678", int64(1<<40), uint64(86400*400), uint64(1), int64(0), true)
	e := NewEngine()
	plans := loadExamples(f)
	if err := e.Load(plans); err != nil {
		f.Fatal(err)
	}
	type target struct{ plan, svc string }
	var targets []target
	for _, p := range plans {
		cp, _ := compile(p)
		for _, s := range cp.services {
			targets = append(targets, target{p.ID, s.id})
		}
	}
	targets = append(targets, target{"consumer-eu", "fax"}, target{"nope", "sms"})
	f.Fuzz(func(t *testing.T, which uint8, dest string, start int64, qty, used uint64, ps int64, explain bool) {
		tg := targets[int(which)%len(targets)]
		ev := Event{PlanID: tg.plan, Service: tg.svc, Destination: dest, Start: time.Unix(start, 0), Quantity: qty, Explain: explain}
		for _, id := range []string{"free-sms", "data-cap", "cpu-free-tier", "daily-cap", "tier:" + tg.svc} {
			ev.Counters = append(ev.Counters, Counter{ID: id, PeriodStart: ps, Units: used, Amount: money.FromInt(int64(used % 1000))})
		}
		var res Result
		err := e.Rate(&ev, &res)
		if err != nil {
			if !errors.Is(err, ErrUnknownPlan) && !errors.Is(err, ErrUnknownService) && !errors.Is(err, ErrNoRate) && !expectedErr(err) {
				t.Fatalf("unexpected error: %v", err)
			}
			return
		}
		if res.Amount.Sign() < 0 {
			t.Fatalf("negative amount %s", res.Amount)
		}
		if explain {
			sumLines(t, &res)
		}
	})
}

// TestTierAmountFastPath: the 64-bit fast path of a tier piece equals
// money.Decimal.MulDiv exactly.
func TestTierAmountFastPath(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 200000 {
		price, _ := money.New(r.Int64N(1<<uint(r.IntN(63))), uint8(r.IntN(10)))
		per := 1 + r.Uint64N(1<<uint(r.IntN(40)))
		units := r.Uint64N(1 << uint(r.IntN(64)))
		tr := newTier(0, price, per)
		got, err1 := tr.amount(units)
		want, err2 := price.MulDiv(units, per, internalScale, internalMode)
		if (err1 != nil) != (err2 != nil) || (err1 == nil && (got != want)) {
			t.Fatalf("%s × %d / %d: fast %s %v, MulDiv %s %v", price, units, per, got, err1, want, err2)
		}
	}
}
