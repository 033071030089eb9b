package chf

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"time"

	"github.com/tollgate-billing/tollgate/internal/balance"
	"github.com/tollgate-billing/tollgate/internal/config"
	"github.com/tollgate-billing/tollgate/internal/money"
	"github.com/tollgate-billing/tollgate/internal/nchf"
	"github.com/tollgate-billing/tollgate/internal/rating"
)

// This file is where quota is granted (S0, TS 32.291 §6.1.6.2.1.13
// MultipleUnitInformation): for one rating group of one request, the used
// units are rated and taken from the open reservation, and the requested
// units are rated and reserved on the subscriber's account, sized down to
// what the balance allows.

// used is the usage one request reports for one rating group.
type used struct {
	ul, dl, vol, time, units uint64
	first, last              time.Time
	lsns                     []uint64
	// tariffChange: a container was closed by TARIFF_TIME_CHANGE.
	tariffChange bool
	// pieces are the containers, each to be rated at its own time.
	pieces []piece
}

// quantity is the usage in the rating group's units.
func (u *used) quantity(kind string) uint64 {
	switch kind {
	case config.UnitsVolume:
		return u.vol
	case config.UnitsTime:
		return u.time
	default:
		return u.units
	}
}

func sumUsed(cs []nchf.UsedUnitContainer, kind string, at time.Time) used {
	var u used
	u.pieces = make([]piece, 0, len(cs))
	for i := range cs {
		c := &cs[i]
		vol := c.TotalVolume
		if vol == 0 {
			vol = c.UplinkVolume + c.DownlinkVolume
		}
		u.ul += c.UplinkVolume
		u.dl += c.DownlinkVolume
		u.vol += vol
		u.time += uint64(c.Time)
		u.units += c.ServiceSpecificUnits
		u.lsns = append(u.lsns, c.LocalSequenceNumber)
		tariffChange := false
		for _, tr := range c.Triggers {
			if tr.TriggerType == nchf.TriggerTypeTariffTimeChange {
				tariffChange = true
			}
		}
		u.tariffChange = u.tariffChange || tariffChange
		t := c.TriggerTimestamp
		if t.IsZero() {
			t = at
		}
		if u.first.IsZero() || t.Before(u.first) {
			u.first = t
		}
		if t.After(u.last) {
			u.last = t
		}
		// The container's own rating time: its first usage when the SMF
		// sent it; else, closed by TARIFF_TIME_CHANGE, a second before its
		// trigger (the usage before the change); else its trigger time.
		start := t
		if tariffChange {
			start = start.Add(-time.Second)
		}
		if first, ok := firstUsage(c); ok {
			start = first
		}
		q := c.ServiceSpecificUnits
		switch kind {
		case config.UnitsVolume:
			q = vol
		case config.UnitsTime:
			q = uint64(c.Time)
		}
		u.pieces = append(u.pieces, piece{q: q, start: start})
	}
	return u
}

func requestedQuantity(kind string, r *nchf.RequestedUnit) uint64 {
	if r == nil {
		return 0
	}
	switch kind {
	case config.UnitsVolume:
		if r.TotalVolume != 0 {
			return r.TotalVolume
		}
		return r.UplinkVolume + r.DownlinkVolume
	case config.UnitsTime:
		return uint64(r.Time)
	default:
		return r.ServiceSpecificUnits
	}
}

func grantedUnit(kind string, q uint64) *nchf.GrantedUnit {
	switch kind {
	case config.UnitsVolume:
		return &nchf.GrantedUnit{TotalVolume: q}
	case config.UnitsTime:
		return &nchf.GrantedUnit{Time: uint32(min(q, 1<<32-1))}
	default:
		return &nchf.GrantedUnit{ServiceSpecificUnits: q}
	}
}

// price rates q units of the rating group's service under the plan, with
// the period counters cs (nil: as if the period had just started).
func (s *Service) price(planID string, rg config.RatingGroup, start time.Time, q uint64, cs []balance.Counter) (money.Decimal, []balance.Counter, error) {
	if q == 0 {
		return money.Decimal{}, nil, nil
	}
	res := s.results.Get().(*rating.Result)
	defer s.results.Put(res)
	ev := rating.Event{PlanID: planID, Service: rg.Service, Start: start, Quantity: q}
	if len(cs) > 0 {
		ev.Counters = make([]rating.Counter, len(cs))
		for i, c := range cs {
			ev.Counters[i] = rating.Counter{ID: c.ID, PeriodStart: c.PeriodStart, Units: c.Units, Amount: c.Amount}
		}
	}
	if err := s.cfg.Rater.Rate(&ev, res); err != nil {
		return money.Decimal{}, nil, err
	}
	var deltas []balance.Counter
	for _, d := range res.Deltas {
		deltas = append(deltas, balance.Counter{ID: d.ID, PeriodStart: d.PeriodStart, Units: d.Units, Amount: d.Amount})
	}
	return res.Amount, deltas, nil
}

// piece is usage to rate at its own time: a used-unit container, or a
// requested quota.
type piece struct {
	q     uint64
	start time.Time
}

// firstUsage is the container's pDUContainerInformation.timeofFirstUsage,
// when the SMF sent one: when the usage began, the most exact rating time.
// (The codec keeps pDUContainerInformation, which tollgate does not model
// otherwise, as a raw member.)
func firstUsage(c *nchf.UsedUnitContainer) (time.Time, bool) {
	for _, m := range c.Extra {
		if m.Name != "pDUContainerInformation" {
			continue
		}
		var pci struct {
			TimeofFirstUsage time.Time `json:"timeofFirstUsage"`
		}
		if err := json.Unmarshal(m.Value, &pci); err != nil || pci.TimeofFirstUsage.IsZero() {
			return time.Time{}, false
		}
		return pci.TimeofFirstUsage, true
	}
	return time.Time{}, false
}

// priceAll rates the pieces in order, each seeing the counter changes of
// the ones before, and returns the sum and all the changes.
func (s *Service) priceAll(planID string, rg config.RatingGroup, ps []piece, cs []balance.Counter) (money.Decimal, []balance.Counter, error) {
	if len(ps) == 1 {
		return s.price(planID, rg, ps[0].start, ps[0].q, cs)
	}
	var total money.Decimal
	var all []balance.Counter
	cur := slices.Clone(cs)
	for _, p := range ps {
		amount, deltas, err := s.price(planID, rg, p.start, p.q, cur)
		if err != nil {
			return money.Decimal{}, nil, err
		}
		if total, err = total.Add(amount); err != nil {
			return money.Decimal{}, nil, err
		}
		all = append(all, deltas...)
		cur = balance.AddCounters(cur, deltas)
	}
	return total, all, nil
}

// rated is a balance op's rating: the pieces of usage of the group's
// service under the plan, priced inside the account's partition against
// its period counters (allowances, caps, period tiers are spent exactly
// once across the account's sessions), with the fingerprint of that input.
func (s *Service) rated(planID string, rg config.RatingGroup, ps ...piece) (balance.RateFunc, uint64) {
	f := func(cs []balance.Counter) (money.Decimal, []balance.Counter, error) {
		return s.priceAll(planID, rg, ps, cs)
	}
	h := fnv.New64a()
	var b [16]byte
	h.Write([]byte(planID))
	h.Write([]byte{0})
	h.Write([]byte(rg.Service))
	for _, p := range ps {
		binary.LittleEndian.PutUint64(b[:8], uint64(p.start.UnixNano()))
		binary.LittleEndian.PutUint64(b[8:], p.q)
		h.Write(b[:])
	}
	return f, h.Sum64() | 1
}

// affordable is the largest quantity ≤ max whose price (with the period
// counters cs) is ≤ budget. Prices grow with the quantity; increments and
// fees make them step, so this searches rather than divides.
func (s *Service) affordable(planID string, rg config.RatingGroup, start time.Time, max uint64, budget money.Decimal, cs []balance.Counter) uint64 {
	lo, hi := uint64(0), max
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		p, _, err := s.price(planID, rg, start, mid, cs)
		if err == nil && p.Cmp(budget) <= 0 {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// groupOutcome is what handling one rating group produced.
type groupOutcome struct {
	info nchf.MultipleUnitInformation
	// denied is set when the account refuses service (inactive).
	denied bool
	// broke is set when the balance could not grant anything.
	broke bool
}

// request is one request being applied to a session: the keys of its
// balance operations come from the ref and the sequence number.
type request struct {
	// bal applies the request's balance operations: the transaction the
	// request runs in (one journal append for all of them and the session).
	bal    balance.Doer
	ref    string
	isn    uint32
	at     time.Time // invocationTimeStamp: rating and expiry times
	final  bool      // release: no new quota
	sub    Subscription
	expire int64 // reservation expiry (unix ns)
	// tariffChange: the request reported usage split at a tariff time
	// change, which closes a partial record.
	tariffChange bool
}

func (r *request) key(rg uint32, op string) string {
	return "chf:" + r.ref + ":" + strconv.FormatUint(uint64(r.isn), 10) + ":" + strconv.FormatUint(uint64(rg), 10) + ":" + op
}

// applyGroup handles one multipleUnitUsage entry on g.
func (s *Service) applyGroup(ctx context.Context, r *request, g *Group, mu *nchf.MultipleUnitUsage) (groupOutcome, error) {
	out := groupOutcome{info: nchf.MultipleUnitInformation{RatingGroup: mu.RatingGroup}}
	rg, ok := s.groups[mu.RatingGroup]
	if !ok {
		out.info.ResultCode = nchf.ResultCodeRatingFailed
		return out, nil
	}
	// 1. Used units: rate, take from the reservation (or debit).
	u := sumUsed(mu.UsedUnitContainer, rg.Units, r.at)
	if u.tariffChange {
		r.tariffChange = true
	}
	if q := u.quantity(rg.Units); q > 0 || len(mu.UsedUnitContainer) > 0 {
		amount, err := s.charge(ctx, r, g, rg, u.pieces)
		if errors.Is(err, balance.ErrRating) {
			out.info.ResultCode = nchf.ResultCodeRatingFailed
			s.cfg.Logger.Warn("rating failed", "ref", r.ref, "rg", rg.ID, "err", err)
			return out, nil
		}
		if err != nil {
			return out, err
		}
		g.addUsage(&u, amount)
	}
	// 2. Requested units: reserve and grant.
	if r.final {
		return out, s.releaseGroup(ctx, r, g)
	}
	if rg.Offline {
		out.info.ResultCode = nchf.ResultCodeQuotaManagementNotApplicable
		return out, nil
	}
	if g.Reservation != "" {
		// A reservation still open (the consumer asked for more without
		// reporting usage): release it before the new grant.
		if err := s.releaseGroup(ctx, r, g); err != nil {
			return out, err
		}
	}
	want := requestedQuantity(rg.Units, mu.RequestedUnit)
	if want == 0 {
		want = rg.Quota
	}
	return s.grant(ctx, r, g, rg, want, out)
}

// charge charges used units (the pieces, each rated at its own time)
// against the account's period counters: taken from the group's
// reservation, what it did not hold debited. It returns the rated amount.
// Usage the balance cannot cover is recorded as unbilled: it happened and
// cannot be refused.
func (s *Service) charge(ctx context.Context, r *request, g *Group, rg config.RatingGroup, ps []piece) (money.Decimal, error) {
	if rg.Offline {
		// Rated for the CDR only; not charged online, counters untouched.
		amount, _, err := s.priceAll(r.sub.PlanID, rg, ps, nil)
		if err != nil {
			return amount, fmt.Errorf("%w: %v", balance.ErrRating, err)
		}
		return amount, nil
	}
	rate, key := s.rated(r.sub.PlanID, rg, ps...)
	if g.Reservation != "" {
		op := balance.Op{Kind: balance.KindCommit, Key: r.key(rg.ID, "c"), Account: r.sub.AccountID,
			Reservation: g.Reservation, Rate: rate, RateKey: key}
		res, err := r.bal.Do(ctx, &op)
		switch {
		case err == nil:
			g.Reservation, g.Held, g.Granted = "", money.Decimal{}, 0
			if res.Excess.Sign() > 0 {
				// The usage cost more than was held: debit the rest.
				x := balance.Op{Kind: balance.KindDebit, Key: r.key(rg.ID, "x"), Account: r.sub.AccountID, Amount: res.Excess}
				if err := s.debitOrUnbilled(ctx, r, g, &x, res.Excess); err != nil {
					return res.Rated, err
				}
			}
			return res.Rated, nil
		case errors.Is(err, balance.ErrUnknownReservation), errors.Is(err, balance.ErrReservationExpired):
			// The engine released it already (expired): debit the usage.
			g.Reservation, g.Held, g.Granted = "", money.Decimal{}, 0
		default:
			return money.Decimal{}, err
		}
	}
	op := balance.Op{Kind: balance.KindDebit, Key: r.key(rg.ID, "d"), Account: r.sub.AccountID, Rate: rate, RateKey: key}
	res, err := r.bal.Do(ctx, &op)
	if errors.Is(err, balance.ErrInsufficientFunds) || errors.Is(err, balance.ErrAccountInactive) {
		amount, _, perr := s.priceAll(r.sub.PlanID, rg, ps, nil)
		if perr != nil {
			return amount, fmt.Errorf("%w: %v", balance.ErrRating, perr)
		}
		g.Unbilled, _ = g.Unbilled.Add(amount)
		s.m.unbilled.Inc()
		return amount, nil
	}
	return res.Rated, err
}

// debitOrUnbilled applies a debit of amount; if the balance cannot cover
// it, the amount is recorded as unbilled.
func (s *Service) debitOrUnbilled(ctx context.Context, r *request, g *Group, op *balance.Op, amount money.Decimal) error {
	_, err := r.bal.Do(ctx, op)
	if errors.Is(err, balance.ErrInsufficientFunds) || errors.Is(err, balance.ErrAccountInactive) {
		g.Unbilled, _ = g.Unbilled.Add(amount)
		s.m.unbilled.Inc()
		return nil
	}
	return err
}

// releaseGroup releases the group's open reservation.
func (s *Service) releaseGroup(ctx context.Context, r *request, g *Group) error {
	if g.Reservation == "" {
		return nil
	}
	op := balance.Op{Kind: balance.KindRelease, Key: r.key(g.RG, "l"), Account: r.sub.AccountID, Reservation: g.Reservation}
	_, err := r.bal.Do(ctx, &op)
	if err != nil && !errors.Is(err, balance.ErrUnknownReservation) && !errors.Is(err, balance.ErrReservationExpired) {
		return err
	}
	g.Reservation, g.Held, g.Granted = "", money.Decimal{}, 0
	return nil
}

// grant reserves the price of want units (or of as many as the balance
// allows) and fills in the grant. The price is rated inside the partition
// against the account's period counters (a remaining allowance makes the
// grant cheaper), without spending them: usage spends them at commit.
func (s *Service) grant(ctx context.Context, r *request, g *Group, rg config.RatingGroup, want uint64, out groupOutcome) (groupOutcome, error) {
	rate, key := s.rated(r.sub.PlanID, rg, piece{q: want, start: r.at})
	g.Grants++
	rid := r.ref + "/" + strconv.FormatUint(uint64(rg.ID), 10) + "/" + strconv.FormatUint(uint64(g.Grants), 10)
	op := balance.Op{Kind: balance.KindReserve, Key: r.key(rg.ID, "r"), Account: r.sub.AccountID,
		Reservation: rid, Rate: rate, RateKey: key, Expires: r.expire, Partial: true}
	res, err := r.bal.Do(ctx, &op)
	switch {
	case errors.Is(err, balance.ErrRating):
		out.info.ResultCode = nchf.ResultCodeRatingFailed
		s.cfg.Logger.Warn("rating failed", "ref", r.ref, "rg", rg.ID, "err", err)
		return out, nil
	case errors.Is(err, balance.ErrAccountInactive):
		out.info.ResultCode, out.denied = nchf.ResultCodeEndUserServiceDenied, true
		return out, nil
	case err != nil:
		return out, err
	}
	granted, final := want, false
	if res.Rated.IsZero() {
		// Free under the plan and its allowances: nothing held.
		g.Grants--
	} else {
		if res.GrantedAmount.IsZero() {
			out.info.ResultCode, out.broke = nchf.ResultCodeQuotaLimitReached, true
			g.FinalGranted = true
			return out, nil
		}
		g.Reservation, g.Held = rid, res.GrantedAmount
		if res.GrantedAmount.Cmp(res.Rated) < 0 {
			granted, final = s.affordable(r.sub.PlanID, rg, r.at, want, res.GrantedAmount, res.Counters), true
			if granted == 0 {
				if err := s.releaseGroup(ctx, r, g); err != nil {
					return out, err
				}
				out.info.ResultCode, out.broke = nchf.ResultCodeQuotaLimitReached, true
				g.FinalGranted = true
				return out, nil
			}
		}
	}
	g.Granted, g.FinalGranted = granted, final
	in := &out.info
	in.ResultCode = nchf.ResultCodeSuccess
	in.GrantedUnit = grantedUnit(rg.Units, granted)
	in.ValidityTime = int64(s.cfg.ValidityTime / time.Second)
	if s.cfg.QuotaHoldingTime > 0 {
		in.QuotaHoldingTime = int64(s.cfg.QuotaHoldingTime / time.Second)
	}
	if p := uint64(s.cfg.ThresholdPercent); p > 0 && !final {
		th := granted * p / 100
		switch rg.Units {
		case config.UnitsVolume:
			in.VolumeQuotaThreshold = th
		case config.UnitsTime:
			in.TimeQuotaThreshold = th
		default:
			in.UnitQuotaThreshold = th
		}
	}
	if final {
		in.FinalUnitIndication = s.finalUnit()
	}
	// The band changes within the validity time: announce it, so that the
	// consumer reports the usage before and after it in separate
	// containers (TS 32.291 tariffTimeChange) and each is rated at its own
	// price.
	if tt, ok := s.cfg.Rater.(TariffTimes); ok {
		if at, ok := tt.NextTariffChange(r.sub.PlanID, r.at, s.cfg.ValidityTime); ok {
			in.GrantedUnit.TariffTimeChange = at
		}
	}
	return out, nil
}

// TariffTimes is an optional capability of a Rater: the next time band
// change of a plan (rating.Engine has it).
type TariffTimes interface {
	NextTariffChange(planID string, t time.Time, within time.Duration) (time.Time, bool)
}

// finalUnit is the finalUnitIndication sent with the last grant.
func (s *Service) finalUnit() *nchf.FinalUnitIndication {
	f := &nchf.FinalUnitIndication{FinalUnitAction: s.cfg.FinalUnitAction}
	switch s.cfg.FinalUnitAction {
	case nchf.FinalUnitActionRedirect:
		f.RedirectServer = &nchf.RedirectServer{RedirectAddressType: nchf.RedirectAddressTypeUrl, RedirectServerAddress: s.cfg.RedirectAddress}
	case nchf.FinalUnitActionRestrictAccess:
		f.FilterId = s.cfg.FilterID
	}
	return f
}

func (g *Group) addUsage(u *used, amount money.Decimal) {
	g.Uplink += u.ul
	g.Downlink += u.dl
	g.Volume += u.vol
	g.Time += u.time
	g.Units += u.units
	g.Amount, _ = g.Amount.Add(amount)
	if !u.first.IsZero() && (g.First.IsZero() || u.first.Before(g.First)) {
		g.First = u.first
	}
	if u.last.After(g.Last) {
		g.Last = u.last
	}
	g.LSNs = append(g.LSNs, u.lsns...)
}
