package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/internal/nchf"
	"github.com/tollgate-billing/tollgate/internal/rating"
)

// --- a fake CHF ---

// fakeCHF implements the three Nchf_ConvergedCharging operations with
// in-memory sessions and checks every request it receives the way the
// contract of the real CHF needs it. violations collects what was wrong.
type fakeCHF struct {
	t *testing.T

	// Behaviour, set before the run.
	failCreate func(n int) (int, string) // status and cause for the n-th session create; 0 = answer normally
	failUpdate func(n int) (int, string) // the same for updates
	failSMS    func(n int) (int, string) // the same for SMS events
	voiceLimit func(update int) bool     // answer RG 20 of this update with QUOTA_LIMIT_REACHED
	finalUnit  func(update int) bool     // add a finalUnitIndication to the grants of this update

	mu         sync.Mutex
	sessions   map[string]*fakeSession
	chargingID map[uint32]bool
	creates    int
	updates    int
	releases   int
	sms        int
	statuses   map[string]map[int]int // kind → status → count
	voiceDeny  int
	finals     int
	violations []string
}

type fakeSession struct {
	supi     string
	lastISN  uint32
	released bool
	granted  map[uint32]uint64 // rating group → granted amount of the last answer
	lsn      map[uint32]uint64
}

func newFakeCHF(t *testing.T) *fakeCHF {
	return &fakeCHF{t: t, sessions: map[string]*fakeSession{}, chargingID: map[uint32]bool{},
		statuses: map[string]map[int]int{}}
}

var supiRE = regexp.MustCompile(`^imsi-00101[0-9]{10}$`)

func (f *fakeCHF) violate(format string, args ...any) {
	if len(f.violations) < 20 {
		f.violations = append(f.violations, fmt.Sprintf(format, args...))
	}
}

func (f *fakeCHF) count(kind string, status int) {
	m := f.statuses[kind]
	if m == nil {
		m = map[int]int{}
		f.statuses[kind] = m
	}
	m[status]++
}

func (f *fakeCHF) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.ProtoMajor != 2 {
		f.violate("%s %s over %s, want HTTP/2", r.Method, r.URL.Path, r.Proto)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.violate("Content-Type %q", ct)
	}
	var req nchf.ChargingDataRequest
	if err == nil {
		err = nchf.DecodeChargingDataRequest(body, &req)
	}
	if err != nil || r.Method != http.MethodPost {
		f.violate("%s %s: %v", r.Method, r.URL.Path, err)
		f.problem(w, "create", http.StatusBadRequest, nchf.CauseInvalidMsgFormat)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, chfPath)
	switch {
	case ok && rest == "" && req.OneTimeEvent:
		f.event(w, &req)
	case ok && rest == "":
		f.create(w, r, &req)
	case ok && strings.HasSuffix(rest, "/update"):
		f.onSession(w, strings.TrimSuffix(rest[1:], "/update"), &req, false)
	case ok && strings.HasSuffix(rest, "/release"):
		f.onSession(w, strings.TrimSuffix(rest[1:], "/release"), &req, true)
	default:
		f.violate("unexpected path %s", r.URL.Path)
		f.problem(w, "other", http.StatusNotFound, nchf.CauseResourceURIStructureNotFound)
	}
}

func (f *fakeCHF) problem(w http.ResponseWriter, kind string, status int, cause string) {
	f.count(kind, status)
	p := nchf.Problem(cause, "fake CHF")
	p.Status = status
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_, _ = w.Write(nchf.AppendProblemDetails(nil, &p))
}

func (f *fakeCHF) answer(w http.ResponseWriter, kind string, status int, resp *nchf.ChargingDataResponse) {
	f.count(kind, status)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(nchf.AppendChargingDataResponse(nil, resp))
}

func (f *fakeCHF) checkSMF(req *nchf.ChargingDataRequest, what string) {
	if req.NfConsumerIdentification.NodeFunctionality != nchf.NodeFunctionalitySmf || req.NfConsumerIdentification.NFName != chfSMFName {
		f.violate("%s: nfConsumerIdentification %+v", what, req.NfConsumerIdentification)
	}
	if !supiRE.MatchString(req.SubscriberIdentifier) {
		f.violate("%s: subscriberIdentifier %q", what, req.SubscriberIdentifier)
	}
	if time.Since(req.InvocationTimeStamp) > time.Minute || req.InvocationTimeStamp.After(time.Now().Add(time.Second)) {
		f.violate("%s: invocationTimeStamp %s is not now", what, req.InvocationTimeStamp)
	}
	p := req.PDUSessionChargingInformation
	if p == nil || p.PduSessionInformation == nil || p.PduSessionInformation.DnnId != "internet" ||
		p.PduSessionInformation.RatType != nchf.RatTypeNr || p.PduSessionInformation.NetworkSlicingInfo == nil ||
		p.PduSessionInformation.NetworkSlicingInfo.SNSSAI.Sst != 1 || p.PduSessionInformation.PduSessionID == 0 {
		f.violate("%s: pDUSessionChargingInformation %+v", what, p)
	}
}

// grant answers the requested units of req, remembering them in s.
func (f *fakeCHF) grant(s *fakeSession, req *nchf.ChargingDataRequest, update int) *nchf.ChargingDataResponse {
	resp := &nchf.ChargingDataResponse{InvocationTimeStamp: time.Now(), InvocationSequenceNumber: req.InvocationSequenceNumber}
	s.granted = map[uint32]uint64{}
	for _, mu := range req.MultipleUnitUsage {
		ru := mu.RequestedUnit
		if ru == nil {
			f.violate("RG %d without requestedUnit", mu.RatingGroup)
			continue
		}
		mi := nchf.MultipleUnitInformation{RatingGroup: mu.RatingGroup, ResultCode: nchf.ResultCodeSuccess, ValidityTime: 3600}
		switch mu.RatingGroup {
		case chfRGData:
			if ru.TotalVolume == 0 {
				f.violate("RG 10 requests no volume")
			}
			mi.GrantedUnit = &nchf.GrantedUnit{TotalVolume: ru.TotalVolume}
			s.granted[chfRGData] = ru.TotalVolume
		case chfRGVoice:
			if ru.Time == 0 {
				f.violate("RG 20 requests no time")
			}
			if update > 0 && f.voiceLimit != nil && f.voiceLimit(update) {
				mi = nchf.MultipleUnitInformation{RatingGroup: chfRGVoice, ResultCode: nchf.ResultCodeQuotaLimitReached}
				f.voiceDeny++
				break
			}
			mi.GrantedUnit = &nchf.GrantedUnit{Time: ru.Time}
			s.granted[chfRGVoice] = uint64(ru.Time)
		default:
			f.violate("unexpected rating group %d in a session", mu.RatingGroup)
		}
		if update > 0 && f.finalUnit != nil && f.finalUnit(update) && mi.GrantedUnit != nil {
			mi.FinalUnitIndication = &nchf.FinalUnitIndication{FinalUnitAction: nchf.FinalUnitActionTerminate}
			f.finals++
		}
		resp.MultipleUnitInformation = append(resp.MultipleUnitInformation, mi)
	}
	return resp
}

func (f *fakeCHF) create(w http.ResponseWriter, r *http.Request, req *nchf.ChargingDataRequest) {
	f.creates++
	f.checkSMF(req, "create")
	if req.InvocationSequenceNumber != 0 {
		f.violate("create with invocationSequenceNumber %d", req.InvocationSequenceNumber)
	}
	if p := req.PDUSessionChargingInformation; p != nil {
		if f.chargingID[p.ChargingId] {
			f.violate("chargingId %d used twice", p.ChargingId)
		}
		f.chargingID[p.ChargingId] = true
	}
	if len(req.MultipleUnitUsage) == 0 || req.MultipleUnitUsage[0].RatingGroup != chfRGData {
		f.violate("create without RG 10 first: %+v", req.MultipleUnitUsage)
	}
	for _, mu := range req.MultipleUnitUsage {
		if len(mu.UsedUnitContainer) > 0 {
			f.violate("create reports used units")
		}
	}
	if f.failCreate != nil {
		if st, cause := f.failCreate(f.creates); st != 0 {
			f.problem(w, "create", st, cause)
			return
		}
	}
	ref := "ref-" + strconv.Itoa(f.creates)
	s := &fakeSession{supi: req.SubscriberIdentifier, lsn: map[uint32]uint64{}}
	f.sessions[ref] = s
	resp := f.grant(s, req, 0)
	w.Header().Set("Location", "http://"+r.Host+chfPath+"/"+ref)
	f.answer(w, "create", http.StatusCreated, resp)
}

func (f *fakeCHF) onSession(w http.ResponseWriter, ref string, req *nchf.ChargingDataRequest, release bool) {
	kind := "update"
	if release {
		kind = "release"
		f.releases++
	} else {
		f.updates++
	}
	f.checkSMF(req, kind)
	s := f.sessions[ref]
	switch {
	case s == nil:
		f.violate("%s of unknown session %q", kind, ref)
		f.problem(w, kind, http.StatusNotFound, nchf.CauseContextNotFound)
		return
	case s.released:
		f.violate("%s of %s after its release", kind, ref)
	case req.InvocationSequenceNumber != s.lastISN+1:
		f.violate("%s of %s: invocationSequenceNumber %d after %d", kind, ref, req.InvocationSequenceNumber, s.lastISN)
	case req.SubscriberIdentifier != s.supi:
		f.violate("%s of %s: subscriber %s, created by %s", kind, ref, req.SubscriberIdentifier, s.supi)
	}
	s.lastISN = req.InvocationSequenceNumber
	for _, mu := range req.MultipleUnitUsage {
		g, ok := s.granted[mu.RatingGroup]
		if !ok {
			f.violate("%s of %s reports RG %d, which has no quota", kind, ref, mu.RatingGroup)
		}
		if len(mu.UsedUnitContainer) != 1 {
			f.violate("%s of %s: RG %d with %d used unit containers", kind, ref, mu.RatingGroup, len(mu.UsedUnitContainer))
			continue
		}
		u := mu.UsedUnitContainer[0]
		used := u.TotalVolume
		if mu.RatingGroup == chfRGVoice {
			used = uint64(u.Time)
		} else if u.UplinkVolume+u.DownlinkVolume != u.TotalVolume {
			f.violate("uplink %d + downlink %d != total %d", u.UplinkVolume, u.DownlinkVolume, u.TotalVolume)
		}
		if used > g {
			f.violate("%s of %s: RG %d used %d of %d granted", kind, ref, mu.RatingGroup, used, g)
		}
		if u.LocalSequenceNumber != s.lsn[mu.RatingGroup]+1 {
			f.violate("%s of %s: RG %d localSequenceNumber %d after %d", kind, ref, mu.RatingGroup, u.LocalSequenceNumber, s.lsn[mu.RatingGroup])
		}
		s.lsn[mu.RatingGroup] = u.LocalSequenceNumber
		if len(u.Triggers) != 1 || (release != (u.Triggers[0].TriggerType == nchf.TriggerTypeFinal)) {
			f.violate("%s of %s: triggers %+v", kind, ref, u.Triggers)
		}
		if release == (mu.RequestedUnit != nil) {
			f.violate("%s of %s: requestedUnit %+v", kind, ref, mu.RequestedUnit)
		}
	}
	if release {
		s.released = true
		f.count(kind, http.StatusNoContent)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if f.failUpdate != nil {
		if st, cause := f.failUpdate(f.updates); st != 0 {
			f.problem(w, kind, st, cause)
			return
		}
	}
	f.answer(w, kind, http.StatusOK, f.grant(s, req, f.updates))
}

func (f *fakeCHF) event(w http.ResponseWriter, req *nchf.ChargingDataRequest) {
	f.sms++
	nf := req.NfConsumerIdentification
	if nf.NodeFunctionality != nchf.NodeFunctionalitySmsf || nf.NFName != chfSMSFName || req.OneTimeEventType != nchf.OneTimeEventTypeIec ||
		req.InvocationSequenceNumber != 0 || !supiRE.MatchString(req.SubscriberIdentifier) {
		f.violate("sms: %+v", req)
	}
	if len(req.MultipleUnitUsage) != 1 || req.MultipleUnitUsage[0].RatingGroup != chfRGSMS ||
		len(req.MultipleUnitUsage[0].UsedUnitContainer) != 1 ||
		req.MultipleUnitUsage[0].UsedUnitContainer[0].ServiceSpecificUnits != 1 ||
		req.MultipleUnitUsage[0].UsedUnitContainer[0].LocalSequenceNumber != 1 {
		f.violate("sms: multipleUnitUsage %+v", req.MultipleUnitUsage)
	}
	si := req.SMSChargingInformation
	if si == nil || si.OriginatorInfo == nil || si.OriginatorInfo.OriginatorSUPI != req.SubscriberIdentifier || len(si.RecipientInfo) != 1 {
		f.violate("sms: sMSChargingInformation %+v", si)
	}
	if f.failSMS != nil {
		if st, cause := f.failSMS(f.sms); st != 0 {
			f.problem(w, "sms", st, cause)
			return
		}
	}
	f.answer(w, "sms", http.StatusCreated, &nchf.ChargingDataResponse{InvocationTimeStamp: time.Now(),
		MultipleUnitInformation: []nchf.MultipleUnitInformation{{RatingGroup: chfRGSMS, ResultCode: nchf.ResultCodeSuccess}}})
}

// openSessions counts sessions the fake created and never saw released.
func (f *fakeCHF) openSessions() int {
	n := 0
	for _, s := range f.sessions {
		if !s.released {
			n++
		}
	}
	return n
}

// startH2C serves h over HTTP/2 cleartext only (prior knowledge).
func startH2C(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	srv.Config.Protocols = &p
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// --- a fake admin API ---

type fakeAdmin struct {
	t          *testing.T
	mu         sync.Mutex
	plans      int
	accounts   map[string]bool
	subs       map[string]string // id → supi
	assigned   map[string]string // account → plan
	topups     map[string]string // key → account
	requests   int
	violations []string
	failAll    bool
}

func newFakeAdmin(t *testing.T) *fakeAdmin {
	return &fakeAdmin{t: t, accounts: map[string]bool{}, subs: map[string]string{}, assigned: map[string]string{},
		topups: map[string]string{}}
}

var accountPathRE = regexp.MustCompile(`^/api/v1/accounts/(bench-chf-[0-9]+)/(subscribers|plan-assignments|topups)$`)

func (a *fakeAdmin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == "/metrics" {
		http.NotFound(w, r) // no server CPU in the report
		return
	}
	body, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests++
	if a.failAll && r.URL.Path != "/api/v1/plans" {
		http.Error(w, `{"error":{"code":"internal","message":"fake failure"}}`, http.StatusInternalServerError)
		return
	}
	bad := func(format string, args ...any) {
		a.violations = append(a.violations, fmt.Sprintf(format, args...))
		http.Error(w, "bad", http.StatusBadRequest)
	}
	var in map[string]any
	if r.URL.Path != "/api/v1/plans" {
		if r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &in) != nil {
			bad("%s: not JSON: %s", r.URL.Path, body)
			return
		}
	}
	created := func(isNew bool, v any) {
		w.Header().Set("Content-Type", "application/json")
		if isNew {
			w.WriteHeader(http.StatusCreated)
		}
		_ = json.NewEncoder(w).Encode(v)
	}
	if r.URL.Path == "/api/v1/plans" {
		if r.Header.Get("Content-Type") != "application/yaml" {
			bad("plan Content-Type %q", r.Header.Get("Content-Type"))
			return
		}
		p, err := rating.ParsePlan(body)
		if err != nil || p.ID != CHFPlanID || p.Currency != "EUR" {
			bad("plan: %v", err)
			return
		}
		a.plans++
		created(a.plans == 1, map[string]any{"id": p.ID, "version": 1})
		return
	}
	if r.URL.Path == "/api/v1/accounts" {
		id, _ := in["id"].(string)
		if !strings.HasPrefix(id, chfAccountPrefix) || in["type"] != "prepaid" || in["currency"] != "EUR" || in["name"] == "" {
			bad("account %v", in)
			return
		}
		isNew := !a.accounts[id]
		a.accounts[id] = true
		created(isNew, in)
		return
	}
	m := accountPathRE.FindStringSubmatch(r.URL.Path)
	if m == nil || !a.accounts[m[1]] {
		http.Error(w, `{"error":{"code":"not_found","message":"no such account"}}`, http.StatusNotFound)
		return
	}
	acc := m[1]
	i, _ := strconv.Atoi(strings.TrimPrefix(acc, chfAccountPrefix))
	switch m[2] {
	case "subscribers":
		if in["supi"] != chfSUPI(i) || in["id"] != acc || in["msisdn"] != chfMSISDN(i) {
			bad("subscriber %v", in)
			return
		}
		_, exists := a.subs[acc]
		a.subs[acc] = chfSUPI(i)
		created(!exists, in)
	case "plan-assignments":
		if in["plan_id"] != CHFPlanID || in["valid_from"] != chfAssignFrom {
			bad("assignment %v", in)
			return
		}
		a.assigned[acc] = CHFPlanID
		created(true, in)
	case "topups":
		key, _ := in["key"].(string)
		if key == "" || in["amount"] != "1000.00" {
			bad("topup %v", in)
			return
		}
		_, replayed := a.topups[key]
		a.topups[key] = acc
		created(false, map[string]any{"kind": "topup", "account_id": acc, "replayed": replayed})
	}
}

// --- tests ---

func TestCHFConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(c *CHFConfig)
		want []string // every problem reported; nil = valid
	}{
		{"defaults", func(*CHFConfig) {}, nil},
		{"https and open loop", func(c *CHFConfig) { c.SBI, c.Rate, c.InsecureSkipVerify = "https://chf.example:443", 5000, true }, nil},
		{"no setup ignores its fields", func(c *CHFConfig) { c.Setup, c.API, c.TopUp, c.SetupConcurrency = false, "", "", 0 }, nil},
		{"everything wrong", func(c *CHFConfig) {
			*c = CHFConfig{SBI: "ftp://x", API: "http://", Setup: true, Subscribers: 0, TopUp: "-1", Duration: 0,
				Warmup: -1, Rate: -1, Concurrency: 0, Connections: 0, Updates: -1, VoiceShare: 2, SMSShare: -0.5,
				DataRequest: 0, VoiceRequest: 0, Timeout: 0}
		}, []string{`sbi: must be an http:// (h2c) or https:// URL; got "ftp://x"`, `api: has no host`,
			"subscribers: must be between 1 and", "topup: must be positive", "setup-concurrency: must be at least 1",
			"duration: must be positive", "warmup: must not be negative", "rate: must not be negative",
			"concurrency: must be at least 1", "connections: must be at least 1", "updates: must not be negative",
			"voice-share: must be between 0 and 1", "sms-share: must be between 0 and 1", "data-request: must be positive",
			"voice-request: must be positive", "timeout: must be positive"}},
		{"more connections than workers", func(c *CHFConfig) { c.Concurrency, c.Connections = 2, 3 },
			[]string{"connections: must not exceed concurrency (2)"}},
		{"bad top-up", func(c *CHFConfig) { c.TopUp = "ten" }, []string{"topup: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultCHFConfig()
			tt.mod(&c)
			err := c.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if n := len(strings.Split(err.Error(), "\n")); n != len(tt.want) {
				t.Errorf("%d problems, want %d:\n%v", n, len(tt.want), err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestChargingDataRef(t *testing.T) {
	for loc, want := range map[string]string{
		"http://127.0.0.1:8081/nchf-convergedcharging/v3/chargingdata/abc-1": "abc-1",
		"/nchf-convergedcharging/v3/chargingdata/x%2Fy":                      "x/y",
		"https://h/api/nchf-convergedcharging/v3/chargingdata/r1/":           "r1",
		"http://h/nchf-convergedcharging/v3/chargingdata":                    "",
		"http://h/elsewhere/r1":                                              "",
		"":                                                                   "",
	} {
		if got := chargingDataRef(loc); got != want {
			t.Errorf("chargingDataRef(%q) = %q, want %q", loc, got, want)
		}
	}
}

// chfTestConfig is a short closed-loop run against sbi without setup.
func chfTestConfig(sbi string) CHFConfig {
	c := DefaultCHFConfig()
	c.SBI, c.Setup = sbi, false
	c.Subscribers = 50
	c.Duration, c.Warmup = 300*time.Millisecond, 0
	c.Concurrency, c.Connections = 8, 2
	c.Updates = 3
	c.VoiceShare, c.SMSShare = 0.5, 0.2
	c.Timeout = 5 * time.Second
	return c
}

func TestCHFAgainstFake(t *testing.T) {
	f := newFakeCHF(t)
	f.voiceLimit = func(n int) bool { return n%5 == 0 }
	f.finalUnit = func(n int) bool { return n%7 == 0 }
	srv := startH2C(t, f)
	adm := newFakeAdmin(t)
	admSrv := httptest.NewServer(adm)
	t.Cleanup(admSrv.Close)

	cfg := chfTestConfig(srv.URL)
	cfg.Setup, cfg.API, cfg.SetupConcurrency = true, admSrv.URL, 4
	var progress bytes.Buffer
	cfg.Progress, cfg.ProgressEvery = &progress, 50*time.Millisecond
	rep, err := RunCHF(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, v := range f.violations {
		t.Error("fake CHF: " + v)
	}
	l := rep.Load
	t.Logf("%d requests: %d creates, %d updates, %d releases (%d after), %d sms; %.0f/s; connections opened %d",
		l.Requests, l.Create.Requests, l.Update.Requests, l.Release.Requests, l.Sessions.ReleasedAfter,
		l.SMS.Requests, l.RequestsPerSec, l.ConnectionsOpened)

	// The report counts exactly what the fake saw (no warmup: every
	// request is measured but the releases after the run).
	if l.Create.Requests != uint64(f.creates) || l.Update.Requests != uint64(f.updates) ||
		l.Release.Requests+l.Sessions.ReleasedAfter != uint64(f.releases) || l.SMS.Requests != uint64(f.sms) {
		t.Errorf("report: %d creates %d updates %d+%d releases %d sms; fake saw %d %d %d %d",
			l.Create.Requests, l.Update.Requests, l.Release.Requests, l.Sessions.ReleasedAfter, l.SMS.Requests,
			f.creates, f.updates, f.releases, f.sms)
	}
	if l.Requests != l.Create.Requests+l.Update.Requests+l.Release.Requests+l.SMS.Requests || l.All.Latency.Count != l.Requests {
		t.Errorf("all = %d (latency n=%d), not the sum of the kinds", l.Requests, l.All.Latency.Count)
	}
	for kind, k := range map[string]CHFKindReport{"create": l.Create, "update": l.Update, "release": l.Release, "sms": l.SMS} {
		want := map[string]uint64{}
		for st, n := range f.statuses[kind] {
			want[strconv.Itoa(st)] = uint64(n)
		}
		if kind == "release" {
			want["204"] -= l.Sessions.ReleasedAfter
		}
		if fmt.Sprint(k.Status) != fmt.Sprint(want) {
			t.Errorf("%s statuses %v, fake answered %v", kind, k.Status, want)
		}
		if k.Errors != 0 || k.Requests == 0 {
			t.Errorf("%s: %d requests, %d errors (%s)", kind, k.Requests, k.Errors, k.FirstError)
		}
	}
	if f.openSessions() != 0 {
		t.Errorf("%d sessions left open", f.openSessions())
	}
	s := l.Sessions
	if s.Created != uint64(f.creates) || s.Abandoned != 0 || s.Completed != l.Release.Requests || s.CutShort != 0 || s.Lost != 0 {
		t.Errorf("sessions %+v", s)
	}
	if got := l.Update.ResultCodes["20"]["QUOTA_LIMIT_REACHED"]; got != uint64(f.voiceDeny) || got == 0 {
		t.Errorf("RG 20 QUOTA_LIMIT_REACHED counted %d, fake answered %d", got, f.voiceDeny)
	}
	if got := l.Update.FinalUnitIndications; got != uint64(f.finals) || got == 0 {
		t.Errorf("finalUnitIndications counted %d, fake sent %d", got, f.finals)
	}
	if l.Create.ResultCodes["10"]["SUCCESS"] != l.Create.Requests || l.SMS.ResultCodes["30"]["SUCCESS"] != l.SMS.Requests {
		t.Errorf("result codes: create %v sms %v", l.Create.ResultCodes, l.SMS.ResultCodes)
	}
	if share := float64(l.SMS.Requests) / float64(l.Requests); share < 0.1 || share > 0.3 {
		t.Errorf("sms share %.2f, want about 0.2", share)
	}
	if l.ConnectionsOpened != int64(cfg.Connections) || l.Protocol != "h2c (prior knowledge)" {
		t.Errorf("%d connections opened over %s", l.ConnectionsOpened, l.Protocol)
	}

	// The setup provisioned every subscriber once.
	adm.mu.Lock()
	defer adm.mu.Unlock()
	for _, v := range adm.violations {
		t.Error("fake admin: " + v)
	}
	st := rep.Setup
	if st == nil || st.Plan != "created" || st.Account.Created != 50 || st.Subscriber.Created != 50 ||
		st.Assignment.Created != 50 || st.TopUp.Created != 50 || st.Requests != 201 || len(adm.topups) != 50 {
		t.Errorf("setup %+v; fake saw %d top-up keys", st, len(adm.topups))
	}
	if !strings.Contains(progress.String(), "bench: setup:") || !strings.Contains(progress.String(), "bench: load:") {
		t.Errorf("progress:\n%s", progress.String())
	}

	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"tollgate bench chf", "closed loop", "create ", "status 201=", "RG 20 QUOTA_LIMIT_REACHED=",
		"account     50 created", "finalUnitIndication="} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Fatal(err)
	}
}

func TestCHFSetupIdempotent(t *testing.T) {
	f := newFakeCHF(t)
	srv := startH2C(t, f)
	adm := newFakeAdmin(t)
	admSrv := httptest.NewServer(adm)
	t.Cleanup(admSrv.Close)
	cfg := chfTestConfig(srv.URL)
	cfg.Setup, cfg.API, cfg.Subscribers = true, admSrv.URL, 20
	cfg.Duration = 50 * time.Millisecond
	for run, check := range []func(s *CHFSetupReport) bool{
		func(s *CHFSetupReport) bool {
			return s.Plan == "created" && s.Account.Created == 20 && s.TopUp.Created == 20
		},
		func(s *CHFSetupReport) bool {
			return s.Plan == "unchanged" && s.Account.Existed == 20 && s.Subscriber.Existed == 20 && s.TopUp.Existed == 20
		},
	} {
		rep, err := RunCHF(context.Background(), cfg)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if !check(rep.Setup) {
			t.Errorf("run %d: setup %+v", run, rep.Setup)
		}
	}
	cfg.TopUpAgain = true
	rep, err := RunCHF(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	adm.mu.Lock()
	keys := len(adm.topups)
	adm.failAll = true // from now on
	adm.mu.Unlock()
	if rep.Setup.TopUp.Created != 20 || keys != 40 {
		t.Errorf("top-up again: %+v; %d keys", rep.Setup.TopUp, keys)
	}

	// A failing admin API fails the setup, with the first error, and the
	// load does not start.
	rep, err = RunCHF(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "HTTP 500") || rep == nil || rep.Setup == nil ||
		rep.Setup.Account.Failed != 20 || rep.Setup.Subscriber != (CHFSetupStep{}) || rep.Load.Requests != 0 {
		t.Errorf("setup against a failing API: %v; %+v", err, rep.Setup)
	}
}

func TestCHFErrors(t *testing.T) {
	f := newFakeCHF(t)
	f.failCreate = func(n int) (int, string) {
		if n%2 == 0 {
			return http.StatusInternalServerError, nchf.CauseSystemFailure
		}
		return 0, ""
	}
	f.failUpdate = func(n int) (int, string) {
		if n%3 == 0 {
			return http.StatusForbidden, nchf.CauseQuotaLimitReached
		}
		return 0, ""
	}
	f.failSMS = func(int) (int, string) { return http.StatusNotFound, nchf.CauseUserUnknown }
	srv := startH2C(t, f)
	rep, err := RunCHF(context.Background(), chfTestConfig(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, v := range f.violations {
		t.Error("fake CHF: " + v)
	}
	l := rep.Load
	c, u, sms := l.Create, l.Update, l.SMS
	if c.Causes[nchf.CauseSystemFailure] != c.Status["500"] || c.Errors != c.Status["500"] || c.Errors == 0 ||
		c.Status["201"]+c.Status["500"] != c.Requests {
		t.Errorf("create: %+v", c)
	}
	if l.Sessions.Abandoned != c.Errors || l.Sessions.Created != c.Status["201"] {
		t.Errorf("sessions %+v, create errors %d", l.Sessions, c.Errors)
	}
	if u.Causes[nchf.CauseQuotaLimitReached] != u.Errors || u.Status["403"] != u.Errors || u.Errors == 0 ||
		l.Sessions.CutShort != u.Errors {
		t.Errorf("update: %+v; sessions %+v", u, l.Sessions)
	}
	if sms.Causes[nchf.CauseUserUnknown] != sms.Requests || sms.Errors != sms.Requests || sms.Requests == 0 {
		t.Errorf("sms: %+v", sms)
	}
	if l.Errors != c.Errors+u.Errors+sms.Errors || l.All.Causes[nchf.CauseSystemFailure] != c.Errors {
		t.Errorf("all: %d errors, causes %v", l.Errors, l.All.Causes)
	}
	if !strings.HasPrefix(c.FirstError, "HTTP 500: ") || !strings.Contains(c.FirstError, nchf.CauseSystemFailure) {
		t.Errorf("first error %q", c.FirstError)
	}
	if f.openSessions() != 0 {
		t.Errorf("%d sessions left open (a failed update must lead to a release)", f.openSessions())
	}
	var text bytes.Buffer
	_ = rep.WriteText(&text)
	for _, want := range []string{"causes SYSTEM_FAILURE=", "causes QUOTA_LIMIT_REACHED=", "causes USER_UNKNOWN=", "status 201=", "500="} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
}

func TestCHFNoServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := chfTestConfig("http://" + addr)
	cfg.Duration, cfg.SMSShare = 100*time.Millisecond, 0
	rep, err := RunCHF(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "every request failed; first: ") || !strings.Contains(err.Error(), "refused") {
		t.Errorf("error %v", err)
	}
	c := rep.Load.Create
	if c.Requests == 0 || c.Failures["connection_refused"] != c.Requests || c.Errors != c.Requests ||
		rep.Load.Sessions.Abandoned != c.Requests || rep.Load.Update.Requests != 0 {
		t.Errorf("create against nothing: %+v", c)
	}
}

func TestCHFOpenLoopAndTLS(t *testing.T) {
	f := newFakeCHF(t)
	srv := httptest.NewUnstartedServer(f)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	cfg := chfTestConfig(srv.URL)
	cfg.InsecureSkipVerify = true
	cfg.Rate, cfg.Duration, cfg.Warmup = 400, 400*time.Millisecond, 100*time.Millisecond
	rep, err := RunCHF(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, v := range f.violations {
		t.Error("fake CHF: " + v)
	}
	l := rep.Load
	// 400/s for 0.5 s is 200 requests, 40 of them in the warmup; all but
	// the missed ones are sent, and those due in the window are measured.
	sent := uint64(f.creates + f.updates + f.releases + f.sms)
	if l.Mode != "open" || l.Errors != 0 || l.Protocol != "h2 over TLS" ||
		int64(sent-l.Sessions.ReleasedAfter)+l.Missed != 200 || l.Requests < 150 || l.Requests > 162 {
		t.Errorf("open loop: mode %s, %d measured, %d sent (%d releases after), %d missed, %d errors (%s)",
			l.Mode, l.Requests, sent, l.Sessions.ReleasedAfter, l.Missed, l.Errors, l.All.FirstError)
	}
}

func TestCHFReconnects(t *testing.T) {
	f := newFakeCHF(t)
	srv := startH2C(t, f)
	cfg := chfTestConfig(srv.URL)
	cfg.Duration = 600 * time.Millisecond
	go func() {
		// Break the connections twice during the load: the workers dial
		// again.
		for range 2 {
			time.Sleep(200 * time.Millisecond)
			srv.CloseClientConnections()
		}
	}()
	rep, err := RunCHF(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	l := rep.Load
	if l.ConnectionsOpened <= int64(cfg.Connections) {
		t.Errorf("%d connections opened for %d: no reconnection", l.ConnectionsOpened, cfg.Connections)
	}
	for label, n := range l.All.Failures {
		if label != "connection_lost" {
			t.Errorf("%d failures %s (%s)", n, label, l.All.FirstError)
		}
	}
	if l.Requests < 100 || l.Errors > l.Requests/4 {
		t.Errorf("%d requests, %d errors", l.Requests, l.Errors)
	}
}

func TestCHFTimeouts(t *testing.T) {
	f := newFakeCHF(t)
	var n atomic.Int64
	srv := startH2C(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%10 == 0 { // every tenth request outlives the timeout
			select {
			case <-time.After(400 * time.Millisecond):
			case <-r.Context().Done():
			}
		}
		f.ServeHTTP(w, r)
	}))
	cfg := chfTestConfig(srv.URL)
	cfg.Timeout, cfg.Duration = 100*time.Millisecond, 500*time.Millisecond
	rep, err := RunCHF(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	l := rep.Load
	timeouts := l.All.Failures["timeout"]
	if timeouts == 0 || timeouts != l.All.Errors || len(l.All.Failures) != 1 || !strings.Contains(l.All.FirstError, "no answer within 100ms") {
		t.Errorf("failures %v of %d errors (%s)", l.All.Failures, l.All.Errors, l.All.FirstError)
	}
	if ok := l.All.Requests - l.All.Errors; ok < 5*timeouts {
		t.Errorf("%d answered, %d timed out: requests after a timeout fail too?", ok, timeouts)
	}
}

func TestProcessCPU(t *testing.T) {
	for in, want := range map[string]float64{
		"# HELP process_cpu_seconds_total x\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 28.97\n": 28.97,
		"go_gc_duration_seconds_count 8\nprocess_cpu_seconds_total 1e+01\nprocess_open_fds 12\n":                          10,
		"process_cpu_seconds_total_other 3\n": -1,
		"process_cpu_seconds_total x\n":       -1,
		"":                                    -1,
	} {
		got, ok := processCPU(bufio.NewScanner(strings.NewReader(in)))
		if (want < 0) != !ok || (ok && got != want) {
			t.Errorf("processCPU(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
}

// TestCHFServerCPU: with a /metrics beside the admin API, the report has
// the server's CPU in the window, from the counter's growth.
func TestCHFServerCPU(t *testing.T) {
	f := newFakeCHF(t)
	srv := startH2C(t, f)
	var reads atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		n := reads.Add(1) // 10 s of CPU per read: the window is one step
		fmt.Fprintf(w, "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %d\n", 100+10*n)
	})
	adm := httptest.NewServer(mux)
	t.Cleanup(adm.Close)
	cfg := chfTestConfig(srv.URL)
	cfg.API, cfg.Warmup, cfg.Duration = adm.URL, 100*time.Millisecond, 500*time.Millisecond
	rep, err := RunCHF(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Load.ServerCPU
	if c == nil || c.Seconds != 10 || reads.Load() != 2 {
		t.Fatalf("server CPU %+v after %d reads", c, reads.Load())
	}
	if want := 10e6 / float64(rep.Load.Requests); c.MicrosPerRequest < want*0.99 || c.MicrosPerRequest > want*1.01 || c.Cores < 15 || c.Cores > 25 {
		t.Fatalf("server CPU %+v for %d requests in %.3fs", c, rep.Load.Requests, rep.Load.Seconds)
	}
	var b bytes.Buffer
	if err := rep.WriteText(&b); err != nil || !strings.Contains(b.String(), "server CPU") {
		t.Fatalf("text report lacks the server CPU: %v\n%s", err, b.String())
	}
}
