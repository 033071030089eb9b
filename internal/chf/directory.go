package chf

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-billing/tollgate/internal/account"
	"github.com/tollgate-billing/tollgate/internal/money"
	"github.com/tollgate-billing/tollgate/internal/store"
)

// Subscription is what the CHF needs to know about the subscriber of a
// request: whose account pays, in which currency, with which tariff plan.
type Subscription struct {
	SUPI      string
	GPSI      string // MSISDN as "msisdn-<digits>", when known
	AccountID string
	Currency  money.Currency
	PlanID    string
	// Active is false when the subscriber or the account is suspended,
	// barred or closed.
	Active bool
}

// Directory finds the subscription of a SUPI at an instant.
type Directory interface {
	Lookup(ctx context.Context, supi string, at time.Time) (Subscription, error)
}

// Errors of a Directory.
var (
	ErrUnknownSubscriber = errors.New("chf: unknown subscriber")
	ErrNoPlan            = errors.New("chf: no tariff plan assigned")
)

// MasterData is the part of the records store a StoreDirectory reads.
type MasterData interface {
	FindSubscriber(ctx context.Context, l store.Lookup) (account.Subscriber, error)
	GetAccount(ctx context.Context, id string) (account.Account, error)
	PlanAt(ctx context.Context, accountID string, t time.Time) (account.Assignment, error)
}

// StoreDirectory is a Directory over master data with an in-memory cache
// (S1.9: hot data memory-resident): an entry is reused for TTL, and its
// plan only while the plan assignment covers the instant asked about.
type StoreDirectory struct {
	Data MasterData
	TTL  time.Duration
	Now  func() time.Time

	mu    sync.RWMutex
	cache map[string]dirEntry
}

type dirEntry struct {
	sub     Subscription
	from    time.Time
	until   time.Time // zero: open ended
	fetched time.Time
}

// Lookup returns the subscription of supi at instant at.
func (d *StoreDirectory) Lookup(ctx context.Context, supi string, at time.Time) (Subscription, error) {
	now := d.now()
	d.mu.RLock()
	e, ok := d.cache[supi]
	d.mu.RUnlock()
	if ok && now.Sub(e.fetched) < d.TTL && !at.Before(e.from) && (e.until.IsZero() || at.Before(e.until)) {
		return e.sub, nil
	}
	e, err := d.fetch(ctx, supi, at)
	if err != nil {
		return Subscription{}, err
	}
	e.fetched = now
	d.mu.Lock()
	if d.cache == nil {
		d.cache = make(map[string]dirEntry)
	}
	if len(d.cache) > 1<<20 { // bound memory: start over rather than grow without end
		clear(d.cache)
	}
	d.cache[supi] = e
	d.mu.Unlock()
	return e.sub, nil
}

// Forget drops every cached entry (after master data changed).
func (d *StoreDirectory) Forget() {
	d.mu.Lock()
	clear(d.cache)
	d.mu.Unlock()
}

func (d *StoreDirectory) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *StoreDirectory) fetch(ctx context.Context, supi string, at time.Time) (dirEntry, error) {
	l := store.Lookup{SUPI: supi}
	if !strings.HasPrefix(strings.ToLower(supi), account.SUPIPrefixIMSI) && !strings.HasPrefix(strings.ToLower(supi), account.SUPIPrefixNAI) {
		return dirEntry{}, fmt.Errorf("%w: %q is not a SUPI (imsi-… or nai-…)", ErrUnknownSubscriber, supi)
	}
	sub, err := d.Data.FindSubscriber(ctx, l)
	if errors.Is(err, store.ErrNotFound) && strings.HasPrefix(strings.ToLower(supi), account.SUPIPrefixIMSI) {
		// Subscribers provisioned with an IMSI only.
		sub, err = d.Data.FindSubscriber(ctx, store.Lookup{IMSI: supi[len(account.SUPIPrefixIMSI):]})
	}
	if errors.Is(err, store.ErrNotFound) {
		return dirEntry{}, fmt.Errorf("%w: %s", ErrUnknownSubscriber, supi)
	}
	if err != nil {
		return dirEntry{}, err
	}
	acc, err := d.Data.GetAccount(ctx, sub.AccountID)
	if err != nil {
		return dirEntry{}, err
	}
	e := dirEntry{sub: Subscription{
		SUPI: supi, AccountID: acc.ID, Currency: acc.Currency,
		Active: sub.Status == account.Active && acc.Status == account.Active,
	}}
	if sub.MSISDN != "" {
		e.sub.GPSI = "msisdn-" + sub.MSISDN
	}
	as, err := d.Data.PlanAt(ctx, acc.ID, at)
	if errors.Is(err, store.ErrNotFound) {
		return dirEntry{}, fmt.Errorf("%w to account %s at %s", ErrNoPlan, acc.ID, at.UTC().Format(time.RFC3339))
	}
	if err != nil {
		return dirEntry{}, err
	}
	e.sub.PlanID, e.from = as.PlanID, as.ValidFrom
	if as.ValidUntil != nil {
		e.until = *as.ValidUntil
	}
	return e, nil
}
