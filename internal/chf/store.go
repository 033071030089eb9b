package chf

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// KVStore keeps sessions in a JetStream key-value bucket (cluster state,
// S0.5): one key per ChargingDataRef holding the session's JSON. A Put is
// acknowledged by JetStream only once stored (and fsynced under the
// embedded server's sync: always), so an answer sent after Save survives
// a crash of this node; another node can read the bucket and carry on
// (the cluster issue builds on this).
type KVStore struct {
	kv jetstream.KeyValue
}

// DefaultSessionBucket is the bucket the CHF keeps sessions in.
const DefaultSessionBucket = "TOLLGATE_CHF_SESSIONS"

// OpenKVStore creates or opens the session bucket.
func OpenKVStore(ctx context.Context, js jetstream.JetStream, bucket string, replicas int) (*KVStore, error) {
	if bucket == "" {
		bucket = DefaultSessionBucket
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      bucket,
		Description: "tollgate CHF sessions: the state of every open ChargingDataRef",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    max(1, replicas),
	})
	if err != nil {
		return nil, fmt.Errorf("chf: session bucket %s: %w", bucket, err)
	}
	return &KVStore{kv: kv}, nil
}

// Save stores the session.
func (k *KVStore) Save(ctx context.Context, s *Session) error {
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("chf: encode session %s: %w", s.Ref, err)
	}
	if _, err := k.kv.Put(ctx, s.Ref, data); err != nil {
		return fmt.Errorf("chf: save session %s: %w", s.Ref, err)
	}
	return nil
}

// Delete removes the session and its history.
func (k *KVStore) Delete(ctx context.Context, ref string) error {
	if err := k.kv.Purge(ctx, ref); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("chf: delete session %s: %w", ref, err)
	}
	return nil
}

// Load calls fn for every stored session.
func (k *KVStore) Load(ctx context.Context, fn func(*Session) error) error {
	w, err := k.kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return err
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-w.Updates():
			if !ok || e == nil {
				return nil // the initial values are all delivered
			}
			s := &Session{}
			if err := json.Unmarshal(e.Value(), s); err != nil {
				return fmt.Errorf("chf: stored session %s: %w", e.Key(), err)
			}
			if err := fn(s); err != nil {
				return err
			}
		}
	}
}
