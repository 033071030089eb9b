package rating

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"go.yaml.in/yaml/v3"
)

const examplesDir = "../../examples/plans"

func loadExamples(t testing.TB) []*Plan {
	t.Helper()
	plans, err := ParsePlanFiles(os.DirFS(examplesDir), ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) < 3 {
		t.Fatalf("found %d example plans, want ≥ 3", len(plans))
	}
	return plans
}

func TestExamplePlansLoad(t *testing.T) {
	plans := loadExamples(t)
	e := NewEngine()
	if err := e.Load(plans); err != nil {
		t.Fatal(err)
	}
	want := []string{"a2p-sms-jp", "chf-demo", "cloud-compute", "consumer-eu"}
	if got := e.PlanIDs(); !reflect.DeepEqual(got, want) {
		t.Fatalf("PlanIDs = %v, want %v", got, want)
	}
	if p, ok := e.Plan("consumer-eu"); !ok || p.Currency != "EUR" {
		t.Fatalf("Plan(consumer-eu) = %v, %v", p, ok)
	}
	if _, ok := e.Plan("nope"); ok {
		t.Fatal("Plan(nope) found")
	}
}

// TestPlanRoundTrip marshals every example to JSON and YAML and parses it
// back to an equal document (the admin API returns plans).
func TestPlanRoundTrip(t *testing.T) {
	for _, p := range loadExamples(t) {
		t.Run(p.ID, func(t *testing.T) {
			for _, format := range []string{"json", "yaml"} {
				var b []byte
				var err error
				if format == "json" {
					b, err = json.MarshalIndent(p, "", "  ")
				} else {
					b, err = yaml.Marshal(p)
				}
				if err != nil {
					t.Fatal(err)
				}
				q, err := ParsePlan(b)
				if err != nil {
					t.Fatalf("%s: reparse: %v\n%s", format, err, b)
				}
				q.lines, q.qtext = nil, nil
				p2 := *p
				p2.lines, p2.qtext = nil, nil
				if !reflect.DeepEqual(&p2, q) {
					t.Errorf("%s round trip differs:\n%s", format, b)
				}
			}
		})
	}
}

func TestJSONUnmarshalPlan(t *testing.T) {
	var p Plan
	doc := `{"id":"j","currency":"EUR","rates":[{"service":"data","price":"1.00","per":"1GiB","increments":{"first":1024,"next":"1KiB"}}]}`
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if p.Rates[0].Per != 1<<30 || p.Rates[0].Increments.Next != 1024 {
		t.Fatalf("quantities: %+v", p.Rates[0])
	}
}

func TestParsePlanStrict(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string // substrings of field errors: "path@line: msg"
	}{
		{"unknown key", "id: x\ncurrency: EUR\nratez: []\n", []string{"ratez@3: unknown field"}},
		{"unknown nested key with suggestion", "id: x\ncurrency: EUR\nrates:\n  - service: voice\n    prise: \"1\"\n",
			[]string{`rates[0].prise@5: unknown field "prise" (did you mean "price"?)`}},
		{"bad decimals all reported", "id: x\ncurrency: EUR\nrates:\n  - {service: voice, price: abc}\n  - {service: sms, price: 1e3, connect_fee: \"1,5\"}\n",
			[]string{"rates[0].price@4: invalid decimal", "rates[1].price@5: invalid decimal", "rates[1].connect_fee@5: invalid decimal"}},
		{"bad quantity", "id: x\ncurrency: EUR\nrates:\n  - {service: voice, price: \"1\", per: 1.5s}\n", []string{"rates[0].per@4: invalid quantity"}},
		{"wrong kind", "id: x\ncurrency: EUR\nzones: {id: a}\nrates: []\n", []string{"zones@3: want a list"}},
		{"duplicate key", "id: x\nid: y\ncurrency: EUR\n", []string{"id@2: field \"id\" is already set on line 1"}},
		{"type error", "id: x\ncurrency: EUR\nrounding: {scale: many}\nrates: []\n", []string{"@3: cannot unmarshal"}},
		{"syntax error", "id: x\n  currency: : EUR\n", []string{"@2: "}},
		{"empty", "", []string{"empty document"}},
		{"two documents", "id: x\n---\nid: y\n", []string{"exactly one YAML document"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePlan([]byte(tc.doc))
			if !errors.Is(err, ErrInvalidPlan) {
				t.Fatalf("err = %v, want ErrInvalidPlan", err)
			}
			got := fieldErrors(err)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in\n%s", w, got)
				}
			}
		})
	}
}

// fieldErrors renders the FieldErrors in err as "path@line: msg" lines.
func fieldErrors(err error) string {
	var b strings.Builder
	var walk func(error)
	walk = func(err error) {
		if fe, ok := err.(*FieldError); ok {
			b.WriteString(fe.Path + "@" + itoa(fe.Line) + ": " + fe.Msg + "\n")
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		if u := errors.Unwrap(err); u != nil {
			walk(u)
		}
	}
	walk(err)
	return b.String()
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

func TestValidate(t *testing.T) {
	// One document with many problems: every one is reported, with lines.
	doc := `id: Bad_ID
currency: XYZ
timezone: Mars/Olympus
rounding: {scale: 12, mode: sideways}
services:
  - {id: vm, unit: parsecs}
  - {id: sms, unit: byte}
zones:
  - {id: a, prefixes: ["49", "4x"]}
  - {id: b, prefixes: ["49"]}
  - {id: a, prefixes: []}
bands:
  - {id: peak, days: [mon, fun], from: "8:00", to: "20:00"}
  - {id: peak, dates: ["2026-02-30"]}
  - {id: none}
  - {id: d1, default: true}
  - {id: d2, default: true, days: [sat]}
rates:
  - {service: voice, zone: nowhere, band: never, price: "1"}
  - {service: voice, price: "-1", connect_fee: "0.0000000001", increments: {first: 0, next: 0}}
  - service: data
    tier_mode: stepped
    tier_basis: period
    tier_period: fortnight
    tiers:
      - {upto: 100, price: "1"}
      - {upto: 50, price: "1"}
      - {per: 1}
      - {upto: 10, price: "1"}
  - {service: sms, price: "1", tiers: [{price: "1"}]}
  - {service: sms}
  - {service: voice, price: "2"}
discounts:
  - {id: f, type: allowance, service: "*", units: 0}
  - {id: f, type: percentage, service: voice, percent: "150", valid_from: "2027-01-01", valid_until: "2026-01-01", period: month}
  - {id: c, type: cap, service: data, amount: "1.001", period: aeon}
  - {id: x, type: bogus}
  - {id: "tier:x", type: cap, amount: "-1", period: day, percent: "5"}
`
	p := new(Plan)
	if err := yaml.Unmarshal([]byte(doc), p); err != nil {
		t.Fatal(err)
	}
	// ParsePlan gives lines; Validate on a hand-built plan gives none.
	_, err := ParsePlan([]byte(doc))
	if !errors.Is(err, ErrInvalidPlan) {
		t.Fatalf("err = %v", err)
	}
	got := fieldErrors(err)
	want := []string{
		"id@1: invalid id",
		"currency@2: unknown ISO 4217 currency",
		"timezone@3: unknown IANA timezone",
		"rounding.scale@4: must be 0…9",
		"rounding.mode@4: unknown mode",
		"services[0].unit@6: unknown unit",
		"services[1].unit@7: built-in service \"sms\" is measured in message",
		"zones[0].prefixes[1]@9: invalid prefix",
		"zones[1].prefixes[0]@10: prefix \"49\" is already in zone \"a\"",
		"zones[2].id@11: duplicate zone",
		"zones[2].prefixes@11: at least one prefix",
		"bands[0].days[1]@13: unknown day",
		"bands[0].from@13: invalid time",
		"bands[1].id@14: duplicate band",
		"bands[1].dates[0]@14: invalid date",
		"bands[2]@15: band sets no condition",
		"bands[4]@17: the default band must not set",
		"bands@12: exactly one band must be marked default: true; 2 are",
		"rates[0].zone@19: unknown zone",
		"rates[0].band@19: unknown band",
		"rates[1].price@20: must not be negative",
		"rates[1].connect_fee@20: at most 9 fractional digits",
		"rates[1].increments.first@20: must be > 0",
		"rates[1].increments.next@20: must be > 0",
		"rates[2].tier_mode@22: unknown tier mode",
		"rates[2].tier_period@24: unknown period",
		"rates[2].tiers[1].upto@27: tiers must ascend",
		"rates[2].tiers[2].upto@28: required on every tier but the last",
		"rates[2].tiers[2].price@28: required",
		"rates[2].tiers[3].upto@29: the last tier must be unbounded",
		"rates[3].price@30: set either price",
		"rates[4]@31: a rate needs price or tiers",
		"discounts[0].service@34: an allowance needs a service",
		"discounts[0].units@34: must be > 0",
		"discounts[0].period@34: required",
		"discounts[1].id@35: duplicate discount",
		"discounts[1].percent@35: must be in (0, 100]",
		"discounts[1].valid_until@35: must be after valid_from",
		"discounts[1].period@35: not used by a percentage discount",
		"discounts[2].amount@36: at most 0 fractional digits", // XYZ is unknown: scale 0
		"discounts[2].period@36: unknown period",
		"discounts[3].type@37: unknown type",
		"discounts[4].id@38: invalid id",
		"discounts[4].amount@38: must not be negative",
		"discounts[4].percent@38: not used by a cap discount",
	}
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q", w)
		}
	}
	if t.Failed() {
		t.Logf("got:\n%s", got)
	}
	// Same problems without positions from Validate on a built plan.
	err = p.Validate()
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Line != 0 || !errors.Is(err, ErrInvalidPlan) {
		t.Fatalf("Validate: %v", err)
	}
}

func TestValidateRates(t *testing.T) {
	base := "id: x\ncurrency: EUR\nzones: [{id: n, prefixes: [\"49\"]}]\nbands: [{id: p, from: \"08:00\", to: \"20:00\"}, {id: o, default: true}]\nrates:\n"
	tests := []struct {
		name, rates, want string
	}{
		{"duplicate", "  - {service: sms, price: \"1\"}\n  - {service: sms, zone: \"*\", price: \"2\"}\n", "rates[1]@7: duplicate rate"},
		{"unreachable", "  - {service: sms, zone: n, price: \"1\"}\n  - {service: sms, zone: n, band: p, price: \"1\"}\n  - {service: sms, zone: n, band: o, price: \"1\"}\n", "rates[0]@6: unreachable"},
		{"tier periods differ", "  - {service: voice, zone: n, tier_basis: period, tier_period: day, price: \"1\"}\n  - {service: voice, tier_basis: period, price: \"1\"}\n", "rates[1].tier_period@7: every period-basis rate"},
		{"tier period without basis", "  - {service: sms, tier_period: day, price: \"1\"}\n", "rates[0].tier_period@6: only with tier_basis: period"},
		{"unknown service", "  - {service: fax, price: \"1\"}\n", "rates[0].service@6: unknown service"},
		{"per with tiers", "  - {service: sms, per: 2, tiers: [{price: \"1\"}]}\n", "rates[0].per@6: per belongs to each tier"},
		{"bad tier basis", "  - {service: sms, tier_basis: forever, price: \"1\"}\n", "rates[0].tier_basis@6: unknown tier basis"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePlan([]byte(base + tc.rates))
			if got := fieldErrors(err); !strings.Contains(got, tc.want) {
				t.Fatalf("missing %q in\n%s", tc.want, got)
			}
		})
	}
}

func TestValidateBands(t *testing.T) {
	ok := []string{
		`[{id: n, from: "22:00", to: "06:00"}, {id: d, default: true}]`,
		`[{id: n, from: "20:00", to: "24:00"}, {id: d, default: true}]`,
		`[{id: n, from: "20:00", to: "00:00"}, {id: d, default: true}]`,
		`[{id: h, dates: ["02-29", "2028-02-29"]}, {id: d, default: true}]`,
		`[{id: w, days: [Saturday, SUN]}, {id: d, default: true}]`,
	}
	bad := map[string]string{
		`[{id: n, from: "22:00"}, {id: d, default: true}]`:                  "bands[0].to",
		`[{id: n, from: "00:00", to: "24:00"}, {id: d, default: true}]`:     "covers the whole day",
		`[{id: n, from: "10:00", to: "10:00"}, {id: d, default: true}]`:     "covers the whole day",
		`[{id: n, from: "24:00", to: "10:00"}, {id: d, default: true}]`:     "bands[0].from",
		`[{id: n, from: "10:60", to: "11:00"}, {id: d, default: true}]`:     "bands[0].from",
		`[{id: n, days: [mon, mon]}, {id: d, default: true}]`:               "listed twice",
		`[{id: n, days: [mon]}]`:                                            "exactly one band",
		`[{id: h, dates: ["2026-13-01", "13-01"]}, {id: d, default: true}]`: "invalid date",
	}
	for i, b := range ok {
		doc := "id: x\ncurrency: EUR\nbands: " + b + "\nrates: [{service: sms, price: \"1\"}]\n"
		if _, err := ParsePlan([]byte(doc)); err != nil {
			t.Errorf("ok[%d]: %v", i, err)
		}
	}
	for b, want := range bad {
		doc := "id: x\ncurrency: EUR\nbands: " + b + "\nrates: [{service: sms, price: \"1\"}]\n"
		_, err := ParsePlan([]byte(doc))
		if got := fieldErrors(err); !strings.Contains(got, want) {
			t.Errorf("%s: missing %q in\n%s", b, want, got)
		}
	}
}

func TestParsePlanFiles(t *testing.T) {
	fsys := fstest.MapFS{
		"plans/a.yaml":    {Data: []byte("id: a\ncurrency: EUR\nrates: [{service: sms, price: \"1\"}]\n")},
		"plans/b.json":    {Data: []byte(`{"id": "b", "currency": "USD", "rates": [{"service": "sms", "price": "0.5"}]}`)},
		"plans/c.yml":     {Data: []byte("id: c\ncurrency: EUR\nrates: [{service: sms, price: \"-1\"}]\n")},
		"plans/README.md": {Data: []byte("# not a plan")},
	}
	plans, err := ParsePlanFiles(fsys, "plans")
	if len(plans) != 2 || !errors.Is(err, ErrInvalidPlan) || !strings.Contains(err.Error(), "plans/c.yml") {
		t.Fatalf("plans %d, err %v", len(plans), err)
	}
}

func TestAliasesAndMerge(t *testing.T) {
	doc := `
id: alias
currency: EUR
x-tiers: &tiers
  - {upto: 10, price: "1"}
  - {price: "0.5"}
rates:
  - &base {service: sms, tiers: *tiers}
  - {<<: *base, service: mms}
`
	// x-tiers is not a plan field: strictness wins over convenience.
	if _, err := ParsePlan([]byte(doc)); !strings.Contains(fieldErrors(err), "x-tiers") {
		t.Fatalf("err = %v", err)
	}
	doc = strings.Replace(doc, "x-tiers: &tiers\n  - {upto: 10, price: \"1\"}\n  - {price: \"0.5\"}\n", "", 1)
	doc = strings.Replace(doc, "tiers: *tiers", "tiers: &tiers [{upto: 10, price: \"1\"}, {price: \"0.5\"}]", 1)
	p, err := ParsePlan([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Rates) != 2 || p.Rates[1].Service != "mms" || len(p.Rates[1].Tiers) != 2 {
		t.Fatalf("rates: %+v", p.Rates)
	}
	// A billion-laughs document is refused quickly.
	bomb := "id: b\ncurrency: EUR\na: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for i := range 8 {
		n := string(rune('b' + i))
		bomb += n + ": &" + n + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n"
		prev = n
	}
	if _, err := ParsePlan([]byte(bomb)); !errors.Is(err, ErrInvalidPlan) {
		t.Fatalf("bomb: %v", err)
	}
}

// TestNoFloat is the house rule of DESIGN §2.2: money is never binary
// floating point. The package source must not mention the type.
func TestNoFloat(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	bad := "float" + "64"
	bad32 := "float" + "32"
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), bad) || strings.Contains(string(b), bad32) {
			t.Errorf("%s mentions binary floating point", f)
		}
	}
}

// TestQuantityUnitMatchesService: a quantity written with a unit must be in
// the unit of the rate's service.
func TestQuantityUnitMatchesService(t *testing.T) {
	base := "id: q\ncurrency: EUR\nrates:\n  - {service: data, price: \"0.01\", per: %s}\n  - {service: voice, price: \"0.10\", per: %s, increments: {first: %s, next: 1}}\n"
	for _, tc := range []struct {
		dataPer, voicePer, first string
		bad                      string
	}{
		{"1MiB", "1m", "30s", ""},
		{"1048576", "60", "30", ""},
		{"1m", "1m", "30s", "rates[0].per"},
		{"1MiB", "1KiB", "30s", "rates[1].per"},
		{"1MiB", "60", "1KiB", "rates[1].increments.first"},
	} {
		_, err := ParsePlan([]byte(fmt.Sprintf(base, tc.dataPer, tc.voicePer, tc.first)))
		switch {
		case tc.bad == "" && err != nil:
			t.Errorf("%+v: %v", tc, err)
		case tc.bad != "" && (err == nil || !strings.Contains(err.Error(), tc.bad)):
			t.Errorf("%+v: error %v, want one about %s", tc, err, tc.bad)
		}
	}
	allowance := "id: q\ncurrency: EUR\nrates: [{service: voice, price: \"0.1\"}]\ndiscounts: [{id: free, type: allowance, service: voice, units: %s, period: month}]\n"
	if _, err := ParsePlan([]byte(fmt.Sprintf(allowance, "100m"))); err != nil {
		t.Errorf("100m of voice: %v", err)
	}
	if _, err := ParsePlan([]byte(fmt.Sprintf(allowance, "1GiB"))); err == nil || !strings.Contains(err.Error(), "discounts[0].units") {
		t.Errorf("1GiB of voice: %v", err)
	}
}
