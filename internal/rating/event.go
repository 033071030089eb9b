package rating

import (
	"time"

	"github.com/tollgate-billing/tollgate/internal/money"
)

// Event is one usage to rate.
type Event struct {
	PlanID  string `json:"plan_id"`
	Service string `json:"service"`
	// Destination is the called number or other destination, digits in
	// international format; a leading "+" or "00" is stripped and matching
	// stops at the first non-digit. Empty matches no zone, so only rates
	// with zone "*" apply.
	Destination string    `json:"destination,omitempty"`
	Start       time.Time `json:"start"`
	// Quantity is in the service's unit (seconds, bytes, messages …).
	Quantity uint64 `json:"quantity"`
	// Counters is the caller's state of the period counters (allowance
	// units used, cap amount charged, period usage for tier_basis period).
	// Counters of another period than the event's are ignored. Rate only
	// reads them.
	Counters []Counter `json:"counters,omitempty"`
	// Explain asks for Result.Lines.
	Explain bool `json:"explain,omitempty"`
}

// Counter is the state of (or a change to) one period counter. ID is the
// discount id for allowances and caps, or "tier:<service>" for the period
// usage of tier_basis period; PeriodStart is the unix second at which the
// counter's period (day, week, month, year) starts in the plan's timezone.
type Counter struct {
	ID          string        `json:"id"`
	PeriodStart int64         `json:"period_start"`
	Units       uint64        `json:"units,omitempty"`
	Amount      money.Decimal `json:"amount,omitzero"`
}

// LineKind says what a Line of an explanation is.
type LineKind string

// The kinds of explanation lines, in the order rating produces them.
const (
	LineAllowance  LineKind = "allowance"      // units made free by an allowance
	LineTier       LineKind = "tier"           // a priced piece: Units × Price / Per
	LineConnectFee LineKind = "connect_fee"    // the rate's connect fee
	LineMinimum    LineKind = "minimum_charge" // raise to the rate's minimum charge
	LineDiscount   LineKind = "discount"       // a percentage discount
	LineCap        LineKind = "cap"            // a price cap
	LineRounding   LineKind = "rounding"       // the final rounding
)

// Line is one step of an explanation. Amount is the line's contribution
// (negative for discounts and caps) and Total the running amount after it,
// so that a person can check a bill by hand: the Amounts add up to
// Result.Amount exactly.
type Line struct {
	Kind      LineKind `json:"kind"`
	Rate      string   `json:"rate,omitempty"` // rate id, or "rates[i]"
	RateIndex int      `json:"rate_index"`     // index into Plan.Rates; -1 if none
	Tier      int      `json:"tier"`           // index into the rate's tiers; -1 if none
	Discount  string   `json:"discount,omitempty"`
	Zone      string   `json:"zone,omitempty"`
	Band      string   `json:"band,omitempty"`
	// Start is the start of the segment a tier line prices.
	Start   time.Time     `json:"start,omitzero"`
	Units   uint64        `json:"units,omitempty"`
	Price   money.Decimal `json:"price,omitzero"`
	Per     uint64        `json:"per,omitempty"`
	Percent money.Decimal `json:"percent,omitzero"`
	Amount  money.Decimal `json:"amount"`
	Total   money.Decimal `json:"total"`
}

// Result is the outcome of rating one event. A caller reuses one Result
// across calls; Rate resets it and appends to the Deltas and Lines slices'
// storage, so a warm Result does not allocate.
type Result struct {
	PlanID   string         `json:"plan_id"`
	Amount   money.Decimal  `json:"amount"` // final, rounded
	Currency money.Currency `json:"currency"`
	// Units are the charged units after increments, FreeUnits the part of
	// them covered by allowances.
	Units     uint64 `json:"units"`
	FreeUnits uint64 `json:"free_units,omitempty"`
	Zone      string `json:"zone,omitempty"` // zone of the destination; "" if none
	Band      string `json:"band"`           // band at the start
	// Deltas are the counter changes the caller must apply (add Units and
	// Amount to the counter with the same ID and PeriodStart).
	Deltas []Counter `json:"deltas,omitempty"`
	// Lines explain the amount; only filled when Event.Explain is set.
	Lines []Line `json:"lines,omitempty"`
}

func (r *Result) reset() {
	d, l := r.Deltas[:0], r.Lines[:0]
	*r = Result{Deltas: d, Lines: l}
}
