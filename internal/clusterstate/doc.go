// Package clusterstate is tollgate's connection to the cluster state, the
// "cluster shared memory" of requirement S0.5 (DESIGN §3): CHF sessions,
// reservations, balances, session → NE mapping, leases and leader election
// live in NATS JetStream streams and key-value buckets.
//
// [Open] either runs a NATS server with JetStream inside the tollgate process
// (the default: no other software needed, data under the data directory, no
// TCP port unless nats.embedded.listen is set) or connects to an external
// NATS JetStream cluster when nats.url is set. Either way callers get the same
// [*nats.Conn] and [jetstream.JetStream] handles, so the code that uses
// cluster state does not know which one it runs against (DESIGN §2.1).
//
// The embedded server's log is routed into log/slog with attribute
// component=nats: its notices at debug level, warnings and errors at theirs,
// its trace output at [LevelTrace].
package clusterstate
