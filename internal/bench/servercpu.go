package bench

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ServerCPUReport is the CPU the server under test used in the measured
// window, read from its Prometheus metrics (process_cpu_seconds_total at
// {api}/metrics) at the window's start and end. On a shared machine whose
// speed varies it is a steadier figure than throughput: the cost of a
// request does not depend on how many others ran.
type ServerCPUReport struct {
	Seconds          float64 `json:"seconds"`
	Cores            float64 `json:"cores"`              // Seconds per second of the window
	MicrosPerRequest float64 `json:"micros_per_request"` // Seconds per measured request
}

// serverCPU reads the server's process_cpu_seconds_total from
// {api}/metrics; ok is false when it cannot (no such endpoint or metric).
func serverCPU(ctx context.Context, api string) (seconds float64, ok bool) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, api+"/metrics", nil)
	if err != nil {
		return 0, false
	}
	req.Header.Set("Accept", "text/plain")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, false
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return 0, false
	}
	return processCPU(bufio.NewScanner(res.Body))
}

// processCPU finds process_cpu_seconds_total in Prometheus text.
func processCPU(sc *bufio.Scanner) (float64, bool) {
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		v, found := strings.CutPrefix(sc.Text(), "process_cpu_seconds_total ")
		if !found {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return f, err == nil && f >= 0
	}
	return 0, false
}

// cpuWindow reads the server's CPU at from and at to (each a read once the
// time has come); the result is ready on the channel when both were read,
// or closed empty when either failed or ctx ended.
func cpuWindow(ctx context.Context, api string, from, to time.Time) <-chan float64 {
	out := make(chan float64, 1)
	go func() {
		defer close(out)
		read := func(at time.Time) (float64, bool) {
			select {
			case <-time.After(time.Until(at)):
			case <-ctx.Done():
				return 0, false
			}
			return serverCPU(ctx, api)
		}
		c0, ok := read(from)
		if !ok {
			return
		}
		c1, ok := read(to)
		if ok && c1 >= c0 {
			out <- c1 - c0
		}
	}()
	return out
}
