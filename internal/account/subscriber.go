package account

import (
	"strings"
	"time"
)

// Identifier lengths.
const (
	MinIMSILen   = 6
	MaxIMSILen   = 15
	MaxMSISDNLen = 15
	maxNAILen    = 253
)

// SUPI prefixes (TS 29.571 §5.3.2): an IMSI-based or a network access
// identifier based subscription permanent identifier.
const (
	SUPIPrefixIMSI = "imsi-"
	SUPIPrefixNAI  = "nai-"
)

// Subscriber is a subscription that charges to an account: a SIM, an eSIM
// profile, a device or a cloud tenant. It is found by any of its
// identifiers, each optional but at least one required, each unique across
// subscribers when set.
type Subscriber struct {
	// ID is the subscriber's identifier; the store generates a UUIDv7 when it
	// is empty on create.
	ID string `json:"id"`
	// AccountID is the account the subscriber charges to; required.
	AccountID string `json:"account_id"`
	// IMSI is 6–15 digits.
	IMSI string `json:"imsi,omitempty"`
	// MSISDN is an E.164 number, stored as its 1–15 digits without '+'.
	MSISDN string `json:"msisdn,omitempty"`
	// SUPI is "imsi-<digits>" or "nai-<network access identifier>".
	SUPI string `json:"supi,omitempty"`
	// ExternalID is an identifier in another system (a CRM, a cloud tenant).
	ExternalID string `json:"external_id,omitempty"`
	// Status is active, suspended, barred or closed; create defaults to
	// active.
	Status Status `json:"status"`
	// Version counts updates, for optimistic concurrency.
	Version int64 `json:"version"`
	// CreatedAt and UpdatedAt are set by the store (UTC).
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Normalized returns s in the stored form: the leading '+' dropped from an
// MSISDN of digits, the SUPI prefix in lower case, and the IMSI filled in from an
// IMSI-based SUPI when it is empty. It does not validate; call Validate on
// the result.
func (s Subscriber) Normalized() Subscriber {
	if d, ok := strings.CutPrefix(s.MSISDN, "+"); ok && d != "" && allDigits(d) {
		s.MSISDN = d
	}
	lower := strings.ToLower(s.SUPI)
	switch {
	case strings.HasPrefix(lower, SUPIPrefixIMSI):
		imsi := s.SUPI[len(SUPIPrefixIMSI):]
		s.SUPI = SUPIPrefixIMSI + imsi
		if s.IMSI == "" && imsi != "" && allDigits(imsi) {
			s.IMSI = imsi
		}
	case strings.HasPrefix(lower, SUPIPrefixNAI):
		s.SUPI = SUPIPrefixNAI + s.SUPI[len(SUPIPrefixNAI):]
	}
	return s
}

// WithDefaults returns s with the defaults of a new subscriber filled in:
// status active.
func (s Subscriber) WithDefaults() Subscriber {
	if s.Status == 0 {
		s.Status = Active
	}
	return s
}

// Validate reports every problem with s at once (see the package doc). It
// accepts an MSISDN with a leading '+' and a SUPI prefix in any case, which
// Normalized removes; an empty ID is accepted (the store generates one).
func (s Subscriber) Validate() error {
	var p problems
	if s.ID != "" {
		if msg := idProblem(s.ID); msg != "" {
			p.add("id", msg)
		}
	}
	if msg := idProblem(s.AccountID); msg != "" {
		p.add("account_id", msg)
	}
	if s.IMSI == "" && s.MSISDN == "" && s.SUPI == "" && s.ExternalID == "" {
		p.add("", "at least one of imsi, msisdn, supi and external_id is required")
	}
	if s.IMSI != "" {
		if msg := imsiProblem(s.IMSI); msg != "" {
			p.add("imsi", msg)
		}
	}
	if s.MSISDN != "" {
		d := strings.TrimPrefix(s.MSISDN, "+")
		if d == "" || len(d) > MaxMSISDNLen || !allDigits(d) {
			p.add("msisdn", "must be an E.164 number: 1 to 15 digits, optionally after '+'")
		}
	}
	if s.SUPI != "" {
		lower := strings.ToLower(s.SUPI)
		switch {
		case strings.HasPrefix(lower, SUPIPrefixIMSI):
			imsi := s.SUPI[len(SUPIPrefixIMSI):]
			if msg := imsiProblem(imsi); msg != "" {
				p.add("supi", "IMSI-based SUPI: "+msg)
			} else if s.IMSI != "" && s.IMSI != imsi {
				p.add("supi", "IMSI-based SUPI does not match imsi")
			}
		case strings.HasPrefix(lower, SUPIPrefixNAI):
			nai := s.SUPI[len(SUPIPrefixNAI):]
			if nai == "" {
				p.add("supi", "NAI-based SUPI: network access identifier missing")
			} else if msg := naiProblem(nai); msg != "" {
				p.add("supi", "NAI-based SUPI: "+msg)
			}
		default:
			p.add("supi", `must start with "imsi-" or "nai-"`)
		}
	}
	if s.ExternalID != "" {
		if msg := textProblem(s.ExternalID, MaxIDLen); msg != "" {
			p.add("external_id", msg)
		}
	}
	switch {
	case s.Status == 0:
		p.add("status", "required (active, suspended, barred or closed)")
	case !s.Status.Valid():
		p.add("status", "must be active, suspended, barred or closed")
	}
	if s.Version < 0 {
		p.add("version", "must not be negative")
	}
	return p.err()
}

func imsiProblem(imsi string) string {
	if len(imsi) < MinIMSILen || len(imsi) > MaxIMSILen || !allDigits(imsi) {
		return "must be 6 to 15 digits"
	}
	return ""
}

// naiProblem checks a network access identifier (RFC 7542): printable
// ASCII without white space, at most 253 characters.
func naiProblem(nai string) string {
	if len(nai) > maxNAILen {
		return "longer than 253 characters"
	}
	for i := 0; i < len(nai); i++ {
		if c := nai[i]; c <= ' ' || c >= 0x7F {
			return "must be printable ASCII without white space"
		}
	}
	return ""
}

// SameContent reports whether s and o hold the same caller-supplied content:
// everything but Version and the timestamps. Compare normalized values.
func (s Subscriber) SameContent(o Subscriber) bool {
	return s.ID == o.ID && s.AccountID == o.AccountID && s.IMSI == o.IMSI && s.MSISDN == o.MSISDN &&
		s.SUPI == o.SUPI && s.ExternalID == o.ExternalID && s.Status == o.Status
}
