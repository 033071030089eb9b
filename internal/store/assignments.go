package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tollgate-billing/tollgate/internal/account"
)

const assignmentCols = `account_id, plan_id, valid_from, valid_until, created_at`

func scanAssignment(r rowScanner) (account.Assignment, error) {
	var a account.Assignment
	err := r.Scan(&a.AccountID, &a.PlanID, timeCol{&a.ValidFrom}, nullTimeCol{&a.ValidUntil}, timeCol{&a.CreatedAt})
	return a, err
}

// AssignPlan puts the account on the plan from validFrom onward (times are
// kept to the microsecond, in UTC). In one transaction it ends the
// assignment that covers validFrom there (ValidUntil = validFrom) and drops
// every assignment that starts at or after validFrom, so the history never
// overlaps and the new assignment is open ended. Account and plan must exist
// (ErrNotFound naming account_id or plan_id; a deleted plan counts as
// missing).
//
// It is idempotent: assigning the same plan from the same instant again
// returns the existing assignment (with its original CreatedAt); if later
// assignments had been made since, they are dropped as for any assignment.
func (s *Store) AssignPlan(ctx context.Context, accountID, planID string, validFrom time.Time) (account.Assignment, error) {
	in := account.Assignment{AccountID: accountID, PlanID: planID, ValidFrom: dbTime(validFrom)}
	if err := in.Validate(); err != nil {
		return account.Assignment{}, err
	}
	from := s.timeArg(in.ValidFrom)
	var out account.Assignment
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// Locking the account row serializes assignments per account.
		if _, err := s.getAccount(ctx, tx, accountID, true); err != nil {
			if errors.Is(err, ErrNotFound) {
				return fmt.Errorf("%w: account_id: account %s", ErrNotFound, accountID)
			}
			return err
		}
		if err := s.planUsable(ctx, tx, planID); err != nil {
			return err
		}
		cur, err := scanAssignment(s.queryRow(ctx, tx, `SELECT `+assignmentCols+` FROM plan_assignments
WHERE account_id = ? AND valid_from = ?`, accountID, from))
		exists := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: assign plan: %w", err)
		}
		if exists && cur.PlanID == planID && cur.ValidUntil == nil {
			out = cur
			return nil
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM plan_assignments WHERE account_id = ? AND valid_from > ?`,
			accountID, from); err != nil {
			return fmt.Errorf("store: assign plan: %w", err)
		}
		if exists && cur.PlanID == planID {
			if _, err := s.exec(ctx, tx, `UPDATE plan_assignments SET valid_until = NULL
WHERE account_id = ? AND valid_from = ?`, accountID, from); err != nil {
				return fmt.Errorf("store: assign plan: %w", err)
			}
			cur.ValidUntil = nil
			out = cur
			return nil
		}
		if exists {
			if _, err := s.exec(ctx, tx, `DELETE FROM plan_assignments WHERE account_id = ? AND valid_from = ?`,
				accountID, from); err != nil {
				return fmt.Errorf("store: assign plan: %w", err)
			}
		}
		if _, err := s.exec(ctx, tx, `UPDATE plan_assignments SET valid_until = ?
WHERE account_id = ? AND valid_from < ? AND (valid_until IS NULL OR valid_until > ?)`,
			from, accountID, from, from); err != nil {
			return fmt.Errorf("store: assign plan: %w", err)
		}
		out = account.Assignment{AccountID: accountID, PlanID: planID, ValidFrom: in.ValidFrom, CreatedAt: dbTime(s.now())}
		if _, err := s.exec(ctx, tx, `INSERT INTO plan_assignments (`+assignmentCols+`) VALUES (?, ?, ?, NULL, ?)`,
			accountID, planID, from, s.timeArg(out.CreatedAt)); err != nil {
			return fmt.Errorf("store: assign plan: %w", mapErr(err))
		}
		return nil
	})
	if err != nil {
		return account.Assignment{}, err
	}
	s.log.DebugContext(ctx, "plan assigned", "account_id", accountID, "plan_id", planID, "valid_from", out.ValidFrom)
	return out, nil
}

// planUsable returns ErrNotFound naming plan_id unless the plan exists and
// is not deleted. In PostgreSQL it share-locks the plan so that a concurrent
// DeletePlan waits for the transaction.
func (s *Store) planUsable(ctx context.Context, tx *sql.Tx, planID string) error {
	query := `SELECT deleted FROM plans WHERE id = ? AND latest_version > 0`
	if s.pg() {
		query += ` FOR SHARE`
	}
	var deleted bool
	err := s.queryRow(ctx, tx, query, planID).Scan(&deleted)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && deleted) {
		return fmt.Errorf("%w: plan_id: plan %s", ErrNotFound, planID)
	}
	if err != nil {
		return fmt.Errorf("store: look up plan %s: %w", planID, err)
	}
	return nil
}

// ListAssignments returns the account's plan history ordered by ValidFrom,
// or ErrNotFound for an unknown account.
func (s *Store) ListAssignments(ctx context.Context, accountID string) ([]account.Assignment, error) {
	if _, err := s.GetAccount(ctx, accountID); err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, s.db, `SELECT `+assignmentCols+` FROM plan_assignments
WHERE account_id = ? ORDER BY valid_from`, accountID)
	if err != nil {
		return nil, fmt.Errorf("store: list assignments: %w", err)
	}
	defer rows.Close()
	var out []account.Assignment
	for rows.Next() {
		a, err := scanAssignment(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list assignments: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list assignments: %w", err)
	}
	return out, nil
}

// PlanAt returns the assignment that covers instant t for the account, or
// ErrNotFound when none does (or the account does not exist).
func (s *Store) PlanAt(ctx context.Context, accountID string, t time.Time) (account.Assignment, error) {
	at := s.timeArg(t)
	a, err := scanAssignment(s.queryRow(ctx, s.db, `SELECT `+assignmentCols+` FROM plan_assignments
WHERE account_id = ? AND valid_from <= ? AND (valid_until IS NULL OR valid_until > ?)
ORDER BY valid_from DESC LIMIT 1`, accountID, at, at))
	if errors.Is(err, sql.ErrNoRows) {
		return account.Assignment{}, fmt.Errorf("%w: no plan assigned to account %s at %s",
			ErrNotFound, accountID, dbTime(t).Format(time.RFC3339Nano))
	}
	if err != nil {
		return account.Assignment{}, fmt.Errorf("store: plan at: %w", err)
	}
	return a, nil
}
