// Package bench holds tollgate's load generators, the code behind
// `tollgate bench …` (DESIGN §2 principle 6: every flow has a benchmark a
// user can run), and their Go benchmarks.
//
// # Balance engine
//
// [RunBalance] measures the balance engine the way `tollgate serve` runs
// it: an embedded NATS JetStream in a data directory (fsync policy always
// or interval), one engine owning every partition, and optionally the SQL
// ledger projection into SQLite or PostgreSQL running at the same time.
//
//   - setup: every account is opened (KindOpenAccount, prepaid EUR) and
//     topped up by all workers at once; its rate is reported too, as it is
//     a durable throughput of its own;
//   - load: reserve 0.50 then commit 0.1234 on a uniformly random account;
//     each Engine.Do is one operation. Closed loop (each worker issues the
//     next op when the last one answered) measures the maximum rate; open
//     loop (Rate > 0) schedules pairs at the target rate, at most Workers in
//     flight, and counts latency from when an op was due, so a stall is
//     charged to every op that waited behind it (no coordinated omission);
//   - ledger: the projection lag sampled during the load, and the time
//     after the load until the projector commits the journal's last record;
//   - recovery: a crash-like stop and restart (periodic snapshots + journal
//     tail), then a clean stop (final snapshots) and restart, each checked
//     against balances sampled before.
//
// Latencies go into a [Histogram] (log-linear, HdrHistogram-style, one
// per worker, merged at the end). Rates and latencies are float64; amounts
// of money are money.Decimal.
package bench
