package h2

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// goid is the id of the calling goroutine (from its stack header).
func goid() int {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	id, _ := strconv.Atoi(string(b[:bytes.IndexByte(b, ' ')]))
	return id
}

type goidHandler struct {
	mu   sync.Mutex
	seen map[int]int
	gate chan struct{}
}

func (h *goidHandler) ServeH2(ctx context.Context, req *Request, res *Response) {
	h.mu.Lock()
	h.seen[goid()]++
	h.mu.Unlock()
	if req.Path == "/gate" {
		<-h.gate
	}
	res.Status = http.StatusOK
}

// TestServerWorkers: handlers run on goroutines that are reused (a new
// goroutine per request regrows its stack every time); at most
// maxIdleWorkers wait after a burst, and Shutdown ends them.
func TestServerWorkers(t *testing.T) {
	h := &goidHandler{seen: map[int]int{}, gate: make(chan struct{})}
	s, addr := startServer(t, h, nil, nil)
	client := h2cClient()
	get := func(path string) {
		res, err := client.Get("http://" + addr + path)
		if err != nil {
			t.Error(err)
			return
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d", path, res.StatusCode)
		}
	}
	const sequential = 50
	for range sequential {
		get("/")
	}
	h.mu.Lock()
	if n := len(h.seen); n > 3 {
		t.Errorf("%d sequential requests ran on %d goroutines; want them reused", sequential, n)
	}
	h.mu.Unlock()

	// A burst wider than the idle bound: every request waits at the gate
	// until all have arrived, so each needs a goroutine of its own.
	const burst = maxIdleWorkers + 100
	var wg sync.WaitGroup
	for range burst {
		wg.Go(func() { get("/gate") })
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.handlers.Load() < burst && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := s.handlers.Load(); n != burst {
		t.Fatalf("%d handlers running; want %d", n, burst)
	}
	close(h.gate)
	wg.Wait()
	for s.handlers.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := s.workers.idle.Load(); n > maxIdleWorkers || n < 1 {
		t.Errorf("%d idle workers after a burst of %d; want 1..%d", n, burst, maxIdleWorkers)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for s.workers.idle.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := s.workers.idle.Load(); n != 0 {
		t.Errorf("%d workers still wait after Shutdown", n)
	}
}
