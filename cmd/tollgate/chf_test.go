package main

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeCHFFlow runs the README's CHF walk-through against the real
// binary: the example plan and a subscriber through the admin API, then a
// data session (create, update, release) and an SMS event over HTTP/2
// cleartext on the SBI listener with the example request files; the
// balance must reflect exactly the rated usage, and after a clean stop the
// CHF-CDR files hold the session's final record and the event's record.
func TestServeCHFFlow(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	p := startServe(t, bin, "--data-dir", data)
	plan, err := os.ReadFile("../../examples/plans/chf-demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", "http://"+p.addr+"/api/v1/plans", bytes.NewReader(plan))
	req.Header.Set("Content-Type", "application/yaml")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 201 {
		t.Fatalf("plan: %v %v", err, res)
	}
	p.call(201, "POST", "/api/v1/accounts", `{"id":"demo-001","name":"Demo","type":"prepaid","currency":"EUR","credit_limit":"0"}`)
	p.call(201, "POST", "/api/v1/accounts/demo-001/subscribers", `{"supi":"imsi-001010000000001","msisdn":"+491700000001"}`)
	p.call(201, "POST", "/api/v1/accounts/demo-001/plan-assignments", `{"plan_id":"chf-demo","valid_from":"2026-01-01T00:00:00Z"}`)
	p.call(200, "POST", "/api/v1/accounts/demo-001/topups", `{"key":"demo-topup-1","amount":"20.00"}`)

	var protos http.Protocols
	protos.SetUnencryptedHTTP2(true)
	h2c := &http.Client{Transport: &http.Transport{Protocols: &protos}}
	sbi := func(want int, path, file string) (*http.Response, []byte) {
		t.Helper()
		body, err := os.ReadFile("../../examples/" + file)
		if err != nil {
			t.Fatal(err)
		}
		res, err := h2c.Post("http://"+p.sbi+"/nchf-convergedcharging/v3/chargingdata"+path, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		if res.StatusCode != want || res.ProtoMajor != 2 {
			t.Fatalf("%s %s: %s %d, want HTTP/2 %d: %s\n%s", path, file, res.Proto, res.StatusCode, want, raw, p.logs())
		}
		return res, raw
	}
	res, raw := sbi(201, "", "nchf-create.json")
	loc := res.Header.Get("Location")
	ref := loc[strings.LastIndex(loc, "/")+1:]
	if !strings.Contains(string(raw), `"grantedUnit":{"totalVolume":10485760}`) {
		t.Fatalf("create: %s", raw)
	}
	sbi(200, "/"+ref+"/update", "nchf-update.json")
	sbi(201, "", "nchf-sms.json")
	sbi(204, "/"+ref+"/release", "nchf-release.json")

	// 4 MiB + 1 MiB of data at 1.00 per MiB and one SMS at 0.10.
	b := p.call(200, "GET", "/api/v1/accounts/demo-001/balance", "")
	if b["balance"] != "14.9000" || b["held"] != "0" && b["held"] != "0.0000" {
		t.Fatalf("balance: %v", b)
	}
	metrics := get(t, "http://"+p.addr+"/metrics")
	for _, m := range []string{`tollgate_chf_requests_total{op="create",status="201"} 1`, `tollgate_chf_requests_total{op="event",status="201"} 1`,
		`tollgate_chf_requests_total{op="release",status="204"} 1`} {
		if !strings.Contains(metrics, m) {
			t.Errorf("metrics lack %q", m)
		}
	}
	p.stop()

	files, _ := filepath.Glob(filepath.Join(data, "cdr", "chf", "*.jsonl"))
	var types []string
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			var rec struct {
				RecordType string `json:"recordType"`
				Usage      []struct {
					Amount string `json:"amount"`
				} `json:"listOfMultipleUnitUsage"`
			}
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				t.Fatal(err)
			}
			types = append(types, rec.RecordType+":"+rec.Usage[0].Amount)
		}
		fh.Close()
	}
	got := strings.Join(types, ",")
	if got != "CHF_EVENT:0.1000,CHF_FINAL:5.0000" {
		t.Fatalf("CHF-CDRs %q, want the event and the final record\n%s", got, p.logs())
	}
}

// TestServeCHFOverTLS: with sbi.tls_cert and sbi.tls_key the SBI speaks
// HTTP/2 over TLS (ALPN h2); a create and a release go through.
func TestServeCHFOverTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	certPEM, keyPEM, pool := selfSigned(t)
	cfg := writeFile(t, "tollgate.yaml", "sbi:\n  tls_cert: "+writeFile(t, "sbi.crt", certPEM)+"\n  tls_key: "+writeFile(t, "sbi.key", keyPEM)+"\n")
	bin := buildBinary(t)
	p := startServe(t, bin, "--data-dir", filepath.Join(t.TempDir(), "data"), "--config", cfg)
	plan, _ := os.ReadFile("../../examples/plans/chf-demo.yaml")
	req, _ := http.NewRequest("POST", "http://"+p.addr+"/api/v1/plans", bytes.NewReader(plan))
	req.Header.Set("Content-Type", "application/yaml")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 201 {
		t.Fatalf("plan: %v %v", err, res)
	}
	p.call(201, "POST", "/api/v1/accounts", `{"id":"demo-001","name":"Demo","type":"prepaid","currency":"EUR","credit_limit":"0"}`)
	p.call(201, "POST", "/api/v1/accounts/demo-001/subscribers", `{"supi":"imsi-001010000000001"}`)
	p.call(201, "POST", "/api/v1/accounts/demo-001/plan-assignments", `{"plan_id":"chf-demo","valid_from":"2026-01-01T00:00:00Z"}`)
	p.call(200, "POST", "/api/v1/accounts/demo-001/topups", `{"key":"t1","amount":"20.00"}`)

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	body, _ := os.ReadFile("../../examples/nchf-create.json")
	res, err := client.Post("https://"+p.sbi+"/nchf-convergedcharging/v3/chargingdata", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc := res.Header.Get("Location")
	if res.StatusCode != 201 || res.ProtoMajor != 2 || res.TLS == nil || !strings.HasPrefix(loc, "https://") {
		t.Fatalf("create over TLS: %s %d Location %q", res.Proto, res.StatusCode, loc)
	}
	body, _ = os.ReadFile("../../examples/nchf-release.json")
	res, err = client.Post(loc+"/release", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 204 {
		t.Fatalf("release over TLS: %d", res.StatusCode)
	}
	// Cleartext HTTP/2 is not served on a TLS listener.
	var protos http.Protocols
	protos.SetUnencryptedHTTP2(true)
	h2c := &http.Client{Transport: &http.Transport{Protocols: &protos}, Timeout: 3 * time.Second}
	if res, err := h2c.Post("http://"+p.sbi+"/nchf-convergedcharging/v3/chargingdata", "application/json", bytes.NewReader(body)); err == nil {
		res.Body.Close()
		t.Fatalf("h2c on the TLS listener answered %d", res.StatusCode)
	}
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (certPEM, keyPEM string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tollgate test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})), pool
}
