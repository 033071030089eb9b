package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/tollgate-billing/tollgate/internal/account"
	"github.com/tollgate-billing/tollgate/internal/balance"
	"github.com/tollgate-billing/tollgate/internal/money"
	"github.com/tollgate-billing/tollgate/internal/store"
	"github.com/tollgate-billing/tollgate/internal/usage"
)

// Balances is the balance engine (package balance).
type Balances interface {
	Do(ctx context.Context, op *balance.Op) (balance.Result, error)
	Account(ctx context.Context, id string) (balance.AccountView, error)
}

// LedgerReader queries the SQL ledger projection.
type LedgerReader interface {
	Ledger(ctx context.Context, q store.LedgerQuery) ([]store.LedgerRow, string, error)
}

// syncAccount pushes an account's master data into the balance engine.
func (a *API) syncAccount(ctx context.Context, acc account.Account) error {
	if a.Balances == nil {
		return nil
	}
	op := balance.OpenAccountOp(acc)
	_, err := a.Balances.Do(ctx, &op)
	return err
}

// balanceDo applies op; if the engine does not know the account yet it
// mirrors the account from master data and retries once ([balance.Mirror]).
func (a *API) balanceDo(ctx context.Context, op *balance.Op) (balance.Result, error) {
	if a.Balances == nil {
		return balance.Result{}, &Error{Code: CodeUnavailable, Message: "the balance engine is not running", status: http.StatusServiceUnavailable}
	}
	return balance.Mirror{Engine: a.Balances, Account: a.Accounts.GetAccount}.Do(ctx, op)
}

// applyOp applies op and answers with its result.
func (a *API) applyOp(w http.ResponseWriter, r *http.Request, op *balance.Op) error {
	res, err := a.balanceDo(r.Context(), op)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// quantities parses the optional amount and unit/units of a request.
func quantities(amount string, amountRequired bool, unit string, units uint64) (money.Decimal, usage.Unit, error) {
	d, err := parseAmount("amount", amount, amountRequired)
	if err != nil {
		return d, usage.Invalid, err
	}
	u, err := parseUnit(unit, units)
	return d, u, err
}

// moneyInput is the body of top-up, credit, adjustment and debit requests.
type moneyInput struct {
	Key    string `json:"key"`
	Amount string `json:"amount"`
	Unit   string `json:"unit"`
	Units  uint64 `json:"units"`
	Reason string `json:"reason"`
}

// key returns the idempotency key from the body or the Idempotency-Key
// header; one of them is required.
func idemKey(r *http.Request, body string) (string, error) {
	if body != "" {
		return body, nil
	}
	if h := r.Header.Get("Idempotency-Key"); h != "" {
		return h, nil
	}
	return "", badRequest("key", "an idempotency key is required: give \"key\" in the body or an Idempotency-Key header")
}

func parseAmount(field, s string, required bool) (money.Decimal, error) {
	if s == "" {
		if required {
			return money.Decimal{}, badRequest(field, "%s is required", field)
		}
		return money.Decimal{}, nil
	}
	d, err := money.Parse(s)
	if err != nil {
		return money.Decimal{}, badRequest(field, "%v", err)
	}
	return d, nil
}

func parseUnit(s string, units uint64) (usage.Unit, error) {
	if units == 0 && s == "" {
		return usage.Invalid, nil
	}
	u, err := usage.ParseUnit(s)
	if err != nil {
		return usage.Invalid, badRequest("unit", "%v", err)
	}
	return u, nil
}

// moneyHandler builds the handler of a money movement of kind k.
func (a *API) moneyHandler(k balance.Kind) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in moneyInput
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
		key, err := idemKey(r, in.Key)
		if err != nil {
			return err
		}
		amount, unit, err := quantities(in.Amount, k != balance.KindDebit, in.Unit, in.Units)
		if err != nil {
			return err
		}
		if (k == balance.KindAdjust || k == balance.KindCredit) && in.Reason == "" {
			return badRequest("reason", "a reason is required for %s", k)
		}
		op := balance.Op{Kind: k, Key: key, Account: r.PathValue("id"), Amount: amount, Unit: unit, Units: in.Units, Reason: in.Reason}
		res, err := a.balanceDo(r.Context(), &op)
		if err != nil {
			return err
		}
		if a.Notify != nil && raisesBalance(&op) {
			// Also for a replayed op: the first one's hook may have been
			// lost with its node; a repeated notification is harmless.
			a.Notify.BalanceRaised(r.Context(), op.Account)
		}
		writeJSON(w, http.StatusOK, res)
		return nil
	}
}

// raisesBalance reports whether op adds money to the account: a top-up, a
// credit, a positive adjustment.
func raisesBalance(op *balance.Op) bool {
	switch op.Kind {
	case balance.KindTopUp, balance.KindCredit, balance.KindAdjust:
		return op.Amount.Sign() > 0
	}
	return false
}

// bucketInput is the body of POST /accounts/{id}/buckets.
type bucketInput struct {
	Key        string     `json:"key"`
	ID         string     `json:"id"`
	Unit       string     `json:"unit"`
	Units      uint64     `json:"units"`
	ValidFrom  *time.Time `json:"valid_from"`
	ValidUntil *time.Time `json:"valid_until"`
	Priority   int32      `json:"priority"`
}

func (a *API) grantBucket(w http.ResponseWriter, r *http.Request) error {
	var in bucketInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	key, err := idemKey(r, in.Key)
	if err != nil {
		return err
	}
	if in.ID == "" {
		return badRequest("id", "the bucket id is required")
	}
	unit, err := usage.ParseUnit(in.Unit)
	if err != nil {
		return badRequest("unit", "%v", err)
	}
	b := balance.Bucket{ID: in.ID, Unit: unit, Units: in.Units, Priority: in.Priority}
	if in.ValidFrom != nil {
		b.ValidFrom = in.ValidFrom.UnixNano()
	}
	if in.ValidUntil != nil {
		b.ValidUntil = in.ValidUntil.UnixNano()
	}
	op := balance.Op{Kind: balance.KindGrantBucket, Key: key, Account: r.PathValue("id"), Bucket: b}
	return a.applyOp(w, r, &op)
}

// reservationInput is the body of reserve, commit and release requests.
type reservationInput struct {
	Key         string     `json:"key"`
	Reservation string     `json:"reservation"`
	Amount      string     `json:"amount"`
	Unit        string     `json:"unit"`
	Units       uint64     `json:"units"`
	ExpiresAt   *time.Time `json:"expires_at"`
	ExpiresIn   string     `json:"expires_in"`
	Partial     bool       `json:"partial"`
}

func (a *API) reserve(w http.ResponseWriter, r *http.Request) error {
	var in reservationInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	key, err := idemKey(r, in.Key)
	if err != nil {
		return err
	}
	if in.Reservation == "" {
		return badRequest("reservation", "the reservation id is required")
	}
	amount, unit, err := quantities(in.Amount, false, in.Unit, in.Units)
	if err != nil {
		return err
	}
	expires := a.now().Add(5 * time.Minute)
	switch {
	case in.ExpiresAt != nil && in.ExpiresIn != "":
		return badRequest("expires_in", "give expires_at or expires_in, not both")
	case in.ExpiresAt != nil:
		expires = *in.ExpiresAt
	case in.ExpiresIn != "":
		d, err := time.ParseDuration(in.ExpiresIn)
		if err != nil || d <= 0 {
			return badRequest("expires_in", "expires_in must be a positive duration such as \"5m\"")
		}
		expires = a.now().Add(d)
	}
	op := balance.Op{Kind: balance.KindReserve, Key: key, Account: r.PathValue("id"), Reservation: in.Reservation,
		Amount: amount, Unit: unit, Units: in.Units, Expires: expires.UnixNano(), Partial: in.Partial}
	return a.applyOp(w, r, &op)
}

func (a *API) finishReservation(k balance.Kind) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in reservationInput
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
		key, err := idemKey(r, in.Key)
		if err != nil {
			return err
		}
		amount, unit, err := quantities(in.Amount, false, in.Unit, in.Units)
		if err != nil {
			return err
		}
		op := balance.Op{Kind: k, Key: key, Account: r.PathValue("id"), Reservation: r.PathValue("rid"),
			Amount: amount, Unit: unit, Units: in.Units}
		return a.applyOp(w, r, &op)
	}
}

func (a *API) getBalance(w http.ResponseWriter, r *http.Request) error {
	if a.Balances == nil {
		return &Error{Code: CodeUnavailable, Message: "the balance engine is not running", status: http.StatusServiceUnavailable}
	}
	id := r.PathValue("id")
	v, err := a.Balances.Account(r.Context(), id)
	if errors.Is(err, balance.ErrUnknownAccount) {
		// Known in master data but never charged: mirror it, then read.
		acc, gerr := a.Accounts.GetAccount(r.Context(), id)
		if gerr != nil {
			return gerr
		}
		if err = a.syncAccount(r.Context(), acc); err == nil {
			v, err = a.Balances.Account(r.Context(), id)
		}
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) getLedger(w http.ResponseWriter, r *http.Request) error {
	if a.Ledger == nil {
		return &Error{Code: CodeUnavailable, Message: "the ledger is not available", status: http.StatusServiceUnavailable}
	}
	opts, err := listOptions(r)
	if err != nil {
		return err
	}
	q := store.LedgerQuery{Account: r.PathValue("id"), Limit: opts.Limit, After: opts.After}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if s := r.URL.Query().Get(p.name); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return badRequest(p.name, "%s must be an RFC 3339 time, got %q", p.name, s)
			}
			*p.dst = t
		}
	}
	rows, next, err := a.Ledger.Ledger(r.Context(), q)
	if err != nil {
		return err
	}
	if rows == nil {
		rows = []store.LedgerRow{}
	}
	writeJSON(w, http.StatusOK, page[store.LedgerRow]{Items: rows, Next: next})
	return nil
}
