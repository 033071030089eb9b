// Package balance is tollgate's balance engine: durable, idempotent,
// partitioned account balances with an append-only ledger (DESIGN §2.2,
// §2.3, §3 "cluster state").
//
// # Model
//
// An account has a money balance in its currency and unit buckets
// (allowances of seconds, bytes, messages …) with a validity window and a
// priority. Prepaid accounts cannot spend below minus their credit limit;
// postpaid accounts accumulate. Reservations hold money and/or units of
// one bucket unit for a charging session until they expire; committing a
// reservation debits what was used and releases the rest. Every operation
// (Op, types.go) carries an idempotency key: the same key with the same
// content returns the original Result, with different content it is
// ErrKeyConflict. Every movement of every balance and bucket is a ledger
// Entry; money moves in the money asset ("money"), units in the bucket's
// asset ("bucket:<id>"), and holds move Held rather than Balance.
//
// # Partitions and the state machine
//
// Accounts are hashed into partitions (PartitionOf). Each partition's live
// state is a State (state.go), held in memory by the partition's owner: a
// pure state machine with no I/O, no goroutines and no clock — the time of
// an op comes in Op.Time, set by the engine when it accepts the op. Apply
// validates an op against the state and, only if it is valid, applies it
// atomically and emits its ledger entries. Because Apply is deterministic,
// replaying the accepted ops (with their times) into a fresh State yields
// an identical state, byte for byte in its snapshot; that is what recovery
// relies on. Idempotency keys are part of the state and are forgotten
// deterministically (by op time and count), so replay also reproduces
// which retries were recognized. A State is used by one goroutine at a
// time, except that a snapshot begun with State.BeginSnapshot is encoded
// by another goroutine while the owner goes on applying ops (freeze.go:
// what the encoder has not read yet is copied before it changes).
//
// Expired reservations are found by Due through an expiry wheel (O(1) to
// add and remove a reservation); the engine applies and journals the
// KindExpire ops Due returns, so an expiry is a journaled op like any
// other.
//
// # Journal record
//
// The engine applies the ops of a group commit to the State, then appends
// one Batch — the accepted ops and their entries — to the partition's
// journal (NATS JetStream) and answers only when that append is durable.
// AppendBatch and DecodeBatch (codec.go) are its compact, versioned binary
// encoding; entries refer to their op for the fields they share. Ops that
// failed and idempotent replays (Result.Replayed) are not journaled; every
// other accepted op is, even one that moved nothing, since it changed the
// idempotency table.
//
// # Snapshot
//
// AppendSnapshot and LoadSnapshot (snapshot.go) write and read the whole
// partition state — journal sequence, accounts, buckets, open
// reservations and the idempotency keys still in their window with their
// results — in a compact versioned form with a CRC-32C checksum. Loading
// allocates accounts, buckets and reservations in a few slabs and takes
// every id as a substring of one string table, so a million accounts load
// in a fraction of a second; recovery is snapshot + journal tail.
//
// # Invariants
//
// These hold after every op (CheckInvariants and the property test in
// state_test.go check them over random op sequences):
//
//   - for every account and asset, the balance equals the sum of Delta
//     and the held amount the sum of HeldDelta of all entries emitted;
//   - held money and held units are never negative and equal the sums of
//     the open reservations' holds; a bucket never holds more than it has;
//   - a prepaid account is never below minus its credit limit
//     (balance − held ≥ −limit), except after an operator adjustment or a
//     master-data change put it there — charging ops never do;
//   - after a sweep at time t (Due then Apply), no reservation with
//     Expires ≤ t is open; a reservation cannot be committed at or after
//     its expiry;
//   - an op with a remembered key is never applied twice.
//
// # Engine
//
// The Engine (engine.go) owns partitions through leases, serves each from
// one goroutine, group-commits to the journal, snapshots periodically and
// recovers a partition from its snapshot and journal tail; see engine.go.
package balance
