package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tollgate-billing/tollgate/internal/account"
	"github.com/tollgate-billing/tollgate/internal/money"
)

var ctx = context.Background()

func eur(t *testing.T) money.Currency {
	t.Helper()
	c, err := money.LookupCurrency("EUR")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newAccount(t *testing.T, id string) account.Account {
	return account.Account{
		ID:          id,
		Name:        "Account-" + id,
		Type:        account.Prepaid,
		Currency:    eur(t),
		CreditLimit: money.MustParse("0"),
	}
}

func mustCreateAccount(t *testing.T, s *Store, a account.Account) account.Account {
	t.Helper()
	got, created, err := s.CreateAccount(ctx, a)
	if err != nil || !created {
		t.Fatalf("CreateAccount(%s) = created %v, %v", a.ID, created, err)
	}
	return got
}

func mustPutPlan(t *testing.T, s *Store, id, doc string) PlanRecord {
	t.Helper()
	p, _, err := s.PutPlan(ctx, PlanRecord{ID: id, Name: "Plan " + id, Currency: "EUR", Document: []byte(doc), Source: SourceAPI})
	if err != nil {
		t.Fatalf("PutPlan(%s): %v", id, err)
	}
	return p
}

func wantErr(t *testing.T, err, target error, contains ...string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
	for _, c := range contains {
		if !strings.Contains(err.Error(), c) {
			t.Errorf("error %q does not mention %q", err, c)
		}
	}
}

func TestMigrations(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		s := db.open(t)
		latest := s.LatestSchemaVersion()
		if latest < 1 {
			t.Fatalf("LatestSchemaVersion = %d", latest)
		}
		if v, err := s.SchemaVersion(ctx); err != nil || v != latest {
			t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, latest)
		}
		// Idempotent re-run: explicitly and by opening again.
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate again: %v", err)
		}
		s2 := db.open(t)
		if v, _ := s2.SchemaVersion(ctx); v != latest {
			t.Fatalf("after reopen SchemaVersion = %d", v)
		}
		var n int
		if err := s.queryRow(ctx, s.db, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != latest {
			t.Fatalf("schema_migrations rows = %d, %v", n, err)
		}
		// Without Migrate the current schema is accepted.
		noMigrate := db.cfg
		noMigrate.Migrate = false
		s3, err := Open(ctx, noMigrate, nil)
		if err != nil {
			t.Fatalf("Open without Migrate on current schema: %v", err)
		}
		s3.Close()
		if err := s.Ping(ctx); err != nil || s.Driver() != db.cfg.Driver {
			t.Fatalf("Ping = %v, Driver = %q", err, s.Driver())
		}

		// A newer schema than the binary knows is refused.
		if _, err := s.exec(ctx, s.db, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			latest+1, "from_the_future", s.timeArg(db.clock.Now())); err != nil {
			t.Fatal(err)
		}
		for _, migrate := range []bool{true, false} {
			cfg := db.cfg
			cfg.Migrate = migrate
			if s4, err := Open(ctx, cfg, nil); !errors.Is(err, ErrSchemaTooNew) {
				if s4 != nil {
					s4.Close()
				}
				t.Fatalf("Open(migrate=%v) on newer schema: %v, want ErrSchemaTooNew", migrate, err)
			}
		}
		wantErr(t, s.Migrate(ctx), ErrSchemaTooNew)
	})
}

func TestOpenWithoutMigrateOnEmptyDatabase(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		cfg := db.cfg
		cfg.Migrate = false
		s, err := Open(ctx, cfg, nil)
		if !errors.Is(err, ErrSchemaOutdated) {
			if s != nil {
				s.Close()
			}
			t.Fatalf("Open = %v, want ErrSchemaOutdated", err)
		}
	})
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(ctx, Config{Driver: "oracle", DSN: "x"}, nil); err == nil {
		t.Error("unknown driver accepted")
	}
	if _, err := Open(ctx, Config{Driver: DriverSQLite}, nil); err == nil {
		t.Error("sqlite without DSN accepted")
	}
	if _, err := Open(ctx, Config{Driver: DriverPostgres}, nil); err == nil {
		t.Error("postgres without DSN accepted")
	}
}

func TestSQLiteMemoryAndPragmas(t *testing.T) {
	s, err := Open(ctx, Config{DSN: ":memory:", Migrate: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustCreateAccount(t, s, newAccount(t, "mem-1"))

	path := t.TempDir() + "/sub/dir/x.db"
	s2, err := Open(ctx, Config{DSN: path, Migrate: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "10000", "synchronous": "2"} {
		var got string
		if err := s2.db.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil || got != want {
			t.Errorf("PRAGMA %s = %q, %v; want %q", pragma, got, err, want)
		}
	}
}

func TestRebind(t *testing.T) {
	got := rebindDollar(`SELECT '?', a FROM t WHERE a = ? AND b = ? AND c = 'x?y'`)
	want := `SELECT '?', a FROM t WHERE a = $1 AND b = $2 AND c = 'x?y'`
	if got != want {
		t.Errorf("rebind = %q", got)
	}
}

func TestAccountCreateIdempotent(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		s := db.open(t)
		in := newAccount(t, "acc-1")
		in.ExternalID = "crm-1"
		a := mustCreateAccount(t, s, in)
		if a.Version != 1 || a.Status != account.Active || a.BillingDay != 1 {
			t.Fatalf("created %+v: want version 1, active, billing day 1", a)
		}
		if !a.CreatedAt.Equal(dbTime(db.clock.Now())) || !a.UpdatedAt.Equal(a.CreatedAt) {
			t.Errorf("timestamps %v %v, want %v", a.CreatedAt, a.UpdatedAt, db.clock.Now())
		}
		db.clock.Advance(time.Minute)

		// Same content again (defaults spelled out, limit as 0.00): the
		// stored row, not created.
		again := in
		again.Status, again.BillingDay, again.CreditLimit = account.Active, 1, money.MustParse("0.00")
		got, created, err := s.CreateAccount(ctx, again)
		if err != nil || created {
			t.Fatalf("repeat create = created %v, %v", created, err)
		}
		if got != a {
			t.Fatalf("repeat create returned %+v, want %+v", got, a)
		}
		// Different content: conflict.
		diff := in
		diff.Name = "Someone else"
		_, _, err = s.CreateAccount(ctx, diff)
		wantErr(t, err, ErrConflict, "acc-1")
		// Duplicate external id on another account.
		dup := newAccount(t, "acc-2")
		dup.ExternalID = "crm-1"
		_, _, err = s.CreateAccount(ctx, dup)
		wantErr(t, err, ErrConflict, "external_id", "crm-1")

		// Generated id: a UUIDv7.
		gen := newAccount(t, "")
		g := mustCreateAccount(t, s, gen)
		if u, err := uuid.Parse(g.ID); err != nil || u.Version() != 7 {
			t.Errorf("generated id %q: %v", g.ID, err)
		}
		// Stored as returned.
		stored, err := s.GetAccount(ctx, g.ID)
		if err != nil || stored != g {
			t.Errorf("GetAccount = %+v, %v; want %+v", stored, err, g)
		}
		_, err = s.GetAccount(ctx, "nope")
		wantErr(t, err, ErrNotFound, "nope")

		// Invalid input is reported, not stored.
		bad := account.Account{ID: "x y", CreditLimit: money.MustParse("-1")}
		_, _, err = s.CreateAccount(ctx, bad)
		if !errors.Is(err, account.ErrInvalid) || len(account.FieldErrors(err)) < 4 {
			t.Errorf("invalid create: %v", err)
		}
	})
}

func TestMoneyRoundTrip(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		s := db.open(t)
		for i, v := range []string{"12.3456789", "0", "0.00", "1000000.01", "0.000000000000000001", "9223372036854775807", "92233720368.54775807"} {
			a := newAccount(t, fmt.Sprintf("m-%d", i))
			a.Type = account.Postpaid
			a.CreditLimit = money.MustParse(v)
			mustCreateAccount(t, s, a)
			got, err := s.GetAccount(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.CreditLimit.String() != v {
				t.Errorf("credit limit %q came back as %q", v, got.CreditLimit)
			}
		}
	})
}

func TestAccountUpdate(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		s := db.open(t)
		a := mustCreateAccount(t, s, newAccount(t, "acc-1"))
		db.clock.Advance(time.Hour)

		upd := a
		upd.Name, upd.Type, upd.CreditLimit, upd.BillingDay = "Renamed", account.Postpaid, money.MustParse("250.50"), 15
		v2, err := s.UpdateAccount(ctx, upd)
		if err != nil {
			t.Fatal(err)
		}
		if v2.Version != 2 || v2.Name != "Renamed" || !v2.CreatedAt.Equal(a.CreatedAt) || !v2.UpdatedAt.Equal(dbTime(db.clock.Now())) {
			t.Fatalf("after update: %+v", v2)
		}
		if got, _ := s.GetAccount(ctx, a.ID); got != v2 {
			t.Fatalf("stored %+v, want %+v", got, v2)
		}
		// Retrying the same update (still version 1) is harmless.
		if got, err := s.UpdateAccount(ctx, upd); err != nil || got != v2 {
			t.Fatalf("retried update = %+v, %v", got, err)
		}
		// A different update based on version 1 is stale.
		stale := a
		stale.Status = account.Suspended
		_, err = s.UpdateAccount(ctx, stale)
		wantErr(t, err, ErrStale, "version 2")
		// Based on version 2 it works.
		stale.Version = 2
		stale.Name = v2.Name
		v3, err := s.UpdateAccount(ctx, stale)
		if err != nil || v3.Version != 3 || v3.Status != account.Suspended {
			t.Fatalf("update from v2 = %+v, %v", v3, err)
		}
		// Unchanged content does not bump the version.
		if got, err := s.UpdateAccount(ctx, v3); err != nil || got.Version != 3 {
			t.Fatalf("no-op update = %+v, %v", got, err)
		}
		// Currency is immutable.
		usd, _ := money.LookupCurrency("USD")
		cur := v3
		cur.Currency = usd
		_, err = s.UpdateAccount(ctx, cur)
		wantErr(t, err, ErrConflict, "currency")
		// Unknown account.
		ghost := v3
		ghost.ID = "ghost"
		_, err = s.UpdateAccount(ctx, ghost)
		wantErr(t, err, ErrNotFound)
		// external_id taken by another account.
		other := newAccount(t, "acc-2")
		other.ExternalID = "crm-2"
		mustCreateAccount(t, s, other)
		taken := v3
		taken.ExternalID = "crm-2"
		_, err = s.UpdateAccount(ctx, taken)
		wantErr(t, err, ErrConflict, "external_id")
	})
}

func TestAccountPaging(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		s := db.open(t)
		for i := range 25 {
			a := newAccount(t, fmt.Sprintf("acc-%02d", i))
			if i%5 == 0 {
				a.Status = account.Closed
			}
			mustCreateAccount(t, s, a)
		}
		var all []string
		cursor, pages := "", 0
		for {
			page, next, err := s.ListAccounts(ctx, ListOptions{Limit: 10, After: cursor})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, a := range page {
				all = append(all, a.ID)
			}
			if next == "" {
				break
			}
			if next != page[len(page)-1].ID {
				t.Fatalf("cursor %q is not the last id of the page", next)
			}
			cursor = next
		}
		if pages != 3 || len(all) != 25 || all[0] != "acc-00" || all[24] != "acc-24" {
			t.Fatalf("pages=%d ids=%v", pages, all)
		}
		// Exactly one full page: no next cursor.
		page, next, err := s.ListAccounts(ctx, ListOptions{Limit: 5, After: "acc-19"})
		if err != nil || len(page) != 5 || next != "" {
			t.Fatalf("last full page: %d rows, next %q, %v", len(page), next, err)
		}
		closed, next, err := s.ListAccounts(ctx, ListOptions{Status: "closed"})
		if err != nil || len(closed) != 5 || next != "" {
			t.Fatalf("closed: %d, %q, %v", len(closed), next, err)
		}
		for _, opt := range []ListOptions{{Limit: -1}, {Limit: MaxLimit + 1}, {Status: "gone"}} {
			if _, _, err := s.ListAccounts(ctx, opt); !errors.Is(err, account.ErrInvalid) {
				t.Errorf("ListAccounts(%+v) = %v, want ErrInvalid", opt, err)
			}
		}
	})
}

func TestSubscribers(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		s := db.open(t)
		mustCreateAccount(t, s, newAccount(t, "acc-1"))
		mustCreateAccount(t, s, newAccount(t, "acc-2"))

		in := account.Subscriber{ID: "sub-1", AccountID: "acc-1", MSISDN: "+4915112345678", SUPI: "imsi-262011234567890"}
		sub, created, err := s.CreateSubscriber(ctx, in)
		if err != nil || !created {
			t.Fatalf("CreateSubscriber = %v, %v", created, err)
		}
		if sub.MSISDN != "4915112345678" || sub.IMSI != "262011234567890" || sub.Status != account.Active || sub.Version != 1 {
			t.Fatalf("not normalized: %+v", sub)
		}
		// Idempotent in the raw form too.
		again, created, err := s.CreateSubscriber(ctx, in)
		if err != nil || created || again != sub {
			t.Fatalf("repeat = %+v, %v, %v", again, created, err)
		}
		changed := in
		changed.ExternalID = "x"
		_, _, err = s.CreateSubscriber(ctx, changed)
		wantErr(t, err, ErrConflict, "sub-1")

		// Unique identifiers, each named.
		_, _, err = s.CreateSubscriber(ctx, account.Subscriber{AccountID: "acc-2", IMSI: "262011234567890"})
		wantErr(t, err, ErrConflict, "imsi", "262011234567890")
		_, _, err = s.CreateSubscriber(ctx, account.Subscriber{AccountID: "acc-2", MSISDN: "4915112345678"})
		wantErr(t, err, ErrConflict, "msisdn")
		_, _, err = s.CreateSubscriber(ctx, account.Subscriber{AccountID: "acc-2", IMSI: "262019999999999", SUPI: "imsi-262011234567890"})
		if !errors.Is(err, account.ErrInvalid) {
			t.Fatalf("inconsistent SUPI/IMSI: %v", err)
		}
		_, _, err = s.CreateSubscriber(ctx, account.Subscriber{AccountID: "ghost", IMSI: "262010000000001"})
		wantErr(t, err, ErrNotFound, "account_id")

		nai, _, err := s.CreateSubscriber(ctx, account.Subscriber{ID: "sub-2", AccountID: "acc-2", SUPI: "nai-user@example.org", ExternalID: "ext-2"})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = s.CreateSubscriber(ctx, account.Subscriber{AccountID: "acc-1", ExternalID: "ext-2"})
		wantErr(t, err, ErrConflict, "external_id")
		_, _, err = s.CreateSubscriber(ctx, account.Subscriber{AccountID: "acc-1", SUPI: "nai-user@example.org"})
		wantErr(t, err, ErrConflict, "supi")

		// Find by each identifier.
		for _, l := range []Lookup{{IMSI: "262011234567890"}, {MSISDN: "+4915112345678"}, {MSISDN: "4915112345678"}, {SUPI: "imsi-262011234567890"}} {
			got, err := s.FindSubscriber(ctx, l)
			if err != nil || got != sub {
				t.Errorf("FindSubscriber(%+v) = %+v, %v", l, got, err)
			}
		}
		for _, l := range []Lookup{{SUPI: "nai-user@example.org"}, {ExternalID: "ext-2"}} {
			if got, err := s.FindSubscriber(ctx, l); err != nil || got != nai {
				t.Errorf("FindSubscriber(%+v) = %+v, %v", l, got, err)
			}
		}
		_, err = s.FindSubscriber(ctx, Lookup{IMSI: "999999999999999"})
		wantErr(t, err, ErrNotFound, "imsi")
		_, err = s.FindSubscriber(ctx, Lookup{IMSI: "1", MSISDN: "2"})
		wantErr(t, err, account.ErrInvalid)

		// Lists per account.
		list, next, err := s.ListSubscribers(ctx, "acc-1", ListOptions{})
		if err != nil || len(list) != 1 || list[0] != sub || next != "" {
			t.Fatalf("ListSubscribers(acc-1) = %v, %q, %v", list, next, err)
		}
		_, _, err = s.ListSubscribers(ctx, "ghost", ListOptions{})
		wantErr(t, err, ErrNotFound)
		all, _, err := s.ListSubscribers(ctx, "", ListOptions{})
		if err != nil || len(all) != 2 {
			t.Fatalf("ListSubscribers(all) = %d, %v", len(all), err)
		}

		// Update with optimistic concurrency; move to another account.
		db.clock.Advance(time.Second)
		upd := sub
		upd.Status, upd.AccountID = account.Barred, "acc-2"
		v2, err := s.UpdateSubscriber(ctx, upd)
		if err != nil || v2.Version != 2 || v2.AccountID != "acc-2" || v2.Status != account.Barred {
			t.Fatalf("UpdateSubscriber = %+v, %v", v2, err)
		}
		if got, err := s.UpdateSubscriber(ctx, upd); err != nil || got != v2 {
			t.Fatalf("retried update = %+v, %v", got, err)
		}
		stale := sub
		stale.Status = account.Suspended
		_, err = s.UpdateSubscriber(ctx, stale)
		wantErr(t, err, ErrStale)
		clash := v2
		clash.ExternalID = "ext-2"
		_, err = s.UpdateSubscriber(ctx, clash)
		wantErr(t, err, ErrConflict, "external_id")
		noAcct := v2
		noAcct.AccountID = "ghost"
		_, err = s.UpdateSubscriber(ctx, noAcct)
		wantErr(t, err, ErrNotFound, "account_id")

		// An account with subscribers cannot be deleted.
		wantErr(t, s.DeleteAccount(ctx, "acc-2"), ErrInUse, "subscriber")
		if err := s.DeleteSubscriber(ctx, "sub-1"); err != nil {
			t.Fatal(err)
		}
		wantErr(t, s.DeleteSubscriber(ctx, "sub-1"), ErrNotFound)
		if err := s.DeleteSubscriber(ctx, "sub-2"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteAccount(ctx, "acc-2"); err != nil {
			t.Fatalf("DeleteAccount after its subscribers left: %v", err)
		}
		wantErr(t, s.DeleteAccount(ctx, "acc-2"), ErrNotFound)
		// The freed IMSI can be used again.
		if _, _, err := s.CreateSubscriber(ctx, account.Subscriber{AccountID: "acc-1", IMSI: "262011234567890"}); err != nil {
			t.Fatalf("reuse IMSI: %v", err)
		}
	})
}

func TestSubscriberConcurrentCreate(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		s := db.open(t)
		mustCreateAccount(t, s, newAccount(t, "acc-1"))
		const n = 8
		var (
			wg                  sync.WaitGroup
			mu                  sync.Mutex
			created, conflicted int
			other               []error
		)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Same IMSI, different ids: exactly one wins.
				_, c, err := s.CreateSubscriber(ctx, account.Subscriber{ID: fmt.Sprintf("s-%d", i), AccountID: "acc-1", IMSI: "001010000000001"})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil && c:
					created++
				case errors.Is(err, ErrConflict):
					conflicted++
				default:
					other = append(other, err)
				}
			}()
		}
		wg.Wait()
		if created != 1 || conflicted != n-1 || len(other) > 0 {
			t.Fatalf("created %d, conflicts %d, other %v", created, conflicted, other)
		}
		// Same id and content from many goroutines: one created, the rest
		// get the stored row.
		created = 0
		var rows []account.Subscriber
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sub, c, err := s.CreateSubscriber(ctx, account.Subscriber{ID: "same", AccountID: "acc-1", MSISDN: "123"})
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					other = append(other, err)
					return
				}
				if c {
					created++
				}
				rows = append(rows, sub)
			}()
		}
		wg.Wait()
		if created != 1 || len(other) > 0 {
			t.Fatalf("same id: created %d, errors %v", created, other)
		}
		for _, r := range rows {
			if r != rows[0] {
				t.Fatalf("different rows returned: %+v vs %+v", r, rows[0])
			}
		}
	})
}

func TestPlans(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		s := db.open(t)
		doc1 := []byte("{\n  \"rates\": [ {\"price\": \"0.10\"} ]\n}")
		in := PlanRecord{ID: "basic", Name: "Basic", Currency: "EUR", Document: doc1, Source: SourceFile}
		p1, created, err := s.PutPlan(ctx, in)
		if err != nil || !created || p1.Version != 1 || p1.Checksum != PlanChecksum(doc1) {
			t.Fatalf("PutPlan = %+v, %v, %v", p1, created, err)
		}
		db.clock.Advance(time.Minute)
		// Same document: no new version.
		same, created, err := s.PutPlan(ctx, in)
		if err != nil || created || same.Version != 1 || !same.CreatedAt.Equal(p1.CreatedAt) {
			t.Fatalf("PutPlan unchanged = %+v, %v, %v", same, created, err)
		}
		// Changed document: version 2.
		doc2 := []byte(`{"rates":[{"price":"0.12"}]}`)
		in2 := in
		in2.Document, in2.Source = doc2, SourceAPI
		p2, created, err := s.PutPlan(ctx, in2)
		if err != nil || !created || p2.Version != 2 {
			t.Fatalf("PutPlan changed = %+v, %v, %v", p2, created, err)
		}
		got, err := s.GetPlan(ctx, "basic")
		if err != nil || got.Version != 2 || !bytes.Equal(got.Document, doc2) || got.Source != SourceAPI {
			t.Fatalf("GetPlan = %+v, %v", got, err)
		}
		// Version 1 is kept byte for byte.
		v1, err := s.GetPlanVersion(ctx, "basic", 1)
		if err != nil || !bytes.Equal(v1.Document, doc1) || v1.Checksum != PlanChecksum(doc1) || v1.Source != SourceFile {
			t.Fatalf("GetPlanVersion(1) = %+v, %v", v1, err)
		}
		_, err = s.GetPlanVersion(ctx, "basic", 3)
		wantErr(t, err, ErrNotFound)
		// Back to document 1: it is a change from the latest, so version 3.
		p3, created, err := s.PutPlan(ctx, in)
		if err != nil || !created || p3.Version != 3 {
			t.Fatalf("PutPlan back = %+v, %v, %v", p3, created, err)
		}
		versions, err := s.ListPlanVersions(ctx, "basic")
		if err != nil || len(versions) != 3 || versions[0].Version != 1 || versions[2].Version != 3 {
			t.Fatalf("ListPlanVersions = %v, %v", versions, err)
		}
		_, err = s.ListPlanVersions(ctx, "ghost")
		wantErr(t, err, ErrNotFound)

		mustPutPlan(t, s, "premium", `{"premium":true}`)
		plans, err := s.ListPlans(ctx)
		if err != nil || len(plans) != 2 || plans[0].ID != "basic" || plans[0].Version != 3 || plans[1].ID != "premium" {
			t.Fatalf("ListPlans = %v, %v", plans, err)
		}

		// Bad input.
		_, _, err = s.PutPlan(ctx, PlanRecord{ID: "bad plan", Currency: "XXX", Document: []byte("{"), Source: "ftp", Checksum: "00"})
		if fe := account.FieldErrors(err); !errors.Is(err, account.ErrInvalid) || len(fe) != 6 {
			t.Fatalf("invalid plan: %v (%d field errors)", err, len(fe))
		}

		// Delete: refused while assigned now or in the future.
		mustCreateAccount(t, s, newAccount(t, "acc-1"))
		now := db.clock.Now()
		if _, err := s.AssignPlan(ctx, "acc-1", "premium", now.Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		wantErr(t, s.DeletePlan(ctx, "premium"), ErrInUse, "acc-1")
		if _, err := s.AssignPlan(ctx, "acc-1", "basic", now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		wantErr(t, s.DeletePlan(ctx, "basic"), ErrInUse)
		if err := s.DeletePlan(ctx, "premium"); err != nil {
			t.Fatalf("DeletePlan(premium) after its future assignment was dropped: %v", err)
		}
		wantErr(t, s.DeletePlan(ctx, "premium"), ErrNotFound)
		_, err = s.GetPlan(ctx, "premium")
		wantErr(t, err, ErrNotFound)
		old, err := s.GetPlanVersion(ctx, "premium", 1)
		if err != nil || !old.Deleted {
			t.Fatalf("deleted plan's version: %+v, %v", old, err)
		}
		_, err = s.AssignPlan(ctx, "acc-1", "premium", now)
		wantErr(t, err, ErrNotFound, "plan_id")
		if plans, _ := s.ListPlans(ctx); len(plans) != 1 {
			t.Fatalf("ListPlans after delete: %v", plans)
		}
		// A plan whose assignments all ended in the past can be deleted.
		mustPutPlan(t, s, "old", `{}`)
		if _, err := s.AssignPlan(ctx, "acc-1", "old", now.Add(-2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AssignPlan(ctx, "acc-1", "basic", now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.DeletePlan(ctx, "old"); err != nil {
			t.Fatalf("DeletePlan(old): %v", err)
		}
		// Putting a deleted plan revives it with a new version.
		rev, created, err := s.PutPlan(ctx, PlanRecord{ID: "premium", Name: "Premium", Currency: "EUR", Document: []byte(`{"premium":true}`)})
		if err != nil || !created || rev.Version != 2 || rev.Deleted || rev.Source != SourceAPI {
			t.Fatalf("revive = %+v, %v, %v", rev, created, err)
		}
		if _, err := s.GetPlan(ctx, "premium"); err != nil {
			t.Fatal(err)
		}
		// Generated plan id.
		gen := mustPutPlan(t, s, "", `{}`)
		if _, err := uuid.Parse(gen.ID); err != nil {
			t.Errorf("generated plan id %q", gen.ID)
		}
	})
}

func TestAssignmentHistory(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		s := db.open(t)
		mustCreateAccount(t, s, newAccount(t, "acc-1"))
		mustPutPlan(t, s, "A", `{"plan":"A"}`)
		mustPutPlan(t, s, "B", `{"plan":"B"}`)
		mustPutPlan(t, s, "C", `{"plan":"C"}`)
		loc := time.FixedZone("CET", 3600)
		t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, loc)
		t1 := t0.Add(30 * 24 * time.Hour)
		t2 := t1.Add(30*24*time.Hour + 123456*time.Microsecond)

		a0, err := s.AssignPlan(ctx, "acc-1", "A", t0)
		if err != nil {
			t.Fatal(err)
		}
		if !a0.ValidFrom.Equal(t0) || a0.ValidFrom.Location() != time.UTC || a0.ValidUntil != nil {
			t.Fatalf("assignment %+v", a0)
		}
		db.clock.Advance(time.Second)
		if _, err := s.AssignPlan(ctx, "acc-1", "B", t1); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AssignPlan(ctx, "acc-1", "A", t2); err != nil {
			t.Fatal(err)
		}
		planAt := func(at time.Time) string {
			t.Helper()
			a, err := s.PlanAt(ctx, "acc-1", at)
			if errors.Is(err, ErrNotFound) {
				return "-"
			}
			if err != nil {
				t.Fatal(err)
			}
			if !a.Covers(at) {
				t.Errorf("PlanAt(%v) = %+v does not cover it", at, a)
			}
			return a.PlanID
		}
		checks := []struct {
			at   time.Time
			want string
		}{
			{t0.Add(-time.Microsecond), "-"},
			{t0, "A"},
			{t1.Add(-time.Microsecond), "A"},
			{t1.Add(-time.Nanosecond), "A"},
			{t1, "B"},
			{t2.Add(-time.Microsecond), "B"},
			{t2, "A"},
			{t2.Add(100 * 365 * 24 * time.Hour), "A"},
		}
		for _, c := range checks {
			if got := planAt(c.at); got != c.want {
				t.Errorf("PlanAt(%v) = %s, want %s", c.at, got, c.want)
			}
		}
		hist, err := s.ListAssignments(ctx, "acc-1")
		if err != nil || len(hist) != 3 {
			t.Fatalf("ListAssignments = %v, %v", hist, err)
		}
		want := []struct {
			plan        string
			from, until time.Time
		}{{"A", t0, t1}, {"B", t1, t2}, {"A", t2, time.Time{}}}
		for i, w := range want {
			h := hist[i]
			if h.PlanID != w.plan || !h.ValidFrom.Equal(w.from) || (h.ValidUntil == nil) != w.until.IsZero() ||
				(h.ValidUntil != nil && !h.ValidUntil.Equal(w.until)) {
				t.Errorf("history[%d] = %+v, want %v", i, h, w)
			}
		}

		// Idempotent: same plan, same instant.
		db.clock.Advance(time.Second)
		again, err := s.AssignPlan(ctx, "acc-1", "A", t2)
		if err != nil || !again.CreatedAt.Equal(hist[2].CreatedAt) || again.ValidUntil != nil {
			t.Fatalf("repeat assignment = %+v, %v", again, err)
		}
		if h, _ := s.ListAssignments(ctx, "acc-1"); len(h) != 3 {
			t.Fatalf("repeat changed history: %v", h)
		}

		// Assigning at an earlier instant trims: C from the middle of B's
		// period ends B there and drops A from t2.
		tc := t1.Add(10 * 24 * time.Hour)
		if _, err := s.AssignPlan(ctx, "acc-1", "C", tc); err != nil {
			t.Fatal(err)
		}
		hist, _ = s.ListAssignments(ctx, "acc-1")
		if len(hist) != 3 || hist[1].PlanID != "B" || !hist[1].ValidUntil.Equal(tc) || hist[2].PlanID != "C" || hist[2].ValidUntil != nil {
			t.Fatalf("after trim: %+v", hist)
		}
		for _, c := range []struct {
			at   time.Time
			want string
		}{{t1, "B"}, {tc, "C"}, {t2, "C"}} {
			if got := planAt(c.at); got != c.want {
				t.Errorf("after trim PlanAt(%v) = %s, want %s", c.at, got, c.want)
			}
		}
		// Replacing the plan at exactly an existing start.
		if _, err := s.AssignPlan(ctx, "acc-1", "A", t1); err != nil {
			t.Fatal(err)
		}
		hist, _ = s.ListAssignments(ctx, "acc-1")
		if len(hist) != 2 || hist[0].PlanID != "A" || !hist[0].ValidUntil.Equal(t1) || hist[1].PlanID != "A" || !hist[1].ValidFrom.Equal(t1) {
			t.Fatalf("after replace at t1: %+v", hist)
		}
		// Re-assigning the first row's plan at its start drops the rest
		// and reopens it.
		if _, err := s.AssignPlan(ctx, "acc-1", "A", t0); err != nil {
			t.Fatal(err)
		}
		hist, _ = s.ListAssignments(ctx, "acc-1")
		if len(hist) != 1 || hist[0].ValidUntil != nil || !hist[0].CreatedAt.Equal(a0.CreatedAt) {
			t.Fatalf("after re-assign at t0: %+v", hist)
		}
		// Earlier than everything: the history starts over.
		early := t0.Add(-time.Hour)
		if _, err := s.AssignPlan(ctx, "acc-1", "B", early); err != nil {
			t.Fatal(err)
		}
		hist, _ = s.ListAssignments(ctx, "acc-1")
		if len(hist) != 1 || hist[0].PlanID != "B" || !hist[0].ValidFrom.Equal(early) {
			t.Fatalf("after earliest: %+v", hist)
		}

		// Errors.
		_, err = s.AssignPlan(ctx, "ghost", "A", t0)
		wantErr(t, err, ErrNotFound, "account_id")
		_, err = s.AssignPlan(ctx, "acc-1", "ghost", t0)
		wantErr(t, err, ErrNotFound, "plan_id")
		_, err = s.AssignPlan(ctx, "acc-1", "A", time.Time{})
		wantErr(t, err, account.ErrInvalid, "valid_from")
		_, err = s.ListAssignments(ctx, "ghost")
		wantErr(t, err, ErrNotFound)
		_, err = s.PlanAt(ctx, "ghost", t0)
		wantErr(t, err, ErrNotFound)

		// Deleting the account deletes its plan history.
		if err := s.DeleteAccount(ctx, "acc-1"); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := s.queryRow(ctx, s.db, `SELECT count(*) FROM plan_assignments`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("assignments left: %d, %v", n, err)
		}
	})
}

func TestConcurrentAssignments(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		s := db.open(t)
		mustCreateAccount(t, s, newAccount(t, "acc-1"))
		for _, p := range []string{"A", "B", "C", "D"} {
			mustPutPlan(t, s, p, `{"p":"`+p+`"}`)
		}
		t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				plan := string(rune('A' + i%4))
				_, err := s.AssignPlan(ctx, "acc-1", plan, t0.Add(time.Duration(i%7)*time.Hour))
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		hist, err := s.ListAssignments(ctx, "acc-1")
		if err != nil || len(hist) == 0 {
			t.Fatal(hist, err)
		}
		// Whatever the interleaving, the history has no overlaps or gaps and
		// only its last row is open.
		for i, h := range hist {
			last := i == len(hist)-1
			if (h.ValidUntil == nil) != last {
				t.Fatalf("row %d open=%v: %+v", i, h.ValidUntil == nil, hist)
			}
			if !last && !h.ValidUntil.Equal(hist[i+1].ValidFrom) {
				t.Fatalf("gap or overlap after row %d: %+v", i, hist)
			}
		}
	})
}

func TestConcurrentOpenMigrates(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		const n = 4
		var wg sync.WaitGroup
		errs := make(chan error, n)
		stores := make(chan *Store, n)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := Open(ctx, db.cfg, nil)
				errs <- err
				if err == nil {
					stores <- s
				}
			}()
		}
		wg.Wait()
		close(errs)
		close(stores)
		for s := range stores {
			defer s.Close()
		}
		for err := range errs {
			if err != nil {
				t.Fatalf("concurrent Open: %v", err)
			}
		}
		s := db.open(t)
		var rows int
		if err := s.queryRow(ctx, s.db, `SELECT count(*) FROM schema_migrations`).Scan(&rows); err != nil || rows != s.LatestSchemaVersion() {
			t.Fatalf("schema_migrations rows = %d, %v", rows, err)
		}
	})
}
