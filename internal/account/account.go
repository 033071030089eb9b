package account

import (
	"fmt"
	"time"

	"github.com/tollgate-billing/tollgate/internal/money"
)

// Type is how an account pays: in advance (prepaid) or on a bill (postpaid).
type Type uint8

// The account types. The zero Type is unset and invalid.
const (
	Prepaid Type = iota + 1
	Postpaid
)

var typeNames = [...]string{Prepaid: "prepaid", Postpaid: "postpaid"}

// ParseType parses "prepaid" or "postpaid".
func ParseType(s string) (Type, error) {
	for t, name := range typeNames {
		if name != "" && name == s {
			return Type(t), nil
		}
	}
	return 0, fmt.Errorf("%w type %q: want prepaid or postpaid", ErrInvalid, s)
}

// String returns "prepaid", "postpaid", or "" for the zero Type.
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// Valid reports whether t is prepaid or postpaid.
func (t Type) Valid() bool { return t == Prepaid || t == Postpaid }

// MarshalText implements encoding.TextMarshaler. The zero Type marshals as
// the empty string; an out-of-range Type is an error.
func (t Type) MarshalText() ([]byte, error) {
	if t != 0 && !t.Valid() {
		return nil, fmt.Errorf("%w type %d", ErrInvalid, uint8(t))
	}
	return []byte(t.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler (see ParseType).
func (t *Type) UnmarshalText(b []byte) error {
	v, err := ParseType(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// Status is the life-cycle state of an account or a subscriber.
type Status uint8

// The statuses. The zero Status is unset and invalid.
const (
	// Active may charge.
	Active Status = iota + 1
	// Suspended is temporarily blocked (for example for non-payment) and
	// can be reactivated.
	Suspended
	// Barred is blocked by the operator (for example for fraud).
	Barred
	// Closed is terminated; kept for history, billing and audit.
	Closed
)

var statusNames = [...]string{Active: "active", Suspended: "suspended", Barred: "barred", Closed: "closed"}

// ParseStatus parses "active", "suspended", "barred" or "closed".
func ParseStatus(s string) (Status, error) {
	for st, name := range statusNames {
		if name != "" && name == s {
			return Status(st), nil
		}
	}
	return 0, fmt.Errorf("%w status %q: want active, suspended, barred or closed", ErrInvalid, s)
}

// String returns the status name, or "" for the zero Status.
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// Valid reports whether s is one of the four statuses.
func (s Status) Valid() bool { return s >= Active && s <= Closed }

// MarshalText implements encoding.TextMarshaler. The zero Status marshals as
// the empty string; an out-of-range Status is an error.
func (s Status) MarshalText() ([]byte, error) {
	if s != 0 && !s.Valid() {
		return nil, fmt.Errorf("%w status %d", ErrInvalid, uint8(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler (see ParseStatus).
func (s *Status) UnmarshalText(b []byte) error {
	v, err := ParseStatus(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Billing days: the cycle anchor is a day every month has.
const (
	MinBillingDay = 1
	MaxBillingDay = 28
)

// Account is a party that pays: it holds a balance (prepaid) or receives
// bills (postpaid) in one currency.
type Account struct {
	// ID is the account's identifier; the store generates a UUIDv7 when it
	// is empty on create.
	ID string `json:"id"`
	// Name is a display name; required.
	Name string `json:"name"`
	// ExternalID is an optional identifier in another system (a CRM); unique
	// across accounts when set.
	ExternalID string `json:"external_id,omitempty"`
	// Type is prepaid or postpaid; required.
	Type Type `json:"type"`
	// Currency is the ISO 4217 currency of all the account's money; it
	// cannot change once the account exists.
	Currency money.Currency `json:"currency"`
	// CreditLimit (≥ 0) is how far below zero the balance may go: usually 0
	// for prepaid, the maximum debt for postpaid.
	CreditLimit money.Decimal `json:"credit_limit"`
	// Status is active, suspended, barred or closed; create defaults to
	// active.
	Status Status `json:"status"`
	// BillingDay (1..28) is the day of the month the billing cycle starts;
	// create defaults to 1.
	BillingDay int `json:"billing_day"`
	// Version counts updates, for optimistic concurrency: an update must
	// carry the version it was based on.
	Version int64 `json:"version"`
	// CreatedAt and UpdatedAt are set by the store (UTC).
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// WithDefaults returns a with the defaults of a new account filled in:
// status active, billing day 1.
func (a Account) WithDefaults() Account {
	if a.Status == 0 {
		a.Status = Active
	}
	if a.BillingDay == 0 {
		a.BillingDay = MinBillingDay
	}
	return a
}

// Validate reports every problem with a at once (see the package doc). An
// empty ID is accepted: the store generates one.
func (a Account) Validate() error {
	var p problems
	if a.ID != "" {
		if msg := idProblem(a.ID); msg != "" {
			p.add("id", msg)
		}
	}
	if a.Name == "" {
		p.add("name", "required")
	} else if msg := textProblem(a.Name, maxTextLen); msg != "" {
		p.add("name", msg)
	}
	if a.ExternalID != "" {
		if msg := textProblem(a.ExternalID, MaxIDLen); msg != "" {
			p.add("external_id", msg)
		}
	}
	switch {
	case a.Type == 0:
		p.add("type", "required (prepaid or postpaid)")
	case !a.Type.Valid():
		p.add("type", "must be prepaid or postpaid")
	}
	if a.Currency.IsZero() {
		p.add("currency", "required (an ISO 4217 code)")
	} else if c, err := money.LookupCurrency(a.Currency.Code); err != nil || c != a.Currency {
		p.add("currency", fmt.Sprintf("unknown currency %q", a.Currency.Code))
	}
	if a.CreditLimit.Sign() < 0 {
		p.add("credit_limit", "must not be negative")
	}
	switch {
	case a.Status == 0:
		p.add("status", "required (active, suspended, barred or closed)")
	case !a.Status.Valid():
		p.add("status", "must be active, suspended, barred or closed")
	}
	if a.BillingDay < MinBillingDay || a.BillingDay > MaxBillingDay {
		p.add("billing_day", fmt.Sprintf("must be between %d and %d", MinBillingDay, MaxBillingDay))
	}
	if a.Version < 0 {
		p.add("version", "must not be negative")
	}
	return p.err()
}

// SameContent reports whether a and b hold the same caller-supplied content:
// everything but Version and the timestamps. Credit limits compare by value
// (10 equals 10.00).
func (a Account) SameContent(b Account) bool {
	return a.ID == b.ID && a.Name == b.Name && a.ExternalID == b.ExternalID && a.Type == b.Type &&
		a.Currency == b.Currency && a.CreditLimit.Equal(b.CreditLimit) && a.Status == b.Status &&
		a.BillingDay == b.BillingDay
}
