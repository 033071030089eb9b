package journal

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tollgate-billing/tollgate/internal/clusterstate"
	"github.com/tollgate-billing/tollgate/internal/config"
)

// startNATS starts an embedded NATS JetStream server storing in dir, with
// the given fsync policy ("" = the default, always). It is closed when the
// test ends, or earlier by the returned stop function (idempotent).
func startNATS(tb testing.TB, dir, sync string) (*clusterstate.Conn, func()) {
	tb.Helper()
	cfg := config.Default().NATS
	if sync != "" {
		cfg.Embedded.Sync = sync
	}
	c, err := clusterstate.Open(context.Background(), cfg, dir, nil)
	if err != nil {
		tb.Fatalf("clusterstate.Open: %v", err)
	}
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Close(ctx); err != nil {
			tb.Errorf("close NATS: %v", err)
		}
	}
	tb.Cleanup(stop)
	return c, stop
}

// newJournal starts an embedded server in a temporary directory and opens
// a journal with default names on it.
func newJournal(tb testing.TB) (*Journal, jetstream.JetStream) {
	tb.Helper()
	c, _ := startNATS(tb, tb.TempDir(), "")
	j, err := Open(context.Background(), c.JS(), Config{})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	return j, c.JS()
}

func mustAppend(tb testing.TB, j *Journal, part int, expect uint64, data string) uint64 {
	tb.Helper()
	seq, err := j.Append(context.Background(), part, expect, []byte(data))
	if err != nil {
		tb.Fatalf("Append(part %d, expect %d): %v", part, expect, err)
	}
	return seq
}

type replayed struct {
	seq  uint64
	data string
}

func replayAll(tb testing.TB, j *Journal, part int, after uint64) ([]replayed, uint64) {
	tb.Helper()
	var got []replayed
	last, err := j.Replay(context.Background(), part, after, func(seq uint64, data []byte) error {
		got = append(got, replayed{seq, string(data)})
		return nil
	})
	if err != nil {
		tb.Fatalf("Replay(part %d, after %d): %v", part, after, err)
	}
	return got, last
}
