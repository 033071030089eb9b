package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/tollgate-billing/tollgate/internal/rating"
	"github.com/tollgate-billing/tollgate/internal/store"
)

// planMediaTypes are the accepted bodies of plan uploads: JSON or YAML.
var planMediaTypes = []string{"application/json", "application/yaml", "application/x-yaml", "text/yaml"}

// planView is a stored plan version as the API shows it.
type planView struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Currency  string          `json:"currency"`
	Version   int             `json:"version"`
	Source    string          `json:"source"`
	Checksum  string          `json:"checksum"`
	CreatedAt time.Time       `json:"created_at"`
	Plan      json.RawMessage `json:"plan,omitempty"`
}

func viewPlan(rec store.PlanRecord, withDoc bool) planView {
	v := planView{ID: rec.ID, Name: rec.Name, Currency: rec.Currency, Version: rec.Version, Source: rec.Source,
		Checksum: rec.Checksum, CreatedAt: rec.CreatedAt}
	if withDoc {
		v.Plan = json.RawMessage(rec.Document)
	}
	return v
}

// readPlan parses a plan document from a JSON or YAML body.
func readPlan(r *http.Request) (*rating.Plan, error) {
	body, _, err := readBody(r, planMediaTypes...)
	if err != nil {
		return nil, err
	}
	return rating.ParsePlan(body)
}

func (a *API) listPlans(w http.ResponseWriter, r *http.Request) error {
	recs, err := a.Plans.ListPlans(r.Context())
	if err != nil {
		return err
	}
	items := make([]planView, len(recs))
	for i, rec := range recs {
		items[i] = viewPlan(rec, false)
	}
	writeJSON(w, http.StatusOK, page[planView]{Items: items})
	return nil
}

// createPlan stores a new plan, or a new version of an existing one. Sending
// the same document again is a no-op that answers 200 with the stored version.
func (a *API) createPlan(w http.ResponseWriter, r *http.Request) error {
	p, err := readPlan(r)
	if err != nil {
		return err
	}
	return a.storePlan(w, r, p)
}

func (a *API) putPlan(w http.ResponseWriter, r *http.Request) error {
	p, err := readPlan(r)
	if err != nil {
		return err
	}
	if p.ID != r.PathValue("id") {
		return badRequest("id", "plan id %q does not match the URL's %q", p.ID, r.PathValue("id"))
	}
	return a.storePlan(w, r, p)
}

func (a *API) storePlan(w http.ResponseWriter, r *http.Request, p *rating.Plan) error {
	rec, created, err := a.Catalog.Put(r.Context(), p, "api")
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/api/v1/plans/"+rec.ID+"/versions/"+strconv.Itoa(rec.Version))
	}
	writeJSON(w, status, viewPlan(rec, true))
	return nil
}

// validatePlan checks a plan document without storing it.
func (a *API) validatePlan(w http.ResponseWriter, r *http.Request) error {
	p, err := readPlan(r)
	if err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	if err := rating.NewEngine().Load([]*rating.Plan{p}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"valid": true, "id": p.ID})
	return nil
}

// reloadPlans re-reads the plans directory and the store (like SIGHUP).
func (a *API) reloadPlans(w http.ResponseWriter, r *http.Request) error {
	if err := a.Catalog.Reload(r.Context()); err != nil {
		return badRequest("", "reload failed, the previous plans stay loaded: %v", err)
	}
	recs, err := a.Plans.ListPlans(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"reloaded": true, "plans": len(recs)})
	return nil
}

func (a *API) getPlan(w http.ResponseWriter, r *http.Request) error {
	rec, err := a.Plans.GetPlan(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewPlan(rec, true))
	return nil
}

func (a *API) deletePlan(w http.ResponseWriter, r *http.Request) error {
	if err := a.Catalog.Delete(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listPlanVersions(w http.ResponseWriter, r *http.Request) error {
	recs, err := a.Plans.ListPlanVersions(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	items := make([]planView, len(recs))
	for i, rec := range recs {
		items[i] = viewPlan(rec, false)
	}
	writeJSON(w, http.StatusOK, page[planView]{Items: items})
	return nil
}

func (a *API) getPlanVersion(w http.ResponseWriter, r *http.Request) error {
	v, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || v < 1 {
		return badRequest("version", "version must be a positive integer, got %q", r.PathValue("version"))
	}
	rec, err := a.Plans.GetPlanVersion(r.Context(), r.PathValue("id"), v)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewPlan(rec, true))
	return nil
}
