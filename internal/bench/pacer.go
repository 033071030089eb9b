package bench

import (
	"context"
	"math"
	"sync/atomic"
	"time"
)

// pacer is an open-loop schedule: one goroutine hands each unit of work,
// when it is due, to an idle worker. (A timer per worker made the generator
// itself the tail: a thousand goroutines waking from their own timers crowd
// the scheduler.) Work that finds every worker busy waits in the pacer, and
// its latency still counts from when it was due — no coordinated omission.
type pacer struct {
	// Due delivers, for each unit, the instant its latency counts from;
	// it is closed after the last one or when the pacer stops.
	Due <-chan time.Time
	// Total is the number of units scheduled in [start, end).
	Total  int64
	issued atomic.Int64
	stop   chan struct{}
}

// newPacer schedules one unit every `every` ns from start until end;
// capacity is the number of workers (the channel's buffer). A zero every
// makes a pacer that never delivers (closed loop).
func newPacer(ctx context.Context, start, end time.Time, every float64, capacity int) *pacer {
	due := make(chan time.Time, capacity)
	p := &pacer{Due: due, stop: make(chan struct{})}
	if every <= 0 {
		return p
	}
	p.Total = int64(math.Ceil(float64(end.Sub(start)) / every))
	go func() {
		defer close(due)
		for i := int64(0); i < p.Total; {
			woke := time.Now()
			n := min(p.Total, int64(float64(woke.Sub(start))/every)+1)
			for ; i < n; i++ {
				// Latency counts from when the unit was due, or from when
				// the pacer woke if its own sleep overshot (Go sleeps of
				// under a millisecond can take one): the generator's timer
				// is not the system's latency. A send that blocks on busy
				// workers still counts.
				at := start.Add(time.Duration(float64(i) * every))
				if at.Before(woke) {
					at = woke
				}
				select {
				case due <- at:
					p.issued.Add(1)
				case <-p.stop:
					return
				case <-ctx.Done():
					return
				}
			}
			if d := time.Until(start.Add(time.Duration(float64(i) * every))); d > 0 {
				time.Sleep(d)
			}
		}
	}()
	return p
}

// Stop ends the schedule; workers waiting on Due see it closed.
func (p *pacer) Stop() { close(p.stop) }

// Missed is the number of units due that were never handed out.
func (p *pacer) Missed() int64 { return max(0, p.Total-p.issued.Load()) }
