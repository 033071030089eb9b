// Package journal is the balance engine's durable record in NATS JetStream
// (DESIGN §2.3, §3): a write-ahead journal per partition, the partition
// leases, and the partition snapshots. Record and snapshot contents are
// opaque bytes here; the engine encodes them.
//
// # Assets
//
// [Open] creates or updates three JetStream assets (names from [Config]):
//
//   - the stream TOLLGATE_BALANCE, subjects tollgate.balance.j.<partition>,
//     file storage, no age or size limit. One message is one record: a
//     group-committed batch of operations, at most [Journal.MaxRecord]
//     bytes (1 MiB less headers, or less if the server's max_payload is);
//   - the key-value bucket tollgate_balance_leases, one key p<partition>,
//     history 1, no TTL: a lease's expiry is in its value;
//   - the object store tollgate_balance_snapshots, one object p<partition>
//     whose metadata holds the journal sequence it covers.
//
// # Ownership and fencing
//
// A partition runs on the node holding its [Lease]. Acquiring one ([Journal.Acquire])
// is a compare-and-set write; so is renewing it, so a node whose lease was
// taken over learns it at its next [Journal.Renew] ([ErrLeaseLost]). That
// alone does not stop an append already in flight from the old owner, so
// the journal itself fences: every [Journal.Append] names the sequence it
// expects the partition's last record to have, and JetStream refuses it
// ([ErrWrongLastSeq]) if any record was appended since. Taking a partition
// over is therefore:
//
//  1. Acquire the lease (a new, higher epoch);
//  2. [Journal.LoadSnapshot], then [Journal.Replay] the records after it;
//  3. Append an epoch-marker record, expecting the last sequence replayed.
//
// Once step 3 succeeded, every append of the previous owner fails, and
// every record the previous owner had acknowledged is in the state just
// replayed.
//
// # Recovery cost
//
// The engine saves a snapshot every so often ([Journal.SaveSnapshot]) and
// then lets the records before it go, so recovery reads one snapshot and a
// bounded tail. An engine that serves every partition knows what each
// still needs and purges the whole stream below the lowest of those
// ([Journal.TruncateStream]: whole message blocks dropped); otherwise each
// partition [Journal.Truncate]s its own records (a subject-filtered purge,
// which holds up the appends of every partition while the store looks for
// them). Neither removes a record a stored snapshot does not cover, nor a
// partition's last record (which fencing compares against).
//
// # Projection
//
// [Journal.Consume] feeds every record of every partition, in stream order
// and at least once, to a durable consumer: the SQL ledger projection,
// idempotent per [Record.Seq].
//
// # Durability
//
// What an acknowledged Append promises depends on the NATS server's fsync
// policy (nats.embedded.sync, docs/operations.md "Durability"): with
// "always", the record is on disk; with "interval", it survives a crash of
// the process but not necessarily of the machine; with an external cluster
// of three replicas, a majority of them stored it.
package journal
