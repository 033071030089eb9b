package rating

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sync/atomic"
	"time"

	"github.com/tollgate-billing/tollgate/internal/money"
)

// maxSplitSteps bounds the walk over band boundaries of one time-unit
// event (years of wall time with a few band edges a day; months with
// hourly bands).
const maxSplitSteps = 1 << 13

// Engine rates events against a memory-resident catalog of compiled plans
// (S1.2 rating, S1.9 rating parameter tables resident in memory). It is
// safe for concurrent use: Rate reads an immutable catalog through an
// atomic pointer, and Load builds a new catalog and swaps it in whole.
type Engine struct {
	cat atomic.Pointer[catalog]
}

type catalog struct {
	plans map[string]*cPlan
	ids   []string
}

// NewEngine returns an engine with an empty catalog.
func NewEngine() *Engine {
	e := &Engine{}
	e.cat.Store(&catalog{plans: map[string]*cPlan{}})
	return e
}

// Load compiles every plan into a new catalog and swaps it in atomically;
// plans not in the batch are no longer served. If any plan is invalid, or
// two share an id, the old catalog stays in place and every problem of
// every plan is returned (each wraps ErrInvalidPlan).
func (e *Engine) Load(plans []*Plan) error {
	c := &catalog{plans: make(map[string]*cPlan, len(plans))}
	var errs []error
	for i, p := range plans {
		if p == nil {
			errs = append(errs, fmt.Errorf("rating: plans[%d]: %w", i, &FieldError{Msg: "nil plan"}))
			continue
		}
		cp, err := compile(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("rating: plan %q: %w", p.ID, err))
			continue
		}
		if _, dup := c.plans[p.ID]; dup {
			errs = append(errs, fmt.Errorf("rating: plans[%d]: %w", i, &FieldError{Path: "id", Msg: fmt.Sprintf("duplicate plan id %q in the batch", p.ID)}))
			continue
		}
		c.plans[p.ID] = cp
		c.ids = append(c.ids, p.ID)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	slices.Sort(c.ids)
	e.cat.Store(c)
	return nil
}

func (e *Engine) catalog() *catalog {
	if c := e.cat.Load(); c != nil {
		return c
	}
	return &catalog{}
}

// Plan returns the loaded document of plan id. The caller must not modify it.
func (e *Engine) Plan(id string) (*Plan, bool) {
	cp, ok := e.catalog().plans[id]
	if !ok {
		return nil, false
	}
	return cp.doc, true
}

// PlanIDs returns the ids of the loaded plans, sorted.
func (e *Engine) PlanIDs() []string {
	return slices.Clone(e.catalog().ids)
}

// Rate rates ev into res, which it resets first. It does no I/O and, with
// ev.Explain false and a reused res, no allocation (S1.9). The rules are
// those of docs/tariffs.md. Errors wrap ErrUnknownPlan, ErrUnknownService,
// ErrNoRate, ErrOverflow or ErrInvalidEvent.
func (e *Engine) Rate(ev *Event, res *Result) error {
	res.reset()
	cp := e.catalog().plans[ev.PlanID]
	if cp == nil {
		return fmt.Errorf("%w %q", ErrUnknownPlan, ev.PlanID)
	}
	return cp.rate(ev, res)
}

// rater is the state of rating one event; it lives on the stack.
type rater struct {
	cp      *cPlan
	ev      *Event
	res     *Result
	explain bool
	zc      zoneCursor // the offset period of the start
	lt0     localTime
	t0      int64
	zone    int
	sum     money.Decimal

	free   uint64 // free units not yet consumed by segments
	pos    uint64 // chargeable units already priced in this event
	charge uint64 // chargeable units of the event
	offset uint64 // period usage before the event (tier_basis period)

	ps     [periodYear + 1]int64
	havePS uint8 // bit per period
}

var zero9, _ = money.New(0, internalScale)

func (cp *cPlan) rate(ev *Event, res *Result) error {
	res.PlanID = cp.id
	res.Currency = cp.currency
	si := cp.serviceIndex(ev.Service)
	if si < 0 {
		return fmt.Errorf("%w %q in plan %q", ErrUnknownService, ev.Service, cp.id)
	}
	svc := &cp.services[si]
	r := rater{cp: cp, ev: ev, res: res, explain: ev.Explain, sum: zero9}
	r.zc.z = &cp.zt
	r.zone = cp.zoneOf(ev.Destination)
	res.Zone = cp.zoneIDs[r.zone]
	r.t0 = ev.Start.Unix()
	off, _ := r.zc.offset(r.t0)
	r.lt0 = localAt(r.t0, off)
	mask0 := cp.bt.dayMask(&r.lt0)
	b0 := cp.bandAt(&r.lt0, mask0)
	res.Band = cp.bands[b0].id
	ri := cp.table[(si*cp.nz+r.zone)*cp.nb+b0]
	if ri < 0 {
		return cp.noRate(svc.id, r.zone, b0)
	}
	rate0 := &cp.rates[ri]
	units, ok := rate0.increment(ev.Quantity)
	if !ok {
		return fmt.Errorf("%w: plan %q: %d units rounded up by increments exceed the unit counter", ErrOverflow, cp.id, ev.Quantity)
	}
	res.Units = units

	if units == 0 {
		if rate0.chargeZero && !rate0.connect.IsZero() {
			if err := r.addConnect(rate0, b0); err != nil {
				return err
			}
		}
	} else {
		// Rule 4: allowances cover the first units of the event.
		var free uint64
		for _, di := range svc.discounts {
			d := &cp.disc[di]
			if d.kind != kindAllowance || !d.applies(r.zone, b0, r.t0) || free == units {
				continue
			}
			ps := r.period(d.period)
			used, _, err := sumCounters(ev.Counters, d.id, ps)
			if err != nil {
				return r.overflow(err)
			}
			if used >= d.units {
				continue
			}
			take := min(d.units-used, units-free)
			free += take
			res.Deltas = append(res.Deltas, Counter{ID: d.id, PeriodStart: ps, Units: take})
			if r.explain {
				res.Lines = append(res.Lines, Line{Kind: LineAllowance, RateIndex: -1, Tier: -1, Discount: d.id,
					Zone: res.Zone, Band: res.Band, Units: take, Amount: zero9, Total: r.sum})
			}
		}
		res.FreeUnits = free
		r.free = free
		r.charge = units - free
		if r.charge > 0 {
			var tierPS int64
			if svc.tierCounter != "" {
				tierPS = r.period(svc.tierPeriod)
				used, _, err := sumCounters(ev.Counters, svc.tierCounter, tierPS)
				if err != nil {
					return r.overflow(err)
				}
				r.offset = used
			}
			// Rules 3 and 5: segments priced through their rates' tiers.
			var err error
			if svc.split {
				err = r.split(si, units, b0, mask0)
			} else {
				err = r.segment(ri, b0, r.t0, units)
			}
			if err != nil {
				return err
			}
			// Rule 6: connect fee, then minimum charge, of the first rate.
			if !rate0.connect.IsZero() {
				if err := r.addConnect(rate0, b0); err != nil {
					return err
				}
			}
			if rate0.minimum9.Cmp(r.sum) > 0 {
				if r.explain {
					up, err := rate0.minimum.Sub(r.sum)
					if err != nil {
						return r.overflow(err)
					}
					res.Lines = append(res.Lines, Line{Kind: LineMinimum, Rate: rate0.name, RateIndex: rate0.index, Tier: -1,
						Zone: res.Zone, Band: res.Band, Price: rate0.minimum, Amount: up, Total: rate0.minimum})
				}
				r.sum = rate0.minimum9
			}
			if svc.tierCounter != "" {
				res.Deltas = append(res.Deltas, Counter{ID: svc.tierCounter, PeriodStart: tierPS, Units: r.charge})
			}
		}
	}

	// Rule 7: percentage discounts in file order.
	if r.sum.Sign() > 0 {
		for _, di := range svc.discounts {
			d := &cp.disc[di]
			if d.kind != kindPercentage || !d.applies(r.zone, b0, r.t0) {
				continue
			}
			n, err := r.sum.MulDiv(d.num, d.den, internalScale, internalMode)
			if err != nil {
				return r.overflow(err)
			}
			if r.explain {
				diff, err := n.Sub(r.sum)
				if err != nil {
					return r.overflow(err)
				}
				res.Lines = append(res.Lines, Line{Kind: LineDiscount, RateIndex: -1, Tier: -1, Discount: d.id,
					Zone: res.Zone, Band: res.Band, Percent: d.percent, Amount: diff, Total: n})
			}
			r.sum = n
		}
	}

	// Rule 8: caps.
	capFrom := len(res.Deltas)
	if r.sum.Sign() > 0 {
		for _, di := range svc.discounts {
			d := &cp.disc[di]
			if d.kind != kindCap || !d.applies(r.zone, b0, r.t0) {
				continue
			}
			ps := r.period(d.period)
			_, charged, err := sumCounters(ev.Counters, d.id, ps)
			if err != nil {
				return r.overflow(err)
			}
			left, err := d.amount.Sub(charged)
			if err != nil {
				return r.overflow(err)
			}
			n := r.sum
			if left.Sign() <= 0 {
				n = zero9
			} else if r.sum.Cmp(left) > 0 {
				n = left
			}
			if r.explain {
				diff, err := n.Sub(r.sum)
				if err != nil {
					return r.overflow(err)
				}
				res.Lines = append(res.Lines, Line{Kind: LineCap, RateIndex: -1, Tier: -1, Discount: d.id,
					Zone: res.Zone, Band: res.Band, Price: d.amount, Amount: diff, Total: n})
			}
			r.sum = n
			res.Deltas = append(res.Deltas, Counter{ID: d.id, PeriodStart: ps})
		}
	}

	// Rule 9: final rounding.
	final, err := r.sum.Round(cp.scale, cp.mode)
	if err != nil {
		return r.overflow(err)
	}
	if r.explain {
		diff, err := final.Sub(r.sum)
		if err != nil {
			return r.overflow(err)
		}
		res.Lines = append(res.Lines, Line{Kind: LineRounding, RateIndex: -1, Tier: -1,
			Zone: res.Zone, Band: res.Band, Amount: diff, Total: final})
	}
	res.Amount = final
	if final.IsZero() {
		res.Deltas = res.Deltas[:capFrom]
	} else {
		for i := capFrom; i < len(res.Deltas); i++ {
			res.Deltas[i].Amount = final
		}
	}
	return nil
}

func (r *rater) addConnect(rt *cRate, band int) error {
	s, err := r.sum.Add(rt.connect9)
	if err != nil {
		return r.overflow(err)
	}
	r.sum = s
	if r.explain {
		r.res.Lines = append(r.res.Lines, Line{Kind: LineConnectFee, Rate: rt.name, RateIndex: rt.index, Tier: -1,
			Zone: r.res.Zone, Band: r.cp.bands[band].id, Price: rt.connect, Amount: rt.connect, Total: s})
	}
	return nil
}

// split lays the event's quantity out second by second of wall time from
// its start and prices each maximal run with one rate as a segment; the
// units added by increments belong to the last segment (rule 3).
func (r *rater) split(si int, units uint64, b0 int, mask0 uint64) error {
	cp := r.cp
	q := r.ev.Quantity
	extra := units - q
	if r.t0 > math.MaxInt64/2 || r.t0 < math.MinInt64/2 {
		return fmt.Errorf("%w: start %d is out of range", ErrInvalidEvent, r.t0)
	}
	t := r.t0
	lt := r.lt0
	remaining := q
	runRate, runBand := int32(-1), 0
	var runStart int64
	var runLen uint64
	base := (si*cp.nz + r.zone) * cp.nb
	zc := r.zc
	b, mask, dayL := b0, mask0, lt.days*secsPerDay
	for steps := 0; remaining > 0; steps++ {
		if steps > 0 {
			if steps > maxSplitSteps {
				return fmt.Errorf("%w: a %d-second event crosses more than %d band boundaries", ErrInvalidEvent, q, maxSplitSteps)
			}
			off, _ := zc.offset(t)
			if l := t + off; l >= dayL && l-dayL < secsPerDay {
				lt.sod = int32(l - dayL) // same local day: no calendar work
			} else {
				lt = localAt(t, off)
				dayL = lt.days * secsPerDay
				mask = cp.bt.dayMask(&lt)
			}
			b = cp.bandAt(&lt, mask)
		}
		ri := cp.table[base+b]
		if ri < 0 {
			return cp.noRate(cp.services[si].id, r.zone, b)
		}
		step := uint64(cp.nextChange(&lt, mask) - lt.sod)
		if _, until := zc.offset(t); until != math.MaxInt64 && uint64(until-t) < step {
			step = uint64(until - t)
		}
		step = min(step, remaining)
		if ri != runRate {
			if runRate >= 0 {
				if err := r.segment(runRate, runBand, runStart, runLen); err != nil {
					return err
				}
			}
			runRate, runBand, runStart, runLen = ri, b, t, 0
		}
		runLen += step
		remaining -= step
		t += int64(step)
	}
	return r.segment(runRate, runBand, runStart, runLen+extra)
}

// segment prices n units of one rate starting at unix second start: the
// free units still unconsumed first, then the chargeable rest through the
// rate's tiers (rule 5).
func (r *rater) segment(ri int32, band int, start int64, n uint64) error {
	rt := &r.cp.rates[ri]
	f := min(r.free, n)
	r.free -= f
	c := n - f
	if c == 0 {
		return nil
	}
	var basis uint64
	if rt.periodBasis {
		basis = r.offset
	}
	if rt.volume {
		last := satAdd(basis, r.charge) - 1
		for ti := range rt.tiers {
			if last < rt.tiers[ti].upto || ti == len(rt.tiers)-1 {
				if err := r.piece(rt, ti, band, start, c); err != nil {
					return err
				}
				break
			}
		}
	} else {
		p := satAdd(basis, r.pos)
		rem := c
		for ti := range rt.tiers {
			tr := &rt.tiers[ti]
			lastTier := ti == len(rt.tiers)-1
			if p >= tr.upto && !lastTier {
				continue
			}
			take := rem
			if !lastTier {
				take = min(rem, tr.upto-p)
			}
			if err := r.piece(rt, ti, band, start, take); err != nil {
				return err
			}
			rem -= take
			p = satAdd(p, take)
			if rem == 0 {
				break
			}
		}
	}
	r.pos += c
	return nil
}

// piece adds price × units / per of one tier, at the internal scale.
func (r *rater) piece(rt *cRate, ti, band int, start int64, units uint64) error {
	tr := &rt.tiers[ti]
	a, err := tr.amount(units)
	if err != nil {
		return r.overflow(err)
	}
	s, err := r.sum.Add(a)
	if err != nil {
		return r.overflow(err)
	}
	r.sum = s
	if r.explain {
		r.res.Lines = append(r.res.Lines, Line{Kind: LineTier, Rate: rt.name, RateIndex: rt.index, Tier: ti,
			Zone: r.res.Zone, Band: r.cp.bands[band].id, Start: time.Unix(start, 0).In(r.cp.loc),
			Units: units, Price: tr.price, Per: tr.per, Amount: a, Total: s})
	}
	return nil
}

// amount returns price × units / per at the internal scale, rounded
// half-even. The common case (the product fits in 64 bits) is one
// multiplication and one 64-bit division; the rest goes through
// money.Decimal.MulDiv's 128-bit path.
func (t *cTier) amount(units uint64) (money.Decimal, error) {
	if t.coef9 >= 0 {
		hi, lo := bits.Mul64(uint64(t.coef9), units)
		if hi == 0 {
			q, rem := lo/t.per, lo%t.per
			if rem != 0 {
				if other := t.per - rem; rem > other || (rem == other && q&1 == 1) {
					q++
				}
			}
			if q <= math.MaxInt64 {
				return money.New(int64(q), internalScale)
			}
		}
	}
	return t.price.MulDiv(units, t.per, internalScale, internalMode)
}

func (r *rater) period(p period) int64 {
	if r.havePS&(1<<p) == 0 {
		r.ps[p] = r.cp.periodStart(p, &r.lt0, &r.zc)
		r.havePS |= 1 << p
	}
	return r.ps[p]
}

func (r *rater) overflow(err error) error {
	return fmt.Errorf("%w: plan %q: %w", ErrOverflow, r.cp.id, err)
}

func (cp *cPlan) noRate(svc string, zone, band int) error {
	z := cp.zoneIDs[zone]
	if z == "" {
		z = "(none)"
	}
	return fmt.Errorf("%w: plan %q has no rate for service %q, zone %s, band %s", ErrNoRate, cp.id, svc, z, cp.bands[band].id)
}

// zoneOf returns the zone index (+1) of the longest prefix of dest, 0 if
// none: a walk down the digit trie, no allocation (rule 1).
func (cp *cPlan) zoneOf(dest string) int {
	if len(dest) > 0 && dest[0] == '+' {
		dest = dest[1:]
	} else if len(dest) >= 2 && dest[0] == '0' && dest[1] == '0' {
		dest = dest[2:]
	}
	n, best := int32(0), int32(0)
	for i := 0; i < len(dest); i++ {
		c := dest[i] - '0'
		if c > 9 {
			break
		}
		if n = cp.trie[n].next[c]; n == 0 {
			break
		}
		if z := cp.trie[n].zone; z != 0 {
			best = z
		}
	}
	return int(best)
}

// increment rounds a quantity up to the rate's increments (rule 2).
func (rt *cRate) increment(q uint64) (uint64, bool) {
	if q == 0 {
		return 0, true
	}
	if q <= rt.first {
		return rt.first, true
	}
	rest := q - rt.first
	n := rest / rt.next
	if rest%rt.next != 0 {
		n++
	}
	hi, lo := bits.Mul64(n, rt.next)
	if hi != 0 {
		return 0, false
	}
	u, carry := bits.Add64(lo, rt.first, 0)
	if carry != 0 {
		return 0, false
	}
	return u, true
}

func (d *cDiscount) applies(zone, band int, t int64) bool {
	if d.zones != nil && !d.zones[zone] {
		return false
	}
	if d.bands != 0 && d.bands&(1<<band) == 0 {
		return false
	}
	return t >= d.from && t < d.until
}

// sumCounters adds up the counters with id in the period starting at ps;
// counters of other periods are stale and ignored.
func sumCounters(cs []Counter, id string, ps int64) (units uint64, amount money.Decimal, err error) {
	for i := range cs {
		c := &cs[i]
		if c.PeriodStart != ps || c.ID != id {
			continue
		}
		units = satAdd(units, c.Units)
		if !c.Amount.IsZero() {
			if amount, err = amount.Add(c.Amount); err != nil {
				return 0, amount, err
			}
		}
	}
	return units, amount, nil
}

func satAdd(a, b uint64) uint64 {
	s, c := bits.Add64(a, b, 0)
	if c != 0 {
		return math.MaxUint64
	}
	return s
}
