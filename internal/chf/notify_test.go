package chf_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-billing/tollgate/internal/account"
	"github.com/tollgate-billing/tollgate/internal/balance"
	"github.com/tollgate-billing/tollgate/internal/chf"
	"github.com/tollgate-billing/tollgate/internal/money"
	"github.com/tollgate-billing/tollgate/internal/nchf"
	"github.com/tollgate-billing/tollgate/internal/nchf/nchftest"
)

// notified is one ChargingNotifyRequest a consumer received.
type notified struct {
	path string
	at   time.Time
	req  nchf.ChargingNotifyRequest
}

// consumer is an SMF's notification endpoint: an h2c server that records
// what it gets (checked against the 3GPP schema) and answers the statuses
// it is told, then 204.
type consumer struct {
	t     *testing.T
	url   string
	proto int // the HTTP major version expected
	tls   *tls.Config

	mu      sync.Mutex
	got     []notified
	answers []answer
	signal  chan struct{}
}

type answer struct {
	status     int
	retryAfter string
	body       string
}

func newConsumer(t *testing.T, answers ...answer) *consumer {
	return newConsumerOver(t, "h2c", answers...)
}

// newConsumerOver is a consumer over "h2c", "http1" (HTTP/1.1 only) or
// "tls" (HTTP/2 over TLS; c.tls trusts its certificate).
func newConsumerOver(t *testing.T, mode string, answers ...answer) *consumer {
	t.Helper()
	c := &consumer{t: t, answers: answers, signal: make(chan struct{}, 1), proto: 2}
	if mode == "tls" {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(c.serve))
		srv.EnableHTTP2 = true
		srv.StartTLS()
		t.Cleanup(srv.Close)
		roots := x509.NewCertPool()
		roots.AddCert(srv.Certificate())
		c.url, c.tls = srv.URL, &tls.Config{RootCAs: roots}
		return c
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var protos http.Protocols
	if mode == "http1" {
		protos.SetHTTP1(true)
		c.proto = 1
	} else {
		protos.SetUnencryptedHTTP2(true)
	}
	srv := &http.Server{Handler: http.HandlerFunc(c.serve), Protocols: &protos}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	c.url = "http://" + ln.Addr().String()
	return c
}

func (c *consumer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.ProtoMajor != c.proto || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		c.t.Errorf("notification over %s %s, Content-Type %q; want HTTP/%d POST application/json", r.Proto, r.Method, r.Header.Get("Content-Type"), c.proto)
	}
	if err := nchftest.Validate(nchftest.ChargingNotifyRequest, body); err != nil {
		c.t.Errorf("notification does not match the 3GPP schema: %v\n%s", err, body)
	}
	n := notified{path: r.URL.Path, at: time.Now()}
	if err := nchf.DecodeChargingNotifyRequest(body, &n.req); err != nil {
		c.t.Errorf("notification: %v\n%s", err, body)
	}
	c.mu.Lock()
	c.got = append(c.got, n)
	a := answer{status: http.StatusNoContent}
	if len(c.answers) > 0 {
		a, c.answers = c.answers[0], c.answers[1:]
	}
	c.mu.Unlock()
	select {
	case c.signal <- struct{}{}:
	default:
	}
	if a.retryAfter != "" {
		w.Header().Set("Retry-After", a.retryAfter)
	}
	if a.body != "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, a.body)
}

// wait returns what was received once there are at least n, failing after
// 10 s.
func (c *consumer) wait(n int) []notified {
	c.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		c.mu.Lock()
		got := slices.Clone(c.got)
		c.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-c.signal:
		case <-deadline:
			c.t.Fatalf("%d notifications received, want %d: %+v", len(got), n, got)
		}
	}
}

// settle waits a little and returns everything received.
func (c *consumer) settle(d time.Duration) []notified {
	time.Sleep(d)
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.got)
}

// notifier starts a Notifier on the env's service with fast retries; it
// stops at the test's end. run=false leaves starting it to the test.
func (e *env) notifier(cfg chf.NotifyConfig, run bool) (*chf.Notifier, *prometheus.Registry, func() context.CancelFunc) {
	e.t.Helper()
	if cfg.Backoff == 0 {
		cfg.Backoff = 10 * time.Millisecond
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Second
	}
	reg := prometheus.NewRegistry()
	cfg.Registerer = reg
	n := chf.NewNotifier(cfg, e.svc)
	start := func() context.CancelFunc {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = n.Run(ctx) }()
		stop := func() { cancel(); <-done }
		e.t.Cleanup(stop)
		return stop
	}
	if run {
		start()
	}
	return n, reg, start
}

// counter reads tollgate_chf_notifications_total{type,result}.
func counter(t *testing.T, reg *prometheus.Registry, typ, result string) int {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "tollgate_chf_notifications_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			var gt, gr string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "type":
					gt = l.GetValue()
				case "result":
					gr = l.GetValue()
				}
			}
			if gt == typ && gr == result {
				return int(m.GetCounter().GetValue())
			}
		}
	}
	return 0
}

// waitCounter waits until the counter reaches want (the consumer may see a
// request before the notifier has read its answer).
func waitCounter(t *testing.T, reg *prometheus.Registry, typ, result string, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := counter(t, reg, typ, result)
		if got == want {
			return
		}
		if got > want || time.Now().After(deadline) {
			t.Fatalf("%s %s = %d, want %d", typ, result, got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// openSession creates a session whose notifyUri is uri; at makes its ref.
func (e *env) openSession(supi, uri string, at time.Time, mus ...nchf.MultipleUnitUsage) (string, reply) {
	e.t.Helper()
	req := smfRequest(supi, 0, at, mus...)
	req.NotifyUri = uri
	r := e.post("/nchf-convergedcharging/v3/chargingdata", req)
	if r.status != 201 {
		e.t.Fatalf("create: %d %s", r.status, r.body)
	}
	return refOf(e.t, r.location), r
}

func (e *env) topUp(id, key, amount string) {
	e.t.Helper()
	op := balance.Op{Kind: balance.KindTopUp, Key: key, Account: id, Amount: money.MustParse(amount)}
	if _, err := (balance.Mirror{Engine: e.eng, Account: e.st.GetAccount}).Do(context.Background(), &op); err != nil {
		e.t.Fatal(err)
	}
}

func rgsOf(n nchf.ChargingNotifyRequest) []uint32 {
	var out []uint32
	for _, d := range n.ReauthorizationDetails {
		out = append(out, d.RatingGroup)
	}
	slices.Sort(out)
	return out
}

var (
	voice5min = nchf.MultipleUnitUsage{RatingGroup: 20, RequestedUnit: &nchf.RequestedUnit{Time: 300}}
	data10MiB = nchf.MultipleUnitUsage{RatingGroup: 10, RequestedUnit: &nchf.RequestedUnit{TotalVolume: 10 * mib}}
)

// TestNotifyReauthorizeAfterTopUp: a session whose data grant was final
// (the balance ran short) gets a REAUTHORIZATION for that rating group
// after a top-up — not for its voice group, which holds a full grant — and
// the update the consumer then sends gets more quota.
func TestNotifyReauthorizeAfterTopUp(t *testing.T) {
	e := newEnv(t)
	c := newConsumer(t)
	supi := e.subscriber("poor-n", "001010000000101", "2.50", account.Prepaid)
	// Voice first: 0.30 held for 5 min; data gets the 2.20 left, short of 10 MiB.
	ref, r := e.openSession(supi, c.url+"/smf/1", e.now, voice5min, data10MiB)
	mui := r.resp.MultipleUnitInformation
	if len(mui) != 2 || mui[0].FinalUnitIndication != nil || mui[1].FinalUnitIndication == nil || mui[1].GrantedUnit.TotalVolume >= 10*mib {
		t.Fatalf("grants: %s", r.body)
	}
	shortGrant := mui[1].GrantedUnit.TotalVolume

	e.topUp("poor-n", "topup:poor-n:2", "20.00")
	n, reg, _ := e.notifier(chf.NotifyConfig{}, true)
	if got := n.Reauthorize(t.Context(), "poor-n"); got != 1 {
		t.Fatalf("Reauthorize: %d sessions, want 1", got)
	}
	got := c.wait(1)
	if got[0].path != "/smf/1" || got[0].req.NotificationType != nchf.NotificationTypeReauthorization ||
		!slices.Equal(rgsOf(got[0].req), []uint32{10}) {
		t.Fatalf("notification: %+v", got[0])
	}
	// The consumer asks again: a full grant now.
	upd := smfRequest(supi, 1, e.now.Add(time.Second), usedVolume(10, 0, mib, 1, 10*mib))
	r = e.post("/nchf-convergedcharging/v3/chargingdata/"+ref+"/update", upd)
	if r.status != 200 || r.resp.MultipleUnitInformation[0].GrantedUnit.TotalVolume != 10*mib ||
		r.resp.MultipleUnitInformation[0].FinalUnitIndication != nil || shortGrant >= 10*mib {
		t.Fatalf("update after top-up: %d %s", r.status, r.body)
	}
	waitCounter(t, reg, "REAUTHORIZATION", "ok", 1)
	// Nothing else was sent.
	if all := c.settle(50 * time.Millisecond); len(all) != 1 {
		t.Fatalf("notifications: %+v", all)
	}
}

// TestNotifyAllGroupsWhenNoneShort: with every group holding a full grant,
// a top-up names them all; sessions without a notifyUri and unknown
// accounts are skipped; BalanceRaised (the hook path) does the same as
// Reauthorize without waiting.
func TestNotifyAllGroupsWhenNoneShort(t *testing.T) {
	e := newEnv(t)
	c := newConsumer(t)
	supi := e.subscriber("rich-n", "001010000000102", "100.00", account.Prepaid)
	e.openSession(supi, c.url+"/smf/all", e.now, voice5min, data10MiB)
	e.openSession(supi, "", e.now.Add(time.Second), data10MiB) // no notifyUri
	n, _, _ := e.notifier(chf.NotifyConfig{}, true)
	n.BalanceRaised(t.Context(), "rich-n")
	got := c.wait(1)
	if !slices.Equal(rgsOf(got[0].req), []uint32{10, 20}) || got[0].path != "/smf/all" {
		t.Fatalf("notification: %+v", got[0])
	}
	if k := n.Reauthorize(t.Context(), "nobody"); k != 0 {
		t.Fatalf("unknown account: %d", k)
	}
	if all := c.settle(50 * time.Millisecond); len(all) != 1 {
		t.Fatalf("notifications: %+v", all)
	}
}

// TestNotifyRetries: 5xx and 429 are retried with backoff (Retry-After
// honoured); a 404 is not retried.
func TestNotifyRetries(t *testing.T) {
	e := newEnv(t)
	supi := e.subscriber("retry-n", "001010000000103", "100.00", account.Prepaid)

	t.Run("503 twice then 204", func(t *testing.T) {
		c := newConsumer(t, answer{status: 503}, answer{status: 503})
		ref, _ := e.openSession(supi, c.url+"/smf/503", e.now, data10MiB)
		n, reg, _ := e.notifier(chf.NotifyConfig{}, true)
		if k := n.Abort(t.Context(), "retry-n", "barred"); k != 1 {
			t.Fatalf("Abort: %d", k)
		}
		got := c.wait(3)
		for _, g := range got {
			if g.req.NotificationType != nchf.NotificationTypeAbortCharging || len(g.req.ReauthorizationDetails) != 0 {
				t.Fatalf("notification: %+v", g)
			}
		}
		// Backoff: 10 ms, then 20 ms.
		if d1, d2 := got[1].at.Sub(got[0].at), got[2].at.Sub(got[1].at); d1 < 10*time.Millisecond || d2 < 20*time.Millisecond {
			t.Fatalf("retried after %v and %v", d1, d2)
		}
		waitCounter(t, reg, "ABORT_CHARGING", "ok", 1)
		waitCounter(t, reg, "ABORT_CHARGING", "retry", 2)
		if all := c.settle(50 * time.Millisecond); len(all) != 3 {
			t.Fatalf("%d notifications, want 3", len(all))
		}
		release(t, e, supi, ref)
	})

	t.Run("404 is not retried", func(t *testing.T) {
		c := newConsumer(t, answer{status: 404})
		ref, _ := e.openSession(supi, c.url+"/smf/404", e.now.Add(time.Second), data10MiB)
		n, reg, _ := e.notifier(chf.NotifyConfig{}, true)
		n.Abort(t.Context(), "retry-n", "barred")
		c.wait(1)
		if all := c.settle(100 * time.Millisecond); len(all) != 1 {
			t.Fatalf("%d attempts, want 1", len(all))
		}
		waitCounter(t, reg, "ABORT_CHARGING", "failed", 1)
		release(t, e, supi, ref)
	})

	t.Run("429 Retry-After", func(t *testing.T) {
		c := newConsumer(t, answer{status: 429, retryAfter: "1"})
		ref, _ := e.openSession(supi, c.url+"/smf/429", e.now.Add(2*time.Second), data10MiB)
		n, _, _ := e.notifier(chf.NotifyConfig{}, true)
		n.Abort(t.Context(), "retry-n", "barred")
		got := c.wait(2)
		if d := got[1].at.Sub(got[0].at); d < 900*time.Millisecond {
			t.Fatalf("retried after %v despite Retry-After: 1", d)
		}
		release(t, e, supi, ref)
	})

	t.Run("gives up after MaxAttempts", func(t *testing.T) {
		c := newConsumer(t, answer{status: 500}, answer{status: 502}, answer{status: 503}, answer{status: 504})
		ref, _ := e.openSession(supi, c.url+"/smf/500", e.now.Add(3*time.Second), data10MiB)
		n, reg, _ := e.notifier(chf.NotifyConfig{MaxAttempts: 3}, true)
		n.Abort(t.Context(), "retry-n", "barred")
		c.wait(3)
		if all := c.settle(100 * time.Millisecond); len(all) != 3 {
			t.Fatalf("%d attempts, want 3", len(all))
		}
		waitCounter(t, reg, "ABORT_CHARGING", "failed", 1)
		waitCounter(t, reg, "ABORT_CHARGING", "retry", 2)
		release(t, e, supi, ref)
	})

	t.Run("200 with a ChargingNotifyResponse", func(t *testing.T) {
		c := newConsumer(t, answer{status: 200, body: `{"invocationResult":{"error":{"status":400,"cause":"RE_AUTHORIZATION_FAILED"},"failureHandling":"TERMINATE"}}`})
		ref, _ := e.openSession(supi, c.url+"/smf/200", e.now.Add(4*time.Second), data10MiB)
		n, reg, _ := e.notifier(chf.NotifyConfig{}, true)
		n.Reauthorize(t.Context(), "retry-n")
		c.wait(1)
		waitCounter(t, reg, "REAUTHORIZATION", "ok", 1)
		if all := c.settle(50 * time.Millisecond); len(all) != 1 {
			t.Fatalf("%d attempts", len(all))
		}
		release(t, e, supi, ref)
	})
}

func release(t *testing.T, e *env, supi, ref string) {
	t.Helper()
	r := e.post("/nchf-convergedcharging/v3/chargingdata/"+ref+"/release", smfRequest(supi, 1, e.now))
	if r.status != 204 {
		t.Fatalf("release: %d %s", r.status, r.body)
	}
}

// TestNotifyAbort: ABORT_CHARGING reaches every open session of the
// account, and no released session and no other account's.
func TestNotifyAbort(t *testing.T) {
	e := newEnv(t)
	c := newConsumer(t)
	a := e.subscriber("bar-a", "001010000000104", "100.00", account.Prepaid)
	b := e.subscriber("bar-b", "001010000000105", "100.00", account.Prepaid)
	e.openSession(a, c.url+"/a/1", e.now, data10MiB)
	e.openSession(a, c.url+"/a/2", e.now.Add(time.Second), voice5min)
	gone, _ := e.openSession(a, c.url+"/a/released", e.now.Add(2*time.Second), data10MiB)
	release(t, e, a, gone)
	e.openSession(b, c.url+"/b/1", e.now, data10MiB)

	n, _, _ := e.notifier(chf.NotifyConfig{}, true)
	if k := n.Abort(t.Context(), "bar-a", "barred"); k != 2 {
		t.Fatalf("Abort: %d sessions, want 2", k)
	}
	c.wait(2)
	got := c.settle(100 * time.Millisecond)
	var paths []string
	for _, g := range got {
		if g.req.NotificationType != nchf.NotificationTypeAbortCharging {
			t.Fatalf("notification: %+v", g)
		}
		paths = append(paths, g.path)
	}
	slices.Sort(paths)
	if !slices.Equal(paths, []string{"/a/1", "/a/2"}) {
		t.Fatalf("aborted %v", paths)
	}
}

// TestNotifyDeduplicates: a REAUTHORIZATION already pending for a session
// absorbs the next one (its rating groups merged); a tariff change names
// every group of the sessions rated with the plan.
func TestNotifyDeduplicates(t *testing.T) {
	e := newEnv(t)
	c := newConsumer(t)
	supi := e.subscriber("dup-n", "001010000000106", "2.50", account.Prepaid)
	e.openSession(supi, c.url+"/smf/dup", e.now, voice5min, data10MiB)
	n, reg, start := e.notifier(chf.NotifyConfig{}, false)
	for i := range 3 {
		if k := n.Reauthorize(t.Context(), "dup-n"); k != 1 {
			t.Fatalf("Reauthorize %d: %d", i, k)
		}
	}
	if k := n.ReauthorizePlans(t.Context(), []string{"other-plan"}); k != 0 {
		t.Fatalf("another plan: %d sessions", k)
	}
	if k := n.ReauthorizePlans(t.Context(), []string{"chf-test"}); k != 1 {
		t.Fatalf("plan: %d sessions", k)
	}
	start()
	got := c.wait(1)
	if all := c.settle(50 * time.Millisecond); len(all) != 1 {
		t.Fatalf("%d notifications, want 1: %+v", len(all), all)
	}
	if !slices.Equal(rgsOf(got[0].req), []uint32{10, 20}) {
		t.Fatalf("merged notification: %+v", got[0].req)
	}
	waitCounter(t, reg, "REAUTHORIZATION", "ok", 1)
}

// TestNotifyShutdown: Run returns soon after its context ends, giving up
// what waits for a retry; the queue's bound drops (and counts) the excess.
func TestNotifyShutdown(t *testing.T) {
	e := newEnv(t)
	c := newConsumer(t, answer{status: 503})
	supi := e.subscriber("stop-n", "001010000000107", "100.00", account.Prepaid)
	for i := range 3 {
		e.openSession(supi, c.url+"/smf/"+strconv.Itoa(i), e.now.Add(time.Duration(i)*time.Second), data10MiB)
	}
	n, reg, start := e.notifier(chf.NotifyConfig{QueueSize: 1, Backoff: time.Hour}, false)
	if k := n.Abort(t.Context(), "stop-n", "closed"); k != 1 {
		t.Fatalf("Abort with a queue of 1: %d queued", k)
	}
	if d := counter(t, reg, "ABORT_CHARGING", "dropped"); d != 2 {
		t.Fatalf("dropped %d, want 2", d)
	}
	stop := start()
	c.wait(1) // answered 503: waits an hour for its retry
	begin := time.Now()
	stop()
	if d := time.Since(begin); d > 2*time.Second {
		t.Fatalf("Run took %v to stop", d)
	}
	if d := counter(t, reg, "ABORT_CHARGING", "dropped"); d != 3 {
		t.Fatalf("dropped %d after shutdown, want 3", d)
	}
	// After Run, nothing is queued.
	if k := n.Abort(t.Context(), "stop-n", "closed"); k != 0 {
		t.Fatalf("Abort after Run: %d", k)
	}
}

// TestNotifyTransports: HTTP/2 over TLS for https://, and HTTP/1.1 for
// consumers that speak nothing else (NotifyConfig.HTTP1).
func TestNotifyTransports(t *testing.T) {
	e := newEnv(t)
	supi := e.subscriber("tls-n", "001010000000108", "100.00", account.Prepaid)
	for i, mode := range []string{"tls", "http1"} {
		t.Run(mode, func(t *testing.T) {
			c := newConsumerOver(t, mode)
			ref, _ := e.openSession(supi, c.url+"/smf/"+mode, e.now.Add(time.Duration(i)*time.Second), data10MiB)
			n, _, _ := e.notifier(chf.NotifyConfig{TLS: c.tls, HTTP1: mode == "http1"}, true)
			if k := n.Reauthorize(t.Context(), "tls-n"); k != 1 {
				t.Fatalf("Reauthorize: %d", k)
			}
			if got := c.wait(1); got[0].path != "/smf/"+mode {
				t.Fatalf("notification: %+v", got[0])
			}
			release(t, e, supi, ref)
		})
	}
}
