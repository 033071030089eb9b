package cdr

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// fakeClock is a settable clock for Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// numbered returns a valid record that carries n (in recordSequenceNumber
// and chargingDataRef), so that the order of records can be checked.
func numbered(n int) *Record {
	r := partialRecord()
	r.RecordSequenceNumber = uint32(n)
	r.ChargingDataRef = fmt.Sprintf("sess-%d", n)
	return r
}

// newWriter returns a writer on a fresh directory (unless cfg.Dir is set),
// closed at the end of the test.
func newWriter(t *testing.T, cfg Config) *Writer {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	w, err := NewWriter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close(context.Background()) })
	return w
}

// startRun runs w.Run until the test ends and returns its result channel.
func startRun(t *testing.T, w *Writer) (cancel func(), result <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		done <- w.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(5 * time.Second):
			t.Error("Run did not return")
		}
	})
	return cancel, done
}

// waitFor polls cond for up to 3 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func write(t *testing.T, w *Writer, r *Record) {
	t.Helper()
	if err := w.Write(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

// readDir reads every completed file of dir in sequence order and checks
// that no .part is left and every line is one valid JSON object.
func readDir(t *testing.T, dir, prefix string) (files []string, lines [][]byte) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".part") {
			t.Errorf("%s left behind", e.Name())
		}
	}
	files, err = Files(dir, prefix)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if len(b) == 0 {
			t.Errorf("%s is empty", name)
		}
		if len(b) > 0 && b[len(b)-1] != '\n' {
			t.Errorf("%s does not end with a newline", name)
		}
		for _, line := range bytes.SplitAfter(b, []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			line = bytes.TrimSuffix(line, []byte("\n"))
			if !json.Valid(line) || line[0] != '{' {
				t.Fatalf("%s: invalid line %q", name, line)
			}
			lines = append(lines, line)
		}
	}
	return files, lines
}

// checkNumbered checks that lines are numbered(from) … numbered(to-1), each
// exactly once and in order.
func checkNumbered(t *testing.T, lines [][]byte, from, to int) {
	t.Helper()
	if len(lines) != to-from {
		t.Fatalf("%d records read, want %d", len(lines), to-from)
	}
	for i, line := range lines {
		if want := AppendJSON(nil, numbered(from+i)); !bytes.Equal(line, want) {
			t.Fatalf("record %d:\n got %s\nwant %s", i, line, want)
		}
	}
}

func TestWriteCloseReadBack(t *testing.T) {
	w := newWriter(t, Config{})
	startRun(t, w)
	const n = 2000
	for i := range n {
		write(t, w, numbered(i))
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	files, lines := readDir(t, w.cfg.Dir, "chf")
	if len(files) != 1 {
		t.Errorf("files %v, want one", files)
	}
	checkNumbered(t, lines, 0, n)
	var r Record
	if err := json.Unmarshal(lines[7], &r); err != nil || r.ChargingDataRef != "sess-7" || r.Usage[0].Amount != "1.2345" {
		t.Errorf("decoded %+v, %v", r, err)
	}
}

func TestConcurrentWriters(t *testing.T) {
	t.Parallel()
	w := newWriter(t, Config{QueueSize: 64, MaxBytes: 256 << 10})
	startRun(t, w)
	const writers, each = 8, 150
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				if err := w.Write(context.Background(), numbered(g*each+i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, lines := readDir(t, w.cfg.Dir, "chf")
	if len(lines) != writers*each {
		t.Fatalf("%d records, want %d", len(lines), writers*each)
	}
	seen := make(map[uint32]bool)
	last := make(map[int]int) // writer → last index seen: each writer's order is kept
	for _, line := range lines {
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		n := r.RecordSequenceNumber
		if seen[n] {
			t.Fatalf("record %d twice", n)
		}
		seen[n] = true
		g, i := int(n)/each, int(n)%each
		if prev, ok := last[g]; ok && i <= prev {
			t.Fatalf("writer %d: record %d after %d", g, i, prev)
		}
		last[g] = i
	}
}

func TestRotateBySize(t *testing.T) {
	line := len(AppendJSON(nil, numbered(100))) + 1
	maxBytes := int64(3*line + line/2) // three records per file
	w := newWriter(t, Config{MaxBytes: maxBytes})
	startRun(t, w)
	for i := 100; i < 110; i++ {
		write(t, w, numbered(i))
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	files, lines := readDir(t, w.cfg.Dir, "chf")
	checkNumbered(t, lines, 100, 110)
	if len(files) != 4 {
		t.Fatalf("files %v, want 4", files)
	}
	for i, name := range files {
		fi, err := os.Stat(filepath.Join(w.cfg.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > maxBytes {
			t.Errorf("%s: %d bytes > MaxBytes %d", name, fi.Size(), maxBytes)
		}
		if want := fmt.Sprintf("-%06d.jsonl", i+1); !strings.HasSuffix(name, want) {
			t.Errorf("file %d is %s, want suffix %s", i, name, want)
		}
	}
}

func TestRotateWhenFileReachesMaxBytes(t *testing.T) {
	line := int64(len(AppendJSON(nil, numbered(1))) + 1)
	w := newWriter(t, Config{MaxBytes: 2 * line}) // exactly two records
	write(t, w, numbered(1))
	write(t, w, numbered(2))
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The file is full: completed at once, not left open.
	files, lines := readDir(t, w.cfg.Dir, "chf")
	if len(files) != 1 || len(lines) != 2 {
		t.Fatalf("files %v, %d lines", files, len(lines))
	}
}

func TestRecordLargerThanMaxBytes(t *testing.T) {
	w := newWriter(t, Config{MaxBytes: 10})
	write(t, w, numbered(1))
	write(t, w, numbered(2))
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	files, lines := readDir(t, w.cfg.Dir, "chf")
	if len(files) != 2 {
		t.Errorf("files %v, want one per record", files)
	}
	checkNumbered(t, lines, 1, 3)
}

func TestRotateByAge(t *testing.T) {
	clock := newFakeClock()
	w := newWriter(t, Config{MaxAge: time.Minute, Now: clock.Now})
	startRun(t, w)
	ctx := context.Background()
	dir := w.cfg.Dir

	for i := range 3 {
		write(t, w, numbered(i))
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if files, _ := Files(dir, "chf"); len(files) != 0 {
		t.Fatalf("completed too early: %v", files)
	}
	clock.Add(30 * time.Second)
	write(t, w, numbered(3)) // still young: same file
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Add(31 * time.Second)
	write(t, w, numbered(4)) // 61 s old: completed before this one
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	files, _ := Files(dir, "chf")
	if len(files) != 1 || files[0] != "chf-20260501T120000.000-000001.jsonl" {
		t.Fatalf("files %v", files)
	}
	clock.Add(2 * time.Minute)
	if err := w.Flush(ctx); err != nil { // the open file is old: completed without a new record
		t.Fatal(err)
	}
	files, lines := readDir(t, dir, "chf")
	if len(files) != 2 || files[1] != "chf-20260501T120101.000-000002.jsonl" {
		t.Fatalf("files %v", files)
	}
	checkNumbered(t, lines, 0, 5)
}

// TestRotateByAgeTimer lets Run's timer complete an idle file (real clock).
func TestRotateByAgeTimer(t *testing.T) {
	w := newWriter(t, Config{MaxAge: 30 * time.Millisecond})
	startRun(t, w)
	write(t, w, numbered(1))
	waitFor(t, "the idle file to be completed", func() bool {
		files, _ := Files(w.cfg.Dir, "chf")
		return len(files) == 1
	})
	_, lines := readDir(t, w.cfg.Dir, "chf")
	checkNumbered(t, lines, 1, 2)
}

func TestSeqContinuesAcrossWriters(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	run := func(from, to int, maxBytes int64) {
		w := newWriter(t, Config{Dir: dir, MaxBytes: maxBytes})
		for i := from; i < to; i++ {
			write(t, w, numbered(i))
		}
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	line := int64(len(AppendJSON(nil, numbered(1))) + 1)
	run(0, 4, 2*line) // files 1, 2
	run(4, 5, 0)      // file 3
	files, lines := readDir(t, dir, "chf")
	checkNumbered(t, lines, 0, 5)
	for i, name := range files {
		if want := fmt.Sprintf("-%06d.jsonl", i+1); !strings.HasSuffix(name, want) {
			t.Errorf("file %d is %s, want suffix %s", i, name, want)
		}
	}

	// A collector takes every file away: numbering still continues.
	for _, name := range files {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	run(5, 6, 0)
	files, _ = readDir(t, dir, "chf")
	if len(files) != 1 || !strings.HasSuffix(files[0], "-000004.jsonl") {
		t.Fatalf("after collection: %v, want seq 4", files)
	}
}

func TestRecoverPartFiles(t *testing.T) {
	dir := t.TempDir()
	l1, l2 := AppendJSON(nil, numbered(1)), AppendJSON(nil, numbered(2))
	partial := AppendJSON(nil, numbered(3))[:50]
	var content []byte
	content = append(append(append(append(content, l1...), '\n'), l2...), '\n')
	files := map[string][]byte{
		"chf-20260101T000000.000-000007.jsonl.part": append(append([]byte{}, content...), partial...), // crash mid-line
		"chf-20260101T000100.000-000008.jsonl.part": content,                                          // complete
		"chf-20260101T000200.000-000009.jsonl.part": partial,                                          // nothing complete
		"chf-20260101T000300.000-000010.jsonl.part": {},                                               // empty
		"other-20260101T000000.000-000099.jsonl":    l1,                                               // other prefix: ignored
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	var logs bytes.Buffer
	w := newWriter(t, Config{Dir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})

	got, _ := Files(dir, "chf")
	want := []string{"chf-20260101T000000.000-000007.jsonl", "chf-20260101T000100.000-000008.jsonl"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("after recovery: %v, want %v", got, want)
	}
	for _, name := range want {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, content) {
			t.Errorf("%s:\n%s\nwant\n%s", name, b, content)
		}
	}
	for _, gone := range []string{"chf-20260101T000200.000-000009.jsonl.part", "chf-20260101T000300.000-000010.jsonl.part"} {
		if _, err := os.Stat(filepath.Join(dir, gone)); !os.IsNotExist(err) {
			t.Errorf("%s: not removed (%v)", gone, err)
		}
	}
	for _, msg := range []string{"incomplete last line dropped", "dropped_bytes=50", "removed leftover file"} {
		if !strings.Contains(logs.String(), msg) {
			t.Errorf("log lacks %q:\n%s", msg, logs.String())
		}
	}

	// The next file continues after the highest seq, including removed ones.
	write(t, w, numbered(4))
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, _ = Files(dir, "chf")
	if len(got) != 3 || !strings.HasSuffix(got[2], "-000011.jsonl") {
		t.Fatalf("files %v, want a third with seq 11", got)
	}
}

func TestRecoverLongPartFile(t *testing.T) {
	dir := t.TempDir()
	// A long file whose incomplete last line is longer than one read chunk.
	var b []byte
	for i := range 500 {
		b = append(append(b, AppendJSON(nil, numbered(i))...), '\n')
	}
	complete := len(b)
	b = append(b, bytes.Repeat([]byte("x"), 100<<10)...)
	name := "chf-20260101T000000.000-000001.jsonl"
	if err := os.WriteFile(filepath.Join(dir, name+".part"), b, 0o640); err != nil {
		t.Fatal(err)
	}
	newWriter(t, Config{Dir: dir})
	fi, err := os.Stat(filepath.Join(dir, name))
	if err != nil || fi.Size() != int64(complete) {
		t.Fatalf("recovered file: %v, %v; want %d bytes", fi, err, complete)
	}
	_, lines := readDir(t, dir, "chf")
	checkNumbered(t, lines, 0, 500)
}

// TestBackPressure blocks Run (its clock waits when it opens a file), fills
// the queue and checks that Write waits, gives up with ctx, and that every
// record it accepted is written.
func TestBackPressure(t *testing.T) {
	gate := make(chan struct{})
	var once sync.Once
	entered := make(chan struct{})
	clock := func() time.Time {
		once.Do(func() { close(entered) })
		<-gate
		return time.Now()
	}
	w := newWriter(t, Config{QueueSize: 1, Now: clock})
	startRun(t, w)
	release := sync.OnceFunc(func() { close(gate) })
	t.Cleanup(release) // runs before Run's cleanup waits for it

	accepted := 0
	var err error
	for i := 0; i < 10; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		start := time.Now()
		err = w.Write(ctx, numbered(i))
		cancel()
		if err != nil {
			if took := time.Since(start); took < 40*time.Millisecond {
				t.Errorf("Write gave up after %s, before its deadline", took)
			}
			break
		}
		accepted++
		if i == 0 {
			<-entered // Run holds record 0 and is blocked
		}
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Write on a full queue: %v, want context.DeadlineExceeded", err)
	}
	if accepted != 2 { // one held by Run, one queued
		t.Errorf("%d records accepted with QueueSize 1, want 2", accepted)
	}
	release()
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, lines := readDir(t, w.cfg.Dir, "chf")
	checkNumbered(t, lines, 0, accepted)
}

func TestBackPressureWithoutRun(t *testing.T) {
	w := newWriter(t, Config{QueueSize: 1})
	write(t, w, numbered(1))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := w.Write(ctx, numbered(2)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Write on a full queue: %v", err)
	}
	if err := w.Close(context.Background()); err != nil { // no Run: Close writes
		t.Fatal(err)
	}
	_, lines := readDir(t, w.cfg.Dir, "chf")
	checkNumbered(t, lines, 1, 2)
}

// TestCloseReleasesBlockedWrite: a Write waiting for room gets ErrClosed
// when Close starts; it was not accepted and is not written.
func TestCloseReleasesBlockedWrite(t *testing.T) {
	w := newWriter(t, Config{QueueSize: 1})
	write(t, w, numbered(1))
	errc := make(chan error, 1)
	go func() { errc <- w.Write(context.Background(), numbered(2)) }()
	time.Sleep(10 * time.Millisecond)
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("blocked Write: %v, want ErrClosed", err)
	}
	_, lines := readDir(t, w.cfg.Dir, "chf")
	checkNumbered(t, lines, 1, 2)
}

func TestInvalidRecordRejected(t *testing.T) {
	reg := prometheus.NewRegistry()
	w := newWriter(t, Config{Registerer: reg})
	r := numbered(1)
	r.Usage[0].Amount = "0.1e2"
	err := w.Write(context.Background(), r)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `listOfMultipleUnitUsage[0].amount: "0.1e2" is not an exact decimal`) {
		t.Fatalf("Write(invalid): %v", err)
	}
	write(t, w, numbered(2))
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, lines := readDir(t, w.cfg.Dir, "chf")
	checkNumbered(t, lines, 2, 3)
	expectMetrics(t, reg, map[string]float64{
		`tollgate_cdr_records_total{result="invalid"}`: 1,
		`tollgate_cdr_records_total{result="written"}`: 1,
	})
}

func TestClosed(t *testing.T) {
	w := newWriter(t, Config{})
	ctx := context.Background()
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, numbered(1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	if err := w.Run(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Run after Close: %v", err)
	}
	if err := w.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := w.Flush(ctx); err != nil {
		t.Errorf("Flush after Close: %v", err)
	}
	if entries, _ := os.ReadDir(w.cfg.Dir); len(entries) != 0 {
		t.Errorf("files left by a writer that wrote nothing: %v", entries)
	}
}

func TestCloseWaitsForRun(t *testing.T) {
	w := newWriter(t, Config{})
	_, result := startRun(t, w)
	write(t, w, numbered(0))
	waitFor(t, "Run to write", func() bool {
		parts, _ := filepath.Glob(filepath.Join(w.cfg.Dir, "*.part"))
		return len(parts) == 1
	})
	for i := 1; i < 100; i++ {
		write(t, w, numbered(i))
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-result:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Run still running after Close")
	}
	_, lines := readDir(t, w.cfg.Dir, "chf")
	checkNumbered(t, lines, 0, 100)
}

// TestRunCancelled: a cancelled Run completes the open file; records
// accepted afterwards are written by Close.
func TestRunCancelled(t *testing.T) {
	w := newWriter(t, Config{})
	cancel, result := startRun(t, w)
	for i := range 10 {
		write(t, w, numbered(i))
	}
	cancel()
	if err := <-result; err != nil {
		t.Fatalf("Run: %v", err)
	}
	files, lines := readDir(t, w.cfg.Dir, "chf")
	if len(files) != 1 {
		t.Fatalf("files after Run returned: %v", files)
	}
	checkNumbered(t, lines, 0, 10)
	write(t, w, numbered(10))
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	files, lines = readDir(t, w.cfg.Dir, "chf")
	if len(files) != 2 {
		t.Fatalf("files after Close: %v", files)
	}
	checkNumbered(t, lines, 0, 11)
}

func TestFlush(t *testing.T) {
	for _, withRun := range []bool{true, false} {
		t.Run(fmt.Sprint("run=", withRun), func(t *testing.T) {
			w := newWriter(t, Config{FsyncEvery: -1})
			if withRun {
				startRun(t, w)
			}
			for i := range 5 {
				write(t, w, numbered(i))
			}
			if err := w.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			parts, _ := filepath.Glob(filepath.Join(w.cfg.Dir, "*.jsonl.part"))
			if len(parts) != 1 {
				t.Fatalf(".part files: %v", parts)
			}
			b, err := os.ReadFile(parts[0])
			if err != nil {
				t.Fatal(err)
			}
			if n := bytes.Count(b, []byte("\n")); n != 5 {
				t.Fatalf("%d lines in the open file after Flush, want 5", n)
			}
		})
	}
}

func TestPeriodicFsync(t *testing.T) {
	w := newWriter(t, Config{FsyncEvery: time.Millisecond})
	startRun(t, w)
	for i := range 50 {
		write(t, w, numbered(i))
		if i%10 == 0 {
			time.Sleep(2 * time.Millisecond)
		}
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, lines := readDir(t, w.cfg.Dir, "chf")
	checkNumbered(t, lines, 0, 50)
}

// TestIOErrorStopsWriter: when the directory disappears, Run returns the
// error and Write reports it instead of blocking.
func TestIOErrorStopsWriter(t *testing.T) {
	w := newWriter(t, Config{})
	_, result := startRun(t, w)
	if err := os.RemoveAll(w.cfg.Dir); err != nil {
		t.Fatal(err)
	}
	write(t, w, numbered(1))
	select {
	case err := <-result:
		if err == nil || !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("Run: %v, want a not-exist error", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not stop")
	}
	if err := w.Write(context.Background(), numbered(2)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Write after the failure: %v", err)
	}
	if err := w.Flush(context.Background()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Flush after the failure: %v", err)
	}
	if err := w.Close(context.Background()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Close after the failure: %v", err)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	line := int64(len(AppendJSON(nil, numbered(1))) + 1)
	w := newWriter(t, Config{Registerer: reg, MaxBytes: 2 * line})
	for i := range 5 {
		write(t, w, numbered(i))
	}
	expectMetrics(t, reg, map[string]float64{"tollgate_cdr_queue_depth": 5})
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	expectMetrics(t, reg, map[string]float64{
		"tollgate_cdr_files_total":                     3,
		"tollgate_cdr_queue_depth":                     0,
		`tollgate_cdr_records_total{result="invalid"}`: 0,
		`tollgate_cdr_records_total{result="written"}`: 5,
	})
	if got := gather(t, reg)["tollgate_cdr_write_seconds_count"]; got < 1 {
		t.Errorf("tollgate_cdr_write_seconds_count = %v", got)
	}

	// A second writer on the same registry shares the counters.
	w2 := newWriter(t, Config{Registerer: reg})
	write(t, w2, numbered(9))
	if err := w2.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	expectMetrics(t, reg, map[string]float64{`tollgate_cdr_records_total{result="written"}`: 6, "tollgate_cdr_files_total": 4})
}

// gather returns the values of reg's metrics by name{label="value",…};
// a histogram gives name_count.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]float64)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				out[key+"_count"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

func expectMetrics(t *testing.T, reg *prometheus.Registry, want map[string]float64) {
	t.Helper()
	got := gather(t, reg)
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
}

func TestConfig(t *testing.T) {
	_, err := NewWriter(Config{Prefix: "../x", MaxBytes: -1, MaxAge: -1, QueueSize: -1})
	for _, want := range []string{"dir is empty", `prefix "../x"`, "max bytes -1", "max age -1ns", "queue size -1"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("config error %v lacks %q", err, want)
		}
	}
	for _, p := range []string{"chf", "chf-node1", "a.b_c", "9"} {
		if !validPrefix(p) {
			t.Errorf("prefix %q rejected", p)
		}
	}
	for _, p := range []string{".chf", "-x", "a/b", `a\b`, "a b", "ü"} {
		if validPrefix(p) {
			t.Errorf("prefix %q accepted", p)
		}
	}
	c := Config{Dir: "d"}.withDefaults()
	if c.Prefix != "chf" || c.MaxBytes != 64<<20 || c.MaxAge != 5*time.Minute || c.QueueSize != 65536 || c.FsyncEvery != time.Second {
		t.Errorf("defaults: %+v", c)
	}
	if c := (Config{FsyncEvery: -1}).withDefaults(); c.FsyncEvery >= 0 {
		t.Errorf("negative FsyncEvery replaced: %v", c.FsyncEvery)
	}
}

func TestFileNames(t *testing.T) {
	at := time.Date(2026, 12, 31, 23, 59, 58, 987654321, time.FixedZone("X", 3600))
	if got, want := fileName("chf", at, 42), "chf-20261231T225958.987-000042.jsonl"; got != want {
		t.Errorf("fileName = %s, want %s", got, want)
	}
	if got, want := fileName("chf", at, 1234567), "chf-20261231T225958.987-1234567.jsonl"; got != want {
		t.Errorf("fileName = %s, want %s", got, want)
	}
	cases := []struct {
		prefix, name string
		seq          uint64
		part, ok     bool
	}{
		{"chf", "chf-20261231T225958.987-000042.jsonl", 42, false, true},
		{"chf", "chf-20261231T225958.987-000042.jsonl.part", 42, true, true},
		{"chf", "chf-20261231T225958.987-1234567.jsonl", 1234567, false, true},
		{"chf-a", "chf-a-20261231T225958.987-000001.jsonl", 1, false, true},
		{"chf", "chf-a-20261231T225958.987-000001.jsonl", 0, false, false},
		{"chf", "chf-20261231T225958.987-000042.json", 0, false, false},
		{"chf", "chf-20261231T225958.987-.jsonl", 0, false, false},
		{"chf", "chf-20261231T225958.987-00004x.jsonl", 0, false, false},
		{"chf", "chf-20261331T225958.987-000042.jsonl", 0, false, false},
		{"chf", "chf-20261231T225958.987-99999999999999999999999.jsonl", 0, false, false},
		{"chf", ".chf.seq", 0, false, false},
		{"chf", "cdr-20261231T225958.987-000042.jsonl", 0, false, false},
	}
	for _, c := range cases {
		seq, part, ok := parseName(c.prefix, c.name)
		if seq != c.seq || part != c.part || ok != c.ok {
			t.Errorf("parseName(%q, %q) = %d, %v, %v; want %d, %v, %v", c.prefix, c.name, seq, part, ok, c.seq, c.part, c.ok)
		}
	}
}

// TestFilesAreLines reads a file the way a line-oriented collector does.
func TestFilesAreLines(t *testing.T) {
	w := newWriter(t, Config{})
	for _, s := range trickyStrings {
		r := numbered(1)
		r.GPSI = s
		write(t, w, r)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	files, _ := Files(w.cfg.Dir, "chf")
	f, err := os.Open(filepath.Join(w.cfg.Dir, files[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		n++
	}
	if n != len(trickyStrings) {
		t.Fatalf("%d lines, want %d", n, len(trickyStrings))
	}
}
