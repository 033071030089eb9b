package account

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzAccountValidate feeds arbitrary field values (through JSON decoding,
// as the API would) to Account.Validate: no panic, every error wraps
// ErrInvalid, and a valid account survives a JSON round trip.
func FuzzAccountValidate(f *testing.F) {
	f.Add(`{"id":"acc-1","name":"ACME","type":"prepaid","currency":"EUR","credit_limit":"0","status":"active","billing_day":1}`)
	f.Add(`{"name":"x","type":"postpaid","currency":"JPY","credit_limit":12.3456789,"status":"closed","billing_day":28}`)
	f.Add(`{"credit_limit":"-1","billing_day":-5,"version":-1}`)
	f.Add(`{"name":"\u0000","external_id":" x ","currency":"eur"}`)
	f.Fuzz(func(t *testing.T, doc string) {
		var a Account
		if err := json.Unmarshal([]byte(doc), &a); err != nil {
			return
		}
		a = a.WithDefaults()
		err := a.Validate()
		if err != nil {
			if !errors.Is(err, ErrInvalid) || len(FieldErrors(err)) == 0 {
				t.Fatalf("error without FieldError/ErrInvalid: %v", err)
			}
			return
		}
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatalf("valid account does not marshal: %v", err)
		}
		var back Account
		if err := json.Unmarshal(b, &back); err != nil || !back.SameContent(a) {
			t.Fatalf("round trip %s: %+v, %v", b, back, err)
		}
	})
}

// FuzzSubscriberValidate checks Subscriber.Validate and Normalized on
// arbitrary identifiers: no panic, errors wrap ErrInvalid, Normalized is
// idempotent and keeps a valid subscriber valid.
func FuzzSubscriberValidate(f *testing.F) {
	f.Add("acc-1", "001010000000001", "+4915112345678", "imsi-001010000000001", "", uint8(1))
	f.Add("a", "", "", "nai-user@example.org", "ext", uint8(2))
	f.Add("", "12", "+", "IMSI-", " ", uint8(0))
	f.Add("a", "262011234567890", "", "imsi-262011234567891", "", uint8(9))
	f.Fuzz(func(t *testing.T, accountID, imsi, msisdn, supi, ext string, status uint8) {
		s := Subscriber{AccountID: accountID, IMSI: imsi, MSISDN: msisdn, SUPI: supi, ExternalID: ext, Status: Status(status)}
		err := s.Validate()
		if err != nil && (!errors.Is(err, ErrInvalid) || len(FieldErrors(err)) == 0) {
			t.Fatalf("error without FieldError/ErrInvalid: %v", err)
		}
		n := s.Normalized()
		if n.Normalized() != n {
			t.Fatalf("Normalized not idempotent: %+v -> %+v", n, n.Normalized())
		}
		nerr := n.Validate()
		if err == nil && nerr != nil {
			t.Fatalf("valid subscriber invalid after Normalized: %+v: %v", n, nerr)
		}
		if nerr == nil {
			if len(n.MSISDN) > 0 && n.MSISDN[0] == '+' {
				t.Fatalf("normalized MSISDN keeps '+': %q", n.MSISDN)
			}
			if _, err := json.Marshal(n); err != nil {
				t.Fatal(err)
			}
		}
	})
}
