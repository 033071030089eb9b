package chf_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/internal/balance"
	"github.com/tollgate-billing/tollgate/internal/chf"
	"github.com/tollgate-billing/tollgate/internal/config"
	"github.com/tollgate-billing/tollgate/internal/money"
	"github.com/tollgate-billing/tollgate/internal/nchf"
	"github.com/tollgate-billing/tollgate/internal/rating"
)

// fakeBalances grants everything and counts the operations applied.
type fakeBalances struct {
	mu  sync.Mutex
	ops int
}

// Txn runs fn at once: the fake has no partitions.
func (f *fakeBalances) Txn(_ context.Context, _ string, fn func(balance.Doer) error) error {
	return fn(f)
}

func (f *fakeBalances) Do(_ context.Context, op *balance.Op) (balance.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops++
	return balance.Result{Kind: op.Kind, GrantedAmount: op.Amount}, nil
}

type fakeRater struct{}

func (fakeRater) Rate(ev *rating.Event, res *rating.Result) error {
	res.Amount = money.MustParse("0.01")
	return nil
}

type fakeDirectory struct{}

func (fakeDirectory) Lookup(_ context.Context, supi string, _ time.Time) (chf.Subscription, error) {
	cur, _ := money.LookupCurrency("EUR")
	return chf.Subscription{SUPI: supi, AccountID: "a", Currency: cur, PlanID: "p", Active: true}, nil
}

type memSessions struct{ sync.Map }

func (m *memSessions) Save(_ context.Context, _ balance.Doer, s *chf.Session) error {
	m.Store(s.Ref, s)
	return nil
}
func (m *memSessions) Delete(_ context.Context, _ balance.Doer, s *chf.Session) error {
	m.Map.Delete(s.Ref)
	return nil
}
func (m *memSessions) Load(context.Context, func(*chf.Session) error) error {
	return nil
}

// FuzzHandler sends arbitrary bodies to every route: the answer is a
// well-formed ChargingDataResponse or ProblemDetails, never a panic, and a
// refused request applies no balance operation.
func FuzzHandler(f *testing.F) {
	for _, dir := range []string{"../../examples", "../nchf/testdata/requests"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				for _, path := range []uint8{0, 1, 2} {
					f.Add(path, b)
				}
			}
		}
	}
	f.Add(uint8(0), []byte(`{}`))
	f.Add(uint8(1), []byte(`{"invocationSequenceNumber":-1}`))
	bal := &fakeBalances{}
	svc, err := chf.New(chf.Config{CHF: config.Default().CHF, Balances: bal, Rater: fakeRater{},
		Directory: fakeDirectory{}, Sessions: &memSessions{}})
	if err != nil {
		f.Fatal(err)
	}
	h := svc.Handler()
	// One session to update and release.
	seed, _ := os.ReadFile("../../examples/nchf-create.json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/nchf-convergedcharging/v3/chargingdata", bytes.NewReader(seed)))
	if rec.Code != 201 {
		f.Fatalf("seed create: %d %s", rec.Code, rec.Body)
	}
	loc := rec.Header().Get("Location")
	ref := loc[len(loc)-32:]
	paths := []string{"/nchf-convergedcharging/v3/chargingdata", "/nchf-convergedcharging/v3/chargingdata/" + ref + "/update",
		"/nchf-convergedcharging/v3/chargingdata/" + ref + "/release"}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		bal.mu.Lock()
		before := bal.ops
		bal.mu.Unlock()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", paths[int(which)%len(paths)], bytes.NewReader(body)))
		bal.mu.Lock()
		applied := bal.ops - before
		bal.mu.Unlock()
		switch {
		case rec.Code >= 400:
			var p nchf.ProblemDetails
			if err := nchf.DecodeProblemDetails(rec.Body.Bytes(), &p); err != nil || p.Status != rec.Code {
				t.Fatalf("%d with a bad ProblemDetails (%v): %s", rec.Code, err, rec.Body)
			}
			if applied != 0 && rec.Code != http.StatusForbidden {
				t.Fatalf("%d answer after %d balance operations: %s", rec.Code, applied, rec.Body)
			}
		case rec.Code == http.StatusNoContent:
			if rec.Body.Len() != 0 {
				t.Fatalf("204 with a body")
			}
		default:
			var r nchf.ChargingDataResponse
			if err := nchf.DecodeChargingDataResponse(rec.Body.Bytes(), &r); err != nil {
				t.Fatalf("%d with a bad response (%v): %s", rec.Code, err, rec.Body)
			}
		}
	})
}
