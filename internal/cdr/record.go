package cdr

import (
	"errors"
	"strconv"
	"time"

	"github.com/tollgate-billing/tollgate/internal/money"
)

// RecordType tells a partial, final or event record apart. TS 32.298 has one
// CHF record type (chargingFunctionRecord) and tells these cases apart by
// causeForRecClosing and recordSequenceNumber; tollgate names them so that a
// collector can route records without interpreting causes.
type RecordType string

// The record types.
const (
	RecordPartial RecordType = "CHF_PARTIAL" // a session is still open: volume/time limit, tariff change …
	RecordFinal   RecordType = "CHF_FINAL"   // the last record of a session (release)
	RecordEvent   RecordType = "CHF_EVENT"   // a one-time event (SMS …): no session
)

// Valid reports whether t is one of the three record types.
func (t RecordType) Valid() bool {
	return t == RecordPartial || t == RecordFinal || t == RecordEvent
}

// Causes for closing a record (Record.CauseForRecordClosing). The first five
// are values of TS 32.298 CauseForRecClosing; the others are tollgate's
// (3GPP has no closing cause for them). Other values are accepted, since the
// 3GPP enumeration is extensible.
const (
	CauseNormalRelease          = "normalRelease"          // 32.298 normalRelease (0)
	CauseAbnormalRelease        = "abnormalRelease"        // 32.298 abnormalRelease (4)
	CauseVolumeLimit            = "volumeLimit"            // 32.298 volumeLimit (16)
	CauseTimeLimit              = "timeLimit"              // 32.298 timeLimit (17)
	CauseManagementIntervention = "managementIntervention" // 32.298 managementIntervention (20)
	CauseTariffTimeChange       = "tariffTimeChange"       // a tariff switch-over closed a partial record
	CauseSessionTimeout         = "sessionTimeout"         // the CHF released a session its consumer stopped updating
	CauseEvent                  = "event"                  // an event record (RecordEvent)
)

// Record is one CHF charging record (CHF-CDR, TS 32.298 ChargingRecord),
// flattened: the members that 3GPP nests in nFunctionConsumerInformation and
// pDUSessionChargingInformation are top-level here. docs/cdr.md gives each
// field's 3GPP counterpart and unit. Times are written in UTC.
type Record struct {
	RecordType                 RecordType         `json:"recordType"`
	RecordingNetworkFunctionID string             `json:"recordingNetworkFunctionID"` // this CHF node id
	ChargingDataRef            string             `json:"chargingDataRef,omitempty"`  // session reference; empty for events
	RecordSequenceNumber       uint32             `json:"recordSequenceNumber"`       // per session, from 1
	SubscriberIdentifier       string             `json:"subscriberIdentifier"`       // SUPI
	GPSI                       string             `json:"gpsi,omitempty"`             // e.g. msisdn-…
	AccountID                  string             `json:"accountId"`                  // tollgate account charged
	PlanID                     string             `json:"planId,omitempty"`           // tollgate tariff plan used
	NFConsumerName             string             `json:"nfConsumerName,omitempty"`   // the NF that asked for charging
	NFFunctionality            string             `json:"nfFunctionality,omitempty"`  // SMF, SMSF …
	ChargingID                 uint32             `json:"chargingId,omitempty"`       // PDU session charging id
	DNN                        string             `json:"dnn,omitempty"`              // data network name
	RATType                    string             `json:"ratType,omitempty"`          // NR, EUTRA … (TS 29.571 RatType)
	RecordOpeningTime          time.Time          `json:"recordOpeningTime"`          // start of the period covered
	RecordClosingTime          time.Time          `json:"recordClosingTime"`          // end; == opening for events
	DurationSeconds            uint64             `json:"duration"`                   // seconds
	CauseForRecordClosing      string             `json:"causeForRecordClosing"`      // Cause* constants
	Usage                      []RatingGroupUsage `json:"listOfMultipleUnitUsage,omitempty"`
	SMS                        *SMSInfo           `json:"smsChargingInformation,omitempty"`
}

// RatingGroupUsage is the usage of one rating group in the period of a
// record and what it was rated at (TS 32.298 MultipleUnitUsage with its
// usedUnitContainers summed, plus tollgate's price).
type RatingGroupUsage struct {
	RatingGroup          uint32    `json:"ratingGroup"`
	ServiceID            uint32    `json:"serviceId,omitempty"`
	Service              string    `json:"service,omitempty"` // tollgate rating service id, e.g. "data"
	UplinkVolume         uint64    `json:"uplinkVolume,omitempty"`
	DownlinkVolume       uint64    `json:"downlinkVolume,omitempty"`
	TotalVolume          uint64    `json:"totalVolume,omitempty"`
	Time                 uint64    `json:"time,omitempty"` // seconds
	ServiceSpecificUnits uint64    `json:"serviceSpecificUnits,omitempty"`
	FirstUsage           time.Time `json:"firstUsage,omitzero"`
	LastUsage            time.Time `json:"lastUsage,omitzero"`
	LocalSequenceNumbers []uint64  `json:"localSequenceNumbers,omitempty"`
	Amount               string    `json:"amount"`   // exact decimal, e.g. "0.1234"
	Currency             string    `json:"currency"` // ISO 4217 code
	Offline              bool      `json:"offline,omitempty"`
	// Unbilled is the part of Amount the balance could not cover (usage a
	// prepaid account reported after it ran dry); empty when none.
	Unbilled string `json:"unbilled,omitempty"`
}

// SMSInfo describes the short message of an event record (a subset of TS
// 32.298 SMSChargingInformation).
type SMSInfo struct {
	Originator           string    `json:"originator,omitempty"`  // originator address (MSISDN, GPSI or alphanumeric)
	Recipient            string    `json:"recipient,omitempty"`   // recipient address
	SMSCAddress          string    `json:"smscAddress,omitempty"` // SMS centre address
	MessageType          string    `json:"messageType,omitempty"` // SUBMISSION, DELIVERY_REPORT, SM_SERVICE_REQUEST
	MessageReference     string    `json:"messageReference,omitempty"`
	MessageSize          uint32    `json:"messageSize,omitempty"`          // octets
	NumberOfMessagesSent uint32    `json:"numberOfMessagesSent,omitempty"` // parts of a concatenated message
	SubmissionTime       time.Time `json:"submissionTime,omitzero"`
}

// ErrInvalid is wrapped by every error of Validate.
var ErrInvalid = errors.New("cdr: invalid record")

// FieldError is one problem of a record, at the JSON path of its field
// ("listOfMultipleUnitUsage[1].amount").
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string { return "cdr: invalid record: " + e.Field + ": " + e.Problem }

// Unwrap returns ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Validate reports every problem of r at once (errors.Join of *FieldError;
// errors.Is(err, ErrInvalid) holds), or nil. Required: a known recordType,
// subscriberIdentifier, accountId, a non-zero recordOpeningTime, a
// recordClosingTime not before it, and for each usage an ISO 4217 currency
// and an amount that is an exact decimal (so must unbilled, when set).
// Every time must be within the years 0–9999, which RFC 3339 can write.
func (r *Record) Validate() error {
	var errs []error
	bad := func(field, problem string) { errs = append(errs, &FieldError{Field: field, Problem: problem}) }
	if !r.RecordType.Valid() {
		bad("recordType", strconv.Quote(string(r.RecordType))+" is not CHF_PARTIAL, CHF_FINAL or CHF_EVENT")
	}
	if r.SubscriberIdentifier == "" {
		bad("subscriberIdentifier", "missing")
	}
	if r.AccountID == "" {
		bad("accountId", "missing")
	}
	switch {
	case r.RecordOpeningTime.IsZero():
		bad("recordOpeningTime", "missing")
	case !rfc3339Year(r.RecordOpeningTime):
		bad("recordOpeningTime", "year outside 0–9999")
	}
	switch {
	case r.RecordClosingTime.IsZero():
		bad("recordClosingTime", "missing")
	case r.RecordClosingTime.Before(r.RecordOpeningTime):
		bad("recordClosingTime", "before recordOpeningTime")
	case !rfc3339Year(r.RecordClosingTime):
		bad("recordClosingTime", "year outside 0–9999")
	}
	for i := range r.Usage {
		u := &r.Usage[i]
		path := usagePath(i)
		if u.Currency == "" {
			bad(path("currency"), "missing")
		} else if _, err := money.LookupCurrency(u.Currency); err != nil {
			bad(path("currency"), strconv.Quote(u.Currency)+" is not an ISO 4217 currency")
		}
		if u.Amount == "" {
			bad(path("amount"), "missing")
		} else if _, err := money.Parse(u.Amount); err != nil {
			bad(path("amount"), strconv.Quote(u.Amount)+" is not an exact decimal")
		}
		if u.Unbilled != "" {
			if _, err := money.Parse(u.Unbilled); err != nil {
				bad(path("unbilled"), strconv.Quote(u.Unbilled)+" is not an exact decimal")
			}
		}
		if !rfc3339Year(u.FirstUsage) {
			bad(path("firstUsage"), "year outside 0–9999")
		}
		if !rfc3339Year(u.LastUsage) {
			bad(path("lastUsage"), "year outside 0–9999")
		}
	}
	if r.SMS != nil && !rfc3339Year(r.SMS.SubmissionTime) {
		bad("smsChargingInformation.submissionTime", "year outside 0–9999")
	}
	return errors.Join(errs...)
}

// usagePath returns a function giving the path of a member of usage i,
// built only when a problem is reported.
func usagePath(i int) func(member string) string {
	return func(member string) string {
		return "listOfMultipleUnitUsage[" + strconv.Itoa(i) + "]." + member
	}
}

// rfc3339Year reports whether t (in UTC, as written) has a four-digit year.
// The zero time (year 1) passes.
func rfc3339Year(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 0 && y <= 9999
}
