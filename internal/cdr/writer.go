package cdr

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Config.
const (
	DefaultPrefix     = "chf"
	DefaultMaxBytes   = 64 << 20
	DefaultMaxAge     = 5 * time.Minute
	DefaultQueueSize  = 65536
	DefaultFsyncEvery = time.Second
)

// ErrClosed is returned by Write after Close, and by Run after Close.
var ErrClosed = errors.New("cdr: writer closed")

// Config configures a Writer. Zero values take the defaults.
type Config struct {
	// Dir receives the files, e.g. <data_dir>/cdr/chf; it is created if
	// missing. One Writer per Dir and Prefix.
	Dir string
	// Prefix starts every file name (default "chf"): letters, digits, '_',
	// '-' and '.', starting with a letter or digit.
	Prefix string
	// MaxBytes is the size at which the open file is completed (default
	// 64 MiB). A file is never larger unless one record is.
	MaxBytes int64
	// MaxAge completes an open file once it is this old (default 5 min). A
	// file is opened only to write a record, so it is never empty.
	MaxAge time.Duration
	// QueueSize is the number of records accepted by Write and not yet
	// written that memory holds (default 65536); Write blocks beyond it.
	QueueSize int
	// FsyncEvery is the longest a written record waits for fsync (default
	// 1 s), and so the shortest interval between two periodic fsyncs. A
	// negative value turns periodic fsync off: records are then fsynced only
	// when their file is completed, by Flush and by Close.
	FsyncEvery time.Duration
	// Now is the clock of file names and file age (default time.Now).
	Now func() time.Time
	// Registerer, if set, receives the writer's metrics.
	Registerer prometheus.Registerer
	// Logger receives recoveries and errors (default: discard).
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.MaxAge == 0 {
		c.MaxAge = DefaultMaxAge
	}
	if c.QueueSize == 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.FsyncEvery == 0 {
		c.FsyncEvery = DefaultFsyncEvery
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// validate reports every problem of a defaulted config.
func (c Config) validate() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("cdr: config: dir is empty"))
	}
	if !validPrefix(c.Prefix) {
		errs = append(errs, fmt.Errorf("cdr: config: prefix %q: use letters, digits, '_', '-' and '.', starting with a letter or digit", c.Prefix))
	}
	if c.MaxBytes < 0 {
		errs = append(errs, fmt.Errorf("cdr: config: max bytes %d is negative", c.MaxBytes))
	}
	if c.MaxAge < 0 {
		errs = append(errs, fmt.Errorf("cdr: config: max age %s is negative", c.MaxAge))
	}
	if c.QueueSize < 0 {
		errs = append(errs, fmt.Errorf("cdr: config: queue size %d is negative", c.QueueSize))
	}
	return errors.Join(errs...)
}

func validPrefix(p string) bool {
	if p == "" {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '_' && c != '-' && c != '.') {
			return false
		}
	}
	return true
}

// Tuning of the writing goroutine.
const (
	bufSize    = 256 << 10 // bufio buffer: a batch up to this size is one write(2)
	maxPoolBuf = 64 << 10  // larger encode buffers are not pooled
)

// Writer writes CHF-CDRs to rotating JSON Lines files off the request path:
// Write validates, encodes and queues a record; Run, one goroutine, writes
// what is queued in batches. See the package documentation for the file
// lifecycle, the durability promise and the lock order.
type Writer struct {
	cfg  Config
	log  *slog.Logger
	m    *metrics
	bufs sync.Pool // of *[]byte, encoded lines

	// mu is held shared by Write around its send to queue, and taken
	// exclusively once by Close, after closing closed, as a barrier: when
	// Close has it, no Write can still add to the queue.
	mu        sync.RWMutex
	queue     chan *[]byte  // encoded lines, each ending in '\n'
	closed    chan struct{} // closed when Close starts: Write refuses
	stop      chan struct{} // closed after the barrier: the queue is complete
	closeOnce sync.Once

	// sem (capacity 1) is held by whoever writes files: Run for its whole
	// life, or Flush and Close when no Run is active. The holder owns out.
	sem      chan struct{}
	flushReq chan chan error // Flush → Run

	failed   chan struct{} // closed when an I/O error stopped the writer
	failOnce sync.Once
	err      error // the I/O error; set before failed is closed

	out output
}

// output is the open file; owned by the holder of Writer.sem.
type output struct {
	f      *os.File
	bw     *bufio.Writer
	base   string // final name, without ".part"
	size   int64
	lines  int
	opened time.Time
	gen    uint64 // incremented at each open (re-arms Run's age timer)
	dirty  bool   // written since the last fsync
	seq    uint64 // last sequence number used
}

// NewWriter creates cfg.Dir if needed, finalizes the ".part" files a crash
// left there (cutting an incomplete last line) and finds the next sequence
// number. Nothing is written until Run (or Flush, or Close) runs.
func NewWriter(cfg Config) (*Writer, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, dirPerm); err != nil {
		return nil, fmt.Errorf("cdr: %w", err)
	}
	w := &Writer{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "cdr", "dir", cfg.Dir),
		queue:    make(chan *[]byte, cfg.QueueSize),
		closed:   make(chan struct{}),
		stop:     make(chan struct{}),
		sem:      make(chan struct{}, 1),
		flushReq: make(chan chan error),
		failed:   make(chan struct{}),
	}
	w.m = newMetrics(cfg.Registerer, func() int { return len(w.queue) }, w.log)
	seq, err := w.recoverDir()
	if err != nil {
		return nil, err
	}
	w.out.seq = seq
	w.out.bw = bufio.NewWriterSize(nil, bufSize)
	return w, nil
}

// Write validates r and queues a copy of it (its JSON line): r may be
// reused as soon as Write returns. An invalid record is counted and
// returned as the error of Validate; nothing is written. When the queue is
// full, Write waits for room — it never drops a record — until ctx ends
// (then it returns ctx.Err() and the record is not accepted). After Close it
// returns ErrClosed; after an I/O error stopped the writer, that error.
func (w *Writer) Write(ctx context.Context, r *Record) error {
	select {
	case <-w.closed:
		return ErrClosed
	case <-w.failed:
		return w.err
	default:
	}
	if err := r.Validate(); err != nil {
		w.m.invalid.Inc()
		return err
	}
	bp := w.getBuf()
	*bp = append(AppendJSON((*bp)[:0], r), '\n')

	w.mu.RLock()
	defer w.mu.RUnlock()
	select {
	case <-w.closed:
		w.putBuf(bp)
		return ErrClosed
	case <-w.failed:
		w.putBuf(bp)
		return w.err
	case w.queue <- bp:
		return nil
	default:
	}
	select {
	case w.queue <- bp:
		return nil
	case <-ctx.Done():
		w.putBuf(bp)
		return ctx.Err()
	case <-w.closed:
		w.putBuf(bp)
		return ErrClosed
	case <-w.failed:
		w.putBuf(bp)
		return w.err
	}
}

// Run is the goroutine that writes: it takes whatever is queued as one
// batch (one write system call per batch of up to 256 KiB), completes the
// open file when it reaches MaxBytes or MaxAge, and fsyncs it FsyncEvery.
// When ctx ends it writes what is queued at that moment, completes the open
// file and returns nil; records accepted later are written by the next Run
// or by Close. After Close has stopped it, it returns nil; called after
// Close, ErrClosed. An I/O error stops the writer: Run returns it, and so do
// every later Write, Flush and Close (what was written stays in the .part
// file, which the next NewWriter recovers). One Run is active at a time; a
// second one waits for the first to return.
func (w *Writer) Run(ctx context.Context) error {
	select {
	case <-w.stop:
		return ErrClosed
	case <-w.failed:
		return w.err
	default:
	}
	select {
	case w.sem <- struct{}{}: // even if ctx has ended: then drain and return
	default:
		select {
		case w.sem <- struct{}{}:
		case <-ctx.Done():
			return nil // another Run, Flush or Close is writing
		case <-w.stop:
			return ErrClosed
		}
	}
	defer func() { <-w.sem }()
	if w.isFailed() {
		return w.err
	}

	ageTimer := time.NewTimer(time.Hour)
	ageTimer.Stop()
	defer ageTimer.Stop()
	var ageGen uint64 // out.gen the age timer is armed for; 0: none
	syncTimer := time.NewTimer(time.Hour)
	syncTimer.Stop()
	defer syncTimer.Stop()
	syncArmed := false

	for {
		o := &w.out
		if o.f != nil && ageGen != o.gen {
			ageTimer.Reset(max(w.cfg.MaxAge-w.cfg.Now().Sub(o.opened), time.Millisecond))
			ageGen = o.gen
		}
		if o.dirty && !syncArmed && w.cfg.FsyncEvery > 0 {
			syncTimer.Reset(w.cfg.FsyncEvery)
			syncArmed = true
		}

		var err error
		select {
		case bp := <-w.queue:
			_, err = w.writeBatch(bp, -1)
		case <-ageTimer.C:
			ageGen = 0 // re-armed above for what is still open
			err = w.rotateIfOld(w.cfg.Now())
		case <-syncTimer.C:
			syncArmed = false
			err = w.sync()
		case req := <-w.flushReq:
			err = w.flushNow()
			req <- err
		case <-w.stop:
			if err := w.drainAndFinalize(-1); err != nil {
				return w.fail(err)
			}
			return nil
		case <-ctx.Done():
			if err := w.drainAndFinalize(len(w.queue)); err != nil {
				return w.fail(err)
			}
			return nil
		}
		if err != nil {
			return w.fail(err)
		}
	}
}

// Flush returns once every record whose Write returned before Flush was
// called is written and fsynced (in the open ".part" file, or in a completed
// one). It asks a running Run, or does the work itself when none is.
func (w *Writer) Flush(ctx context.Context) error {
	req := make(chan error, 1)
	select {
	case w.sem <- struct{}{}:
		defer func() { <-w.sem }()
		if w.isFailed() {
			return w.err
		}
		if err := w.flushNow(); err != nil {
			return w.fail(err)
		}
		return nil
	case w.flushReq <- req:
		select {
		case err := <-req:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	case <-w.failed:
		return w.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops accepting records (Write returns ErrClosed), writes every
// record accepted before, and completes the open file. If Run is active,
// Close waits for it to do so; otherwise it does the work itself. If ctx
// ends first, Close returns ctx.Err() and a running Run carries on. Close
// may be called more than once.
func (w *Writer) Close(ctx context.Context) error {
	w.closeOnce.Do(func() {
		close(w.closed)
		w.mu.Lock() // barrier: every Write that got in has queued its record
		w.mu.Unlock()
		close(w.stop)
	})
	select {
	case w.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-w.sem }()
	if w.isFailed() {
		return w.err
	}
	if err := w.drainAndFinalize(-1); err != nil {
		return w.fail(err)
	}
	return nil
}

func (w *Writer) isFailed() bool {
	select {
	case <-w.failed:
		return true
	default:
		return false
	}
}

// fail stops the writer after an I/O error. The open file is closed as it
// is, left as ".part" for the next start to recover.
func (w *Writer) fail(err error) error {
	w.failOnce.Do(func() {
		w.err = err
		close(w.failed)
	})
	o := &w.out
	if o.f != nil {
		w.log.Error("cdr: writer stopped by an I/O error; records still queued are lost", "file", o.base+".part", "queued", len(w.queue), "err", err)
		_ = o.f.Close()
		o.f = nil
	} else {
		w.log.Error("cdr: writer stopped by an I/O error; records still queued are lost", "queued", len(w.queue), "err", err)
	}
	return w.err
}

func (w *Writer) getBuf() *[]byte {
	if v := w.bufs.Get(); v != nil {
		return v.(*[]byte)
	}
	b := make([]byte, 0, 1024)
	return &b
}

func (w *Writer) putBuf(bp *[]byte) {
	if cap(*bp) <= maxPoolBuf {
		w.bufs.Put(bp)
	}
}

// writeBatch writes first and whatever else is queued, up to limit records
// (limit < 0: no limit) and about bufSize bytes, then hands the batch to the
// kernel in one write. It returns the number of records written.
func (w *Writer) writeBatch(first *[]byte, limit int) (int, error) {
	start := time.Now()
	now := w.cfg.Now()
	if err := w.rotateIfOld(now); err != nil {
		return 0, err
	}
	n, bytes := 0, 0
	for bp := first; ; {
		err := w.writeLine(*bp, now)
		bytes += len(*bp)
		n++
		w.putBuf(bp)
		if err != nil {
			return n, err
		}
		if bytes >= bufSize || (limit >= 0 && n >= limit) {
			break
		}
		select {
		case bp = <-w.queue:
			continue
		default:
		}
		break
	}
	if w.out.f != nil {
		if err := w.out.bw.Flush(); err != nil {
			return n, fmt.Errorf("cdr: write %s: %w", w.out.base+".part", err)
		}
	}
	w.m.observeWrite(time.Since(start), n)
	return n, nil
}

// writeLine appends one line to the open file, opening one first if none is
// open and completing the open one first if the line would take it past
// MaxBytes, or after it if the file has reached MaxBytes.
func (w *Writer) writeLine(line []byte, now time.Time) error {
	o := &w.out
	if o.f != nil && o.size > 0 && o.size+int64(len(line)) > w.cfg.MaxBytes {
		if err := w.finalize(); err != nil {
			return err
		}
	}
	if o.f == nil {
		if err := w.open(now); err != nil {
			return err
		}
	}
	if _, err := o.bw.Write(line); err != nil {
		return fmt.Errorf("cdr: write %s: %w", o.base+".part", err)
	}
	o.size += int64(len(line))
	o.lines++
	o.dirty = true
	if o.size >= w.cfg.MaxBytes {
		return w.finalize()
	}
	return nil
}

// open creates the next ".part" file.
func (w *Writer) open(now time.Time) error {
	o := &w.out
	seq := o.seq + 1
	base := fileName(w.cfg.Prefix, now, seq)
	path := filepath.Join(w.cfg.Dir, base+".part")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
	if err != nil {
		return fmt.Errorf("cdr: %w", err)
	}
	o.seq = seq // used, even if what follows fails: never reuse a name
	if err := writeSeq(w.cfg.Dir, w.cfg.Prefix, seq); err != nil {
		_ = f.Close()
		return fmt.Errorf("cdr: sequence file: %w", err)
	}
	if err := syncDir(w.cfg.Dir); err != nil {
		_ = f.Close()
		return fmt.Errorf("cdr: %w", err)
	}
	o.f, o.base, o.size, o.lines, o.opened, o.dirty = f, base, 0, 0, now, false
	o.gen++
	o.bw.Reset(f)
	return nil
}

// finalize completes the open file: flush, fsync, close, rename to .jsonl,
// fsync the directory.
func (w *Writer) finalize() error {
	o := &w.out
	if o.f == nil {
		return nil
	}
	part := filepath.Join(w.cfg.Dir, o.base+".part")
	err := o.bw.Flush()
	if err == nil {
		err = o.f.Sync()
	}
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	o.f = nil
	if err != nil {
		return fmt.Errorf("cdr: complete %s: %w", part, err)
	}
	if o.size == 0 {
		err = os.Remove(part) // not reached: files open only to be written
	} else {
		err = os.Rename(part, filepath.Join(w.cfg.Dir, o.base))
	}
	if err == nil {
		err = syncDir(w.cfg.Dir)
	}
	if err != nil {
		return fmt.Errorf("cdr: complete %s: %w", part, err)
	}
	o.dirty = false
	if o.size > 0 {
		w.m.files.Inc()
		w.log.Debug("cdr: file completed", "file", o.base, "records", o.lines, "bytes", o.size)
	}
	return nil
}

// rotateIfOld completes the open file if it has reached MaxAge at now.
func (w *Writer) rotateIfOld(now time.Time) error {
	if w.out.f != nil && now.Sub(w.out.opened) >= w.cfg.MaxAge {
		return w.finalize()
	}
	return nil
}

// sync fsyncs the open file if anything was written since the last fsync.
func (w *Writer) sync() error {
	o := &w.out
	if o.f == nil || !o.dirty {
		return nil
	}
	err := o.bw.Flush()
	if err == nil {
		err = o.f.Sync()
	}
	if err != nil {
		return fmt.Errorf("cdr: fsync %s: %w", o.base+".part", err)
	}
	o.dirty = false
	return nil
}

// flushNow writes the records queued now and fsyncs them.
func (w *Writer) flushNow() error {
	if err := w.rotateIfOld(w.cfg.Now()); err != nil {
		return err
	}
	if err := w.drain(len(w.queue)); err != nil {
		return err
	}
	return w.sync()
}

// drain writes up to n queued records (n < 0: until the queue is empty).
func (w *Writer) drain(n int) error {
	for n != 0 {
		select {
		case bp := <-w.queue:
			k, err := w.writeBatch(bp, n)
			if err != nil {
				return err
			}
			if n > 0 {
				n -= k
			}
		default:
			return nil
		}
	}
	return nil
}

func (w *Writer) drainAndFinalize(n int) error {
	if err := w.drain(n); err != nil {
		return err
	}
	return w.finalize()
}

// Files returns the names of the completed files in dir written with
// prefix (the collector's view), in sequence order.
func Files(dir, prefix string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	type file struct {
		name string
		seq  uint64
	}
	var files []file
	for _, e := range entries {
		if seq, part, ok := parseName(prefix, e.Name()); ok && !part && !e.IsDir() {
			files = append(files, file{e.Name(), seq})
		}
	}
	slices.SortFunc(files, func(a, b file) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.name
	}
	return names, nil
}
