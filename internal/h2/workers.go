package h2

import (
	"sync"
	"sync/atomic"
)

// maxIdleWorkers bounds the handler goroutines kept waiting for the next
// request; more than that exit when their request is answered.
const maxIdleWorkers = 256

// workers run handlers on goroutines that outlive one request. A new
// goroutine starts with a small stack, and a handler that decodes a JSON
// body grows it — allocating a larger stack and copying the old one — on
// every request: 4–5 % of the CHF's CPU under load (pprof: runtime.newstack
// below nchf's decoder). A worker keeps its grown stack for the next
// request. Handing a request to a waiting worker costs what starting a
// goroutine costs: one wake-up.
type workers struct {
	once sync.Once
	jobs chan job      // unbuffered: a send succeeds only when a worker waits
	stop chan struct{} // closed by Shutdown: waiting workers exit
	idle atomic.Int32  // workers waiting on jobs
}

type job struct {
	c  *conn
	st *stream
}

func (w *workers) init() {
	w.once.Do(func() {
		w.jobs = make(chan job)
		w.stop = make(chan struct{})
	})
}

// run runs j on a waiting worker, or on a new one when none waits.
func (w *workers) run(j job) {
	w.init()
	select {
	case w.jobs <- j:
	default:
		go w.loop(j)
	}
}

func (w *workers) loop(j job) {
	for {
		j.c.run(j.st)
		if w.idle.Add(1) > maxIdleWorkers {
			w.idle.Add(-1)
			return
		}
		select {
		case j = <-w.jobs:
			w.idle.Add(-1)
		case <-w.stop:
			w.idle.Add(-1)
			return
		}
	}
}

// close makes the waiting workers, and every worker once its request is
// answered, exit.
func (w *workers) close() {
	w.init()
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
}
