package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tollgate-billing/tollgate/internal/account"
	"github.com/tollgate-billing/tollgate/internal/money"
)

// Plan sources.
const (
	SourceAPI  = "api"
	SourceFile = "file"
)

// PlanRecord is one version of a tariff plan as stored. The store does not
// interpret Document (the rating package owns the format); it keeps its
// bytes exactly and versions it.
type PlanRecord struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Currency string `json:"currency"`
	// Version is assigned by the store: 1, 2, … per plan.
	Version int `json:"version"`
	// Document is the plan as JSON.
	Document json.RawMessage `json:"document"`
	// Source is where the plan came from: "api" or "file".
	Source string `json:"source"`
	// Checksum is the hex SHA-256 of Document, computed by the store.
	Checksum  string    `json:"checksum"`
	CreatedAt time.Time `json:"created_at"`
	// Deleted reports that the plan (all its versions) is deleted.
	Deleted bool `json:"deleted"`
}

// PlanChecksum returns the checksum the store records for a plan document.
func PlanChecksum(doc []byte) string {
	sum := sha256.Sum256(doc)
	return hex.EncodeToString(sum[:])
}

// maxPlanDocument bounds a plan document (16 MiB).
const maxPlanDocument = 16 << 20

func (p PlanRecord) validate() error {
	var errs []error
	bad := func(field, msg string) { errs = append(errs, &account.FieldError{Field: field, Msg: msg}) }
	if p.ID != "" {
		if err := account.ValidateID("id", p.ID); err != nil {
			errs = append(errs, err)
		}
	}
	if p.Name == "" {
		bad("name", "required")
	} else if len(p.Name) > 256 {
		bad("name", "too long")
	}
	if _, err := money.LookupCurrency(p.Currency); err != nil {
		bad("currency", fmt.Sprintf("unknown currency %q", p.Currency))
	}
	switch {
	case len(p.Document) == 0:
		bad("document", "required")
	case len(p.Document) > maxPlanDocument:
		bad("document", "larger than 16 MiB")
	case !json.Valid(p.Document):
		bad("document", "must be valid JSON")
	}
	if p.Source != SourceAPI && p.Source != SourceFile {
		bad("source", `must be "api" or "file"`)
	}
	if p.Checksum != "" && p.Checksum != PlanChecksum(p.Document) {
		bad("checksum", "does not match the document's SHA-256")
	}
	return errors.Join(errs...)
}

const planCols = `v.plan_id, v.version, v.name, v.currency, v.document, v.source, v.checksum, v.created_at, p.deleted`

func scanPlan(r rowScanner) (PlanRecord, error) {
	var (
		p   PlanRecord
		doc []byte
	)
	err := r.Scan(&p.ID, &p.Version, &p.Name, &p.Currency, &doc, &p.Source, &p.Checksum, timeCol{&p.CreatedAt}, &p.Deleted)
	p.Document = doc
	return p, err
}

// PutPlan stores a plan document as the plan's next version (1 for a new
// plan) and returns it with created=true. If the document's checksum equals
// the latest version's, nothing is stored and the latest version is
// returned with created=false, so re-importing an unchanged plan is
// harmless. Putting a deleted plan revives it with a new version. An empty
// ID is generated; an empty Source means "api"; Version, Checksum,
// CreatedAt and Deleted are set by the store.
func (s *Store) PutPlan(ctx context.Context, rec PlanRecord) (PlanRecord, bool, error) {
	if rec.Source == "" {
		rec.Source = SourceAPI
	}
	if err := rec.validate(); err != nil {
		return PlanRecord{}, false, err
	}
	if rec.ID == "" {
		id, err := newID()
		if err != nil {
			return PlanRecord{}, false, err
		}
		rec.ID = id
	}
	rec.Checksum = PlanChecksum(rec.Document)
	rec.Deleted = false
	now := dbTime(s.now())
	var (
		out     PlanRecord
		created bool
	)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.exec(ctx, tx, `INSERT INTO plans (id, latest_version, deleted, created_at, updated_at)
VALUES (?, 0, ?, ?, ?) ON CONFLICT (id) DO NOTHING`, rec.ID, false, s.timeArg(now), s.timeArg(now)); err != nil {
			return fmt.Errorf("store: put plan %s: %w", rec.ID, mapErr(err))
		}
		var (
			latest  int
			deleted bool
		)
		if err := s.queryRow(ctx, tx, `SELECT latest_version, deleted FROM plans WHERE id = ?`+s.forUpdate(), rec.ID).
			Scan(&latest, &deleted); err != nil {
			return fmt.Errorf("store: put plan %s: %w", rec.ID, err)
		}
		if latest > 0 && !deleted {
			cur, err := s.planVersion(ctx, tx, rec.ID, latest)
			if err != nil {
				return err
			}
			if cur.Checksum == rec.Checksum {
				out = cur
				return nil
			}
		}
		rec.Version = latest + 1
		rec.CreatedAt = now
		if _, err := s.exec(ctx, tx, `INSERT INTO plan_versions
(plan_id, version, name, currency, document, source, checksum, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			rec.ID, rec.Version, rec.Name, rec.Currency, []byte(rec.Document), rec.Source, rec.Checksum,
			s.timeArg(rec.CreatedAt)); err != nil {
			return fmt.Errorf("store: put plan %s: %w", rec.ID, mapErr(err))
		}
		if _, err := s.exec(ctx, tx, `UPDATE plans SET latest_version = ?, deleted = ?, updated_at = ? WHERE id = ?`,
			rec.Version, false, s.timeArg(now), rec.ID); err != nil {
			return fmt.Errorf("store: put plan %s: %w", rec.ID, mapErr(err))
		}
		out, created = rec, true
		return nil
	})
	if err != nil {
		return PlanRecord{}, false, err
	}
	return out, created, nil
}

// GetPlan returns the latest version of a plan, or ErrNotFound if the plan
// does not exist or is deleted.
func (s *Store) GetPlan(ctx context.Context, id string) (PlanRecord, error) {
	p, err := scanPlan(s.queryRow(ctx, s.db, `SELECT `+planCols+` FROM plans p
JOIN plan_versions v ON v.plan_id = p.id AND v.version = p.latest_version
WHERE p.id = ? AND p.deleted = ?`, id, false))
	if errors.Is(err, sql.ErrNoRows) {
		return PlanRecord{}, fmt.Errorf("%w: plan %s", ErrNotFound, id)
	}
	if err != nil {
		return PlanRecord{}, fmt.Errorf("store: get plan %s: %w", id, err)
	}
	return p, nil
}

// GetPlanVersion returns one version of a plan, also of a deleted plan (its
// Deleted is then true), or ErrNotFound.
func (s *Store) GetPlanVersion(ctx context.Context, id string, version int) (PlanRecord, error) {
	return s.planVersion(ctx, s.db, id, version)
}

func (s *Store) planVersion(ctx context.Context, q querier, id string, version int) (PlanRecord, error) {
	p, err := scanPlan(s.queryRow(ctx, q, `SELECT `+planCols+` FROM plan_versions v
JOIN plans p ON p.id = v.plan_id WHERE v.plan_id = ? AND v.version = ?`, id, version))
	if errors.Is(err, sql.ErrNoRows) {
		return PlanRecord{}, fmt.Errorf("%w: plan %s version %d", ErrNotFound, id, version)
	}
	if err != nil {
		return PlanRecord{}, fmt.Errorf("store: get plan %s version %d: %w", id, version, err)
	}
	return p, nil
}

// ListPlans returns the latest version of every plan that is not deleted,
// ordered by id.
func (s *Store) ListPlans(ctx context.Context) ([]PlanRecord, error) {
	return s.listPlans(ctx, `SELECT `+planCols+` FROM plans p
JOIN plan_versions v ON v.plan_id = p.id AND v.version = p.latest_version
WHERE p.deleted = ? ORDER BY p.id`, false)
}

// ListPlanVersions returns every version of a plan, oldest first; for a
// deleted plan too (with Deleted true). An unknown plan is ErrNotFound.
func (s *Store) ListPlanVersions(ctx context.Context, id string) ([]PlanRecord, error) {
	out, err := s.listPlans(ctx, `SELECT `+planCols+` FROM plan_versions v
JOIN plans p ON p.id = v.plan_id WHERE v.plan_id = ? ORDER BY v.version`, id)
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("%w: plan %s", ErrNotFound, id)
	}
	return out, err
}

func (s *Store) listPlans(ctx context.Context, query string, args ...any) ([]PlanRecord, error) {
	rows, err := s.query(ctx, s.db, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list plans: %w", err)
	}
	defer rows.Close()
	var out []PlanRecord
	for rows.Next() {
		p, err := scanPlan(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list plans: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list plans: %w", err)
	}
	return out, nil
}

// DeletePlan marks a plan deleted; its versions stay for history and past
// assignments. It fails with ErrInUse while an account has a current or
// future assignment to it (one that is open or ends after now), and with
// ErrNotFound if the plan does not exist or is already deleted.
func (s *Store) DeletePlan(ctx context.Context, id string) error {
	now := s.now()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var deleted bool
		err := s.queryRow(ctx, tx, `SELECT deleted FROM plans WHERE id = ? AND latest_version > 0`+s.forUpdate(), id).Scan(&deleted)
		if errors.Is(err, sql.ErrNoRows) || deleted {
			return fmt.Errorf("%w: plan %s", ErrNotFound, id)
		}
		if err != nil {
			return fmt.Errorf("store: delete plan %s: %w", id, err)
		}
		var (
			n         int64
			accountID sql.NullString
		)
		if err := s.queryRow(ctx, tx, `SELECT count(*), min(account_id) FROM plan_assignments
WHERE plan_id = ? AND (valid_until IS NULL OR valid_until > ?)`, id, s.timeArg(now)).Scan(&n, &accountID); err != nil {
			return fmt.Errorf("store: delete plan %s: %w", id, err)
		}
		if n > 0 {
			return fmt.Errorf("%w: plan %s is assigned to %d account(s) now or in the future (e.g. %s)",
				ErrInUse, id, n, accountID.String)
		}
		if _, err := s.exec(ctx, tx, `UPDATE plans SET deleted = ?, updated_at = ? WHERE id = ?`,
			true, s.timeArg(now), id); err != nil {
			return fmt.Errorf("store: delete plan %s: %w", id, err)
		}
		return nil
	})
}
