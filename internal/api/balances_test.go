package api_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/internal/account"
	"github.com/tollgate-billing/tollgate/internal/api"
	"github.com/tollgate-billing/tollgate/internal/balance"
	"github.com/tollgate-billing/tollgate/internal/balance/journal"
	"github.com/tollgate-billing/tollgate/internal/balance/ledger"
	"github.com/tollgate-billing/tollgate/internal/catalog"
	"github.com/tollgate-billing/tollgate/internal/clusterstate"
	"github.com/tollgate-billing/tollgate/internal/config"
	"github.com/tollgate-billing/tollgate/internal/money"
	"github.com/tollgate-billing/tollgate/internal/rating"
	"github.com/tollgate-billing/tollgate/internal/store"
)

// newBalanceEnv is newEnv with a real balance engine on an embedded
// JetStream, and the real clock; opts change the API's config.
func newBalanceEnv(t *testing.T, opts ...func(*api.Config)) (*env, *store.Store) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "t.db"), Migrate: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	conn, err := clusterstate.Open(ctx, config.Default().NATS, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	j, err := journal.Open(ctx, conn.JS(), journal.Config{})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := balance.NewEngine(balance.EngineConfig{Partitions: 4, NodeID: "api-test", Journal: j})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Stop(context.Background()) })
	pctx, cancel := context.WithCancel(context.Background())
	proj := ledger.New(ledger.Config{Source: ledger.JournalSource(j), Decode: balance.DecodeBatch, Sink: st})
	done := make(chan struct{})
	go func() { defer close(done); _ = proj.Run(pctx) }()
	t.Cleanup(func() { cancel(); <-done })
	rat := rating.NewEngine()
	cat := catalog.New(catalog.Config{Store: st, Engine: rat})
	cfg := api.Config{Accounts: st, Subscribers: st, Assignments: st, Plans: st, Catalog: cat, Rater: rat,
		Balances: eng, Ledger: st}
	for _, o := range opts {
		o(&cfg)
	}
	a := api.New(cfg)
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, api: a}, st
}

func TestBalanceEndpoints(t *testing.T) {
	e, st := newBalanceEnv(t)
	e.must(201, "POST", "/api/v1/accounts", js, `{"id":"p1","name":"P1","type":"prepaid","currency":"EUR","credit_limit":"1.00"}`)

	r := e.must(200, "POST", "/api/v1/accounts/p1/topups", js, `{"key":"t1","amount":"10.00"}`)
	if r["balance"] != "10.00" || r["available"] != "11.00" {
		t.Fatalf("top-up: %v", r)
	}
	if again := e.must(200, "POST", "/api/v1/accounts/p1/topups", js, `{"key":"t1","amount":"10.00"}`); again["replayed"] != true || again["balance"] != "10.00" {
		t.Fatalf("retried top-up: %v", again)
	}
	code, m := e.do("POST", "/api/v1/accounts/p1/topups", js, `{"key":"t1","amount":"99.00"}`)
	if c, _ := errCode(m); code != 409 || c != "conflict" {
		t.Fatalf("reused key: %d %v", code, m)
	}
	code, m = e.do("POST", "/api/v1/accounts/p1/topups", js, `{"amount":"1.00"}`)
	if c, f := errCode(m); code != 400 || c != "invalid_argument" || f != "key" {
		t.Fatalf("missing key: %d %v", code, m)
	}

	r = e.must(200, "POST", "/api/v1/accounts/p1/reservations", js, `{"key":"s1:1","reservation":"s1","amount":"6.00","expires_in":"2m"}`)
	if r["granted_amount"] != "6.00" || r["available"] != "5.00" {
		t.Fatalf("reserve: %v", r)
	}
	// The credit limit allows 1.00 below zero, not more.
	code, m = e.do("POST", "/api/v1/accounts/p1/debits", js, `{"key":"d1","amount":"5.01"}`)
	if c, _ := errCode(m); code != 422 || c != "insufficient_funds" {
		t.Fatalf("overdraft: %d %v", code, m)
	}
	code, m = e.do("POST", "/api/v1/accounts/p1/reservations/s1/commit", js, `{"key":"s1:2","amount":"7.00"}`)
	if c, _ := errCode(m); code != 422 || c != "reservation_rejected" {
		t.Fatalf("commit above the reservation: %d %v", code, m)
	}
	r = e.must(200, "POST", "/api/v1/accounts/p1/reservations/s1/commit", js, `{"key":"s1:2","amount":"2.5"}`)
	if r["debited_amount"] != "2.5" || r["released_amount"] != "3.50" || r["balance"] != "7.50" {
		t.Fatalf("commit: %v", r)
	}
	code, m = e.do("POST", "/api/v1/accounts/p1/reservations/s1/release", js, `{"key":"s1:3"}`)
	if c, _ := errCode(m); code != 404 || c != "not_found" {
		t.Fatalf("release of a closed reservation: %d %v", code, m)
	}
	code, m = e.do("POST", "/api/v1/accounts/p1/adjustments", js, `{"key":"a1","amount":"-1"}`)
	if c, f := errCode(m); code != 400 || f != "reason" || c != "invalid_argument" {
		t.Fatalf("adjustment without reason: %d %v", code, m)
	}
	e.must(200, "POST", "/api/v1/accounts/p1/adjustments", js, `{"key":"a1","amount":"-0.50","reason":"goodwill reversal"}`)
	e.must(200, "POST", "/api/v1/accounts/p1/buckets", js, `{"key":"b1","id":"sms-100","unit":"message","units":100}`)
	r = e.must(200, "POST", "/api/v1/accounts/p1/debits", js, `{"key":"d2","unit":"message","units":3}`)
	if r["debited_units"].(float64) != 3 {
		t.Fatalf("bucket debit: %v", r)
	}
	v := e.must(200, "GET", "/api/v1/accounts/p1/balance", "", "")
	if v["balance"] != "7.00" || v["type"] != "prepaid" || v["status"] != "active" {
		t.Fatalf("balance view: %v", v)
	}

	// Suspending the account in master data reaches the engine.
	e.must(200, "PATCH", "/api/v1/accounts/p1", js, `{"status":"suspended"}`)
	code, m = e.do("POST", "/api/v1/accounts/p1/debits", js, `{"key":"d3","amount":"0.10"}`)
	if c, _ := errCode(m); code != 422 || c != "account_inactive" {
		t.Fatalf("debit of a suspended account: %d %v", code, m)
	}

	// An account the engine has never seen (written to SQL directly) is
	// mirrored at its first balance operation.
	if _, _, err := st.CreateAccount(t.Context(), account.Account{ID: "p2", Name: "P2", Type: account.Postpaid,
		Currency: mustCurrency(t, "EUR"), Status: account.Active}); err != nil {
		t.Fatal(err)
	}
	r = e.must(200, "POST", "/api/v1/accounts/p2/debits", js, `{"key":"x1","amount":"3.00"}`)
	if r["balance"] != "-3.00" {
		t.Fatalf("postpaid debit: %v", r)
	}
	e.must(404, "POST", "/api/v1/accounts/nobody/topups", js, `{"key":"n1","amount":"1"}`)

	// The SQL ledger catches up: every money movement once, summing to the balance.
	deadline := time.Now().Add(10 * time.Second)
	for {
		l := e.must(200, "GET", "/api/v1/accounts/p1/ledger", "", "")
		sum := money.Decimal{}
		n := 0
		for _, it := range l["items"].([]any) {
			row := it.(map[string]any)
			if row["asset"] == balance.AssetMoney {
				d, _ := money.Parse(row["delta"].(string))
				sum, _ = sum.Add(d)
				n++
			}
		}
		if n == 4 && sum.Equal(money.MustParse("7.00")) { // top-up, reserve, commit, adjust … and no duplicates
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ledger did not catch up: %d money entries summing to %s: %v", n, sum, l["items"])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func mustCurrency(t *testing.T, code string) money.Currency {
	c, err := money.LookupCurrency(code)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
