// Package catalog owns the set of tariff plans: it imports plan files from
// the configured directory, keeps every version in the records store, and
// loads the current versions into the rating engine (S1.9: rating tables are
// memory-resident; a change is swapped in atomically without a restart).
//
// Every change follows the same order: parse and validate, compile the whole
// candidate set in a scratch engine, persist, then swap it into the live
// engine. A bad plan therefore never reaches the store or the rating path,
// and an acknowledged change is durable.
package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/tollgate-billing/tollgate/internal/rating"
	"github.com/tollgate-billing/tollgate/internal/store"
)

// Store keeps plan versions.
type Store interface {
	PutPlan(ctx context.Context, p store.PlanRecord) (store.PlanRecord, bool, error)
	ListPlans(ctx context.Context) ([]store.PlanRecord, error)
	DeletePlan(ctx context.Context, id string) error
}

// Loader is the live rating engine.
type Loader interface {
	Load(plans []*rating.Plan) error
}

// Sources of a plan version.
const (
	SourceAPI  = "api"
	SourceFile = "file"
)

// Config configures a Catalog.
type Config struct {
	Store    Store
	Engine   Loader
	PlansDir string // optional directory of *.yaml, *.yml, *.json plan files
	Logger   *slog.Logger
}

// Catalog serializes changes to the plan set.
type Catalog struct {
	cfg   Config
	log   *slog.Logger
	mu    sync.Mutex
	plans map[string]*rating.Plan // the set loaded in the engine
}

// New returns a Catalog; call Reload to load the plans.
func New(cfg Config) *Catalog {
	l := cfg.Logger
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return &Catalog{cfg: cfg, log: l, plans: map[string]*rating.Plan{}}
}

// Reload reads every stored plan and every plan file, validates and compiles
// the whole set, stores new versions of changed files, and swaps the set into
// the engine. On any error nothing changes and every problem is returned.
func (c *Catalog) Reload(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()

	recs, err := c.cfg.Store.ListPlans(ctx)
	if err != nil {
		return fmt.Errorf("catalog: listing stored plans: %w", err)
	}
	set := make(map[string]*rating.Plan, len(recs))
	var errs []error
	for _, rec := range recs {
		p, err := rating.ParsePlan(rec.Document)
		if err != nil {
			errs = append(errs, fmt.Errorf("stored plan %s version %d: %w", rec.ID, rec.Version, err))
			continue
		}
		set[p.ID] = p
	}
	files, err := c.readDir()
	if err != nil {
		errs = append(errs, err)
	}
	for _, f := range files {
		set[f.plan.ID] = f.plan
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := compile(set); err != nil {
		return err
	}
	for _, f := range files {
		rec, created, err := c.put(ctx, f.plan, SourceFile)
		if err != nil {
			return fmt.Errorf("catalog: storing %s: %w", f.path, err)
		}
		if created {
			c.log.InfoContext(ctx, "tariff plan imported", "plan", rec.ID, "version", rec.Version, "file", f.path)
		}
	}
	if err := c.cfg.Engine.Load(values(set)); err != nil {
		return err
	}
	c.plans = set
	c.log.InfoContext(ctx, "tariff plans loaded", "plans", len(set), "files", len(files))
	return nil
}

// Put validates p, stores it as a new version (unless it equals the latest
// one) and loads it. created reports whether a new version was stored.
func (c *Catalog) Put(ctx context.Context, p *rating.Plan, source string) (store.PlanRecord, bool, error) {
	if err := p.Validate(); err != nil {
		return store.PlanRecord{}, false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	set := clone(c.plans)
	set[p.ID] = p
	if err := compile(set); err != nil {
		return store.PlanRecord{}, false, err
	}
	rec, created, err := c.put(ctx, p, source)
	if err != nil {
		return store.PlanRecord{}, false, err
	}
	if err := c.cfg.Engine.Load(values(set)); err != nil {
		return store.PlanRecord{}, false, err
	}
	c.plans = set
	return rec, created, nil
}

// Delete marks the plan deleted (refused while an account is assigned to
// it) and unloads it.
func (c *Catalog) Delete(ctx context.Context, id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.cfg.Store.DeletePlan(ctx, id); err != nil {
		return err
	}
	set := clone(c.plans)
	delete(set, id)
	if err := c.cfg.Engine.Load(values(set)); err != nil {
		return err
	}
	c.plans = set
	return nil
}

func (c *Catalog) put(ctx context.Context, p *rating.Plan, source string) (store.PlanRecord, bool, error) {
	doc, err := json.Marshal(p)
	if err != nil {
		return store.PlanRecord{}, false, fmt.Errorf("catalog: encoding plan %s: %w", p.ID, err)
	}
	name := p.Name
	if name == "" {
		name = p.ID // the plan format makes the name optional; the store lists plans by name
	}
	return c.cfg.Store.PutPlan(ctx, store.PlanRecord{
		ID: p.ID, Name: name, Currency: p.Currency, Document: doc, Source: source,
	})
}

type planFile struct {
	path string
	plan *rating.Plan
}

// readDir parses every plan file of the plans directory, reporting every
// bad file and duplicate id at once.
func (c *Catalog) readDir() ([]planFile, error) {
	dir := c.cfg.PlansDir
	if dir == "" {
		return nil, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("catalog: reading plans directory: %w", err)
	}
	var out []planFile
	var errs []error
	seen := map[string]string{}
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || (ext != ".yaml" && ext != ".yml" && ext != ".json") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p, err := rating.ParsePlan(data)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", path, err))
			continue
		}
		if other, dup := seen[p.ID]; dup {
			errs = append(errs, fmt.Errorf("%s: plan id %q is also defined in %s", path, p.ID, other))
			continue
		}
		seen[p.ID] = path
		out = append(out, planFile{path: path, plan: p})
	}
	return out, errors.Join(errs...)
}

// compile checks that the set loads, in a scratch engine.
func compile(set map[string]*rating.Plan) error {
	return rating.NewEngine().Load(values(set))
}

func clone(m map[string]*rating.Plan) map[string]*rating.Plan {
	out := make(map[string]*rating.Plan, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

func values(m map[string]*rating.Plan) []*rating.Plan {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]*rating.Plan, len(ids))
	for i, id := range ids {
		out[i] = m[id]
	}
	return out
}
