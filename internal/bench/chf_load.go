package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tollgate-billing/tollgate/internal/h2"
	"github.com/tollgate-billing/tollgate/internal/nchf"
)

// The NF instance ids (nFName) of the simulated consumers.
const (
	chfSMFName  = "6f1c3a52-7b1e-4c55-9d0e-b3c4a1e2f001"
	chfSMSFName = "6f1c3a52-7b1e-4c55-9d0e-b3c4a1e2f002"
)

// chfPath is the resource collection of Nchf_ConvergedCharging v3.
const chfPath = "/nchf-convergedcharging/v3/chargingdata"

// maxCHFBody bounds the answer bodies the generator reads.
const maxCHFBody = 1 << 20

// chfAccept is the Accept header of the Nchf requests.
const chfAccept = "application/json, application/problem+json"

// chfKind is the kind of an Nchf request.
type chfKind int

const (
	chfCreate chfKind = iota
	chfUpdate
	chfRelease
	chfSMS
	chfKinds
)

var chfKindNames = [chfKinds]string{"create", "update", "release", "sms"}

// --- HTTP/2 connections ---

// sbiClients holds the generator's HTTP/2 connections to the SBI: lean
// h2 client connections (internal/h2), which cost the shared machine a
// fraction of the CPU of net/http's client. Worker w uses conns[w mod N].
// A connection is dialled on its first request, and again once it broke or
// the server sent GOAWAY. A request beyond the server's
// SETTINGS_MAX_CONCURRENT_STREAMS waits on its connection for a free
// stream; that wait counts in the latency.
type sbiClients struct {
	conns    []*sbiConn
	dials    atomic.Int64
	protocol string
	addr     string // host:port dialled
	host     string // :authority
	base     string // the SBI URL's path, without a trailing slash
	cfg      h2.ClientConfig
}

// sbiConn is one of the connections; cur is replaced when it takes no new
// requests.
type sbiConn struct {
	s   *sbiClients
	cur atomic.Pointer[h2.ClientConn]
	mu  sync.Mutex       // held while dialling
	old []*h2.ClientConn // replaced connections, closed at the end
}

func newSBIClients(cfg CHFConfig) (*sbiClients, error) {
	u, err := url.Parse(cfg.SBI)
	if err != nil {
		return nil, fmt.Errorf("bench: sbi: %w", err)
	}
	s := &sbiClients{protocol: "h2c (prior knowledge)", host: u.Host, base: strings.TrimRight(u.EscapedPath(), "/"),
		cfg: h2.ClientConfig{MaxResponseBody: maxCHFBody}}
	port := "80"
	if u.Scheme == "https" {
		s.protocol, port = "h2 over TLS", "443"
		s.cfg.TLS = &tls.Config{InsecureSkipVerify: cfg.InsecureSkipVerify} //nolint:gosec // an explicit flag
	}
	if u.Port() != "" {
		port = u.Port()
	}
	s.addr = net.JoinHostPort(u.Hostname(), port)
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	s.cfg.DialContext = d.DialContext
	for range cfg.Connections {
		s.conns = append(s.conns, &sbiConn{s: s})
	}
	return s, nil
}

// get returns the connection, dialling it if there is none that takes
// requests.
func (c *sbiConn) get(ctx context.Context) (*h2.ClientConn, error) {
	if cc := c.cur.Load(); cc != nil && cc.Err() == nil {
		return cc, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cc := c.cur.Load()
	if cc != nil && cc.Err() == nil {
		return cc, nil
	}
	if cc != nil {
		// Its requests in flight may still complete (after a GOAWAY).
		c.old = append(c.old, cc)
		c.cur.Store(nil)
	}
	c.s.dials.Add(1)
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cc, err := h2.Dial(dctx, c.s.addr, c.s.cfg)
	if err != nil {
		return nil, err
	}
	c.cur.Store(cc)
	return cc, nil
}

func (s *sbiClients) close() {
	for _, c := range s.conns {
		c.mu.Lock()
		if cc := c.cur.Load(); cc != nil {
			cc.Close()
		}
		for _, cc := range c.old {
			cc.Close()
		}
		c.mu.Unlock()
	}
}

// --- tallies ---

// chfTally is one worker's record of one kind of request in the measured
// window.
type chfTally struct {
	hist       *Histogram
	errors     uint64
	status     map[int]uint64
	causes     map[string]uint64
	failures   map[string]uint64
	results    map[uint32]map[nchf.ResultCode]uint64
	finalUnits uint64
	firstErr   string
}

func newCHFTally() *chfTally {
	return &chfTally{hist: NewHistogram(), status: map[int]uint64{}, causes: map[string]uint64{},
		failures: map[string]uint64{}, results: map[uint32]map[nchf.ResultCode]uint64{}}
}

// fail counts a request without a usable answer.
func (t *chfTally) fail(label, msg string) {
	t.errors++
	t.failures[label]++
	if t.firstErr == "" {
		t.firstErr = msg
	}
}

func (t *chfTally) result(rg uint32, code nchf.ResultCode) {
	m := t.results[rg]
	if m == nil {
		m = map[nchf.ResultCode]uint64{}
		t.results[rg] = m
	}
	if code == "" {
		code = "(absent)"
	}
	m[code]++
}

// failureLabel names the failure of a request that got no answer.
func failureLabel(err error) string {
	var te interface{ Timeout() bool }
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &te) && te.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection_refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.EPIPE):
		return "connection_lost"
	case errors.Is(err, errBodyTooLarge), errors.Is(err, h2.ErrResponseTooLarge):
		return "body_too_large"
	case errors.Is(err, h2.ErrNotProcessed):
		return "not_processed" // GOAWAY or REFUSED_STREAM, also when sent again
	case errors.As(err, new(*h2.StreamResetError)):
		return "stream_reset"
	case errors.As(err, new(*h2.ProtocolError)), errors.Is(err, h2.ErrMalformedResponse):
		return "protocol_error"
	}
	return "transport"
}

var errBodyTooLarge = fmt.Errorf("bench: answer body larger than %d bytes", maxCHFBody)

// readBody reads r into dst[:0], growing it as needed, up to maxCHFBody.
func readBody(r io.Reader, dst []byte) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			if len(dst) >= maxCHFBody {
				return dst, errBodyTooLarge
			}
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// chfLive are the counters the progress lines read during the load.
type chfLive struct {
	done, errors atomic.Uint64
}

// --- sessions ---

// chfQuota is the quota of one rating group of a session.
type chfQuota struct {
	rg      uint32
	granted bool   // the last answer granted quota
	volume  uint64 // granted bytes (data)
	seconds uint32 // granted seconds (voice)
	lsn     uint64 // last localSequenceNumber reported
}

// chfSession is a PDU session as the simulated SMF keeps it.
type chfSession struct {
	open       bool   // created and not released
	path       string // the charging data resource's path: …/chargingdata/{ChargingDataRef}
	supi       string
	chargingID uint32
	pduID      uint8
	isn        uint32 // invocationSequenceNumber of the last message
	updates    int
	cut        bool // an update failed: release next
	final      bool // a finalUnitIndication came: release next
	quotas     [2]chfQuota
	nq         int
}

func (s *chfSession) anyGrant() bool {
	for _, q := range s.quotas[:s.nq] {
		if q.granted {
			return true
		}
	}
	return false
}

// grants takes the quotas of an answer: a rating group absent from it, or
// answered with another resultCode than SUCCESS, has no quota.
func (s *chfSession) grants(r *nchf.ChargingDataResponse) {
	for i := range s.quotas[:s.nq] {
		q := &s.quotas[i]
		q.granted, q.volume, q.seconds = false, 0, 0
		for _, m := range r.MultipleUnitInformation {
			if m.RatingGroup != q.rg {
				continue
			}
			if m.FinalUnitIndication != nil {
				s.final = true
			}
			if (m.ResultCode != "" && m.ResultCode != nchf.ResultCodeSuccess) || m.GrantedUnit == nil {
				continue
			}
			g := m.GrantedUnit
			switch q.rg {
			case chfRGData:
				q.volume = g.TotalVolume
				if q.volume == 0 {
					q.volume = g.UplinkVolume + g.DownlinkVolume
				}
				q.granted = q.volume > 0
			case chfRGVoice:
				q.seconds = g.Time
				q.granted = q.seconds > 0
			}
		}
	}
}

// chfSessionCounts are a worker's session outcomes. Created, Abandoned,
// Completed, CutShort and Lost count sessions whose message was in the
// measured window.
type chfSessionCounts struct {
	created, abandoned, completed, cutShort, lost uint64
	releasedAfter, releaseAfterFailed             uint64
}

// --- the worker ---

// chfWorker is one requester: it sends SMS events and drives one PDU
// session at a time, message by message.
type chfWorker struct {
	g           *chfGen
	conn        *sbiConn
	rng         *mrand.Rand
	live        *chfLive
	recording   bool
	measureFrom time.Time
	tally       [chfKinds]*chfTally
	counts      chfSessionCounts
	sess        chfSession
	// chargingId of the worker's next session: base + n·workers + w.
	nextCharging, chargingStep uint32

	req   nchf.ChargingDataRequest
	resp  nchf.ChargingDataResponse
	prob  nchf.ProblemDetails
	body  []byte // the last answer's body
	out   []byte // the request body, reused
	hreq  h2.ClientRequest
	hresp h2.ClientResponse // its Body is reused
	rc    reqCtx

	// parts of the requests, reused
	muu     [2]nchf.MultipleUnitUsage
	ru      [2]nchf.RequestedUnit
	uuc     [2][1]nchf.UsedUnitContainer
	trig    [2][1]nchf.Trigger
	final   [1]nchf.Trigger
	pdu     nchf.PDUSessionChargingInformation
	pduInfo nchf.PDUSessionInformation
	slice   nchf.NetworkSlicingInfo
	sms     nchf.SMSChargingInformation
	orig    nchf.OriginatorInfo
	recip   [1]nchf.RecipientInfo
}

// step sends the worker's next message: an SMS event (SMSShare of them),
// else the next message of its session.
func (w *chfWorker) step(ctx context.Context, intended time.Time) {
	cfg := &w.g.cfg
	if cfg.SMSShare > 0 && w.rng.Float64() < cfg.SMSShare {
		w.smsEvent(ctx, intended)
		return
	}
	s := &w.sess
	switch {
	case !s.open:
		w.create(ctx, intended)
	case s.updates < cfg.Updates && !s.cut && !s.final && s.anyGrant():
		w.update(ctx, intended)
	default:
		w.release(ctx, intended)
	}
}

// exchange POSTs body to path and reads the answer into w.body. It
// returns the HTTP status (0 when no answer could be read: that failure is
// counted already) and the Location header, and the tally to count the
// outcome in (nil when the request is outside the measured window).
func (w *chfWorker) exchange(ctx context.Context, kind chfKind, path string, body []byte, intended time.Time) (int, string, *chfTally) {
	t0 := time.Now()
	if intended.IsZero() {
		intended = t0
	}
	var t *chfTally
	if w.recording && !intended.Before(w.measureFrom) {
		t = w.tally[kind]
	}
	w.hreq.Path, w.hreq.Body = path, body
	rctx := w.rc.start(ctx, w.g.cfg.Timeout)
	err := w.do(rctx)
	if w.rc.stop() && err != nil && errors.Is(err, context.Canceled) && ctx.Err() == nil {
		err = fmt.Errorf("bench: no answer within %s: %w", w.g.cfg.Timeout, context.DeadlineExceeded)
	}
	w.body = w.hresp.Body
	latency := time.Since(intended)
	w.live.done.Add(1)
	if t != nil {
		t.hist.Record(latency)
	}
	if err != nil {
		w.live.errors.Add(1)
		if t != nil {
			t.fail(failureLabel(err), err.Error())
		}
		return 0, "", t
	}
	if t != nil {
		t.status[w.hresp.Status]++
	}
	return w.hresp.Status, w.hresp.Location, t
}

// reqCtx bounds a worker's requests: one cancellable context and one timer,
// reused from request to request, since a context.WithTimeout per request
// costs the generator 5 % of its CPU. A request that outlives the timeout
// cancels the context; the next request gets a new one.
type reqCtx struct {
	parent context.Context
	ctx    context.Context
	cancel context.CancelFunc
	timer  *time.Timer
}

// start returns the context for a request that may take d.
func (r *reqCtx) start(parent context.Context, d time.Duration) context.Context {
	if r.ctx != nil && r.parent == parent {
		r.timer.Reset(d)
		return r.ctx
	}
	r.close()
	r.parent = parent
	r.ctx, r.cancel = context.WithCancel(parent)
	r.timer = time.AfterFunc(d, r.cancel)
	return r.ctx
}

// stop ends the request; it reports whether the timeout ended it.
func (r *reqCtx) stop() bool {
	if r.timer.Stop() {
		return false
	}
	r.close() // fired: the next request needs a new context
	return true
}

// close releases the context.
func (r *reqCtx) close() {
	if r.cancel != nil {
		r.timer.Stop()
		r.cancel()
		r.ctx, r.cancel = nil, nil
	}
}

// do sends w.hreq on the worker's connection. A request the server
// certainly did not process (refused by GOAWAY or REFUSED_STREAM) is sent
// once more, on a new connection when the old one is going away, as
// net/http's client does.
func (w *chfWorker) do(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		cc, err := w.conn.get(ctx)
		if err == nil {
			err = cc.Do(ctx, &w.hreq, &w.hresp)
		}
		if attempt > 0 || !errors.Is(err, h2.ErrNotProcessed) {
			return err
		}
	}
}

// answer checks an answer: the expected status with a ChargingDataResponse
// (decoded into w.resp, its result codes counted) when withBody, or an
// error whose ProblemDetails cause is counted. It reports success.
func (w *chfWorker) answer(t *chfTally, status, want int, withBody bool) bool {
	if status == 0 {
		return false
	}
	if status != want {
		w.live.errors.Add(1)
		if t == nil {
			return false
		}
		cause := "(no ProblemDetails)"
		if len(w.body) > 0 {
			if err := nchf.DecodeProblemDetails(w.body, &w.prob); err == nil && w.prob.Cause != "" {
				cause = w.prob.Cause
			}
		}
		t.errors++
		t.causes[cause]++
		if t.firstErr == "" {
			t.firstErr = fmt.Sprintf("HTTP %d: %s", status, firstLine(w.body, 200))
		}
		return false
	}
	if !withBody {
		return true
	}
	if err := nchf.DecodeChargingDataResponse(w.body, &w.resp); err != nil {
		w.live.errors.Add(1)
		if t != nil {
			t.fail("bad_response", "decoding the ChargingDataResponse: "+err.Error())
		}
		return false
	}
	if t != nil {
		for i := range w.resp.MultipleUnitInformation {
			m := &w.resp.MultipleUnitInformation[i]
			t.result(m.RatingGroup, m.ResultCode)
			if m.FinalUnitIndication != nil {
				t.finalUnits++
			}
		}
	}
	return true
}

// firstLine returns the start of b for an error message.
func firstLine(b []byte, n int) string {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	if len(b) > n {
		b = b[:n]
	}
	return strings.ToValidUTF8(string(b), "?")
}

// encode encodes w.req into the worker's request buffer (the client keeps
// no request after Do returns, so the buffer is reused).
func (w *chfWorker) encode() []byte {
	w.out = nchf.AppendChargingDataRequest(w.out[:0], &w.req)
	return w.out
}

// smfRequest sets w.req to the parts every message of session s carries.
func (w *chfWorker) smfRequest(s *chfSession, now time.Time) {
	w.slice = nchf.NetworkSlicingInfo{SNSSAI: nchf.Snssai{Sst: 1}}
	w.pduInfo = nchf.PDUSessionInformation{NetworkSlicingInfo: &w.slice, PduSessionID: s.pduID,
		PduType: nchf.PduSessionTypeIpv4, RatType: nchf.RatTypeNr, DnnId: "internet"}
	w.pdu = nchf.PDUSessionChargingInformation{ChargingId: s.chargingID, PduSessionInformation: &w.pduInfo}
	w.req = nchf.ChargingDataRequest{
		SubscriberIdentifier:          s.supi,
		NfConsumerIdentification:      nchf.NFIdentification{NFName: chfSMFName, NodeFunctionality: nchf.NodeFunctionalitySmf},
		InvocationTimeStamp:           now,
		InvocationSequenceNumber:      s.isn,
		PDUSessionChargingInformation: &w.pdu,
	}
}

// requested sets w.ru[i] to the quota request of q.
func (w *chfWorker) requested(i int, q *chfQuota) *nchf.RequestedUnit {
	w.ru[i] = nchf.RequestedUnit{}
	if q.rg == chfRGVoice {
		w.ru[i].Time = w.g.cfg.VoiceRequest
	} else {
		w.ru[i].TotalVolume = w.g.cfg.DataRequest
	}
	return &w.ru[i]
}

// used fills w.uuc[i] with the usage of q's grant: all of it a quarter of
// the time (trigger QUOTA_EXHAUSTED), else between half and all of it
// (VALIDITY_TIME), or the final report (FINAL).
func (w *chfWorker) used(i int, q *chfQuota, final bool, now time.Time) []nchf.UsedUnitContainer {
	exhausted := w.rng.IntN(4) == 0
	tt := nchf.TriggerTypeValidityTime
	switch {
	case final:
		tt = nchf.TriggerTypeFinal
	case exhausted:
		tt = nchf.TriggerTypeQuotaExhausted
	}
	part := func(g uint64) uint64 {
		if exhausted || g < 2 {
			return g
		}
		return g/2 + w.rng.Uint64N(g-g/2+1)
	}
	q.lsn++
	w.trig[i][0] = nchf.Trigger{TriggerType: tt, TriggerCategory: nchf.TriggerCategoryImmediateReport}
	c := nchf.UsedUnitContainer{QuotaManagementIndicator: nchf.QuotaManagementIndicatorOnlineCharging,
		Triggers: w.trig[i][:], TriggerTimestamp: now, LocalSequenceNumber: q.lsn}
	switch q.rg {
	case chfRGVoice:
		c.Time = uint32(part(uint64(q.seconds)))
	default:
		v := part(q.volume)
		c.TotalVolume, c.UplinkVolume, c.DownlinkVolume = v, v/10, v-v/10
	}
	w.uuc[i][0] = c
	return w.uuc[i][:]
}

func (w *chfWorker) create(ctx context.Context, intended time.Time) {
	cfg := &w.g.cfg
	s := &w.sess
	*s = chfSession{
		supi:       chfSUPI(w.rng.IntN(cfg.Subscribers)),
		chargingID: w.nextCharging,
		pduID:      uint8(1 + w.rng.IntN(15)),
		nq:         1,
	}
	w.nextCharging += w.chargingStep
	s.quotas[0].rg = chfRGData
	if cfg.VoiceShare > 0 && w.rng.Float64() < cfg.VoiceShare {
		s.quotas[1].rg = chfRGVoice
		s.nq = 2
	}
	now := time.Now().UTC()
	w.smfRequest(s, now)
	w.pduInfo.StartTime = now
	mu := w.muu[:0]
	for i := range s.quotas[:s.nq] {
		q := &s.quotas[i]
		mu = append(mu, nchf.MultipleUnitUsage{RatingGroup: q.rg, RequestedUnit: w.requested(i, q)})
	}
	w.req.MultipleUnitUsage = mu
	status, loc, t := w.exchange(ctx, chfCreate, w.conn.s.base+chfPath, w.encode(), intended)
	if !w.answer(t, status, http.StatusCreated, true) {
		if t != nil {
			w.counts.abandoned++
		}
		return
	}
	ref := chargingDataRef(loc)
	if ref == "" {
		w.live.errors.Add(1)
		if t != nil {
			t.fail("no_location", fmt.Sprintf("201 without a Location naming the ChargingDataRef (Location %q)", loc))
			w.counts.abandoned++
		}
		return
	}
	s.open = true
	s.path = w.conn.s.base + chfPath + "/" + url.PathEscape(ref)
	s.grants(&w.resp)
	if t != nil {
		w.counts.created++
	}
}

// chargingDataRef returns the ChargingDataRef of a Location header: the
// path segment after …/chargingdata/, unescaped.
func chargingDataRef(loc string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return ""
	}
	p := strings.TrimRight(u.EscapedPath(), "/")
	i := strings.LastIndexByte(p, '/')
	if i < 0 || !strings.HasSuffix(p[:i], "/chargingdata") {
		return ""
	}
	ref, err := url.PathUnescape(p[i+1:])
	if err != nil {
		return ""
	}
	return ref
}

func (w *chfWorker) update(ctx context.Context, intended time.Time) {
	s := &w.sess
	s.isn++
	s.updates++
	now := time.Now().UTC()
	w.smfRequest(s, now)
	mu := w.muu[:0]
	for i := range s.quotas[:s.nq] {
		q := &s.quotas[i]
		if !q.granted {
			continue
		}
		mu = append(mu, nchf.MultipleUnitUsage{RatingGroup: q.rg, RequestedUnit: w.requested(i, q),
			UsedUnitContainer: w.used(i, q, false, now)})
	}
	w.req.MultipleUnitUsage = mu
	status, _, t := w.exchange(ctx, chfUpdate, s.path+"/update", w.encode(), intended)
	if w.answer(t, status, http.StatusOK, true) {
		s.grants(&w.resp)
		return
	}
	if status == http.StatusNotFound {
		// The CHF does not know the session (any more): nothing to release.
		s.open = false
		if t != nil {
			w.counts.lost++
		}
		return
	}
	s.cut = true
	if t != nil {
		w.counts.cutShort++
	}
}

// release ends the session with the final usage; it reports success.
func (w *chfWorker) release(ctx context.Context, intended time.Time) bool {
	s := &w.sess
	s.isn++
	now := time.Now().UTC()
	w.smfRequest(s, now)
	w.pduInfo.StopTime = now
	w.pduInfo.SessionStopIndicator = true
	mu := w.muu[:0]
	for i := range s.quotas[:s.nq] {
		q := &s.quotas[i]
		if !q.granted {
			continue
		}
		mu = append(mu, nchf.MultipleUnitUsage{RatingGroup: q.rg, UsedUnitContainer: w.used(i, q, true, now)})
	}
	w.req.MultipleUnitUsage = mu
	w.final[0] = nchf.Trigger{TriggerType: nchf.TriggerTypeFinal, TriggerCategory: nchf.TriggerCategoryImmediateReport}
	w.req.Triggers = w.final[:]
	status, _, t := w.exchange(ctx, chfRelease, s.path+"/release", w.encode(), intended)
	s.open = false
	if w.answer(t, status, http.StatusNoContent, false) {
		if t != nil {
			w.counts.completed++
		}
		return true
	}
	return false
}

// smsEvent sends one SMS as an SMSF does: a one-time event (IEC) reporting
// one message used on rating group 30.
func (w *chfWorker) smsEvent(ctx context.Context, intended time.Time) {
	n := w.g.cfg.Subscribers
	from, to := w.rng.IntN(n), w.rng.IntN(n)
	supi := chfSUPI(from)
	now := time.Now().UTC()
	w.orig = nchf.OriginatorInfo{OriginatorSUPI: supi, OriginatorGPSI: "msisdn-" + chfMSISDN(from)}
	w.recip[0] = nchf.RecipientInfo{RecipientGPSI: "msisdn-" + chfMSISDN(to)}
	w.sms = nchf.SMSChargingInformation{OriginatorInfo: &w.orig, RecipientInfo: w.recip[:],
		RATType: nchf.RatTypeNr, SMMessageType: nchf.SMMessageTypeSubmission, NumberofMessagesSent: 1,
		SubmissionTime: now}
	w.uuc[0][0] = nchf.UsedUnitContainer{ServiceSpecificUnits: 1, LocalSequenceNumber: 1}
	w.muu[0] = nchf.MultipleUnitUsage{RatingGroup: chfRGSMS, UsedUnitContainer: w.uuc[0][:]}
	w.req = nchf.ChargingDataRequest{
		SubscriberIdentifier:     supi,
		NfConsumerIdentification: nchf.NFIdentification{NFName: chfSMSFName, NodeFunctionality: nchf.NodeFunctionalitySmsf},
		InvocationTimeStamp:      now,
		OneTimeEvent:             true,
		OneTimeEventType:         nchf.OneTimeEventTypeIec,
		MultipleUnitUsage:        w.muu[:1],
		SMSChargingInformation:   &w.sms,
	}
	status, _, t := w.exchange(ctx, chfSMS, w.conn.s.base+chfPath, w.encode(), intended)
	want := http.StatusCreated
	if status == http.StatusOK {
		want = http.StatusOK // also an answer with the result
	}
	w.answer(t, status, want, true)
}

// --- the load ---

func (g *chfGen) load(ctx context.Context) (CHFLoadReport, error) {
	cfg := g.cfg
	clients, err := newSBIClients(cfg)
	if err != nil {
		return CHFLoadReport{}, err
	}
	defer clients.close()
	var (
		stop    atomic.Bool
		live    chfLive
		workers = make([]*chfWorker, cfg.Concurrency)
		wg      sync.WaitGroup
	)
	defer func() {
		for _, w := range workers { // every worker goroutine has ended
			if w != nil {
				w.rc.close()
			}
		}
	}()
	var seed [4]byte
	_, _ = rand.Read(seed[:])
	chargingBase := binary.BigEndian.Uint32(seed[:])

	rtBefore := readRuntime()
	start := time.Now()
	measureFrom := start.Add(cfg.Warmup)
	end := measureFrom.Add(cfg.Duration)
	every := 0.0 // open loop: ns between requests
	if cfg.Rate > 0 {
		every = 1e9 / float64(cfg.Rate)
	}
	// Open loop: one pacer hands each request, when it is due, to an idle
	// worker (as in the balance benchmark: a timer per worker makes the
	// generator itself the tail). A request that finds every worker busy
	// waits in the pacer, and its latency still counts from when it was
	// due.
	pace := newPacer(ctx, start, end, every, cfg.Concurrency)
	cpuCtx, cpuCancel := context.WithCancel(ctx)
	defer cpuCancel()
	cpu := cpuWindow(cpuCtx, g.api, measureFrom, end)
	for i := range cfg.Concurrency {
		w := &chfWorker{g: g, conn: clients.conns[i%len(clients.conns)], live: &live,
			rng: mrand.New(mrand.NewPCG(cfg.Seed, uint64(i))), recording: true, measureFrom: measureFrom,
			nextCharging: chargingBase + uint32(i), chargingStep: uint32(cfg.Concurrency)}
		w.hreq = h2.ClientRequest{Method: http.MethodPost, Authority: clients.host, ContentType: "application/json", Accept: chfAccept}
		for k := range w.tally {
			w.tally[k] = newCHFTally()
		}
		workers[i] = w
		wg.Go(func() {
			for !stop.Load() && ctx.Err() == nil {
				var intended time.Time
				if every > 0 {
					t, ok := <-pace.Due
					if !ok {
						return
					}
					intended = t
				}
				w.step(ctx, intended)
			}
		})
	}
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		g.loadProgress(&live, &stop, start, measureFrom)
	}()
	// Closed loop: stop at the end. Open loop: give the requests due before
	// the end a grace period to be issued (their latency counts from when
	// they were due); those still not issued are Missed.
	stopAt := end
	if every > 0 {
		stopAt = end.Add(min(5*time.Second, cfg.Duration/2))
	}
	allDone := make(chan struct{})
	go func() { wg.Wait(); close(allDone) }()
	select {
	case <-time.After(time.Until(stopAt)):
	case <-allDone:
	case <-ctx.Done():
	}
	stop.Store(true)
	pace.Stop()
	wg.Wait()
	rtAfter := readRuntime()
	<-progressDone
	if err := ctx.Err(); err != nil {
		return CHFLoadReport{}, err
	}
	g.drain(ctx, workers)

	window := end.Sub(measureFrom)
	rep := CHFLoadReport{
		Mode: "closed", Concurrency: cfg.Concurrency, Connections: cfg.Connections, Protocol: clients.protocol,
		ConnectionsOpened: clients.dials.Load(), WarmupSeconds: cfg.Warmup.Seconds(), Seconds: round3(window.Seconds()),
		Runtime: rtAfter.since(rtBefore),
	}
	if cfg.Rate > 0 {
		rep.Mode, rep.TargetRate = "open", cfg.Rate
		rep.Missed = pace.Missed()
	}
	all := newCHFTally()
	kinds := [chfKinds]*chfTally{}
	for k := range kinds {
		kinds[k] = newCHFTally()
		for _, w := range workers {
			kinds[k].merge(w.tally[k])
		}
		all.merge(kinds[k])
	}
	rep.All = all.report(window)
	rep.Create = kinds[chfCreate].report(window)
	rep.Update = kinds[chfUpdate].report(window)
	rep.Release = kinds[chfRelease].report(window)
	rep.SMS = kinds[chfSMS].report(window)
	rep.Requests, rep.RequestsPerSec, rep.Errors = rep.All.Requests, rep.All.RequestsPerSec, rep.All.Errors
	select {
	case s, ok := <-cpu:
		if ok && rep.Requests > 0 {
			rep.ServerCPU = &ServerCPUReport{Seconds: round3(s), Cores: round3(s / window.Seconds()),
				MicrosPerRequest: round3(s * 1e6 / float64(rep.Requests))}
		}
	case <-time.After(time.Until(end) + 3*time.Second): // the server did not answer in time
	}
	for _, w := range workers {
		c := w.counts
		s := &rep.Sessions
		s.Created += c.created
		s.Abandoned += c.abandoned
		s.Completed += c.completed
		s.CutShort += c.cutShort
		s.Lost += c.lost
		s.ReleasedAfter += c.releasedAfter
		s.ReleaseAfterFailed += c.releaseAfterFailed
	}
	return rep, nil
}

// drain releases the sessions the workers left open (not measured), so
// that the run leaves no reservations behind on the server.
func (g *chfGen) drain(ctx context.Context, workers []*chfWorker) {
	open := 0
	for _, w := range workers {
		if w.sess.open {
			open++
		}
	}
	if open == 0 {
		return
	}
	g.progress("load: releasing the %d sessions still open (not measured)", open)
	dctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout+5*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, w := range workers {
		if !w.sess.open {
			continue
		}
		w.recording = false
		wg.Go(func() {
			if w.release(dctx, time.Time{}) {
				w.counts.releasedAfter++
			} else {
				w.counts.releaseAfterFailed++
			}
		})
	}
	wg.Wait()
}

// loadProgress writes a line every progress period until stop.
func (g *chfGen) loadProgress(live *chfLive, stop *atomic.Bool, start, measureFrom time.Time) {
	if g.cfg.Progress == nil {
		return
	}
	every := g.progressEvery()
	tick := time.NewTicker(min(every, 100*time.Millisecond))
	defer tick.Stop()
	last, lastDone, lastErrs := start, uint64(0), uint64(0)
	for !stop.Load() {
		now := <-tick.C
		if now.Sub(last) < every {
			continue
		}
		done, errs := live.done.Load(), live.errors.Load()
		phase := "measuring"
		if now.Before(measureFrom) {
			phase = "warmup"
		}
		g.progress("load: %s %5.1fs: %.0f requests/s, %d errors in the last %.1fs", phase, now.Sub(start).Seconds(),
			float64(done-lastDone)/now.Sub(last).Seconds(), errs-lastErrs, now.Sub(last).Seconds())
		last, lastDone, lastErrs = now, done, errs
	}
}

// merge adds o to t.
func (t *chfTally) merge(o *chfTally) {
	t.hist.Merge(o.hist)
	t.errors += o.errors
	t.finalUnits += o.finalUnits
	for k, v := range o.status {
		t.status[k] += v
	}
	for k, v := range o.causes {
		t.causes[k] += v
	}
	for k, v := range o.failures {
		t.failures[k] += v
	}
	for rg, m := range o.results {
		dst := t.results[rg]
		if dst == nil {
			dst = map[nchf.ResultCode]uint64{}
			t.results[rg] = dst
		}
		for code, v := range m {
			dst[code] += v
		}
	}
	if t.firstErr == "" {
		t.firstErr = o.firstErr
	}
}
