package nchf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v3"
)

// The schema tests validate what the encoders write against the official
// OpenAPI schemas of TS 32.291 and TS 29.571. The definitions are ~4 MB over
// 91 files, so testdata/3gpp keeps a bundle of just the schemas reachable from
// the types below, extracted by TestSchemaBundle from the full set in
// shared/3gpp (beside the repository) and checked there to be up to date;
// see testdata/3gpp/README.md.

const bundlePath = "testdata/3gpp/nchf_schemas.json"

// bundleRoots are the schemas the bundle is built from (file, schema).
var bundleRoots = [][2]string{
	{"TS32291_Nchf_ConvergedCharging.yaml", "ChargingDataRequest"},
	{"TS32291_Nchf_ConvergedCharging.yaml", "ChargingDataResponse"},
	{"TS32291_Nchf_ConvergedCharging.yaml", "ChargingNotifyRequest"},
	{"TS32291_Nchf_ConvergedCharging.yaml", "ChargingNotifyResponse"},
	{"TS29571_CommonData.yaml", "ProblemDetails"},
}

// specDir finds the full 3GPP definitions: $TOLLGATE_3GPP_DIR, or shared/3gpp
// beside the repository.
func specDir() string {
	if d := os.Getenv("TOLLGATE_3GPP_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "3gpp")
}

func bundleKey(file, name string) string {
	return strings.TrimSuffix(file, ".yaml") + "." + name
}

// buildBundle extracts the schemas reachable from bundleRoots into one
// OpenAPI document whose $refs are all local.
func buildBundle(dir string) ([]byte, error) {
	files := map[string]map[string]any{}
	load := func(file string) (map[string]any, error) {
		if s, ok := files[file]; ok {
			return s, nil
		}
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			return nil, err
		}
		// Erratum: TS32291 V18.4.0 indents two comment lines of TriggerType
		// with tabs, which YAML forbids.
		data = bytes.ReplaceAll(data, []byte("\t"), []byte("    "))
		var doc struct {
			Components struct {
				Schemas map[string]any `yaml:"schemas"`
			} `yaml:"components"`
		}
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		files[file] = doc.Components.Schemas
		return doc.Components.Schemas, nil
	}
	out := map[string]any{}
	var visit func(file, name string) error
	var rewrite func(file string, v any) (any, error)
	rewrite = func(file string, v any) (any, error) {
		switch x := v.(type) {
		case map[string]any:
			m := make(map[string]any, len(x))
			for k, e := range x {
				if ref, ok := e.(string); ok && k == "$ref" {
					f, frag, _ := strings.Cut(ref, "#")
					if f == "" {
						f = file
					}
					name, ok := strings.CutPrefix(frag, "/components/schemas/")
					if !ok {
						return nil, fmt.Errorf("%s: unsupported $ref %q", file, ref)
					}
					if err := visit(f, name); err != nil {
						return nil, err
					}
					m[k] = "#/components/schemas/" + bundleKey(f, name)
					continue
				}
				r, err := rewrite(file, e)
				if err != nil {
					return nil, err
				}
				m[k] = r
			}
			return m, nil
		case []any:
			s := make([]any, len(x))
			for i, e := range x {
				r, err := rewrite(file, e)
				if err != nil {
					return nil, err
				}
				s[i] = r
			}
			return s, nil
		}
		return v, nil
	}
	visit = func(file, name string) error {
		key := bundleKey(file, name)
		if _, ok := out[key]; ok {
			return nil
		}
		schemas, err := load(file)
		if err != nil {
			return err
		}
		s, ok := schemas[name]
		if !ok {
			return fmt.Errorf("%s: no schema %s", file, name)
		}
		out[key] = nil // mark before recursing: schemas are recursive
		r, err := rewrite(file, s)
		if err != nil {
			return err
		}
		out[key] = r
		return nil
	}
	for _, r := range bundleRoots {
		if err := visit(r[0], r[1]); err != nil {
			return nil, err
		}
	}
	doc := map[string]any{
		"openapi": "3.0.0",
		"info": map[string]any{
			"title":   "Schemas of Nchf_ConvergedCharging reachable from its messages",
			"version": "3.2.0-alpha.4",
			"description": "Extracted from 3GPP TS 32.291 V18.4.0 and the definitions it references " +
				"(TS 29.571 and others). © 3GPP Organizational Partners (ARIB, ATIS, CCSA, ETSI, TSDSI, TTA, TTC). " +
				"All rights reserved. Schema names are <file>.<schema>; see README.md.",
		},
		"paths":      map[string]any{},
		"components": map[string]any{"schemas": out},
	}
	b, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// TestSchemaBundle checks that testdata/3gpp matches shared/3gpp (rewriting
// it with -update); it skips where shared/ is absent, as in a user's clone.
func TestSchemaBundle(t *testing.T) {
	dir := specDir()
	if _, err := os.Stat(filepath.Join(dir, "TS32291_Nchf_ConvergedCharging.yaml")); err != nil {
		t.Skipf("full 3GPP definitions not found in %s (set TOLLGATE_3GPP_DIR): %v", dir, err)
	}
	b, err := buildBundle(dir)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(bundlePath, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(b, readFile(t, bundlePath)) {
		t.Errorf("%s is out of date with %s; run go test -run TestSchemaBundle -update", bundlePath, dir)
	}
}

type schemaSet struct {
	doc *openapi3.T
}

func loadSchemas(t *testing.T) schemaSet {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(readFile(t, bundlePath))
	if err != nil {
		t.Fatal(err)
	}
	return schemaSet{doc}
}

// validate checks data against the schema file#name.
func (s schemaSet) validate(t *testing.T, file, name string, data []byte) error {
	t.Helper()
	ref := s.doc.Components.Schemas[bundleKey(file, name)]
	if ref == nil || ref.Value == nil {
		t.Fatalf("no schema %s in the bundle", bundleKey(file, name))
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	return ref.Value.VisitJSON(v, openapi3.EnableFormatValidation(), openapi3.MultiErrors())
}

const (
	nchfYAML   = "TS32291_Nchf_ConvergedCharging.yaml"
	commonYAML = "TS29571_CommonData.yaml"
)

func TestEncodedMessagesMatchSchemas(t *testing.T) {
	s := loadSchemas(t)
	responses := map[string]*ChargingDataResponse{
		"sample":  sampleResponse(),
		"minimal": {InvocationTimeStamp: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
		"error": {InvocationTimeStamp: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), InvocationSequenceNumber: 4294967295,
			InvocationResult: &InvocationResult{Error: ptr(ChargingFailed("no tariff")), FailureHandling: FailureHandlingRetryAndTerminate}},
		"max volumes": {InvocationTimeStamp: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
			MultipleUnitInformation: []MultipleUnitInformation{{RatingGroup: 4294967295, ResultCode: ResultCodeSuccess,
				GrantedUnit: &GrantedUnit{TotalVolume: 1<<64 - 1, UplinkVolume: 1 << 63, Time: 4294967295}, VolumeQuotaThreshold: 1<<64 - 1}}},
	}
	var update ChargingDataRequest
	if err := DecodeChargingDataRequest(readFile(t, "testdata/requests/smf_update.json"), &update); err != nil {
		t.Fatal(err)
	}
	update.PDUSessionChargingInformation.UserInformation.ServedGPSI = "msisdn-8613800138000"
	responses["echoing pdu session information"] = &ChargingDataResponse{InvocationTimeStamp: update.InvocationTimeStamp,
		PDUSessionChargingInformation: update.PDUSessionChargingInformation}
	for name, r := range responses {
		if err := s.validate(t, nchfYAML, "ChargingDataResponse", AppendChargingDataResponse(nil, r)); err != nil {
			t.Errorf("ChargingDataResponse %s: %v", name, err)
		}
	}
	for _, n := range []*ChargingNotifyRequest{
		{NotificationType: NotificationTypeAbortCharging},
		{NotificationType: NotificationTypeReauthorization, ReauthorizationDetails: []ReauthorizationDetails{{RatingGroup: 10}, {ServiceId: 1, RatingGroup: 20, QuotaManagementIndicator: QuotaManagementIndicatorOnlineCharging}}},
	} {
		if err := s.validate(t, nchfYAML, "ChargingNotifyRequest", AppendChargingNotifyRequest(nil, n)); err != nil {
			t.Errorf("ChargingNotifyRequest %+v: %v", n, err)
		}
	}
	if err := s.validate(t, nchfYAML, "ChargingNotifyResponse", AppendChargingNotifyResponse(nil, &ChargingNotifyResponse{InvocationResult: &InvocationResult{FailureHandling: FailureHandlingContinue}})); err != nil {
		t.Errorf("ChargingNotifyResponse: %v", err)
	}
	// Every problem the codec and the constructors produce.
	problems := []ProblemDetails{ChargingFailed("x"), ChargingNotApplicable("x"), UserUnknown("x"), QuotaLimitReached("x"),
		EndUserRequestDenied("x"), SessionNotFound("ref"), SystemFailure("x")}
	for _, body := range []string{``, `{`, `[]`, `{"invocationTimeStamp":1}`, `{"invocationTimeStamp":"2025-01-01T00:00:00Z"}`,
		`{"nfConsumerIdentification":{"nodeFunctionality":"SMF"},"invocationTimeStamp":"2025-01-01T00:00:00Z","invocationSequenceNumber":-1}`} {
		var req ChargingDataRequest
		problems = append(problems, ProblemOf(DecodeChargingDataRequest([]byte(body), &req)))
	}
	problems = append(problems, ProblemOf(Decoder{Limits: Limits{MaxBytes: 1}}.DecodeChargingDataRequest([]byte(`{}`), new(ChargingDataRequest))))
	for _, p := range problems {
		if err := s.validate(t, commonYAML, "ProblemDetails", AppendProblemDetails(nil, &p)); err != nil {
			t.Errorf("ProblemDetails %+v: %v", p, err)
		}
	}
	// Our request encoding (used by load generators) of every sample.
	for _, file := range requestFiles(t) {
		var req ChargingDataRequest
		if err := DecodeChargingDataRequest(readFile(t, file), &req); err != nil {
			t.Fatal(err)
		}
		if err := s.validate(t, nchfYAML, "ChargingDataRequest", AppendChargingDataRequest(nil, &req)); err != nil {
			t.Errorf("ChargingDataRequest %s: %v", filepath.Base(file), err)
		}
	}
}

// TestSchemasRejectBadMessages shows that the validation has teeth.
func TestSchemasRejectBadMessages(t *testing.T) {
	s := loadSchemas(t)
	for _, bad := range []string{
		`{"invocationSequenceNumber":1}`,
		`{"invocationTimeStamp":"yesterday","invocationSequenceNumber":1}`,
		`{"invocationTimeStamp":"2025-01-01T00:00:00Z","invocationSequenceNumber":-1}`,
		`{"invocationTimeStamp":"2025-01-01T00:00:00Z","invocationSequenceNumber":1,"multipleUnitInformation":[{"grantedUnit":{}}]}`,
		`{"invocationTimeStamp":"2025-01-01T00:00:00Z","invocationSequenceNumber":1,"multipleUnitInformation":[{"ratingGroup":1,"grantedUnit":{"totalVolume":-1}}]}`,
		`{"invocationTimeStamp":"2025-01-01T00:00:00Z","invocationSequenceNumber":1,"multipleUnitInformation":[{"ratingGroup":1,"finalUnitIndication":{}}]}`,
	} {
		if err := s.validate(t, nchfYAML, "ChargingDataResponse", []byte(bad)); err == nil {
			t.Errorf("schema accepted %s", bad)
		}
	}
}

// TestEnumsMatchSpec checks enums.go against the enumerations of the spec.
func TestEnumsMatchSpec(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				AnyOf []struct {
					Enum []string `json:"enum"`
				} `json:"anyOf"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(readFile(t, bundlePath), &doc); err != nil {
		t.Fatal(err)
	}
	names := []string{"NodeFunctionality", "TriggerType", "TriggerCategory", "QuotaManagementIndicator", "ResultCode",
		"FinalUnitAction", "RedirectAddressType", "FailureHandling", "SessionFailover", "NotificationType", "oneTimeEventType",
		"ChargingCharacteristicsSelectionMode", "dnnSelectionMode", "RoamerInOut", "SMMessageType", "SMPriority",
		"DeliveryReportRequested", "InterfaceType", "ClassIdentifier", "SMAddressType", "SMServiceType", "ReplyPathRequested"}
	spec := map[string]bool{}
	add := func(key string) {
		s, ok := doc.Components.Schemas[key]
		if !ok {
			t.Fatalf("no enumeration %s in the bundle", key)
		}
		for _, a := range s.AnyOf {
			for _, v := range a.Enum {
				// Erratum: a missing line break in TriggerType's list.
				for _, part := range strings.Split(v, "            - ") {
					spec[strings.TrimSpace(part)] = true
				}
			}
		}
	}
	for _, n := range names {
		add(bundleKey(nchfYAML, n))
	}
	for _, n := range []string{"RatType", "PduSessionType", "SscMode"} {
		add(bundleKey(commonYAML, n))
	}
	var missing, extra []string
	ours := map[string]bool{}
	for _, v := range enumValues {
		ours[v] = true
		if !spec[v] {
			extra = append(extra, v)
		}
	}
	for v := range spec {
		if !ours[v] {
			missing = append(missing, v)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 || len(extra) > 0 {
		t.Errorf("enums.go differs from the spec: missing %q, not in the spec %q", missing, extra)
	}
}
