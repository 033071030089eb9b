package rating

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/internal/money"
	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite the golden expected.json files of the scenario tests")

// scenario is the events.yaml of a case in testdata/scenarios.
type scenario struct {
	// Plan is the plan file relative to the case directory (default
	// plan.yaml).
	Plan string `yaml:"plan"`
	// Carry applies every result's deltas to a running counter state that
	// the next events see, like an account over a billing period.
	Carry bool `yaml:"carry"`
	// Counters is the initial counter state when Carry is set.
	Counters []scenarioCounter `yaml:"counters"`
	Events   []scenarioEvent   `yaml:"events"`
}

type scenarioEvent struct {
	Name        string            `yaml:"name"`
	Service     string            `yaml:"service"`
	Destination string            `yaml:"destination"`
	Start       time.Time         `yaml:"start"`
	Quantity    Quantity          `yaml:"quantity"`
	Counters    []scenarioCounter `yaml:"counters"`
}

type scenarioCounter struct {
	ID          string        `yaml:"id"`
	PeriodStart time.Time     `yaml:"period_start"`
	Units       uint64        `yaml:"units"`
	Amount      money.Decimal `yaml:"amount"`
}

type scenarioResult struct {
	Name   string  `json:"name"`
	Error  string  `json:"error,omitempty"`
	Result *Result `json:"result,omitempty"`
}

// TestScenarios rates the events of every testdata/scenarios/<case> and
// compares the results, with explanations, to the golden expected.json.
// Run with -update to rewrite the goldens, then review the diff by hand.
func TestScenarios(t *testing.T) {
	dirs, err := filepath.Glob("testdata/scenarios/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, "events.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			var sc scenario
			dec := yaml.NewDecoder(bytes.NewReader(raw))
			dec.KnownFields(true)
			if err := dec.Decode(&sc); err != nil {
				t.Fatalf("events.yaml: %v", err)
			}
			if sc.Plan == "" {
				sc.Plan = "plan.yaml"
			}
			doc, err := os.ReadFile(filepath.Join(dir, sc.Plan))
			if err != nil {
				t.Fatal(err)
			}
			p, err := ParsePlan(doc)
			if err != nil {
				t.Fatalf("%s: %v", sc.Plan, err)
			}
			e := NewEngine()
			if err := e.Load([]*Plan{p}); err != nil {
				t.Fatal(err)
			}
			var state []Counter
			for _, c := range sc.Counters {
				state = append(state, Counter{ID: c.ID, PeriodStart: c.PeriodStart.Unix(), Units: c.Units, Amount: c.Amount})
			}
			var out []scenarioResult
			for _, se := range sc.Events {
				ev := Event{PlanID: p.ID, Service: se.Service, Destination: se.Destination,
					Start: se.Start, Quantity: uint64(se.Quantity), Explain: true}
				ev.Counters = append(ev.Counters, state...)
				for _, c := range se.Counters {
					ev.Counters = append(ev.Counters, Counter{ID: c.ID, PeriodStart: c.PeriodStart.Unix(), Units: c.Units, Amount: c.Amount})
				}
				res := new(Result)
				sr := scenarioResult{Name: se.Name}
				if err := e.Rate(&ev, res); err != nil {
					sr.Error = err.Error()
				} else {
					sr.Result = res
					sumLines(t, res)
					if sc.Carry {
						state = applyDeltas(t, state, res.Deltas)
					}
				}
				out = append(out, sr)
			}
			got, err := json.MarshalIndent(out, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join(dir, "expected.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("results differ from %s (run with -update and review the diff):\n%s", golden, firstDiff(got, want))
			}
		})
	}
}

// applyDeltas adds deltas to the counter state the way a caller would.
func applyDeltas(t *testing.T, state, deltas []Counter) []Counter {
	t.Helper()
next:
	for _, d := range deltas {
		for i := range state {
			if state[i].ID == d.ID && state[i].PeriodStart == d.PeriodStart {
				state[i].Units += d.Units
				a, err := state[i].Amount.Add(d.Amount)
				if err != nil {
					t.Fatal(err)
				}
				state[i].Amount = a
				continue next
			}
		}
		state = append(state, d)
	}
	return state
}

func firstDiff(got, want []byte) string {
	gl := bytes.Split(got, []byte("\n"))
	wl := bytes.Split(want, []byte("\n"))
	for i := 0; i < len(gl) || i < len(wl); i++ {
		var g, w []byte
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if !bytes.Equal(g, w) {
			return "line " + itoa(i+1) + ":\n got:  " + string(g) + "\n want: " + string(w)
		}
	}
	return ""
}
