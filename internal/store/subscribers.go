package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/tollgate-billing/tollgate/internal/account"
)

const subscriberCols = `id, account_id, imsi, msisdn, supi, external_id, status, version, created_at, updated_at`

func scanSubscriber(r rowScanner) (account.Subscriber, error) {
	var (
		sub    account.Subscriber
		status string
	)
	err := r.Scan(&sub.ID, &sub.AccountID, strCol{&sub.IMSI}, strCol{&sub.MSISDN}, strCol{&sub.SUPI},
		strCol{&sub.ExternalID}, &status, &sub.Version, timeCol{&sub.CreatedAt}, timeCol{&sub.UpdatedAt})
	if err != nil {
		return account.Subscriber{}, err
	}
	if sub.Status, err = account.ParseStatus(status); err != nil {
		return account.Subscriber{}, fmt.Errorf("store: subscriber %s: %w", sub.ID, err)
	}
	return sub, nil
}

// subscriberWriteErr names the field of a constraint violation on
// subscribers ("imsi \"001010000000001\" already belongs to another
// subscriber").
func subscriberWriteErr(err error, sub account.Subscriber) error {
	v := classify(err)
	switch v.kind {
	case uniqueViolation:
		value := map[string]string{"imsi": sub.IMSI, "msisdn": sub.MSISDN, "supi": sub.SUPI, "external_id": sub.ExternalID}
		if val, ok := value[v.column]; ok {
			return fmt.Errorf("%w: %s %q already belongs to another subscriber", ErrConflict, v.column, val)
		}
		if v.column == "id" {
			return fmt.Errorf("%w: subscriber %s already exists", ErrConflict, sub.ID)
		}
	case foreignKeyViolation:
		return fmt.Errorf("%w: account_id: account %s", ErrNotFound, sub.AccountID)
	}
	return mapErr(err)
}

// CreateSubscriber stores a new subscriber with version 1 and returns it in
// its normalized form (see account.Subscriber.Normalized). An empty ID is
// generated; the status defaults to active. The account must exist
// (ErrNotFound naming account_id). A set IMSI, MSISDN, SUPI or external id
// that another subscriber has is ErrConflict naming the field. Create is
// idempotent like CreateAccount.
func (s *Store) CreateSubscriber(ctx context.Context, sub account.Subscriber) (account.Subscriber, bool, error) {
	sub = sub.Normalized().WithDefaults()
	if err := sub.Validate(); err != nil {
		return account.Subscriber{}, false, err
	}
	if sub.ID == "" {
		id, err := newID()
		if err != nil {
			return account.Subscriber{}, false, err
		}
		sub.ID = id
	}
	now := dbTime(s.now())
	sub.Version, sub.CreatedAt, sub.UpdatedAt = 1, now, now
	var (
		out     account.Subscriber
		created bool
	)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if cur, err := s.getSubscriber(ctx, tx, sub.ID); err == nil {
			if !cur.SameContent(sub) {
				return fmt.Errorf("%w: subscriber %s exists with different content", ErrConflict, sub.ID)
			}
			out = cur
			return nil
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := s.accountExists(ctx, tx, sub.AccountID); err != nil {
			return err
		}
		res, err := s.exec(ctx, tx, `INSERT INTO subscribers (`+subscriberCols+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			sub.ID, sub.AccountID, nullString(sub.IMSI), nullString(sub.MSISDN), nullString(sub.SUPI),
			nullString(sub.ExternalID), sub.Status.String(), sub.Version, s.timeArg(sub.CreatedAt), s.timeArg(sub.UpdatedAt))
		if err != nil {
			return subscriberWriteErr(err, sub)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 1 {
			out, created = sub, true
			return nil
		}
		// Inserted concurrently by another transaction since our read.
		cur, err := s.getSubscriber(ctx, tx, sub.ID)
		if err != nil {
			return err
		}
		if !cur.SameContent(sub) {
			return fmt.Errorf("%w: subscriber %s exists with different content", ErrConflict, sub.ID)
		}
		out = cur
		return nil
	})
	if err != nil {
		return account.Subscriber{}, false, err
	}
	return out, created, nil
}

// accountExists returns ErrNotFound naming account_id unless the account
// exists. In PostgreSQL it share-locks the row so that the account cannot be
// deleted before the transaction ends.
func (s *Store) accountExists(ctx context.Context, tx *sql.Tx, id string) error {
	query := `SELECT id FROM accounts WHERE id = ?`
	if s.pg() {
		query += ` FOR SHARE`
	}
	var got string
	err := s.queryRow(ctx, tx, query, id).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: account_id: account %s", ErrNotFound, id)
	}
	if err != nil {
		return fmt.Errorf("store: look up account %s: %w", id, err)
	}
	return nil
}

// GetSubscriber returns the subscriber with the given id, or ErrNotFound.
func (s *Store) GetSubscriber(ctx context.Context, id string) (account.Subscriber, error) {
	return s.getSubscriber(ctx, s.db, id)
}

func (s *Store) getSubscriber(ctx context.Context, q querier, id string) (account.Subscriber, error) {
	sub, err := scanSubscriber(s.queryRow(ctx, q, `SELECT `+subscriberCols+` FROM subscribers WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return account.Subscriber{}, fmt.Errorf("%w: subscriber %s", ErrNotFound, id)
	}
	if err != nil {
		return account.Subscriber{}, fmt.Errorf("store: get subscriber %s: %w", id, err)
	}
	return sub, nil
}

// Lookup finds a subscriber by exactly one of its identifiers.
type Lookup struct {
	IMSI       string
	MSISDN     string // with or without a leading '+'
	SUPI       string // "imsi-…" or "nai-…"
	ExternalID string
}

// FindSubscriber returns the subscriber with the identifier given in l, or
// ErrNotFound. Exactly one field of l must be set.
func (s *Store) FindSubscriber(ctx context.Context, l Lookup) (account.Subscriber, error) {
	norm := account.Subscriber{IMSI: l.IMSI, MSISDN: l.MSISDN, SUPI: l.SUPI, ExternalID: l.ExternalID}.Normalized()
	var col, val string
	n := 0
	for _, c := range []struct{ col, val string }{
		{"imsi", l.IMSI}, {"msisdn", norm.MSISDN}, {"supi", norm.SUPI}, {"external_id", l.ExternalID},
	} {
		if c.val != "" {
			col, val = c.col, c.val
			n++
		}
	}
	if n != 1 {
		return account.Subscriber{}, &account.FieldError{Msg: "lookup needs exactly one of imsi, msisdn, supi and external_id"}
	}
	sub, err := scanSubscriber(s.queryRow(ctx, s.db, `SELECT `+subscriberCols+` FROM subscribers WHERE `+col+` = ?`, val))
	if errors.Is(err, sql.ErrNoRows) {
		return account.Subscriber{}, fmt.Errorf("%w: subscriber with %s %q", ErrNotFound, col, val)
	}
	if err != nil {
		return account.Subscriber{}, fmt.Errorf("store: find subscriber by %s: %w", col, err)
	}
	return sub, nil
}

// ListSubscribers returns a page of the account's subscribers ordered by
// id, and the cursor of the next page ("" after the last page). An empty
// accountID lists all subscribers. An unknown account is ErrNotFound.
func (s *Store) ListSubscribers(ctx context.Context, accountID string, opt ListOptions) ([]account.Subscriber, string, error) {
	limit, status, err := opt.resolve()
	if err != nil {
		return nil, "", err
	}
	query, args := `SELECT `+subscriberCols+` FROM subscribers WHERE id > ?`, []any{opt.After}
	if accountID != "" {
		if _, err := s.GetAccount(ctx, accountID); err != nil {
			return nil, "", err
		}
		query, args = query+` AND account_id = ?`, append(args, accountID)
	}
	if status != "" {
		query, args = query+` AND status = ?`, append(args, status)
	}
	rows, err := s.query(ctx, s.db, query+` ORDER BY id LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, "", fmt.Errorf("store: list subscribers: %w", err)
	}
	defer rows.Close()
	var out []account.Subscriber
	for rows.Next() {
		sub, err := scanSubscriber(rows)
		if err != nil {
			return nil, "", fmt.Errorf("store: list subscribers: %w", err)
		}
		out = append(out, sub)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("store: list subscribers: %w", err)
	}
	return page(out, limit, func(sub account.Subscriber) string { return sub.ID })
}

// UpdateSubscriber replaces the subscriber's content (it may move to another
// account, which must exist) with optimistic concurrency like
// UpdateAccount: sub.Version must equal the stored version, else ErrStale.
func (s *Store) UpdateSubscriber(ctx context.Context, sub account.Subscriber) (account.Subscriber, error) {
	sub = sub.Normalized()
	if err := sub.Validate(); err != nil {
		return account.Subscriber{}, err
	}
	if sub.ID == "" {
		return account.Subscriber{}, &account.FieldError{Field: "id", Msg: "required"}
	}
	var out account.Subscriber
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := scanSubscriber(s.queryRow(ctx, tx, `SELECT `+subscriberCols+` FROM subscribers WHERE id = ?`+s.forUpdate(), sub.ID))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: subscriber %s", ErrNotFound, sub.ID)
		}
		if err != nil {
			return fmt.Errorf("store: get subscriber %s: %w", sub.ID, err)
		}
		same := cur.SameContent(sub)
		switch {
		case same && (cur.Version == sub.Version || cur.Version == sub.Version+1):
			out = cur
			return nil
		case cur.Version != sub.Version:
			return fmt.Errorf("%w: subscriber %s is at version %d, update was based on %d", ErrStale, sub.ID, cur.Version, sub.Version)
		}
		if sub.AccountID != cur.AccountID {
			if err := s.accountExists(ctx, tx, sub.AccountID); err != nil {
				return err
			}
		}
		sub.Version = cur.Version + 1
		sub.CreatedAt = cur.CreatedAt
		sub.UpdatedAt = dbTime(s.now())
		res, err := s.exec(ctx, tx, `UPDATE subscribers SET account_id = ?, imsi = ?, msisdn = ?, supi = ?,
external_id = ?, status = ?, version = ?, updated_at = ? WHERE id = ? AND version = ?`,
			sub.AccountID, nullString(sub.IMSI), nullString(sub.MSISDN), nullString(sub.SUPI),
			nullString(sub.ExternalID), sub.Status.String(), sub.Version, s.timeArg(sub.UpdatedAt), sub.ID, cur.Version)
		if err != nil {
			return subscriberWriteErr(err, sub)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return fmt.Errorf("%w: subscriber %s changed concurrently", ErrStale, sub.ID)
		}
		out = sub
		return nil
	})
	if err != nil {
		return account.Subscriber{}, err
	}
	return out, nil
}

// DeleteSubscriber deletes a subscriber, or returns ErrNotFound.
func (s *Store) DeleteSubscriber(ctx context.Context, id string) error {
	res, err := s.exec(ctx, s.db, `DELETE FROM subscribers WHERE id = ?`, id)
	if err != nil {
		if classify(err).kind == foreignKeyViolation {
			return fmt.Errorf("%w: subscriber %s is still referenced", ErrInUse, id)
		}
		return fmt.Errorf("store: delete subscriber %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: delete subscriber %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: subscriber %s", ErrNotFound, id)
	}
	return nil
}
