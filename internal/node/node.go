// Package node assembles the subsystems of one tollgate node for `tollgate
// serve`: the SQL records store, the rating engine with its plan catalog,
// and the admin API on top of them. The server package owns the lifecycle
// (start in order, stop in reverse); this package owns what is started.
package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-billing/tollgate/internal/api"
	"github.com/tollgate-billing/tollgate/internal/balance"
	"github.com/tollgate-billing/tollgate/internal/balance/journal"
	"github.com/tollgate-billing/tollgate/internal/balance/ledger"
	"github.com/tollgate-billing/tollgate/internal/catalog"
	"github.com/tollgate-billing/tollgate/internal/chf"
	"github.com/tollgate-billing/tollgate/internal/clusterstate"
	"github.com/tollgate-billing/tollgate/internal/config"
	"github.com/tollgate-billing/tollgate/internal/rating"
	"github.com/tollgate-billing/tollgate/internal/server"
	"github.com/tollgate-billing/tollgate/internal/store"
)

// Node holds the parts of a running node. Fields are set by the subsystems'
// Start methods and are nil before.
type Node struct {
	cfg     config.Config
	log     *slog.Logger
	reg     prometheus.Registerer
	now     func() time.Time
	cluster func() *clusterstate.Conn

	store     atomic.Pointer[store.Store]
	journal   atomic.Pointer[journal.Journal]
	balances  atomic.Pointer[balance.Engine]
	projector atomic.Pointer[ledger.Projector]
	engine    *rating.Engine
	catalog   atomic.Pointer[catalog.Catalog]
	api       atomic.Pointer[http.Handler]
	chf       *chfRun
	// notifier is the CHF's, once it has started: the admin API's hooks
	// and plan changes reach it through this pointer (the API starts first).
	notifier atomic.Pointer[chf.Notifier]
	// planChange serializes plan changes made through reporting, so that
	// the plans compared before and after are those of one change.
	planChange sync.Mutex

	reloads *prometheus.CounterVec
	plans   prometheus.Gauge
}

// New returns a node for cfg (already resolved and validated). Metrics are
// registered in reg; cluster returns the cluster-state connection once the
// server has opened it.
func New(cfg config.Config, logger *slog.Logger, reg prometheus.Registerer, cluster func() *clusterstate.Conn) *Node {
	n := &Node{cfg: cfg, log: logger, reg: reg, cluster: cluster, now: time.Now, engine: rating.NewEngine(),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tollgate_plan_reloads_total", Help: "Tariff plan reloads by result (ok, error).",
		}, []string{"result"}),
		plans: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tollgate_plans_loaded", Help: "Tariff plans loaded in the rating engine.",
		}),
	}
	if reg != nil {
		reg.MustRegister(n.reloads, n.plans)
	}
	return n
}

// Subsystems returns the node's subsystems in start order. The SQL ledger
// projection is among them unless balance.ledger_projection is false.
func (n *Node) Subsystems() []server.Subsystem {
	subs := []server.Subsystem{(*records)(n), (*balanceSub)(n)}
	if n.cfg.Balance.LedgerProjection {
		subs = append(subs, (*ledgerSub)(n))
	}
	return append(subs, (*ratingSub)(n), (*chfSub)(n))
}

// LedgerSubsystems returns the subsystems of `tollgate ledger`: the SQL
// records store and the ledger projection of the journal that another
// process's balance engine appends to.
func (n *Node) LedgerSubsystems() []server.Subsystem {
	return []server.Subsystem{(*records)(n), (*journalSub)(n), (*ledgerSub)(n)}
}

// Handler serves the admin API once the subsystems have started (the server
// answers 503 before that).
func (n *Node) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := n.api.Load()
		if h == nil {
			http.Error(w, `{"error":{"code":"unavailable","message":"starting"}}`, http.StatusServiceUnavailable)
			return
		}
		(*h).ServeHTTP(w, r)
	})
}

// Engine is the node's rating engine.
func (n *Node) Engine() *rating.Engine { return n.engine }

// records is the SQL records store subsystem.
type records Node

func (r *records) Name() string { return "store" }

func (r *records) Start(ctx context.Context) error {
	c := r.cfg.Store
	st, err := store.Open(ctx, store.Config{Driver: c.Driver, DSN: c.DSN, MaxOpenConns: c.MaxOpenConns, Migrate: c.Migrate}, r.log)
	if err != nil {
		return err
	}
	r.store.Store(st)
	return nil
}

func (r *records) Stop(context.Context) error {
	if st := r.store.Swap(nil); st != nil {
		return st.Close()
	}
	return nil
}

func (r *records) Healthy(ctx context.Context) error {
	st := r.store.Load()
	if st == nil {
		return errors.New("store not open")
	}
	return st.Ping(ctx)
}

// ratingSub is the rating engine with its plan catalog; it also builds the
// admin API, which needs both.
type ratingSub Node

func (r *ratingSub) Name() string { return "rating" }

func (r *ratingSub) Start(ctx context.Context) error {
	st := r.store.Load()
	if st == nil {
		return errors.New("rating: the records store is not open")
	}
	cat := catalog.New(catalog.Config{Store: st, Engine: r.engine, PlansDir: r.cfg.Rating.PlansDir, Logger: r.log})
	if err := cat.Reload(ctx); err != nil {
		return err
	}
	r.plans.Set(float64(len(r.engine.PlanIDs())))
	r.catalog.Store(cat)
	cfg := api.Config{Accounts: st, Subscribers: st, Assignments: st, Plans: st, Catalog: (*reporting)(r),
		Rater: r.engine, Ledger: st, Logger: r.log, Notify: (*chfHooks)(r)}
	if e := r.balances.Load(); e != nil {
		cfg.Balances = e
	}
	h := api.New(cfg).Handler()
	r.api.Store(&h)
	return nil
}

func (r *ratingSub) Stop(context.Context) error {
	r.api.Store(nil)
	return nil
}

// Reload re-imports the plans (SIGHUP).
func (r *ratingSub) Reload(ctx context.Context) error { return (*reporting)(r).Reload(ctx) }

// Run reloads the plans every rating.reload_interval, if set. A failed
// reload is logged and counted; the running plans stay.
func (r *ratingSub) Run(ctx context.Context) error {
	every := r.cfg.Rating.ReloadInterval.Std()
	if every <= 0 {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := r.Reload(ctx); err != nil && ctx.Err() == nil {
				r.log.Error("periodic plan reload failed; previous plans stay loaded", "err", err)
			}
		}
	}
}

// reporting wraps the catalog with metrics, and tells the CHF which plans a
// change changed (it sends REAUTHORIZATION to their sessions).
type reporting ratingSub

func (r *reporting) cat() (*catalog.Catalog, error) {
	c := r.catalog.Load()
	if c == nil {
		return nil, errors.New("rating: catalog not started")
	}
	return c, nil
}

func (r *reporting) Reload(ctx context.Context) error {
	c, err := r.cat()
	if err != nil {
		return err
	}
	done := r.watchPlans(ctx)
	err = c.Reload(ctx)
	done(err)
	r.count(err)
	return err
}

func (r *reporting) Put(ctx context.Context, p *rating.Plan, source string) (store.PlanRecord, bool, error) {
	c, err := r.cat()
	if err != nil {
		return store.PlanRecord{}, false, err
	}
	done := r.watchPlans(ctx)
	rec, created, err := c.Put(ctx, p, source)
	done(err)
	r.count(err)
	return rec, created, err
}

func (r *reporting) Delete(ctx context.Context, id string) error {
	c, err := r.cat()
	if err != nil {
		return err
	}
	done := r.watchPlans(ctx)
	err = c.Delete(ctx, id)
	done(err)
	r.count(err)
	return err
}

// watchPlans notes the loaded plans before a change; the function it
// returns, called with the change's error, tells the CHF's notifier which
// plans the change added, removed or changed (their documents differ), so
// that the sessions rated with them are reauthorized. Without a notifier
// (the CHF not started) it does nothing.
func (r *reporting) watchPlans(ctx context.Context) func(error) {
	if r.notifier.Load() == nil {
		return func(error) {}
	}
	r.planChange.Lock()
	before := r.planDocs()
	return func(err error) {
		defer r.planChange.Unlock()
		n := r.notifier.Load()
		if err != nil || n == nil {
			return
		}
		after := r.planDocs()
		var changed []string
		for id, doc := range after {
			if old, ok := before[id]; !ok || doc == nil || !bytes.Equal(old, doc) {
				changed = append(changed, id)
			}
		}
		for id := range before {
			if _, ok := after[id]; !ok {
				changed = append(changed, id)
			}
		}
		if len(changed) > 0 {
			r.log.InfoContext(ctx, "tariff plans changed; reauthorizing their charging sessions", "plans", changed)
			n.PlansChanged(ctx, changed)
		}
	}
}

// planDocs returns the JSON document of every loaded plan (nil if it
// cannot be encoded: then it counts as changed).
func (r *reporting) planDocs() map[string][]byte {
	ids := r.engine.PlanIDs()
	docs := make(map[string][]byte, len(ids))
	for _, id := range ids {
		var doc []byte
		if p, ok := r.engine.Plan(id); ok {
			doc, _ = json.Marshal(p)
		}
		docs[id] = doc
	}
	return docs
}

func (r *reporting) count(err error) {
	if err != nil {
		r.reloads.WithLabelValues("error").Inc()
		return
	}
	r.reloads.WithLabelValues("ok").Inc()
	r.plans.Set(float64(len(r.engine.PlanIDs())))
}

var (
	_ server.Subsystem     = (*records)(nil)
	_ server.HealthChecker = (*records)(nil)
	_ server.Runner        = (*ratingSub)(nil)
	_ server.Runner        = (*ledgerSub)(nil)
	_ server.Reloader      = (*ratingSub)(nil)
	_ api.PlanCatalog      = (*reporting)(nil)
)
