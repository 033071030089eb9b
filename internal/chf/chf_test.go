package chf_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/internal/account"
	"github.com/tollgate-billing/tollgate/internal/balance"
	"github.com/tollgate-billing/tollgate/internal/balance/journal"
	"github.com/tollgate-billing/tollgate/internal/cdr"
	"github.com/tollgate-billing/tollgate/internal/chf"
	"github.com/tollgate-billing/tollgate/internal/clusterstate"
	"github.com/tollgate-billing/tollgate/internal/config"
	"github.com/tollgate-billing/tollgate/internal/money"
	"github.com/tollgate-billing/tollgate/internal/nchf"
	"github.com/tollgate-billing/tollgate/internal/nchf/nchftest"
	"github.com/tollgate-billing/tollgate/internal/rating"
	"github.com/tollgate-billing/tollgate/internal/store"
)

// The plan of the tests: data 1.00 EUR per MiB (1 KiB steps), voice 0.06
// per minute (per second after the first), SMS 0.10 each.
const testPlan = `
id: chf-test
name: CHF test
currency: EUR
timezone: UTC
rounding: {scale: 4, mode: half_up}
bands:
  - {id: all, default: true}
rates:
  - {id: data, service: data, increments: {first: 1KiB, next: 1KiB}, price: "1.00", per: 1MiB}
  - {id: voice, service: voice, increments: {first: 60, next: 1}, price: "0.06", per: 60}
  - {id: sms, service: sms, price: "0.10"}
`

// allowancePlan gives 2 free SMS and 1 MiB of free data a month.
const allowancePlan = `
id: chf-allow
name: CHF allowances
currency: EUR
timezone: UTC
rounding: {scale: 4, mode: half_up}
bands:
  - {id: all, default: true}
rates:
  - {id: data, service: data, increments: {first: 1KiB, next: 1KiB}, price: "1.00", per: 1MiB}
  - {id: sms, service: sms, price: "0.10"}
discounts:
  - {id: free-sms, type: allowance, service: sms, units: 2, period: month}
  - {id: free-data, type: allowance, service: data, units: 1MiB, period: month}
`

// bandsPlan prices data 2.00 per MiB from 08:00 to 20:00 UTC, 1.00 otherwise.
const bandsPlan = `
id: chf-bands
name: CHF bands
currency: EUR
timezone: UTC
rounding: {scale: 4, mode: half_up}
bands:
  - {id: day, from: "08:00", to: "20:00"}
  - {id: night, default: true}
rates:
  - {id: data-day, service: data, band: day, price: "2.00", per: 1MiB}
  - {id: data-night, service: data, band: night, price: "1.00", per: 1MiB}
`

type env struct {
	t       *testing.T
	st      *store.Store
	eng     *balance.Engine
	conn    *clusterstate.Conn
	rat     *rating.Engine
	svc     *chf.Service
	cdrDir  string
	writer  *cdr.Writer
	base    string
	client  *http.Client
	http1   bool // post over HTTP/1.1 (the SBI's fallback) instead of h2c
	stopSrv func()
	now     time.Time
	skew    atomic.Int64 // added to the CHF's clock (ns)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, cdrDir: filepath.Join(t.TempDir(), "cdr"), now: time.Now().UTC().Truncate(time.Millisecond)}
	var err error
	e.st, err = store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "t.db"), Migrate: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.st.Close() })
	e.conn, err = clusterstate.Open(ctx, config.Default().NATS, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.conn.Close(context.Background()) })
	j, err := journal.Open(ctx, e.conn.JS(), journal.Config{})
	if err != nil {
		t.Fatal(err)
	}
	e.eng, err = balance.NewEngine(balance.EngineConfig{Partitions: 4, NodeID: "chf-test", Journal: j})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.eng.Stop(context.Background()) })
	e.rat = rating.NewEngine()
	var plans []*rating.Plan
	for _, src := range []string{testPlan, allowancePlan, bandsPlan} {
		p, err := rating.ParsePlan([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		plans = append(plans, p)
		doc, _ := json.Marshal(p)
		if _, _, err := e.st.PutPlan(ctx, store.PlanRecord{ID: p.ID, Name: p.Name, Currency: "EUR", Document: doc, Source: "api"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.rat.Load(plans); err != nil {
		t.Fatal(err)
	}
	e.start()
	return e
}

// start builds the service (again, after stop: a restarted node).
func (e *env) start() {
	t := e.t
	ctx := context.Background()
	kv := chf.EngineStore{States: e.eng.States}
	var err error
	e.writer, err = cdr.NewWriter(cdr.Config{Dir: e.cdrDir})
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithCancel(context.Background())
	wdone := make(chan struct{})
	go func() { defer close(wdone); _ = e.writer.Run(wctx) }()
	e.svc, err = chf.New(chf.Config{NodeID: "chf-test", CHF: config.Default().CHF,
		Balances:  balance.Mirror{Engine: e.eng, Account: e.st.GetAccount},
		Rater:     e.rat,
		Directory: &chf.StoreDirectory{Data: e.st, TTL: time.Minute},
		Sessions:  kv, Records: e.writer,
		Now: func() time.Time { return time.Now().Add(time.Duration(e.skew.Load())) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var protos http.Protocols
	protos.SetUnencryptedHTTP2(true)
	srv := e.svc.NewServer(nil)
	go func() { _ = srv.Serve(ln) }()
	e.base = "http://" + ln.Addr().String()
	tr := &http.Transport{Protocols: &protos}
	e.client = &http.Client{Transport: tr, Timeout: 10 * time.Second}
	stopped := false
	e.stopSrv = func() {
		if stopped {
			return
		}
		stopped = true
		_ = srv.Close()
		tr.CloseIdleConnections()
		wcancel()
		<-wdone
	}
	t.Cleanup(e.stopSrv)
}

// subscriber creates an account with a subscriber and the plan, topped up.
func (e *env) subscriber(id, imsi, topup string, typ account.Type) string {
	return e.subscriberOn(id, imsi, topup, typ, "chf-test")
}

func (e *env) subscriberOn(id, imsi, topup string, typ account.Type, plan string) string {
	t := e.t
	ctx := context.Background()
	cur, _ := money.LookupCurrency("EUR")
	if _, _, err := e.st.CreateAccount(ctx, account.Account{ID: id, Name: id, Type: typ, Currency: cur}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.st.CreateSubscriber(ctx, account.Subscriber{AccountID: id, IMSI: imsi, MSISDN: "49170" + imsi[len(imsi)-7:]}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.AssignPlan(ctx, id, plan, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if topup != "" {
		op := balance.Op{Kind: balance.KindTopUp, Key: "topup:" + id, Account: id, Amount: money.MustParse(topup)}
		if _, err := (balance.Mirror{Engine: e.eng, Account: e.st.GetAccount}).Do(ctx, &op); err != nil {
			t.Fatal(err)
		}
	}
	return "imsi-" + imsi
}

type reply struct {
	status   int
	location string
	body     []byte
	resp     nchf.ChargingDataResponse
	problem  nchf.ProblemDetails
}

func (e *env) post(path string, req *nchf.ChargingDataRequest) reply {
	e.t.Helper()
	return e.postRaw(path, nchf.AppendChargingDataRequest(nil, req))
}

func (e *env) postRaw(path string, body []byte) reply {
	e.t.Helper()
	hr, err := http.NewRequest("POST", e.base+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	hr.Header.Set("Content-Type", "application/json")
	client, proto := e.client, 2
	if e.http1 {
		client, proto = &http.Client{Timeout: 10 * time.Second}, 1
	}
	res, err := client.Do(hr)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.ProtoMajor != proto {
		e.t.Fatalf("answered over %s, want HTTP/%d", res.Proto, proto)
	}
	r := reply{status: res.StatusCode, location: res.Header.Get("Location")}
	r.body, _ = io.ReadAll(res.Body)
	ct := res.Header.Get("Content-Type")
	switch {
	case len(r.body) == 0:
	case ct == "application/problem+json":
		if err := nchftest.Validate(nchftest.ProblemDetails, r.body); err != nil {
			e.t.Errorf("problem does not match the 3GPP schema: %v\n%s", err, r.body)
		}
		if err := nchf.DecodeProblemDetails(r.body, &r.problem); err != nil {
			e.t.Fatalf("problem: %v\n%s", err, r.body)
		}
	default:
		if err := nchftest.Validate(nchftest.ChargingDataResponse, r.body); err != nil {
			e.t.Errorf("response does not match the 3GPP schema: %v\n%s", err, r.body)
		}
		if err := nchf.DecodeChargingDataResponse(r.body, &r.resp); err != nil {
			e.t.Fatalf("response: %v\n%s", err, r.body)
		}
	}
	return r
}

func (e *env) balance(id string) balance.AccountView {
	e.t.Helper()
	v, err := e.eng.Account(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

// records reads every CHF-CDR written (after the writer was stopped).
func (e *env) records() []cdr.Record {
	e.t.Helper()
	e.stopSrv()
	files, _ := filepath.Glob(filepath.Join(e.cdrDir, "*.jsonl"))
	var out []cdr.Record
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			e.t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			var r cdr.Record
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				e.t.Fatalf("%s: %v", f, err)
			}
			out = append(out, r)
		}
		fh.Close()
	}
	return out
}

const mib = 1 << 20

func smfRequest(supi string, isn uint32, at time.Time, mus ...nchf.MultipleUnitUsage) *nchf.ChargingDataRequest {
	return &nchf.ChargingDataRequest{
		SubscriberIdentifier: supi,
		NfConsumerIdentification: nchf.NFIdentification{NFName: "8f2b1c3e-0000-4000-8000-000000000001",
			NodeFunctionality: nchf.NodeFunctionalitySmf},
		InvocationTimeStamp: at, InvocationSequenceNumber: isn,
		NotifyUri:         "http://127.0.0.1:1/notify",
		MultipleUnitUsage: mus,
		PDUSessionChargingInformation: &nchf.PDUSessionChargingInformation{ChargingId: 4711,
			PduSessionInformation: &nchf.PDUSessionInformation{PduSessionID: 5, DnnId: "internet", RatType: "NR",
				NetworkSlicingInfo: &nchf.NetworkSlicingInfo{SNSSAI: nchf.Snssai{Sst: 1}}}},
	}
}

func usedVolume(rg uint32, ul, dl uint64, lsn uint64, request uint64) nchf.MultipleUnitUsage {
	mu := nchf.MultipleUnitUsage{RatingGroup: rg, UsedUnitContainer: []nchf.UsedUnitContainer{{
		UplinkVolume: ul, DownlinkVolume: dl, TotalVolume: ul + dl, LocalSequenceNumber: lsn,
		Triggers: []nchf.Trigger{{TriggerType: nchf.TriggerTypeVolumeLimit, TriggerCategory: nchf.TriggerCategoryImmediateReport}},
	}}}
	if request > 0 {
		mu.RequestedUnit = &nchf.RequestedUnit{TotalVolume: request}
	}
	return mu
}

func refOf(t *testing.T, location string) string {
	t.Helper()
	i := strings.LastIndex(location, "/chargingdata/")
	if i < 0 || !strings.HasPrefix(location, "http://") {
		t.Fatalf("Location %q", location)
	}
	return location[i+len("/chargingdata/"):]
}

// TestDataSession runs a data session end to end over HTTP/2: create with
// a quota request, two updates reporting usage, a retransmission, release;
// the balance, the ledger holds, the answers (checked against the 3GPP
// schemas) and the CHF-CDR must all agree.
func TestDataSession(t *testing.T) {
	e := newEnv(t)
	supi := e.subscriber("acc-1", "001010000000001", "100.00", account.Prepaid)
	at := e.now

	// Create: 10 MiB asked → 10 MiB granted, 10.00 EUR held.
	r := e.post("/nchf-convergedcharging/v3/chargingdata", smfRequest(supi, 0, at,
		nchf.MultipleUnitUsage{RatingGroup: 10, RequestedUnit: &nchf.RequestedUnit{TotalVolume: 10 * mib}}))
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	ref := refOf(t, r.location)
	mui := r.resp.MultipleUnitInformation
	if len(mui) != 1 || mui[0].ResultCode != nchf.ResultCodeSuccess || mui[0].GrantedUnit == nil ||
		mui[0].GrantedUnit.TotalVolume != 10*mib || mui[0].ValidityTime != 3600 || mui[0].VolumeQuotaThreshold != 2*mib {
		t.Fatalf("create grant: %s", r.body)
	}
	if v := e.balance("acc-1"); v.Balance.String() != "100.00" || v.Held.String() != "10.0000" {
		t.Fatalf("after create: balance %s held %s", v.Balance, v.Held)
	}
	// The create again (its answer was lost): the same session and answer,
	// nothing held twice.
	createBody, createLoc := r.body, r.location
	create := smfRequest(supi, 0, at, nchf.MultipleUnitUsage{RatingGroup: 10, RequestedUnit: &nchf.RequestedUnit{TotalVolume: 10 * mib}})
	create.RetransmissionIndicator = true
	if r = e.post("/nchf-convergedcharging/v3/chargingdata", create); r.status != 201 || r.location != createLoc || !bytes.Equal(r.body, createBody) {
		t.Fatalf("retransmitted create: %d %s %s\nfirst %s %s", r.status, r.location, r.body, createLoc, createBody)
	}
	if v := e.balance("acc-1"); v.Held.String() != "10.0000" {
		t.Fatalf("after retransmitted create: held %s", v.Held)
	}

	// Update: 3 MiB used (1 up, 2 down), 5 MiB asked.
	upd := smfRequest(supi, 1, at.Add(time.Minute), usedVolume(10, mib, 2*mib, 1, 5*mib))
	r = e.post("/nchf-convergedcharging/v3/chargingdata/"+ref+"/update", upd)
	if r.status != 200 || len(r.resp.MultipleUnitInformation) != 1 || r.resp.MultipleUnitInformation[0].GrantedUnit.TotalVolume != 5*mib {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	first := r.body
	if v := e.balance("acc-1"); v.Balance.String() != "97.0000" || v.Held.String() != "5.0000" {
		t.Fatalf("after update: balance %s held %s", v.Balance, v.Held)
	}
	// The same update again (a retransmission): same answer, nothing charged.
	upd.RetransmissionIndicator = true
	r = e.post("/nchf-convergedcharging/v3/chargingdata/"+ref+"/update", upd)
	if r.status != 200 || !bytes.Equal(r.body, first) {
		t.Fatalf("retransmission: %d %s\nfirst %s", r.status, r.body, first)
	}
	if v := e.balance("acc-1"); v.Balance.String() != "97.0000" || v.Held.String() != "5.0000" {
		t.Fatalf("after retransmission: balance %s held %s", v.Balance, v.Held)
	}
	// An older sequence number is refused.
	if r = e.post("/nchf-convergedcharging/v3/chargingdata/"+ref+"/update", smfRequest(supi, 0, at)); r.status != 400 {
		t.Fatalf("old ISN: %d %s", r.status, r.body)
	}
	// A stale duplicate of the create, after the update: the same session,
	// a minimal answer (valid, no grant), nothing charged.
	if r = e.post("/nchf-convergedcharging/v3/chargingdata", create); r.status != 201 || r.location != createLoc ||
		len(r.resp.MultipleUnitInformation) != 0 || r.resp.InvocationSequenceNumber != 0 {
		t.Fatalf("stale create: %d %s %s", r.status, r.location, r.body)
	}
	if v := e.balance("acc-1"); v.Balance.String() != "97.0000" || v.Held.String() != "5.0000" {
		t.Fatalf("after stale create: balance %s held %s", v.Balance, v.Held)
	}

	// Release: 512 KiB more used.
	r = e.post("/nchf-convergedcharging/v3/chargingdata/"+ref+"/release",
		smfRequest(supi, 2, at.Add(2*time.Minute), usedVolume(10, 0, mib/2, 2, 0)))
	if r.status != 204 || len(r.body) != 0 {
		t.Fatalf("release: %d %s", r.status, r.body)
	}
	if v := e.balance("acc-1"); v.Balance.String() != "96.5000" || !v.Held.IsZero() || len(v.Reservations) != 0 {
		t.Fatalf("after release: balance %s held %s reservations %d", v.Balance, v.Held, len(v.Reservations))
	}
	// Further updates find no session; a retransmitted release gets 204.
	if r = e.post("/nchf-convergedcharging/v3/chargingdata/"+ref+"/update", smfRequest(supi, 3, at)); r.status != 404 ||
		r.problem.Cause != nchf.CauseContextNotFound {
		t.Fatalf("update after release: %d %s", r.status, r.body)
	}
	if r = e.post("/nchf-convergedcharging/v3/chargingdata/"+ref+"/release",
		smfRequest(supi, 2, at.Add(2*time.Minute), usedVolume(10, 0, mib/2, 2, 0))); r.status != 204 {
		t.Fatalf("retransmitted release: %d %s", r.status, r.body)
	}
	if v := e.balance("acc-1"); v.Balance.String() != "96.5000" {
		t.Fatalf("after retransmitted release: balance %s", v.Balance)
	}

	recs := e.records()
	if len(recs) != 1 {
		t.Fatalf("records: %+v", recs)
	}
	c := recs[0]
	if c.RecordType != "CHF_FINAL" || c.ChargingDataRef != ref || c.SubscriberIdentifier != supi || c.AccountID != "acc-1" ||
		c.CauseForRecordClosing != "normalRelease" || c.ChargingID != 4711 || c.DNN != "internet" || len(c.Usage) != 1 {
		t.Fatalf("record: %+v", c)
	}
	u := c.Usage[0]
	if u.RatingGroup != 10 || u.TotalVolume != 3*mib+mib/2 || u.UplinkVolume != mib || u.DownlinkVolume != 2*mib+mib/2 ||
		u.Amount != "3.5000" || u.Currency != "EUR" || len(u.LocalSequenceNumbers) != 2 {
		t.Fatalf("record usage: %+v", u)
	}
}

// TestQuotaRunsOut: a prepaid balance that covers only part of the asked
// quota gets a smaller grant with finalUnitIndication TERMINATE, then
// QUOTA_LIMIT_REACHED; a create with nothing left is refused.
func TestQuotaRunsOut(t *testing.T) {
	e := newEnv(t)
	supi := e.subscriber("poor", "001010000000002", "2.50", account.Prepaid)
	r := e.post("/nchf-convergedcharging/v3/chargingdata", smfRequest(supi, 0, e.now,
		nchf.MultipleUnitUsage{RatingGroup: 10, RequestedUnit: &nchf.RequestedUnit{TotalVolume: 10 * mib}}))
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	mi := r.resp.MultipleUnitInformation[0]
	if mi.ResultCode != nchf.ResultCodeSuccess || mi.GrantedUnit.TotalVolume != 2*mib+mib/2 ||
		mi.FinalUnitIndication == nil || mi.FinalUnitIndication.FinalUnitAction != nchf.FinalUnitActionTerminate {
		t.Fatalf("partial grant: %s", r.body)
	}
	ref := refOf(t, r.location)
	// All of it used, more asked: nothing left.
	r = e.post("/nchf-convergedcharging/v3/chargingdata/"+ref+"/update",
		smfRequest(supi, 1, e.now, usedVolume(10, 0, 2*mib+mib/2, 1, 10*mib)))
	if r.status != 200 || r.resp.MultipleUnitInformation[0].ResultCode != nchf.ResultCodeQuotaLimitReached ||
		r.resp.MultipleUnitInformation[0].GrantedUnit != nil {
		t.Fatalf("exhausted: %d %s", r.status, r.body)
	}
	if v := e.balance("poor"); !v.Balance.IsZero() || !v.Held.IsZero() {
		t.Fatalf("balance %s held %s", v.Balance, v.Held)
	}
	// A new session with nothing left is refused.
	r = e.post("/nchf-convergedcharging/v3/chargingdata", smfRequest(supi, 0, e.now.Add(time.Second),
		nchf.MultipleUnitUsage{RatingGroup: 10}))
	if r.status != 403 || r.problem.Cause != nchf.CauseQuotaLimitReached {
		t.Fatalf("create when broke: %d %s", r.status, r.body)
	}
}

// TestSMSEvent: a one-time event (IEC) from an SMSF is rated and debited in
// one request; a retransmission charges nothing twice and writes no second
// record.
func TestSMSEvent(t *testing.T) {
	e := newEnv(t)
	supi := e.subscriber("sms-1", "001010000000003", "1.00", account.Prepaid)
	req := &nchf.ChargingDataRequest{
		SubscriberIdentifier:     supi,
		NfConsumerIdentification: nchf.NFIdentification{NFName: "smsf-1", NodeFunctionality: nchf.NodeFunctionalitySmsf},
		InvocationTimeStamp:      e.now, InvocationSequenceNumber: 1, OneTimeEvent: true, OneTimeEventType: "IEC",
		MultipleUnitUsage: []nchf.MultipleUnitUsage{{RatingGroup: 30,
			UsedUnitContainer: []nchf.UsedUnitContainer{{ServiceSpecificUnits: 1, LocalSequenceNumber: 1}}}},
		SMSChargingInformation: &nchf.SMSChargingInformation{
			OriginatorInfo: &nchf.OriginatorInfo{OriginatorGPSI: "msisdn-491700000003"},
			RecipientInfo:  []nchf.RecipientInfo{{RecipientGPSI: "msisdn-491709999999"}}},
	}
	for i := 0; i < 2; i++ {
		r := e.post("/nchf-convergedcharging/v3/chargingdata", req)
		if r.status != 201 || r.resp.MultipleUnitInformation[0].ResultCode != nchf.ResultCodeSuccess {
			t.Fatalf("event %d: %d %s", i, r.status, r.body)
		}
		req.RetransmissionIndicator = true
	}
	if v := e.balance("sms-1"); v.Balance.String() != "0.9000" {
		t.Fatalf("balance after one SMS sent twice: %s", v.Balance)
	}
	// Ten more: nine fit in 0.90, the tenth is refused.
	for i := 2; i <= 11; i++ {
		req.InvocationSequenceNumber, req.RetransmissionIndicator = uint32(i), false
		req.InvocationTimeStamp = e.now.Add(time.Duration(i) * time.Second)
		r := e.post("/nchf-convergedcharging/v3/chargingdata", req)
		want := 201
		if i == 11 {
			want = 403
		}
		if r.status != want {
			t.Fatalf("SMS %d: %d %s", i, r.status, r.body)
		}
	}
	recs := e.records()
	if len(recs) != 10 {
		t.Fatalf("%d event records, want 10", len(recs))
	}
	if r := recs[0]; r.RecordType != "CHF_EVENT" || r.SMS == nil || r.SMS.Recipient != "msisdn-491709999999" || r.Usage[0].Amount != "0.1000" {
		t.Fatalf("event record: %+v", r)
	}
}

// TestRestartContinuesSession: a new service on the same cluster state
// (a restarted node) continues an open session.
func TestRestartContinuesSession(t *testing.T) {
	e := newEnv(t)
	supi := e.subscriber("acc-r", "001010000000004", "50.00", account.Prepaid)
	r := e.post("/nchf-convergedcharging/v3/chargingdata", smfRequest(supi, 0, e.now,
		nchf.MultipleUnitUsage{RatingGroup: 10, RequestedUnit: &nchf.RequestedUnit{TotalVolume: 4 * mib}}))
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	ref := refOf(t, r.location)
	e.stopSrv()
	e.start()
	if open, _ := e.svc.Sessions(); open != 1 {
		t.Fatalf("sessions after restart: %d", open)
	}
	r = e.post("/nchf-convergedcharging/v3/chargingdata/"+ref+"/release", smfRequest(supi, 1, e.now, usedVolume(10, mib, mib, 1, 0)))
	if r.status != 204 {
		t.Fatalf("release after restart: %d %s", r.status, r.body)
	}
	if v := e.balance("acc-r"); v.Balance.String() != "48.0000" || !v.Held.IsZero() {
		t.Fatalf("balance %s held %s", v.Balance, v.Held)
	}
}

// TestErrors: bad input gets a ProblemDetails with the right status and
// cause, and charges nothing.
func TestErrors(t *testing.T) {
	e := newEnv(t)
	supi := e.subscriber("acc-e", "001010000000005", "10.00", account.Prepaid)
	cases := []struct {
		name, path, body string
		status           int
		cause            string
	}{
		{"malformed", "/nchf-convergedcharging/v3/chargingdata", `{"subscriberIdentifier":`, 400, nchf.CauseInvalidMsgFormat},
		{"missing mandatory", "/nchf-convergedcharging/v3/chargingdata", `{"subscriberIdentifier":"` + supi + `"}`, 400, nchf.CauseMandatoryIEMissing},
		{"wrong type", "/nchf-convergedcharging/v3/chargingdata", `{"nfConsumerIdentification":{"nodeFunctionality":"SMF"},"invocationTimeStamp":"2026-01-01T00:00:00Z","invocationSequenceNumber":"1"}`, 400, nchf.CauseMandatoryIEIncorrect},
		{"unknown subscriber", "/nchf-convergedcharging/v3/chargingdata", string(nchf.AppendChargingDataRequest(nil, smfRequest("imsi-999990000000000", 0, e.now))), 404, nchf.CauseUserUnknown},
		{"no subscriber", "/nchf-convergedcharging/v3/chargingdata", string(nchf.AppendChargingDataRequest(nil, smfRequest("", 0, e.now))), 400, nchf.CauseChargingFailed},
		{"unknown ref", "/nchf-convergedcharging/v3/chargingdata/nope/update", string(nchf.AppendChargingDataRequest(nil, smfRequest(supi, 1, e.now))), 404, nchf.CauseContextNotFound},
		{"bad path", "/nchf-convergedcharging/v3/chargingdata/x/y/z", `{}`, 404, nchf.CauseResourceURIStructureNotFound},
		{"huge", "/nchf-convergedcharging/v3/chargingdata", `{"x":"` + strings.Repeat("a", 70000) + `"}`, 413, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.postRaw(c.path, []byte(c.body))
			if r.status != c.status || r.problem.Cause != c.cause || r.problem.Status != c.status {
				t.Fatalf("%d %s; want %d %s", r.status, r.body, c.status, c.cause)
			}
		})
	}
	if v := e.balance("acc-e"); v.Balance.String() != "10.00" || !v.Held.IsZero() {
		t.Fatalf("balance %s held %s after errors", v.Balance, v.Held)
	}
}

// TestAllowances: a plan's monthly allowances are spent once, across
// one-time events and sessions: the period counters live with the account
// in the balance engine and rating happens against them inside the
// account's partition.
func TestAllowances(t *testing.T) {
	e := newEnv(t)
	supi := e.subscriberOn("allow", "001010000000009", "5.00", account.Prepaid, "chf-allow")
	sms := func(isn uint32) reply {
		req := &nchf.ChargingDataRequest{
			SubscriberIdentifier:     supi,
			NfConsumerIdentification: nchf.NFIdentification{NFName: "smsf-1", NodeFunctionality: nchf.NodeFunctionalitySmsf},
			InvocationTimeStamp:      e.now.Add(time.Duration(isn) * time.Second), InvocationSequenceNumber: isn,
			OneTimeEvent: true, OneTimeEventType: "IEC",
			MultipleUnitUsage: []nchf.MultipleUnitUsage{{RatingGroup: 30,
				UsedUnitContainer: []nchf.UsedUnitContainer{{ServiceSpecificUnits: 1, LocalSequenceNumber: uint64(isn)}}}},
		}
		return e.post("/nchf-convergedcharging/v3/chargingdata", req)
	}
	for isn := uint32(1); isn <= 3; isn++ {
		if r := sms(isn); r.status != 201 {
			t.Fatalf("SMS %d: %d %s", isn, r.status, r.body)
		}
	}
	if v := e.balance("allow"); v.Balance.String() != "4.9000" {
		t.Fatalf("after 3 SMS with 2 free: balance %s (counters %+v)", v.Balance, v.Counters)
	}
	// Data: 1 MiB free a month. A session asks 3 MiB: 2 MiB are priced,
	// then reports 1.5 MiB used: 0.5 MiB charged.
	r := e.post("/nchf-convergedcharging/v3/chargingdata", smfRequest(supi, 0, e.now,
		nchf.MultipleUnitUsage{RatingGroup: 10, RequestedUnit: &nchf.RequestedUnit{TotalVolume: 3 * mib}}))
	if r.status != 201 || r.resp.MultipleUnitInformation[0].GrantedUnit.TotalVolume != 3*mib {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if v := e.balance("allow"); v.Held.String() != "2.0000" {
		t.Fatalf("held %s, want 2.0000 (3 MiB less the free 1 MiB)", v.Held)
	}
	ref := refOf(t, r.location)
	r = e.post("/nchf-convergedcharging/v3/chargingdata/"+ref+"/release", smfRequest(supi, 1, e.now, usedVolume(10, 0, mib+mib/2, 1, 0)))
	if r.status != 204 {
		t.Fatalf("release: %d %s", r.status, r.body)
	}
	// A second session: the allowance is spent, 1 MiB costs 1.00.
	r = e.post("/nchf-convergedcharging/v3/chargingdata", smfRequest(supi, 0, e.now.Add(time.Minute),
		nchf.MultipleUnitUsage{RatingGroup: 10, RequestedUnit: &nchf.RequestedUnit{TotalVolume: mib}}))
	ref = refOf(t, r.location)
	e.post("/nchf-convergedcharging/v3/chargingdata/"+ref+"/release", smfRequest(supi, 1, e.now.Add(time.Minute), usedVolume(10, 0, mib, 1, 0)))
	if v := e.balance("allow"); v.Balance.String() != "3.4000" || !v.Held.IsZero() {
		t.Fatalf("balance %s held %s, want 3.4000 = 5 − 0.10 − 0.50 − 1.00", v.Balance, v.Held)
	}
}

// TestTariffTimeChange: a grant announces the band change within its
// validity time; usage reported split at the change is rated at each
// side's price and closes a partial CHF-CDR.
func TestTariffTimeChange(t *testing.T) {
	e := newEnv(t)
	supi := e.subscriberOn("bands", "001010000000010", "100.00", account.Prepaid, "chf-bands")
	at := time.Date(2026, 11, 23, 19, 30, 0, 0, time.UTC)
	r := e.post("/nchf-convergedcharging/v3/chargingdata", smfRequest(supi, 0, at,
		nchf.MultipleUnitUsage{RatingGroup: 10, RequestedUnit: &nchf.RequestedUnit{TotalVolume: 4 * mib}}))
	gu := r.resp.MultipleUnitInformation[0].GrantedUnit
	if r.status != 201 || gu == nil || !gu.TariffTimeChange.Equal(time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC)) {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	ref := refOf(t, r.location)
	// 1 MiB before 20:00 (2.00), 2 MiB after (1.00 each).
	before, after := at.Add(29*time.Minute), at.Add(40*time.Minute)
	upd := smfRequest(supi, 1, after, nchf.MultipleUnitUsage{RatingGroup: 10, RequestedUnit: &nchf.RequestedUnit{TotalVolume: mib},
		UsedUnitContainer: []nchf.UsedUnitContainer{
			{DownlinkVolume: mib, TotalVolume: mib, LocalSequenceNumber: 1, TriggerTimestamp: before,
				Triggers: []nchf.Trigger{{TriggerType: nchf.TriggerTypeTariffTimeChange, TriggerCategory: nchf.TriggerCategoryImmediateReport}}},
			{DownlinkVolume: 2 * mib, TotalVolume: 2 * mib, LocalSequenceNumber: 2, TriggerTimestamp: after},
		}})
	if r = e.post("/nchf-convergedcharging/v3/chargingdata/"+ref+"/update", upd); r.status != 200 {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	e.post("/nchf-convergedcharging/v3/chargingdata/"+ref+"/release", smfRequest(supi, 2, after.Add(time.Minute)))
	recs := e.records()
	if len(recs) != 2 || recs[0].CauseForRecordClosing != "tariffTimeChange" || recs[0].RecordType != "CHF_PARTIAL" ||
		recs[1].RecordType != "CHF_FINAL" {
		t.Fatalf("records: %+v", recs)
	}
	if v := e.balance("bands"); v.Balance.String() != "96.0000" || !v.Held.IsZero() {
		t.Fatalf("balance %s held %s, want 96.0000 = 100 − 1 MiB × 2.00 (day) − 2 MiB × 1.00 (night)", v.Balance, v.Held)
	}
}

// TestIdleSession: a session that hears nothing for chf.idle_timeout is
// closed by the sweep — its reservation released, a final record with
// cause sessionTimeout written — and later forgotten; a late update finds
// no session.
func TestIdleSession(t *testing.T) {
	e := newEnv(t)
	supi := e.subscriber("idle", "001010000000011", "10.00", account.Prepaid)
	r := e.post("/nchf-convergedcharging/v3/chargingdata", smfRequest(supi, 0, e.now,
		nchf.MultipleUnitUsage{RatingGroup: 10, RequestedUnit: &nchf.RequestedUnit{TotalVolume: 2 * mib}}))
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	ref := refOf(t, r.location)
	if v := e.balance("idle"); v.Held.String() != "2.0000" {
		t.Fatalf("held %s", v.Held)
	}
	e.svc.Sweep(t.Context()) // not idle yet
	if open, _ := e.svc.Sessions(); open != 1 {
		t.Fatalf("open sessions %d before the idle timeout", open)
	}
	e.skew.Store(int64(3 * time.Hour)) // past the 2 h idle timeout
	e.svc.Sweep(t.Context())
	if open, closed := e.svc.Sessions(); open != 0 || closed != 1 {
		t.Fatalf("after the idle timeout: %d open, %d closed", open, closed)
	}
	if v := e.balance("idle"); !v.Held.IsZero() || v.Balance.String() != "10.00" || len(v.Reservations) != 0 {
		t.Fatalf("after idle close: balance %s held %s", v.Balance, v.Held)
	}
	if r = e.post("/nchf-convergedcharging/v3/chargingdata/"+ref+"/update", smfRequest(supi, 1, e.now)); r.status != 404 {
		t.Fatalf("update after idle close: %d %s", r.status, r.body)
	}
	e.skew.Store(int64(3*time.Hour + 10*time.Minute)) // past the tombstone
	e.svc.Sweep(t.Context())
	if open, closed := e.svc.Sessions(); open != 0 || closed != 0 {
		t.Fatalf("tombstone kept: %d open, %d closed", open, closed)
	}
	stored := 0
	if err := e.eng.States(t.Context(), "chf:", func(string, string, []byte) error { stored++; return nil }); err != nil || stored != 0 {
		t.Fatalf("%d session records still stored (%v)", stored, err)
	}
	recs := e.records()
	if len(recs) != 1 || recs[0].RecordType != "CHF_FINAL" || recs[0].CauseForRecordClosing != "sessionTimeout" || recs[0].ChargingDataRef != ref {
		t.Fatalf("records: %+v", recs)
	}
}

// TestHTTP1: the SBI answers HTTP/1.1 on the same port (net/http behind
// the HTTP/2 server), with the same service: a session created over
// HTTP/1.1 is updated over h2c and released over HTTP/1.1 again.
func TestHTTP1(t *testing.T) {
	e := newEnv(t)
	supi := e.subscriber("h1", "001010000000021", "10.00", account.Prepaid)
	e.http1 = true
	r := e.post("/nchf-convergedcharging/v3/chargingdata", smfRequest(supi, 0, e.now,
		nchf.MultipleUnitUsage{RatingGroup: 10, RequestedUnit: &nchf.RequestedUnit{TotalVolume: 2 * mib}}))
	if r.status != 201 || len(r.resp.MultipleUnitInformation) != 1 {
		t.Fatalf("create over HTTP/1.1: %d %s", r.status, r.body)
	}
	ref := refOf(t, r.location)
	e.http1 = false
	if r = e.post("/nchf-convergedcharging/v3/chargingdata/"+ref+"/update", smfRequest(supi, 1, e.now, usedVolume(10, 0, mib, 1, mib))); r.status != 200 {
		t.Fatalf("update over h2c: %d %s", r.status, r.body)
	}
	e.http1 = true
	if r = e.post("/nchf-convergedcharging/v3/chargingdata/"+ref+"/release", smfRequest(supi, 2, e.now, usedVolume(10, 0, mib, 2, 0))); r.status != 204 {
		t.Fatalf("release over HTTP/1.1: %d %s", r.status, r.body)
	}
	if r = e.postRaw("/nchf-convergedcharging/v3/chargingdata", make([]byte, chf.MaxBody+1)); r.status != 413 || r.problem.Status != 413 {
		t.Fatalf("oversized body over HTTP/1.1: %d %s", r.status, r.body)
	}
	if v := e.balance("h1"); v.Balance.String() != "8.0000" || !v.Held.IsZero() {
		t.Fatalf("balance %s held %s", v.Balance, v.Held)
	}
}

// TestTombstones: released sessions are kept, small, for chf.tombstone_ttl
// (a retransmitted release is answered, a late update refused), survive a
// restart, and are all deleted, durably, by one sweep once expired.
func TestTombstones(t *testing.T) {
	e := newEnv(t)
	const subs, perSub = 4, 50
	var refs []string
	for i := range subs {
		supi := e.subscriber(fmt.Sprintf("tomb-%d", i), fmt.Sprintf("0010100000001%02d", i), "100.00", account.Prepaid)
		for j := range perSub {
			create := smfRequest(supi, 0, e.now, nchf.MultipleUnitUsage{RatingGroup: 10, RequestedUnit: &nchf.RequestedUnit{TotalVolume: mib}})
			create.PDUSessionChargingInformation.ChargingId = uint32(1000*i + j + 1)
			r := e.post("/nchf-convergedcharging/v3/chargingdata", create)
			if r.status != 201 {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
			ref := refOf(t, r.location)
			if r = e.post("/nchf-convergedcharging/v3/chargingdata/"+ref+"/release", smfRequest(supi, 1, e.now, usedVolume(10, 0, mib/2, 1, 0))); r.status != 204 {
				t.Fatalf("release: %d %s", r.status, r.body)
			}
			refs = append(refs, ref)
		}
	}
	blobs := func() (n, biggest int) {
		t.Helper()
		if err := e.eng.States(t.Context(), "chf:", func(_, _ string, data []byte) error {
			n, biggest = n+1, max(biggest, len(data))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return n, biggest
	}
	if open, closed := e.svc.Sessions(); open != 0 || closed != subs*perSub {
		t.Fatalf("after the releases: %d open, %d closed", open, closed)
	}
	if n, biggest := blobs(); n != subs*perSub || biggest > 160 {
		t.Fatalf("%d tombstones stored, the biggest %d bytes (want %d, at most 160)", n, biggest, subs*perSub)
	}
	if s, ok := e.svc.Session(refs[0]); !ok || !s.Closed || len(s.Groups) != 0 || s.PlanID != "" || s.AccountID != "tomb-0" {
		t.Fatalf("tombstone %+v", s)
	}
	supi0 := "imsi-001010000000100"
	if r := e.post("/nchf-convergedcharging/v3/chargingdata/"+refs[0]+"/release", smfRequest(supi0, 1, e.now, usedVolume(10, 0, mib/2, 1, 0))); r.status != 204 {
		t.Fatalf("retransmitted release: %d %s", r.status, r.body)
	}
	if r := e.post("/nchf-convergedcharging/v3/chargingdata/"+refs[0]+"/update", smfRequest(supi0, 2, e.now)); r.status != 404 {
		t.Fatalf("late update: %d %s", r.status, r.body)
	}
	for i := range subs {
		if v := e.balance(fmt.Sprintf("tomb-%d", i)); v.Balance.String() != "75.0000" || !v.Held.IsZero() {
			t.Fatalf("tomb-%d: balance %s held %s", i, v.Balance, v.Held)
		}
	}
	e.stopSrv()
	e.start()
	if open, closed := e.svc.Sessions(); open != 0 || closed != subs*perSub {
		t.Fatalf("after a restart: %d open, %d closed", open, closed)
	}
	e.svc.Sweep(t.Context()) // not expired
	if _, closed := e.svc.Sessions(); closed != subs*perSub {
		t.Fatalf("%d tombstones left before the TTL", closed)
	}
	e.skew.Store(int64(2 * time.Minute)) // past the 1 min default
	e.svc.Sweep(t.Context())
	if open, closed := e.svc.Sessions(); open != 0 || closed != 0 {
		t.Fatalf("after the sweep: %d open, %d closed", open, closed)
	}
	if n, _ := blobs(); n != 0 {
		t.Fatalf("%d tombstones still stored", n)
	}
	e.stopSrv()
	e.start()
	if open, closed := e.svc.Sessions(); open != 0 || closed != 0 {
		t.Fatalf("after a second restart: %d open, %d closed", open, closed)
	}
}

// TestTimeOfFirstUsage: a container's pDUContainerInformation.timeofFirstUsage
// is the time it is rated at (here in the day band, though it was reported
// at night).
func TestTimeOfFirstUsage(t *testing.T) {
	e := newEnv(t)
	supi := e.subscriberOn("first", "001010000000012", "100.00", account.Prepaid, "chf-bands")
	at := time.Date(2026, 11, 23, 21, 0, 0, 0, time.UTC)
	r := e.post("/nchf-convergedcharging/v3/chargingdata", smfRequest(supi, 0, at,
		nchf.MultipleUnitUsage{RatingGroup: 10, RequestedUnit: &nchf.RequestedUnit{TotalVolume: mib}}))
	ref := refOf(t, r.location)
	pci, _ := json.Marshal(map[string]any{"timeofFirstUsage": "2026-11-23T19:00:00Z", "timeofLastUsage": "2026-11-23T20:59:00Z"})
	rel := smfRequest(supi, 1, at, nchf.MultipleUnitUsage{RatingGroup: 10, UsedUnitContainer: []nchf.UsedUnitContainer{{
		TotalVolume: mib, DownlinkVolume: mib, LocalSequenceNumber: 1, TriggerTimestamp: at,
		Extra: []nchf.RawMember{{Name: "pDUContainerInformation", Value: pci}}}}})
	if r = e.post("/nchf-convergedcharging/v3/chargingdata/"+ref+"/release", rel); r.status != 204 {
		t.Fatalf("release: %d %s", r.status, r.body)
	}
	if v := e.balance("first"); v.Balance.String() != "98.0000" {
		t.Fatalf("balance %s, want 98.0000 (1 MiB at the day price 2.00)", v.Balance)
	}
}
