package api_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/tollgate-billing/tollgate/internal/account"
	"github.com/tollgate-billing/tollgate/internal/api"
)

// hooks records the API's calls of its Notifier.
type hooks struct {
	mu    sync.Mutex
	calls []string
}

func (h *hooks) BalanceRaised(_ context.Context, id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, "raised "+id)
}

func (h *hooks) AccountStatusChanged(_ context.Context, a account.Account) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, "status "+a.ID+" "+a.Status.String())
}

func (h *hooks) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.calls
	h.calls = nil
	return c
}

var _ api.Notifier = (*hooks)(nil)

// TestNotifyHooks: money that raises a balance (top-up, credit, positive
// adjustment, also when replayed) and a status change call the hooks before
// the answer; debits, negative adjustments, failures and updates that keep
// the status do not.
func TestNotifyHooks(t *testing.T) {
	h := &hooks{}
	e, _ := newBalanceEnv(t, func(c *api.Config) { c.Notify = h })
	e.must(201, "POST", "/api/v1/accounts", js, `{"id":"n1","name":"N1","type":"prepaid","currency":"EUR"}`)
	steps := []struct {
		status       int
		method, path string
		body         string
		want         []string
	}{
		{200, "POST", "/api/v1/accounts/n1/topups", `{"key":"t1","amount":"10.00"}`, []string{"raised n1"}},
		{200, "POST", "/api/v1/accounts/n1/topups", `{"key":"t1","amount":"10.00"}`, []string{"raised n1"}}, // replayed
		{200, "POST", "/api/v1/accounts/n1/credits", `{"key":"c1","amount":"1.00","reason":"goodwill"}`, []string{"raised n1"}},
		{200, "POST", "/api/v1/accounts/n1/adjustments", `{"key":"a1","amount":"0.50","reason":"fix"}`, []string{"raised n1"}},
		{200, "POST", "/api/v1/accounts/n1/adjustments", `{"key":"a2","amount":"-0.50","reason":"fix"}`, nil},
		{200, "POST", "/api/v1/accounts/n1/debits", `{"key":"d1","amount":"1.00"}`, nil},
		{404, "POST", "/api/v1/accounts/nobody/topups", `{"key":"t2","amount":"1.00"}`, nil},
		{200, "PATCH", "/api/v1/accounts/n1", `{"name":"renamed"}`, nil},
		{200, "PATCH", "/api/v1/accounts/n1", `{"status":"barred"}`, []string{"status n1 barred"}},
		{200, "PATCH", "/api/v1/accounts/n1", `{"status":"barred"}`, nil},
		{200, "PATCH", "/api/v1/accounts/n1", `{"status":"active"}`, []string{"status n1 active"}},
	}
	for i, s := range steps {
		e.must(s.status, s.method, s.path, js, s.body)
		if got := h.take(); !slices.Equal(got, s.want) {
			t.Fatalf("step %d %s %s %s: hooks %q, want %q", i, s.method, s.path, s.body, got, s.want)
		}
	}
}
