package journal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tollgate-billing/tollgate/internal/clusterstate"
	"github.com/tollgate-billing/tollgate/internal/config"
	"github.com/tollgate-billing/tollgate/internal/servicetest"
)

// TestExternal runs the scenarios against the external NATS server of
// TOLLGATE_TEST_NATS (DESIGN §6), with names of its own so that it shares
// the server with other tests, deleting them at the end.
//
// The server on the development machines is nats-server 2.9 (Debian): it
// has no consumer reset API, so the check that a crashed projection's batch
// comes back at once, in order, is skipped there.
func TestExternal(t *testing.T) {
	url := servicetest.NATS(t)
	cfg := config.Default().NATS
	cfg.URL = url
	cfg.ConnectTimeout = config.Duration(5 * time.Second)
	c, err := clusterstate.Open(t.Context(), cfg, "", nil)
	if err != nil {
		servicetest.Unavailable(t, "NATS at TOLLGATE_TEST_NATS: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Close(ctx)
	})
	version := c.NC().ConnectedServerVersion()
	t.Logf("external NATS server %s", version)

	open := func(t *testing.T) *Journal {
		var rnd [4]byte
		_, _ = rand.Read(rnd[:])
		id := hex.EncodeToString(rnd[:])
		jcfg := Config{
			Stream:         "TG_TEST_BALANCE_" + strings.ToUpper(id),
			SubjectPrefix:  "tgtest." + id + ".j",
			LeaseBucket:    "tgtest_" + id + "_leases",
			SnapshotBucket: "tgtest_" + id + "_snapshots",
		}
		j, err := Open(t.Context(), c.JS(), jcfg)
		if err != nil {
			t.Fatalf("Open on NATS %s: %v", version, err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			js := c.JS()
			err := errors.Join(js.DeleteStream(ctx, jcfg.Stream), js.DeleteKeyValue(ctx, jcfg.LeaseBucket),
				js.DeleteObjectStore(ctx, jcfg.SnapshotBucket))
			if err != nil {
				t.Errorf("cleanup: %v", err)
			}
		})
		return j
	}
	t.Run("AppendReplay", func(t *testing.T) { testAppendReplay(t, open(t)) })
	t.Run("Fencing", func(t *testing.T) { testFencing(t, open(t)) })
	t.Run("Truncate", func(t *testing.T) { testTruncate(t, open(t)) })
	t.Run("Leases", func(t *testing.T) { testLeases(t, open(t)) })
	t.Run("Snapshot", func(t *testing.T) { testSnapshot(t, open(t), 5<<20) })
	t.Run("Consume", func(t *testing.T) {
		j := open(t)
		reset := hasConsumerReset(t, j)
		if !reset {
			t.Logf("NATS %s has no consumer reset API: skipping the check that a crashed "+
				"projection's batch is delivered again at once and in order", version)
		}
		testConsume(t, j, reset)
	})
	t.Run("ConsumeLinger", func(t *testing.T) { testConsumeLinger(t, open(t)) })
}

// hasConsumerReset probes the server for the consumer reset API: a server
// without it does not answer the request.
func hasConsumerReset(t *testing.T, j *Journal) bool {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	_, err := j.stream.ResetConsumer(ctx, "no-such-consumer")
	return !errors.Is(err, nats.ErrNoResponders) && !errors.Is(err, context.DeadlineExceeded) &&
		!errors.Is(err, nats.ErrTimeout)
}
