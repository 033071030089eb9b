package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-billing/tollgate/internal/usage"
)

// CHFReport is the result of [RunCHF]. Latencies are in milliseconds and
// rates in requests per second (float64: measurements, never money).
type CHFReport struct {
	Config  CHFReportConfig `json:"config"`
	Machine Machine         `json:"machine"`
	// Setup is absent when the run skipped it.
	Setup *CHFSetupReport `json:"setup,omitempty"`
	Load  CHFLoadReport   `json:"load"`
}

// CHFReportConfig is the configuration a report was measured with.
type CHFReportConfig struct {
	SBI                 string  `json:"sbi"`
	API                 string  `json:"api,omitempty"`
	Setup               bool    `json:"setup"`
	Subscribers         int     `json:"subscribers"`
	TopUp               string  `json:"topup,omitempty"`
	TopUpAgain          bool    `json:"topup_again,omitempty"`
	DurationSec         float64 `json:"duration_s"`
	WarmupSec           float64 `json:"warmup_s"`
	Rate                int     `json:"rate"`
	Concurrency         int     `json:"concurrency"`
	Connections         int     `json:"connections"`
	Updates             int     `json:"updates"`
	VoiceShare          float64 `json:"voice_share"`
	SMSShare            float64 `json:"sms_share"`
	DataRequestBytes    uint64  `json:"data_request_bytes"`
	VoiceRequestSeconds uint32  `json:"voice_request_seconds"`
	TimeoutSec          float64 `json:"timeout_s"`
	Seed                uint64  `json:"seed"`
}

func chfReportConfig(c CHFConfig) CHFReportConfig {
	r := CHFReportConfig{SBI: c.SBI, Setup: c.Setup, Subscribers: c.Subscribers,
		DurationSec: c.Duration.Seconds(), WarmupSec: c.Warmup.Seconds(), Rate: c.Rate, Concurrency: c.Concurrency,
		Connections: c.Connections, Updates: c.Updates, VoiceShare: c.VoiceShare, SMSShare: c.SMSShare,
		DataRequestBytes: c.DataRequest, VoiceRequestSeconds: c.VoiceRequest, TimeoutSec: c.Timeout.Seconds(), Seed: c.Seed}
	if c.Setup {
		r.API, r.TopUp, r.TopUpAgain = c.API, c.TopUp, c.TopUpAgain
	}
	return r
}

// CHFSetupReport is the setup through the admin API: the plan, then per
// subscriber its account, the subscriber, the plan assignment and a
// top-up.
type CHFSetupReport struct {
	// Plan is "created" (a new version stored) or "unchanged".
	Plan           string       `json:"plan"`
	Subscribers    int          `json:"subscribers"`
	Requests       uint64       `json:"requests"`
	Seconds        float64      `json:"seconds"`
	RequestsPerSec float64      `json:"requests_per_sec"`
	Latency        Percentiles  `json:"latency"`
	Account        CHFSetupStep `json:"account"`
	Subscriber     CHFSetupStep `json:"subscriber"`
	Assignment     CHFSetupStep `json:"assignment"`
	TopUp          CHFSetupStep `json:"topup"`
	FirstError     string       `json:"first_error,omitempty"`
}

// CHFSetupStep counts the answers to one step of the setup: Created a 201
// (an assignment always answers 201, a repeat being a no-op) or a top-up
// applied now, Existed an idempotent repeat (200, or a replayed top-up),
// Conflict a 409 (the object exists with other content, or the top-up key
// was used for another amount: left as it is), Failed anything else.
type CHFSetupStep struct {
	Created  uint64 `json:"created"`
	Existed  uint64 `json:"existed"`
	Conflict uint64 `json:"conflict,omitempty"`
	Failed   uint64 `json:"failed,omitempty"`
}

// CHFLoadReport is the measured load. Latency counts from when a request
// was due: in open loop its scheduled time (so queueing behind a slow
// answer counts), in closed loop when it was sent; it ends when the answer's
// body has been read.
type CHFLoadReport struct {
	Mode        string `json:"mode"` // closed or open
	TargetRate  int    `json:"target_rate,omitempty"`
	Concurrency int    `json:"concurrency"`
	Connections int    `json:"connections"`
	Protocol    string `json:"protocol"`
	// ConnectionsOpened counts the TCP connections dialled (reconnections
	// included).
	ConnectionsOpened int64   `json:"connections_opened"`
	WarmupSeconds     float64 `json:"warmup_seconds"`
	Seconds           float64 `json:"seconds"`
	Requests          uint64  `json:"requests"`
	RequestsPerSec    float64 `json:"requests_per_sec"`
	Errors            uint64  `json:"errors"`
	// Missed (open loop) requests were due before the end but never sent:
	// the server (or the generator) could not keep up with the rate.
	Missed   int64            `json:"missed,omitempty"`
	All      CHFKindReport    `json:"all"`
	Create   CHFKindReport    `json:"create"`
	Update   CHFKindReport    `json:"update"`
	Release  CHFKindReport    `json:"release"`
	SMS      CHFKindReport    `json:"sms"`
	Sessions CHFSessionReport `json:"sessions"`
	Runtime  RuntimeReport    `json:"generator_runtime"`
	// ServerCPU is the server's CPU in the window, when its metrics could
	// be read (tollgate serve's /metrics on the --api address).
	ServerCPU *ServerCPUReport `json:"server_cpu,omitempty"`
}

// CHFKindReport is one kind of request (or all of them) in the measured
// window. Errors counts requests not answered with the expected status
// (create and sms 201, update 200, release 204) or whose answer could not be
// read: Status has every HTTP status received, Causes the ProblemDetails
// causes of the error answers, Failures the requests without a usable
// answer (timeout, connection_refused, connection_lost, not_processed
// (GOAWAY or REFUSED_STREAM, after one retry), stream_reset,
// protocol_error, body_too_large, bad_response, no_location …). ResultCodes counts the resultCode of every
// multipleUnitInformation by rating group.
type CHFKindReport struct {
	Requests             uint64                       `json:"requests"`
	RequestsPerSec       float64                      `json:"requests_per_sec"`
	Errors               uint64                       `json:"errors"`
	Latency              Percentiles                  `json:"latency"`
	Status               map[string]uint64            `json:"status,omitempty"`
	Causes               map[string]uint64            `json:"causes,omitempty"`
	Failures             map[string]uint64            `json:"failures,omitempty"`
	ResultCodes          map[string]map[string]uint64 `json:"result_codes,omitempty"`
	FinalUnitIndications uint64                       `json:"final_unit_indications,omitempty"`
	FirstError           string                       `json:"first_error,omitempty"`
}

func (t *chfTally) report(window time.Duration) CHFKindReport {
	r := CHFKindReport{Requests: t.hist.Count(), RequestsPerSec: perSec(t.hist.Count(), window), Errors: t.errors,
		Latency: t.hist.Summary(), FinalUnitIndications: t.finalUnits, FirstError: t.firstErr}
	if len(t.status) > 0 {
		r.Status = map[string]uint64{}
		for k, v := range t.status {
			r.Status[strconv.Itoa(k)] = v
		}
	}
	if len(t.causes) > 0 {
		r.Causes = maps.Clone(t.causes)
	}
	if len(t.failures) > 0 {
		r.Failures = maps.Clone(t.failures)
	}
	if len(t.results) > 0 {
		r.ResultCodes = map[string]map[string]uint64{}
		for rg, m := range t.results {
			codes := map[string]uint64{}
			for c, v := range m {
				codes[string(c)] = v
			}
			r.ResultCodes[strconv.FormatUint(uint64(rg), 10)] = codes
		}
	}
	return r
}

// CHFSessionReport counts PDU sessions. Created, Abandoned (the create
// failed), Completed (released with 204), CutShort (an update failed, so
// the session was released early) and Lost (an update answered 404: the
// CHF no longer knew it) count sessions whose message fell in the measured
// window. ReleasedAfter sessions were still open at the end and released
// after the measurement; ReleaseAfterFailed of those releases failed.
type CHFSessionReport struct {
	Created            uint64 `json:"created"`
	Abandoned          uint64 `json:"abandoned"`
	Completed          uint64 `json:"completed"`
	CutShort           uint64 `json:"cut_short"`
	Lost               uint64 `json:"lost"`
	ReleasedAfter      uint64 `json:"released_after"`
	ReleaseAfterFailed uint64 `json:"release_after_failed,omitempty"`
}

// WriteText writes the report for people.
func (r *CHFReport) WriteText(w io.Writer) error {
	var b strings.Builder
	c := r.Config
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("tollgate bench chf")
	p("  machine     %d CPUs (GOMAXPROCS %d), %s, %s, loadavg at start %s", r.Machine.CPUs, r.Machine.GOMAXPROCS,
		r.Machine.OS, r.Machine.GoVersion, r.Machine.LoadAvg)
	p("  target      %s", c.SBI)
	voice := ""
	if c.VoiceShare > 0 {
		voice = fmt.Sprintf(", %.0f%% also RG %d voice %s", c.VoiceShare*100, chfRGVoice,
			usage.FormatQuantity(uint64(c.VoiceRequestSeconds), usage.Second))
	}
	p("  workload    %d subscribers; sessions of create + %d updates + release, RG %d data %s per grant%s; %.0f%% of messages SMS events (RG %d)",
		c.Subscribers, c.Updates, chfRGData, usage.FormatQuantity(c.DataRequestBytes, usage.Byte), voice, c.SMSShare*100, chfRGSMS)
	if s := r.Setup; s != nil {
		p("")
		p("setup through %s (plan %s %s; per subscriber: account, subscriber, plan assignment, top-up %s EUR)",
			c.API, CHFPlanID, s.Plan, c.TopUp)
		p("  %d requests in %.2fs = %.0f requests/s; latency %s", s.Requests, s.Seconds, s.RequestsPerSec, latencyLine(s.Latency))
		for _, st := range []struct {
			name string
			s    CHFSetupStep
		}{{"account   ", s.Account}, {"subscriber", s.Subscriber}, {"top-up    ", s.TopUp}} {
			p("  %s  %d created, %d existed, %d conflict, %d failed", st.name, st.s.Created, st.s.Existed, st.s.Conflict, st.s.Failed)
		}
		p("  assignment  %d set (a repeat is a no-op, also answered 201), %d failed", s.Assignment.Created, s.Assignment.Failed)
		if s.FirstError != "" {
			p("  first error: %s", s.FirstError)
		}
	}
	l := r.Load
	if l.Mode == "" { // the run stopped before the load
		_, err := io.WriteString(w, b.String())
		return err
	}
	p("")
	mode := "closed loop (as fast as possible)"
	if l.Mode == "open" {
		mode = fmt.Sprintf("open loop, target %d requests/s", l.TargetRate)
	}
	p("load, %s, %d workers over %d %s connections (%d opened)", mode, l.Concurrency, l.Connections, l.Protocol, l.ConnectionsOpened)
	errPct := 0.0
	if l.Requests > 0 {
		errPct = 100 * float64(l.Errors) / float64(l.Requests)
	}
	p("  %d requests in %.2fs (after %.1fs warmup) = %.0f requests/s; %d errors (%.2f%%)", l.Requests, l.Seconds,
		l.WarmupSeconds, l.RequestsPerSec, l.Errors, errPct)
	if l.Missed > 0 {
		p("  MISSED: %d requests were due but never sent (rate not sustained)", l.Missed)
	}
	kinds := []struct {
		name string
		k    CHFKindReport
	}{{"all    ", l.All}, {"create ", l.Create}, {"update ", l.Update}, {"release", l.Release}, {"sms    ", l.SMS}}
	for i, k := range kinds {
		lead := "           "
		if i == 0 {
			lead = "  latency  "
		}
		p("%s%s %6.0f/s %s", lead, k.name, k.k.RequestsPerSec, latencyLine(k.k.Latency))
	}
	for _, k := range kinds[1:] {
		name := strings.TrimSpace(k.name)
		var parts []string
		if len(k.k.Status) > 0 {
			parts = append(parts, "status "+countList(k.k.Status))
		}
		if len(k.k.Causes) > 0 {
			parts = append(parts, "causes "+countList(k.k.Causes))
		}
		if len(k.k.Failures) > 0 {
			parts = append(parts, "failures "+countList(k.k.Failures))
		}
		for _, rg := range slices.SortedFunc(maps.Keys(k.k.ResultCodes), numericLess) {
			parts = append(parts, "RG "+rg+" "+countList(k.k.ResultCodes[rg]))
		}
		if k.k.FinalUnitIndications > 0 {
			parts = append(parts, fmt.Sprintf("finalUnitIndication=%d", k.k.FinalUnitIndications))
		}
		if len(parts) > 0 {
			p("  %-7s  %s", name, strings.Join(parts, "; "))
		}
		if k.k.FirstError != "" {
			p("           first error: %s", k.k.FirstError)
		}
	}
	s := l.Sessions
	p("  sessions: %d created, %d completed, %d abandoned (create failed), %d cut short, %d lost; %d released after the run",
		s.Created, s.Completed, s.Abandoned, s.CutShort, s.Lost, s.ReleasedAfter)
	if s.ReleaseAfterFailed > 0 {
		p("  %d releases after the run failed", s.ReleaseAfterFailed)
	}
	if c := l.ServerCPU; c != nil {
		p("  server CPU (its process_cpu_seconds_total): %.2fs in the window = %.2f cores, %.1f µs per request", c.Seconds, c.Cores, c.MicrosPerRequest)
	}
	rt := l.Runtime
	p("  generator's go runtime: scheduler latency p50 %.3fms p99 %.3fms max %.3fms; %d GC cycles, %.1fms stopped; %.0f MB allocated",
		rt.SchedP50Ms, rt.SchedP99Ms, rt.SchedMaxMs, rt.GCCycles, rt.GCPauseMs, rt.AllocatedMB)
	_, err := io.WriteString(w, b.String())
	return err
}

// countList formats counts as "k=v k=v" in key order.
func countList(m map[string]uint64) string {
	var b strings.Builder
	for i, k := range slices.SortedFunc(maps.Keys(m), numericLess) {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", k, m[k])
	}
	return b.String()
}

// numericLess orders numbers (HTTP statuses, rating groups) by value and
// other strings alphabetically after them.
func numericLess(a, b string) int {
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	switch {
	case errA == nil && errB == nil:
		return x - y
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	}
	return strings.Compare(a, b)
}
