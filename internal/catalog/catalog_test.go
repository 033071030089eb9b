package catalog_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-billing/tollgate/internal/catalog"
	"github.com/tollgate-billing/tollgate/internal/rating"
	"github.com/tollgate-billing/tollgate/internal/store"
)

const planA = "id: plan-a\ncurrency: EUR\nrates: [{service: sms, price: \"0.09\"}]\n"

func setup(t *testing.T) (*catalog.Catalog, *store.Store, *rating.Engine, string) {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "c.db"), Migrate: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	dir := t.TempDir()
	eng := rating.NewEngine()
	return catalog.New(catalog.Config{Store: st, Engine: eng, PlansDir: dir}), st, eng, dir
}

func write(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReloadImportsFilesOnce(t *testing.T) {
	cat, st, eng, dir := setup(t)
	write(t, dir, "a.yaml", planA)
	write(t, dir, "notes.txt", "not a plan")
	for range 2 {
		if err := cat.Reload(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	vs, err := st.ListPlanVersions(t.Context(), "plan-a")
	if err != nil || len(vs) != 1 || vs[0].Source != catalog.SourceFile {
		t.Fatalf("versions after two reloads of one file: %+v %v", vs, err)
	}
	if _, ok := eng.Plan("plan-a"); !ok {
		t.Fatal("plan not loaded in the engine")
	}
}

func TestReloadRefusesBadSetAndKeepsRunningPlans(t *testing.T) {
	cat, st, eng, dir := setup(t)
	write(t, dir, "a.yaml", planA)
	if err := cat.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	// A broken file and a duplicate id: every problem is reported, nothing
	// is stored, and the engine keeps serving the old set.
	write(t, dir, "b.yaml", "id: plan-b\ncurrency: EURO\nrates: []\n")
	write(t, dir, "c.yaml", strings.Replace(planA, "0.09", "0.10", 1))
	err := cat.Reload(t.Context())
	if err == nil || !strings.Contains(err.Error(), "b.yaml") || !strings.Contains(err.Error(), "also defined in") {
		t.Fatalf("reload error: %v", err)
	}
	if _, err := st.GetPlan(t.Context(), "plan-b"); err == nil {
		t.Fatal("a plan from a refused reload was stored")
	}
	if ids := eng.PlanIDs(); len(ids) != 1 || ids[0] != "plan-a" {
		t.Fatalf("engine plans after a refused reload: %v", ids)
	}
}

func TestPutValidatesBeforeStoring(t *testing.T) {
	cat, st, _, _ := setup(t)
	p, err := rating.ParsePlan([]byte(planA))
	if err != nil {
		t.Fatal(err)
	}
	if _, created, err := cat.Put(t.Context(), p, catalog.SourceAPI); err != nil || !created {
		t.Fatalf("put: %v %v", created, err)
	}
	if _, created, err := cat.Put(t.Context(), p, catalog.SourceAPI); err != nil || created {
		t.Fatalf("same plan again stored a version: %v %v", created, err)
	}
	if err := cat.Delete(t.Context(), "plan-a"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetPlan(t.Context(), "plan-a"); err == nil {
		t.Fatal("deleted plan still current")
	}
}
