package main

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/internal/money"
	"github.com/tollgate-billing/tollgate/internal/nchf"
)

// TestCHFCrash kills a real `tollgate serve` with SIGKILL while SMF-like
// workers run data sessions, restarts it on the same data directory, and
// lets every session finish the way an SMF would: a request that got no
// answer is retransmitted with the same sequence number, then the session
// is released. Every answer must be right (a retransmitted create finds its
// session, a retransmitted update its stored answer or its first
// application), and each account must have paid exactly for the usage its
// sessions reported — nothing lost, nothing twice — with nothing left held.
func TestCHFCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	const (
		nAccounts = 8
		nWorkers  = 8
		kib       = 1024
	)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("TOLLGATE_CRASH_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (TOLLGATE_CRASH_SEED replays it)", seed)
	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	p := startServe(t, bin, "--data-dir", data, "--nats-sync", "always")
	plan, _ := os.ReadFile("../../examples/plans/chf-demo.yaml")
	req, _ := http.NewRequest("POST", "http://"+p.addr+"/api/v1/plans", bytes.NewReader(plan))
	req.Header.Set("Content-Type", "application/yaml")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 201 {
		t.Fatalf("plan: %v %v", err, res)
	}
	supis := make([]string, nAccounts)
	for i := range supis {
		id := fmt.Sprintf("cc-%02d", i)
		supis[i] = fmt.Sprintf("imsi-0010100000000%02d", i)
		p.call(201, "POST", "/api/v1/accounts", `{"id":"`+id+`","name":"CC","type":"prepaid","currency":"EUR","credit_limit":"0"}`)
		p.call(201, "POST", "/api/v1/accounts/"+id+"/subscribers", `{"supi":"`+supis[i]+`"}`)
		p.call(201, "POST", "/api/v1/accounts/"+id+"/plan-assignments", `{"plan_id":"chf-demo","valid_from":"2026-01-01T00:00:00Z"}`)
		p.call(200, "POST", "/api/v1/accounts/"+id+"/topups", `{"key":"t-`+id+`","amount":"1000.00"}`)
	}

	// A session's messages; usage is whole 64 KiB steps, so that every
	// price is exact (1.00 per MiB in 1 KiB steps, 4 decimals).
	type session struct {
		account  int
		charging uint32 // chargingId: unique per session, as an SMF makes it
		ref      string
		isn      uint32
		at       time.Time
		used     uint64 // bytes charged, by acknowledged (or to be retransmitted) reports
		inflight []byte // the body of a request without an answer, if any
		path     string
		created  bool
		released bool
	}
	var (
		mu       sync.Mutex
		sessions []*session
		stop     atomic.Bool
		acked    atomic.Int64
		nextID   atomic.Uint32
	)
	var protos http.Protocols
	protos.SetUnencryptedHTTP2(true)
	client := func() *http.Client {
		return &http.Client{Transport: &http.Transport{Protocols: &protos}, Timeout: 5 * time.Second}
	}
	encode := func(s *session, used uint64, final bool) []byte {
		r := nchf.ChargingDataRequest{
			SubscriberIdentifier:     supis[s.account],
			NfConsumerIdentification: nchf.NFIdentification{NFName: "crash-smf", NodeFunctionality: nchf.NodeFunctionalitySmf},
			InvocationTimeStamp:      s.at.Add(time.Duration(s.isn) * time.Second), InvocationSequenceNumber: s.isn,
			PDUSessionChargingInformation: &nchf.PDUSessionChargingInformation{ChargingId: s.charging,
				PduSessionInformation: &nchf.PDUSessionInformation{PduSessionID: 1, DnnId: "internet"}},
		}
		mu := nchf.MultipleUnitUsage{RatingGroup: 10}
		if !final {
			mu.RequestedUnit = &nchf.RequestedUnit{TotalVolume: 1 << 20}
		}
		if s.isn > 0 {
			mu.UsedUnitContainer = []nchf.UsedUnitContainer{{TotalVolume: used, DownlinkVolume: used, LocalSequenceNumber: uint64(s.isn)}}
		}
		r.MultipleUnitUsage = []nchf.MultipleUnitUsage{mu}
		return nchf.AppendChargingDataRequest(nil, &r)
	}
	post := func(c *http.Client, base, path string, body []byte) (int, string, error) {
		res, err := c.Post("http://"+base+"/nchf-convergedcharging/v3/chargingdata"+path, "application/json", bytes.NewReader(body))
		if err != nil {
			return 0, "", err
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode >= 400 {
			return res.StatusCode, string(b), nil
		}
		return res.StatusCode, res.Header.Get("Location"), nil
	}
	usedOf := func(body []byte) uint64 {
		var r nchf.ChargingDataRequest
		if err := nchf.DecodeChargingDataRequest(body, &r); err != nil || len(r.MultipleUnitUsage[0].UsedUnitContainer) == 0 {
			return 0
		}
		return r.MultipleUnitUsage[0].UsedUnitContainer[0].TotalVolume
	}

	var wg sync.WaitGroup
	for w := range nWorkers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			c := client()
			for !stop.Load() {
				s := &session{account: rng.IntN(nAccounts), charging: nextID.Add(1), at: time.Now().UTC().Truncate(time.Second)}
				mu.Lock()
				sessions = append(sessions, s)
				mu.Unlock()
				steps := 2 + rng.IntN(4)
				for step := 0; step <= steps && !stop.Load(); step++ {
					final := step == steps
					used := uint64(rng.IntN(17)) * 64 * kib
					path := ""
					if s.created {
						path = "/" + s.ref + "/update"
						if final {
							path = "/" + s.ref + "/release"
						}
					}
					body := encode(s, used, final)
					mu.Lock()
					s.inflight, s.path = body, path
					mu.Unlock()
					status, loc, err := post(c, p.sbi, path, body)
					if err != nil {
						return // the server died: the request stays in flight
					}
					want := map[string]int{"": 201, "update": 200, "release": 204}[path[strings.LastIndex(path, "/")+1:]]
					if status != want {
						t.Errorf("%s: %d %s", path, status, loc)
						return
					}
					mu.Lock()
					if !s.created {
						s.ref, s.created = loc[strings.LastIndex(loc, "/")+1:], true
					} else {
						s.used += usedOf(body)
					}
					s.inflight = nil
					s.released = final
					s.isn++
					mu.Unlock()
					acked.Add(1)
				}
			}
		})
	}
	// Kill after a random number of acknowledged requests.
	killAt := int64(150 + rand.New(rand.NewPCG(seed, 99)).IntN(250))
	for deadline := time.Now().Add(60 * time.Second); acked.Load() < killAt; time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) || t.Failed() {
			stop.Store(true)
			wg.Wait()
			t.Fatalf("only %d requests acknowledged", acked.Load())
		}
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	stop.Store(true)
	wg.Wait()
	t.Logf("killed after %d acknowledged requests, %d sessions", acked.Load(), len(sessions))

	// Restart and finish every session as an SMF would.
	p2 := startServe(t, bin, "--data-dir", data, "--nats-sync", "always")
	c := client()
	want := make([]money.Decimal, nAccounts)
	retransmitted := 0
	for _, s := range sessions {
		if s.inflight != nil {
			retransmitted++
			status, loc, err := post(c, p2.sbi, s.path, s.inflight)
			if err != nil {
				t.Fatal(err)
			}
			ok := map[string]int{"": 201, "update": 200, "release": 204}[s.path[strings.LastIndex(s.path, "/")+1:]]
			if status != ok {
				t.Fatalf("retransmitted %q: %d %s", s.path, status, loc)
			}
			if !s.created {
				s.ref, s.created = loc[strings.LastIndex(loc, "/")+1:], true
			} else {
				s.used += usedOf(s.inflight)
			}
			s.released = strings.HasSuffix(s.path, "/release")
			s.isn++
		}
		if s.created && !s.released {
			if status, body, err := post(c, p2.sbi, "/"+s.ref+"/release", encode(s, 0, true)); err != nil || status != 204 {
				t.Fatalf("release %s after restart: %d %s %v", s.ref, status, body, err)
			}
		}
		amount, _ := money.New(int64(s.used/(64*kib))*625, 4) // 64 KiB = 0.0625
		want[s.account], _ = want[s.account].Add(amount)
	}
	t.Logf("%d requests retransmitted after the restart", retransmitted)
	for i := range nAccounts {
		id := fmt.Sprintf("cc-%02d", i)
		b := p2.call(200, "GET", "/api/v1/accounts/"+id+"/balance", "")
		exp, _ := money.MustParse("1000.00").Sub(want[i])
		got := money.MustParse(b["balance"].(string))
		if !got.Equal(exp) || b["held"] != "0" && b["held"] != "0.0000" {
			t.Errorf("%s: balance %v held %v, want %s held 0 (usage %s)", id, b["balance"], b["held"], exp, want[i])
		}
	}
	p2.stop()
}
