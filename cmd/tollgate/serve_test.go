package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/tollgate-billing/tollgate/internal/servicetest"
)

// proc is a running `tollgate serve`.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	addr   string
	sbi    string // the Nchf listener
	exited chan error
	mu     sync.Mutex
	log    bytes.Buffer
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.Write(b)
}

func (p *proc) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// startServe starts `tollgate serve` with args and waits for /healthz 200.
func startServe(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, addr: freePort(t), sbi: freePort(t), exited: make(chan error, 1)}
	return p.start(bin, append([]string{"serve", "--http-addr", p.addr, "--sbi-addr", p.sbi}, args...)...)
}

// start runs the binary with args (which must make it listen on p.addr)
// and waits for /healthz 200; the process is killed at the test's end.
func (p *proc) start(bin string, args ...string) *proc {
	t := p.t
	t.Helper()
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stderr = p
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + p.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case err := <-p.exited:
			t.Fatalf("tollgate exited early: %v\n%s", err, p.logs())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz never answered 200\n%s", p.logs())
		}
	}
}

func (p *proc) stop() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			p.t.Fatalf("exit after SIGTERM: %v\n%s", err, p.logs())
		}
	case <-time.After(15 * time.Second):
		p.t.Fatalf("no exit after SIGTERM\n%s", p.logs())
	}
}

// call sends a JSON request and decodes the JSON answer.
func (p *proc) call(want int, method, path, body string) map[string]any {
	p.t.Helper()
	req, _ := http.NewRequest(method, "http://"+p.addr+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	if resp.StatusCode != want {
		p.t.Fatalf("%s %s = %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	return m
}

// rateCall is a Friday call crossing from peak into off-peak in the
// consumer-eu example plan.
const rateCall = `{"subscriber":{"msisdn":"491701234567"},"service":"voice","destination":"+4915112345678",
	"start":"2026-11-20T19:58:30+01:00","quantity":"5m"}`

// TestServeRatingFlow runs the README flow against the real binary: plans
// from a directory, master data through the API, rating with an
// explanation, a plan change picked up on SIGHUP without a restart, and
// everything still there after a restart. With TOLLGATE_TEST_POSTGRES it
// runs a second time on PostgreSQL.
func TestServeRatingFlow(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	t.Run("sqlite", func(t *testing.T) { ratingFlow(t, bin) })
	t.Run("postgres", func(t *testing.T) {
		dsn := servicetest.Postgres(t)
		ratingFlow(t, bin, "--store-dsn", dsn)
	})
}

func ratingFlow(t *testing.T, bin string, extra ...string) {
	plans := t.TempDir()
	src, err := os.ReadFile("../../examples/plans/consumer-eu.yaml")
	if err != nil {
		t.Fatal(err)
	}
	planFile := filepath.Join(plans, "consumer-eu.yaml")
	if err := os.WriteFile(planFile, src, 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--data-dir", filepath.Join(t.TempDir(), "data"), "--plans-dir", plans}, extra...)

	p := startServe(t, bin, args...)
	p.call(201, "POST", "/api/v1/accounts", `{"id":"acme-001","name":"ACME Ltd","type":"prepaid","currency":"EUR","credit_limit":"0"}`)
	p.call(201, "POST", "/api/v1/accounts/acme-001/subscribers", `{"msisdn":"+491701234567","imsi":"262011234567890"}`)
	p.call(201, "POST", "/api/v1/accounts/acme-001/plan-assignments", `{"plan_id":"consumer-eu","valid_from":"2026-01-01T00:00:00Z"}`)
	r := p.call(200, "POST", "/api/v1/rate", rateCall)
	first := r["amount"].(string)
	if r["account_id"] != "acme-001" || r["units"].(float64) != 300 || len(r["lines"].([]any)) < 3 {
		t.Fatalf("rating: %v", r)
	}

	// Double the connect fee in the file; SIGHUP swaps it in.
	changed := strings.Replace(string(src), `connect_fee: "0.05"`, `connect_fee: "0.10"`, 1)
	if changed == string(src) {
		t.Fatal(`examples/plans/consumer-eu.yaml has no connect_fee: "0.05" to change`)
	}
	if err := os.WriteFile(planFile, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r = p.call(200, "POST", "/api/v1/rate", rateCall)
		if r["amount"] != first {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("plan change not picked up after SIGHUP; amount still %v\n%s", r["amount"], p.logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
	second := r["amount"].(string)
	vs := p.call(200, "GET", "/api/v1/plans/consumer-eu/versions", "")
	if n := len(vs["items"].([]any)); n != 2 {
		t.Fatalf("plan versions after reload: %d", n)
	}
	// A broken file is refused and the running plan stays.
	if err := os.WriteFile(planFile, []byte("id: consumer-eu\ncurrency: EUR\nrates: [{service: voice, price: \"-1\"}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p.call(400, "POST", "/api/v1/plans:reload", "")
	if r = p.call(200, "POST", "/api/v1/rate", rateCall); r["amount"] != second {
		t.Fatalf("a broken plan file changed rating: %v", r["amount"])
	}
	if err := os.WriteFile(planFile, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	p.stop()

	// After a restart the master data, plan versions and rating are the same.
	p = startServe(t, bin, args...)
	if r = p.call(200, "POST", "/api/v1/rate", rateCall); r["amount"] != second {
		t.Fatalf("after restart: amount %v, want %v", r["amount"], second)
	}
	acc := p.call(200, "GET", "/api/v1/accounts/acme-001", "")
	if acc["currency"] != "EUR" || acc["type"] != "prepaid" {
		t.Fatalf("account after restart: %v", acc)
	}
	metrics := get(t, "http://"+p.addr+"/metrics")
	for _, m := range []string{"tollgate_plans_loaded 1", `tollgate_http_requests_total{code="200",method="POST",route="POST /api/v1/rate"}`} {
		if !strings.Contains(metrics, m) {
			t.Errorf("metrics lack %q", m)
		}
	}
	p.stop()
}

func get(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
