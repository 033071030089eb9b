package rating

import (
	"math"
	"math/bits"
	"slices"
	"time"
)

// zoneTable is a plan's timezone as a flat list of UTC-offset periods
// between 1900 and 2200, built once at Load. Looking an instant up is a
// binary search with no allocation and no parsing of the zone's TZ rule
// string, which time.Location does for instants past its last stored
// transition. Instants outside the table fall back to time.Location.
type zoneTable struct {
	loc    *time.Location
	starts []int64 // start of each period (unix seconds)
	offs   []int64 // UTC offset in seconds during the period
	end    int64   // the table covers [starts[0], end)
	// idx[b] is the period containing starts[0] + b<<bucketShift, so that
	// a lookup is one index step and a short forward scan.
	idx []int32
}

const bucketShift = 21 // about 24 days

func newZoneTable(loc *time.Location) zoneTable {
	z := zoneTable{loc: loc}
	from := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	to := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	t := from
	z.end = to
	for t < to && len(z.starts) < 20000 {
		tt := time.Unix(t, 0).In(loc)
		_, off := tt.Zone()
		_, e := tt.ZoneBounds()
		if n := len(z.offs); n == 0 || z.offs[n-1] != int64(off) {
			z.starts = append(z.starts, t)
			z.offs = append(z.offs, int64(off))
		}
		if e.IsZero() {
			z.end = math.MaxInt64
			break
		}
		if e.Unix() <= t {
			z.end = t
			break
		}
		t = e.Unix()
		z.end = t
	}
	if z.end > to && z.end != math.MaxInt64 {
		z.end = to
	}
	if len(z.starts) > 1 {
		limit := min(z.end, to)
		nb := (limit-z.starts[0])>>bucketShift + 1
		z.idx = make([]int32, nb)
		i := 0
		for b := range z.idx {
			t := z.starts[0] + int64(b)<<bucketShift
			for i+1 < len(z.starts) && z.starts[i+1] <= t {
				i++
			}
			z.idx[b] = int32(i)
		}
	}
	return z
}

// lookup returns the UTC offset at unix second t and the period around t
// during which it holds: [from, until); math.MinInt64 and math.MaxInt64
// stand for no bound.
func (z *zoneTable) lookup(t int64) (off, from, until int64) {
	n := len(z.starts)
	if n > 0 && t >= z.starts[0] && t < z.end {
		lo := 0
		if b := (t - z.starts[0]) >> bucketShift; b < int64(len(z.idx)) {
			lo = int(z.idx[b])
			for lo+1 < n && z.starts[lo+1] <= t {
				lo++
			}
		} else if n > 1 {
			lo, hi := 0, n
			for hi-lo > 1 {
				mid := int(uint(lo+hi) >> 1)
				if z.starts[mid] <= t {
					lo = mid
				} else {
					hi = mid
				}
			}
			if lo+1 < n {
				return z.offs[lo], z.starts[lo], z.starts[lo+1]
			}
			return z.offs[lo], z.starts[lo], z.end
		}
		if lo+1 < n {
			return z.offs[lo], z.starts[lo], z.starts[lo+1]
		}
		return z.offs[lo], z.starts[lo], z.end
	}
	tt := time.Unix(t, 0).In(z.loc)
	_, o := tt.Zone()
	s, e := tt.ZoneBounds()
	from, until = int64(math.MinInt64), int64(math.MaxInt64)
	if !s.IsZero() && s.Unix() <= t {
		from = s.Unix()
	}
	if !e.IsZero() && e.Unix() > t {
		until = e.Unix()
	}
	return int64(o), from, until
}

// zoneCursor caches the offset period of the last lookup during one event.
type zoneCursor struct {
	z     *zoneTable
	off   int64
	from  int64
	until int64
	ok    bool
}

func (c *zoneCursor) offset(t int64) (off, until int64) {
	if !c.ok || t < c.from || t >= c.until {
		c.off, c.from, c.until = c.z.lookup(t)
		c.ok = true
	}
	return c.off, c.until
}

// localTime is an instant's calendar position in the plan's timezone.
type localTime struct {
	days int64 // local days since 1970-01-01
	sod  int32 // second of the local day
	y    int64
	m, d int
	wd   time.Weekday
	ymd  int64 // y*10000 + m*100 + d
}

const secsPerDay = 86400

// localAt computes the local calendar position of t given its UTC offset.
func localAt(t, off int64) localTime {
	var lt localTime
	l := t + off
	if (off > 0 && l < t) || (off < 0 && l > t) { // saturate at the int64 range
		l = t
	}
	lt.days = floorDiv(l, secsPerDay)
	lt.sod = int32(l - lt.days*secsPerDay)
	lt.y, lt.m, lt.d = civil(lt.days)
	lt.wd = time.Weekday(floorMod(lt.days+4, 7)) // 1970-01-01 was a Thursday
	lt.ymd = lt.y*10000 + int64(lt.m)*100 + int64(lt.d)
	return lt
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// civil converts days since 1970-01-01 to a proleptic Gregorian date
// (H. Hinnant's days_from_civil inverse).
func civil(z int64) (y int64, m, d int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// bandTable answers "which bands can match on this local date" with a
// few array lookups: a bit mask over the plan's bands (bit i = band i; at
// most 64 bands), from which bandAt and nextChange only test the time of
// day. Built once at Load.
type bandTable struct {
	byWeekday  [7]uint64 // bands without dates whose days include the weekday
	datedByWD  [7]uint64 // bands with dates whose days include the weekday
	yearly     [13][32]uint64
	dates      []int64 // sorted yyyymmdd of every specific date
	dateMasks  []uint64
	timed      uint64 // bands with from/to
	from, to   [64]int32
	defaultBit int
}

func newBandTable(bands []cBand) bandTable {
	var t bandTable
	byDate := map[int64]uint64{}
	for i, b := range bands {
		if b.isDefault {
			t.defaultBit = i
			continue
		}
		bit := uint64(1) << i
		dated := len(b.dates) > 0 || len(b.yearly) > 0
		for wd := range 7 {
			if b.days != 0 && b.days&(1<<wd) == 0 {
				continue
			}
			if dated {
				t.datedByWD[wd] |= bit
			} else {
				t.byWeekday[wd] |= bit
			}
		}
		for _, md := range b.yearly {
			t.yearly[md/100][md%100] |= bit
		}
		for _, d := range b.dates {
			byDate[d] |= bit
		}
		if b.timed {
			t.timed |= bit
			t.from[i], t.to[i] = b.from, b.to
		}
	}
	for d := range byDate {
		t.dates = append(t.dates, d)
	}
	slices.Sort(t.dates)
	for _, d := range t.dates {
		t.dateMasks = append(t.dateMasks, byDate[d])
	}
	return t
}

// dayMask returns the bands whose day and date conditions hold on the
// local date of lt.
func (t *bandTable) dayMask(lt *localTime) uint64 {
	m := t.byWeekday[lt.wd]
	dated := t.datedByWD[lt.wd]
	if dated == 0 {
		return m
	}
	dm := t.yearly[lt.m][lt.d]
	if len(t.dates) > 0 {
		lo, hi := 0, len(t.dates)
		for lo < hi {
			mid := int(uint(lo+hi) >> 1)
			if t.dates[mid] < lt.ymd {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		if lo < len(t.dates) && t.dates[lo] == lt.ymd {
			dm |= t.dateMasks[lo]
		}
	}
	return m | dm&dated
}

func (t *bandTable) timeMatch(i int, sod int32) bool {
	if t.timed&(1<<i) == 0 {
		return true
	}
	if f, to := t.from[i], t.to[i]; f < to {
		return sod >= f && sod < to
	} else {
		return sod >= f || sod < to
	}
}

// bandAt returns the band of the local instant: the first matching band
// in file order, else the default band.
func (cp *cPlan) bandAt(lt *localTime, mask uint64) int {
	for m := mask; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(m)
		if cp.bt.timeMatch(i, lt.sod) {
			return i
		}
	}
	return cp.defBand
}

// nextChange returns the second of the local day (≤ 86400) at or before
// which the band of lt may next change: the nearest band edge after lt on
// that date, or midnight.
func (cp *cPlan) nextChange(lt *localTime, mask uint64) int32 {
	next := int32(secsPerDay)
	for m := mask & cp.bt.timed; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(m)
		if f := cp.bt.from[i]; f > lt.sod && f < next {
			next = f
		}
		if to := cp.bt.to[i]; to > lt.sod && to < next {
			next = to
		}
	}
	return next
}

// periodStart returns the unix second at which the period containing lt
// starts: local midnight of its first day in the plan's timezone.
func (cp *cPlan) periodStart(p period, lt *localTime, zc *zoneCursor) int64 {
	days := lt.days
	switch p {
	case periodDay:
	case periodWeek:
		days -= int64((int(lt.wd) + 6) % 7) // back to Monday
	case periodMonth:
		days -= int64(lt.d - 1)
	case periodYear:
		days = daysFromCivil(lt.y, 1, 1)
	default:
		return 0
	}
	l := days * secsPerDay
	// Fast path: midnight is in the offset period of the event's start.
	if zc.ok {
		if t := l - zc.off; t >= zc.from && t < zc.until {
			return t
		}
	}
	// Resolve local midnight to an instant: try the offset in force a
	// little before, then the one in force at that guess. If neither is
	// consistent, midnight falls in a gap and the period starts at the
	// offset change.
	off, _, _ := cp.zt.lookup(l - 14*3600)
	t := l - off
	off2, from2, _ := cp.zt.lookup(t)
	if off2 == off {
		return t
	}
	t2 := l - off2
	if off3, _, _ := cp.zt.lookup(t2); off3 == off2 {
		return t2
	}
	return from2
}

// daysFromCivil is the inverse of civil.
func daysFromCivil(y int64, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := int64((m + 9) % 12)
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
