package chf

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-billing/tollgate/internal/nchf"
)

// This file sends notifications to the consumers (TS 32.291 §6.1.3.3,
// ChargingNotify): a POST of a ChargingNotifyRequest to the notifyUri a
// consumer gave in its create.
//
//   - REAUTHORIZATION after an account's balance went up (top-up, credit,
//     positive adjustment, reactivation) or a tariff plan changed: the
//     consumer asks for quota again at once instead of at the validity time.
//   - ABORT_CHARGING when an account is barred, suspended or closed: the
//     consumer ends its sessions (and releases them).
//
// Notifications are advisory: a consumer re-asks for quota at the grant's
// validityTime anyway, and an inactive account's next update is refused.
// So a notification that cannot be queued (the queue is full) or delivered
// (the consumer refuses it, or does not answer after every retry) is logged
// and counted, never waited for; nothing in the charging path depends on it.
//
// Locks: Notifier.mu is never held together with a Session.mu.

// NotifyConfig configures a Notifier. Zero fields take their defaults.
type NotifyConfig struct {
	// QueueSize bounds the notifications waiting to be sent (default 65536).
	QueueSize int
	// Workers is the number of notifications sent at once (default 4).
	Workers int
	// Timeout bounds one attempt (default 5 s).
	Timeout time.Duration
	// Backoff is the wait before the first retry (default 200 ms); each
	// further wait is BackoffFactor (default 2) times longer, at most
	// MaxBackoff (default 10 s). A Retry-After (seconds or an HTTP date) of
	// a 429 or 503 answer is honoured up to MaxRetryAfter (default 60 s).
	Backoff       time.Duration
	BackoffFactor int
	MaxBackoff    time.Duration
	MaxRetryAfter time.Duration
	// MaxAttempts is how many times a notification is tried (default 6).
	MaxAttempts int
	// HTTP1 sends to http:// URIs over HTTP/1.1 instead of HTTP/2 with prior
	// knowledge (h2c, what 5GC service based interfaces use), for consumers
	// that only speak HTTP/1.1. https:// URIs negotiate h2 or HTTP/1.1.
	HTTP1 bool
	// TLS configures https:// URIs (roots, client certificate); nil: the
	// system roots.
	TLS *tls.Config
	// Logger defaults to the service's.
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

func (c *NotifyConfig) defaults() {
	if c.QueueSize <= 0 {
		c.QueueSize = 65536
	}
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	if c.Backoff <= 0 {
		c.Backoff = 200 * time.Millisecond
	}
	if c.BackoffFactor <= 0 {
		c.BackoffFactor = 2
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 10 * time.Second
	}
	if c.MaxRetryAfter <= 0 {
		c.MaxRetryAfter = time.Minute
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 6
	}
}

// Notifier sends the CHF's notifications to the consumers of a Service's
// sessions: a bounded queue, a few workers, retries with backoff. Create it
// with NewNotifier and run it with Run.
//
// Reauthorize, ReauthorizePlans and Abort find the sessions concerned and
// queue their notifications now; they wait for each session's lock, which a
// charging request holds during its balance operations. BalanceRaised,
// PlansChanged and AccountInactive never wait: they hand the same work to
// the Notifier's own goroutine (for hooks on a request path such as the
// admin API's).
type Notifier struct {
	cfg    NotifyConfig
	svc    *Service
	log    *slog.Logger
	plain  *http.Client // http:// (h2c, or HTTP/1.1 with cfg.HTTP1)
	secure *http.Client // https://
	queue  chan *notification
	scans  chan func(context.Context)
	m      *notifyMetrics

	mu sync.Mutex
	// pending holds every notification queued, being sent or waiting for a
	// retry, by its key (type and ref): a second one for the same session
	// is merged into it.
	pending map[string]*notification
	// timers are the retries waiting for their backoff.
	timers map[*notification]*time.Timer
	closed bool
	// drops since the last "queue full" log line, and when that was.
	drops     int
	dropsLogs time.Time
}

// notification is one ChargingNotifyRequest for one session.
type notification struct {
	key  string
	typ  nchf.NotificationType
	ref  string
	uri  string
	why  string
	born time.Time

	// Guarded by Notifier.mu: the rating groups to reauthorize, a version
	// bumped when a merge adds some (so a send that raced the merge is
	// repeated), and the attempts made.
	rgs      []uint32
	version  int
	attempts int
}

// NewNotifier returns a Notifier for svc's sessions; call Run to send.
func NewNotifier(cfg NotifyConfig, svc *Service) *Notifier {
	cfg.defaults()
	log := cfg.Logger
	if log == nil {
		log = svc.cfg.Logger
	}
	// Two transports: one transport cannot do h2c for http:// and offer
	// HTTP/1.1 besides h2 over TLS.
	var plain, secure http.Protocols
	if cfg.HTTP1 {
		plain.SetHTTP1(true)
	} else {
		plain.SetUnencryptedHTTP2(true)
	}
	secure.SetHTTP1(true)
	secure.SetHTTP2(true)
	transport := func(p *http.Protocols) *http.Transport {
		return &http.Transport{
			Protocols:           p,
			TLSClientConfig:     cfg.TLS,
			MaxIdleConnsPerHost: cfg.Workers,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: cfg.Timeout,
		}
	}
	n := &Notifier{
		cfg:     cfg,
		svc:     svc,
		log:     log,
		plain:   &http.Client{Transport: transport(&plain)},
		secure:  &http.Client{Transport: transport(&secure)},
		queue:   make(chan *notification, cfg.QueueSize),
		scans:   make(chan func(context.Context), 1024),
		m:       newNotifyMetrics(cfg.Registerer),
		pending: make(map[string]*notification),
		timers:  make(map[*notification]*time.Timer),
	}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(newNotifyQueueGauge(func() int { return len(n.queue) }))
	}
	return n
}

// Run sends notifications until ctx ends. Then it lets the attempts in
// flight finish (each within the attempt timeout), and gives up what is
// still queued or waiting for a retry, with a log line saying how many.
func (n *Notifier) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for range n.cfg.Workers {
		wg.Go(func() { n.work(ctx) })
	}
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case scan := <-n.scans:
				scan(ctx)
			}
		}
	})
	wg.Wait()

	n.mu.Lock()
	n.closed = true
	given := 0
	for j, t := range n.timers {
		given++
		if t.Stop() {
			delete(n.timers, j)
			n.finishLocked(j, "dropped")
		}
		// Else its timer fired and waits for mu: it finds n.closed and
		// drops it.
	}
	for drained := false; !drained; {
		select {
		case j := <-n.queue:
			given++
			n.finishLocked(j, "dropped")
		default:
			drained = true
		}
	}
	n.mu.Unlock()
	scans := len(n.scans)
	if given > 0 || scans > 0 {
		n.log.Warn("chf notifications given up at shutdown", "notifications", given, "account_scans", scans)
	}
	return nil
}

// Reauthorize queues a REAUTHORIZATION for every open session of the
// account (its balance went up). Each names the session's rating groups
// whose last grant was final or that hold no reservation, or all of them
// if none is. It returns the number of sessions notified (queued now, or
// merged into a REAUTHORIZATION already pending).
func (n *Notifier) Reauthorize(ctx context.Context, accountID string) int {
	count := 0
	for _, sess := range n.svc.table.ofAccount(accountID) {
		if n.reauthorize(ctx, sess, false, "balance raised") {
			count++
		}
	}
	return count
}

// ReauthorizePlans queues a REAUTHORIZATION, for all their rating groups,
// for every open session rated with one of the plans (a tariff change). It
// returns the number of sessions notified.
func (n *Notifier) ReauthorizePlans(ctx context.Context, planIDs []string) int {
	if len(planIDs) == 0 {
		return 0
	}
	count := 0
	for _, sess := range n.svc.table.all() {
		sess.mu.Lock()
		in := slices.Contains(planIDs, sess.PlanID)
		sess.mu.Unlock()
		if in && n.reauthorize(ctx, sess, true, "tariff changed") {
			count++
		}
	}
	return count
}

// Abort queues an ABORT_CHARGING for every open session of the account
// (barred, suspended or closed; reason is logged). It returns the number of
// sessions notified.
func (n *Notifier) Abort(ctx context.Context, accountID, reason string) int {
	count := 0
	for _, sess := range n.svc.table.ofAccount(accountID) {
		sess.mu.Lock()
		ref, uri, open := sess.Ref, sess.NotifyURI, !sess.Closed
		sess.mu.Unlock()
		if !open || uri == "" {
			continue
		}
		j := &notification{typ: nchf.NotificationTypeAbortCharging, ref: ref, uri: uri, why: "account " + reason}
		if n.enqueue(ctx, j) {
			count++
		}
	}
	if count > 0 {
		n.log.InfoContext(ctx, "chf abort charging queued", "account", accountID, "reason", reason, "sessions", count)
	}
	return count
}

// BalanceRaised is Reauthorize without waiting: the sessions are looked up
// by the Notifier's goroutine.
func (n *Notifier) BalanceRaised(ctx context.Context, accountID string) {
	n.later(ctx, "balance raised", accountID, func(ctx context.Context) { n.Reauthorize(ctx, accountID) })
}

// PlansChanged is ReauthorizePlans without waiting.
func (n *Notifier) PlansChanged(ctx context.Context, planIDs []string) {
	if len(planIDs) == 0 {
		return
	}
	ids := slices.Clone(planIDs)
	n.later(ctx, "plans changed", "", func(ctx context.Context) { n.ReauthorizePlans(ctx, ids) })
}

// AccountInactive is Abort without waiting.
func (n *Notifier) AccountInactive(ctx context.Context, accountID, reason string) {
	n.later(ctx, "account inactive", accountID, func(ctx context.Context) { n.Abort(ctx, accountID, reason) })
}

func (n *Notifier) later(ctx context.Context, what, accountID string, scan func(context.Context)) {
	select {
	case n.scans <- scan:
	default:
		n.m.dropped("scan")
		n.log.WarnContext(ctx, "chf notifications dropped: too many account changes waiting", "change", what, "account", accountID)
	}
}

// reauthorize queues a REAUTHORIZATION for one session; all: every rating
// group (a tariff change), else those that may now get more quota.
func (n *Notifier) reauthorize(ctx context.Context, sess *Session, all bool, why string) bool {
	sess.mu.Lock()
	ref, uri, open := sess.Ref, sess.NotifyURI, !sess.Closed
	var rgs, short []uint32
	if open && uri != "" {
		for _, g := range sess.Groups {
			rg, known := n.svc.groups[g.RG]
			if !known || rg.Offline {
				continue // no quota to ask for
			}
			rgs = append(rgs, g.RG)
			if g.FinalGranted || g.Reservation == "" {
				short = append(short, g.RG)
			}
		}
	}
	sess.mu.Unlock()
	if len(rgs) == 0 {
		return false
	}
	if !all && len(short) > 0 {
		rgs = short
	}
	j := &notification{typ: nchf.NotificationTypeReauthorization, ref: ref, uri: uri, why: why, rgs: rgs}
	return n.enqueue(ctx, j)
}

// enqueue queues j, or merges it into the same session's pending
// notification of the same type. It reports whether the session will be
// notified.
func (n *Notifier) enqueue(ctx context.Context, j *notification) bool {
	if u, err := url.Parse(j.uri); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		n.m.count(j.typ, "failed")
		n.log.WarnContext(ctx, "chf notification not sent: bad notifyUri", "ref", j.ref, "uri", j.uri)
		return false
	}
	j.key = string(j.typ) + "\x00" + j.ref
	j.born = time.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		n.m.count(j.typ, "dropped")
		n.log.WarnContext(ctx, "chf notification dropped: the notifier has stopped", "type", j.typ, "ref", j.ref)
		return false
	}
	if cur := n.pending[j.key]; cur != nil {
		added := false
		for _, rg := range j.rgs {
			if !slices.Contains(cur.rgs, rg) {
				cur.rgs = append(cur.rgs, rg)
				added = true
			}
		}
		if added {
			cur.version++
		}
		return true
	}
	select {
	case n.queue <- j:
		n.pending[j.key] = j
		return true
	default:
		n.m.count(j.typ, "dropped")
		n.dropLocked(ctx, j)
		return false
	}
}

// dropLocked logs a notification dropped because the queue is full, at
// most once a second (with the count since the last line).
func (n *Notifier) dropLocked(ctx context.Context, j *notification) {
	n.drops++
	if now := time.Now(); now.Sub(n.dropsLogs) >= time.Second {
		n.log.WarnContext(ctx, "chf notifications dropped: the queue is full (consumers re-ask at validityTime)",
			"dropped", n.drops, "queue", cap(n.queue), "type", j.typ, "ref", j.ref)
		n.drops, n.dropsLogs = 0, now
	}
}

func (n *Notifier) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-n.queue:
			if ctx.Err() != nil {
				// Shutting down: give it back for Run to count.
				n.mu.Lock()
				select {
				case n.queue <- j:
				default:
					n.finishLocked(j, "dropped")
				}
				n.mu.Unlock()
				return
			}
			n.send(ctx, j)
		}
	}
}

// send makes one attempt at j and decides what follows.
func (n *Notifier) send(ctx context.Context, j *notification) {
	if !n.stillOpen(j.ref) {
		// Released (or forgotten) since: nothing to notify.
		n.mu.Lock()
		n.finishLocked(j, "")
		n.mu.Unlock()
		return
	}
	n.mu.Lock()
	req := nchf.ChargingNotifyRequest{NotificationType: j.typ}
	for _, rg := range j.rgs {
		req.ReauthorizationDetails = append(req.ReauthorizationDetails, nchf.ReauthorizationDetails{RatingGroup: rg})
	}
	version := j.version
	j.attempts++
	attempt := j.attempts
	n.mu.Unlock()
	body := nchf.AppendChargingNotifyRequest(nil, &req)

	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), n.cfg.Timeout)
	status, retryAfter, err := n.post(actx, j, body)
	cancel()

	retry := false
	switch {
	case err != nil:
		retry = true
		n.log.Debug("chf notification attempt failed", "type", j.typ, "ref", j.ref, "attempt", attempt, "err", err)
	case status >= 200 && status < 300:
		n.mu.Lock()
		defer n.mu.Unlock()
		if j.version != version {
			// Rating groups were added while it was on the way: send again.
			j.attempts = 0
			n.m.count(j.typ, "ok")
			n.requeueLocked(j)
			return
		}
		n.finishLocked(j, "ok")
		return
	case status >= 500 || status == http.StatusTooManyRequests:
		retry = true
		err = fmt.Errorf("answered %d", status)
	default:
		n.log.Warn("chf notification refused by the consumer; not retried", "type", j.typ, "ref", j.ref,
			"uri", j.uri, "status", status, "reason", j.why)
		n.mu.Lock()
		n.finishLocked(j, "failed")
		n.mu.Unlock()
		return
	}
	if !retry {
		return
	}
	if attempt >= n.cfg.MaxAttempts {
		n.log.Warn("chf notification failed after every attempt", "type", j.typ, "ref", j.ref, "uri", j.uri,
			"attempts", attempt, "err", err, "reason", j.why, "age", time.Since(j.born).Round(time.Millisecond))
		n.mu.Lock()
		n.finishLocked(j, "failed")
		n.mu.Unlock()
		return
	}
	wait := n.backoff(attempt)
	if retryAfter > wait {
		wait = min(retryAfter, n.cfg.MaxRetryAfter)
	}
	n.m.count(j.typ, "retry")
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		n.finishLocked(j, "dropped")
		return
	}
	n.timers[j] = time.AfterFunc(wait, func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		delete(n.timers, j)
		n.requeueLocked(j)
	})
}

// requeueLocked puts j back in the queue (a retry, or a resend after a
// merge).
func (n *Notifier) requeueLocked(j *notification) {
	if n.closed {
		n.finishLocked(j, "dropped")
		return
	}
	select {
	case n.queue <- j:
	default:
		n.dropLocked(context.Background(), j)
		n.finishLocked(j, "dropped")
	}
}

// finishLocked forgets j, counting its result ("" counts nothing).
func (n *Notifier) finishLocked(j *notification, result string) {
	if n.pending[j.key] == j {
		delete(n.pending, j.key)
	}
	if result != "" {
		n.m.count(j.typ, result)
	}
}

// backoff is the wait after the attempt-th failed attempt.
func (n *Notifier) backoff(attempt int) time.Duration {
	d := n.cfg.Backoff
	for i := 1; i < attempt && d < n.cfg.MaxBackoff; i++ {
		d *= time.Duration(n.cfg.BackoffFactor)
	}
	return min(d, n.cfg.MaxBackoff)
}

func (n *Notifier) stillOpen(ref string) bool {
	sess := n.svc.table.get(ref)
	if sess == nil {
		return false
	}
	sess.mu.Lock()
	defer sess.mu.Unlock()
	return !sess.Closed
}

// post sends one ChargingNotifyRequest; it returns the status and the
// Retry-After of a 429 or 503 answer.
func (n *Notifier) post(ctx context.Context, j *notification, body []byte) (int, time.Duration, error) {
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, j.uri, bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json, application/problem+json")
	client := n.plain
	if hr.URL.Scheme == "https" {
		client = n.secure
	}
	res, err := client.Do(hr)
	if err != nil {
		return 0, 0, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil && res.StatusCode < 300 {
		// The answer's status is what counts; a broken body is only logged.
		n.log.Debug("chf notification answer unreadable", "ref", j.ref, "err", err)
	}
	var retryAfter time.Duration
	switch res.StatusCode {
	case http.StatusOK:
		n.checkAnswer(j, res.Header.Get("Content-Type"), data)
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		retryAfter = parseRetryAfter(res.Header.Get("Retry-After"), time.Now())
	}
	return res.StatusCode, retryAfter, nil
}

// checkAnswer logs a ChargingNotifyResponse that reports an error.
func (n *Notifier) checkAnswer(j *notification, ctype string, data []byte) {
	if len(bytes.TrimSpace(data)) == 0 {
		return
	}
	var resp nchf.ChargingNotifyResponse
	if err := nchf.DecodeChargingNotifyResponse(data, &resp); err != nil {
		n.log.Warn("chf notification answer is not a ChargingNotifyResponse", "ref", j.ref, "content_type", ctype, "err", err)
		return
	}
	if r := resp.InvocationResult; r != nil && r.Error != nil {
		n.log.Warn("chf notification answered with an error", "type", j.typ, "ref", j.ref,
			"status", r.Error.Status, "cause", r.Error.Cause, "detail", r.Error.Detail, "failure_handling", r.FailureHandling)
	}
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(min(s, 1<<20)) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// notifyMetrics counts notifications by type and result.
type notifyMetrics struct {
	total *prometheus.CounterVec
}

func newNotifyMetrics(reg prometheus.Registerer) *notifyMetrics {
	m := &notifyMetrics{total: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tollgate_chf_notifications_total",
		Help: "CHF notifications (ChargingNotify) by type and result: ok (delivered), retry (an attempt to be repeated), failed (refused, or every attempt failed), dropped (queue full or shutdown; type scan: an account change not looked at).",
	}, []string{"type", "result"})}
	if reg != nil {
		reg.MustRegister(m.total)
	}
	return m
}

func (m *notifyMetrics) count(t nchf.NotificationType, result string) {
	m.total.WithLabelValues(string(t), result).Inc()
}

func (m *notifyMetrics) dropped(what string) {
	m.total.WithLabelValues(what, "dropped").Inc()
}
