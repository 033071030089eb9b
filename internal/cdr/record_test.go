package cdr

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	for _, r := range []*Record{partialRecord(), smsRecord()} {
		if err := r.Validate(); err != nil {
			t.Fatalf("valid record: %v", err)
		}
	}
	cases := []struct {
		name  string
		mod   func(r *Record)
		wants []string // each a substring of the error
	}{
		{"unknown record type", func(r *Record) { r.RecordType = "CHF_OTHER" }, []string{`recordType: "CHF_OTHER" is not`}},
		{"empty record type", func(r *Record) { r.RecordType = "" }, []string{`recordType: "" is not`}},
		{"no subscriber", func(r *Record) { r.SubscriberIdentifier = "" }, []string{"subscriberIdentifier: missing"}},
		{"no account", func(r *Record) { r.AccountID = "" }, []string{"accountId: missing"}},
		{"no opening time", func(r *Record) { r.RecordOpeningTime = time.Time{} }, []string{"recordOpeningTime: missing"}},
		{"no closing time", func(r *Record) { r.RecordClosingTime = time.Time{} }, []string{"recordClosingTime: missing"}},
		{"closing before opening", func(r *Record) { r.RecordClosingTime = r.RecordOpeningTime.Add(-time.Nanosecond) },
			[]string{"recordClosingTime: before recordOpeningTime"}},
		{"closing year 10000", func(r *Record) { r.RecordClosingTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
			[]string{"recordClosingTime: year outside"}},
		{"opening year -1", func(r *Record) { r.RecordOpeningTime = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC) },
			[]string{"recordOpeningTime: year outside"}},
		{"usage without currency", func(r *Record) { r.Usage[1].Currency = "" }, []string{"listOfMultipleUnitUsage[1].currency: missing"}},
		{"usage with unknown currency", func(r *Record) { r.Usage[0].Currency = "eur" },
			[]string{`listOfMultipleUnitUsage[0].currency: "eur" is not an ISO 4217 currency`}},
		{"usage without amount", func(r *Record) { r.Usage[0].Amount = "" }, []string{"listOfMultipleUnitUsage[0].amount: missing"}},
		{"usage with float amount", func(r *Record) { r.Usage[0].Amount = "1e-3" },
			[]string{`listOfMultipleUnitUsage[0].amount: "1e-3" is not an exact decimal`}},
		{"usage with NaN amount", func(r *Record) { r.Usage[0].Amount = "NaN" }, []string{`amount: "NaN" is not an exact decimal`}},
		{"usage with grouped amount", func(r *Record) { r.Usage[0].Amount = "1,000.00" }, []string{`"1,000.00" is not an exact decimal`}},
		{"usage with bad unbilled", func(r *Record) { r.Usage[0].Unbilled = "0.1.2" },
			[]string{`listOfMultipleUnitUsage[0].unbilled: "0.1.2" is not an exact decimal`}},
		{"usage time out of range", func(r *Record) { r.Usage[0].LastUsage = time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC) },
			[]string{"listOfMultipleUnitUsage[0].lastUsage: year outside"}},
		{"every problem at once", func(r *Record) {
			r.RecordType, r.SubscriberIdentifier, r.AccountID = "", "", ""
			r.Usage[0].Amount, r.Usage[1].Currency = "x", ""
		}, []string{"recordType", "subscriberIdentifier", "accountId", "[0].amount", "[1].currency"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := partialRecord()
			c.mod(r)
			err := r.Validate()
			if err == nil {
				t.Fatal("Validate accepted the record")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) is false", err)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field == "" {
				t.Errorf("no *FieldError in %v", err)
			}
			for _, want := range c.wants {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if n := strings.Count(err.Error(), "cdr: invalid record: "); n != len(c.wants) {
				t.Errorf("%d problems reported, want %d: %v", n, len(c.wants), err)
			}
		})
	}
}

func TestValidateAllowsEventWithoutSession(t *testing.T) {
	r := smsRecord()
	r.ChargingDataRef, r.RecordSequenceNumber, r.Usage = "", 0, nil
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateDoesNotAllocate(t *testing.T) {
	r := partialRecord()
	if allocs := testing.AllocsPerRun(100, func() { _ = r.Validate() }); allocs != 0 {
		t.Fatalf("Validate of a valid record allocates %v times", allocs)
	}
}
