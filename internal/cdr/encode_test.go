package cdr

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC)

// partialRecord is a typical partial record of a data session.
func partialRecord() *Record {
	return &Record{
		RecordType:                 RecordPartial,
		RecordingNetworkFunctionID: "chf-node-1",
		ChargingDataRef:            "cdr-7f3a9c",
		RecordSequenceNumber:       3,
		SubscriberIdentifier:       "imsi-001010123456789",
		GPSI:                       "msisdn-491701234567",
		AccountID:                  "acc-42",
		PlanID:                     "mobile-basic",
		NFConsumerName:             "smf-1",
		NFFunctionality:            "SMF",
		ChargingID:                 987654,
		DNN:                        "internet",
		RATType:                    "NR",
		RecordOpeningTime:          t0,
		RecordClosingTime:          t0.Add(10 * time.Minute),
		DurationSeconds:            600,
		CauseForRecordClosing:      CauseVolumeLimit,
		Usage: []RatingGroupUsage{
			{
				RatingGroup: 10, ServiceID: 1, Service: "data",
				UplinkVolume: 12_345_678, DownlinkVolume: 98_765_432_100, TotalVolume: 98_777_777_778,
				Time: 600, FirstUsage: t0.Add(time.Second), LastUsage: t0.Add(599 * time.Second),
				LocalSequenceNumbers: []uint64{5, 6, 7},
				Amount:               "1.2345", Currency: "EUR",
			},
			{
				RatingGroup: 20, Service: "video", TotalVolume: 1 << 40, Amount: "0", Currency: "EUR", Offline: true,
			},
		},
	}
}

// smsRecord is a typical event record of an SMS.
func smsRecord() *Record {
	return &Record{
		RecordType:                 RecordEvent,
		RecordingNetworkFunctionID: "chf-node-1",
		RecordSequenceNumber:       1,
		SubscriberIdentifier:       "imsi-001010123456789",
		AccountID:                  "acc-42",
		NFFunctionality:            "SMSF",
		RecordOpeningTime:          t0,
		RecordClosingTime:          t0,
		CauseForRecordClosing:      CauseEvent,
		Usage:                      []RatingGroupUsage{{RatingGroup: 100, Service: "sms", ServiceSpecificUnits: 1, Amount: "0.09", Currency: "EUR"}},
		SMS: &SMSInfo{
			Originator: "491701234567", Recipient: "491719876543", SMSCAddress: "491700000001",
			MessageType: "SUBMISSION", MessageReference: "17", MessageSize: 140, NumberOfMessagesSent: 2,
			SubmissionTime: t0.Add(-time.Second),
		},
	}
}

func TestAppendJSONTable(t *testing.T) {
	minimal := func(mod func(r *Record)) *Record {
		r := &Record{
			RecordType: RecordFinal, RecordingNetworkFunctionID: "n", SubscriberIdentifier: "s", AccountID: "a",
			RecordOpeningTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), RecordClosingTime: time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC),
			DurationSeconds: 1, CauseForRecordClosing: CauseNormalRelease,
		}
		if mod != nil {
			mod(r)
		}
		return r
	}
	const head = `{"recordType":"CHF_FINAL","recordingNetworkFunctionID":"n","recordSequenceNumber":0,"subscriberIdentifier":"s","accountId":"a",`
	const times = `"recordOpeningTime":"2026-01-02T03:04:05Z","recordClosingTime":"2026-01-02T03:04:06Z","duration":1,"causeForRecordClosing":"normalRelease"`
	withSub := func(s string) *Record { return minimal(func(r *Record) { r.SubscriberIdentifier = s }) }
	sub := func(want string) string {
		return strings.Replace(head, `"subscriberIdentifier":"s"`, `"subscriberIdentifier":`+want, 1) + times + "}"
	}
	cases := []struct {
		name string
		r    *Record
		want string
	}{
		{"minimal: mandatory members only", minimal(nil), head + times + "}"},
		{"zero record: mandatory members at zero", &Record{},
			`{"recordType":"","recordingNetworkFunctionID":"","recordSequenceNumber":0,"subscriberIdentifier":"","accountId":"",` +
				`"recordOpeningTime":"0001-01-01T00:00:00Z","recordClosingTime":"0001-01-01T00:00:00Z","duration":0,"causeForRecordClosing":""}`},
		{"optional strings and numbers", minimal(func(r *Record) {
			r.ChargingDataRef, r.RecordSequenceNumber, r.GPSI, r.PlanID = "ref", math.MaxUint32, "msisdn-1", "p"
			r.NFConsumerName, r.NFFunctionality, r.ChargingID, r.DNN, r.RATType = "smf", "SMF", 7, "ims", "EUTRA"
			r.DurationSeconds = math.MaxUint64
		}),
			`{"recordType":"CHF_FINAL","recordingNetworkFunctionID":"n","chargingDataRef":"ref","recordSequenceNumber":4294967295,` +
				`"subscriberIdentifier":"s","gpsi":"msisdn-1","accountId":"a","planId":"p","nfConsumerName":"smf","nfFunctionality":"SMF",` +
				`"chargingId":7,"dnn":"ims","ratType":"EUTRA","recordOpeningTime":"2026-01-02T03:04:05Z","recordClosingTime":"2026-01-02T03:04:06Z",` +
				`"duration":18446744073709551615,"causeForRecordClosing":"normalRelease"}`},
		{"times: nanoseconds, trailing zeros trimmed, offset converted to UTC", minimal(func(r *Record) {
			r.RecordOpeningTime = time.Date(2026, 1, 2, 3, 4, 5, 120000000, time.FixedZone("CET", 3600))
			r.RecordClosingTime = time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
		}), head + `"recordOpeningTime":"2026-01-02T02:04:05.12Z","recordClosingTime":"2026-01-02T03:04:05.123456789Z","duration":1,"causeForRecordClosing":"normalRelease"}`},
		{"usage: mandatory members only", minimal(func(r *Record) {
			r.Usage = []RatingGroupUsage{{Amount: "0", Currency: "EUR"}}
		}), head + times + `,"listOfMultipleUnitUsage":[{"ratingGroup":0,"amount":"0","currency":"EUR"}]}`},
		{"usage: every member", minimal(func(r *Record) {
			r.Usage = []RatingGroupUsage{{
				RatingGroup: 1, ServiceID: 2, Service: "data", UplinkVolume: 3, DownlinkVolume: 4, TotalVolume: 7, Time: 8,
				ServiceSpecificUnits: 9, FirstUsage: time.Date(2026, 1, 2, 3, 4, 5, 1, time.UTC), LastUsage: time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC),
				LocalSequenceNumbers: []uint64{1, math.MaxUint64}, Amount: "-0.000000000000000001", Currency: "JPY", Offline: true,
				Unbilled: "0.5",
			}, {RatingGroup: 5, Amount: "1", Currency: "KWD"}}
		}), head + times + `,"listOfMultipleUnitUsage":[{"ratingGroup":1,"serviceId":2,"service":"data","uplinkVolume":3,"downlinkVolume":4,` +
			`"totalVolume":7,"time":8,"serviceSpecificUnits":9,"firstUsage":"2026-01-02T03:04:05.000000001Z","lastUsage":"2026-01-02T03:04:06Z",` +
			`"localSequenceNumbers":[1,18446744073709551615],"amount":"-0.000000000000000001","currency":"JPY","offline":true,"unbilled":"0.5"},` +
			`{"ratingGroup":5,"amount":"1","currency":"KWD"}]}`},
		{"usage: empty slices are omitted", minimal(func(r *Record) {
			r.Usage = []RatingGroupUsage{}
		}), head + times + "}"},
		{"usage: empty local sequence numbers are omitted", minimal(func(r *Record) {
			r.Usage = []RatingGroupUsage{{LocalSequenceNumbers: []uint64{}, Amount: "1", Currency: "EUR"}}
		}), head + times + `,"listOfMultipleUnitUsage":[{"ratingGroup":0,"amount":"1","currency":"EUR"}]}`},
		{"sms: empty object", minimal(func(r *Record) { r.SMS = &SMSInfo{} }), head + times + `,"smsChargingInformation":{}}`},
		{"sms: one member (no leading comma)", minimal(func(r *Record) { r.SMS = &SMSInfo{MessageSize: 3} }),
			head + times + `,"smsChargingInformation":{"messageSize":3}}`},
		{"sms: every member", minimal(func(r *Record) {
			r.SMS = &SMSInfo{Originator: "o", Recipient: "r", SMSCAddress: "c", MessageType: "DELIVERY_REPORT", MessageReference: "m",
				MessageSize: 1, NumberOfMessagesSent: 2, SubmissionTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
		}), head + times + `,"smsChargingInformation":{"originator":"o","recipient":"r","smscAddress":"c","messageType":"DELIVERY_REPORT",` +
			`"messageReference":"m","messageSize":1,"numberOfMessagesSent":2,"submissionTime":"2026-01-02T03:04:05Z"}}`},
		{"string: empty mandatory", withSub(""), sub(`""`)},
		{"string: quote and backslash", withSub(`a"b\c`), sub(`"a\"b\\c"`)},
		{"string: short escapes", withSub("\n\r\t"), sub(`"\n\r\t"`)},
		{"string: other control characters", withSub("\x00\x01\x08\x0c\x1f"), sub(`"\u0000\u0001\u0008\u000c\u001f"`)},
		{"string: DEL and printable ASCII kept", withSub("\x7f ~/"), sub("\"\x7f ~/\"")},
		{"string: HTML characters not escaped", withSub("<a&b>"), sub(`"<a&b>"`)},
		{"string: non-ASCII kept", withSub("Grüße 日本 😀"), sub(`"Grüße 日本 😀"`)},
		{"string: line separators escaped", withSub("a\u0085b\u2028c\u2029d"), sub(`"a\u0085b\u2028c\u2029d"`)},
		{"string: invalid byte", withSub("a\xffb"), sub(`"a\ufffdb"`)},
		{"string: truncated sequence", withSub("x\xe2\x82"), sub(`"x\ufffd\ufffd"`)},
		{"string: encoded surrogate", withSub("\xed\xa0\x80"), sub(`"\ufffd\ufffd\ufffd"`)},
		{"string: overlong encoding", withSub("\xc0\xaf"), sub(`"\ufffd\ufffd"`)},
		{"string: U+FFFD itself kept", withSub("\ufffd"), sub("\"\ufffd\"")},
		{"record type written as is", minimal(func(r *Record) { r.RecordType = "X\"" }),
			strings.Replace(head, `"CHF_FINAL"`, `"X\""`, 1) + times + "}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := string(AppendJSON(nil, c.r))
			if got != c.want {
				t.Errorf("AppendJSON:\n got %s\nwant %s", got, c.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("not valid JSON: %s", got)
			}
			assertSameAsEncodingJSON(t, c.r, []byte(got))
		})
	}
}

func TestAppendJSONAppends(t *testing.T) {
	r := partialRecord()
	prefix := []byte("xyz")
	got := AppendJSON(prefix, r)
	if !bytes.HasPrefix(got, prefix) || !bytes.Equal(got[3:], AppendJSON(nil, r)) {
		t.Fatalf("AppendJSON did not append to dst: %s", got)
	}
}

func TestAppendJSONDoesNotAllocate(t *testing.T) {
	r, e := partialRecord(), smsRecord()
	buf := make([]byte, 0, 4096)
	allocs := testing.AllocsPerRun(100, func() {
		buf = AppendJSON(buf[:0], r)
		buf = AppendJSON(buf[:0], e)
	})
	if allocs != 0 {
		t.Fatalf("AppendJSON allocates %v times per run", allocs)
	}
}

// TestAppendJSONMatchesEncodingJSON is the differential test: for many
// random records, with strings picked to be awkward, AppendJSON and
// encoding/json decode to the same value.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 1000 {
		r := randomRecord(rng)
		got := AppendJSON(nil, r)
		if !json.Valid(got) {
			t.Fatalf("record %d: not valid JSON: %s", i, got)
		}
		if bytes.ContainsAny(got, "\n\r") || bytes.Contains(got, []byte("\u2028")) ||
			bytes.Contains(got, []byte("\u2029")) || bytes.Contains(got, []byte("\u0085")) {
			t.Fatalf("record %d: raw line break in %q", i, got)
		}
		if !assertSameAsEncodingJSON(t, r, got) {
			t.Fatalf("record %d differs", i)
		}
	}
}

// TestAppendJSONRoundTrip decodes AppendJSON's output with encoding/json
// into a Record: the same record comes back (times in UTC).
func TestAppendJSONRoundTrip(t *testing.T) {
	for _, r := range []*Record{partialRecord(), smsRecord(), {}} {
		var back Record
		if err := json.Unmarshal(AppendJSON(nil, r), &back); err != nil {
			t.Fatal(err)
		}
		if want := utcCopy(r); !reflect.DeepEqual(&back, want) {
			t.Errorf("round trip:\n got %+v\nwant %+v", back, *want)
		}
	}
}

// assertSameAsEncodingJSON compares got with encoding/json's encoding of r
// (its times in UTC), decoded into generic values with exact numbers.
func assertSameAsEncodingJSON(t *testing.T, r *Record, got []byte) bool {
	t.Helper()
	want, err := json.Marshal(utcCopy(r))
	if err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	g, w := decodeGeneric(t, got), decodeGeneric(t, want)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("AppendJSON and encoding/json differ:\nAppendJSON    %s\nencoding/json %s", got, want)
		return false
	}
	return true
}

func decodeGeneric(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// utcCopy returns a deep enough copy of r with every time in UTC.
func utcCopy(r *Record) *Record {
	c := *r
	c.RecordOpeningTime, c.RecordClosingTime = c.RecordOpeningTime.UTC(), c.RecordClosingTime.UTC()
	if r.Usage != nil {
		c.Usage = make([]RatingGroupUsage, len(r.Usage))
		for i, u := range r.Usage {
			if !u.FirstUsage.IsZero() {
				u.FirstUsage = u.FirstUsage.UTC()
			}
			if !u.LastUsage.IsZero() {
				u.LastUsage = u.LastUsage.UTC()
			}
			c.Usage[i] = u
		}
	}
	if r.SMS != nil {
		s := *r.SMS
		if !s.SubmissionTime.IsZero() {
			s.SubmissionTime = s.SubmissionTime.UTC()
		}
		c.SMS = &s
	}
	return &c
}

// trickyStrings are awkward for a JSON string encoder.
var trickyStrings = []string{
	"", "plain", "imsi-001010123456789", `quote"inside`, `back\slash`, `\"`, "line\nbreak", "\r\n", "tab\tx",
	"\x00", "\x01\x02\x03\x1f", "\b\f", "\x7f", "<html>&amp;</html>", "héllo wörld", "日本語テキスト", "emoji 😀🎉",
	"\u2028", "\u2029", "\u0085", "mixed\u2028\u0085\u2029end", "bad \xff utf8", "\xc3\x28", "trunc \xe2\x82", "\xed\xa0\x80",
	"\xf4\x90\x80\x80", "\xc0\x80", "\ufffd", "\xef\xbf\xbd\xff", strings.Repeat("a", 300), strings.Repeat("é\"", 50),
	"ends with backslash\\", "\"", "/slash/", "\u00a0nbsp", "\U0010ffff",
}

func randomString(rng *rand.Rand) string {
	if rng.IntN(4) == 0 {
		// Random bytes: mostly invalid UTF-8 and control characters.
		b := make([]byte, rng.IntN(24))
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		return string(b)
	}
	if rng.IntN(3) == 0 {
		return trickyStrings[rng.IntN(len(trickyStrings))] + trickyStrings[rng.IntN(len(trickyStrings))]
	}
	return trickyStrings[rng.IntN(len(trickyStrings))]
}

func randomTime(rng *rand.Rand, optional bool) time.Time {
	if optional && rng.IntN(3) == 0 {
		return time.Time{}
	}
	t := time.Unix(rng.Int64N(4_000_000_000), 0)
	switch rng.IntN(4) {
	case 0: // whole seconds
	case 1:
		t = t.Add(time.Duration(rng.IntN(1000)) * time.Millisecond)
	default:
		t = t.Add(time.Duration(rng.IntN(1_000_000_000)))
	}
	if rng.IntN(3) == 0 {
		return t.In(time.FixedZone("X", (rng.IntN(28)-14)*3600+rng.IntN(2)*1800))
	}
	return t.UTC()
}

func randomU64(rng *rand.Rand) uint64 {
	switch rng.IntN(4) {
	case 0:
		return 0
	case 1:
		return math.MaxUint64 - rng.Uint64N(3)
	case 2:
		return rng.Uint64N(1000)
	}
	return rng.Uint64()
}

func randomRecord(rng *rand.Rand) *Record {
	types := []RecordType{RecordPartial, RecordFinal, RecordEvent, ""}
	r := &Record{
		RecordType:                 types[rng.IntN(len(types))],
		RecordingNetworkFunctionID: randomString(rng),
		ChargingDataRef:            randomString(rng),
		RecordSequenceNumber:       uint32(randomU64(rng)),
		SubscriberIdentifier:       randomString(rng),
		GPSI:                       randomString(rng),
		AccountID:                  randomString(rng),
		PlanID:                     randomString(rng),
		NFConsumerName:             randomString(rng),
		NFFunctionality:            randomString(rng),
		ChargingID:                 uint32(randomU64(rng)),
		DNN:                        randomString(rng),
		RATType:                    randomString(rng),
		RecordOpeningTime:          randomTime(rng, false),
		RecordClosingTime:          randomTime(rng, false),
		DurationSeconds:            randomU64(rng),
		CauseForRecordClosing:      randomString(rng),
	}
	switch rng.IntN(4) {
	case 0:
	case 1:
		r.Usage = []RatingGroupUsage{}
	default:
		r.Usage = make([]RatingGroupUsage, 1+rng.IntN(4))
		for i := range r.Usage {
			u := &r.Usage[i]
			u.RatingGroup, u.ServiceID = uint32(randomU64(rng)), uint32(randomU64(rng))
			u.Service = randomString(rng)
			u.UplinkVolume, u.DownlinkVolume, u.TotalVolume = randomU64(rng), randomU64(rng), randomU64(rng)
			u.Time, u.ServiceSpecificUnits = randomU64(rng), randomU64(rng)
			u.FirstUsage, u.LastUsage = randomTime(rng, true), randomTime(rng, true)
			if n := rng.IntN(4); n > 0 {
				u.LocalSequenceNumbers = make([]uint64, n-1) // sometimes empty, not nil
				for j := range u.LocalSequenceNumbers {
					u.LocalSequenceNumbers[j] = randomU64(rng)
				}
			}
			u.Amount = fmt.Sprintf("%d.%04d", rng.IntN(1000), rng.IntN(10000))
			if rng.IntN(5) == 0 {
				u.Amount = randomString(rng)
			}
			u.Currency = []string{"EUR", "USD", "JPY", ""}[rng.IntN(4)]
			u.Offline = rng.IntN(2) == 0
			if rng.IntN(3) == 0 {
				u.Unbilled = randomString(rng)
			}
		}
	}
	if rng.IntN(2) == 0 {
		r.SMS = &SMSInfo{}
		if rng.IntN(4) > 0 {
			r.SMS = &SMSInfo{
				Originator: randomString(rng), Recipient: randomString(rng), SMSCAddress: randomString(rng),
				MessageType: randomString(rng), MessageReference: randomString(rng),
				MessageSize: uint32(randomU64(rng)), NumberOfMessagesSent: uint32(randomU64(rng)),
				SubmissionTime: randomTime(rng, true),
			}
		}
	}
	return r
}
