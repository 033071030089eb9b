package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/tollgate-billing/tollgate/internal/account"
	"github.com/tollgate-billing/tollgate/internal/money"
	"github.com/tollgate-billing/tollgate/internal/store"
)

// accountInput is the body of POST /accounts and PATCH /accounts/{id}.
// Every field is optional in a PATCH; enums and money travel as strings so
// that a bad value is reported with its field name.
type accountInput struct {
	ID          *string `json:"id"`
	Name        *string `json:"name"`
	ExternalID  *string `json:"external_id"`
	Type        *string `json:"type"`
	Currency    *string `json:"currency"`
	CreditLimit *string `json:"credit_limit"`
	Status      *string `json:"status"`
	BillingDay  *int    `json:"billing_day"`
	Version     *int64  `json:"version"`
}

// apply copies the set fields of in onto a, collecting every bad field.
func (in *accountInput) apply(a *account.Account, patch bool) error {
	var errs []error
	bad := func(field string, err error) {
		errs = append(errs, &account.FieldError{Field: field, Msg: err.Error()})
	}
	if in.ID != nil {
		if patch && *in.ID != a.ID {
			bad("id", errors.New("id cannot be changed"))
		}
		a.ID = *in.ID
	}
	if in.Name != nil {
		a.Name = *in.Name
	}
	if in.ExternalID != nil {
		a.ExternalID = *in.ExternalID
	}
	if in.Type != nil {
		if err := a.Type.UnmarshalText([]byte(*in.Type)); err != nil {
			bad("type", err)
		}
	}
	if in.Currency != nil {
		if patch && *in.Currency != a.Currency.Code {
			bad("currency", errors.New("the currency of an account cannot be changed"))
		} else if c, err := money.LookupCurrency(*in.Currency); err != nil {
			bad("currency", err)
		} else {
			a.Currency = c
		}
	}
	if in.CreditLimit != nil {
		d, err := money.Parse(*in.CreditLimit)
		if err != nil {
			bad("credit_limit", err)
		}
		a.CreditLimit = d
	}
	if in.Status != nil {
		if err := a.Status.UnmarshalText([]byte(*in.Status)); err != nil {
			bad("status", err)
		}
	}
	if in.BillingDay != nil {
		a.BillingDay = *in.BillingDay
	}
	if len(errs) > 0 {
		return errors.Join(append(errs, account.ErrInvalid)...)
	}
	return nil
}

func (a *API) createAccount(w http.ResponseWriter, r *http.Request) error {
	var in accountInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.Version != nil {
		return badRequest("version", "version is set by the server")
	}
	var acc account.Account
	if err := in.apply(&acc, false); err != nil {
		return err
	}
	acc, created, err := a.Accounts.CreateAccount(r.Context(), acc)
	if err != nil {
		return err
	}
	// Mirror into the balance engine (idempotent per version; a failure
	// here heals at the account's first balance operation).
	if err := a.syncAccount(r.Context(), acc); err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/api/v1/accounts/"+acc.ID)
	}
	w.Header().Set("ETag", etag(acc.Version))
	writeJSON(w, status, acc)
	return nil
}

func (a *API) getAccount(w http.ResponseWriter, r *http.Request) error {
	acc, err := a.Accounts.GetAccount(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(acc.Version))
	writeJSON(w, http.StatusOK, acc)
	return nil
}

func (a *API) listAccounts(w http.ResponseWriter, r *http.Request) error {
	opts, err := listOptions(r)
	if err != nil {
		return err
	}
	items, next, err := a.Accounts.ListAccounts(r.Context(), opts)
	if err != nil {
		return err
	}
	if items == nil {
		items = []account.Account{}
	}
	writeJSON(w, http.StatusOK, page[account.Account]{Items: items, Next: next})
	return nil
}

// patchAccount applies a partial update. The version to update comes from
// If-Match or the body's "version"; without either, the current version is
// used (last writer wins), with either a concurrent change is a 409.
func (a *API) patchAccount(w http.ResponseWriter, r *http.Request) error {
	var in accountInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	acc, err := a.Accounts.GetAccount(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if v, ok, err := ifMatch(r); err != nil {
		return err
	} else if ok {
		acc.Version = v
	}
	if in.Version != nil {
		acc.Version = *in.Version
	}
	before := acc.Status
	if err := in.apply(&acc, true); err != nil {
		return err
	}
	acc, err = a.Accounts.UpdateAccount(r.Context(), acc)
	if err != nil {
		return err
	}
	if err := a.syncAccount(r.Context(), acc); err != nil {
		return err
	}
	if a.Notify != nil && acc.Status != before {
		a.Notify.AccountStatusChanged(r.Context(), acc)
	}
	w.Header().Set("ETag", etag(acc.Version))
	writeJSON(w, http.StatusOK, acc)
	return nil
}

func (a *API) deleteAccount(w http.ResponseWriter, r *http.Request) error {
	if err := a.Accounts.DeleteAccount(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// subscriberInput is the body of POST /accounts/{id}/subscribers and PATCH
// /subscribers/{id}.
type subscriberInput struct {
	ID         *string `json:"id"`
	AccountID  *string `json:"account_id"`
	IMSI       *string `json:"imsi"`
	MSISDN     *string `json:"msisdn"`
	SUPI       *string `json:"supi"`
	ExternalID *string `json:"external_id"`
	Status     *string `json:"status"`
	Version    *int64  `json:"version"`
}

func (in *subscriberInput) apply(s *account.Subscriber, patch bool) error {
	var errs []error
	if in.ID != nil {
		if patch && *in.ID != s.ID {
			errs = append(errs, &account.FieldError{Field: "id", Msg: "id cannot be changed"})
		}
		s.ID = *in.ID
	}
	if in.AccountID != nil {
		if *in.AccountID != s.AccountID {
			errs = append(errs, &account.FieldError{Field: "account_id", Msg: "account_id is given by the URL and cannot be changed"})
		}
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&s.IMSI, in.IMSI)
	set(&s.MSISDN, in.MSISDN)
	set(&s.SUPI, in.SUPI)
	set(&s.ExternalID, in.ExternalID)
	if in.Status != nil {
		if err := s.Status.UnmarshalText([]byte(*in.Status)); err != nil {
			errs = append(errs, &account.FieldError{Field: "status", Msg: err.Error()})
		}
	}
	if len(errs) > 0 {
		return errors.Join(append(errs, account.ErrInvalid)...)
	}
	return nil
}

func (a *API) createSubscriber(w http.ResponseWriter, r *http.Request) error {
	var in subscriberInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.Version != nil {
		return badRequest("version", "version is set by the server")
	}
	sub := account.Subscriber{AccountID: r.PathValue("id")}
	if err := in.apply(&sub, false); err != nil {
		return err
	}
	sub, created, err := a.Subscribers.CreateSubscriber(r.Context(), sub)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/api/v1/subscribers/"+sub.ID)
	}
	w.Header().Set("ETag", etag(sub.Version))
	writeJSON(w, status, sub)
	return nil
}

func (a *API) getSubscriber(w http.ResponseWriter, r *http.Request) error {
	sub, err := a.Subscribers.GetSubscriber(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(sub.Version))
	writeJSON(w, http.StatusOK, sub)
	return nil
}

// findSubscriber looks a subscriber up by exactly one identity:
// ?imsi=, ?msisdn=, ?supi= or ?external_id=.
func (a *API) findSubscriber(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var l store.Lookup
	n := 0
	for _, k := range []struct {
		name string
		dst  *string
	}{{"imsi", &l.IMSI}, {"msisdn", &l.MSISDN}, {"supi", &l.SUPI}, {"external_id", &l.ExternalID}} {
		if v := q.Get(k.name); v != "" {
			*k.dst = v
			n++
		}
	}
	if n != 1 {
		return badRequest("", "give exactly one of the query parameters imsi, msisdn, supi, external_id")
	}
	sub, err := a.Subscribers.FindSubscriber(r.Context(), l)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sub)
	return nil
}

func (a *API) listSubscribers(w http.ResponseWriter, r *http.Request) error {
	opts, err := listOptions(r)
	if err != nil {
		return err
	}
	items, next, err := a.Subscribers.ListSubscribers(r.Context(), r.PathValue("id"), opts)
	if err != nil {
		return err
	}
	if items == nil {
		items = []account.Subscriber{}
	}
	writeJSON(w, http.StatusOK, page[account.Subscriber]{Items: items, Next: next})
	return nil
}

func (a *API) patchSubscriber(w http.ResponseWriter, r *http.Request) error {
	var in subscriberInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	sub, err := a.Subscribers.GetSubscriber(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if v, ok, err := ifMatch(r); err != nil {
		return err
	} else if ok {
		sub.Version = v
	}
	if in.Version != nil {
		sub.Version = *in.Version
	}
	if err := in.apply(&sub, true); err != nil {
		return err
	}
	sub, err = a.Subscribers.UpdateSubscriber(r.Context(), sub)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(sub.Version))
	writeJSON(w, http.StatusOK, sub)
	return nil
}

func (a *API) deleteSubscriber(w http.ResponseWriter, r *http.Request) error {
	if err := a.Subscribers.DeleteSubscriber(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// assignmentInput is the body of POST /accounts/{id}/plan-assignments.
type assignmentInput struct {
	PlanID    string     `json:"plan_id"`
	ValidFrom *time.Time `json:"valid_from"`
}

func (a *API) assignPlan(w http.ResponseWriter, r *http.Request) error {
	var in assignmentInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.PlanID == "" {
		return badRequest("plan_id", "plan_id is required")
	}
	from := a.now()
	if in.ValidFrom != nil {
		from = *in.ValidFrom
	}
	as, err := a.Assignments.AssignPlan(r.Context(), r.PathValue("id"), in.PlanID, from)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, as)
	return nil
}

func (a *API) listAssignments(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.Accounts.GetAccount(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	items, err := a.Assignments.ListAssignments(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if items == nil {
		items = []account.Assignment{}
	}
	writeJSON(w, http.StatusOK, page[account.Assignment]{Items: items})
	return nil
}

// currentPlan answers which plan applies to the account at ?at= (RFC 3339;
// default now).
func (a *API) currentPlan(w http.ResponseWriter, r *http.Request) error {
	at := a.now()
	if s := r.URL.Query().Get("at"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return badRequest("at", "at must be an RFC 3339 time, got %q", s)
		}
		at = t
	}
	as, err := a.Assignments.PlanAt(r.Context(), r.PathValue("id"), at)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, as)
	return nil
}
