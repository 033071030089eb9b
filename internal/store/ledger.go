package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-billing/tollgate/internal/account"
	"github.com/tollgate-billing/tollgate/internal/balance"
	"github.com/tollgate-billing/tollgate/internal/money"
)

// The ledger (migration 0002) is the SQL projection of the balance journals:
// package balance/ledger reads the journal records with a durable consumer
// and hands them to ApplyLedger, which is idempotent per (journal_seq, idx),
// so a redelivered record changes nothing. projection_offsets remembers, per
// projection name, the highest journal sequence committed.
//
// Entry times are unix nanoseconds in the column at (INTEGER / BIGINT), the
// journal's own representation: the projection stores exactly what the
// journal holds, in both dialects.

// LedgerRecord is one journal record as the ledger stores it: the record's
// journal sequence, its partition and the entries it produced, in order
// (an entry's index in Entries is its idx).
type LedgerRecord struct {
	JournalSeq uint64
	Partition  int
	Entries    []balance.Entry
}

// LedgerRow is one stored ledger entry, shaped for the admin API.
type LedgerRow struct {
	JournalSeq  uint64        `json:"journal_seq"`
	Index       int           `json:"index"`
	Partition   int           `json:"partition"`
	Account     string        `json:"account_id"`
	Kind        string        `json:"kind"`
	Key         string        `json:"key"`
	Time        time.Time     `json:"time"`
	Reservation string        `json:"reservation,omitempty"`
	Asset       string        `json:"asset"`
	Delta       money.Decimal `json:"delta"`
	Balance     money.Decimal `json:"balance"`
	HeldDelta   money.Decimal `json:"held_delta"`
	Held        money.Decimal `json:"held"`
	Reason      string        `json:"reason,omitempty"`
}

// LedgerQuery selects one account's entries in a time range, a page at a
// time, ordered by (time, journal_seq, index).
type LedgerQuery struct {
	Account string
	// From and To bound the entry time to [From, To); a zero time is
	// unbounded.
	From, To time.Time
	// Limit is the page size: 0 means DefaultLimit, at most MaxLimit.
	Limit int
	// After is the opaque cursor returned with the previous page; empty for
	// the first page.
	After string
}

// LedgerSum summarizes one asset of one account: the sums of its deltas and
// held deltas, the number of entries, and the balance and held amount of its
// last entry by (journal_seq, index). For a consistent ledger Delta equals
// Balance and HeldDelta equals Held.
type LedgerSum struct {
	Delta     money.Decimal
	HeldDelta money.Decimal
	Count     int64
	Balance   money.Decimal
	Held      money.Decimal
	// LastSeq and LastIndex identify the last entry.
	LastSeq   uint64
	LastIndex int
}

const ledgerCols = `journal_seq, idx, partition, account_id, kind, op_key, at, reservation, asset, delta, balance, held_delta, held, reason`

// ledgerNCols is the number of columns in ledgerCols.
const ledgerNCols = 14

// sqliteLedgerRows is the number of rows per multi-row INSERT in SQLite:
// 256 × 14 = 3584 bound parameters, far below SQLite's limit (32766), and
// past the point where larger statements stop paying (see
// BenchmarkApplyLedger). A remainder is inserted in chunks of powers of two,
// so that the INSERTs of 1, 2, 4 … 256 rows, prepared once per connection
// (ledgerStmts), serve every batch size: parsing an INSERT of a hundred rows
// per transaction cost more than inserting them.
const sqliteLedgerRows = 256

// sqliteLedgerSizes is the number of INSERT sizes: 2^0 … 2^8 rows.
const sqliteLedgerSizes = 9

// sqliteLedgerCacheKiB is the page cache of a connection writing the ledger
// (PRAGMA cache_size, in KiB; SQLite's default is 2000): every entry
// dirties a page of the account index, at random, and a transaction of
// thousands of entries should neither spill dirty pages to the WAL before
// its commit (which then writes them again) nor read back the index pages
// the previous one wrote. A connection keeps the size for its life; pages
// are allocated as used.
const sqliteLedgerCacheKiB = 32 << 10

// ledgerStmts holds the SQLite statements of ApplyLedger, prepared on the
// database when the Store opens: database/sql prepares each once more per
// connection, on the connection of the transaction that first uses it
// there (Tx.StmtContext), and reuses it after. (Preparing on the database
// later, under load, would wait for a free connection while the
// transaction holds SQLite's write lock and every other connection waits
// for it.)
type ledgerStmts struct {
	insert [2][sqliteLedgerSizes]*sql.Stmt // [overlap][k]: 2^k rows
	cache  *sql.Stmt                       // PRAGMA cache_size
}

func (l *ledgerStmts) prepare(ctx context.Context, db *sql.DB) error {
	var err error
	if l.cache, err = db.PrepareContext(ctx, fmt.Sprintf("PRAGMA cache_size = -%d", sqliteLedgerCacheKiB)); err != nil {
		return fmt.Errorf("store: prepare ledger statements: %w", err)
	}
	for ov := range l.insert {
		for k := range l.insert[ov] {
			if l.insert[ov][k], err = db.PrepareContext(ctx, sqliteLedgerInsert(1<<k, ov == 1)); err != nil {
				return fmt.Errorf("store: prepare ledger statements: %w", err)
			}
		}
	}
	return nil
}

func (l *ledgerStmts) close() {
	for _, st := range append(l.insert[0][:], append(l.insert[1][:], l.cache)...) {
		if st != nil {
			st.Close()
		}
	}
}

// pgLedgerInsert inserts whole batches in one statement: each column is one
// array parameter, so the statement text and its prepared plan do not depend
// on the batch size, and there is no limit on the number of rows (PostgreSQL
// allows at most 65535 parameters per statement). Money travels as text and
// is converted by NUMERIC's exact parser.
const pgLedgerInsert = `INSERT INTO ledger_entries (` + ledgerCols + `)
SELECT s, i, p, a, k, o, t, r, x, d::numeric, b::numeric, hd::numeric, h::numeric, rs
FROM unnest($1::bigint[], $2::int[], $3::int[], $4::text[], $5::text[], $6::text[], $7::bigint[],
            $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[])
     AS u(s, i, p, a, k, o, t, r, x, d, b, hd, h, rs)`

// onConflictSkip makes an INSERT of ledger entries idempotent. It is only
// added when some of the entries may be stored already: PostgreSQL's
// speculative insertion makes every row of an INSERT … ON CONFLICT about
// twice as expensive.
const onConflictSkip = ` ON CONFLICT (journal_seq, idx) DO NOTHING`

// ApplyLedger stores the entries of recs and advances the offset of the
// projection name to the highest JournalSeq among them, in one transaction.
// It is idempotent: an entry whose (journal_seq, idx) is already stored is
// skipped, so records may be re-applied, overlap or arrive out of order; the
// offset never moves backwards. A stored entry whose content differs from the
// one given (two different entries claiming the same journal position — a
// journal bug) is ErrConflict and nothing is applied: the ledger never
// silently keeps one of two versions.
func (s *Store) ApplyLedger(ctx context.Context, name string, recs []LedgerRecord) error {
	if name == "" {
		return &account.FieldError{Field: "name", Msg: "projection name is required"}
	}
	var (
		maxSeq uint64
		n      int
		sorted = true // strictly increasing sequences: no duplicates within recs
	)
	for i, r := range recs {
		if i > 0 && r.JournalSeq <= recs[i-1].JournalSeq {
			sorted = false
		}
		if r.JournalSeq == 0 || r.JournalSeq > math.MaxInt64 {
			return &account.FieldError{Field: "journal_seq", Msg: fmt.Sprintf("%d out of range 1..2^63-1", r.JournalSeq)}
		}
		if len(r.Entries) > math.MaxInt32 {
			return &account.FieldError{Field: "entries", Msg: "too many entries in one record"}
		}
		maxSeq = max(maxSeq, r.JournalSeq)
		n += len(r.Entries)
	}
	if len(recs) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// A redelivery overlaps what is stored; a new batch does not, and
		// takes the plain INSERT.
		var (
			overlap  = !sorted
			inserted int64
			err      error
		)
		if !overlap {
			if overlap, err = s.ledgerOverlap(ctx, tx, recs); err != nil {
				return err
			}
		}
		if s.pg() {
			inserted, err = s.insertLedgerPG(ctx, tx, recs, n, overlap)
		} else {
			inserted, err = s.insertLedgerSQLite(ctx, tx, recs, n, overlap)
		}
		if err != nil {
			return err
		}
		if inserted < int64(n) {
			// Some entries were there already (a redelivery): make sure they
			// are the same entries.
			if err := s.verifyLedger(ctx, tx, recs); err != nil {
				return err
			}
		}
		_, err = s.exec(ctx, tx, `INSERT INTO projection_offsets (name, seq, updated_at) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at
WHERE projection_offsets.seq < excluded.seq`, name, int64(maxSeq), s.timeArg(s.now()))
		if err != nil {
			return fmt.Errorf("store: advance projection offset %s: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: apply ledger (%d records, %d entries): %w", len(recs), n, err)
	}
	return nil
}

// errLedgerRace: entries appeared between the overlap check and the INSERT,
// written by a concurrent ApplyLedger of the same records. It is not
// ErrConflict: retrying takes the idempotent path.
var errLedgerRace = errors.New("store: ledger entries written concurrently; retry")

// ledgerOverlap reports whether any entry is stored in the journal_seq range
// of recs — one probe of the primary key.
func (s *Store) ledgerOverlap(ctx context.Context, tx *sql.Tx, recs []LedgerRecord) (bool, error) {
	lo, hi := seqRange(recs)
	var one int
	err := s.queryRow(ctx, tx, `SELECT 1 FROM ledger_entries WHERE journal_seq BETWEEN ? AND ? LIMIT 1`,
		int64(lo), int64(hi)).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("store: ledger overlap check: %w", err)
	}
	return true, nil
}

func seqRange(recs []LedgerRecord) (lo, hi uint64) {
	lo, hi = recs[0].JournalSeq, recs[0].JournalSeq
	for _, r := range recs[1:] {
		lo, hi = min(lo, r.JournalSeq), max(hi, r.JournalSeq)
	}
	return lo, hi
}

// ledgerInsertErr maps an INSERT error; a unique violation of the fast path
// is errLedgerRace.
func ledgerInsertErr(err error, overlap bool) error {
	if !overlap && classify(err).kind == uniqueViolation {
		return fmt.Errorf("%w: %w", errLedgerRace, err)
	}
	return fmt.Errorf("insert ledger entries: %w", mapErr(err))
}

// insertLedgerSQLite inserts the entries with multi-row INSERTs of up to
// sqliteLedgerRows rows and returns how many rows were new.
func (s *Store) insertLedgerSQLite(ctx context.Context, tx *sql.Tx, recs []LedgerRecord, n int, overlap bool) (int64, error) {
	if n == 0 {
		return 0, nil
	}
	var (
		inserted int64
		args     = make([]any, 0, min(n, sqliteLedgerRows)*ledgerNCols)
		rows     int
		ov       = 0
		txStmts  [sqliteLedgerSizes]*sql.Stmt
	)
	if overlap {
		ov = 1
	}
	if _, err := tx.StmtContext(ctx, s.ledger.cache).ExecContext(ctx); err != nil {
		return 0, fmt.Errorf("ledger cache size: %w", err)
	}
	// flush inserts the rows in args: chunks of 2^k rows, largest first.
	flush := func() error {
		for off := 0; rows > 0; {
			k := bits.Len(uint(rows)) - 1
			chunk := 1 << k
			if txStmts[k] == nil {
				txStmts[k] = tx.StmtContext(ctx, s.ledger.insert[ov][k])
			}
			res, err := txStmts[k].ExecContext(ctx, args[off:off+chunk*ledgerNCols]...)
			if err != nil {
				return ledgerInsertErr(err, overlap)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			inserted += n
			off += chunk * ledgerNCols
			rows -= chunk
		}
		args = args[:0]
		return nil
	}
	for _, r := range recs {
		seq, part := int64(r.JournalSeq), int64(r.Partition)
		for i := range r.Entries {
			e := &r.Entries[i]
			args = append(args, seq, int64(i), part, e.Account, e.Kind.String(), e.Key, e.Time,
				e.Reservation, e.Asset, e.Delta.String(), e.Balance.String(), e.HeldDelta.String(), e.Held.String(), e.Reason)
			if rows++; rows == sqliteLedgerRows {
				if err := flush(); err != nil {
					return 0, err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return 0, err
	}
	return inserted, nil
}

// sqliteLedgerInsert is the INSERT of rows entries. OR ROLLBACK: a
// constraint violation ends the transaction (ApplyLedger would roll it back
// anyway), so SQLite needs no statement journal to undo a failed statement
// alone — with ABORT, the default, every page a multi-row INSERT dirties
// is first copied to it, which spills to a temporary file.
func sqliteLedgerInsert(rows int, overlap bool) string {
	const tuple = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
	var b strings.Builder
	b.Grow(100 + rows*(len(tuple)+1))
	b.WriteString("INSERT OR ROLLBACK INTO ledger_entries (" + ledgerCols + ") VALUES ")
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(tuple)
	}
	if overlap {
		b.WriteString(onConflictSkip)
	}
	return b.String()
}

// insertLedgerPG inserts all entries with one array-parameter INSERT and
// returns how many rows were new.
func (s *Store) insertLedgerPG(ctx context.Context, tx *sql.Tx, recs []LedgerRecord, n int, overlap bool) (int64, error) {
	if n == 0 {
		return 0, nil
	}
	var (
		seqs   = make([]int64, 0, n)
		idxs   = make([]int32, 0, n)
		parts  = make([]int32, 0, n)
		accts  = make([]string, 0, n)
		kinds  = make([]string, 0, n)
		keys   = make([]string, 0, n)
		ats    = make([]int64, 0, n)
		resvs  = make([]string, 0, n)
		assets = make([]string, 0, n)
		deltas = make([]string, 0, n)
		bals   = make([]string, 0, n)
		hds    = make([]string, 0, n)
		helds  = make([]string, 0, n)
		rsns   = make([]string, 0, n)
	)
	for _, r := range recs {
		if r.Partition < math.MinInt32 || r.Partition > math.MaxInt32 {
			return 0, &account.FieldError{Field: "partition", Msg: fmt.Sprintf("%d out of range", r.Partition)}
		}
		for i := range r.Entries {
			e := &r.Entries[i]
			seqs = append(seqs, int64(r.JournalSeq))
			idxs = append(idxs, int32(i))
			parts = append(parts, int32(r.Partition))
			accts = append(accts, e.Account)
			kinds = append(kinds, e.Kind.String())
			keys = append(keys, e.Key)
			ats = append(ats, e.Time)
			resvs = append(resvs, e.Reservation)
			assets = append(assets, e.Asset)
			deltas = append(deltas, e.Delta.String())
			bals = append(bals, e.Balance.String())
			hds = append(hds, e.HeldDelta.String())
			helds = append(helds, e.Held.String())
			rsns = append(rsns, e.Reason)
		}
	}
	query := pgLedgerInsert
	if overlap {
		query += onConflictSkip
	}
	res, err := tx.ExecContext(ctx, query,
		seqs, idxs, parts, accts, kinds, keys, ats, resvs, assets, deltas, bals, hds, helds, rsns)
	if err != nil {
		return 0, ledgerInsertErr(err, overlap)
	}
	return res.RowsAffected()
}

// verifyLedger checks that the stored entries at the positions of recs are
// the entries of recs.
func (s *Store) verifyLedger(ctx context.Context, tx *sql.Tx, recs []LedgerRecord) error {
	lo, hi := seqRange(recs)
	type pos struct {
		seq uint64
		idx int
	}
	stored := map[pos]LedgerRow{}
	rows, err := s.query(ctx, tx, `SELECT `+ledgerCols+` FROM ledger_entries WHERE journal_seq BETWEEN ? AND ?`,
		int64(lo), int64(hi))
	if err != nil {
		return fmt.Errorf("verify ledger entries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanLedgerRow(rows)
		if err != nil {
			return fmt.Errorf("verify ledger entries: %w", err)
		}
		stored[pos{r.JournalSeq, r.Index}] = r
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("verify ledger entries: %w", err)
	}
	for _, r := range recs {
		for i, e := range r.Entries {
			got, ok := stored[pos{r.JournalSeq, i}]
			if !ok {
				return fmt.Errorf("store: ledger entry (journal_seq %d, idx %d) neither inserted nor present", r.JournalSeq, i)
			}
			if field := ledgerDiff(got, r.Partition, e); field != "" {
				return fmt.Errorf("%w: ledger entry (journal_seq %d, idx %d) is stored with a different %s",
					ErrConflict, r.JournalSeq, i, field)
			}
		}
	}
	return nil
}

// ledgerDiff names the first field in which the stored row differs from the
// entry e of a record of partition part, "" if none.
func ledgerDiff(got LedgerRow, part int, e balance.Entry) string {
	switch {
	case got.Partition != part:
		return "partition"
	case got.Account != e.Account:
		return "account_id"
	case got.Kind != e.Kind.String():
		return "kind"
	case got.Key != e.Key:
		return "key"
	case got.Time.UnixNano() != e.Time:
		return "time"
	case got.Reservation != e.Reservation:
		return "reservation"
	case got.Asset != e.Asset:
		return "asset"
	case !got.Delta.Equal(e.Delta):
		return "delta"
	case !got.Balance.Equal(e.Balance):
		return "balance"
	case !got.HeldDelta.Equal(e.HeldDelta):
		return "held_delta"
	case !got.Held.Equal(e.Held):
		return "held"
	case got.Reason != e.Reason:
		return "reason"
	}
	return ""
}

func scanLedgerRow(r rowScanner) (LedgerRow, error) {
	var (
		row      LedgerRow
		seq, at  int64
		idx, prt int64
	)
	err := r.Scan(&seq, &idx, &prt, &row.Account, &row.Kind, &row.Key, &at, &row.Reservation, &row.Asset,
		&row.Delta, &row.Balance, &row.HeldDelta, &row.Held, &row.Reason)
	if err != nil {
		return LedgerRow{}, err
	}
	row.JournalSeq, row.Index, row.Partition = uint64(seq), int(idx), int(prt)
	row.Time = time.Unix(0, at).UTC()
	return row, nil
}

// ProjectionOffset returns the highest journal sequence the projection name
// has applied, 0 if none.
func (s *Store) ProjectionOffset(ctx context.Context, name string) (uint64, error) {
	var seq int64
	err := s.queryRow(ctx, s.db, `SELECT seq FROM projection_offsets WHERE name = ?`, name).Scan(&seq)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("store: projection offset %s: %w", name, err)
	}
	return uint64(seq), nil
}

// ledgerCursor is the position after which a page starts.
type ledgerCursor struct {
	at  int64
	seq int64
	idx int64
}

// The cursor is "v1:<at>:<seq>:<idx>" in unpadded base64url: opaque to
// clients, and it names the last entry returned, so pages stay stable when
// later entries are inserted meanwhile.
func (c ledgerCursor) String() string {
	raw := "v1:" + strconv.FormatInt(c.at, 10) + ":" + strconv.FormatInt(c.seq, 10) + ":" + strconv.FormatInt(c.idx, 10)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func parseLedgerCursor(s string) (ledgerCursor, error) {
	bad := &account.FieldError{Field: "after", Msg: "not a cursor returned by this API"}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return ledgerCursor{}, bad
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != 4 || parts[0] != "v1" {
		return ledgerCursor{}, bad
	}
	var v [3]int64
	for i, p := range parts[1:] {
		if v[i], err = strconv.ParseInt(p, 10, 64); err != nil {
			return ledgerCursor{}, bad
		}
	}
	return ledgerCursor{at: v[0], seq: v[1], idx: v[2]}, nil
}

// unixNanos converts t to unix nanoseconds, clamped to the int64 range
// (time.UnixNano is undefined outside 1678–2262).
func unixNanos(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// Ledger returns a page of an account's ledger entries in [q.From, q.To),
// ordered by (time, journal_seq, index), and the cursor of the next page
// ("" when this page is the last). The cursor names the last row returned,
// so paging neither repeats nor skips an entry when entries are added
// meanwhile — except an entry that lands before the cursor's time, which a
// later journal record can only carry when partitions' clocks disagree.
func (s *Store) Ledger(ctx context.Context, q LedgerQuery) ([]LedgerRow, string, error) {
	if q.Account == "" {
		return nil, "", &account.FieldError{Field: "account_id", Msg: "is required"}
	}
	limit := q.Limit
	switch {
	case limit == 0:
		limit = DefaultLimit
	case limit < 0 || limit > MaxLimit:
		return nil, "", &account.FieldError{Field: "limit", Msg: fmt.Sprintf("must be between 1 and %d", MaxLimit)}
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.To.After(q.From) {
		return nil, "", &account.FieldError{Field: "to", Msg: "must be after from"}
	}
	var (
		b    strings.Builder
		args = []any{q.Account}
	)
	b.WriteString(`SELECT ` + ledgerCols + ` FROM ledger_entries WHERE account_id = ?`)
	if !q.From.IsZero() {
		b.WriteString(` AND at >= ?`)
		args = append(args, unixNanos(q.From))
	}
	if !q.To.IsZero() {
		b.WriteString(` AND at < ?`)
		args = append(args, unixNanos(q.To))
	}
	if q.After != "" {
		c, err := parseLedgerCursor(q.After)
		if err != nil {
			return nil, "", err
		}
		b.WriteString(` AND (at, journal_seq, idx) > (?, ?, ?)`)
		args = append(args, c.at, c.seq, c.idx)
	}
	b.WriteString(` ORDER BY at, journal_seq, idx LIMIT ?`)
	args = append(args, limit+1)
	rows, err := s.query(ctx, s.db, b.String(), args...)
	if err != nil {
		return nil, "", fmt.Errorf("store: ledger of %s: %w", q.Account, err)
	}
	defer rows.Close()
	out := make([]LedgerRow, 0, min(limit+1, 64))
	for rows.Next() {
		r, err := scanLedgerRow(rows)
		if err != nil {
			return nil, "", fmt.Errorf("store: ledger of %s: %w", q.Account, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("store: ledger of %s: %w", q.Account, err)
	}
	if len(out) <= limit {
		return out, "", nil
	}
	out = out[:limit]
	last := out[limit-1]
	next := ledgerCursor{at: last.Time.UnixNano(), seq: int64(last.JournalSeq), idx: int64(last.Index)}
	return out, next.String(), nil
}

// LedgerSums returns, per asset of the account, the sums of its entries'
// deltas and held deltas, their number and the last entry's balance and
// held amount. The sums are exact (money.Decimal in Go, never SQL sum(),
// which SQLite computes in binary floating point); a sum beyond Decimal's
// range is money.ErrOverflow.
func (s *Store) LedgerSums(ctx context.Context, acct string) (map[string]LedgerSum, error) {
	rows, err := s.query(ctx, s.db, `SELECT asset, journal_seq, idx, delta, balance, held_delta, held
FROM ledger_entries WHERE account_id = ? ORDER BY journal_seq, idx`, acct)
	if err != nil {
		return nil, fmt.Errorf("store: ledger sums of %s: %w", acct, err)
	}
	defer rows.Close()
	out := map[string]LedgerSum{}
	for rows.Next() {
		var (
			asset                  string
			seq, idx               int64
			delta, bal, hdelta, hd money.Decimal
		)
		if err := rows.Scan(&asset, &seq, &idx, &delta, &bal, &hdelta, &hd); err != nil {
			return nil, fmt.Errorf("store: ledger sums of %s: %w", acct, err)
		}
		sum := out[asset]
		if sum.Delta, err = sum.Delta.Add(delta); err != nil {
			return nil, fmt.Errorf("store: ledger sums of %s %s: delta: %w", acct, asset, err)
		}
		if sum.HeldDelta, err = sum.HeldDelta.Add(hdelta); err != nil {
			return nil, fmt.Errorf("store: ledger sums of %s %s: held_delta: %w", acct, asset, err)
		}
		sum.Count++
		sum.Balance, sum.Held, sum.LastSeq, sum.LastIndex = bal, hd, uint64(seq), int(idx)
		out[asset] = sum
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: ledger sums of %s: %w", acct, err)
	}
	return out, nil
}

// LedgerCount returns the number of stored ledger entries.
func (s *Store) LedgerCount(ctx context.Context) (int64, error) {
	var n int64
	if err := s.queryRow(ctx, s.db, `SELECT count(*) FROM ledger_entries`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: ledger count: %w", err)
	}
	return n, nil
}
