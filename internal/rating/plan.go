package rating

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tollgate-billing/tollgate/internal/money"
	"github.com/tollgate-billing/tollgate/internal/usage"
	"go.yaml.in/yaml/v3"
)

// Errors of the package. Every error returned by ParsePlan, Plan.Validate
// and Engine.Load for a bad document wraps ErrInvalidPlan; Rate wraps one of
// the others. Test with errors.Is.
var (
	ErrInvalidPlan    = errors.New("rating: invalid plan")
	ErrUnknownPlan    = errors.New("rating: unknown plan")
	ErrUnknownService = errors.New("rating: unknown service")
	ErrNoRate         = errors.New("rating: no rate matches")
	ErrOverflow       = errors.New("rating: arithmetic overflow")
	ErrInvalidEvent   = errors.New("rating: invalid event")
)

// FieldError is one problem in a plan document, positioned like
// csv.ParseError: the field path (rates[2].tiers[0].price) and, when the
// plan was parsed from text, the line. It wraps ErrInvalidPlan.
type FieldError struct {
	Path string // e.g. "rates[2].tiers[0].price"; "" for the whole document
	Line int    // 1-based line in the source; 0 if unknown
	Msg  string
}

// Error formats the problem as "rating: PATH (line N): MSG".
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString("rating: ")
	b.WriteString(e.Path)
	if e.Line > 0 {
		if e.Path != "" {
			b.WriteByte(' ')
		}
		b.WriteString("(line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteByte(')')
	}
	if e.Path != "" || e.Line > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns ErrInvalidPlan.
func (e *FieldError) Unwrap() error { return ErrInvalidPlan }

// Plan is a tariff plan document: the data an operator writes in YAML (or
// JSON) and the admin API returns. Zero values mean "use the default" as
// documented on each field and in docs/tariffs.md. A Plan handed to
// Engine.Load must not be modified afterwards.
type Plan struct {
	// ID names the plan: [a-z0-9][a-z0-9._-]{0,63}.
	ID string `json:"id" yaml:"id"`
	// Name and Description are for people only.
	Name        string `json:"name,omitempty" yaml:"name,omitempty"`
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
	// Currency is an ISO 4217 code such as EUR.
	Currency string `json:"currency" yaml:"currency"`
	// Timezone is an IANA zone; bands, holiday dates, discount validity
	// dates and counter periods are evaluated in it. Default UTC.
	Timezone string `json:"timezone,omitempty" yaml:"timezone,omitempty"`
	// Rounding is the final rounding of every rated amount.
	Rounding Rounding `json:"rounding,omitzero" yaml:"rounding,omitempty"`
	// Services declares custom services; the built-ins (voice, video,
	// sms, mms, data) need no declaration.
	Services []Service `json:"services,omitempty" yaml:"services,omitempty"`
	// Zones group destinations by number prefix (longest prefix wins).
	Zones []Zone `json:"zones,omitempty" yaml:"zones,omitempty"`
	// Bands are time bands; the first matching band wins. Empty means one
	// implicit band "all" covering every instant.
	Bands []Band `json:"bands,omitempty" yaml:"bands,omitempty"`
	// Rates price (service, zone, band); the most specific rate wins.
	Rates []Rate `json:"rates" yaml:"rates"`
	// Discounts are allowances, percentage discounts and caps.
	Discounts []Discount `json:"discounts,omitempty" yaml:"discounts,omitempty"`

	lines map[string]int    // field path → source line, set by ParsePlan
	qtext map[string]string // field path → quantity text with a unit ("1m"), set by ParsePlan
}

// Rounding says how a rated amount is rounded at the end.
type Rounding struct {
	// Scale is the number of fractional digits kept, 0…9. Default: the
	// currency's minor-unit exponent (2 for EUR).
	Scale *uint8 `json:"scale,omitempty" yaml:"scale,omitempty"`
	// Mode is a money.RoundingMode name: half_up (default), half_even,
	// half_down, up, down, ceiling, floor.
	Mode string `json:"mode,omitempty" yaml:"mode,omitempty"`
}

// IsZero reports whether no rounding field is set (for omitempty).
func (r Rounding) IsZero() bool { return r.Scale == nil && r.Mode == "" }

// Service declares a custom service and the unit its quantities are in.
type Service struct {
	ID string `json:"id" yaml:"id"`
	// Unit is a usage.Unit name: second, byte, message, event,
	// vcpu_second, gib_hour or unit. Services in seconds are split at band
	// boundaries.
	Unit string `json:"unit" yaml:"unit"`
	Name string `json:"name,omitempty" yaml:"name,omitempty"`
}

// Zone is a set of destination number prefixes (digits, E.164 without +).
type Zone struct {
	ID       string   `json:"id" yaml:"id"`
	Name     string   `json:"name,omitempty" yaml:"name,omitempty"`
	Prefixes []string `json:"prefixes" yaml:"prefixes"`
}

// Band is a time band. A band matches an instant when every condition it
// sets holds at that instant in the plan's timezone: the local date is in
// Dates, the weekday is in Days, and the time of day is in [From, To). A
// band whose To is not after From wraps past midnight: it matches from From
// to 24:00 and from 00:00 to To on each day its other conditions select.
type Band struct {
	ID   string `json:"id" yaml:"id"`
	Name string `json:"name,omitempty" yaml:"name,omitempty"`
	// Default marks the band of every instant no other band matches.
	// Exactly one band is the default, and it sets no conditions.
	Default bool `json:"default,omitempty" yaml:"default,omitempty"`
	// Days are weekday names: mon tue wed thu fri sat sun (or full names).
	Days []string `json:"days,omitempty" yaml:"days,omitempty"`
	// Dates are "YYYY-MM-DD" (one day) or "MM-DD" (that day every year).
	Dates []string `json:"dates,omitempty" yaml:"dates,omitempty"`
	// From and To are "HH:MM"; To may be "24:00". Both or neither.
	From string `json:"from,omitempty" yaml:"from,omitempty"`
	To   string `json:"to,omitempty" yaml:"to,omitempty"`
}

// Rate prices one service in a zone and band. Zone and Band default to "*"
// (any). A rate has either Price (one unbounded tier) or Tiers.
type Rate struct {
	// ID is optional; explanations name the rate by ID or "rates[i]".
	ID      string `json:"id,omitempty" yaml:"id,omitempty"`
	Service string `json:"service" yaml:"service"`
	Zone    string `json:"zone,omitempty" yaml:"zone,omitempty"`
	Band    string `json:"band,omitempty" yaml:"band,omitempty"`

	// ConnectFee is added once per chargeable event.
	ConnectFee money.Decimal `json:"connect_fee,omitzero" yaml:"connect_fee,omitempty"`
	// MinimumCharge is the least an event with chargeable units costs.
	MinimumCharge money.Decimal `json:"minimum_charge,omitzero" yaml:"minimum_charge,omitempty"`
	// ChargeZero charges the connect fee for an event of quantity 0.
	ChargeZero bool `json:"charge_zero,omitempty" yaml:"charge_zero,omitempty"`
	// Increments round the quantity up; default {first: 1, next: 1}.
	Increments *Increments `json:"increments,omitempty" yaml:"increments,omitempty"`

	// Price per Per units (default 1): shorthand for a single tier.
	Price *money.Decimal `json:"price,omitempty" yaml:"price,omitempty"`
	Per   Quantity       `json:"per,omitempty" yaml:"per,omitempty"`
	// Tiers, ascending by UpTo, the last one unbounded.
	Tiers []Tier `json:"tiers,omitempty" yaml:"tiers,omitempty"`
	// TierMode is graduated (default: each unit at the tier of its
	// position) or volume (all units at the tier of the last position).
	TierMode string `json:"tier_mode,omitempty" yaml:"tier_mode,omitempty"`
	// TierBasis is event (default: positions count from the start of the
	// event) or period (positions continue from the units already charged
	// in the period, read from the "tier:<service>" counter).
	TierBasis string `json:"tier_basis,omitempty" yaml:"tier_basis,omitempty"`
	// TierPeriod is the period of a period basis: day, week, month
	// (default) or year.
	TierPeriod string `json:"tier_period,omitempty" yaml:"tier_period,omitempty"`
}

// Increments round a quantity up: the first increment covers the first
// First units, then the quantity grows in multiples of Next.
type Increments struct {
	First Quantity `json:"first" yaml:"first"`
	Next  Quantity `json:"next" yaml:"next"`
}

// Tier is one step of a price ladder: units at positions [previous UpTo,
// UpTo) cost Price per Per units. UpTo is 0 (absent) on the last tier only.
type Tier struct {
	UpTo  Quantity       `json:"upto,omitempty" yaml:"upto,omitempty"`
	Price *money.Decimal `json:"price" yaml:"price"`
	Per   Quantity       `json:"per,omitempty" yaml:"per,omitempty"`
}

// Discount types.
const (
	DiscountAllowance  = "allowance"
	DiscountPercentage = "percentage"
	DiscountCap        = "cap"
)

// Discount is a free allowance, a percentage discount or a price cap. The
// filters (Service, Zones, Bands, ValidFrom, ValidUntil) select the events
// it applies to; zones and bands are those of the event's start.
type Discount struct {
	ID   string `json:"id" yaml:"id"`
	Type string `json:"type" yaml:"type"`
	// Service is a service id or "*" (percentage and cap only). Default "*".
	Service string   `json:"service,omitempty" yaml:"service,omitempty"`
	Zones   []string `json:"zones,omitempty" yaml:"zones,omitempty"`
	Bands   []string `json:"bands,omitempty" yaml:"bands,omitempty"`
	// ValidFrom (inclusive) and ValidUntil (exclusive) bound the event
	// start: RFC 3339, or YYYY-MM-DD meaning local midnight in the plan's
	// timezone.
	ValidFrom  string `json:"valid_from,omitempty" yaml:"valid_from,omitempty"`
	ValidUntil string `json:"valid_until,omitempty" yaml:"valid_until,omitempty"`
	// Units free per period (allowance).
	Units Quantity `json:"units,omitempty" yaml:"units,omitempty"`
	// Percent off, in (0, 100] (percentage).
	Percent *money.Decimal `json:"percent,omitempty" yaml:"percent,omitempty"`
	// Amount is the most charged per period (cap).
	Amount *money.Decimal `json:"amount,omitempty" yaml:"amount,omitempty"`
	// Period of an allowance or cap: day, week (from Monday), month, year.
	Period string `json:"period,omitempty" yaml:"period,omitempty"`
}

// Quantity is a count of a service's units in a plan document. It is
// written as an integer, a byte size ("10MiB", "1GB") or a duration in whole
// seconds ("90s", "1h").
type Quantity uint64

// ParseQuantityText parses the text form of a Quantity.
func ParseQuantityText(s string) (Quantity, error) {
	t := strings.TrimSpace(s)
	if n, err := strconv.ParseUint(t, 10, 64); err == nil {
		return Quantity(n), nil
	}
	if t != "" && t[0] >= '0' && t[0] <= '9' {
		if n, err := usage.ParseQuantity(t, usage.Byte); err == nil {
			return Quantity(n), nil
		}
		if n, err := usage.ParseQuantity(t, usage.Second); err == nil {
			return Quantity(n), nil
		}
	}
	return 0, fmt.Errorf("invalid quantity %q (want a non-negative integer, a size such as 10MiB or a duration such as 90s)", s)
}

// UnmarshalYAML implements yaml.Unmarshaler. Bad input is reported as a
// *yaml.TypeError so that decoding goes on and every problem is reported.
func (q *Quantity) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: want a quantity", n.Line)}}
	}
	v, err := ParseQuantityText(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	*q = v
	return nil
}

// UnmarshalJSON accepts a JSON number or a string in the text form.
func (q *Quantity) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	if len(s) >= 2 && s[0] == '"' {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		s = str
	}
	v, err := ParseQuantityText(s)
	if err != nil {
		return err
	}
	*q = v
	return nil
}

// line returns the source line of path, or of its nearest parent that has
// one, or 0.
func (p *Plan) line(path string) int {
	if p.lines == nil {
		return 0
	}
	for {
		if l, ok := p.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i <= 0 {
			return p.lines[path]
		}
		path = path[:i]
	}
}

// Validate checks the plan and reports every problem at once: an
// errors.Join of *FieldError, each wrapping ErrInvalidPlan. A plan that
// validates compiles and loads.
func (p *Plan) Validate() error {
	_, err := compile(p)
	return err
}

// decText marshals a decimal without the IsZero method, so that YAML's
// omitempty on a *decText leaves out only nil (a price of "0" is kept).
type decText money.Decimal

func (d decText) MarshalText() ([]byte, error) { return money.Decimal(d).MarshalText() }

// MarshalYAML writes the rate, keeping an explicit zero price.
func (r Rate) MarshalYAML() (any, error) {
	return struct {
		ID            string        `yaml:"id,omitempty"`
		Service       string        `yaml:"service"`
		Zone          string        `yaml:"zone,omitempty"`
		Band          string        `yaml:"band,omitempty"`
		ConnectFee    money.Decimal `yaml:"connect_fee,omitempty"`
		MinimumCharge money.Decimal `yaml:"minimum_charge,omitempty"`
		ChargeZero    bool          `yaml:"charge_zero,omitempty"`
		Increments    *Increments   `yaml:"increments,omitempty"`
		Price         *decText      `yaml:"price,omitempty"`
		Per           Quantity      `yaml:"per,omitempty"`
		Tiers         []Tier        `yaml:"tiers,omitempty"`
		TierMode      string        `yaml:"tier_mode,omitempty"`
		TierBasis     string        `yaml:"tier_basis,omitempty"`
		TierPeriod    string        `yaml:"tier_period,omitempty"`
	}{r.ID, r.Service, r.Zone, r.Band, r.ConnectFee, r.MinimumCharge, r.ChargeZero, r.Increments,
		(*decText)(r.Price), r.Per, r.Tiers, r.TierMode, r.TierBasis, r.TierPeriod}, nil
}

// MarshalYAML writes the discount, keeping an explicit zero cap amount.
func (d Discount) MarshalYAML() (any, error) {
	return struct {
		ID         string   `yaml:"id"`
		Type       string   `yaml:"type"`
		Service    string   `yaml:"service,omitempty"`
		Zones      []string `yaml:"zones,omitempty"`
		Bands      []string `yaml:"bands,omitempty"`
		ValidFrom  string   `yaml:"valid_from,omitempty"`
		ValidUntil string   `yaml:"valid_until,omitempty"`
		Units      Quantity `yaml:"units,omitempty"`
		Percent    *decText `yaml:"percent,omitempty"`
		Amount     *decText `yaml:"amount,omitempty"`
		Period     string   `yaml:"period,omitempty"`
	}{d.ID, d.Type, d.Service, d.Zones, d.Bands, d.ValidFrom, d.ValidUntil, d.Units,
		(*decText)(d.Percent), (*decText)(d.Amount), d.Period}, nil
}
