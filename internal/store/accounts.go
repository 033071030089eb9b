package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/tollgate-billing/tollgate/internal/account"
	"github.com/tollgate-billing/tollgate/internal/money"
)

// ListOptions pages through a list ordered by id.
type ListOptions struct {
	// Limit is the page size: 0 means DefaultLimit, at most MaxLimit.
	Limit int
	// After is the cursor: the id after which the page starts (the next
	// cursor of the previous page); empty for the first page.
	After string
	// Status filters by status ("active" …); empty for all.
	Status string
}

// Page sizes.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// resolve checks o and returns the page size and the status filter (""
// for none).
func (o ListOptions) resolve() (int, string, error) {
	limit := o.Limit
	switch {
	case limit == 0:
		limit = DefaultLimit
	case limit < 0 || limit > MaxLimit:
		return 0, "", &account.FieldError{Field: "limit", Msg: fmt.Sprintf("must be between 1 and %d", MaxLimit)}
	}
	var status string
	if o.Status != "" {
		st, err := account.ParseStatus(o.Status)
		if err != nil {
			return 0, "", &account.FieldError{Field: "status", Msg: "must be active, suspended, barred or closed"}
		}
		status = st.String()
	}
	return limit, status, nil
}

// newID returns a fresh UUIDv7 string (time-ordered, so id order is roughly
// creation order).
func newID() (string, error) {
	u, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("store: generate id: %w", err)
	}
	return u.String(), nil
}

const accountCols = `id, name, external_id, type, currency, credit_limit, status, billing_day, version, created_at, updated_at`

type rowScanner interface{ Scan(dest ...any) error }

func scanAccount(r rowScanner) (account.Account, error) {
	var (
		a                account.Account
		typ, cur, status string
	)
	err := r.Scan(&a.ID, &a.Name, strCol{&a.ExternalID}, &typ, &cur, &a.CreditLimit, &status, &a.BillingDay,
		&a.Version, timeCol{&a.CreatedAt}, timeCol{&a.UpdatedAt})
	if err != nil {
		return account.Account{}, err
	}
	if a.Type, err = account.ParseType(typ); err != nil {
		return account.Account{}, fmt.Errorf("store: account %s: %w", a.ID, err)
	}
	if a.Status, err = account.ParseStatus(status); err != nil {
		return account.Account{}, fmt.Errorf("store: account %s: %w", a.ID, err)
	}
	if a.Currency, err = money.LookupCurrency(cur); err != nil {
		return account.Account{}, fmt.Errorf("store: account %s: %w", a.ID, err)
	}
	return a, nil
}

// CreateAccount stores a new account with version 1 and returns it. An empty
// ID is generated (UUIDv7); status and billing day default to active and 1.
// Create is idempotent: if the ID exists with the same content the stored
// account is returned with created=false; with different content the error
// is ErrConflict. A duplicate external_id is ErrConflict too.
func (s *Store) CreateAccount(ctx context.Context, a account.Account) (account.Account, bool, error) {
	a = a.WithDefaults()
	if err := a.Validate(); err != nil {
		return account.Account{}, false, err
	}
	if a.ID == "" {
		id, err := newID()
		if err != nil {
			return account.Account{}, false, err
		}
		a.ID = id
	}
	now := dbTime(s.now())
	a.Version, a.CreatedAt, a.UpdatedAt = 1, now, now
	var (
		out     account.Account
		created bool
	)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, `INSERT INTO accounts (`+accountCols+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			a.ID, a.Name, nullString(a.ExternalID), a.Type.String(), a.Currency.Code, a.CreditLimit,
			a.Status.String(), a.BillingDay, a.Version, s.timeArg(a.CreatedAt), s.timeArg(a.UpdatedAt))
		if err != nil {
			return accountWriteErr(err, a)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 1 {
			out, created = a, true
			return nil
		}
		cur, err := s.getAccount(ctx, tx, a.ID, false)
		if err != nil {
			return err
		}
		if !cur.SameContent(a) {
			return fmt.Errorf("%w: account %s exists with different content", ErrConflict, a.ID)
		}
		out = cur
		return nil
	})
	if err != nil {
		return account.Account{}, false, err
	}
	return out, created, nil
}

// accountWriteErr names the field of a constraint violation on accounts.
func accountWriteErr(err error, a account.Account) error {
	v := classify(err)
	if v.kind == uniqueViolation {
		switch v.column {
		case "external_id":
			return fmt.Errorf("%w: external_id %q already belongs to another account", ErrConflict, a.ExternalID)
		case "id":
			return fmt.Errorf("%w: account %s already exists", ErrConflict, a.ID)
		}
	}
	return mapErr(err)
}

// GetAccount returns the account with the given id, or ErrNotFound.
func (s *Store) GetAccount(ctx context.Context, id string) (account.Account, error) {
	return s.getAccount(ctx, s.db, id, false)
}

func (s *Store) getAccount(ctx context.Context, q querier, id string, lock bool) (account.Account, error) {
	query := `SELECT ` + accountCols + ` FROM accounts WHERE id = ?`
	if lock {
		query += s.forUpdate()
	}
	a, err := scanAccount(s.queryRow(ctx, q, query, id))
	if errors.Is(err, sql.ErrNoRows) {
		return account.Account{}, fmt.Errorf("%w: account %s", ErrNotFound, id)
	}
	if err != nil {
		return account.Account{}, fmt.Errorf("store: get account %s: %w", id, err)
	}
	return a, nil
}

// ListAccounts returns a page of accounts ordered by id, and the cursor of
// the next page ("" after the last page).
func (s *Store) ListAccounts(ctx context.Context, opt ListOptions) ([]account.Account, string, error) {
	limit, status, err := opt.resolve()
	if err != nil {
		return nil, "", err
	}
	query, args := `SELECT `+accountCols+` FROM accounts WHERE id > ?`, []any{opt.After}
	if status != "" {
		query, args = query+` AND status = ?`, append(args, status)
	}
	rows, err := s.query(ctx, s.db, query+` ORDER BY id LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, "", fmt.Errorf("store: list accounts: %w", err)
	}
	defer rows.Close()
	var out []account.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, "", fmt.Errorf("store: list accounts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("store: list accounts: %w", err)
	}
	return page(out, limit, func(a account.Account) string { return a.ID })
}

// page trims a result fetched with limit+1 rows and computes the cursor.
func page[T any](rows []T, limit int, id func(T) string) ([]T, string, error) {
	if len(rows) <= limit {
		return rows, "", nil
	}
	rows = rows[:limit]
	return rows, id(rows[limit-1]), nil
}

// UpdateAccount replaces the account's content. a.Version must equal the
// stored version (else ErrStale); the stored version then increments and the
// updated account is returned. Repeating an update that already took effect
// (same content, stored version = a.Version+1) returns the stored account, as
// does an update that changes nothing. The currency cannot change
// (ErrConflict): balances and bills are in it.
func (s *Store) UpdateAccount(ctx context.Context, a account.Account) (account.Account, error) {
	if err := a.Validate(); err != nil {
		return account.Account{}, err
	}
	if a.ID == "" {
		return account.Account{}, &account.FieldError{Field: "id", Msg: "required"}
	}
	var out account.Account
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := s.getAccount(ctx, tx, a.ID, true)
		if err != nil {
			return err
		}
		same := cur.SameContent(a)
		switch {
		case same && (cur.Version == a.Version || cur.Version == a.Version+1):
			out = cur
			return nil
		case cur.Version != a.Version:
			return fmt.Errorf("%w: account %s is at version %d, update was based on %d", ErrStale, a.ID, cur.Version, a.Version)
		case cur.Currency != a.Currency:
			return fmt.Errorf("%w: account %s: currency cannot change from %s to %s", ErrConflict, a.ID, cur.Currency, a.Currency)
		}
		a.Version = cur.Version + 1
		a.CreatedAt = cur.CreatedAt
		a.UpdatedAt = dbTime(s.now())
		res, err := s.exec(ctx, tx, `UPDATE accounts SET name = ?, external_id = ?, type = ?, credit_limit = ?,
status = ?, billing_day = ?, version = ?, updated_at = ? WHERE id = ? AND version = ?`,
			a.Name, nullString(a.ExternalID), a.Type.String(), a.CreditLimit, a.Status.String(), a.BillingDay,
			a.Version, s.timeArg(a.UpdatedAt), a.ID, cur.Version)
		if err != nil {
			return accountWriteErr(err, a)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return fmt.Errorf("%w: account %s changed concurrently", ErrStale, a.ID)
		}
		out = a
		return nil
	})
	if err != nil {
		return account.Account{}, err
	}
	return out, nil
}

// DeleteAccount deletes an account and its plan history. It fails with
// ErrInUse while subscribers refer to it (operators close accounts by
// setting the status instead) and with ErrNotFound if it does not exist.
func (s *Store) DeleteAccount(ctx context.Context, id string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.getAccount(ctx, tx, id, true); err != nil {
			return err
		}
		var n int64
		if err := s.queryRow(ctx, tx, `SELECT count(*) FROM subscribers WHERE account_id = ?`, id).Scan(&n); err != nil {
			return fmt.Errorf("store: delete account %s: %w", id, err)
		}
		if n > 0 {
			return fmt.Errorf("%w: account %s has %d subscriber(s)", ErrInUse, id, n)
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM plan_assignments WHERE account_id = ?`, id); err != nil {
			return fmt.Errorf("store: delete account %s: %w", id, mapErr(err))
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM accounts WHERE id = ?`, id); err != nil {
			if classify(err).kind == foreignKeyViolation {
				return fmt.Errorf("%w: account %s is still referenced", ErrInUse, id)
			}
			return fmt.Errorf("store: delete account %s: %w", id, err)
		}
		return nil
	})
}
