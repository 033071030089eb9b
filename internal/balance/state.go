package balance

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/tollgate-billing/tollgate/internal/money"
	"github.com/tollgate-billing/tollgate/internal/usage"
)

// maxScale is the largest scale of an amount an op may carry (the issue:
// "all amounts: scale ≤ 9"). Balances are sums of such amounts, so they
// never need more.
const maxScale = 9

// bucketAssetPrefix prefixes a bucket id in Entry.Asset.
const bucketAssetPrefix = "bucket:"

// Options tune a State. The zero value gives the defaults.
type Options struct {
	// IdemWindow is how long (ns of op time) an idempotency key is
	// remembered after the op it recorded; default 10 minutes. A retry
	// after the window is a new op.
	IdemWindow int64
	// IdemMax bounds the keys one partition remembers; the oldest are
	// forgotten first. Default 1<<20.
	IdemMax int
	// IdemPresize sizes the key index for IdemMax keys from the start
	// (32 bytes per key), so that it never rehashes while the partition
	// serves: doubling a large index takes tens of milliseconds, and
	// partitions under the same load all reach the same size together.
	// The engine sets it.
	IdemPresize bool
}

// The defaults of Options.
const (
	DefaultIdemWindow = int64(10 * 60 * 1e9)
	DefaultIdemMax    = 1 << 20
)

func (o Options) withDefaults() Options {
	if o.IdemWindow <= 0 {
		o.IdemWindow = DefaultIdemWindow
	}
	if o.IdemMax <= 0 {
		o.IdemMax = DefaultIdemMax
	}
	return o
}

// State is the live state of one partition: its accounts with their money
// balances, unit buckets and open reservations, and the idempotency table.
// It is a pure state machine: Apply is a deterministic function of the
// state and the op (time comes in Op.Time), it does no I/O, starts no
// goroutine and reads no clock. Replaying the same ops into a fresh State
// therefore rebuilds the same state, which is how recovery works (snapshot
// + journal tail).
//
// A State is not safe for concurrent use: one goroutine (the partition's
// owner in the engine) uses it at a time; only the Snapshot returned by
// BeginSnapshot may be encoded concurrently (see freeze.go).
type State struct {
	// Partition is the partition number this state belongs to.
	Partition int
	// Seq is the journal sequence of the last record applied; the engine
	// sets it, and the snapshot carries it.
	Seq uint64

	opts     Options
	accounts acctIndex // by id (pointer-free, see acctIndex)
	// slabs hold the accounts in creation order (pointers into them are
	// stable); iterating them gives a deterministic order for snapshots.
	slabs    [][]account
	naccts   int
	lastTime int64 // the largest op time applied
	idem     idemTable
	wheel    wheel
	nres     int // open reservations

	freeRes *reservation
	resSlab []reservation
	due     []*reservation  // scratch of Due
	blobs   map[string]blob // put_state blobs by name

	// snap is the snapshot in progress (BeginSnapshot), nil when none: its
	// encoder reads the state from another goroutine, see freeze.go.
	snap      *Snapshot
	snapEpoch uint32
	// blobsNew holds the put_state changes made while a snapshot reads
	// blobs (a deletion is a blob without data); endSnapshot merges them.
	blobsNew map[string]blob
}

// account is the live state of one account.
type account struct {
	id       string
	currency string
	limit    money.Decimal
	balance  money.Decimal
	held     money.Decimal
	typ      AccountType
	status   AccountStatus
	// below marks a prepaid account that an operator adjustment or a
	// master-data change (lower credit limit, postpaid → prepaid) left
	// below its floor; charging ops never put it there.
	below bool
	// ord is the account's index in creation order (its place in slabs).
	ord uint32
	// frozen is the account as a snapshot in progress must see it, when
	// the partition changed it before the snapshot's encoder read it (see
	// touch); nil or of an older snapshot otherwise.
	frozen atomic.Pointer[frozenAccount]
	// buckets in burn order (priority, expiry with 0 last, id). Indices
	// are referenced by reservation holds and fixed up when a grant
	// inserts a bucket.
	buckets []bucketState
	// counters are the period counters (rated ops), by id then latest
	// period first.
	counters []Counter
	res      []*reservation
	resIdx   map[string]*reservation // index of res when it is large
}

// bucketState is a bucket and the units reservations hold in it.
type bucketState struct {
	Bucket
	asset string // "bucket:<id>"; Bucket.ID is its suffix
	held  uint64
}

// reservation is one open reservation. Reservations are recycled through
// a free list, so the wheel links stay valid pointers.
type reservation struct {
	id      string
	acct    *account
	expires int64
	created int64
	amount  money.Decimal // money held
	unit    usage.Unit
	units   uint64 // total units held
	holds   []hold // per bucket, in burn order at reserve time
	inl     [2]hold
	pos     int32 // index in acct.res

	prev, next *reservation // wheel slot list (next also links the free list)
}

// hold is units held in one bucket (an index into account.buckets).
type hold struct {
	b     int32
	units uint64
}

// NewState returns an empty partition state.
func NewState(partition int, opts Options) *State {
	s := &State{Partition: partition, opts: opts.withDefaults()}
	s.accounts = newAcctIndex(0)
	s.idem.init(0, s.opts)
	return s
}

// Accounts returns the number of accounts in the partition.
func (s *State) Accounts() int { return s.accounts.len() }

// acct returns the account id, or nil.
func (s *State) acct(id string) *account { return s.accounts.get(s.slabs, id) }

// Reservations returns the number of open reservations in the partition.
func (s *State) Reservations() int { return s.nres }

// IdemKeys returns the number of idempotency keys remembered.
func (s *State) IdemKeys() int { return s.idem.n }

// newAccount allocates an account from the current slab.
func (s *State) newAccount(id string) *account {
	n := len(s.slabs)
	if n == 0 || len(s.slabs[n-1]) == cap(s.slabs[n-1]) {
		s.slabs = append(s.slabs, make([]account, 0, 1024))
		n++
	}
	sl := append(s.slabs[n-1], account{id: id, ord: uint32(s.naccts)})
	s.slabs[n-1] = sl
	a := &sl[len(sl)-1]
	s.accounts.add(s.slabs, n-1, len(sl)-1)
	s.naccts++
	return a
}

func (s *State) allocRes() *reservation {
	if r := s.freeRes; r != nil {
		s.freeRes = r.next
		r.next = nil
		return r
	}
	if len(s.resSlab) == 0 {
		s.resSlab = make([]reservation, 256)
	}
	r := &s.resSlab[0]
	s.resSlab = s.resSlab[1:]
	return r
}

func (s *State) releaseRes(r *reservation) {
	*r = reservation{}
	r.next = s.freeRes
	s.freeRes = r
}

// findRes returns the open reservation id of a, or nil.
func (a *account) findRes(id string) *reservation {
	if a.resIdx != nil {
		return a.resIdx[id]
	}
	for _, r := range a.res {
		if r.id == id {
			return r
		}
	}
	return nil
}

const resIndexAt = 16 // open reservations of one account before a map index is kept

func (a *account) addRes(r *reservation) {
	r.pos = int32(len(a.res))
	a.res = append(a.res, r)
	if a.resIdx != nil {
		a.resIdx[r.id] = r
	} else if len(a.res) > resIndexAt {
		a.resIdx = make(map[string]*reservation, 2*len(a.res))
		for _, x := range a.res {
			a.resIdx[x.id] = x
		}
	}
}

func (a *account) removeRes(r *reservation) {
	last := len(a.res) - 1
	if i := int(r.pos); i != last {
		a.res[i] = a.res[last]
		a.res[i].pos = int32(i)
	}
	a.res[last] = nil
	a.res = a.res[:last]
	if a.resIdx != nil {
		delete(a.resIdx, r.id)
		if len(a.res) == 0 {
			a.resIdx = nil
		}
	}
}

// available is balance − held + credit limit: what a prepaid account can
// still spend. For postpaid accounts it is reported but never enforced.
func (a *account) availableWith(balance, held money.Decimal) (money.Decimal, error) {
	v, err := balance.Sub(held)
	if err != nil {
		return money.Decimal{}, ErrOverflow
	}
	if v, err = v.Add(a.limit); err != nil {
		return money.Decimal{}, ErrOverflow
	}
	return v, nil
}

// validAt reports whether a bucket can be used at t: ValidFrom ≤ t <
// ValidUntil, where 0 is unbounded.
func (b *Bucket) validAt(t int64) bool {
	return (b.ValidFrom == 0 || b.ValidFrom <= t) && (b.ValidUntil == 0 || t < b.ValidUntil)
}

// burnsBefore is the burn order of buckets: Priority ascending, then
// ValidUntil ascending with 0 (never expires) last, then ID.
func burnsBefore(x, y *Bucket) bool {
	if x.Priority != y.Priority {
		return x.Priority < y.Priority
	}
	if x.ValidUntil != y.ValidUntil {
		if x.ValidUntil == 0 || y.ValidUntil == 0 {
			return y.ValidUntil == 0
		}
		return x.ValidUntil < y.ValidUntil
	}
	return x.ID < y.ID
}

// op field presence bits, to reject fields a kind does not use.
const (
	fReservation = 1 << iota
	fAmount
	fUnit
	fUnits
	fExpires
	fPartial
	fReason
	fAccountType
	fCurrency
	fCreditLimit
	fStatus
	fBucket
	fName
	fData
	fCounters
	fRateKey
)

var fieldNames = [...]string{"reservation", "amount", "unit", "units", "expires", "partial", "reason",
	"account_type", "currency", "credit_limit", "status", "bucket", "name", "data", "counters", "rate_key"}

// allowedFields lists, per kind, the fields it reads; any other non-zero
// field is an error (ErrInvalid), so that no field is silently ignored and
// the idempotency hash covers exactly what matters.
var allowedFields = [...]uint32{
	KindOpenAccount: fAccountType | fCurrency | fCreditLimit | fStatus | fReason,
	KindReserve:     fReservation | fAmount | fUnit | fUnits | fExpires | fPartial | fReason | fRateKey,
	KindCommit:      fReservation | fAmount | fUnit | fUnits | fReason | fCounters | fRateKey,
	KindRelease:     fReservation | fReason,
	KindDebit:       fAmount | fUnit | fUnits | fReason | fCounters | fRateKey,
	KindCredit:      fAmount | fReason,
	KindTopUp:       fAmount | fReason,
	KindAdjust:      fAmount | fReason,
	KindGrantBucket: fBucket | fReason,
	KindExpire:      fReservation | fReason,
	KindPutState:    fName | fData,
}

func presentFields(op *Op) uint32 {
	var f uint32
	if op.Reservation != "" {
		f |= fReservation
	}
	if !op.Amount.IsZero() || op.Amount.Scale() != 0 {
		f |= fAmount
	}
	if op.Unit != usage.Invalid {
		f |= fUnit
	}
	if op.Units != 0 {
		f |= fUnits
	}
	if op.Expires != 0 {
		f |= fExpires
	}
	if op.Partial {
		f |= fPartial
	}
	if op.Reason != "" {
		f |= fReason
	}
	if op.AccountType != 0 {
		f |= fAccountType
	}
	if op.Currency != "" {
		f |= fCurrency
	}
	if !op.CreditLimit.IsZero() || op.CreditLimit.Scale() != 0 {
		f |= fCreditLimit
	}
	if op.Status != 0 {
		f |= fStatus
	}
	if op.Bucket != (Bucket{}) {
		f |= fBucket
	}
	if op.Name != "" {
		f |= fName
	}
	if len(op.Data) != 0 {
		f |= fData
	}
	if len(op.Counters) != 0 {
		f |= fCounters
	}
	if op.RateKey != 0 || op.Rate != nil {
		f |= fRateKey
	}
	return f
}

func invalid(op *Op, format string, args ...any) error {
	return fmt.Errorf("%w: %s %q: %s", ErrInvalid, op.Kind, op.Key, fmt.Sprintf(format, args...))
}

func validUnit(u usage.Unit) bool { return u > usage.Invalid && u <= usage.Generic }

// checkShape validates what can be checked without the state: key,
// account, kind, unused fields, signs and scales.
func checkShape(op *Op) error {
	if op.Kind == KindInvalid || int(op.Kind) >= len(allowedFields) {
		return fmt.Errorf("%w: unknown kind %d", ErrInvalid, op.Kind)
	}
	if op.Key == "" {
		return fmt.Errorf("%w: %s: the idempotency key is required", ErrInvalid, op.Kind)
	}
	if op.Account == "" {
		return invalid(op, "the account is required")
	}
	if len(op.Key) > maxKeyLen || len(op.Account) > maxIDLen || len(op.Reservation) > maxIDLen {
		return invalid(op, "key longer than %d bytes, or account or reservation id longer than %d", maxKeyLen, maxIDLen)
	}
	if extra := presentFields(op) &^ allowedFields[op.Kind]; extra != 0 {
		var names []string
		for i, n := range fieldNames {
			if extra&(1<<i) != 0 {
				names = append(names, n)
			}
		}
		return invalid(op, "field(s) %s not used by this kind", strings.Join(names, ", "))
	}
	if op.Amount.Scale() > maxScale || op.CreditLimit.Scale() > maxScale {
		return invalid(op, "amounts may have at most %d fractional digits", maxScale)
	}
	if op.Amount.Sign() < 0 && op.Kind != KindAdjust {
		return invalid(op, "negative amount %s", op.Amount)
	}
	if op.Units > math.MaxInt64 {
		return invalid(op, "units %d exceed %d", op.Units, int64(math.MaxInt64))
	}
	if (op.Units > 0) != (op.Unit != usage.Invalid) {
		return invalid(op, "unit and units go together")
	}
	if op.Unit != usage.Invalid && !validUnit(op.Unit) {
		return invalid(op, "unknown unit %d", op.Unit)
	}
	switch op.Kind {
	case KindReserve, KindCommit, KindRelease, KindExpire:
		if op.Reservation == "" {
			return invalid(op, "the reservation id is required")
		}
	}
	if op.Kind == KindReserve && len(op.Counters) != 0 {
		return invalid(op, "a reservation does not change counters")
	}
	for i := range op.Counters {
		c := &op.Counters[i]
		if c.ID == "" || c.Amount.Sign() < 0 || c.Amount.Scale() > maxScale || c.Units > math.MaxInt64 {
			return invalid(op, "counter %d: id required, units and amount not negative", i)
		}
	}
	if op.Rate != nil && op.RateKey == 0 {
		return invalid(op, "a rated op needs a RateKey")
	}
	switch op.Kind {
	case KindPutState:
		if op.Name == "" {
			return invalid(op, "the state name is required")
		}
		if len(op.Data) > MaxStateBytes {
			return invalid(op, "state of %d bytes, at most %d", len(op.Data), MaxStateBytes)
		}
	}
	return nil
}

// Apply validates op against the state at op.Time and, only when it is
// valid, applies it, appends the ledger entries it produced to entries and
// returns what it did. On error nothing changes (Apply is atomic) and
// entries is returned as it was.
//
// Idempotency (DESIGN §2.3): every accepted op is recorded under its Key
// with a 64-bit hash of its content (every field but Time). An op whose
// key is remembered returns the stored Result with Replayed set and no
// entries when the content hash matches, and ErrKeyConflict when it does
// not. Content is compared by representation: 1.5 and 1.50 differ. Keys
// are remembered for Options.IdemWindow of op time and at most
// Options.IdemMax per partition (oldest forgotten first); a retry after
// that is applied as a new op. Forgetting is a deterministic function of
// the ops applied, so replay reproduces it. Ops that fail are not
// recorded: retrying them re-evaluates them. KindExpire ops are
// idempotent by state instead (they are not recorded; expiring a closed
// reservation is ErrUnknownReservation), because the sweep may reuse a key
// when a reservation id is reused.
//
// Every op that Apply accepts without Replayed must be journaled, even one
// that produced no entries: it changed the idempotency table. Replayed
// results must not be journaled.
//
// Apply keeps references to op's strings (account and reservation ids,
// keys); they must be immutable.
//
// The kinds:
//
//   - OpenAccount creates the account or updates its type, credit limit
//     and status (currency, type, status valid, credit limit ≥ 0, else
//     ErrInvalid). The currency may change only while balance, held money
//     and every bucket are zero (ErrCurrencyMismatch). No entries.
//   - Reserve holds money and/or units of one Unit until Expires (>
//     Time) under a reservation id unique among the account's open
//     reservations (ErrReservationExists). The account must be Active
//     (ErrAccountInactive). Prepaid money available is balance − held +
//     credit limit; postpaid is never short. Units come from buckets of
//     the Unit valid at Time (ValidFrom ≤ Time < ValidUntil, 0 unbounded),
//     their units not already held, in burn order (Priority, then
//     ValidUntil with 0 last, then ID). Short without Partial:
//     ErrInsufficientFunds. With Partial, what is available is granted;
//     when that is nothing at all, no reservation is created and the
//     Result (zero grants) is still recorded under the key.
//   - Commit debits the used Amount and Units (at most what the
//     reservation holds, else ErrExceedsReservation; Unit must be the
//     reservation's) and releases all its holds, before Expires
//     (ErrReservationExpired; the reservation stays open until released
//     or expired). Units are taken from the held buckets in the order
//     they were held. Any account status: the usage was authorized.
//   - Release releases a reservation's holds without debit, also after
//     expiry. Expire does the same for Time ≥ Expires only (else
//     ErrInvalid); the engine issues it from Due.
//   - Debit takes money and/or units at once, from an Active account; a
//     prepaid account needs the money available; units must be fully
//     available (no partial debit).
//   - Credit (a refund) and TopUp add a positive Amount; any status but
//     Closed.
//   - Adjust adds a non-zero signed Amount with a Reason, in any status,
//     and may leave a prepaid account below its credit limit (operators
//     correct mistakes).
//   - GrantBucket adds a bucket with a new ID (ErrInvalid if taken),
//     Units in 1…MaxInt64 and ValidUntil after ValidFrom when both are
//     set; any status but Closed. Buckets are never removed (an exhausted
//     or expired bucket stays, with its remaining units).
//
// Amounts have at most 9 fractional digits; arithmetic that would not fit
// is ErrOverflow, never wrapped. Result.Balance and Result.Available are
// the account's money after the op (Available = balance − held + credit
// limit, informational for postpaid accounts).
func (s *State) Apply(op *Op, entries []Entry) (Result, []Entry, error) {
	if err := checkShape(op); err != nil {
		return Result{}, entries, err
	}
	if s.snap != nil {
		s.snapTouch(op.Account)
	}
	if op.Kind == KindPutState {
		if err := s.errPutState(op); err != nil {
			return Result{}, entries, err
		}
		return s.putState(op), entries, nil
	}
	var h, kh, oldPos uint64
	var known bool
	if op.Kind != KindExpire {
		h, kh = contentHash(op), keyHash(op.Key)
		oldPos, known = s.idem.find(op.Key, kh)
		if rec := s.idem.at(oldPos); known && !stale(rec.time, op.Time, s.opts.IdemWindow) {
			if rec.hash != h {
				return Result{}, entries, fmt.Errorf("%w: key %q (first used by %s of account %q)",
					ErrKeyConflict, op.Key, rec.kind, s.idem.accountOf(rec))
			}
			r := s.idem.result(rec)
			r.Replayed = true
			return r, entries, nil
		}
	}
	n := len(entries)
	var res Result
	var err error
	if op.Kind == KindOpenAccount {
		res, err = s.openAccount(op)
	} else {
		a := s.acct(op.Account)
		if a == nil {
			return Result{}, entries, fmt.Errorf("%w %q", ErrUnknownAccount, op.Account)
		}
		if op.Rate != nil {
			if err = s.rate(op, a); err != nil {
				return Result{}, entries, err
			}
		}
		switch op.Kind {
		case KindReserve:
			res, entries, err = s.reserve(op, a, entries)
		case KindCommit, KindRelease, KindExpire:
			res, entries, err = s.finish(op, a, entries)
		case KindDebit:
			res, entries, err = s.debit(op, a, entries)
		case KindCredit, KindTopUp, KindAdjust:
			res, entries, err = s.credit(op, a, entries)
		case KindGrantBucket:
			res, entries, err = s.grantBucket(op, a, entries)
		}
	}
	if err != nil {
		return Result{}, entries[:n], err
	}
	if op.Time > s.lastTime {
		s.lastTime = op.Time
	}
	if a := s.acct(op.Account); a != nil && op.Kind != KindOpenAccount {
		if len(op.Counters) > 0 {
			a.counters = AddCounters(a.counters, op.Counters)
		}
		if op.RateKey != 0 {
			res.Rated, res.Excess = op.Amount, op.excess
			if !op.excess.IsZero() {
				res.Rated, _ = op.Amount.Add(op.excess)
			}
		}
	}
	if op.Kind != KindExpire {
		s.idem.record(op.Key, kh, h, op.Time, &res, s.opts, oldPos, known)
	}
	if op.RateKey != 0 {
		if a := s.acct(op.Account); a != nil {
			res.Counters = slices.Clone(a.counters)
		}
	}
	return res, entries, nil
}

// rate sets a rated op's Amount and Counters from its Rate against the
// account's counters. A commit takes at most what the reservation holds;
// the rest is op.excess, which the caller debits.
func (s *State) rate(op *Op, a *account) error {
	amount, deltas, err := op.Rate(a.counters)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrRating, err)
	}
	if amount.Sign() < 0 || amount.Scale() > maxScale {
		return fmt.Errorf("%w: amount %s", ErrRating, amount)
	}
	op.Amount, op.Rate, op.excess = amount, nil, money.Decimal{}
	if op.Kind != KindReserve {
		op.Counters = deltas
	}
	if op.Kind == KindCommit {
		if r := a.findRes(op.Reservation); r != nil && amount.Cmp(r.amount) > 0 {
			op.excess, _ = amount.Sub(r.amount)
			op.Amount = r.amount
		}
	}
	return nil
}

// AddCounters adds the changes deltas to the period counters cs (in place;
// it returns the result) and keeps the two latest periods of each counter,
// ordered by id then latest period first: late usage of the previous
// period still finds its counter, older ones are done with.
func AddCounters(cs, deltas []Counter) []Counter {
	for _, d := range deltas {
		i := slices.IndexFunc(cs, func(c Counter) bool { return c.ID == d.ID && c.PeriodStart == d.PeriodStart })
		if i < 0 {
			cs = append(cs, Counter{ID: d.ID, PeriodStart: d.PeriodStart})
			i = len(cs) - 1
		}
		c := &cs[i]
		c.Units += d.Units
		if sum, err := c.Amount.Add(d.Amount); err == nil {
			c.Amount = sum
		}
	}
	slices.SortFunc(cs, func(x, y Counter) int {
		if x.ID != y.ID {
			return strings.Compare(x.ID, y.ID)
		}
		return cmp.Compare(y.PeriodStart, x.PeriodStart) // latest first
	})
	out := cs[:0]
	for i, c := range cs {
		if i >= 2 && cs[i-2].ID == c.ID {
			continue
		}
		out = append(out, c)
	}
	return out
}

// errPutState is the error of a put_state op: its account must exist.
func (s *State) errPutState(op *Op) error {
	if s.acct(op.Account) == nil {
		return fmt.Errorf("%w %q", ErrUnknownAccount, op.Account)
	}
	return nil
}

// putState applies a put_state op (when errPutState found nothing wrong).
func (s *State) putState(op *Op) Result {
	a := s.acct(op.Account)
	if a == nil {
		return Result{}
	}
	if s.snap != nil {
		// The snapshot's encoder reads s.blobs: change the overlay.
		if s.blobsNew == nil {
			s.blobsNew = make(map[string]blob)
		}
		if len(op.Data) == 0 {
			s.blobsNew[op.Name] = blob{}
		} else {
			s.blobsNew[op.Name] = blob{account: a.id, data: op.Data}
		}
	} else if len(op.Data) == 0 {
		delete(s.blobs, op.Name)
	} else {
		if s.blobs == nil {
			s.blobs = make(map[string]blob)
		}
		s.blobs[op.Name] = blob{account: a.id, data: op.Data}
	}
	if op.Time > s.lastTime {
		s.lastTime = op.Time
	}
	return Result{Kind: op.Kind, Account: a.id, Balance: a.balance, Time: op.Time}
}

// blob is a named state blob of a put_state op.
type blob struct {
	account string
	data    []byte // nil: deleted (in State.blobsNew)
}

// EachState calls fn for every state blob of the partition, in name order.
// fn must not keep data.
func (s *State) EachState(fn func(name, account string, data []byte)) {
	eachBlob(s.blobs, s.blobsNew, fn)
}

// eachBlob calls fn for every blob of base changed by over (a blob without
// data deletes), in name order.
func eachBlob(base, over map[string]blob, fn func(name, account string, data []byte)) {
	names := make([]string, 0, len(base)+len(over))
	for n := range base {
		if _, ok := over[n]; !ok {
			names = append(names, n)
		}
	}
	for n, b := range over {
		if b.data != nil {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		b, ok := over[n]
		if !ok {
			b = base[n]
		}
		fn(n, b.account, b.data)
	}
}

func result(op *Op, a *account) Result {
	return Result{Kind: op.Kind, Account: a.id, Reservation: op.Reservation, Balance: a.balance, Time: op.Time}
}

// openAccount creates or updates an account (no entries).
func (s *State) openAccount(op *Op) (Result, error) {
	if op.AccountType != Prepaid && op.AccountType != Postpaid {
		return Result{}, invalid(op, "account type %d: want prepaid (1) or postpaid (2)", op.AccountType)
	}
	if op.Status < Active || op.Status > Closed {
		return Result{}, invalid(op, "status %d: want 1…4", op.Status)
	}
	if op.CreditLimit.Sign() < 0 {
		return Result{}, invalid(op, "negative credit limit %s", op.CreditLimit)
	}
	cur, err := money.LookupCurrency(op.Currency)
	if err != nil {
		return Result{}, invalid(op, "%v", err)
	}
	a := s.acct(op.Account)
	if a != nil && a.currency != cur.Code {
		if !a.balance.IsZero() || !a.held.IsZero() || len(a.res) > 0 || slices.ContainsFunc(a.buckets, func(b bucketState) bool { return b.Units != 0 }) {
			return Result{}, fmt.Errorf("%w: account %q holds %s; its currency cannot change to %s", ErrCurrencyMismatch, op.Account, a.currency, cur.Code)
		}
	}
	// Compute the new availability before changing anything.
	var bal, held money.Decimal
	if a != nil {
		bal, held = a.balance, a.held
	}
	probe := account{limit: op.CreditLimit}
	avail, err := probe.availableWith(bal, held)
	if err != nil {
		return Result{}, fmt.Errorf("%w: account %q", err, op.Account)
	}
	if a == nil {
		a = s.newAccount(op.Account)
	}
	a.currency, a.typ, a.limit, a.status = cur.Code, op.AccountType, op.CreditLimit, op.Status
	a.below = a.typ == Prepaid && avail.Sign() < 0
	res := result(op, a)
	res.Available = avail
	return res, nil
}

// setBelow updates the below-floor mark after a charging op: it can only
// clear it (charging ops never go below the floor).
func (a *account) clearBelow(avail money.Decimal) {
	if a.below && avail.Sign() >= 0 {
		a.below = false
	}
}

// takeUnits plans taking n units of unit u from a's buckets valid at t, in
// burn order, appending the holds to hs. It returns the units it could
// not find.
func (a *account) takeUnits(u usage.Unit, n uint64, t int64, hs []hold) ([]hold, uint64) {
	for i := range a.buckets {
		if n == 0 {
			break
		}
		b := &a.buckets[i]
		if b.Unit != u || !b.validAt(t) || b.Units <= b.held {
			continue
		}
		take := min(b.Units-b.held, n)
		hs = append(hs, hold{b: int32(i), units: take})
		n -= take
	}
	return hs, n
}

// addNonZero and subNonZero leave x as it is (also its scale) when y is
// zero, so that an op moving nothing leaves no trace in the state.
func addNonZero(x, y money.Decimal) (money.Decimal, error) {
	if y.IsZero() {
		return x, nil
	}
	return x.Add(y)
}

func subNonZero(x, y money.Decimal) (money.Decimal, error) {
	if y.IsZero() {
		return x, nil
	}
	return x.Sub(y)
}

func unitsDec(u uint64) money.Decimal { return money.FromInt(int64(u)) }

func negUnits(u uint64) money.Decimal { return money.FromInt(-int64(u)) }

// reserve: see Apply.
func (s *State) reserve(op *Op, a *account, entries []Entry) (Result, []Entry, error) {
	if op.Expires <= op.Time {
		return Result{}, entries, invalid(op, "expiry %d is not after the op time %d", op.Expires, op.Time)
	}
	if op.Amount.IsZero() && op.Units == 0 {
		if op.RateKey != 0 && a.status == Active {
			// Rated free (e.g. within an allowance): nothing to hold.
			res := result(op, a)
			res.Available, _ = a.availableWith(a.balance, a.held)
			return res, entries, nil
		}
		if op.RateKey == 0 {
			return Result{}, entries, invalid(op, "nothing to reserve")
		}
	}
	if a.status != Active {
		return Result{}, entries, fmt.Errorf("%w: account %q", ErrAccountInactive, a.id)
	}
	if a.findRes(op.Reservation) != nil {
		return Result{}, entries, fmt.Errorf("%w: account %q reservation %q", ErrReservationExists, a.id, op.Reservation)
	}
	grant := op.Amount
	if grant.Sign() > 0 && a.typ == Prepaid {
		avail, err := a.availableWith(a.balance, a.held)
		if err != nil {
			return Result{}, entries, fmt.Errorf("%w: account %q", err, a.id)
		}
		if avail.Cmp(grant) < 0 {
			if !op.Partial {
				return Result{}, entries, fmt.Errorf("%w: account %q has %s available, %s asked", ErrInsufficientFunds, a.id, avail, grant)
			}
			grant = money.Max(avail, money.Decimal{})
		}
	}
	newHeld, err := addNonZero(a.held, grant)
	if err != nil {
		return Result{}, entries, fmt.Errorf("%w: account %q held", ErrOverflow, a.id)
	}
	var buf [4]hold
	hs := buf[:0]
	var units uint64
	if op.Units > 0 {
		var short uint64
		hs, short = a.takeUnits(op.Unit, op.Units, op.Time, hs)
		if short > 0 && !op.Partial {
			return Result{}, entries, fmt.Errorf("%w: account %q has %d %s available, %d asked", ErrInsufficientFunds, a.id, op.Units-short, op.Unit, op.Units)
		}
		units = op.Units - short
	}
	avail, err := a.availableWith(a.balance, newHeld)
	if err != nil {
		return Result{}, entries, fmt.Errorf("%w: account %q", err, a.id)
	}
	res := result(op, a)
	if grant.IsZero() && units == 0 {
		// A partial reserve that found nothing: no reservation.
		res.Available, _ = a.availableWith(a.balance, a.held)
		return res, entries, nil
	}
	// Valid: apply.
	r := s.allocRes()
	r.id, r.acct, r.expires, r.created = op.Reservation, a, op.Expires, op.Time
	r.amount, r.units = grant, units
	if units > 0 {
		r.unit = op.Unit
	}
	r.holds = append(r.inl[:0], hs...)
	a.addRes(r)
	s.wheel.add(r)
	s.nres++
	a.held = newHeld
	a.clearBelow(avail)
	if !grant.IsZero() {
		entries = append(entries, Entry{Account: a.id, Kind: op.Kind, Key: op.Key, Time: op.Time, Reservation: op.Reservation,
			Asset: AssetMoney, Balance: a.balance, HeldDelta: grant, Held: a.held, Reason: op.Reason})
	}
	for _, h := range hs {
		b := &a.buckets[h.b]
		b.held += h.units
		entries = append(entries, Entry{Account: a.id, Kind: op.Kind, Key: op.Key, Time: op.Time, Reservation: op.Reservation,
			Asset: b.asset, Balance: unitsDec(b.Units), HeldDelta: unitsDec(h.units), Held: unitsDec(b.held), Reason: op.Reason})
	}
	res.GrantedAmount, res.GrantedUnits, res.Available = grant, units, avail
	return res, entries, nil
}

// finish commits, releases or expires a reservation: see Apply.
func (s *State) finish(op *Op, a *account, entries []Entry) (Result, []Entry, error) {
	r := a.findRes(op.Reservation)
	if r == nil {
		return Result{}, entries, fmt.Errorf("%w: account %q reservation %q", ErrUnknownReservation, a.id, op.Reservation)
	}
	switch op.Kind {
	case KindCommit:
		if op.Time >= r.expires {
			return Result{}, entries, fmt.Errorf("%w: account %q reservation %q expired at %d", ErrReservationExpired, a.id, r.id, r.expires)
		}
		if op.Amount.Cmp(r.amount) > 0 {
			return Result{}, entries, fmt.Errorf("%w: account %q reservation %q holds %s, %s used", ErrExceedsReservation, a.id, r.id, r.amount, op.Amount)
		}
		if op.Units > r.units {
			return Result{}, entries, fmt.Errorf("%w: account %q reservation %q holds %d units, %d used", ErrExceedsReservation, a.id, r.id, r.units, op.Units)
		}
		if op.Units > 0 && op.Unit != r.unit {
			return Result{}, entries, invalid(op, "unit %s used, reservation holds %s", op.Unit, r.unit)
		}
	case KindExpire:
		if op.Time < r.expires {
			return Result{}, entries, invalid(op, "reservation %q of account %q expires at %d, after %d", r.id, a.id, r.expires, op.Time)
		}
	}
	used, usedUnits := op.Amount, op.Units // zero unless commit
	newBal, err := subNonZero(a.balance, used)
	if err != nil {
		return Result{}, entries, fmt.Errorf("%w: account %q balance", ErrOverflow, a.id)
	}
	newHeld, err := subNonZero(a.held, r.amount)
	if err != nil {
		return Result{}, entries, fmt.Errorf("%w: account %q held", ErrOverflow, a.id)
	}
	avail, err := a.availableWith(newBal, newHeld)
	if err != nil {
		return Result{}, entries, fmt.Errorf("%w: account %q", err, a.id)
	}
	released, err := r.amount.Sub(used)
	if err != nil {
		return Result{}, entries, fmt.Errorf("%w: account %q", ErrOverflow, a.id)
	}
	// Valid: apply.
	a.balance, a.held = newBal, newHeld
	a.clearBelow(avail)
	if !used.IsZero() || !r.amount.IsZero() {
		e := Entry{Account: a.id, Kind: op.Kind, Key: op.Key, Time: op.Time, Reservation: op.Reservation,
			Asset: AssetMoney, Balance: a.balance, Held: a.held, Reason: op.Reason}
		e.Delta, _ = used.Neg()
		e.HeldDelta, _ = r.amount.Neg()
		entries = append(entries, e)
	}
	rem := usedUnits
	for _, h := range r.holds {
		b := &a.buckets[h.b]
		take := min(rem, h.units)
		rem -= take
		b.Units -= take
		b.held -= h.units
		e := Entry{Account: a.id, Kind: op.Kind, Key: op.Key, Time: op.Time, Reservation: op.Reservation,
			Asset: b.asset, Balance: unitsDec(b.Units), HeldDelta: negUnits(h.units), Held: unitsDec(b.held), Reason: op.Reason}
		if take > 0 {
			e.Delta = negUnits(take)
		}
		entries = append(entries, e)
	}
	res := result(op, a)
	res.DebitedAmount, res.DebitedUnits = used, usedUnits
	res.ReleasedAmount, res.ReleasedUnits = released, r.units-usedUnits
	res.Available = avail
	s.closeRes(r)
	return res, entries, nil
}

func (s *State) closeRes(r *reservation) {
	r.acct.removeRes(r)
	s.wheel.remove(r)
	s.nres--
	s.releaseRes(r)
}

// debit: see Apply.
func (s *State) debit(op *Op, a *account, entries []Entry) (Result, []Entry, error) {
	if op.Amount.IsZero() && op.Units == 0 && op.RateKey == 0 && len(op.Counters) == 0 {
		return Result{}, entries, invalid(op, "nothing to debit")
	}
	if a.status != Active {
		return Result{}, entries, fmt.Errorf("%w: account %q", ErrAccountInactive, a.id)
	}
	newBal, err := subNonZero(a.balance, op.Amount)
	if err != nil {
		return Result{}, entries, fmt.Errorf("%w: account %q balance", ErrOverflow, a.id)
	}
	avail, err := a.availableWith(newBal, a.held)
	if err != nil {
		return Result{}, entries, fmt.Errorf("%w: account %q", err, a.id)
	}
	if a.typ == Prepaid && op.Amount.Sign() > 0 && avail.Sign() < 0 {
		before, _ := a.availableWith(a.balance, a.held)
		return Result{}, entries, fmt.Errorf("%w: account %q has %s available, %s asked", ErrInsufficientFunds, a.id, before, op.Amount)
	}
	var buf [4]hold
	hs := buf[:0]
	if op.Units > 0 {
		var short uint64
		if hs, short = a.takeUnits(op.Unit, op.Units, op.Time, hs); short > 0 {
			return Result{}, entries, fmt.Errorf("%w: account %q has %d %s available, %d asked", ErrInsufficientFunds, a.id, op.Units-short, op.Unit, op.Units)
		}
	}
	// Valid: apply.
	a.balance = newBal
	a.clearBelow(avail)
	if !op.Amount.IsZero() {
		e := Entry{Account: a.id, Kind: op.Kind, Key: op.Key, Time: op.Time,
			Asset: AssetMoney, Balance: a.balance, Held: a.held, Reason: op.Reason}
		e.Delta, _ = op.Amount.Neg()
		entries = append(entries, e)
	}
	for _, h := range hs {
		b := &a.buckets[h.b]
		b.Units -= h.units
		entries = append(entries, Entry{Account: a.id, Kind: op.Kind, Key: op.Key, Time: op.Time,
			Asset: b.asset, Delta: negUnits(h.units), Balance: unitsDec(b.Units), Held: unitsDec(b.held), Reason: op.Reason})
	}
	res := result(op, a)
	res.DebitedAmount, res.DebitedUnits, res.Available = op.Amount, op.Units, avail
	return res, entries, nil
}

// credit handles Credit, TopUp and Adjust: see Apply.
func (s *State) credit(op *Op, a *account, entries []Entry) (Result, []Entry, error) {
	if op.Kind == KindAdjust {
		if op.Amount.IsZero() {
			return Result{}, entries, invalid(op, "an adjustment needs a non-zero amount")
		}
		if op.Reason == "" {
			return Result{}, entries, invalid(op, "an adjustment needs a reason")
		}
	} else {
		if op.Amount.Sign() <= 0 {
			return Result{}, entries, invalid(op, "the amount must be positive")
		}
		if a.status == Closed {
			return Result{}, entries, fmt.Errorf("%w: account %q is closed", ErrAccountInactive, a.id)
		}
	}
	newBal, err := a.balance.Add(op.Amount)
	if err != nil {
		return Result{}, entries, fmt.Errorf("%w: account %q balance", ErrOverflow, a.id)
	}
	avail, err := a.availableWith(newBal, a.held)
	if err != nil {
		return Result{}, entries, fmt.Errorf("%w: account %q", err, a.id)
	}
	a.balance = newBal
	if op.Kind == KindAdjust {
		a.below = a.typ == Prepaid && avail.Sign() < 0
	} else {
		a.clearBelow(avail)
	}
	entries = append(entries, Entry{Account: a.id, Kind: op.Kind, Key: op.Key, Time: op.Time,
		Asset: AssetMoney, Delta: op.Amount, Balance: a.balance, Held: a.held, Reason: op.Reason})
	res := result(op, a)
	res.Available = avail
	return res, entries, nil
}

// grantBucket: see Apply. Result.GrantedUnits is the units granted.
func (s *State) grantBucket(op *Op, a *account, entries []Entry) (Result, []Entry, error) {
	b := op.Bucket
	switch {
	case b.ID == "":
		return Result{}, entries, invalid(op, "the bucket id is required")
	case !validUnit(b.Unit):
		return Result{}, entries, invalid(op, "bucket %q: unknown unit %d", b.ID, b.Unit)
	case b.Units == 0 || b.Units > math.MaxInt64:
		return Result{}, entries, invalid(op, "bucket %q: units must be 1…%d", b.ID, int64(math.MaxInt64))
	case b.ValidUntil != 0 && b.ValidUntil <= b.ValidFrom:
		return Result{}, entries, invalid(op, "bucket %q: valid until %d is not after valid from %d", b.ID, b.ValidUntil, b.ValidFrom)
	case a.status == Closed:
		return Result{}, entries, fmt.Errorf("%w: account %q is closed", ErrAccountInactive, a.id)
	}
	for i := range a.buckets {
		if a.buckets[i].ID == b.ID {
			return Result{}, entries, invalid(op, "account %q already has a bucket %q", a.id, b.ID)
		}
	}
	asset := bucketAssetPrefix + b.ID
	b.ID = asset[len(bucketAssetPrefix):]
	pos := len(a.buckets)
	for i := range a.buckets {
		if burnsBefore(&b, &a.buckets[i].Bucket) {
			pos = i
			break
		}
	}
	a.buckets = slices.Insert(a.buckets, pos, bucketState{Bucket: b, asset: asset})
	if pos < len(a.buckets)-1 {
		for _, r := range a.res {
			for i := range r.holds {
				if int(r.holds[i].b) >= pos {
					r.holds[i].b++
				}
			}
		}
	}
	entries = append(entries, Entry{Account: a.id, Kind: op.Kind, Key: op.Key, Time: op.Time,
		Asset: asset, Delta: unitsDec(b.Units), Balance: unitsDec(b.Units), Reason: op.Reason})
	res := result(op, a)
	res.GrantedUnits = b.Units
	res.Available, _ = a.availableWith(a.balance, a.held)
	return res, entries, nil
}

// Due appends to out the KindExpire ops (key "expire:<account>:<reservation>",
// Time now) of open reservations with Expires ≤ now, at most limit of them
// (limit ≤ 0: no limit), earliest expiry first (ties by account, then
// reservation id), and returns out. It does not change the state: the
// engine applies and journals the ops; a reservation stays due until then.
// The cost is proportional to the due reservations plus those sharing
// their ~1 s wheel slots.
func (s *State) Due(now int64, out []Op, limit int) []Op {
	s.due = s.wheel.due(now, s.due[:0], limit)
	slices.SortFunc(s.due, func(x, y *reservation) int {
		if x.expires != y.expires {
			if x.expires < y.expires {
				return -1
			}
			return 1
		}
		if c := strings.Compare(x.acct.id, y.acct.id); c != 0 {
			return c
		}
		return strings.Compare(x.id, y.id)
	})
	if limit > 0 && len(s.due) > limit {
		s.due = s.due[:limit]
	}
	for i, r := range s.due {
		out = append(out, Op{Kind: KindExpire, Key: "expire:" + r.acct.id + ":" + r.id,
			Account: r.acct.id, Reservation: r.id, Time: now})
		s.due[i] = nil
	}
	return out
}

// AccountView is a copy of an account's state.
type AccountView struct {
	ID          string        `json:"id"`
	Type        AccountType   `json:"type"`
	Currency    string        `json:"currency"`
	CreditLimit money.Decimal `json:"credit_limit"`
	Status      AccountStatus `json:"status"`
	// Balance is the money balance; Held the money held by open
	// reservations; Available = Balance − Held + CreditLimit.
	Balance      money.Decimal     `json:"balance"`
	Held         money.Decimal     `json:"held"`
	Available    money.Decimal     `json:"available"`
	Buckets      []BucketView      `json:"buckets"`
	Reservations []ReservationView `json:"reservations"`
	// Counters are the period counters of rated usage (allowances, caps).
	Counters []Counter `json:"counters"`
}

// BucketView is a bucket (Units: remaining, including held) and the units
// open reservations hold in it.
type BucketView struct {
	Bucket
	Held uint64 `json:"held"`
}

// ReservationView is an open reservation.
type ReservationView struct {
	ID      string        `json:"id"`
	Amount  money.Decimal `json:"amount"`
	Unit    usage.Unit    `json:"unit"`
	Units   uint64        `json:"units"`
	Holds   []UnitHold    `json:"holds,omitempty"`
	Expires int64         `json:"expires"`
	Created int64         `json:"created"`
}

// UnitHold is units held in one bucket.
type UnitHold struct {
	Bucket string `json:"bucket"`
	Units  uint64 `json:"units"`
}

// AccountView returns a deep copy of the account id, buckets in burn order
// and reservations sorted by id.
func (s *State) AccountView(id string) (AccountView, bool) {
	a := s.acct(id)
	if a == nil {
		return AccountView{}, false
	}
	v := AccountView{ID: a.id, Type: a.typ, Currency: a.currency, CreditLimit: a.limit, Status: a.status,
		Balance: a.balance, Held: a.held, Buckets: []BucketView{}, Reservations: []ReservationView{},
		Counters: append([]Counter{}, a.counters...)}
	v.Available, _ = a.availableWith(a.balance, a.held)
	for i := range a.buckets {
		v.Buckets = append(v.Buckets, BucketView{Bucket: a.buckets[i].Bucket, Held: a.buckets[i].held})
	}
	for _, r := range a.res {
		rv := ReservationView{ID: r.id, Amount: r.amount, Unit: r.unit, Units: r.units, Expires: r.expires, Created: r.created}
		for _, h := range r.holds {
			rv.Holds = append(rv.Holds, UnitHold{Bucket: a.buckets[h.b].ID, Units: h.units})
		}
		v.Reservations = append(v.Reservations, rv)
	}
	slices.SortFunc(v.Reservations, func(x, y ReservationView) int { return strings.Compare(x.ID, y.ID) })
	return v, true
}

// EvictIdem forgets idempotency keys recorded more than IdemWindow before
// now (and, should there be any, the oldest beyond IdemMax). Apply already
// does this as it records keys; EvictIdem frees memory in a quiet
// partition. now must not exceed the Time of ops applied later (the engine
// stamps ops from the same clock), else keys still in their window would
// be forgotten early. O(keys evicted).
func (s *State) EvictIdem(now int64) {
	s.idem.evict(now, s.opts)
}

// CheckInvariants verifies the state's internal consistency (for tests and
// after loading a snapshot): no negative balance of held money or units,
// held money equals the sum of the reservations' money, each bucket's held
// units the sum of the holds on it and at most its units, no bucket above
// MaxInt64 units, buckets in burn order, a prepaid account not marked as
// adjusted below its floor has Available ≥ 0, every open reservation is in
// the expiry wheel, and the idempotency table is consistent.
func (s *State) CheckInvariants() error {
	var errs []error
	nres := 0
	count := 0
	for _, sl := range s.slabs {
		for i := range sl {
			a := &sl[i]
			count++
			if s.acct(a.id) != a {
				errs = append(errs, fmt.Errorf("account %q: not indexed", a.id))
			}
			if err := a.check(); err != nil {
				errs = append(errs, err)
			}
			nres += len(a.res)
		}
	}
	if count != s.accounts.len() || count != s.naccts {
		errs = append(errs, fmt.Errorf("%d accounts in slabs, %d indexed, %d counted", count, s.accounts.len(), s.naccts))
	}
	if nres != s.nres || s.wheel.n != nres {
		errs = append(errs, fmt.Errorf("%d reservations open, %d counted, %d in the wheel", nres, s.nres, s.wheel.n))
	}
	if err := s.wheel.check(); err != nil {
		errs = append(errs, err)
	}
	if err := s.idem.check(s.opts); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (a *account) check() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("account %q: "+format, append([]any{a.id}, args...)...))
	}
	if a.held.Sign() < 0 {
		bad("negative held money %s", a.held)
	}
	var sum money.Decimal
	held := make([]uint64, len(a.buckets))
	for i, r := range a.res {
		if int(r.pos) != i || r.acct != a {
			bad("reservation %q: position %d/%d, account %p", r.id, r.pos, i, r.acct)
		}
		if a.resIdx != nil && a.resIdx[r.id] != r {
			bad("reservation %q not in the index", r.id)
		}
		if r.amount.Sign() < 0 {
			bad("reservation %q holds negative money %s", r.id, r.amount)
		}
		var err error
		if sum, err = sum.Add(r.amount); err != nil {
			bad("held money overflows")
		}
		var units uint64
		for _, h := range r.holds {
			if h.b < 0 || int(h.b) >= len(a.buckets) || h.units == 0 {
				bad("reservation %q: bad hold %+v", r.id, h)
				continue
			}
			if a.buckets[h.b].Unit != r.unit {
				bad("reservation %q holds %s in a %s bucket", r.id, r.unit, a.buckets[h.b].Unit)
			}
			held[h.b] += h.units
			units += h.units
		}
		if units != r.units {
			bad("reservation %q: holds sum to %d, units %d", r.id, units, r.units)
		}
		if r.amount.IsZero() && r.units == 0 {
			bad("reservation %q holds nothing", r.id)
		}
	}
	if a.resIdx != nil && len(a.resIdx) != len(a.res) {
		bad("reservation index has %d entries for %d reservations", len(a.resIdx), len(a.res))
	}
	if !sum.Equal(a.held) {
		bad("held money %s, reservations hold %s", a.held, sum)
	}
	for i := range a.buckets {
		b := &a.buckets[i]
		if b.held != held[i] {
			bad("bucket %q: held %d, reservations hold %d", b.ID, b.held, held[i])
		}
		if b.held > b.Units || b.Units > math.MaxInt64 {
			bad("bucket %q: held %d of %d units", b.ID, b.held, b.Units)
		}
		if b.asset != bucketAssetPrefix+b.ID {
			bad("bucket %q: asset %q", b.ID, b.asset)
		}
		if i > 0 && !burnsBefore(&a.buckets[i-1].Bucket, &b.Bucket) {
			bad("buckets %q and %q out of burn order", a.buckets[i-1].ID, b.ID)
		}
	}
	if a.typ == Prepaid && !a.below {
		if avail, err := a.availableWith(a.balance, a.held); err == nil && avail.Sign() < 0 {
			bad("prepaid account %s below its floor (available %s) without an adjustment", a.id, avail)
		}
	}
	if a.typ != Prepaid && a.below {
		bad("postpaid account marked below its floor")
	}
	return errors.Join(errs...)
}

// The expiry wheel: open reservations linked into slots of 2^30 ns (~1.07
// s) by expiry, wheelSlots slots per revolution (~73 min); reservations
// further out share a slot with nearer ones and are skipped until their
// round comes. Adding and removing is O(1); Due scans only the slots
// between the cursor and now.
const (
	wheelShift = 30
	wheelSlots = 4096
	wheelMask  = wheelSlots - 1
)

type wheel struct {
	slots []*reservation
	// cursor is the first absolute slot (expiry >> wheelShift) that may
	// hold a due reservation; unset until the first scan, which then
	// scans every slot.
	cursor    int64
	cursorSet bool
	n         int
}

func (w *wheel) add(r *reservation) {
	if w.slots == nil {
		w.slots = make([]*reservation, wheelSlots)
	}
	abs := r.expires >> wheelShift
	i := abs & wheelMask
	r.prev, r.next = nil, w.slots[i]
	if r.next != nil {
		r.next.prev = r
	}
	w.slots[i] = r
	w.n++
	if w.cursorSet && abs < w.cursor {
		w.cursor = abs
	}
}

func (w *wheel) remove(r *reservation) {
	if r.prev != nil {
		r.prev.next = r.next
	} else {
		w.slots[(r.expires>>wheelShift)&wheelMask] = r.next
	}
	if r.next != nil {
		r.next.prev = r.prev
	}
	r.prev, r.next = nil, nil
	w.n--
}

// due appends the reservations with expiry ≤ now. It stops after the
// slot in which it reached limit (> 0), except when it scans the whole
// wheel (then slot order is not expiry order). The cursor moves to the
// first slot that still holds a due reservation: the caller expires them.
func (w *wheel) due(now int64, out []*reservation, limit int) []*reservation {
	nowSlot := now >> wheelShift
	if w.n == 0 {
		w.cursor, w.cursorSet = nowSlot, true
		return out
	}
	start, whole := w.cursor, false
	if !w.cursorSet || nowSlot-start >= wheelSlots {
		start, whole = nowSlot-wheelSlots+1, true
	}
	if start > nowSlot {
		return out
	}
	cursor, dirty := nowSlot, false
	for abs := start; abs <= nowSlot; abs++ {
		found := false
		for r := w.slots[abs&wheelMask]; r != nil; r = r.next {
			if r.expires <= now {
				out = append(out, r)
				found = true
			}
		}
		if found && !dirty {
			cursor, dirty = abs, true
		}
		if limit > 0 && len(out) >= limit && !whole {
			break
		}
	}
	w.cursor, w.cursorSet = cursor, true
	return out
}

func (w *wheel) check() error {
	n := 0
	for i, head := range w.slots {
		var prev *reservation
		for r := head; r != nil; r = r.next {
			n++
			if int((r.expires>>wheelShift)&wheelMask) != i || r.prev != prev {
				return fmt.Errorf("wheel: reservation %q (expires %d) misplaced in slot %d", r.id, r.expires, i)
			}
			if r.acct == nil || r.acct.findRes(r.id) != r {
				return fmt.Errorf("wheel: reservation %q is not open", r.id)
			}
			prev = r
		}
	}
	if n != w.n {
		return fmt.Errorf("wheel: %d reservations linked, %d counted", n, w.n)
	}
	return nil
}
