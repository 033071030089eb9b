package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-billing/tollgate/internal/money"
)

// Rating groups the CHF load uses: the server's default configuration maps
// them to the services of the bench plan.
const (
	chfRGData  = 10 // data: volume, bytes
	chfRGVoice = 20 // voice: time, seconds
	chfRGSMS   = 30 // sms: service specific units, messages
)

// CHFPlanID is the id of the tariff plan the CHF benchmark's setup posts.
const CHFPlanID = "bench-chf"

// chfAccountPrefix starts the id of every account and subscriber the setup
// creates: bench-chf-<i>.
const chfAccountPrefix = "bench-chf-"

// CHFConfig configures the CHF load generator ([RunCHF]). Start from
// [DefaultCHFConfig]; Validate reports every problem.
type CHFConfig struct {
	// SBI is the base URL of the CHF's Nchf_ConvergedCharging service:
	// http:// speaks HTTP/2 cleartext with prior knowledge (h2c), https://
	// HTTP/2 over TLS.
	SBI string
	// API is the base URL of the admin API the setup uses.
	API string
	// InsecureSkipVerify accepts any TLS certificate of the SBI.
	InsecureSkipVerify bool

	// Setup provisions the plan, and per subscriber an account, a
	// subscriber, the plan assignment and a top-up, before the load.
	Setup bool
	// Subscribers is the number of bench subscribers (bench-chf-0 …); the
	// load picks among them uniformly.
	Subscribers int
	// TopUp is the amount in EUR each account is topped up with in the
	// setup (a decimal string).
	TopUp string
	// TopUpAgain tops up again on every run (a key unique to the run);
	// otherwise the top-up key is fixed, so a repeated setup adds nothing.
	TopUpAgain bool
	// SetupConcurrency is the number of subscribers provisioned at once.
	SetupConcurrency int

	// Duration of the measured load, after Warmup.
	Duration time.Duration
	// Warmup is run before the measured load and not counted.
	Warmup time.Duration
	// Rate is the target rate in requests per second (open loop); 0 runs
	// closed loop, each worker sending its next request as soon as the last
	// one answered.
	Rate int
	// Concurrency is the number of workers: the most requests in flight.
	Concurrency int
	// Connections is the number of HTTP/2 connections; worker w uses
	// connection w mod Connections.
	Connections int
	// Updates is the number of updates per session between create and
	// release.
	Updates int
	// VoiceShare is the fraction of sessions that also charge voice
	// (rating group 20) besides data (10).
	VoiceShare float64
	// SMSShare is the fraction of messages that are SMS one-time events
	// (rating group 30) rather than session messages.
	SMSShare float64
	// DataRequest is the volume in bytes a session requests per grant on
	// rating group 10; VoiceRequest the seconds on rating group 20.
	DataRequest  uint64
	VoiceRequest uint32
	// Timeout bounds each request.
	Timeout time.Duration
	// Seed seeds the random choices (subscriber, session shape, usage).
	Seed uint64
	// Progress, when not nil, receives progress lines; ProgressEvery is
	// their period (0: 5 s).
	Progress      io.Writer
	ProgressEvery time.Duration
}

// DefaultCHFConfig returns the defaults: tollgate serve's default addresses,
// 10,000 subscribers, 2 s warmup + 20 s closed loop, 128 workers over 2
// HTTP/2 connections, create + 4 updates + release, 30 % of sessions with
// voice, 20 % of messages SMS.
func DefaultCHFConfig() CHFConfig {
	return CHFConfig{
		SBI:              "http://127.0.0.1:8081",
		API:              "http://127.0.0.1:8080",
		Setup:            true,
		Subscribers:      10_000,
		TopUp:            "1000.00",
		SetupConcurrency: 64,
		Duration:         20 * time.Second,
		Warmup:           2 * time.Second,
		Concurrency:      128,
		Connections:      2,
		Updates:          4,
		VoiceShare:       0.3,
		SMSShare:         0.2,
		DataRequest:      10 << 20,
		VoiceRequest:     300,
		Timeout:          10 * time.Second,
		Seed:             1,
	}
}

// maxCHFSubscribers keeps the subscriber index within the ten digits of the
// SUPI's MSIN part.
const maxCHFSubscribers = 1_000_000_000

// Validate reports every problem of c at once.
func (c CHFConfig) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("bench: %s: %s", field, fmt.Sprintf(format, args...)))
	}
	checkURL := func(field, s, schemes string) {
		u, err := url.Parse(s)
		switch {
		case err != nil:
			bad(field, "%v", err)
		case u.Scheme != "http" && u.Scheme != "https":
			bad(field, "must be an %s URL; got %q", schemes, s)
		case u.Host == "":
			bad(field, "has no host: %q", s)
		case u.RawQuery != "" || u.Fragment != "":
			bad(field, "must be a base URL without query or fragment: %q", s)
		}
	}
	checkURL("sbi", c.SBI, "http:// (h2c) or https://")
	if c.Setup {
		checkURL("api", c.API, "http:// or https://")
	}
	if c.Subscribers < 1 || c.Subscribers > maxCHFSubscribers {
		bad("subscribers", "must be between 1 and %d; got %d", maxCHFSubscribers, c.Subscribers)
	}
	if c.Setup {
		if d, err := money.Parse(c.TopUp); err != nil {
			bad("topup", "%v", err)
		} else if d.Sign() <= 0 {
			bad("topup", "must be positive; got %s", c.TopUp)
		}
		if c.SetupConcurrency < 1 {
			bad("setup-concurrency", "must be at least 1; got %d", c.SetupConcurrency)
		}
	}
	if c.Duration <= 0 {
		bad("duration", "must be positive; got %s", c.Duration)
	}
	if c.Warmup < 0 {
		bad("warmup", "must not be negative; got %s", c.Warmup)
	}
	if c.Rate < 0 {
		bad("rate", "must not be negative (0 = as fast as possible); got %d", c.Rate)
	}
	if c.Concurrency < 1 {
		bad("concurrency", "must be at least 1; got %d", c.Concurrency)
	}
	if c.Connections < 1 {
		bad("connections", "must be at least 1; got %d", c.Connections)
	} else if c.Concurrency >= 1 && c.Connections > c.Concurrency {
		bad("connections", "must not exceed concurrency (%d): a connection without a worker is never used; got %d",
			c.Concurrency, c.Connections)
	}
	if c.Updates < 0 {
		bad("updates", "must not be negative; got %d", c.Updates)
	}
	if !(c.VoiceShare >= 0 && c.VoiceShare <= 1) {
		bad("voice-share", "must be between 0 and 1; got %v", c.VoiceShare)
	}
	if !(c.SMSShare >= 0 && c.SMSShare <= 1) {
		bad("sms-share", "must be between 0 and 1; got %v", c.SMSShare)
	}
	if c.DataRequest == 0 {
		bad("data-request", "must be positive")
	}
	if c.VoiceShare > 0 && c.VoiceRequest == 0 {
		bad("voice-request", "must be positive when voice-share is")
	}
	if c.Timeout <= 0 {
		bad("timeout", "must be positive; got %s", c.Timeout)
	}
	return errors.Join(errs...)
}

// chfGen is one run of the CHF benchmark.
type chfGen struct {
	cfg   CHFConfig
	sbi   string // SBI base URL without a trailing slash
	api   string // admin API base URL without a trailing slash
	runID string // unique per run: top-up keys with TopUpAgain
}

// RunCHF runs the CHF benchmark against a running tollgate: the setup
// through the admin API (unless cfg.Setup is false), then the load on the
// Nchf_ConvergedCharging API. Errors of single requests never stop the
// load; they are counted in the report. The error is about the run itself
// (invalid config, failed setup, canceled context, or not a single request
// answered as expected); the report is returned with what was measured so
// far.
func RunCHF(ctx context.Context, cfg CHFConfig) (*CHFReport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	g := &chfGen{cfg: cfg, sbi: strings.TrimRight(cfg.SBI, "/"), api: strings.TrimRight(cfg.API, "/"),
		runID: hex.EncodeToString(rnd[:])}
	rep := &CHFReport{Config: chfReportConfig(cfg), Machine: machineInfo()}
	if cfg.Setup {
		g.progress("setup: plan %s, then %d subscribers through %s (%d at once)", CHFPlanID, cfg.Subscribers, g.api, cfg.SetupConcurrency)
		s, err := g.setup(ctx)
		if s.Plan != "" { // the subscribers' part ran
			rep.Setup = s
		}
		if err != nil {
			return rep, err
		}
		g.progress("setup: %d requests in %.1fs = %.0f requests/s", s.Requests, s.Seconds, s.RequestsPerSec)
	}
	mode := "closed loop"
	if cfg.Rate > 0 {
		mode = fmt.Sprintf("open loop at %d requests/s", cfg.Rate)
	}
	g.progress("load: %s against %s, %s warmup + %s, %d workers over %d HTTP/2 connections",
		mode, g.sbi, cfg.Warmup, cfg.Duration, cfg.Concurrency, cfg.Connections)
	var err error
	if rep.Load, err = g.load(ctx); err != nil {
		return rep, err
	}
	l := rep.Load
	g.progress("load: %.0f requests/s, p50 %.3fms p99 %.3fms p99.9 %.3fms, %d errors", l.RequestsPerSec,
		l.All.Latency.P50Ms, l.All.Latency.P99Ms, l.All.Latency.P999Ms, l.All.Errors)
	if l.Requests > 0 && l.Errors == l.Requests {
		return rep, fmt.Errorf("bench: every request failed; first: %s", l.All.FirstError)
	}
	return rep, nil
}

func (g *chfGen) progress(format string, args ...any) {
	if g.cfg.Progress != nil {
		fmt.Fprintf(g.cfg.Progress, "bench: "+format+"\n", args...)
	}
}

func (g *chfGen) progressEvery() time.Duration {
	if g.cfg.ProgressEvery > 0 {
		return g.cfg.ProgressEvery
	}
	return 5 * time.Second
}

// chfIndex formats the subscriber index the way the SUPI and MSISDN carry
// it: ten digits.
func chfIndex(i int) string {
	s := strconv.Itoa(i)
	if len(s) < 10 {
		s = strings.Repeat("0", 10-len(s)) + s
	}
	return s
}

// chfSUPI is the SUPI of bench subscriber i: MCC 001, MNC 01 (the test
// network) and a ten-digit MSIN.
func chfSUPI(i int) string { return "imsi-00101" + chfIndex(i) }

// chfMSISDN is the MSISDN of bench subscriber i (15 digits).
func chfMSISDN(i int) string { return "49170" + chfIndex(i) }

// perSec is n per window, rounded to a whole number.
func perSec(n uint64, window time.Duration) float64 {
	if window <= 0 {
		return 0
	}
	return math.Round(float64(n) / window.Seconds())
}
