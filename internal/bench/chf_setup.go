package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// chfPlanYAML is the tariff plan of the CHF benchmark (docs/tariffs.md), in
// EUR: data per MB in 1 KB increments, voice per minute billed by the
// second, SMS per message. The rating groups 10, 20 and 30 map to data,
// voice and sms in the CHF's default configuration.
const chfPlanYAML = `# Posted by tollgate bench chf (docs/benchmarks.md).
id: ` + CHFPlanID + `
name: CHF benchmark
description: Data per MB, voice per minute, SMS per message.
currency: EUR
rounding: {scale: 4, mode: half_up}
rates:
  - {id: data, service: data, increments: {first: 1KB, next: 1KB}, price: "0.01", per: 1MB}
  - {id: voice, service: voice, increments: {first: 1, next: 1}, price: "0.05", per: 60}
  - {id: sms, service: sms, price: "0.09"}
`

// chfAssignFrom is the start of every bench plan assignment: fixed, so
// that repeating the setup repeats the same assignment (a no-op).
const chfAssignFrom = "2020-01-01T00:00:00Z"

// setupTally is one setup worker's record.
type setupTally struct {
	hist                                   *Histogram
	account, subscriber, assignment, topUp CHFSetupStep
	firstErr                               string
}

// setup provisions the bench plan and subscribers through the admin API.
func (g *chfGen) setup(ctx context.Context) (*CHFSetupReport, error) {
	cfg := g.cfg
	tr := &http.Transport{MaxIdleConnsPerHost: cfg.SetupConcurrency, IdleConnTimeout: 30 * time.Second}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: max(cfg.Timeout, 30*time.Second)}
	rep := &CHFSetupReport{Subscribers: cfg.Subscribers}
	start := time.Now()

	status, body, err := g.adminPost(ctx, hc, "/api/v1/plans", "application/yaml", []byte(chfPlanYAML))
	switch {
	case err != nil:
		return rep, fmt.Errorf("bench: setup: post plan %s to %s: %w", CHFPlanID, g.api, err)
	case status == http.StatusCreated:
		rep.Plan = "created"
	case status == http.StatusOK:
		rep.Plan = "unchanged"
	default:
		return rep, fmt.Errorf("bench: setup: post plan %s: HTTP %d: %s", CHFPlanID, status, firstLine(body, 300))
	}

	var (
		next, done atomic.Int64
		wg         sync.WaitGroup
		tallies    = make([]*setupTally, cfg.SetupConcurrency)
	)
	for w := range tallies {
		t := &setupTally{hist: NewHistogram()}
		tallies[w] = t
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= cfg.Subscribers {
					return
				}
				g.provision(ctx, hc, i, t)
				done.Add(1)
			}
		})
	}
	stopProgress := make(chan struct{})
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		if cfg.Progress == nil {
			return
		}
		t := time.NewTicker(g.progressEvery())
		defer t.Stop()
		last, lastN := start, int64(0)
		for {
			select {
			case <-stopProgress:
				return
			case now := <-t.C:
				n := done.Load()
				g.progress("setup: %d/%d subscribers (%.0f/s)", n, cfg.Subscribers, float64(n-lastN)/now.Sub(last).Seconds())
				last, lastN = now, n
			}
		}
	}()
	wg.Wait()
	close(stopProgress)
	<-progressDone
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return rep, err
	}

	all := NewHistogram()
	add := func(dst *CHFSetupStep, s CHFSetupStep) {
		dst.Created += s.Created
		dst.Existed += s.Existed
		dst.Conflict += s.Conflict
		dst.Failed += s.Failed
	}
	for _, t := range tallies {
		all.Merge(t.hist)
		add(&rep.Account, t.account)
		add(&rep.Subscriber, t.subscriber)
		add(&rep.Assignment, t.assignment)
		add(&rep.TopUp, t.topUp)
		if rep.FirstError == "" {
			rep.FirstError = t.firstErr
		}
	}
	rep.Requests = all.Count() + 1 // and the plan
	rep.Seconds = round3(elapsed.Seconds())
	rep.RequestsPerSec = perSec(rep.Requests, elapsed)
	rep.Latency = all.Summary()
	failed := rep.Account.Failed + rep.Subscriber.Failed + rep.Assignment.Failed + rep.TopUp.Failed
	if failed > 0 {
		return rep, fmt.Errorf("bench: setup: %d requests failed; first: %s", failed, rep.FirstError)
	}
	if c := rep.Account.Conflict + rep.Subscriber.Conflict + rep.TopUp.Conflict; c > 0 {
		g.progress("setup: %d objects exist with other content (HTTP 409) and were left as they are", c)
	}
	return rep, nil
}

// provision creates bench subscriber i: its account, the subscriber, the
// plan assignment and the top-up. After a failed account it stops.
func (g *chfGen) provision(ctx context.Context, hc *http.Client, i int, t *setupTally) {
	id := chfAccountPrefix + strconv.Itoa(i)
	acc := struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		Type        string `json:"type"`
		Currency    string `json:"currency"`
		CreditLimit string `json:"credit_limit"`
	}{id, "tollgate bench chf " + strconv.Itoa(i), "prepaid", "EUR", "0"}
	if !g.setupStep(ctx, hc, t, &t.account, "/api/v1/accounts", acc) {
		return
	}
	sub := struct {
		ID     string `json:"id"`
		SUPI   string `json:"supi"`
		MSISDN string `json:"msisdn"`
	}{id, chfSUPI(i), chfMSISDN(i)}
	g.setupStep(ctx, hc, t, &t.subscriber, "/api/v1/accounts/"+id+"/subscribers", sub)
	as := struct {
		PlanID    string `json:"plan_id"`
		ValidFrom string `json:"valid_from"`
	}{CHFPlanID, chfAssignFrom}
	g.setupStep(ctx, hc, t, &t.assignment, "/api/v1/accounts/"+id+"/plan-assignments", as)
	key := "bench-topup-" + strconv.Itoa(i)
	if g.cfg.TopUpAgain {
		key += "-" + g.runID
	}
	top := struct {
		Key    string `json:"key"`
		Amount string `json:"amount"`
	}{key, g.cfg.TopUp}
	g.setupStep(ctx, hc, t, &t.topUp, "/api/v1/accounts/"+id+"/topups", top)
}

// setupStep POSTs v as JSON and counts the answer in st; it reports
// whether the object exists now (created, existed or conflict).
func (g *chfGen) setupStep(ctx context.Context, hc *http.Client, t *setupTally, st *CHFSetupStep, path string, v any) bool {
	body, err := json.Marshal(v)
	if err != nil {
		st.Failed++
		return false
	}
	t0 := time.Now()
	status, resp, err := g.adminPost(ctx, hc, path, "application/json", body)
	t.hist.Record(time.Since(t0))
	switch {
	case err != nil:
		st.Failed++
		if t.firstErr == "" {
			t.firstErr = fmt.Sprintf("POST %s: %v", path, err)
		}
		return false
	case status == http.StatusCreated:
		st.Created++
	case status == http.StatusOK && st == &t.topUp:
		// A top-up answers 200, with "replayed": true when its key was
		// used before.
		var r struct {
			Replayed bool `json:"replayed"`
		}
		if json.Unmarshal(resp, &r) == nil && r.Replayed {
			st.Existed++
		} else {
			st.Created++
		}
	case status == http.StatusOK:
		st.Existed++ // an idempotent repeat
	case status == http.StatusConflict:
		st.Conflict++
	default:
		st.Failed++
		if t.firstErr == "" {
			t.firstErr = fmt.Sprintf("POST %s: HTTP %d: %s", path, status, firstLine(resp, 300))
		}
		return false
	}
	return true
}

// adminPost POSTs body to the admin API and returns the status and body.
func (g *chfGen) adminPost(ctx context.Context, hc *http.Client, path, contentType string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.api+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	res, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := readBody(res.Body, nil)
	if err != nil {
		return 0, nil, err
	}
	return res.StatusCode, b, nil
}
