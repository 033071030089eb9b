package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/internal/api"
	"github.com/tollgate-billing/tollgate/internal/catalog"
	"github.com/tollgate-billing/tollgate/internal/rating"
	"github.com/tollgate-billing/tollgate/internal/store"
	"go.yaml.in/yaml/v3"
)

// testPlan has bands, tiers, an allowance and a percentage discount.
const testPlan = `
id: test-mobile
name: Test mobile
currency: EUR
timezone: Europe/Berlin
rounding: {scale: 2, mode: half_up}
zones:
  - {id: national, prefixes: ["49"]}
  - {id: mobile, prefixes: ["4915", "4916", "4917"]}
bands:
  - {id: weekend, days: [sat, sun]}
  - {id: peak, days: [mon, tue, wed, thu, fri], from: "08:00", to: "20:00"}
  - {id: offpeak, default: true}
rates:
  - id: voice-mobile-peak
    service: voice
    zone: mobile
    band: peak
    connect_fee: "0.05"
    increments: {first: 60, next: 60}
    price: "0.12"
    per: 60
  - {id: voice-mobile-offpeak, service: voice, zone: mobile, band: offpeak, increments: {first: 60, next: 60}, price: "0.06", per: 60}
  - {id: voice-other, service: voice, increments: {first: 60, next: 60}, price: "0.20", per: 60}
  - id: data
    service: data
    increments: {first: 1024, next: 1024}
    tier_basis: period
    tiers:
      - {upto: 1073741824, price: "0.01", per: 1048576}
      - {price: "0.005", per: 1048576}
  - {id: sms, service: sms, price: "0.09"}
discounts:
  - {id: free-sms, type: allowance, service: sms, units: 10, period: month}
  - {id: weekend-voice, type: percentage, service: voice, bands: [weekend], percent: "50"}
`

type env struct {
	t   testing.TB
	srv *httptest.Server
	api *api.API
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "t.db"), Migrate: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	eng := rating.NewEngine()
	cat := catalog.New(catalog.Config{Store: st, Engine: eng})
	if err := cat.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	a := api.New(api.Config{Accounts: st, Subscribers: st, Assignments: st, Plans: st, Catalog: cat, Rater: eng,
		Now: func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) }})
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, api: a}
}

// do sends a request and decodes the JSON answer into a map.
func (e *env) do(method, path, ctype, body string) (int, map[string]any) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			e.t.Fatalf("%s %s: answer is not a JSON object: %v\n%s", method, path, err, raw)
		}
	}
	return resp.StatusCode, m
}

func (e *env) must(want int, method, path, ctype, body string) map[string]any {
	e.t.Helper()
	code, m := e.do(method, path, ctype, body)
	if code != want {
		e.t.Fatalf("%s %s = %d, want %d: %v", method, path, code, want, m)
	}
	return m
}

const js = "application/json"

func errCode(m map[string]any) (code, field string) {
	e, _ := m["error"].(map[string]any)
	code, _ = e["code"].(string)
	field, _ = e["field"].(string)
	return code, field
}

// TestEndToEnd creates a plan with bands, tiers and discounts, an account
// with a subscriber, assigns the plan and rates events through the API,
// checking amounts computed by hand and their explanations.
func TestEndToEnd(t *testing.T) {
	e := newEnv(t)
	m := e.must(201, "POST", "/api/v1/plans", "application/yaml", testPlan)
	if m["version"].(float64) != 1 || m["source"] != "api" {
		t.Fatalf("plan answer: %v", m)
	}
	// The same document again stores nothing.
	m = e.must(200, "POST", "/api/v1/plans", "application/yaml", testPlan)
	if m["version"].(float64) != 1 {
		t.Fatalf("idempotent plan upload made version %v", m["version"])
	}

	e.must(201, "POST", "/api/v1/accounts", js, `{"id":"acme-001","name":"ACME","type":"prepaid","currency":"EUR","credit_limit":"0"}`)
	e.must(200, "POST", "/api/v1/accounts", js, `{"id":"acme-001","name":"ACME","type":"prepaid","currency":"EUR","credit_limit":"0"}`)
	sub := e.must(201, "POST", "/api/v1/accounts/acme-001/subscribers", js, `{"msisdn":"+491701234567","imsi":"262011234567890"}`)
	if sub["msisdn"] != "491701234567" || sub["account_id"] != "acme-001" {
		t.Fatalf("subscriber: %v", sub)
	}
	e.must(201, "POST", "/api/v1/accounts/acme-001/plan-assignments", js, `{"plan_id":"test-mobile","valid_from":"2026-01-01T00:00:00Z"}`)

	// Friday 19:58:30 Berlin, 300 s to a mobile number: 90 s peak at 0.12/min
	// = 0.18, 210 s off-peak at 0.06/min = 0.21, connect fee 0.05 → 0.44.
	r := e.must(200, "POST", "/api/v1/rate", js, `{"subscriber":{"msisdn":"491701234567"},"service":"voice",
		"destination":"+4915112345678","start":"2026-11-20T19:58:30+01:00","quantity":"5m"}`)
	if r["amount"] != "0.44" || r["units"].(float64) != 300 || r["zone"] != "mobile" || r["band"] != "peak" {
		t.Fatalf("voice split: %v", r)
	}
	if r["account_id"] != "acme-001" || r["subscriber_id"] != sub["id"] {
		t.Fatalf("voice owner: %v", r)
	}
	bands := map[string]bool{}
	for _, l := range r["lines"].([]any) {
		line := l.(map[string]any)
		if line["kind"] == "tier" {
			bands[line["band"].(string)] = true
		}
	}
	if !bands["peak"] || !bands["offpeak"] {
		t.Fatalf("explanation lacks the band split: %v", r["lines"])
	}

	// Saturday, national: 120 s at 0.20/min = 0.40, weekend discount 50 % → 0.20.
	r = e.must(200, "POST", "/api/v1/rate", js, `{"account_id":"acme-001","service":"voice","destination":"0049301234567",
		"start":"2026-11-21T10:00:00+01:00","quantity":120}`)
	if r["amount"] != "0.20" || r["zone"] != "national" {
		t.Fatalf("weekend discount: %v", r)
	}

	// Data: 10 MiB in the first tier at 0.01 per MiB = 0.10.
	r = e.must(200, "POST", "/api/v1/rate", js, `{"plan_id":"test-mobile","service":"data","start":"2026-11-20T10:00:00Z","quantity":"10MiB"}`)
	if r["amount"] != "0.10" {
		t.Fatalf("data: %v", r)
	}

	// SMS: free while the allowance lasts; charged once 10 are used.
	r = e.must(200, "POST", "/api/v1/rate", js, `{"plan_id":"test-mobile","service":"sms","start":"2026-11-20T10:00:00Z","quantity":1}`)
	if r["amount"] != "0.00" || r["free_units"].(float64) != 1 {
		t.Fatalf("free sms: %v", r)
	}
	deltas := r["deltas"].([]any)
	period := int64(deltas[0].(map[string]any)["period_start"].(float64))
	if want := time.Date(2026, 11, 1, 0, 0, 0, 0, mustLoc(t, "Europe/Berlin")).Unix(); period != want {
		t.Fatalf("allowance period start %d, want %d", period, want)
	}
	body, _ := json.Marshal(map[string]any{"plan_id": "test-mobile", "service": "sms", "start": "2026-11-20T10:00:00Z", "quantity": 1,
		"counters": []any{map[string]any{"id": "free-sms", "period_start": period, "units": 10}}})
	r = e.must(200, "POST", "/api/v1/rate", js, string(body))
	if r["amount"] != "0.09" {
		t.Fatalf("sms after allowance: %v", r)
	}

	// The plan in force, and its history.
	as := e.must(200, "GET", "/api/v1/accounts/acme-001/plan?at=2026-06-01T00:00:00Z", "", "")
	if as["plan_id"] != "test-mobile" {
		t.Fatalf("plan at: %v", as)
	}
}

func TestErrors(t *testing.T) {
	e := newEnv(t)
	// A bad plan: every problem listed with its field path; nothing stored.
	bad := strings.Replace(testPlan, `price: "0.12"`, `price: "-0.12"`, 1)
	bad = strings.Replace(bad, "currency: EUR", "currency: EURO", 1)
	code, m := e.do("POST", "/api/v1/plans", "application/yaml", bad)
	c, _ := errCode(m)
	details := m["error"].(map[string]any)["details"].([]any)
	if code != 400 || c != "invalid_argument" || len(details) < 2 {
		t.Fatalf("bad plan: %d %v", code, m)
	}
	fields := ""
	for _, d := range details {
		fields += d.(map[string]any)["field"].(string) + " "
	}
	if !strings.Contains(fields, "currency") || !strings.Contains(fields, "rates[0]") {
		t.Fatalf("bad plan fields: %s", fields)
	}
	e.must(404, "GET", "/api/v1/plans/test-mobile", "", "")

	// Unknown key in a plan.
	code, m = e.do("POST", "/api/v1/plans", "application/yaml", testPlan+"\nfoo: 1\n")
	if c, _ := errCode(m); code != 400 || c != "invalid_argument" {
		t.Fatalf("unknown plan key: %d %v", code, m)
	}

	// Bad account fields, each named.
	code, m = e.do("POST", "/api/v1/accounts", js, `{"type":"prepay","currency":"EUR","credit_limit":"1.2.3"}`)
	c, f := errCode(m)
	if code != 400 || c != "invalid_argument" || (f != "type" && f != "credit_limit") {
		t.Fatalf("bad account: %d %v", code, m)
	}
	code, m = e.do("POST", "/api/v1/accounts", js, `{"type":"prepaid","currency":"EUR","bogus":1}`)
	if c, f := errCode(m); code != 400 || c != "invalid_argument" || f != "bogus" {
		t.Fatalf("unknown field: %d %v", code, m)
	}
	code, m = e.do("POST", "/api/v1/accounts", js, `{"type":"prepaid","currency":"EUR","billing_day":"x"}`)
	if c, f := errCode(m); code != 400 || c != "invalid_argument" || f != "billing_day" {
		t.Fatalf("wrong type: %d %v", code, m)
	}
	code, m = e.do("POST", "/api/v1/accounts", js, `{"type":`)
	if c, _ := errCode(m); code != 400 || c != "invalid_argument" {
		t.Fatalf("truncated: %d %v", code, m)
	}
	code, m = e.do("POST", "/api/v1/accounts", "text/plain", `{}`)
	if c, _ := errCode(m); code != 415 || c != "unsupported_media_type" {
		t.Fatalf("media type: %d %v", code, m)
	}

	// 404s.
	code, m = e.do("GET", "/api/v1/accounts/nope", "", "")
	if c, _ := errCode(m); code != 404 || c != "not_found" {
		t.Fatalf("missing account: %d %v", code, m)
	}
	code, m = e.do("GET", "/api/v1/nothing-here", "", "")
	if c, _ := errCode(m); code != 404 || c != "not_found" {
		t.Fatalf("missing route: %d %v", code, m)
	}

	// 409: same id, different content; stale version.
	e.must(201, "POST", "/api/v1/accounts", js, `{"id":"a1","name":"A1","type":"prepaid","currency":"EUR"}`)
	code, m = e.do("POST", "/api/v1/accounts", js, `{"id":"a1","name":"A1","type":"postpaid","currency":"EUR"}`)
	if c, _ := errCode(m); code != 409 || c != "conflict" {
		t.Fatalf("conflict: %d %v", code, m)
	}
	e.must(200, "PATCH", "/api/v1/accounts/a1", js, `{"name":"renamed","version":1}`)
	code, m = e.do("PATCH", "/api/v1/accounts/a1", js, `{"name":"again","version":1}`)
	if c, _ := errCode(m); code != 409 || c != "stale_version" {
		t.Fatalf("stale: %d %v", code, m)
	}
	// Duplicate MSISDN across subscribers.
	e.must(201, "POST", "/api/v1/accounts/a1/subscribers", js, `{"msisdn":"491700000001"}`)
	code, m = e.do("POST", "/api/v1/accounts/a1/subscribers", js, `{"msisdn":"+491700000001","imsi":"262010000000001"}`)
	if c, _ := errCode(m); code != 409 || c != "conflict" {
		t.Fatalf("duplicate msisdn: %d %v", code, m)
	}
	// Account with subscribers cannot be deleted.
	code, m = e.do("DELETE", "/api/v1/accounts/a1", "", "")
	if c, _ := errCode(m); code != 409 || c != "in_use" {
		t.Fatalf("delete in use: %d %v", code, m)
	}

	// Rating failures: no plan assigned → 404; unknown service → 422.
	code, m = e.do("POST", "/api/v1/rate", js, `{"account_id":"a1","service":"voice","quantity":60}`)
	if c, _ := errCode(m); code != 404 || c != "not_found" {
		t.Fatalf("rate without plan: %d %v", code, m)
	}
	e.must(201, "POST", "/api/v1/plans", "application/yaml", testPlan)
	code, m = e.do("POST", "/api/v1/rate", js, `{"plan_id":"test-mobile","service":"telepathy","quantity":60}`)
	if c, _ := errCode(m); code != 422 || c != "rating_failed" {
		t.Fatalf("unknown service: %d %v", code, m)
	}
	code, m = e.do("POST", "/api/v1/rate", js, `{"plan_id":"test-mobile","service":"voice","quantity":-5}`)
	if c, f := errCode(m); code != 400 || c != "invalid_argument" || f != "quantity" {
		t.Fatalf("negative quantity: %d %v", code, m)
	}
}

func TestPlanVersionsAndReload(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/api/v1/plans", "application/yaml", testPlan)
	v2 := strings.Replace(testPlan, `price: "0.09"`, `price: "0.10"`, 1)
	e.must(201, "PUT", "/api/v1/plans/test-mobile", "application/yaml", v2)
	vs := e.must(200, "GET", "/api/v1/plans/test-mobile/versions", "", "")
	if n := len(vs["items"].([]any)); n != 2 {
		t.Fatalf("versions: %d", n)
	}
	// The engine rates with version 2 at once, no restart.
	r := e.must(200, "POST", "/api/v1/rate", js, `{"plan_id":"test-mobile","service":"sms","quantity":1,
		"counters":[{"id":"free-sms","period_start":1793487600,"units":10}]}`)
	if r["amount"] != "0.10" {
		t.Fatalf("after PUT: %v", r)
	}
	old := e.must(200, "GET", "/api/v1/plans/test-mobile/versions/1", "", "")
	if !strings.Contains(mustJSON(t, old["plan"]), `"0.09"`) {
		t.Fatalf("version 1 document: %v", old["plan"])
	}
	code, m := e.do("PUT", "/api/v1/plans/other-id", "application/yaml", v2)
	if c, f := errCode(m); code != 400 || f != "id" || c != "invalid_argument" {
		t.Fatalf("id mismatch: %d %v", code, m)
	}
	e.must(200, "POST", "/api/v1/plans:validate", "application/yaml", v2)
	e.must(200, "POST", "/api/v1/plans:reload", "", "")
	e.must(204, "DELETE", "/api/v1/plans/test-mobile", "", "")
	code, m = e.do("POST", "/api/v1/rate", js, `{"plan_id":"test-mobile","service":"sms","quantity":1}`)
	if c, _ := errCode(m); code != 422 || c != "rating_failed" {
		t.Fatalf("rating a deleted plan: %d %v", code, m)
	}
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	e := newEnv(t)
	doc := e.must(200, "GET", "/api/v1/openapi.json", "", "")
	paths := doc["paths"].(map[string]any)
	for _, pattern := range e.api.Routes() {
		method, path, _ := strings.Cut(pattern, " ")
		item, ok := paths[path].(map[string]any)
		if !ok {
			t.Errorf("route %s is not in the OpenAPI document", pattern)
			continue
		}
		if _, ok := item[strings.ToLower(method)]; !ok {
			t.Errorf("route %s: method not in the OpenAPI document", pattern)
		}
	}
	// And the document lists nothing the API does not serve.
	served := map[string]bool{}
	for _, p := range e.api.Routes() {
		method, path, _ := strings.Cut(p, " ")
		served[strings.ToLower(method)+" "+path] = true
	}
	for path, item := range paths {
		for method := range item.(map[string]any) {
			if method == "parameters" {
				continue
			}
			if !served[method+" "+path] {
				t.Errorf("the OpenAPI document has %s %s, which the API does not serve", method, path)
			}
		}
	}
}

func TestOpenAPIDocsCopy(t *testing.T) {
	docs, err := os.ReadFile("../../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(docs, api.OpenAPIYAML) {
		t.Fatal("docs/openapi.yaml differs from internal/api/openapi.yaml; copy it: cp internal/api/openapi.yaml docs/")
	}
	var v any
	if err := yaml.Unmarshal(docs, &v); err != nil {
		t.Fatal(err)
	}
}

// FuzzAPIJSON sends arbitrary bodies to every POST/PATCH endpoint: the API
// must answer with a JSON error or success, never a 5xx or a panic.
func FuzzAPIJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"id":"x","type":"prepaid","currency":"EUR"}`, `{"msisdn":"+49170"}`,
		`{"plan_id":"test-mobile","service":"voice","quantity":"5m","start":"2026-11-20T19:58:30+01:00"}`,
		`{"plan_id":"x","valid_from":"2026-01-01T00:00:00Z"}`, `[`, `{"quantity":18446744073709551616}`, `null`, testPlan} {
		f.Add(s)
	}
	e := newEnv(f)
	paths := []string{"/api/v1/accounts", "/api/v1/accounts/acc/subscribers", "/api/v1/accounts/acc/plan-assignments",
		"/api/v1/plans", "/api/v1/plans:validate", "/api/v1/rate"}
	f.Fuzz(func(t *testing.T, body string) {
		e.t = t
		for _, p := range paths {
			code, _ := e.do("POST", p, js, body)
			if code >= 500 {
				t.Fatalf("POST %s answered %d to %q", p, code, body)
			}
		}
		if code, _ := e.do("PATCH", "/api/v1/accounts/acc", js, body); code >= 500 {
			t.Fatalf("PATCH answered %d to %q", code, body)
		}
	})
}

func mustLoc(t *testing.T, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// BenchmarkRateEndpoint measures POST /api/v1/rate in process (JSON decode,
// plan resolution by plan_id, rating with explanation, JSON encode), without
// the network.
func BenchmarkRateEndpoint(b *testing.B) {
	e := newEnv(b)
	e.must(201, "POST", "/api/v1/plans", "application/yaml", testPlan)
	body := `{"plan_id":"test-mobile","service":"voice","destination":"+4915112345678","start":"2026-11-20T19:58:30+01:00","quantity":300}`
	h := e.api.Handler()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/api/v1/rate", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}
