package nchf

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, got, "", "  "); err != nil {
		t.Fatalf("encoder produced invalid JSON: %v\n%s", err, got)
	}
	pretty.WriteByte('\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want := readFile(t, path)
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("%s differs from the golden file (run go test -update to accept):\n got: %s\nwant: %s", name, pretty.Bytes(), want)
	}
}

func requestFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "requests", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no request samples: %v", err)
	}
	return files
}

// normalize makes values comparable with reflect.DeepEqual: times in UTC
// (a decoded offset is a distinct *time.Location), Extra dropped (encoding/json
// does not see it), raw JSON compacted.
func normalize(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			normalize(v.Elem())
		}
	case reflect.Slice:
		if v.Type() == reflect.TypeFor[json.RawMessage]() {
			if v.Len() > 0 {
				var b bytes.Buffer
				_ = json.Compact(&b, v.Bytes())
				v.SetBytes(b.Bytes())
			}
			return
		}
		for i := 0; i < v.Len(); i++ {
			normalize(v.Index(i))
		}
	case reflect.Struct:
		if t, ok := v.Interface().(time.Time); ok {
			v.Set(reflect.ValueOf(t.UTC()))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).Name == "Extra" {
				v.Field(i).SetZero()
				continue
			}
			normalize(v.Field(i))
		}
	}
}

func TestDecodeRequestsMatchEncodingJSON(t *testing.T) {
	for _, file := range requestFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data := readFile(t, file)
			var got, want ChargingDataRequest
			if err := DecodeChargingDataRequest(data, &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &want); err != nil {
				t.Fatal(err)
			}
			g, w := got, want
			normalize(reflect.ValueOf(&g))
			normalize(reflect.ValueOf(&w))
			if !reflect.DeepEqual(g, w) {
				t.Errorf("nchf and encoding/json disagree:\nnchf: %+v\njson: %+v", g, w)
			}
		})
	}
}

func TestRequestRoundTripGolden(t *testing.T) {
	for _, file := range requestFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			var req, again ChargingDataRequest
			if err := DecodeChargingDataRequest(readFile(t, file), &req); err != nil {
				t.Fatal(err)
			}
			enc := AppendChargingDataRequest(nil, &req)
			golden(t, filepath.Base(file), enc)
			if err := DecodeChargingDataRequest(enc, &again); err != nil {
				t.Fatalf("re-decoding our own encoding: %v\n%s", err, enc)
			}
			if enc2 := AppendChargingDataRequest(nil, &again); !bytes.Equal(enc, enc2) {
				t.Errorf("encode∘decode not stable:\n%s\n%s", enc, enc2)
			}
		})
	}
}

func TestDecodeDetails(t *testing.T) {
	var req ChargingDataRequest
	if err := DecodeChargingDataRequest(readFile(t, "testdata/requests/smf_update.json"), &req); err != nil {
		t.Fatal(err)
	}
	if got := req.MultipleUnitUsage[0].UsedUnitContainer[0].TotalVolume; got != 4294967296 {
		t.Errorf("totalVolume = %d, want 4294967296 (beyond int32)", got)
	}
	if got := req.PDUSessionChargingInformation.ChargingId; got != 2147483653 {
		t.Errorf("chargingId = %d, want 2147483653 (beyond int32)", got)
	}
	if _, off := req.InvocationTimeStamp.Zone(); off != 8*3600 {
		t.Errorf("offset %d, want +08:00 kept", off)
	}
	if want := time.Date(2025, 3, 14, 1, 26, 53, 589e6, time.UTC); !req.InvocationTimeStamp.Equal(want) {
		t.Errorf("invocationTimeStamp = %v, want %v", req.InvocationTimeStamp, want)
	}
	if req.NfConsumerIdentification.NodeFunctionality != NodeFunctionalitySmf {
		t.Errorf("nodeFunctionality = %q", req.NfConsumerIdentification.NodeFunctionality)
	}

	var rel ChargingDataRequest
	if err := DecodeChargingDataRequest(readFile(t, "testdata/requests/smf_release.json"), &rel); err != nil {
		t.Fatal(err)
	}
	u := rel.MultipleUnitUsage[0].UsedUnitContainer[0]
	if u.TotalVolume != 1<<64-1 || u.DownlinkVolume != 1<<64-1 {
		t.Errorf("uint64 max volumes not kept: %d %d", u.TotalVolume, u.DownlinkVolume)
	}
	if rel.InvocationTimeStamp.Nanosecond() != 1 {
		t.Errorf("nanoseconds lost: %v", rel.InvocationTimeStamp)
	}

	var unk ChargingDataRequest
	if err := DecodeChargingDataRequest(readFile(t, "testdata/requests/unknown_fields.json"), &unk); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range unk.Extra {
		names = append(names, m.Name)
	}
	if want := []string{"roamingQBCInformation", "nEFChargingInformation", `esc"aped/key~`, "null"}; !reflect.DeepEqual(names, want) {
		t.Errorf("Extra names = %q, want %q", names, want)
	}
	if got := unk.MultipleUnitUsage[0].UsedUnitContainer[0].QuotaManagementIndicator; got != "SOME_FUTURE_QMI" {
		t.Errorf("unknown enum value not kept: %q", got)
	}
	if len(unk.MultipleUnitUsage[0].UsedUnitContainer[0].Extra) != 2 || len(unk.Triggers[0].Extra) != 1 {
		t.Errorf("nested unknown members not kept: %+v", unk.MultipleUnitUsage[0])
	}
	if unk.NfConsumerIdentification.NodeFunctionality != "NEW_NF_OF_REL_20" {
		t.Errorf("unknown nodeFunctionality not kept")
	}

	var create ChargingDataRequest
	if err := DecodeChargingDataRequest(readFile(t, "testdata/requests/smf_create.json"), &create); err != nil {
		t.Fatal(err)
	}
	if ru := create.MultipleUnitUsage[0].RequestedUnit; ru == nil || !reflect.DeepEqual(*ru, RequestedUnit{}) {
		t.Errorf(`"requestedUnit": {} must decode to a non-nil zero RequestedUnit, got %+v`, ru)
	}
}

// sampleResponse is an answer to smf_update.json exercising every modelled
// member of the response side.
func sampleResponse() *ChargingDataResponse {
	ts := time.Date(2025, 3, 14, 9, 26, 53, 601e6, time.FixedZone("", 8*3600))
	return &ChargingDataResponse{
		InvocationTimeStamp:      ts,
		InvocationSequenceNumber: 7,
		SessionFailover:          SessionFailoverFailoverSupported,
		MultipleUnitInformation: []MultipleUnitInformation{
			{
				ResultCode:           ResultCodeSuccess,
				RatingGroup:          10,
				GrantedUnit:          &GrantedUnit{TotalVolume: 5368709120},
				ValidityTime:         3600,
				QuotaHoldingTime:     300,
				VolumeQuotaThreshold: 536870912,
				Triggers: []Trigger{
					{TriggerType: TriggerTypeQuotaThreshold, TriggerCategory: TriggerCategoryImmediateReport},
					{TriggerType: TriggerTypeVolumeLimit, TriggerCategory: TriggerCategoryDeferredReport, VolumeLimit64: 1 << 40},
				},
			},
			{
				ResultCode:  ResultCodeSuccess,
				RatingGroup: 20,
				GrantedUnit: &GrantedUnit{Time: 1800, TariffTimeChange: time.Date(2025, 3, 14, 16, 0, 0, 0, time.UTC)},
				FinalUnitIndication: &FinalUnitIndication{
					FinalUnitAction: FinalUnitActionRedirect,
					RedirectServer:  &RedirectServer{RedirectAddressType: RedirectAddressTypeUrl, RedirectServerAddress: "https://topup.example.com/?msisdn=8613800138000&lang=zh"},
				},
				TimeQuotaThreshold: 60,
			},
			{
				ResultCode:  ResultCodeQuotaLimitReached,
				RatingGroup: 30,
				FinalUnitIndication: &FinalUnitIndication{
					FinalUnitAction:           FinalUnitActionRestrictAccess,
					RestrictionFilterRuleList: []string{"permit out ip from any to 10.0.0.1"},
					FilterIdList:              []string{"walled-garden"},
				},
			},
		},
		Triggers: []Trigger{{TriggerType: TriggerTypeTariffTimeChange, TriggerCategory: TriggerCategoryImmediateReport, TariffTimeChange: time.Date(2025, 3, 14, 16, 0, 0, 0, time.UTC)}},
	}
}

func TestResponseGoldenAndRoundTrip(t *testing.T) {
	cases := map[string]*ChargingDataResponse{
		"update_response.json": sampleResponse(),
		"minimal_response.json": {
			InvocationTimeStamp: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		},
		"error_response.json": {
			InvocationTimeStamp:      time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
			InvocationSequenceNumber: 3,
			InvocationResult:         &InvocationResult{Error: ptr(QuotaLimitReached("balance exhausted")), FailureHandling: FailureHandlingTerminate},
		},
	}
	for name, resp := range cases {
		t.Run(name, func(t *testing.T) {
			enc := AppendChargingDataResponse(nil, resp)
			golden(t, name, enc)
			var back ChargingDataResponse
			if err := DecodeChargingDataResponse(enc, &back); err != nil {
				t.Fatalf("decode own encoding: %v\n%s", err, enc)
			}
			a, b := *resp, back
			normalize(reflect.ValueOf(&a))
			normalize(reflect.ValueOf(&b))
			if !reflect.DeepEqual(a, b) {
				t.Errorf("round trip changed the response:\n got %+v\nwant %+v", b, a)
			}
			// encoding/json reads what we write into the same types.
			var viaStd ChargingDataResponse
			if err := json.Unmarshal(enc, &viaStd); err != nil {
				t.Fatal(err)
			}
			normalize(reflect.ValueOf(&viaStd))
			if !reflect.DeepEqual(a, viaStd) {
				t.Errorf("encoding/json reads a different response:\n got %+v\nwant %+v", viaStd, a)
			}
		})
	}
}

func TestNotifyAndProblemGolden(t *testing.T) {
	n := &ChargingNotifyRequest{
		NotificationType: NotificationTypeReauthorization,
		ReauthorizationDetails: []ReauthorizationDetails{
			{RatingGroup: 10}, {ServiceId: 2001, RatingGroup: 20, QuotaManagementIndicator: QuotaManagementIndicatorOnlineCharging},
		},
	}
	enc := AppendChargingNotifyRequest(nil, n)
	golden(t, "notify_reauthorization.json", enc)
	var back ChargingNotifyRequest
	if err := DecodeChargingNotifyRequest(enc, &back); err != nil || !reflect.DeepEqual(*n, back) {
		t.Errorf("notify round trip: %v\n%+v", err, back)
	}
	abort := AppendChargingNotifyRequest(nil, &ChargingNotifyRequest{NotificationType: NotificationTypeAbortCharging})
	golden(t, "notify_abort.json", abort)

	nr := &ChargingNotifyResponse{InvocationResult: &InvocationResult{FailureHandling: FailureHandlingContinue}}
	var nrBack ChargingNotifyResponse
	if err := DecodeChargingNotifyResponse(AppendChargingNotifyResponse(nil, nr), &nrBack); err != nil || !reflect.DeepEqual(*nr, nrBack) {
		t.Errorf("notify response round trip: %v %+v", err, nrBack)
	}

	var req ChargingDataRequest
	err := DecodeChargingDataRequest([]byte(`{"nfConsumerIdentification":{"nodeFunctionality":"SMF"},"invocationTimeStamp":"2025-01-01T00:00:00Z","invocationSequenceNumber":1,"multipleUnitUsage":[{"ratingGroup":10,"usedUnitContainer":[{"localSequenceNumber":1,"totalVolume":-5}]}]}`), &req)
	pd := ProblemOf(err)
	penc := AppendProblemDetails(nil, &pd)
	golden(t, "problem_optional_ie.json", penc)
	var pback ProblemDetails
	if err := DecodeProblemDetails(penc, &pback); err != nil || !reflect.DeepEqual(pd, pback) {
		t.Errorf("problem round trip: %v %+v", err, pback)
	}
	sn := SessionNotFound("ab12-7")
	golden(t, "problem_session_not_found.json", AppendProblemDetails(nil, &sn))
}

func ptr[T any](v T) *T { return &v }

func TestStringEscaping(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\s`, "ctl\x00\x01\x1f\t\n\r", "ünï中文😀", "bad\xffutf8", "<&>", "\u2028"} {
		enc := appendString(nil, s)
		var std string
		if err := json.Unmarshal(enc, &std); err != nil {
			t.Errorf("%q → %s: invalid JSON: %v", s, enc, err)
			continue
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if std != want {
			t.Errorf("%q → %s → %q", s, enc, std)
		}
		d := newDecoder(Decoder{}, enc)
		var got string
		if err := d.str(&got); err != nil || got != want {
			t.Errorf("our decoder: %q → %s → %q (%v)", s, enc, got, err)
		}
	}
}

func TestDateTime(t *testing.T) {
	good := map[string]time.Time{
		"2025-03-14T09:26:53Z":             time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC),
		"2025-03-14t09:26:53z":             time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC),
		"2024-02-29T23:59:59.123456789Z":   time.Date(2024, 2, 29, 23, 59, 59, 123456789, time.UTC),
		"2024-02-29T23:59:59.1234567891Z":  time.Date(2024, 2, 29, 23, 59, 59, 123456789, time.UTC),
		"2025-03-14T09:26:53.5+08:00":      time.Date(2025, 3, 14, 1, 26, 53, 5e8, time.UTC),
		"2025-03-14T09:26:53-00:00":        time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC),
		"2025-03-14T09:26:53.000001-05:30": time.Date(2025, 3, 14, 14, 56, 53, 1000, time.UTC),
	}
	for s, want := range good {
		got, ok := parseDateTime([]byte(s))
		if !ok || !got.Equal(want) {
			t.Errorf("parseDateTime(%q) = %v, %v; want %v", s, got, ok, want)
		}
		if std, err := time.Parse(time.RFC3339Nano, s); err == nil && !std.Equal(got) {
			t.Errorf("parseDateTime(%q) = %v; time.Parse says %v", s, got, std)
		}
	}
	for _, s := range []string{"", "2025-03-14", "2025-03-14T09:26:53", "2025-02-29T00:00:00Z", "2025-13-01T00:00:00Z",
		"2025-03-14T24:00:00Z", "2025-03-14T09:60:00Z", "2025-03-14T09:26:60Z", "2025-03-14T09:26:53.Z", "2025-03-14T09:26:53+0800",
		"2025-03-14T09:26:53+08:00x", "2025-03-14 09:26:53Z", "+2025-03-14T09:26:53Z", "2025-03-14T09:26:53+24:00"} {
		if got, ok := parseDateTime([]byte(s)); ok {
			t.Errorf("parseDateTime(%q) accepted: %v", s, got)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	const head = `"nfConsumerIdentification":{"nodeFunctionality":"SMF"},"invocationTimeStamp":"2025-01-01T00:00:00Z","invocationSequenceNumber":1`
	valid := `{` + head + `}`
	withMUU := func(muu string) string { return `{` + head + `,"multipleUnitUsage":[` + muu + `]}` }
	cases := []struct {
		name    string
		body    string
		limits  Limits
		kind    ErrorKind
		pointer string
		cause   string
		status  int
	}{
		{"empty", ``, Limits{}, KindSyntax, "", CauseInvalidMsgFormat, 400},
		{"not json", `hello`, Limits{}, KindSyntax, "", CauseInvalidMsgFormat, 400},
		{"array body", `[1,2]`, Limits{}, KindType, "", CauseOptionalIEIncorrect, 400},
		{"truncated in a name", valid[:len(valid)-5], Limits{}, KindSyntax, "", CauseInvalidMsgFormat, 400},
		{"truncated in a value", valid[:strings.Index(valid, "01T")], Limits{}, KindSyntax, "/invocationTimeStamp", CauseInvalidMsgFormat, 400},
		{"truncated object", valid[:len(valid)-1], Limits{}, KindSyntax, "", CauseInvalidMsgFormat, 400},
		{"trailing garbage", valid + `x`, Limits{}, KindSyntax, "", CauseInvalidMsgFormat, 400},
		{"two values", valid + valid, Limits{}, KindSyntax, "", CauseInvalidMsgFormat, 400},
		{"trailing comma", `{` + head + `,}`, Limits{}, KindSyntax, "", CauseInvalidMsgFormat, 400},
		{"single quotes", `{'a':1}`, Limits{}, KindSyntax, "", CauseInvalidMsgFormat, 400},
		{"invalid utf8", `{"subscriberIdentifier":"imsi-` + "\xff" + `",` + head + `}`, Limits{}, KindSyntax, "/subscriberIdentifier", CauseInvalidMsgFormat, 400},
		{"bad escape", `{"subscriberIdentifier":"\x",` + head + `}`, Limits{}, KindSyntax, "/subscriberIdentifier", CauseInvalidMsgFormat, 400},
		{"control char", "{\"subscriberIdentifier\":\"a\nb\"," + head + `}`, Limits{}, KindSyntax, "/subscriberIdentifier", CauseInvalidMsgFormat, 400},
		{"leading zero", `{` + head + `,"chargingId":01}`, Limits{}, KindSyntax, "/chargingId", CauseInvalidMsgFormat, 400},
		{"missing nfConsumerIdentification", `{"invocationTimeStamp":"2025-01-01T00:00:00Z","invocationSequenceNumber":1}`, Limits{}, KindMissing, "/nfConsumerIdentification", CauseMandatoryIEMissing, 400},
		{"missing invocationTimeStamp", `{"nfConsumerIdentification":{"nodeFunctionality":"SMF"},"invocationSequenceNumber":1}`, Limits{}, KindMissing, "/invocationTimeStamp", CauseMandatoryIEMissing, 400},
		{"missing invocationSequenceNumber", `{"nfConsumerIdentification":{"nodeFunctionality":"SMF"},"invocationTimeStamp":"2025-01-01T00:00:00Z"}`, Limits{}, KindMissing, "/invocationSequenceNumber", CauseMandatoryIEMissing, 400},
		{"null mandatory", `{"nfConsumerIdentification":{"nodeFunctionality":"SMF"},"invocationTimeStamp":"2025-01-01T00:00:00Z","invocationSequenceNumber":null}`, Limits{}, KindMissing, "/invocationSequenceNumber", CauseMandatoryIEMissing, 400},
		{"missing nodeFunctionality", `{"nfConsumerIdentification":{"nFName":"x"},"invocationTimeStamp":"2025-01-01T00:00:00Z","invocationSequenceNumber":1}`, Limits{}, KindMissing, "/nfConsumerIdentification/nodeFunctionality", CauseMandatoryIEMissing, 400},
		{"missing ratingGroup", withMUU(`{"requestedUnit":{}}`), Limits{}, KindMissing, "/multipleUnitUsage/0/ratingGroup", CauseMandatoryIEMissing, 400},
		{"missing localSequenceNumber", withMUU(`{"ratingGroup":1},{"ratingGroup":2,"usedUnitContainer":[{"totalVolume":1}]}`), Limits{}, KindMissing, "/multipleUnitUsage/1/usedUnitContainer/0/localSequenceNumber", CauseMandatoryIEMissing, 400},
		{"missing triggerCategory", withMUU(`{"ratingGroup":1,"usedUnitContainer":[{"localSequenceNumber":1,"triggers":[{"triggerType":"FINAL"}]}]}`), Limits{}, KindMissing, "/multipleUnitUsage/0/usedUnitContainer/0/triggers/0/triggerCategory", CauseMandatoryIEMissing, 400},
		{"sequence number as string", `{"nfConsumerIdentification":{"nodeFunctionality":"SMF"},"invocationTimeStamp":"2025-01-01T00:00:00Z","invocationSequenceNumber":"1"}`, Limits{}, KindType, "/invocationSequenceNumber", CauseMandatoryIEIncorrect, 400},
		{"sequence number too big", `{"nfConsumerIdentification":{"nodeFunctionality":"SMF"},"invocationTimeStamp":"2025-01-01T00:00:00Z","invocationSequenceNumber":4294967296}`, Limits{}, KindValue, "/invocationSequenceNumber", CauseMandatoryIEIncorrect, 400},
		{"bad timestamp", `{"nfConsumerIdentification":{"nodeFunctionality":"SMF"},"invocationTimeStamp":"yesterday","invocationSequenceNumber":1}`, Limits{}, KindValue, "/invocationTimeStamp", CauseMandatoryIEIncorrect, 400},
		{"timestamp as number", `{"nfConsumerIdentification":{"nodeFunctionality":"SMF"},"invocationTimeStamp":1700000000,"invocationSequenceNumber":1}`, Limits{}, KindType, "/invocationTimeStamp", CauseMandatoryIEIncorrect, 400},
		{"nf identification as string", `{"nfConsumerIdentification":"SMF","invocationTimeStamp":"2025-01-01T00:00:00Z","invocationSequenceNumber":1}`, Limits{}, KindType, "/nfConsumerIdentification", CauseMandatoryIEIncorrect, 400},
		{"negative volume", withMUU(`{"ratingGroup":1,"usedUnitContainer":[{"localSequenceNumber":1,"totalVolume":-1}]}`), Limits{}, KindValue, "/multipleUnitUsage/0/usedUnitContainer/0/totalVolume", CauseOptionalIEIncorrect, 400},
		{"volume overflow", withMUU(`{"ratingGroup":1,"usedUnitContainer":[{"localSequenceNumber":1,"uplinkVolume":18446744073709551616}]}`), Limits{}, KindValue, "/multipleUnitUsage/0/usedUnitContainer/0/uplinkVolume", CauseOptionalIEIncorrect, 400},
		{"volume fraction", withMUU(`{"ratingGroup":1,"requestedUnit":{"totalVolume":1.5}}`), Limits{}, KindType, "/multipleUnitUsage/0/requestedUnit/totalVolume", CauseOptionalIEIncorrect, 400},
		{"volume exponent", withMUU(`{"ratingGroup":1,"requestedUnit":{"totalVolume":1e9}}`), Limits{}, KindType, "/multipleUnitUsage/0/requestedUnit/totalVolume", CauseOptionalIEIncorrect, 400},
		{"rating group negative", withMUU(`{"ratingGroup":-10}`), Limits{}, KindValue, "/multipleUnitUsage/0/ratingGroup", CauseMandatoryIEIncorrect, 400},
		{"rating group too big", withMUU(`{"ratingGroup":4294967296}`), Limits{}, KindValue, "/multipleUnitUsage/0/ratingGroup", CauseMandatoryIEIncorrect, 400},
		{"multipleUnitUsage object", `{` + head + `,"multipleUnitUsage":{"ratingGroup":1}}`, Limits{}, KindType, "/multipleUnitUsage", CauseOptionalIEIncorrect, 400},
		{"bool as string", `{` + head + `,"oneTimeEvent":"true"}`, Limits{}, KindType, "/oneTimeEvent", CauseOptionalIEIncorrect, 400},
		{"enum as number", `{` + head + `,"triggers":[{"triggerCategory":1}]}`, Limits{}, KindType, "/triggers/0/triggerCategory", CauseMandatoryIEIncorrect, 400},
		{"pdu session id > 255", `{` + head + `,"pDUSessionChargingInformation":{"pduSessionInformation":{"pduSessionID":256,"dnnId":"x"}}}`, Limits{}, KindValue, "/pDUSessionChargingInformation/pduSessionInformation/pduSessionID", CauseMandatoryIEIncorrect, 400},
		{"pointer escaping", `{` + head + `,"a/b~c":{"x":tru}}`, Limits{}, KindSyntax, "/a~1b~0c/x", CauseInvalidMsgFormat, 400},
		{"unknown member type error stays syntax-free", `{` + head + `,"future":[1,{"a":[]}]}`, Limits{}, 0, "", "", 0},
		{"too large", valid, Limits{MaxBytes: 16}, KindTooLarge, "", "", 413},
		{"too deep", `{` + head + `,"x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`, Limits{}, KindLimit, "/x" + strings.Repeat("/0", 31), CauseInvalidMsgFormat, 400},
		{"deep enough (limit 4)", withMUU(`{"ratingGroup":1,"requestedUnit":{}}`), Limits{MaxDepth: 4}, 0, "", "", 0},
		{"too deep (limit 3)", withMUU(`{"ratingGroup":1,"requestedUnit":{}}`), Limits{MaxDepth: 3}, KindLimit, "/multipleUnitUsage/0/requestedUnit", CauseInvalidMsgFormat, 400},
		{"too many elements", withMUU(`{"ratingGroup":1},{"ratingGroup":2},{"ratingGroup":3}`), Limits{MaxArrayLen: 2}, KindLimit, "/multipleUnitUsage", CauseInvalidMsgFormat, 400},
		{"too many unknown members", `{` + head + `,"a":1,"b":2,"c":3}`, Limits{MaxArrayLen: 2}, KindLimit, "/c", CauseInvalidMsgFormat, 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var req ChargingDataRequest
			err := Decoder{Limits: c.limits}.DecodeChargingDataRequest([]byte(c.body), &req)
			if c.kind == 0 {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want a *DecodeError", err)
			}
			if de.Kind != c.kind || de.Pointer != c.pointer {
				t.Errorf("got kind %v pointer %q (%v); want %v %q", de.Kind, de.Pointer, de, c.kind, c.pointer)
			}
			pd := de.ProblemDetails()
			if pd.Cause != c.cause || pd.Status != c.status {
				t.Errorf("problem cause %q status %d; want %q %d", pd.Cause, pd.Status, c.cause, c.status)
			}
			if c.kind != KindSyntax && c.kind != KindTooLarge && (len(pd.InvalidParams) != 1 || pd.InvalidParams[0].Param != c.pointer) {
				t.Errorf("invalidParams = %+v, want one with param %q", pd.InvalidParams, c.pointer)
			}
			// encoding/json agrees on what is well-formed, except that it
			// lets invalid UTF-8 through (RFC 8259 §8.1 requires UTF-8).
			if json.Valid([]byte(c.body)) == (c.kind == KindSyntax) && utf8.ValidString(c.body) {
				t.Errorf("encoding/json validity disagrees with kind %v", c.kind)
			}
		})
	}
}

func TestDecodeOtherTypesErrors(t *testing.T) {
	var resp ChargingDataResponse
	err := DecodeChargingDataResponse([]byte(`{"invocationTimeStamp":"2025-01-01T00:00:00Z","invocationSequenceNumber":1,"multipleUnitInformation":[{"ratingGroup":1,"finalUnitIndication":{"finalUnitAction":"REDIRECT","redirectServer":{"redirectAddressType":"URL"}}}]}`), &resp)
	var de *DecodeError
	if !errors.As(err, &de) || de.Pointer != "/multipleUnitInformation/0/finalUnitIndication/redirectServer/redirectServerAddress" || de.Kind != KindMissing {
		t.Errorf("got %v", err)
	}
	var n ChargingNotifyRequest
	if err := DecodeChargingNotifyRequest([]byte(`{"reauthorizationDetails":[]}`), &n); !errors.As(err, &de) || de.Pointer != "/notificationType" {
		t.Errorf("got %v", err)
	}
	var p ProblemDetails
	if err := DecodeProblemDetails([]byte(`{"status":400,"invalidParams":[{"reason":"x"}]}`), &p); !errors.As(err, &de) || de.Pointer != "/invalidParams/0/param" {
		t.Errorf("got %v", err)
	}
}

func TestProblemConstructors(t *testing.T) {
	for _, c := range []struct {
		p      ProblemDetails
		status int
		cause  string
	}{
		{ChargingFailed("x"), 400, CauseChargingFailed},
		{ChargingNotApplicable("x"), 403, CauseChargingNotApplicable},
		{UserUnknown("x"), 404, CauseUserUnknown},
		{QuotaLimitReached("x"), 403, CauseQuotaLimitReached},
		{EndUserRequestDenied("x"), 403, CauseEndUserRequestDenied},
		{SessionNotFound("r"), 404, CauseContextNotFound},
		{SystemFailure("x"), 500, CauseSystemFailure},
		{ProblemOf(errors.New("boom")), 500, CauseSystemFailure},
	} {
		if c.p.Status != c.status || c.p.Cause != c.cause || c.p.Title == "" {
			t.Errorf("%+v: want %d %s", c.p, c.status, c.cause)
		}
	}
	for cause := range causeStatus {
		if causeTitle[cause] == "" {
			t.Errorf("cause %s has no title", cause)
		}
	}
}

// TestDecodeResets checks that decoding into a used request resets it.
func TestDecodeResets(t *testing.T) {
	var req ChargingDataRequest
	if err := DecodeChargingDataRequest(readFile(t, "testdata/requests/smsf_event.json"), &req); err != nil {
		t.Fatal(err)
	}
	if err := DecodeChargingDataRequest(readFile(t, "testdata/requests/smf_release.json"), &req); err != nil {
		t.Fatal(err)
	}
	if req.SMSChargingInformation != nil || req.OneTimeEvent || len(req.MultipleUnitUsage) != 1 {
		t.Errorf("state from the previous decode leaked: %+v", req)
	}
}

func TestHugePayloads(t *testing.T) {
	var req ChargingDataRequest
	huge := append([]byte(`{"subscriberIdentifier":"`), bytes.Repeat([]byte("x"), DefaultMaxBytes)...)
	huge = append(huge, `"}`...)
	var de *DecodeError
	if err := DecodeChargingDataRequest(huge, &req); !errors.As(err, &de) || de.Kind != KindTooLarge || de.ProblemDetails().Status != 413 {
		t.Errorf("a body over 64 KiB: %v", err)
	}
	// Just under the limit, 255 rating groups are accepted and 300 are not.
	muu := func(n int) []byte {
		b := []byte(`{"nfConsumerIdentification":{"nodeFunctionality":"SMF"},"invocationTimeStamp":"2025-01-01T00:00:00Z","invocationSequenceNumber":1,"multipleUnitUsage":[`)
		for i := range n {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"ratingGroup":1,"requestedUnit":{"totalVolume":1}}`...)
		}
		return append(b, `]}`...)
	}
	if err := DecodeChargingDataRequest(muu(255), &req); err != nil || len(req.MultipleUnitUsage) != 255 {
		t.Errorf("255 rating groups: %v", err)
	}
	if err := DecodeChargingDataRequest(muu(300), &req); !errors.As(err, &de) || de.Kind != KindLimit || de.Pointer != "/multipleUnitUsage" {
		t.Errorf("300 rating groups: %v", err)
	}
	// Deep nesting inside an unknown member is bounded too, without recursion blow-up.
	deep := []byte(`{"x":` + strings.Repeat(`{"a":`, 100000) + `1` + strings.Repeat(`}`, 100000) + `}`)
	if err := (Decoder{Limits: Limits{MaxBytes: 1 << 20}}).DecodeChargingDataRequest(deep, &req); !errors.As(err, &de) || de.Kind != KindLimit {
		t.Errorf("deep nesting: %v", err)
	}
}
