package chf

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-billing/tollgate/internal/balance"
	"github.com/tollgate-billing/tollgate/internal/cdr"
	"github.com/tollgate-billing/tollgate/internal/config"
	"github.com/tollgate-billing/tollgate/internal/money"
	"github.com/tollgate-billing/tollgate/internal/nchf"
	"github.com/tollgate-billing/tollgate/internal/rating"
)

// Rater rates usage (the rating engine).
type Rater interface {
	Rate(ev *rating.Event, res *rating.Result) error
}

// SessionStore keeps sessions durable (cluster state, S0.5).
type SessionStore interface {
	// Save stores s through b, the request's balance transaction: it is
	// durable with the request's balance operations.
	Save(ctx context.Context, b balance.Doer, s *Session) error
	// Delete forgets a session.
	Delete(ctx context.Context, b balance.Doer, s *Session) error
	// Load calls fn for every stored session.
	Load(ctx context.Context, fn func(*Session) error) error
}

// RecordSink receives CHF-CDRs (the CDR file writer, off the request path).
type RecordSink interface {
	Write(ctx context.Context, r *cdr.Record) error
}

// Config is what a Service is built from.
type Config struct {
	// NodeID names this CHF in its CDRs.
	NodeID string
	CHF    config.CHF

	// Balances is the balance engine (a balance.Mirror around it): each
	// request is one transaction on its subscriber's account.
	Balances  balance.Txner
	Rater     Rater
	Directory Directory
	Sessions  SessionStore
	Records   RecordSink // nil: no CDRs

	// SweepInterval is how often idle sessions are looked for. Default 10s.
	SweepInterval time.Duration

	Now        func() time.Time
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// serviceConfig is Config with the CHF section resolved into wire values.
type serviceConfig struct {
	Config
	ValidityTime     time.Duration
	QuotaHoldingTime time.Duration
	ThresholdPercent int
	IdleTimeout      time.Duration
	TombstoneTTL     time.Duration
	FinalUnitAction  nchf.FinalUnitAction
	RedirectAddress  string
	FilterID         string
}

// Service is the CHF: it answers create, update and release requests.
type Service struct {
	cfg     serviceConfig
	groups  map[uint32]config.RatingGroup
	table   *sessions
	results sync.Pool
	m       *metrics
}

// New returns a CHF service; call Start before serving.
func New(cfg Config) (*Service, error) {
	if cfg.Balances == nil || cfg.Rater == nil || cfg.Directory == nil || cfg.Sessions == nil {
		return nil, errors.New("chf: Balances, Rater, Directory and Sessions are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = 10 * time.Second
	}
	h := cfg.CHF
	s := &Service{
		cfg: serviceConfig{Config: cfg,
			ValidityTime: h.ValidityTime.Std(), QuotaHoldingTime: h.QuotaHoldingTime.Std(),
			ThresholdPercent: h.ThresholdPercent, IdleTimeout: h.IdleTimeout.Std(),
			TombstoneTTL:    h.TombstoneTTL.Std(),
			FinalUnitAction: nchf.FinalUnitAction(h.FinalUnitAction), RedirectAddress: h.RedirectAddress, FilterID: h.FilterID},
		groups: make(map[uint32]config.RatingGroup, len(h.RatingGroups)),
		table:  newSessions(),
		m:      newMetrics(cfg.Registerer),
	}
	if s.cfg.FinalUnitAction == "" {
		s.cfg.FinalUnitAction = nchf.FinalUnitActionTerminate
	}
	if s.cfg.ValidityTime <= 0 {
		s.cfg.ValidityTime = time.Hour
	}
	if s.cfg.IdleTimeout <= 0 {
		s.cfg.IdleTimeout = 2 * time.Hour
	}
	if s.cfg.TombstoneTTL <= 0 {
		s.cfg.TombstoneTTL = time.Minute
	}
	for _, rg := range h.RatingGroups {
		s.groups[rg.ID] = rg
	}
	s.results.New = func() any { return new(rating.Result) }
	s.m.sessions = func() (int, int) { return s.table.count() }
	return s, nil
}

// Start reloads the stored sessions, so that a restarted node continues
// every open session.
func (s *Service) Start(ctx context.Context) error {
	n := 0
	err := s.cfg.Sessions.Load(ctx, func(sess *Session) error {
		s.table.add(sess)
		n++
		return nil
	})
	if err != nil {
		return fmt.Errorf("chf: load sessions: %w", err)
	}
	s.cfg.Logger.Info("chf sessions loaded", "sessions", n)
	return nil
}

// Run closes idle sessions and drops old tombstones until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			s.Sweep(ctx)
		}
	}
}

// Answer is the HTTP answer to a request: a status, the encoded body
// (ChargingDataResponse, or ProblemDetails when Problem is set) and, for a
// create, the ChargingDataRef.
type Answer struct {
	Status  int
	Ref     string
	Body    []byte
	Problem bool
}

func problemAnswer(p nchf.ProblemDetails) Answer {
	return Answer{Status: p.Status, Body: nchf.AppendProblemDetails(nil, &p), Problem: true}
}

// Create handles POST …/chargingdata: a new session, or a one-time event.
func (s *Service) Create(ctx context.Context, req *nchf.ChargingDataRequest) Answer {
	if req.SubscriberIdentifier == "" {
		p := nchf.ChargingFailed("subscriberIdentifier is required")
		p.InvalidParams = []nchf.InvalidParam{{Param: "/subscriberIdentifier", Reason: "missing"}}
		return problemAnswer(p)
	}
	ref := newRef(req)
	if req.OneTimeEvent {
		return s.event(ctx, ref, req)
	}
	if cur := s.table.get(ref); cur != nil {
		cur.mu.Lock()
		defer cur.mu.Unlock()
		s.m.retransmissions.Inc()
		return Answer{Status: http.StatusCreated, Ref: ref, Body: cur.createAnswer(req)}
	}
	sub, ans, ok := s.subscription(ctx, req)
	if !ok {
		return ans
	}
	now := s.cfg.Now()
	sess := &Session{Ref: ref, SUPI: sub.SUPI, GPSI: sub.GPSI, AccountID: sub.AccountID, PlanID: sub.PlanID,
		Currency: sub.Currency, NFName: req.NfConsumerIdentification.NFName,
		NFFunction: string(req.NfConsumerIdentification.NodeFunctionality), NotifyURI: req.NotifyUri,
		ChargingID: req.ChargingId, Created: now, RecordOpened: now, LastISN: req.InvocationSequenceNumber}
	if p := req.PDUSessionChargingInformation; p != nil {
		if p.ChargingId != 0 {
			sess.ChargingID = p.ChargingId
		}
		if pi := p.PduSessionInformation; pi != nil {
			sess.DNN, sess.RATType = pi.DnnId, string(pi.RatType)
		}
	}
	sess.mu.Lock()
	defer sess.mu.Unlock()
	ans = s.apply(ctx, sess, req, sub, http.StatusCreated, false)
	if ans.Status == http.StatusCreated {
		if cur, added := s.table.add(sess); !added && cur != sess {
			// A concurrent duplicate won the race; both applied the same
			// idempotent operations, so its answer is this one.
			s.m.retransmissions.Inc()
		}
		ans.Ref = ref
	}
	return ans
}

// Update handles POST …/chargingdata/{ref}/update.
func (s *Service) Update(ctx context.Context, ref string, req *nchf.ChargingDataRequest) Answer {
	return s.onSession(ctx, ref, req, false)
}

// Release handles POST …/chargingdata/{ref}/release.
func (s *Service) Release(ctx context.Context, ref string, req *nchf.ChargingDataRequest) Answer {
	return s.onSession(ctx, ref, req, true)
}

func (s *Service) onSession(ctx context.Context, ref string, req *nchf.ChargingDataRequest, release bool) Answer {
	sess := s.table.get(ref)
	if sess == nil {
		return problemAnswer(nchf.SessionNotFound(ref))
	}
	sess.mu.Lock()
	defer sess.mu.Unlock()
	switch {
	case sess.Closed && req.InvocationSequenceNumber != sess.LastISN:
		return problemAnswer(nchf.SessionNotFound(ref))
	case req.InvocationSequenceNumber == sess.LastISN && sess.LastStatus != http.StatusCreated:
		// A retransmission (TS 32.290 §5.2.2): the original answer, nothing
		// charged again.
		s.m.retransmissions.Inc()
		return Answer{Status: sess.LastStatus, Body: sess.LastBody, Problem: sess.LastStatus >= 400}
	case req.InvocationSequenceNumber <= sess.LastISN:
		p := nchf.ChargingFailed(fmt.Sprintf("invocationSequenceNumber %d is not after the last one answered (%d)",
			req.InvocationSequenceNumber, sess.LastISN))
		p.InvalidParams = []nchf.InvalidParam{{Param: "/invocationSequenceNumber", Reason: "out of sequence"}}
		return problemAnswer(p)
	}
	if req.SubscriberIdentifier != "" && req.SubscriberIdentifier != sess.SUPI {
		p := nchf.ChargingFailed("subscriberIdentifier differs from the session's")
		p.InvalidParams = []nchf.InvalidParam{{Param: "/subscriberIdentifier", Reason: "not the session's subscriber"}}
		return problemAnswer(p)
	}
	sub := Subscription{SUPI: sess.SUPI, GPSI: sess.GPSI, AccountID: sess.AccountID, PlanID: sess.PlanID, Currency: sess.Currency, Active: true}
	status := http.StatusOK
	if release {
		status = http.StatusNoContent
	}
	return s.apply(ctx, sess, req, sub, status, release)
}

// subscription looks up the request's subscriber; !ok means ans is the
// refusal.
func (s *Service) subscription(ctx context.Context, req *nchf.ChargingDataRequest) (Subscription, Answer, bool) {
	at := req.InvocationTimeStamp
	sub, err := s.cfg.Directory.Lookup(ctx, req.SubscriberIdentifier, at)
	switch {
	case errors.Is(err, ErrUnknownSubscriber):
		return sub, problemAnswer(nchf.UserUnknown(err.Error())), false
	case errors.Is(err, ErrNoPlan):
		return sub, problemAnswer(nchf.EndUserRequestDenied(err.Error())), false
	case err != nil:
		s.cfg.Logger.Error("subscriber lookup failed", "supi", req.SubscriberIdentifier, "err", err)
		return sub, problemAnswer(nchf.SystemFailure("subscriber lookup failed")), false
	case !sub.Active:
		return sub, problemAnswer(nchf.EndUserRequestDenied("subscriber or account is not active")), false
	}
	return sub, Answer{}, true
}

// apply runs the request as one balance transaction (balance.Engine.Txn):
// in the account's partition, the rating groups are charged and granted on
// a copy of the session and the copy is stored with them, so that the
// money and the session become durable in one journal append. Only then is
// the copy adopted and the answer sent. On failure the session is
// unchanged: a retry with the same sequence number repeats the same
// idempotent balance operations.
func (s *Service) apply(ctx context.Context, sess *Session, req *nchf.ChargingDataRequest, sub Subscription, status int, release bool) Answer {
	var out outcome
	err := s.cfg.Balances.Txn(ctx, sub.AccountID, func(b balance.Doer) error {
		var err error
		out, err = s.decide(ctx, b, sess, req, sub, status, release)
		return err
	})
	if err != nil {
		return s.failure(sess, err)
	}
	for _, c := range out.codes {
		s.m.resultCodes.WithLabelValues(string(c)).Inc()
	}
	if out.work != nil {
		sess.adopt(out.work)
	}
	for _, rec := range out.recs {
		s.emit(ctx, rec)
	}
	return out.ans
}

// outcome is what a request's transaction decided.
type outcome struct {
	ans   Answer
	work  *Session // the session's new state (stored); nil: keep none
	recs  []*cdr.Record
	codes []nchf.ResultCode
}

// decide is the body of a request's transaction: it reads sess (whose lock
// the caller holds) and applies everything through b. It runs in the
// partition goroutine, so it must not block; it may run twice (see
// balance.Mirror.Txn), so it starts from the session as it is each time.
func (s *Service) decide(ctx context.Context, b balance.Doer, sess *Session, req *nchf.ChargingDataRequest, sub Subscription, status int, release bool) (outcome, error) {
	var o outcome
	work := sess.clone()
	now := s.cfg.Now()
	r := &request{bal: b, ref: sess.Ref, isn: req.InvocationSequenceNumber, at: req.InvocationTimeStamp, final: release, sub: sub}
	r.expire = s.expiry(r.at, now)
	resp := nchf.ChargingDataResponse{InvocationTimeStamp: now, InvocationSequenceNumber: req.InvocationSequenceNumber}
	denied, broke, groups := 0, 0, 0
	for i := range req.MultipleUnitUsage {
		mu := &req.MultipleUnitUsage[i]
		out, err := s.applyGroup(ctx, r, work.group(mu.RatingGroup), mu)
		if err != nil {
			return o, err
		}
		groups++
		if out.denied {
			denied++
		}
		if out.broke {
			broke++
		}
		if !release {
			resp.MultipleUnitInformation = append(resp.MultipleUnitInformation, out.info)
		}
		o.codes = append(o.codes, out.info.ResultCode)
	}
	if release {
		// Groups the release did not mention still hold reservations.
		for _, g := range work.Groups {
			if err := s.releaseGroup(ctx, r, g); err != nil {
				return o, err
			}
		}
	}
	ans := Answer{Status: status}
	if status == http.StatusCreated && groups > 0 && denied == groups {
		ans = problemAnswer(nchf.EndUserRequestDenied("the account refuses service"))
	} else if status == http.StatusCreated && groups > 0 && broke == groups {
		// Nothing can be granted: refuse the session (TS 32.291 allows a
		// ChargingDataResponse body with 403; the cause says why).
		ans = problemAnswer(nchf.QuotaLimitReached("the balance allows no usage"))
	} else if status != http.StatusNoContent {
		ans.Body = nchf.AppendChargingDataResponse(nil, &resp)
	}
	o.ans = ans
	// The session's new state, durable with the money before the answer.
	work.LastISN, work.LastStatus, work.LastBody, work.LastActivity = req.InvocationSequenceNumber, ans.Status, ans.Body, now
	// The create's answer is LastBody until the first update; after it, no
	// SMF waits for that answer any more (it has the ref), and it is not
	// carried in every later journal record (see createAnswer).
	work.CreateBody = nil
	closing := ""
	switch {
	case status == http.StatusCreated && ans.Status >= 400:
		// A refused create holds nothing (every group was refused): no
		// session to keep; a retry is refused the same way.
		return o, nil
	case release:
		work.Closed, closing = true, "normalRelease"
	case r.tariffChange:
		closing = "tariffTimeChange"
	default:
		closing = s.partialCause(work, now)
	}
	if closing != "" && ans.Status < 400 {
		o.recs = s.records(work, closing, now)
	}
	if work.Closed {
		work.entomb()
	}
	if err := s.cfg.Sessions.Save(ctx, b, work); err != nil {
		return o, err
	}
	o.work = work
	return o, nil
}

// expiry is the reservation expiry: validity time plus a grace, counted
// from the request's own time stamp so that a retry has the same content
// (bounded by the clock when the consumer's clock is far off).
func (s *Service) expiry(at, now time.Time) int64 {
	base := at
	if d := base.Sub(now); base.IsZero() || d > 5*time.Minute || d < -5*time.Minute {
		base = now
	}
	return base.Add(s.cfg.ValidityTime + s.cfg.ValidityTime/2 + time.Minute).UnixNano()
}

func (s *Service) failure(sess *Session, err error) Answer {
	s.cfg.Logger.Error("charging failed", "ref", sess.Ref, "err", err)
	switch {
	case errors.Is(err, balance.ErrUnavailable), errors.Is(err, balance.ErrNotOwner), errors.Is(err, balance.ErrFenced),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return problemAnswer(nchf.Problem(nchf.CauseNFCongestion, "the balance engine is unavailable; retry"))
	case errors.Is(err, balance.ErrUnknownAccount):
		return problemAnswer(nchf.UserUnknown(err.Error()))
	}
	return problemAnswer(nchf.SystemFailure("charging failed"))
}

// event handles a one-time event (IEC, e.g. an SMS): rated and debited in
// one request, no session kept. Its balance keys come from the request, so
// a retransmission is answered from the engine's idempotency.
func (s *Service) event(ctx context.Context, ref string, req *nchf.ChargingDataRequest) Answer {
	sub, ans, ok := s.subscription(ctx, req)
	if !ok {
		return ans
	}
	now := s.cfg.Now()
	r := &request{ref: ref, isn: req.InvocationSequenceNumber, at: req.InvocationTimeStamp, sub: sub}
	resp := nchf.ChargingDataResponse{InvocationTimeStamp: now, InvocationSequenceNumber: req.InvocationSequenceNumber}
	rec := s.eventRecord(ref, req, sub, now)
	replayed, charged, broke, denied := false, 0, 0, 0
	for i := range req.MultipleUnitUsage {
		mu := &req.MultipleUnitUsage[i]
		info := nchf.MultipleUnitInformation{RatingGroup: mu.RatingGroup}
		rg, known := s.groups[mu.RatingGroup]
		u := sumUsed(mu.UsedUnitContainer, rg.Units, r.at)
		q := u.quantity(rg.Units)
		if q == 0 && known {
			q = requestedQuantity(rg.Units, mu.RequestedUnit)
			u.units, u.time, u.vol = q, q, q
		}
		if !known {
			info.ResultCode = nchf.ResultCodeRatingFailed
			resp.MultipleUnitInformation = append(resp.MultipleUnitInformation, info)
			continue
		}
		rate, rkey := s.rated(sub.PlanID, rg, piece{q: q, start: u.firstOr(r.at)})
		var amount money.Decimal
		var err error
		if rg.Offline {
			amount, _, err = s.price(sub.PlanID, rg, u.firstOr(r.at), q, nil)
		} else {
			op := balance.Op{Kind: balance.KindDebit, Key: r.key(rg.ID, "e"), Account: sub.AccountID, Rate: rate, RateKey: rkey}
			var res balance.Result
			res, err = s.cfg.Balances.Do(ctx, &op)
			amount = res.Rated
			switch {
			case errors.Is(err, balance.ErrInsufficientFunds):
				info.ResultCode = nchf.ResultCodeQuotaLimitReached
				broke++
				resp.MultipleUnitInformation = append(resp.MultipleUnitInformation, info)
				continue
			case errors.Is(err, balance.ErrAccountInactive):
				info.ResultCode = nchf.ResultCodeEndUserServiceDenied
				denied++
				resp.MultipleUnitInformation = append(resp.MultipleUnitInformation, info)
				continue
			case err == nil:
				replayed = replayed || res.Replayed
			}
		}
		if errors.Is(err, balance.ErrRating) || (rg.Offline && err != nil) {
			info.ResultCode = nchf.ResultCodeRatingFailed
			resp.MultipleUnitInformation = append(resp.MultipleUnitInformation, info)
			continue
		}
		if err != nil {
			return s.failure(&Session{Ref: ref}, err)
		}
		charged++
		info.ResultCode = nchf.ResultCodeSuccess
		info.GrantedUnit = grantedUnit(rg.Units, q)
		resp.MultipleUnitInformation = append(resp.MultipleUnitInformation, info)
		s.m.resultCodes.WithLabelValues(string(info.ResultCode)).Inc()
		var g Group
		g.RG = rg.ID
		g.addUsage(&u, amount)
		rec.Usage = append(rec.Usage, s.usage(&g, sub.Currency))
	}
	n := len(req.MultipleUnitUsage)
	switch {
	case n > 0 && denied == n:
		return problemAnswer(nchf.EndUserRequestDenied("the account refuses service"))
	case n > 0 && broke+denied == n:
		return problemAnswer(nchf.QuotaLimitReached("the balance does not cover the event"))
	}
	if replayed {
		s.m.retransmissions.Inc()
	} else if charged > 0 {
		s.emit(ctx, rec)
	}
	s.m.events.Inc()
	return Answer{Status: http.StatusCreated, Ref: ref, Body: nchf.AppendChargingDataResponse(nil, &resp)}
}

func (u *used) firstOr(t time.Time) time.Time {
	if u.first.IsZero() {
		return t
	}
	return u.first
}

// Sweep closes sessions idle past the idle timeout (their reservations
// released, a final record written) and forgets old tombstones.
//
// Sessions are handled sweepWorkers at a time: each deletion or close is a
// balance transaction waiting for its group commit, and one at a time they
// would fall behind a CHF releasing thousands of sessions a second (the
// tombstones, and their blobs in the journal's snapshots, would then grow
// without bound); concurrent ones share appends.
func (s *Service) Sweep(ctx context.Context) {
	now := s.cfg.Now()
	work := make(chan *Session)
	var wg sync.WaitGroup
	for range sweepWorkers {
		wg.Go(func() {
			for sess := range work {
				s.sweepOne(ctx, sess, now)
			}
		})
	}
	for _, sess := range s.table.all() {
		work <- sess
	}
	close(work)
	wg.Wait()
}

const sweepWorkers = 64

func (s *Service) sweepOne(ctx context.Context, sess *Session, now time.Time) {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	idle := now.Sub(sess.LastActivity)
	switch {
	case sess.Closed && idle > s.cfg.TombstoneTTL:
		if err := s.cfg.Sessions.Delete(ctx, s.cfg.Balances, sess); err != nil {
			s.cfg.Logger.Warn("session delete failed", "ref", sess.Ref, "err", err)
		} else {
			s.table.remove(sess.Ref)
		}
	case !sess.Closed && idle > s.cfg.IdleTimeout:
		s.closeIdle(ctx, sess, now)
	}
}

// closeIdle releases an idle session's reservations and closes it, in one
// balance transaction.
func (s *Service) closeIdle(ctx context.Context, sess *Session, now time.Time) {
	var (
		work *Session
		recs []*cdr.Record
	)
	err := s.cfg.Balances.Txn(ctx, sess.AccountID, func(b balance.Doer) error {
		work = sess.clone()
		r := &request{bal: b, ref: sess.Ref, isn: sess.LastISN + 1<<31, sub: Subscription{AccountID: sess.AccountID}}
		for _, g := range work.Groups {
			if err := s.releaseGroup(ctx, r, g); err != nil {
				return err
			}
		}
		recs = s.records(work, "sessionTimeout", now)
		work.Closed, work.LastActivity, work.LastStatus, work.LastBody = true, now, 0, nil
		work.entomb()
		return s.cfg.Sessions.Save(ctx, b, work)
	})
	if err != nil {
		s.cfg.Logger.Warn("idle session close failed", "ref", sess.Ref, "err", err)
		return
	}
	sess.adopt(work)
	for _, rec := range recs {
		s.emit(ctx, rec)
	}
	s.m.idleClosed.Inc()
}

// Sessions reports the open and closed (tombstone) sessions in memory.
func (s *Service) Sessions() (open, closed int) { return s.table.count() }

// Session returns a copy of a session's state (for tests and the admin API).
func (s *Service) Session(ref string) (*Session, bool) {
	sess := s.table.get(ref)
	if sess == nil {
		return nil, false
	}
	sess.mu.Lock()
	defer sess.mu.Unlock()
	return sess.clone(), true
}

// clone copies the session's state (not its lock).
func (s *Session) clone() *Session {
	c := &Session{}
	c.copyFrom(s)
	return c
}

func (s *Session) adopt(w *Session) { s.copyFrom(w) }

func (s *Session) copyFrom(o *Session) {
	s.Ref, s.SUPI, s.AccountID, s.PlanID, s.Currency = o.Ref, o.SUPI, o.AccountID, o.PlanID, o.Currency
	s.NFName, s.NFFunction, s.NotifyURI, s.ChargingID, s.DNN, s.RATType, s.GPSI =
		o.NFName, o.NFFunction, o.NotifyURI, o.ChargingID, o.DNN, o.RATType, o.GPSI
	s.Created, s.LastActivity, s.LastISN, s.LastStatus, s.LastBody = o.Created, o.LastActivity, o.LastISN, o.LastStatus, o.LastBody
	s.RecordSeq, s.RecordOpened, s.Closed, s.CreateBody = o.RecordSeq, o.RecordOpened, o.Closed, o.CreateBody
	s.Groups = make([]*Group, len(o.Groups))
	for i, g := range o.Groups {
		cg := *g
		cg.LSNs = append([]uint64(nil), g.LSNs...)
		s.Groups[i] = &cg
	}
}
