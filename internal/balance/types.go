package balance

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/tollgate-billing/tollgate/internal/money"
	"github.com/tollgate-billing/tollgate/internal/usage"
)

// This file is the contract shared by the state machine (state.go), the
// journal codec (codec.go), the engine (engine.go) and the SQL ledger
// projection (package balance/ledger). Times are unix nanoseconds (UTC) so
// that records are compact and replay is deterministic.

// Kind is the kind of a balance operation.
type Kind uint8

// The operation kinds. The numeric values are part of the journal format:
// never renumber, only append.
const (
	KindInvalid Kind = iota
	// KindOpenAccount creates or updates the account record the engine
	// checks operations against (type, currency, credit limit, status),
	// mirrored from master data. Idempotent by content.
	KindOpenAccount
	// KindReserve holds money and/or bucket units for a charging session
	// until Expires, under the reservation id Reservation.
	KindReserve
	// KindCommit turns the used part of a reservation into a debit and
	// releases the rest; the reservation is closed.
	KindCommit
	// KindRelease releases a reservation without debit.
	KindRelease
	// KindDebit takes money (and/or bucket units) without a reservation,
	// e.g. a one-time event or a rated offline CDR.
	KindDebit
	// KindCredit gives money back (a refund), with a reason.
	KindCredit
	// KindTopUp adds money paid in by the customer.
	KindTopUp
	// KindAdjust changes the money balance by a signed amount, by an
	// operator, with a reason.
	KindAdjust
	// KindGrantBucket adds a unit bucket (an allowance) to the account.
	KindGrantBucket
	// KindExpire releases a reservation whose expiry passed; the engine
	// issues it itself (its key is "expire:<account>:<reservation>").
	KindExpire
	// KindPutState stores (or, with empty Data, deletes) the named state
	// blob Name attached to the account: state of other subsystems that
	// must be durable with the account's partition and move with it, such
	// as the CHF's sessions. It moves no money and produces no ledger
	// entries. It is last-write-wins and not remembered for idempotency
	// (a retry simply writes again), so its Key is only a label.
	KindPutState
)

var kindNames = [...]string{
	KindInvalid:     "invalid",
	KindOpenAccount: "open_account",
	KindReserve:     "reserve",
	KindCommit:      "commit",
	KindRelease:     "release",
	KindDebit:       "debit",
	KindCredit:      "credit",
	KindTopUp:       "topup",
	KindAdjust:      "adjust",
	KindGrantBucket: "grant_bucket",
	KindExpire:      "expire",
	KindPutState:    "put_state",
}

// String returns the kind's name, e.g. "reserve".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// MarshalText writes the kind's name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText parses a kind's name.
func (k *Kind) UnmarshalText(b []byte) error {
	for i, n := range kindNames {
		if n == string(b) && i != int(KindInvalid) {
			*k = Kind(i)
			return nil
		}
	}
	return fmt.Errorf("%w: unknown kind %q", ErrInvalid, b)
}

// AccountType mirrors account.Type: prepaid accounts cannot go below minus
// their credit limit; postpaid accounts accumulate.
type AccountType uint8

// The account types (same values as account.Type).
const (
	Prepaid  AccountType = 1
	Postpaid AccountType = 2
)

// MarshalText writes "prepaid" or "postpaid".
func (t AccountType) MarshalText() ([]byte, error) {
	switch t {
	case Prepaid:
		return []byte("prepaid"), nil
	case Postpaid:
		return []byte("postpaid"), nil
	case 0:
		return []byte{}, nil
	}
	return nil, fmt.Errorf("%w: account type %d", ErrInvalid, t)
}

// AccountStatus mirrors account.Status; only active accounts may be charged.
type AccountStatus uint8

// The statuses (same values as account.Status).
const (
	Active    AccountStatus = 1
	Suspended AccountStatus = 2
	Barred    AccountStatus = 3
	Closed    AccountStatus = 4
)

var statusNames = [...]string{Active: "active", Suspended: "suspended", Barred: "barred", Closed: "closed"}

// MarshalText writes the status name ("active" …).
func (s AccountStatus) MarshalText() ([]byte, error) {
	if s <= Closed {
		return []byte(statusNames[s]), nil
	}
	return nil, fmt.Errorf("%w: account status %d", ErrInvalid, s)
}

// Op is one balance operation as submitted and as journaled. Which fields
// matter depends on Kind; unused fields are zero.
type Op struct {
	Kind Kind
	// Key is the idempotency key: the same key with the same content
	// returns the original result; with different content it is
	// ErrKeyConflict. Required for every kind.
	Key     string
	Account string
	// Time is set by the engine when the op is accepted (unix ns); replay
	// uses it, so applying a journal is deterministic.
	Time int64

	// Reservation is the reservation id (reserve, commit, release, expire).
	Reservation string
	// Amount: money to hold (reserve), used money (commit), money to debit,
	// credit, top up, or the signed adjustment. Never negative except for
	// adjust.
	Amount money.Decimal
	// Unit and Units: bucket units to hold (reserve), used (commit) or to
	// debit (debit). Buckets of the unit burn in priority order.
	Unit  usage.Unit
	Units uint64
	// Expires is the reservation expiry (unix ns).
	Expires int64
	// Partial lets a reserve grant less than asked when the balance is
	// short (the grant is what is available, possibly zero units/money).
	Partial bool
	// Reason explains credits and adjustments (for auditors).
	Reason string

	// Open-account fields.
	AccountType AccountType
	Currency    string // ISO 4217
	CreditLimit money.Decimal
	Status      AccountStatus

	// Grant-bucket fields.
	Bucket Bucket

	// Put-state fields: the blob's name (unique per partition) and its
	// content (at most MaxStateBytes; empty deletes it).
	Name string
	Data []byte

	// Rated ops (reserve, commit, debit): the amount comes from rating the
	// usage against the account's period counters at the moment the op is
	// applied, inside the partition, so that concurrent sessions of one
	// account each see the others' usage (a monthly allowance is spent
	// once). Rate is called with the account's counters and returns the
	// amount and the counter changes; it runs in the partition goroutine
	// and must be quick and must not block. It is not journaled: the
	// journal records its outcome (Amount, Counters) and RateKey, a
	// fingerprint of the rating input (plan, service, quantity, time …)
	// that stands for the amount in the idempotency hash.
	Rate    RateFunc
	RateKey uint64
	// Counters are changes to the account's period counters, applied with
	// a commit or debit (set by Rate, or given directly).
	Counters []Counter

	// excess is set by rating a commit (see Result.Excess); not journaled.
	excess money.Decimal
}

// RateFunc rates an op's usage against the account's period counters.
type RateFunc func(counters []Counter) (amount money.Decimal, deltas []Counter, err error)

// Counter is a period counter of an account: Units and Amount counted under
// ID in the period that starts at PeriodStart (unix seconds) — the state of
// the rating engine's allowances, caps and period tiers. As a change
// (Op.Counters) it is added to the counter with the same ID and period.
type Counter struct {
	ID          string        `json:"id"`
	PeriodStart int64         `json:"period_start"`
	Units       uint64        `json:"units,omitempty"`
	Amount      money.Decimal `json:"amount,omitzero"`
}

// ErrRating wraps an error of an op's Rate function.
var ErrRating = errors.New("balance: rating failed")

// MaxStateBytes bounds the Data of a put_state op.
const MaxStateBytes = 64 << 10

// Bucket is an allowance of units with a validity window. Lower Priority
// burns first; ties burn the one expiring first, then the oldest id.
type Bucket struct {
	ID         string
	Unit       usage.Unit
	Units      uint64 // remaining units (on grant: the units granted)
	ValidFrom  int64  // unix ns; 0 = always
	ValidUntil int64  // unix ns; 0 = never expires
	Priority   int32
}

// Result is what an accepted op did.
type Result struct {
	Kind        Kind   `json:"kind"`
	Account     string `json:"account_id"`
	Reservation string `json:"reservation,omitempty"`
	// Granted money and units (reserve).
	GrantedAmount money.Decimal `json:"granted_amount,omitzero"`
	GrantedUnits  uint64        `json:"granted_units,omitempty"`
	// Debited money and units (commit, debit); Released the held remainder
	// (commit, release, expire).
	DebitedAmount  money.Decimal `json:"debited_amount,omitzero"`
	DebitedUnits   uint64        `json:"debited_units,omitempty"`
	ReleasedAmount money.Decimal `json:"released_amount,omitzero"`
	ReleasedUnits  uint64        `json:"released_units,omitempty"`
	// Balance is the account's money balance after the op, Available what
	// can still be spent (balance − holds + credit limit for prepaid).
	Balance   money.Decimal `json:"balance"`
	Available money.Decimal `json:"available"`
	// Time is when the op was accepted (unix ns).
	Time int64 `json:"time_unix_nano"`
	// Replayed is true when this is the stored result of an earlier op with
	// the same key (an idempotent retry).
	Replayed bool `json:"replayed,omitempty"`
	// Rated is the amount a rated op's Rate gave; Excess the part of a
	// rated commit beyond what the reservation held (not debited: the
	// caller debits it). Counters are the account's period counters after
	// a rated op (for sizing grants). None of them is kept for a replay.
	Rated    money.Decimal `json:"rated,omitzero"`
	Excess   money.Decimal `json:"excess,omitzero"`
	Counters []Counter     `json:"counters,omitempty"`
}

// Asset of a ledger entry: the money balance or one bucket.
const AssetMoney = "money"

// Entry is one line of the append-only ledger: one movement of one balance
// or bucket of one account. For every account and asset, the sum of Delta
// over its entries equals the balance, and the sum of HeldDelta the amount
// held by open reservations (the invariant the property test checks).
type Entry struct {
	Account     string
	Kind        Kind
	Key         string
	Time        int64
	Reservation string
	// Asset is AssetMoney or "bucket:<id>".
	Asset string
	// Delta changes the balance (money in the account currency, or bucket
	// units as a Decimal of scale 0); Balance is the value after it.
	Delta   money.Decimal
	Balance money.Decimal
	// HeldDelta changes the amount held by reservations; Held is after it.
	HeldDelta money.Decimal
	Held      money.Decimal
	// Reason of a credit or adjustment.
	Reason string
}

// Batch is one journal record: the ops a partition accepted in one group
// commit, in order, with the ledger entries they produced. JournalSeq and
// Index (the entry's position in Entries) identify an entry uniquely, which
// makes the SQL projection idempotent.
type Batch struct {
	Partition int
	// Epoch is the partition lease epoch of the writer (fencing, §lease).
	Epoch   uint64
	Ops     []Op
	Entries []Entry
}

// Errors. Each wraps into the API's error categories in one place.
var (
	ErrInvalid            = errors.New("balance: invalid operation")
	ErrKeyConflict        = errors.New("balance: idempotency key reused with different content")
	ErrUnknownAccount     = errors.New("balance: unknown account")
	ErrAccountInactive    = errors.New("balance: account is not active")
	ErrInsufficientFunds  = errors.New("balance: insufficient funds")
	ErrUnknownReservation = errors.New("balance: unknown reservation")
	ErrReservationExists  = errors.New("balance: reservation id already in use")
	ErrReservationExpired = errors.New("balance: reservation expired")
	ErrExceedsReservation = errors.New("balance: used more than reserved")
	ErrCurrencyMismatch   = errors.New("balance: currency mismatch")
	ErrOverflow           = errors.New("balance: amount overflow")
	ErrNotOwner           = errors.New("balance: this node does not own the account's partition")
	ErrFenced             = errors.New("balance: partition lease lost (fenced)")
	ErrUnavailable        = errors.New("balance: partition unavailable")
)
