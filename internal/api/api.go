package api

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/tollgate-billing/tollgate/internal/account"
	"github.com/tollgate-billing/tollgate/internal/balance"
	"github.com/tollgate-billing/tollgate/internal/rating"
	"github.com/tollgate-billing/tollgate/internal/store"
	"go.yaml.in/yaml/v3"
)

// OpenAPIYAML is the OpenAPI 3.1 document of this API; it is served as JSON
// at /api/v1/openapi.json and docs/openapi.yaml is a copy kept equal by a
// test.
//
//go:embed openapi.yaml
var OpenAPIYAML []byte

// OpenAPIJSON returns the OpenAPI document converted to JSON.
func OpenAPIJSON() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(OpenAPIYAML, &doc); err != nil {
		return nil, fmt.Errorf("api: openapi.yaml: %w", err)
	}
	return json.Marshal(doc)
}

// AccountStore is what the API needs to manage accounts.
type AccountStore interface {
	CreateAccount(ctx context.Context, a account.Account) (account.Account, bool, error)
	GetAccount(ctx context.Context, id string) (account.Account, error)
	ListAccounts(ctx context.Context, opts store.ListOptions) ([]account.Account, string, error)
	UpdateAccount(ctx context.Context, a account.Account) (account.Account, error)
	DeleteAccount(ctx context.Context, id string) error
}

// SubscriberStore is what the API needs to manage subscribers.
type SubscriberStore interface {
	CreateSubscriber(ctx context.Context, s account.Subscriber) (account.Subscriber, bool, error)
	GetSubscriber(ctx context.Context, id string) (account.Subscriber, error)
	FindSubscriber(ctx context.Context, l store.Lookup) (account.Subscriber, error)
	ListSubscribers(ctx context.Context, accountID string, opts store.ListOptions) ([]account.Subscriber, string, error)
	UpdateSubscriber(ctx context.Context, s account.Subscriber) (account.Subscriber, error)
	DeleteSubscriber(ctx context.Context, id string) error
}

// AssignmentStore keeps the history of which plan applied to an account when.
type AssignmentStore interface {
	AssignPlan(ctx context.Context, accountID, planID string, validFrom time.Time) (account.Assignment, error)
	ListAssignments(ctx context.Context, accountID string) ([]account.Assignment, error)
	PlanAt(ctx context.Context, accountID string, t time.Time) (account.Assignment, error)
}

// PlanStore reads stored tariff plan versions.
type PlanStore interface {
	GetPlan(ctx context.Context, id string) (store.PlanRecord, error)
	GetPlanVersion(ctx context.Context, id string, version int) (store.PlanRecord, error)
	ListPlans(ctx context.Context) ([]store.PlanRecord, error)
	ListPlanVersions(ctx context.Context, id string) ([]store.PlanRecord, error)
}

// PlanCatalog changes the set of tariff plans: it validates, stores and
// loads them into the rating engine (see package catalog).
type PlanCatalog interface {
	Put(ctx context.Context, p *rating.Plan, source string) (store.PlanRecord, bool, error)
	Delete(ctx context.Context, id string) error
	Reload(ctx context.Context) error
}

// Rater rates one event (package rating's Engine).
type Rater interface {
	Rate(ev *rating.Event, res *rating.Result) error
	Plan(id string) (*rating.Plan, bool)
}

// Notifier hears about changes that open charging sessions must learn of:
// the CHF then notifies their consumers (REAUTHORIZATION, ABORT_CHARGING).
// Its methods are called after the change is durable, before the answer;
// they must not block on network I/O (they only queue work).
type Notifier interface {
	// BalanceRaised: a top-up, credit or positive adjustment was applied.
	BalanceRaised(ctx context.Context, accountID string)
	// AccountStatusChanged: an update changed the account's status.
	AccountStatusChanged(ctx context.Context, a account.Account)
}

// Config holds the API's collaborators.
type Config struct {
	Accounts    AccountStore
	Subscribers SubscriberStore
	Assignments AssignmentStore
	Plans       PlanStore
	Catalog     PlanCatalog
	Rater       Rater
	// Balances and Ledger are optional: without them the balance endpoints
	// answer 503.
	Balances Balances
	Ledger   LedgerReader
	// Notify is optional.
	Notify Notifier
	Logger *slog.Logger
	Now    func() time.Time
}

// API serves the admin REST API.
type API struct {
	Config
	log *slog.Logger
	now func() time.Time
	mux *http.ServeMux

	patterns []string
}

// New returns the API; Handler serves it.
func New(cfg Config) *API {
	a := &API{Config: cfg, log: cfg.Logger, now: cfg.Now, mux: http.NewServeMux()}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	a.routes()
	return a
}

// Handler returns the http.Handler for every route under /api/v1/.
func (a *API) Handler() http.Handler { return a.mux }

// Routes lists every "METHOD /path" pattern the API serves; a test checks
// each one is described in the OpenAPI document.
func (a *API) Routes() []string { return a.patterns }

func (a *API) handle(pattern string, h func(http.ResponseWriter, *http.Request) error) {
	a.patterns = append(a.patterns, pattern)
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.writeError(w, r, err)
		}
	})
}

func (a *API) routes() {
	doc, docErr := OpenAPIJSON()
	a.handle("GET /api/v1/openapi.json", func(w http.ResponseWriter, r *http.Request) error {
		if docErr != nil {
			return docErr
		}
		w.Header().Set("Content-Type", "application/json")
		_, err := w.Write(doc)
		return err
	})

	a.handle("GET /api/v1/accounts", a.listAccounts)
	a.handle("POST /api/v1/accounts", a.createAccount)
	a.handle("GET /api/v1/accounts/{id}", a.getAccount)
	a.handle("PATCH /api/v1/accounts/{id}", a.patchAccount)
	a.handle("DELETE /api/v1/accounts/{id}", a.deleteAccount)

	a.handle("GET /api/v1/accounts/{id}/subscribers", a.listSubscribers)
	a.handle("POST /api/v1/accounts/{id}/subscribers", a.createSubscriber)
	a.handle("GET /api/v1/subscribers", a.findSubscriber)
	a.handle("GET /api/v1/subscribers/{id}", a.getSubscriber)
	a.handle("PATCH /api/v1/subscribers/{id}", a.patchSubscriber)
	a.handle("DELETE /api/v1/subscribers/{id}", a.deleteSubscriber)

	a.handle("GET /api/v1/accounts/{id}/plan-assignments", a.listAssignments)
	a.handle("POST /api/v1/accounts/{id}/plan-assignments", a.assignPlan)
	a.handle("GET /api/v1/accounts/{id}/plan", a.currentPlan)

	a.handle("GET /api/v1/plans", a.listPlans)
	a.handle("POST /api/v1/plans", a.createPlan)
	a.handle("POST /api/v1/plans:validate", a.validatePlan)
	a.handle("POST /api/v1/plans:reload", a.reloadPlans)
	a.handle("GET /api/v1/plans/{id}", a.getPlan)
	a.handle("PUT /api/v1/plans/{id}", a.putPlan)
	a.handle("DELETE /api/v1/plans/{id}", a.deletePlan)
	a.handle("GET /api/v1/plans/{id}/versions", a.listPlanVersions)
	a.handle("GET /api/v1/plans/{id}/versions/{version}", a.getPlanVersion)

	a.handle("POST /api/v1/rate", a.rate)

	a.handle("GET /api/v1/accounts/{id}/balance", a.getBalance)
	a.handle("GET /api/v1/accounts/{id}/ledger", a.getLedger)
	a.handle("POST /api/v1/accounts/{id}/topups", a.moneyHandler(balance.KindTopUp))
	a.handle("POST /api/v1/accounts/{id}/credits", a.moneyHandler(balance.KindCredit))
	a.handle("POST /api/v1/accounts/{id}/debits", a.moneyHandler(balance.KindDebit))
	a.handle("POST /api/v1/accounts/{id}/adjustments", a.moneyHandler(balance.KindAdjust))
	a.handle("POST /api/v1/accounts/{id}/buckets", a.grantBucket)
	a.handle("POST /api/v1/accounts/{id}/reservations", a.reserve)
	a.handle("POST /api/v1/accounts/{id}/reservations/{rid}/commit", a.finishReservation(balance.KindCommit))
	a.handle("POST /api/v1/accounts/{id}/reservations/{rid}/release", a.finishReservation(balance.KindRelease))

	// Anything else under /api/v1/ is a JSON 404, not the mux's text page.
	a.mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		a.writeError(w, r, &Error{Code: CodeNotFound, Message: "no such endpoint: " + r.Method + " " + r.URL.Path,
			status: http.StatusNotFound})
	})
}

// page is the envelope of every list response.
type page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

func listOptions(r *http.Request) (store.ListOptions, error) {
	q := r.URL.Query()
	opts := store.ListOptions{Limit: 100, After: q.Get("after"), Status: q.Get("status")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return opts, badRequest("limit", "limit must be an integer from 1 to 1000, got %q", s)
		}
		opts.Limit = n
	}
	return opts, nil
}

// etag formats a version for the ETag header; ifMatch parses If-Match.
func etag(v int64) string { return `"` + strconv.FormatInt(v, 10) + `"` }

func ifMatch(r *http.Request) (int64, bool, error) {
	h := r.Header.Get("If-Match")
	if h == "" {
		return 0, false, nil
	}
	s := h
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false, badRequest("If-Match", "If-Match must be a version ETag such as \"3\", got %q", h)
	}
	return v, true, nil
}
