package account

import "time"

// Assignment says that an account was (or will be) rated with a tariff plan
// from ValidFrom (inclusive) until ValidUntil (exclusive; nil means open
// ended). An account's assignments never overlap: they form its plan
// history.
type Assignment struct {
	AccountID  string     `json:"account_id"`
	PlanID     string     `json:"plan_id"`
	ValidFrom  time.Time  `json:"valid_from"`
	ValidUntil *time.Time `json:"valid_until,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
}

// Covers reports whether t falls within [ValidFrom, ValidUntil).
func (a Assignment) Covers(t time.Time) bool {
	return !t.Before(a.ValidFrom) && (a.ValidUntil == nil || t.Before(*a.ValidUntil))
}

// Validate reports every problem with a at once (see the package doc).
func (a Assignment) Validate() error {
	var p problems
	if msg := idProblem(a.AccountID); msg != "" {
		p.add("account_id", msg)
	}
	if msg := idProblem(a.PlanID); msg != "" {
		p.add("plan_id", msg)
	}
	if a.ValidFrom.IsZero() {
		p.add("valid_from", "required")
	} else if y := a.ValidFrom.UTC().Year(); y < 1 || y > 9999 {
		p.add("valid_from", "must be between the years 0001 and 9999")
	}
	if a.ValidUntil != nil {
		if !a.ValidUntil.After(a.ValidFrom) {
			p.add("valid_until", "must be after valid_from")
		} else if a.ValidUntil.UTC().Year() > 9999 {
			p.add("valid_until", "must be before the year 10000")
		}
	}
	return p.err()
}
