package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Queries are written once, with ? placeholders, and rebound to $1, $2 … for
// PostgreSQL.

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) pg() bool { return s.driver == DriverPostgres }

// rebind rewrites ? placeholders to $n for PostgreSQL. Question marks inside
// single-quoted literals are left alone.
func (s *Store) rebind(query string) string {
	if !s.pg() || strings.IndexByte(query, '?') < 0 {
		return query
	}
	return rebindDollar(query)
}

func rebindDollar(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	inQuote := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			inQuote = !inQuote
		case c == '?' && !inQuote:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func (s *Store) exec(ctx context.Context, q querier, query string, args ...any) (sql.Result, error) {
	return q.ExecContext(ctx, s.rebind(query), args...)
}

func (s *Store) query(ctx context.Context, q querier, query string, args ...any) (*sql.Rows, error) {
	return q.QueryContext(ctx, s.rebind(query), args...)
}

func (s *Store) queryRow(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	return q.QueryRowContext(ctx, s.rebind(query), args...)
}

// forUpdate is the row-locking suffix of a SELECT inside a transaction.
// SQLite needs none: its write transactions (BEGIN IMMEDIATE) hold the
// database lock.
func (s *Store) forUpdate() string {
	if s.pg() {
		return " FOR UPDATE"
	}
	return ""
}

// inTx runs fn in a transaction and commits it if fn returns nil. fn must use
// tx only, never s.db: a single-connection pool would deadlock.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", mapErr(err))
	}
	return nil
}

// Times are stored in UTC with microsecond precision (PostgreSQL's
// TIMESTAMPTZ precision; the store truncates on the way in so that both
// dialects return the same value). SQLite keeps them as fixed-width text,
// whose order is time order.
const sqliteTimeLayout = "2006-01-02T15:04:05.000000Z"

// dbTime normalizes t to what the database will return.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// timeArg converts t into a query argument for the dialect.
func (s *Store) timeArg(t time.Time) any {
	t = dbTime(t)
	if s.pg() {
		return t
	}
	return t.Format(sqliteTimeLayout)
}

// nullTimeArg is timeArg for an optional time (nil is NULL).
func (s *Store) nullTimeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return s.timeArg(*t)
}

// timeCol scans a time column of either dialect into a UTC time.Time.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*c.t = v.UTC()
		return nil
	case string:
		return c.parse(v)
	case []byte:
		return c.parse(string(v))
	case nil:
		return errors.New("store: NULL in a NOT NULL time column")
	}
	return fmt.Errorf("store: cannot scan %T into a time", src)
}

func (c timeCol) parse(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("store: bad stored time %q: %w", s, err)
	}
	*c.t = t.UTC()
	return nil
}

// nullTimeCol scans an optional time column (NULL becomes nil).
type nullTimeCol struct{ t **time.Time }

func (c nullTimeCol) Scan(src any) error {
	if src == nil {
		*c.t = nil
		return nil
	}
	var t time.Time
	if err := (timeCol{&t}).Scan(src); err != nil {
		return err
	}
	*c.t = &t
	return nil
}

// nullString maps "" to NULL for optional unique columns.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// strCol scans a nullable text column, NULL becoming "".
type strCol struct{ s *string }

func (c strCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.s = ""
	case string:
		*c.s = v
	case []byte:
		*c.s = string(v)
	default:
		return fmt.Errorf("store: cannot scan %T into a string", src)
	}
	return nil
}

// constraintKind classifies a constraint violation.
type constraintKind int

const (
	noViolation constraintKind = iota
	uniqueViolation
	foreignKeyViolation
)

// violation is a driver's constraint error in dialect-neutral terms.
type violation struct {
	kind   constraintKind
	table  string // may be empty when the driver does not say
	column string // the unique column ("imsi"), or "id" for a primary key
	err    error
}

// classify recognises unique and foreign-key violations of both drivers.
func classify(err error) violation {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			// "UNIQUE constraint failed: subscribers.imsi"
			v := violation{kind: uniqueViolation, err: err}
			const marker = "constraint failed: "
			if i := strings.LastIndex(se.Error(), marker); i >= 0 {
				cols := se.Error()[i+len(marker):]
				first, _, _ := strings.Cut(cols, ",")
				first, _, _ = strings.Cut(first, " ")
				v.table, v.column, _ = strings.Cut(strings.TrimSpace(first), ".")
			}
			return v
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return violation{kind: foreignKeyViolation, err: err}
		}
		return violation{err: err}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			v := violation{kind: uniqueViolation, table: pe.TableName, err: err}
			name := strings.TrimPrefix(pe.ConstraintName, pe.TableName+"_")
			switch {
			case strings.HasSuffix(name, "pkey"):
				v.column = "id"
			default:
				v.column = strings.TrimSuffix(name, "_key")
			}
			return v
		case "23503": // foreign_key_violation
			return violation{kind: foreignKeyViolation, table: pe.TableName, err: err}
		}
	}
	return violation{err: err}
}

// mapErr turns a constraint violation that no caller anticipated into the
// store's sentinel errors; anything else is returned unchanged.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	switch v := classify(err); v.kind {
	case uniqueViolation:
		return fmt.Errorf("%w: %s %s already exists: %w", ErrConflict, v.table, v.column, err)
	case foreignKeyViolation:
		return fmt.Errorf("%w: a referenced row is missing or a referencing row exists: %w", ErrInUse, err)
	}
	return err
}
