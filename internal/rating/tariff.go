package rating

import "time"

// NextTariffChange returns the first instant after t, and no later than
// t+within, at which the plan's time band changes — where the price of a
// time-banded service may change, the tariffTimeChange an online charging
// grant announces so that the consumer reports usage before and after it
// separately. ok is false when the plan does not change band in the window
// (or is unknown). Instants are whole seconds; daylight-saving shifts are
// followed.
func (e *Engine) NextTariffChange(planID string, t time.Time, within time.Duration) (time.Time, bool) {
	cp := e.catalog().plans[planID]
	if cp == nil || len(cp.bands) <= 1 || within <= 0 {
		return time.Time{}, false
	}
	var zc zoneCursor
	zc.z = &cp.zt
	cur := t.Unix()
	end := cur + int64(within/time.Second)
	off, _ := zc.offset(cur)
	lt := localAt(cur, off)
	mask := cp.bt.dayMask(&lt)
	b0 := cp.bandAt(&lt, mask)
	for steps := 0; cur < end && steps < 10000; steps++ {
		next := cp.nextChange(&lt, mask)
		cand := cur + int64(next-lt.sod)
		if off2, _ := zc.offset(cand); off2 != off {
			// A daylight-saving shift before the edge: the edge is in
			// local time, so it moves by the shift.
			cand -= off2 - off
		}
		if cand <= cur {
			cand = cur + 1
		}
		off, _ = zc.offset(cand)
		lt = localAt(cand, off)
		mask = cp.bt.dayMask(&lt)
		if cp.bandAt(&lt, mask) != b0 {
			if cand <= end {
				return time.Unix(cand, 0).UTC(), true
			}
			break
		}
		cur = cand
	}
	return time.Time{}, false
}
