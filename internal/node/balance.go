package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tollgate-billing/tollgate/internal/balance"
	"github.com/tollgate-billing/tollgate/internal/balance/journal"
	"github.com/tollgate-billing/tollgate/internal/balance/ledger"
)

// balanceSub is the balance engine: the partition journals in JetStream
// (cluster state) and the engine that owns the partitions (issue: balances).
type balanceSub Node

func (b *balanceSub) Name() string { return "balance" }

func (b *balanceSub) Start(ctx context.Context) error {
	conn := b.cluster()
	if conn == nil {
		return errors.New("balance: cluster state is not open")
	}
	cfg := b.cfg.Balance
	snapJS, err := conn.Side("snapshots")
	if err != nil {
		return err
	}
	j, err := journal.Open(ctx, conn.JS(), journal.Config{LeaseTTL: cfg.LeaseTTL.Std(), SnapshotJS: snapJS})
	if err != nil {
		return err
	}
	id := cfg.NodeID
	if id == "" {
		if id, err = nodeID(b.cfg.DataDir); err != nil {
			return err
		}
	}
	e, err := balance.NewEngine(balance.EngineConfig{
		Partitions: cfg.Partitions, NodeID: id, Journal: j, LeaseTTL: cfg.LeaseTTL.Std(),
		MaxBatch: cfg.MaxBatch, SnapshotEvery: cfg.SnapshotEvery,
		// Never purge journal records the SQL ledger has not projected yet.
		KeepFrom: ledger.KeepFrom(j, ledger.DefaultName),
		State:    balance.Options{IdemWindow: int64(cfg.IdempotencyWindow.Std()), IdemMax: cfg.IdempotencyMaxKeys, IdemPresize: true},
		Logger:   b.log, Registerer: b.reg,
	})
	if err != nil {
		return err
	}
	if err := e.Start(ctx); err != nil {
		return err
	}
	if !cfg.LedgerProjection {
		b.log.Warn("the SQL ledger projection is off in this process (balance.ledger_projection: false): " +
			"run `tollgate ledger` against this node (docs/operations.md); until it has read them, " +
			"journal records are kept and the SQL ledger does not change")
	}
	b.journal.Store(j)
	b.balances.Store(e)
	return nil
}

func (b *balanceSub) Stop(ctx context.Context) error {
	if e := b.balances.Swap(nil); e != nil {
		return e.Stop(ctx)
	}
	return nil
}

// journalSub opens the balance journal without an engine: the ledger
// projection of `tollgate ledger` reads it.
type journalSub Node

func (j *journalSub) Name() string { return "journal" }

func (j *journalSub) Start(ctx context.Context) error {
	conn := j.cluster()
	if conn == nil {
		return errors.New("journal: cluster state is not open")
	}
	jr, err := journal.Open(ctx, conn.JS(), journal.Config{LeaseTTL: j.cfg.Balance.LeaseTTL.Std()})
	if err != nil {
		return err
	}
	j.journal.Store(jr)
	return nil
}

func (j *journalSub) Stop(context.Context) error { return nil }

// ledgerSub projects the journals into the SQL ledger (a Runner).
type ledgerSub Node

func (l *ledgerSub) Name() string { return "ledger" }

func (l *ledgerSub) Start(context.Context) error {
	if l.journal.Load() == nil || l.store.Load() == nil {
		return errors.New("ledger: needs the balance journal and the records store")
	}
	return nil
}

func (l *ledgerSub) Stop(context.Context) error { return nil }

// Run projects until ctx ends; a corrupt record stops the node (the ledger
// must not get a hole).
func (l *ledgerSub) Run(ctx context.Context) error {
	p := ledger.New(ledger.Config{
		Source: ledger.JournalSource(l.journal.Load()), Decode: balance.DecodeBatch, Sink: l.store.Load(),
		Linger: l.cfg.Balance.LedgerLinger.Std(), Logger: l.log, Registerer: l.reg,
	})
	l.projector.Store(p)
	err := p.Run(ctx)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// nodeID returns the id kept in <dataDir>/node.id, creating it once.
func nodeID(dataDir string) (string, error) {
	path := filepath.Join(dataDir, "node.id")
	if b, err := os.ReadFile(path); err == nil {
		if id := strings.TrimSpace(string(b)); id != "" {
			return id, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("node id: %w", err)
	}
	var r [8]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", err
	}
	host, _ := os.Hostname()
	id := "node-" + hex.EncodeToString(r[:])
	if host != "" {
		id = host + "-" + hex.EncodeToString(r[:4])
	}
	if err := os.WriteFile(path, []byte(id+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("node id: %w", err)
	}
	return id, nil
}
