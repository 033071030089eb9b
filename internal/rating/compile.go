package rating

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // plans must resolve their timezone identically on every host

	"github.com/tollgate-billing/tollgate/internal/money"
	"github.com/tollgate-billing/tollgate/internal/usage"
)

// Limits that keep a compiled plan small and rating bounded.
const (
	maxBands       = 64 // band sets are bit masks
	maxTableCells  = 1 << 22
	maxPrefixLen   = 15 // E.164
	maxPriceDigits = 9  // fractional digits of prices = internal scale
	internalScale  = 9
)

// internalMode rounds every intermediate (tier pieces, percentage
// discounts) to internalScale digits.
const internalMode = money.RoundHalfEven

// period is a counter period.
type period uint8

const (
	periodNone period = iota
	periodDay
	periodWeek
	periodMonth
	periodYear
)

var periodNames = map[string]period{"day": periodDay, "week": periodWeek, "month": periodMonth, "year": periodYear}

// builtinServices are known to every plan that rates them.
var builtinServices = []struct {
	id   string
	unit usage.Unit
}{
	{"voice", usage.Second}, {"video", usage.Second},
	{"sms", usage.Message}, {"mms", usage.Message},
	{"data", usage.Byte},
}

// cPlan is a compiled plan: flat tables indexed by small integers, built
// once by Load so that Rate does no lookups by string beyond the plan and
// service ids, and no allocation (S1.9).
type cPlan struct {
	doc      *Plan
	id       string
	currency money.Currency
	loc      *time.Location
	zt       zoneTable
	scale    uint8
	mode     money.RoundingMode

	services []cService
	zoneIDs  []string // index z+1 in tables; 0 is "no zone" ("")
	trie     []trieNode
	bands    []cBand
	defBand  int
	bt       bandTable
	rates    []cRate
	nz, nb   int
	table    []int32 // [service][zone+1][band] → rate index, -1 none
	disc     []cDiscount
}

type cService struct {
	id          string
	unit        usage.Unit
	split       bool    // time unit in a plan with several bands
	discounts   []int32 // applicable discounts in file order
	tierCounter string  // "tier:<id>" when a rate uses tier_basis period
	tierPeriod  period
}

type trieNode struct {
	next [10]int32 // child node, 0 = none (the root is never a child)
	zone int32     // zone index +1 ending here, 0 = none
}

type cBand struct {
	id        string
	days      uint8   // bit per time.Weekday; 0 = every day
	dates     []int64 // sorted yyyymmdd
	yearly    []int64 // sorted mmdd
	timed     bool
	from, to  int32 // seconds of the day; from ≥ to wraps
	isDefault bool
}

type cRate struct {
	name        string
	index       int
	connect     money.Decimal
	minimum     money.Decimal
	connect9    money.Decimal // at the internal scale, for cheap sums
	minimum9    money.Decimal
	chargeZero  bool
	first, next uint64
	tiers       []cTier
	volume      bool
	periodBasis bool
}

type cTier struct {
	upto  uint64 // exclusive end position; MaxUint64 for the last tier
	price money.Decimal
	per   uint64
	coef9 int64 // price × 10^9 as an integer, -1 if it does not fit
}

func newTier(upto uint64, price money.Decimal, per uint64) cTier {
	t := cTier{upto: upto, price: price, per: per, coef9: -1}
	if p9, err := price.Round(internalScale, internalMode); err == nil && p9.Equal(price) && p9.Sign() >= 0 {
		t.coef9 = p9.Coef()
	}
	return t
}

type discKind uint8

const (
	kindAllowance discKind = iota + 1
	kindPercentage
	kindCap
)

type cDiscount struct {
	id       string
	kind     discKind
	zones    []bool // by zone index (+1); nil = any
	bands    uint64 // bit per band; 0 = any
	from     int64
	until    int64
	units    uint64
	num, den uint64 // percentage: amount × num / den
	percent  money.Decimal
	amount   money.Decimal
	period   period
}

// collector gathers validation problems with their positions.
type collector struct {
	p    *Plan
	errs []error
}

func (c *collector) add(path, format string, args ...any) {
	c.errs = append(c.errs, &FieldError{Path: path, Line: c.p.line(path), Msg: fmt.Sprintf(format, args...)})
}

func validID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}

func (c *collector) id(path, s string) bool {
	if !validID(s) {
		if s == "" {
			c.add(path, "required")
		} else {
			c.add(path, "invalid id %q (want [a-z0-9][a-z0-9._-]{0,63})", s)
		}
		return false
	}
	return true
}

// price checks a money amount of a plan: ≥ 0, at most 9 fractional digits.
func (c *collector) price(path string, d money.Decimal) {
	if d.Sign() < 0 {
		c.add(path, "must not be negative; got %s", d)
	}
	if d.Normalize().Scale() > maxPriceDigits {
		c.add(path, "at most %d fractional digits; got %s", maxPriceDigits, d)
	}
}

// compile validates p and builds its compiled form. It reports every
// problem (errors.Join of *FieldError).
func compile(p *Plan) (*cPlan, error) {
	if p == nil {
		return nil, &FieldError{Msg: "nil plan"}
	}
	c := &collector{p: p}
	cp := &cPlan{doc: p, id: p.ID}
	c.id("id", p.ID)

	// Currency and rounding.
	cur, err := money.LookupCurrency(p.Currency)
	if err != nil {
		if p.Currency == "" {
			c.add("currency", "required (an ISO 4217 code such as EUR)")
		} else {
			c.add("currency", "unknown ISO 4217 currency %q", p.Currency)
		}
	}
	cp.currency = cur
	cp.scale = cur.Exponent
	if p.Rounding.Scale != nil {
		if *p.Rounding.Scale > internalScale {
			c.add("rounding.scale", "must be 0…%d; got %d", internalScale, *p.Rounding.Scale)
		} else {
			cp.scale = *p.Rounding.Scale
		}
	}
	cp.mode = money.RoundHalfUp
	if p.Rounding.Mode != "" {
		m, err := money.ParseRoundingMode(p.Rounding.Mode)
		if err != nil {
			c.add("rounding.mode", "unknown mode %q (want half_up, half_even, half_down, up, down, ceiling or floor)", p.Rounding.Mode)
		}
		cp.mode = m
	}

	// Timezone.
	tz := p.Timezone
	if tz == "" {
		tz = "UTC"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil || strings.EqualFold(tz, "local") {
		c.add("timezone", "unknown IANA timezone %q", p.Timezone)
		loc = time.UTC
	}
	cp.loc = loc
	cp.zt = newZoneTable(loc)

	c.services(cp)
	c.zones(cp)
	c.bands(cp)
	c.rates(cp)
	c.discounts(cp)

	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	return cp, nil
}

func (c *collector) services(cp *cPlan) {
	p := c.p
	declared := map[string]bool{}
	for i, s := range p.Services {
		path := fmt.Sprintf("services[%d]", i)
		if !c.id(path+".id", s.ID) {
			continue
		}
		if declared[s.ID] {
			c.add(path+".id", "duplicate service %q", s.ID)
			continue
		}
		declared[s.ID] = true
		u, err := usage.ParseUnit(s.Unit)
		if err != nil || s.Unit == "" {
			c.add(path+".unit", "unknown unit %q (want second, byte, message, event, vcpu_second, gib_hour or unit)", s.Unit)
			continue
		}
		for _, b := range builtinServices {
			if b.id == s.ID && b.unit != u {
				c.add(path+".unit", "built-in service %q is measured in %s", s.ID, b.unit)
			}
		}
		cp.services = append(cp.services, cService{id: s.ID, unit: u})
	}
	// Built-ins referenced by a rate or discount.
	used := map[string]bool{}
	for _, r := range p.Rates {
		used[r.Service] = true
	}
	for _, d := range p.Discounts {
		used[d.Service] = true
	}
	for _, b := range builtinServices {
		if used[b.id] && !declared[b.id] {
			cp.services = append(cp.services, cService{id: b.id, unit: b.unit})
		}
	}
}

// quantityUnit checks that a quantity written with a unit ("10MiB", "1m")
// was written in the unit of its service: "1m" on a data rate would
// otherwise silently mean 60 bytes.
func (c *collector) quantityUnit(path string, u usage.Unit) {
	txt, ok := c.p.qtext[path]
	if !ok {
		return
	}
	if _, err := usage.ParseQuantity(txt, u); err != nil {
		c.add(path, "%q is not a quantity in %s, the unit of this rate's service", txt, u)
	}
}

func (cp *cPlan) serviceIndex(id string) int {
	for i := range cp.services {
		if cp.services[i].id == id {
			return i
		}
	}
	return -1
}

func (c *collector) zones(cp *cPlan) {
	p := c.p
	cp.zoneIDs = []string{""}
	cp.trie = []trieNode{{}}
	seen := map[string]bool{}
	owner := map[string]string{}
	for i, z := range p.Zones {
		path := fmt.Sprintf("zones[%d]", i)
		ok := c.id(path+".id", z.ID)
		if ok && seen[z.ID] {
			c.add(path+".id", "duplicate zone %q", z.ID)
			ok = false
		}
		seen[z.ID] = true
		zi := int32(len(cp.zoneIDs))
		cp.zoneIDs = append(cp.zoneIDs, z.ID)
		if len(z.Prefixes) == 0 {
			c.add(path+".prefixes", "at least one prefix is required")
		}
		for j, pre := range z.Prefixes {
			pp := fmt.Sprintf("%s.prefixes[%d]", path, j)
			if pre == "" || len(pre) > maxPrefixLen || strings.Trim(pre, "0123456789") != "" {
				c.add(pp, "invalid prefix %q (want 1–%d digits, international format without + or 00)", pre, maxPrefixLen)
				continue
			}
			if o, dup := owner[pre]; dup {
				c.add(pp, "prefix %q is already in zone %q", pre, o)
				continue
			}
			owner[pre] = z.ID
			if ok {
				cp.addPrefix(pre, zi)
			}
		}
	}
	cp.nz = len(cp.zoneIDs)
}

func (cp *cPlan) addPrefix(pre string, zi int32) {
	n := int32(0)
	for i := 0; i < len(pre); i++ {
		d := pre[i] - '0'
		nx := cp.trie[n].next[d]
		if nx == 0 {
			nx = int32(len(cp.trie))
			cp.trie = append(cp.trie, trieNode{})
			cp.trie[n].next[d] = nx
		}
		n = nx
	}
	cp.trie[n].zone = zi
}

func (cp *cPlan) zoneIndex(id string) int {
	for i := 1; i < len(cp.zoneIDs); i++ {
		if cp.zoneIDs[i] == id {
			return i
		}
	}
	return -1
}

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

// parseClock parses "HH:MM" (00:00…24:00) into seconds of the day.
func parseClock(s string) (int32, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, false
	}
	return int32(h*3600 + m*60), true
}

func (c *collector) bands(cp *cPlan) {
	p := c.p
	if len(p.Bands) == 0 {
		cp.bands = []cBand{{id: "all", isDefault: true}}
		cp.nb = 1
		return
	}
	if len(p.Bands) > maxBands {
		c.add("bands", "at most %d bands; got %d", maxBands, len(p.Bands))
		return
	}
	seen := map[string]bool{}
	defaults := 0
	cp.defBand = -1
	for i, b := range p.Bands {
		path := fmt.Sprintf("bands[%d]", i)
		if c.id(path+".id", b.ID) {
			if seen[b.ID] {
				c.add(path+".id", "duplicate band %q", b.ID)
			}
			seen[b.ID] = true
		}
		cb := cBand{id: b.ID, isDefault: b.Default}
		for j, d := range b.Days {
			wd, ok := dayNames[strings.ToLower(d)]
			if !ok {
				c.add(fmt.Sprintf("%s.days[%d]", path, j), "unknown day %q (want mon, tue, wed, thu, fri, sat or sun)", d)
				continue
			}
			if cb.days&(1<<wd) != 0 {
				c.add(fmt.Sprintf("%s.days[%d]", path, j), "day %q listed twice", d)
			}
			cb.days |= 1 << wd
		}
		for j, d := range b.Dates {
			dp := fmt.Sprintf("%s.dates[%d]", path, j)
			if t, err := time.Parse("2006-01-02", d); err == nil {
				cb.dates = append(cb.dates, int64(t.Year())*10000+int64(t.Month())*100+int64(t.Day()))
			} else if t, err := time.Parse("01-02", d); err == nil && len(d) == 5 {
				cb.yearly = append(cb.yearly, int64(t.Month())*100+int64(t.Day()))
			} else if len(d) == 5 && d == "02-29" {
				cb.yearly = append(cb.yearly, 229)
			} else {
				c.add(dp, "invalid date %q (want YYYY-MM-DD, or MM-DD for every year)", d)
			}
		}
		slices.Sort(cb.dates)
		slices.Sort(cb.yearly)
		if b.From != "" || b.To != "" {
			from, ok1 := parseClock(b.From)
			to, ok2 := parseClock(b.To)
			if !ok1 || from == 86400 {
				c.add(path+".from", "invalid time %q (want HH:MM, 00:00…23:59)", b.From)
			}
			if !ok2 {
				c.add(path+".to", "invalid time %q (want HH:MM, 00:00…24:00)", b.To)
			}
			if ok1 && ok2 && (from == to || (from == 0 && to == 86400)) {
				c.add(path+".to", "from %s to %s covers the whole day; leave both out", b.From, b.To)
			}
			if to == 86400 && from != 0 {
				to = 0 // [from, 24:00) is the wrapping form [from, 00:00)
			}
			cb.timed, cb.from, cb.to = true, from, to
		}
		conds := cb.days != 0 || len(cb.dates) > 0 || len(cb.yearly) > 0 || cb.timed
		conds = conds || len(b.Days) > 0 || len(b.Dates) > 0
		if b.Default {
			defaults++
			cp.defBand = i
			if conds {
				c.add(path, "the default band must not set days, dates, from or to")
			}
		} else if !conds {
			c.add(path, "band sets no condition (days, dates, from/to); mark it default: true if it is the fallback")
		}
		cp.bands = append(cp.bands, cb)
	}
	switch {
	case defaults == 0:
		c.add("bands", "exactly one band must be marked default: true (the band of every instant no other band matches)")
	case defaults > 1:
		c.add("bands", "exactly one band must be marked default: true; %d are", defaults)
	}
	if cp.defBand < 0 {
		cp.defBand = 0
	}
	cp.nb = len(cp.bands)
	cp.bt = newBandTable(cp.bands)
}

func (cp *cPlan) bandIndex(id string) int {
	for i := range cp.bands {
		if cp.bands[i].id == id {
			return i
		}
	}
	return -1
}

func (c *collector) rates(cp *cPlan) {
	p := c.p
	if len(p.Rates) == 0 {
		c.add("rates", "at least one rate is required")
	}
	ns := len(cp.services)
	cells := ns * cp.nz * cp.nb
	if cells > maxTableCells {
		c.add("rates", "plan too large: %d services × %d zones × %d bands", ns, cp.nz, cp.nb)
		return
	}
	cp.table = make([]int32, cells)
	for i := range cp.table {
		cp.table[i] = -1
	}
	spec := make([]int8, cells)
	type key struct {
		s    int
		z, b int
	}
	keys := map[key]int{}
	ids := map[string]int{}
	tierPeriods := make([]period, ns)
	tierPeriodPath := make([]string, ns)
	valid := make([]bool, len(p.Rates))
	for i, r := range p.Rates {
		path := fmt.Sprintf("rates[%d]", i)
		cr := cRate{name: path, index: i, first: 1, next: 1}
		if r.ID != "" {
			if c.id(path+".id", r.ID) {
				if j, dup := ids[r.ID]; dup {
					c.add(path+".id", "duplicate rate id %q (also rates[%d])", r.ID, j)
				}
				ids[r.ID] = i
				cr.name = r.ID
			}
		}
		ok := true
		si := cp.serviceIndex(r.Service)
		if si < 0 {
			if r.Service == "" {
				c.add(path+".service", "required")
			} else {
				c.add(path+".service", "unknown service %q (declare it under services, or use voice, video, sms, mms, data)", r.Service)
			}
			ok = false
		}
		zi := -1 // any
		if r.Zone != "" && r.Zone != "*" {
			if zi = cp.zoneIndex(r.Zone); zi < 0 {
				c.add(path+".zone", "unknown zone %q", r.Zone)
				ok = false
			}
		}
		bi := -1
		if r.Band != "" && r.Band != "*" {
			if bi = cp.bandIndex(r.Band); bi < 0 {
				c.add(path+".band", "unknown band %q", r.Band)
				ok = false
			}
		}
		if si >= 0 {
			u := cp.services[si].unit
			c.quantityUnit(path+".per", u)
			c.quantityUnit(path+".increments.first", u)
			c.quantityUnit(path+".increments.next", u)
			for ti := range r.Tiers {
				c.quantityUnit(fmt.Sprintf("%s.tiers[%d].upto", path, ti), u)
				c.quantityUnit(fmt.Sprintf("%s.tiers[%d].per", path, ti), u)
			}
		}
		c.price(path+".connect_fee", r.ConnectFee)
		c.price(path+".minimum_charge", r.MinimumCharge)
		cr.connect, cr.connect9 = r.ConnectFee, to9(r.ConnectFee)
		cr.minimum, cr.minimum9 = r.MinimumCharge, to9(r.MinimumCharge)
		cr.chargeZero = r.ChargeZero
		if r.Increments != nil {
			if r.Increments.First == 0 {
				c.add(path+".increments.first", "must be > 0")
				ok = false
			}
			if r.Increments.Next == 0 {
				c.add(path+".increments.next", "must be > 0")
				ok = false
			}
			cr.first, cr.next = uint64(r.Increments.First), uint64(r.Increments.Next)
		}
		switch {
		case r.Price != nil && len(r.Tiers) > 0:
			c.add(path+".price", "set either price (one tier) or tiers, not both")
			ok = false
		case r.Price != nil:
			per := uint64(r.Per)
			if per == 0 {
				per = 1
			}
			c.price(path+".price", *r.Price)
			cr.tiers = []cTier{newTier(math.MaxUint64, *r.Price, per)}
		case len(r.Tiers) > 0:
			if r.Per != 0 {
				c.add(path+".per", "per belongs to each tier when tiers are used")
			}
			var prev uint64
			for j, t := range r.Tiers {
				tp := fmt.Sprintf("%s.tiers[%d]", path, j)
				last := j == len(r.Tiers)-1
				upto := uint64(t.UpTo)
				switch {
				case last && upto != 0:
					c.add(tp+".upto", "the last tier must be unbounded (leave upto out)")
					ok = false
				case !last && upto == 0:
					c.add(tp+".upto", "required on every tier but the last")
					ok = false
				case !last && upto <= prev:
					c.add(tp+".upto", "tiers must ascend: %d is not above %d", upto, prev)
					ok = false
				}
				if last {
					upto = math.MaxUint64
				}
				prev = upto
				if t.Price == nil {
					c.add(tp+".price", "required")
					ok = false
					continue
				}
				c.price(tp+".price", *t.Price)
				per := uint64(t.Per)
				if per == 0 {
					per = 1
				}
				cr.tiers = append(cr.tiers, newTier(upto, *t.Price, per))
			}
		default:
			c.add(path, "a rate needs price or tiers")
			ok = false
		}
		switch r.TierMode {
		case "", "graduated":
		case "volume":
			cr.volume = true
		default:
			c.add(path+".tier_mode", "unknown tier mode %q (want graduated or volume)", r.TierMode)
		}
		switch r.TierBasis {
		case "", "event":
			if r.TierPeriod != "" {
				c.add(path+".tier_period", "only with tier_basis: period")
			}
		case "period":
			cr.periodBasis = true
			per := periodMonth
			if r.TierPeriod != "" {
				var known bool
				if per, known = periodNames[r.TierPeriod]; !known {
					c.add(path+".tier_period", "unknown period %q (want day, week, month or year)", r.TierPeriod)
					per = periodMonth
				}
			}
			if si >= 0 {
				if tierPeriods[si] != periodNone && tierPeriods[si] != per {
					c.add(path+".tier_period", "every period-basis rate of service %q must use the same tier_period (see %s)", r.Service, tierPeriodPath[si])
				}
				tierPeriods[si] = per
				tierPeriodPath[si] = path
				cp.services[si].tierCounter = "tier:" + r.Service
				cp.services[si].tierPeriod = per
			}
		default:
			c.add(path+".tier_basis", "unknown tier basis %q (want event or period)", r.TierBasis)
		}
		cp.rates = append(cp.rates, cr)
		if !ok {
			continue
		}
		k := key{si, zi, bi}
		if j, dup := keys[k]; dup {
			c.add(path, "duplicate rate: rates[%d] already prices service %q, zone %q, band %q", j, r.Service, or(r.Zone, "*"), or(r.Band, "*"))
			continue
		}
		keys[k] = i
		valid[i] = true
		// Fill the cells this rate covers where it is the most specific
		// so far. Zone specificity outranks band specificity.
		var s int8 = 1
		if zi >= 0 {
			s += 2
		}
		if bi >= 0 {
			s++
		}
		for z := 0; z < cp.nz; z++ {
			if zi >= 0 && z != zi {
				continue
			}
			for b := 0; b < cp.nb; b++ {
				if bi >= 0 && b != bi {
					continue
				}
				cell := (si*cp.nz+z)*cp.nb + b
				if s > spec[cell] {
					spec[cell], cp.table[cell] = s, int32(i)
				}
			}
		}
	}
	// Unreachable rates: valid but winning no cell.
	won := make([]bool, len(p.Rates))
	for _, ri := range cp.table {
		if ri >= 0 {
			won[ri] = true
		}
	}
	for i := range p.Rates {
		if valid[i] && !won[i] {
			c.add(fmt.Sprintf("rates[%d]", i), "unreachable: more specific rates cover every zone and band it matches")
		}
	}
	for i := range cp.services {
		cp.services[i].split = cp.services[i].unit.IsTime() && cp.nb > 1
	}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// parseInstant parses an RFC 3339 time or a YYYY-MM-DD date (local
// midnight in loc) into unix seconds.
func parseInstant(s string, loc *time.Location) (int64, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.Unix(), true
	}
	if t, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		return t.Unix(), true
	}
	return 0, false
}

func (c *collector) discounts(cp *cPlan) {
	p := c.p
	ids := map[string]bool{}
	for i, d := range p.Discounts {
		path := fmt.Sprintf("discounts[%d]", i)
		cd := cDiscount{id: d.ID, from: math.MinInt64, until: math.MaxInt64}
		if c.id(path+".id", d.ID) {
			if ids[d.ID] {
				c.add(path+".id", "duplicate discount %q", d.ID)
			}
			ids[d.ID] = true
			if strings.HasPrefix(d.ID, "tier:") {
				c.add(path+".id", "ids starting with tier: are reserved")
			}
		}
		switch d.Type {
		case DiscountAllowance:
			cd.kind = kindAllowance
		case DiscountPercentage:
			cd.kind = kindPercentage
		case DiscountCap:
			cd.kind = kindCap
		case "":
			c.add(path+".type", "required (allowance, percentage or cap)")
		default:
			c.add(path+".type", "unknown type %q (want allowance, percentage or cap)", d.Type)
		}
		si := -1
		switch {
		case d.Service == "" || d.Service == "*":
			if cd.kind == kindAllowance {
				c.add(path+".service", "an allowance needs a service (its units are in that service's unit)")
			}
		default:
			if si = cp.serviceIndex(d.Service); si < 0 {
				c.add(path+".service", "unknown service %q", d.Service)
			} else {
				c.quantityUnit(path+".units", cp.services[si].unit)
			}
		}
		if len(d.Zones) > 0 {
			cd.zones = make([]bool, cp.nz)
			for j, z := range d.Zones {
				zi := cp.zoneIndex(z)
				if zi < 0 {
					c.add(fmt.Sprintf("%s.zones[%d]", path, j), "unknown zone %q", z)
					continue
				}
				cd.zones[zi] = true
			}
		}
		for j, b := range d.Bands {
			bi := cp.bandIndex(b)
			if bi < 0 || len(p.Bands) == 0 {
				c.add(fmt.Sprintf("%s.bands[%d]", path, j), "unknown band %q", b)
				continue
			}
			cd.bands |= 1 << bi
		}
		if d.ValidFrom != "" {
			v, ok := parseInstant(d.ValidFrom, cp.loc)
			if !ok {
				c.add(path+".valid_from", "invalid time %q (want RFC 3339 or YYYY-MM-DD)", d.ValidFrom)
			}
			cd.from = v
		}
		if d.ValidUntil != "" {
			v, ok := parseInstant(d.ValidUntil, cp.loc)
			if !ok {
				c.add(path+".valid_until", "invalid time %q (want RFC 3339 or YYYY-MM-DD)", d.ValidUntil)
			}
			cd.until = v
		}
		if d.ValidFrom != "" && d.ValidUntil != "" && cd.from >= cd.until {
			c.add(path+".valid_until", "must be after valid_from")
		}
		if d.Period != "" {
			per, ok := periodNames[d.Period]
			if !ok {
				c.add(path+".period", "unknown period %q (want day, week, month or year)", d.Period)
			}
			cd.period = per
		}
		notFor := func(field string, set bool) {
			if set {
				c.add(path+"."+field, "not used by a %s discount", d.Type)
			}
		}
		switch cd.kind {
		case kindAllowance:
			if d.Units == 0 {
				c.add(path+".units", "must be > 0")
			}
			cd.units = uint64(d.Units)
			if d.Period == "" {
				c.add(path+".period", "required (day, week, month or year)")
			}
			notFor("percent", d.Percent != nil)
			notFor("amount", d.Amount != nil)
		case kindPercentage:
			switch {
			case d.Percent == nil:
				c.add(path+".percent", "required")
			case d.Percent.Sign() <= 0 || d.Percent.Cmp(money.FromInt(100)) > 0:
				c.add(path+".percent", "must be in (0, 100]; got %s", d.Percent)
			case d.Percent.Normalize().Scale() > 6:
				c.add(path+".percent", "at most 6 fractional digits; got %s", d.Percent)
			default:
				pc := d.Percent.Normalize()
				den := uint64(100) * pow10u(pc.Scale())
				cd.num, cd.den = den-uint64(pc.Coef()), den
				cd.percent = *d.Percent
			}
			notFor("units", d.Units != 0)
			notFor("amount", d.Amount != nil)
			notFor("period", d.Period != "")
		case kindCap:
			switch {
			case d.Amount == nil:
				c.add(path+".amount", "required")
			case d.Amount.Sign() < 0:
				c.add(path+".amount", "must not be negative; got %s", d.Amount)
			case d.Amount.Normalize().Scale() > cp.scale:
				c.add(path+".amount", "at most %d fractional digits (the plan's rounding scale); got %s", cp.scale, d.Amount)
			default:
				cd.amount = *d.Amount
			}
			if d.Period == "" {
				c.add(path+".period", "required (day, week, month or year)")
			}
			notFor("units", d.Units != 0)
			notFor("percent", d.Percent != nil)
		}
		if cd.kind == 0 {
			continue
		}
		idx := int32(len(cp.disc))
		cp.disc = append(cp.disc, cd)
		for s := range cp.services {
			if si < 0 || si == s {
				cp.services[s].discounts = append(cp.services[s].discounts, idx)
			}
		}
	}
}

// to9 returns d at the internal scale when that is exact and fits, else d.
func to9(d money.Decimal) money.Decimal {
	if d9, err := d.Round(internalScale, internalMode); err == nil && d9.Equal(d) {
		return d9
	}
	return d
}

func pow10u(n uint8) uint64 {
	v := uint64(1)
	for range n {
		v *= 10
	}
	return v
}
