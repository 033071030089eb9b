package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/internal/money"
)

// TestCrashUnderLoad kills a real `tollgate serve` with SIGKILL while
// concurrent workers move money, restarts it on the same data directory
// and checks that every acknowledged operation survived exactly once:
//
//   - a retry of it (same key, same body) is answered 200 with replayed
//     true and the original result, so it is in memory and is not applied
//     twice;
//   - the operations whose answer the crash lost are retried too, which
//     settles them (applied before the crash, applied now, or refused);
//   - every account's balance and held money equal the initial balance
//     plus the deltas of the applied operations;
//   - once the SQL ledger has caught up, it holds exactly one money entry
//     per applied operation with the expected deltas, none of a refused
//     or unknown key, and its sums and last entry equal the balance.
//
// It runs twice: with the default snapshot interval (recovery replays the
// journal) and with a snapshot every 25 ops of a partition (recovery loads
// a snapshot and replays a short tail; the journal is truncated meanwhile).
// TOLLGATE_CRASH_SEED replays one run's choice of operations and kill time.
func TestCrashUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary, runs it under load and kills it")
	}
	bin := buildBinary(t)
	t.Run("journal", func(t *testing.T) { crashUnderLoad(t, bin) })
	t.Run("snapshots", func(t *testing.T) {
		// Frequent snapshots truncate the journal during the load; the
		// truncation must never purge records the SQL ledger projection
		// has not consumed yet (it lost entries before KeepFrom).
		crashUnderLoad(t, bin, "--config", writeFile(t, "tollgate.yaml", "balance:\n  snapshot_every: 25\n"))
	})
}

func crashUnderLoad(t *testing.T, bin string, extra ...string) {
	const (
		nAccounts = 40
		nWorkers  = 16
		minAcked  = 300 // acknowledged operations before the kill, at least
	)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("TOLLGATE_CRASH_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("TOLLGATE_CRASH_SEED: %v", err)
		}
		seed = v
	}
	t.Logf("seed %d (TOLLGATE_CRASH_SEED=%d replays its choice of ops and kill time)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	args := append([]string{"--data-dir", filepath.Join(t.TempDir(), "data"), "--sbi-addr", "127.0.0.1:0", "--nats-sync", "always"}, extra...)
	p := startServe(t, bin, args...)
	rep := &reporter{t: t}
	c := newCrashClient(nWorkers)

	// Accounts: even ones prepaid with 1000.00 topped up, odd ones postpaid.
	ids := make([]string, nAccounts)
	var setup []*crashOp
	for i := range ids {
		ids[i] = fmt.Sprintf("crash-%02d", i)
		typ := "postpaid"
		if i%2 == 0 {
			typ = "prepaid"
		}
		p.call(201, "POST", "/api/v1/accounts",
			fmt.Sprintf(`{"id":%q,"name":"Crash %d","type":%q,"currency":"EUR","credit_limit":"0"}`, ids[i], i, typ))
		if typ == "prepaid" {
			op := moneyOp(ids[i], "topup", "topups", "setup-topup-"+ids[i], money.MustParse("1000.00"), "")
			op.sent = true
			a, status, err := c.send(p.addr, op)
			if err != nil || status != http.StatusOK {
				t.Fatalf("initial top-up of %s: %d %v %s", ids[i], status, err, a.raw)
			}
			op.state, op.ack = opAcked, a
			setup = append(setup, op)
		}
	}

	// Load, then SIGKILL at a random moment once enough is acknowledged.
	var (
		stop     atomic.Bool
		acked    atomic.Int64
		inflight atomic.Int64
		wg       sync.WaitGroup
	)
	ops := make([][]*crashOp, nWorkers)
	workerSeeds := make([]uint64, nWorkers)
	for w := range workerSeeds {
		workerSeeds[w] = rng.Uint64()
	}
	killAfter := 600*time.Millisecond + time.Duration(rng.Int64N(int64(800*time.Millisecond)))
	start := time.Now()
	for w := range nWorkers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(workerSeeds[w], uint64(w)))
			expires := time.Now().Add(10 * time.Minute)
			for i := 0; !stop.Load(); i++ {
				batch := nextOps(r, ids, fmt.Sprintf("w%02d-%05d", w, i), expires)
				for j, op := range batch {
					op.sent = true
					inflight.Add(1)
					a, status, err := c.send(p.addr, op)
					inflight.Add(-1)
					switch {
					case err != nil || status >= 500:
						op.state = opUnknown // lost in the crash
					case status == http.StatusOK:
						op.state, op.ack = opAcked, a
						acked.Add(1)
						if a.Replayed {
							rep.errorf("%s %s: a fresh key was answered as a replay: %s", op.kind, op.key, a.raw)
						}
					case status == http.StatusUnprocessableEntity:
						op.state = opRejected // insufficient funds
					default:
						op.state = opRejected
						rep.errorf("%s %s: unexpected %d: %s", op.kind, op.key, status, a.raw)
					}
					ops[w] = append(ops[w], op)
					if op.state == opRejected {
						break // a refused reserve has nothing to finish
					}
					if op.state == opUnknown {
						// Its reservation's commit or release stays unknown
						// too: planned, to be sent after the restart.
						ops[w] = append(ops[w], batch[j+1:]...)
						return
					}
				}
			}
		})
	}
	for time.Since(start) < killAfter || acked.Load() < minAcked {
		if time.Since(start) > 30*time.Second {
			stop.Store(true)
			wg.Wait()
			t.Fatalf("only %d operations acknowledged in 30s\n%s", acked.Load(), p.logs())
		}
		time.Sleep(2 * time.Millisecond)
	}
	snapshots := metric(t, p.addr, "tollgate_balance_snapshot_seconds_count")
	ackedAtKill, inflightAtKill := acked.Load(), inflight.Load()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Since(start)
	stop.Store(true)
	if err := <-p.exited; err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("tollgate did not die of SIGKILL: %v", err)
	}
	wg.Wait()

	var nAcked, nRejected, nUnknown, nUnsent int
	for _, wops := range ops {
		for _, op := range wops {
			switch {
			case !op.sent:
				nUnsent++
			case op.state == opAcked:
				nAcked++
			case op.state == opRejected:
				nRejected++
			default:
				nUnknown++
			}
		}
	}
	t.Logf("before the kill at %v: %d ops acknowledged (%.0f ops/s over %d workers), %d refused, %d in flight at the kill, "+
		"%s partition snapshots; after it: %d unknown (lost answers and refused connections), %d planned but not sent",
		killedAt.Round(time.Millisecond), ackedAtKill, float64(ackedAtKill)/killedAt.Seconds(), nWorkers,
		nRejected, inflightAtKill, snapshots, nUnknown, nUnsent)

	// Restart on the same data directory.
	t0 := time.Now()
	p = startServe(t, bin, args...)
	t.Logf("restart: /healthz 200 after %v", time.Since(t0).Round(time.Millisecond))

	// Retry everything acknowledged or unknown, each worker's ops in order.
	var (
		replayed, fresh, refused atomic.Int64
		unavailable              atomic.Int64
	)
	deadline := time.Now().Add(60 * time.Second)
	settle := func(op *crashOp) (answer, int) {
		for {
			a, status, err := c.send(p.addr, op)
			if err == nil && status < 500 {
				return a, status
			}
			if status == http.StatusServiceUnavailable {
				unavailable.Add(1)
			}
			if time.Now().After(deadline) {
				return a, status
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	t0 = time.Now()
	for _, wops := range append(ops, setup) {
		wg.Go(func() {
			for _, op := range wops {
				if op.state == opRejected {
					continue
				}
				a, status := settle(op)
				switch op.state {
				case opAcked:
					switch {
					case status != http.StatusOK || !a.Replayed:
						rep.errorf("acknowledged %s %s of %s: retry after the restart = %d replayed=%v, want 200 replayed: %s",
							op.kind, op.key, op.account, status, a.Replayed, a.raw)
					case a.Time != op.ack.Time || !a.Balance.Equal(op.ack.Balance):
						rep.errorf("acknowledged %s %s of %s: replay is not the original result: time %d balance %s, was time %d balance %s",
							op.kind, op.key, op.account, a.Time, a.Balance, op.ack.Time, op.ack.Balance)
					}
				case opUnknown:
					switch {
					case status == http.StatusOK && a.Replayed:
						if !op.sent {
							rep.errorf("%s %s of %s was never sent but is answered as a replay: %s", op.kind, op.key, op.account, a.raw)
						}
						op.state = opAcked
						replayed.Add(1)
					case status == http.StatusOK:
						op.state = opAcked
						fresh.Add(1)
					case status == http.StatusUnprocessableEntity || status == http.StatusNotFound && op.kind != "reserve":
						// Insufficient funds, or the commit or release of a
						// reservation that was refused.
						op.state = opRejected
						refused.Add(1)
					default:
						rep.errorf("unknown %s %s of %s: retry after the restart = %d: %s", op.kind, op.key, op.account, status, a.raw)
					}
				}
			}
		})
	}
	wg.Wait()
	t.Logf("after the restart: %d acknowledged ops replayed in %v; of %d unknown or unsent: %d had been applied (replayed), "+
		"%d applied now, %d refused; %d answers 503 while retrying",
		nAcked+len(setup), time.Since(t0).Round(time.Millisecond), nUnknown+nUnsent, replayed.Load(), fresh.Load(), refused.Load(),
		unavailable.Load())
	if rep.failed() {
		t.FailNow()
	}

	// What each account must hold now.
	type expect struct {
		balance, held money.Decimal
		ops           map[string]*crashOp // applied, by key
		refused       map[string]bool     // keys of refused ops
	}
	want := make(map[string]*expect, len(ids))
	for _, id := range ids {
		want[id] = &expect{ops: map[string]*crashOp{}, refused: map[string]bool{}}
	}
	for _, wops := range append(ops, setup) {
		for _, op := range wops {
			e := want[op.account]
			if op.state != opAcked {
				e.refused[op.key] = true
				continue
			}
			e.ops[op.key] = op
			e.balance = add(t, e.balance, op.delta)
			e.held = add(t, e.held, op.held)
		}
	}
	for _, id := range ids {
		var v struct {
			Balance, Held money.Decimal
		}
		getJSON(t, c, p.addr, "/api/v1/accounts/"+id+"/balance", &v)
		if e := want[id]; !v.Balance.Equal(e.balance) || !v.Held.Equal(e.held) {
			t.Errorf("%s in memory: balance %s held %s, want balance %s held %s (initial + applied ops)",
				id, v.Balance, v.Held, e.balance, e.held)
		}
	}

	// The SQL ledger: wait until every applied op is there and the
	// projection has stopped moving, then check it.
	t0 = time.Now()
	ledgers := map[string][]ledgerRow{}
	prevSeq := ""
	for {
		seq := metric(t, p.addr, "tollgate_ledger_projected_seq")
		var missing []string
		for _, id := range ids {
			ledgers[id] = readLedger(t, c, p.addr, id)
			keys := map[string]bool{}
			for _, r := range ledgers[id] {
				keys[r.Key] = true
			}
			for k := range want[id].ops {
				if !keys[k] {
					missing = append(missing, id+"/"+k)
				}
			}
		}
		if len(missing) == 0 && seq == prevSeq {
			break
		}
		if time.Since(t0) > 30*time.Second {
			slices.Sort(missing)
			t.Fatalf("the SQL ledger still lacks %d applied ops after 30s (projected seq %s, lag %s), e.g. %v",
				len(missing), seq, metric(t, p.addr, "tollgate_ledger_projection_lag_seconds"), missing[:min(len(missing), 10)])
		}
		prevSeq = seq
		time.Sleep(200 * time.Millisecond)
	}
	entries := 0
	for _, id := range ids {
		e, rows := want[id], ledgers[id]
		entries += len(rows)
		seen := map[[2]string]int{}
		var sum, held money.Decimal
		for _, r := range rows {
			if seen[[2]string{r.Key, r.Asset}]++; seen[[2]string{r.Key, r.Asset}] == 2 {
				t.Errorf("%s ledger: key %s asset %s more than once (journal_seq %d index %d)", id, r.Key, r.Asset, r.JournalSeq, r.Index)
			}
			sum, held = add(t, sum, r.Delta), add(t, held, r.HeldDelta)
			op := e.ops[r.Key]
			switch {
			case op == nil && e.refused[r.Key]:
				t.Errorf("%s ledger: entry of refused op %s (%s %s)", id, r.Key, r.Kind, r.Delta)
			case op == nil:
				t.Errorf("%s ledger: entry of unknown key %s (%s %s)", id, r.Key, r.Kind, r.Delta)
			case r.Asset != "money" || r.Kind != op.kind || !r.Delta.Equal(op.delta) || !r.HeldDelta.Equal(op.held):
				t.Errorf("%s ledger: %s entry %s %s delta %s held_delta %s, want %s money delta %s held_delta %s",
					id, r.Key, r.Kind, r.Asset, r.Delta, r.HeldDelta, op.kind, op.delta, op.held)
			}
		}
		if !sum.Equal(e.balance) || !held.Equal(e.held) {
			t.Errorf("%s ledger sums: delta %s held_delta %s, want balance %s held %s", id, sum, held, e.balance, e.held)
		}
		if n := len(rows); n > 0 && (!rows[n-1].Balance.Equal(e.balance) || !rows[n-1].Held.Equal(e.held)) {
			t.Errorf("%s ledger: last entry (%s) says balance %s held %s, want %s and %s",
				id, rows[n-1].Key, rows[n-1].Balance, rows[n-1].Held, e.balance, e.held)
		}
		if len(seen) != len(e.ops) {
			t.Errorf("%s ledger: %d keys, want %d", id, len(seen), len(e.ops))
		}
	}
	t.Logf("SQL ledger: %d entries over %d accounts, complete %v after the retries", entries, len(ids), time.Since(t0).Round(time.Millisecond))
	p.stop()
}

type opState int

const (
	opUnknown  opState = iota // sent and unanswered, or not sent
	opAcked                   // applied: answered 200
	opRejected                // refused with a definite error: not applied
)

// crashOp is one balance operation of the crash test. Its body is fixed
// when it is made, so that a retry is the same request byte for byte.
type crashOp struct {
	account, kind, key string
	path, body         string
	delta, held        money.Decimal // change of the balance and of the held money when applied
	sent               bool          // sent before the kill
	state              opState
	ack                answer // the first 200 answer
}

func moneyOp(account, kind, route, key string, amount money.Decimal, reason string) *crashOp {
	body := map[string]string{"key": key, "amount": amount.String()}
	if reason != "" {
		body["reason"] = reason
	}
	b, _ := json.Marshal(body)
	delta := amount
	if kind == "debit" {
		delta = money.MustParse("-" + amount.String())
	}
	return &crashOp{account: account, kind: kind, key: key, path: "/api/v1/accounts/" + account + "/" + route, body: string(b), delta: delta}
}

// nextOps returns the next operation of a worker, or a reservation and
// its commit or release. Reservations expire 10 minutes after they are
// sent: far enough for a retry after the restart to find them open. They
// use the relative expires_in, so a retry carries a later absolute expiry
// and must still be recognised as the same operation.
func nextOps(r *rand.Rand, ids []string, key string, expires time.Time) []*crashOp {
	acc := ids[r.IntN(len(ids))]
	switch n := r.IntN(100); {
	case n < 15:
		return []*crashOp{moneyOp(acc, "topup", "topups", key, amount(r, 50), "")}
	case n < 37:
		return []*crashOp{moneyOp(acc, "debit", "debits", key, amount(r, 20), "")}
	case n < 40: // large: refused on a prepaid account that is short
		return []*crashOp{moneyOp(acc, "debit", "debits", key, amount(r, 1500), "")}
	case n < 50:
		return []*crashOp{moneyOp(acc, "credit", "credits", key, amount(r, 10), "goodwill")}
	case n < 62:
		a := amount(r, 25)
		if r.IntN(2) == 0 {
			a = money.MustParse("-" + a.String())
		}
		return []*crashOp{moneyOp(acc, "adjust", "adjustments", key, a, "correction")}
	}
	held := amount(r, 30)
	rid := "res-" + key
	base := "/api/v1/accounts/" + acc + "/reservations"
	reserve := &crashOp{account: acc, kind: "reserve", key: key + "-reserve", path: base, held: held,
		body: fmt.Sprintf(`{"key":%q,"reservation":%q,"amount":%q,"expires_in":"10m"}`, key+"-reserve", rid, held)}
	release := money.MustParse("-" + held.String())
	if r.IntN(3) == 0 {
		return []*crashOp{reserve, {account: acc, kind: "release", key: key + "-release", path: base + "/" + rid + "/release",
			body: fmt.Sprintf(`{"key":%q}`, key+"-release"), held: release}}
	}
	used, _ := money.New(r.Int64N(held.Coef()+1), held.Scale()) // a part of what is held
	return []*crashOp{reserve, {account: acc, kind: "commit", key: key + "-commit", path: base + "/" + rid + "/commit",
		body: fmt.Sprintf(`{"key":%q,"amount":%q}`, key+"-commit", used), held: release,
		delta: money.MustParse("-" + used.String())}}
}

// amount returns a positive amount below max with 0 to 4 decimals.
func amount(r *rand.Rand, max int64) money.Decimal {
	scale := r.IntN(5)
	pow := int64(1)
	for range scale {
		pow *= 10
	}
	d, _ := money.New(1+r.Int64N(max*pow-1), uint8(scale))
	return d
}

// answer is the part of an op's answer the test reads.
type answer struct {
	Replayed bool          `json:"replayed"`
	Time     int64         `json:"time_unix_nano"`
	Balance  money.Decimal `json:"balance"`
	raw      []byte
}

type crashClient struct{ http *http.Client }

func newCrashClient(conns int) *crashClient {
	return &crashClient{http: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 2 * conns, DisableCompression: true},
	}}
}

// send posts op once; a transport error means the outcome is unknown.
func (c *crashClient) send(addr string, op *crashOp) (answer, int, error) {
	resp, err := c.http.Post("http://"+addr+op.path, "application/json", strings.NewReader(op.body))
	if err != nil {
		return answer{}, 0, err
	}
	defer resp.Body.Close()
	var a answer
	if a.raw, err = io.ReadAll(resp.Body); err != nil {
		return answer{}, 0, err
	}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(a.raw, &a); err != nil {
			return a, 0, fmt.Errorf("%s %s: %v", op.path, a.raw, err)
		}
	}
	return a, resp.StatusCode, nil
}

func getJSON(t *testing.T, c *crashClient, addr, path string, v any) {
	t.Helper()
	resp, err := c.http.Get("http://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d: %s", path, resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, raw)
	}
}

type ledgerRow struct {
	JournalSeq uint64        `json:"journal_seq"`
	Index      int           `json:"index"`
	Kind       string        `json:"kind"`
	Key        string        `json:"key"`
	Asset      string        `json:"asset"`
	Delta      money.Decimal `json:"delta"`
	Balance    money.Decimal `json:"balance"`
	HeldDelta  money.Decimal `json:"held_delta"`
	Held       money.Decimal `json:"held"`
}

// readLedger pages through an account's SQL ledger.
func readLedger(t *testing.T, c *crashClient, addr, id string) []ledgerRow {
	t.Helper()
	var rows []ledgerRow
	after := ""
	for {
		var page struct {
			Items []ledgerRow `json:"items"`
			Next  string      `json:"next"`
		}
		getJSON(t, c, addr, "/api/v1/accounts/"+id+"/ledger?limit=1000&after="+url.QueryEscape(after), &page)
		rows = append(rows, page.Items...)
		if page.Next == "" || len(page.Items) == 0 {
			return rows
		}
		after = page.Next
	}
}

// metric returns the value of the first sample of name on /metrics.
func metric(t *testing.T, addr, name string) string {
	t.Helper()
	for line := range strings.Lines(get(t, "http://"+addr+"/metrics")) {
		if rest, ok := strings.CutPrefix(line, name); ok && (rest[0] == '{' || rest[0] == ' ') {
			f := strings.Fields(rest)
			return f[len(f)-1]
		}
	}
	return ""
}

func add(t *testing.T, x, y money.Decimal) money.Decimal {
	t.Helper()
	s, err := x.Add(y)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// reporter reports the first problems found by concurrent workers and
// counts the rest, so that a broken engine does not flood the log.
type reporter struct {
	t *testing.T
	n atomic.Int64
}

func (r *reporter) errorf(format string, args ...any) {
	r.t.Helper()
	switch n := r.n.Add(1); {
	case n <= 30:
		r.t.Errorf(format, args...)
	case n == 31:
		r.t.Errorf("… more problems not shown")
	}
}

func (r *reporter) failed() bool {
	if n := r.n.Load(); n > 0 {
		r.t.Logf("%d problems", n)
		return true
	}
	return false
}
