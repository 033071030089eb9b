package journal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Errors returned by this package. Test them with errors.Is.
var (
	// ErrWrongLastSeq means the server refused an [Journal.Append] because
	// the partition's last sequence was not the one expected: someone else
	// appended since (normally a new owner's epoch marker). The record was
	// not written. It is the fencing signal: the appender has lost the
	// partition and must stop.
	ErrWrongLastSeq = errors.New("journal: wrong last sequence (another writer appended to the partition)")
	// ErrTooLarge means a record exceeds [Journal.MaxRecord].
	ErrTooLarge = errors.New("journal: record too large")
	// ErrBehind means the journal ends before a sequence the caller knows
	// was written (a snapshot's): the journal was lost or replaced.
	ErrBehind = errors.New("journal: journal ends before the requested sequence")
	// ErrLeaseHeld means another owner holds an unexpired lease.
	ErrLeaseHeld = errors.New("journal: lease held by another owner")
	// ErrLeaseLost means the lease was taken over (or released) since the
	// caller acquired or last renewed it.
	ErrLeaseLost = errors.New("journal: lease lost")
	// ErrStaleSnapshot means a snapshot at a higher sequence is already
	// stored; the older one is not saved.
	ErrStaleSnapshot = errors.New("journal: a newer snapshot is stored")
)

// Defaults of [Config].
const (
	DefaultStream         = "TOLLGATE_BALANCE"
	DefaultSubjectPrefix  = "tollgate.balance.j"
	DefaultLeaseBucket    = "tollgate_balance_leases"
	DefaultLeaseTTL       = 5 * time.Second
	DefaultSnapshotBucket = "tollgate_balance_snapshots"
)

const (
	// streamMaxMsgSize is the journal stream's MaxMsgSize: NATS' default
	// max_payload. It is fixed (not read from the server) so that nodes with
	// different settings do not rewrite the stream's configuration back and
	// forth.
	streamMaxMsgSize = 1 << 20
	// headerReserve is kept out of MaxRecord for the message headers
	// (Nats-Expected-Last-Subject-Sequence, Nats-Expected-Stream), which
	// count against both limits.
	headerReserve = 1 << 10
	// minMaxRecord is the smallest MaxRecord Open accepts: the engine's
	// group commit writes batches of a few hundred KB.
	minMaxRecord = 256 << 10
	// snapshotChunk is the object store chunk size of snapshots; larger
	// chunks than the default 128 KiB mean fewer messages per snapshot.
	snapshotChunk = 512 << 10
)

// Config names the JetStream assets of the balance journal. The zero value
// means every default.
type Config struct {
	// Stream is the journal stream. Default TOLLGATE_BALANCE.
	Stream string
	// SubjectPrefix: partition p's records go to <SubjectPrefix>.<p>.
	// Default tollgate.balance.j.
	SubjectPrefix string
	// Replicas of the stream, the lease bucket and the snapshot bucket
	// (1 to 5; 3 in a NATS cluster). Default 1.
	Replicas int
	// LeaseBucket is the key-value bucket of partition leases.
	// Default tollgate_balance_leases.
	LeaseBucket string
	// LeaseTTL is how long an acquired or renewed lease lasts. Default 5s.
	LeaseTTL time.Duration
	// SnapshotBucket is the object store of partition snapshots.
	// Default tollgate_balance_snapshots.
	SnapshotBucket string
	// SnapshotJS, when set, is the JetStream handle (on its own
	// connection) snapshots are written and read through, so that a
	// snapshot's megabytes do not queue in front of journal appends on the
	// main connection. Nil uses the main one.
	SnapshotJS jetstream.JetStream `json:"-"`
}

func (c Config) withDefaults() Config {
	if c.Stream == "" {
		c.Stream = DefaultStream
	}
	if c.SubjectPrefix == "" {
		c.SubjectPrefix = DefaultSubjectPrefix
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.LeaseBucket == "" {
		c.LeaseBucket = DefaultLeaseBucket
	}
	if c.LeaseTTL == 0 {
		c.LeaseTTL = DefaultLeaseTTL
	}
	if c.SnapshotBucket == "" {
		c.SnapshotBucket = DefaultSnapshotBucket
	}
	return c
}

func (c Config) validate() error {
	var errs []error
	if strings.ContainsAny(c.Stream, " \t\r\n.*>/\\") {
		errs = append(errs, fmt.Errorf("journal: stream name %q: must not contain whitespace, '.', '*', '>', '/' or '\\'", c.Stream))
	}
	if strings.ContainsAny(c.SubjectPrefix, " \t\r\n*>") || strings.HasPrefix(c.SubjectPrefix, ".") || strings.HasSuffix(c.SubjectPrefix, ".") {
		errs = append(errs, fmt.Errorf("journal: subject prefix %q: must be literal tokens separated by '.'", c.SubjectPrefix))
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		errs = append(errs, fmt.Errorf("journal: replicas must be 1 to 5; got %d", c.Replicas))
	}
	if c.LeaseTTL < 0 {
		errs = append(errs, fmt.Errorf("journal: lease TTL must be positive; got %s", c.LeaseTTL))
	}
	return errors.Join(errs...)
}

// Journal is the balance engine's durable record: the journal stream, the
// lease bucket and the snapshot store. It is safe for concurrent use.
type Journal struct {
	js        jetstream.JetStream
	cfg       Config
	stream    jetstream.Stream
	kv        jetstream.KeyValue
	obs       jetstream.ObjectStore
	maxRecord int
}

// Open creates the journal stream, the lease bucket and the snapshot store,
// or updates them to cfg when they exist. It is idempotent, and several
// nodes may Open at the same time.
func Open(ctx context.Context, js jetstream.JetStream, cfg Config) (*Journal, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	j := &Journal{js: js, cfg: cfg}

	// Records are at most this large: the stream's limit and the server's
	// max_payload (what the connection learned from the server), less room
	// for headers.
	j.maxRecord = streamMaxMsgSize - headerReserve
	if nc := js.Conn(); nc != nil {
		if mp := int(nc.MaxPayload()) - headerReserve; mp < j.maxRecord {
			j.maxRecord = mp
		}
	}
	if j.maxRecord < minMaxRecord {
		return nil, fmt.Errorf("journal: the NATS server's max_payload allows records of %d bytes; "+
			"the journal needs at least %d (raise max_payload to 1MB)", j.maxRecord, minMaxRecord)
	}

	scfg := jetstream.StreamConfig{
		Name:        cfg.Stream,
		Description: "tollgate balance journal: one subject per partition, records are batches of operations",
		Subjects:    []string{cfg.SubjectPrefix + ".>"},
		Retention:   jetstream.LimitsPolicy,
		// No age, count or size limit: the journal is a record. Space is
		// reclaimed by Truncate below saved snapshots.
		MaxAge:            0,
		MaxBytes:          -1,
		MaxMsgs:           -1,
		MaxMsgsPerSubject: -1,
		MaxMsgSize:        streamMaxMsgSize,
		Discard:           jetstream.DiscardOld,
		Storage:           jetstream.FileStorage,
		Replicas:          cfg.Replicas,
		Duplicates:        2 * time.Minute,
		DenyDelete:        false,
		DenyPurge:         false, // Truncate purges below snapshots
		// LastSeq must come from the stream leader: a direct get may be
		// answered by a lagging replica.
		AllowDirect: false,
	}
	var err error
	if j.stream, err = retryRace(ctx, func() (jetstream.Stream, error) { return js.CreateOrUpdateStream(ctx, scfg) }); err != nil {
		return nil, fmt.Errorf("journal: stream %s: %w", cfg.Stream, err)
	}
	kcfg := jetstream.KeyValueConfig{
		Bucket:      cfg.LeaseBucket,
		Description: "tollgate balance partition leases",
		History:     1,
		TTL:         0, // expiry is in the value: the clock is the caller's
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	}
	if j.kv, err = retryRace(ctx, func() (jetstream.KeyValue, error) { return js.CreateOrUpdateKeyValue(ctx, kcfg) }); err != nil {
		return nil, fmt.Errorf("journal: lease bucket %s: %w", cfg.LeaseBucket, err)
	}
	ocfg := jetstream.ObjectStoreConfig{
		Bucket:      cfg.SnapshotBucket,
		Description: "tollgate balance partition snapshots",
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	}
	sjs := js
	if cfg.SnapshotJS != nil {
		sjs = cfg.SnapshotJS
	}
	if j.obs, err = retryRace(ctx, func() (jetstream.ObjectStore, error) { return sjs.CreateOrUpdateObjectStore(ctx, ocfg) }); err != nil {
		return nil, fmt.Errorf("journal: snapshot bucket %s: %w", cfg.SnapshotBucket, err)
	}
	return j, nil
}

// retryRace runs a create-or-update a few times: when two nodes create the
// same asset at once, the loser may see "already in use" (the create raced)
// or "not found" (the update raced a delete); the next attempt updates.
func retryRace[T any](ctx context.Context, f func() (T, error)) (T, error) {
	var v T
	var err error
	for attempt := range 5 {
		if v, err = f(); err == nil {
			return v, nil
		}
		var apiErr *jetstream.APIError
		if !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) && !errors.Is(err, jetstream.ErrStreamNotFound) &&
			!(errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamNameInUse) {
			return v, err
		}
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(time.Duration(attempt+1) * 20 * time.Millisecond):
		}
	}
	return v, err
}

// Config returns the configuration in use, defaults filled in.
func (j *Journal) Config() Config { return j.cfg }

// MaxRecord is the largest record [Journal.Append] accepts, in bytes: the
// smaller of the stream's message limit (1 MiB) and the server's
// max_payload, less 1 KiB for headers. Open fails when it is below 256 KiB.
func (j *Journal) MaxRecord() int { return j.maxRecord }

func (j *Journal) subject(part int) string {
	return j.cfg.SubjectPrefix + "." + strconv.Itoa(part)
}

func checkPartition(part int) error {
	if part < 0 {
		return fmt.Errorf("journal: invalid partition %d", part)
	}
	return nil
}

// Append writes one record to the partition's journal and returns its
// sequence number once JetStream has stored it (per the server's fsync
// policy, see docs/operations.md "Durability").
//
// expectLastSeq is the sequence of the partition's last record as the
// caller knows it, 0 for an empty partition. If any other record was
// appended to the partition since, the server refuses the append and the
// error is [ErrWrongLastSeq]: this fences off an owner that lost its lease,
// because a new owner's first append is an epoch marker. Any other error
// (a timeout, a lost connection) leaves the outcome unknown: the record may
// have been stored; the caller finds out with [Journal.LastSeq] and
// [Journal.Replay].
func (j *Journal) Append(ctx context.Context, part int, expectLastSeq uint64, data []byte) (uint64, error) {
	if err := checkPartition(part); err != nil {
		return 0, err
	}
	if len(data) > j.maxRecord {
		return 0, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(data), j.maxRecord)
	}
	msg := &nats.Msg{
		Subject: j.subject(part),
		Data:    data,
		Header: nats.Header{
			jetstream.ExpectedLastSubjSeqHeader: []string{strconv.FormatUint(expectLastSeq, 10)},
			jetstream.ExpectedStreamHeader:      []string{j.cfg.Stream},
		},
	}
	seq, err := j.publish(ctx, msg)
	if err != nil {
		if isWrongLastSeq(err) {
			return 0, fmt.Errorf("%w: partition %d, expected last sequence %d", ErrWrongLastSeq, part, expectLastSeq)
		}
		return 0, fmt.Errorf("journal: append to partition %d: %w", part, err)
	}
	return seq, nil
}

// publish is jetstream's PublishMsg for the append path: a request to the
// stream, retried while no server answers (a stream leader being elected),
// and the PubAck read without encoding/json when it is a plain one (the
// hot path; decoding it with reflection cost 1.5 % of a busy CHF's CPU).
func (j *Journal) publish(ctx context.Context, msg *nats.Msg) (uint64, error) {
	nc := j.js.Conn()
	var (
		resp *nats.Msg
		err  error
	)
	for attempt := 0; ; attempt++ {
		resp, err = nc.RequestMsgWithContext(ctx, msg)
		if !errors.Is(err, nats.ErrNoResponders) || attempt == noResponderRetries {
			break
		}
		select {
		case <-time.After(noResponderWait):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	if err != nil {
		if errors.Is(err, nats.ErrNoResponders) {
			err = fmt.Errorf("%w: %w", jetstream.ErrNoStreamResponse, err)
		}
		return 0, err
	}
	if seq, ok := pubAckSeq(resp.Data); ok {
		return seq, nil
	}
	var ack struct {
		Error  *jetstream.APIError `json:"error"`
		Stream string              `json:"stream"`
		Seq    uint64              `json:"seq"`
	}
	if err := json.Unmarshal(resp.Data, &ack); err != nil {
		return 0, fmt.Errorf("%w: %q", jetstream.ErrInvalidJSAck, resp.Data)
	}
	if ack.Error != nil {
		return 0, ack.Error
	}
	if ack.Stream == "" {
		return 0, fmt.Errorf("%w: %q", jetstream.ErrInvalidJSAck, resp.Data)
	}
	return ack.Seq, nil
}

// How publish retries when no server answers (jetstream's defaults).
const (
	noResponderRetries = 2
	noResponderWait    = 250 * time.Millisecond
)

// pubAckSeq reads the sequence of a plain PubAck, {"stream":"…","seq":N…}
// with no error; ok is false for anything else, which the caller decodes
// in full.
func pubAckSeq(b []byte) (seq uint64, ok bool) {
	const prefix, key = `{"stream":"`, `","seq":`
	if !bytes.HasPrefix(b, []byte(prefix)) || bytes.Contains(b, []byte(`"error"`)) {
		return 0, false
	}
	i := bytes.Index(b, []byte(key))
	if i < 0 || bytes.IndexByte(b[len(prefix):i], '"') >= 0 {
		return 0, false
	}
	i += len(key)
	start := i
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if seq > (math.MaxUint64-9)/10 {
			return 0, false
		}
		seq = seq*10 + uint64(b[i]-'0')
	}
	if i == start || i == len(b) || (b[i] != ',' && b[i] != '}') {
		return 0, false
	}
	return seq, true
}

// isWrongLastSeq reports whether err is JetStream's "wrong last sequence"
// refusal: 10071, or 10164 from replicated streams of newer servers.
func isWrongLastSeq(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) &&
		(apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// LastSeq returns the sequence of the partition's last record, 0 when it
// has none. It reads from the stream leader.
func (j *Journal) LastSeq(ctx context.Context, part int) (uint64, error) {
	if err := checkPartition(part); err != nil {
		return 0, err
	}
	m, err := j.stream.GetLastMsgForSubject(ctx, j.subject(part))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("journal: last sequence of partition %d: %w", part, err)
	}
	return m.Sequence, nil
}

// replayBuffer bounds the bytes an ordered consumer buffers ahead of fn.
const replayBuffer = 32 << 20

// Replay calls fn for every record of the partition with a sequence above
// afterSeq, in order, up to the partition's last record when Replay was
// called. It returns that last sequence: the expectLastSeq of the next
// [Journal.Append] if nobody else appends meanwhile (afterSeq when there was
// nothing to replay). fn may keep data. An error from fn stops the replay
// and is returned with the sequence of the last record fn accepted.
//
// Records below a [Journal.Truncate] are gone: replay from the sequence of
// the stored snapshot, never from an older one. When the journal ends
// before afterSeq the error is [ErrBehind].
func (j *Journal) Replay(ctx context.Context, part int, afterSeq uint64, fn func(seq uint64, data []byte) error) (uint64, error) {
	last, err := j.LastSeq(ctx, part)
	if err != nil {
		return afterSeq, err
	}
	if last < afterSeq {
		return afterSeq, fmt.Errorf("%w: partition %d ends at %d, before %d", ErrBehind, part, last, afterSeq)
	}
	if last == afterSeq {
		return afterSeq, nil
	}
	cons, err := j.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{j.subject(part)},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    afterSeq + 1,
	})
	if err != nil {
		return afterSeq, fmt.Errorf("journal: replay partition %d: %w", part, err)
	}
	it, err := cons.Messages(jetstream.PullMaxBytes(replayBuffer))
	if err != nil {
		return afterSeq, fmt.Errorf("journal: replay partition %d: %w", part, err)
	}
	defer it.Stop()
	done := afterSeq
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return done, fmt.Errorf("journal: replay partition %d after %d: %w", part, done, err)
		}
		seq, err := streamSeq(msg)
		if err != nil {
			return done, fmt.Errorf("journal: replay partition %d after %d: %w", part, done, err)
		}
		if seq > last {
			// Only possible if the record at last was removed meanwhile.
			return done, nil
		}
		if err := fn(seq, msg.Data()); err != nil {
			return done, err
		}
		done = seq
		if seq == last {
			return last, nil
		}
	}
}

// streamSeq returns a delivered message's stream sequence. It reads it
// from the reply subject without Metadata's allocations (a fifth of the
// client's replay cost), at the token where Metadata finds it:
// $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>... (9 tokens, v1) or
// $JS.ACK.<domain>.<account hash>.<stream>.<consumer>.<delivered>.<sseq>...
// (11 or more tokens, v2).
func streamSeq(msg jetstream.Msg) (uint64, error) {
	r := msg.Reply()
	idx := -1
	switch n := strings.Count(r, ".") + 1; {
	case !strings.HasPrefix(r, "$JS.ACK."):
	case n == 9:
		idx = 5
	case n >= 11:
		idx = 7
	}
	if idx < 0 {
		md, err := msg.Metadata()
		if err != nil {
			return 0, err
		}
		return md.Sequence.Stream, nil
	}
	tok := r
	for range idx {
		tok = tok[strings.IndexByte(tok, '.')+1:]
	}
	if i := strings.IndexByte(tok, '.'); i >= 0 {
		tok = tok[:i]
	}
	seq, err := strconv.ParseUint(tok, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("journal: bad stream sequence in reply subject %q", r)
	}
	return seq, nil
}

// TruncateStream removes the records of every partition with a sequence
// below belowSeq, with one purge of the whole stream (whole message blocks
// are dropped, where a purge of one partition's subject must find its
// records among the others'). The caller vouches that no partition still
// needs them: balance.Engine does when it serves every partition and knows
// each one's snapshot and last record.
func (j *Journal) TruncateStream(ctx context.Context, belowSeq uint64) error {
	if belowSeq <= 1 {
		return nil
	}
	if err := j.stream.Purge(ctx, jetstream.WithPurgeSequence(belowSeq)); err != nil {
		return fmt.Errorf("journal: truncate below %d: %w", belowSeq, err)
	}
	return nil
}

// Truncate removes the partition's records with a sequence below uptoSeq,
// after a snapshot at uptoSeq was saved. It never removes a record the
// stored snapshot does not cover (it truncates below the smaller of uptoSeq
// and the stored snapshot's sequence; nothing without a snapshot), nor the
// partition's last record, which [Journal.Append]'s fencing compares with.
func (j *Journal) Truncate(ctx context.Context, part int, uptoSeq uint64) error {
	if err := checkPartition(part); err != nil {
		return err
	}
	snapSeq, ok, err := j.snapshotSeq(ctx, part)
	if err != nil {
		return err
	}
	if !ok {
		return nil
	}
	last, err := j.LastSeq(ctx, part)
	if err != nil {
		return err
	}
	upto := min(uptoSeq, snapSeq, last)
	if upto <= 1 {
		return nil
	}
	err = j.stream.Purge(ctx, jetstream.WithPurgeSubject(j.subject(part)), jetstream.WithPurgeSequence(upto))
	if err != nil {
		return fmt.Errorf("journal: truncate partition %d below %d: %w", part, upto, err)
	}
	return nil
}
