package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/tollgate-billing/tollgate/internal/account"
	"github.com/tollgate-billing/tollgate/internal/api"
	"github.com/tollgate-billing/tollgate/internal/balance"
	"github.com/tollgate-billing/tollgate/internal/cdr"
	"github.com/tollgate-billing/tollgate/internal/chf"
	"github.com/tollgate-billing/tollgate/internal/h2"
)

// chfSub is the CHF (issue: online charging): the Nchf_ConvergedCharging
// service on the SBI listener (HTTP/2: h2c, or TLS when a certificate is
// configured), its sessions in JetStream, and the CHF-CDR file writer.
type chfSub Node

func (c *chfSub) Name() string { return "chf" }

func (c *chfSub) Start(ctx context.Context) error {
	conn, st, eng := c.cluster(), c.store.Load(), c.balances.Load()
	if conn == nil || st == nil || eng == nil {
		return errors.New("chf: cluster state, store and balance engine must be running")
	}
	bal := balance.Mirror{Engine: eng, Account: st.GetAccount}
	sessions := chf.EngineStore{States: eng.States}
	w, err := cdr.NewWriter(cdr.Config{Dir: c.cfg.CHF.CDRDir, Prefix: "chf", Registerer: c.reg, Logger: c.log})
	if err != nil {
		return fmt.Errorf("chf: CDR writer: %w", err)
	}
	id := c.cfg.Balance.NodeID
	if id == "" {
		if id, err = nodeID(c.cfg.DataDir); err != nil {
			return err
		}
	}
	svc, err := chf.New(chf.Config{
		NodeID: id, CHF: c.cfg.CHF,
		Balances:  bal,
		Rater:     c.engine,
		Directory: &chf.StoreDirectory{Data: st, TTL: 30 * time.Second},
		Sessions:  sessions, Records: w,
		Logger: c.log, Registerer: c.reg,
	})
	if err != nil {
		return err
	}
	if err := svc.Start(ctx); err != nil {
		return err
	}
	// Notifications to the consumers' notifyUri (h2c, as the SBI).
	n := c.cfg.CHF.Notify
	notifier := chf.NewNotifier(chf.NotifyConfig{Workers: n.Workers, QueueSize: n.QueueSize, MaxAttempts: n.MaxAttempts,
		Timeout: n.Timeout.Std(), HTTP1: n.HTTP1, Logger: c.log, Registerer: c.reg}, svc)
	ln, err := net.Listen("tcp", c.cfg.SBI.Addr)
	if err != nil {
		return fmt.Errorf("chf: sbi listener: %w", err)
	}
	var tlsCfg *tls.Config
	if c.cfg.SBI.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(c.cfg.SBI.TLSCert, c.cfg.SBI.TLSKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("chf: sbi TLS: %w", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	srv := svc.NewServer(tlsCfg)
	c.chf = &chfRun{svc: svc, cdr: w, srv: srv, ln: ln, notify: notifier}
	c.notifier.Store(notifier)
	c.log.Info("sbi listening", "addr", ln.Addr().String(), "tls", c.cfg.SBI.TLSCert != "")
	return nil
}

// Run serves the SBI, sweeps idle sessions, sends notifications and writes
// CDRs until ctx ends; then it stops accepting requests, waits for those in
// flight (and the notifications being sent), and drains the CDR queue into
// finished files.
func (c *chfSub) Run(ctx context.Context) error {
	r := c.chf
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := r.srv.Serve(r.ln); err != nil && !errors.Is(err, h2.ErrServerClosed) {
			return fmt.Errorf("chf: sbi: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), c.cfg.HTTP.ShutdownTimeout.Std())
		defer cancel()
		return r.srv.Shutdown(sctx)
	})
	g.Go(func() error { return r.svc.Run(gctx) })
	g.Go(func() error { return r.notify.Run(gctx) })
	wctx, wcancel := context.WithCancel(context.Background())
	defer wcancel()
	wdone := make(chan error, 1)
	go func() { wdone <- r.cdr.Run(wctx) }()
	err := g.Wait()
	// Requests are finished: let the writer drain and finish its file.
	wcancel()
	if werr := <-wdone; werr != nil && err == nil {
		err = werr
	}
	return err
}

func (c *chfSub) Stop(ctx context.Context) error {
	c.notifier.Store(nil)
	if c.chf == nil {
		return nil
	}
	return c.chf.cdr.Close(ctx)
}

// chfRun is what a started chfSub runs.
type chfRun struct {
	svc    *chf.Service
	cdr    *cdr.Writer
	srv    *h2.Server
	ln     net.Listener
	notify *chf.Notifier
}

// chfHooks passes the admin API's hooks to the CHF's notifier once it runs
// (the API is built before the CHF starts; before that, and without a CHF,
// they do nothing). The notifier only queues: the API's answer never waits
// for a consumer.
type chfHooks Node

// BalanceRaised reauthorizes the account's sessions (a top-up, credit or
// positive adjustment).
func (h *chfHooks) BalanceRaised(ctx context.Context, accountID string) {
	if n := h.notifier.Load(); n != nil {
		n.BalanceRaised(ctx, accountID)
	}
}

// AccountStatusChanged aborts the sessions of an account that is no longer
// active; an account active again is treated like a top-up (its sessions'
// refused groups may get quota now).
func (h *chfHooks) AccountStatusChanged(ctx context.Context, a account.Account) {
	n := h.notifier.Load()
	if n == nil {
		return
	}
	if a.Status == account.Active {
		n.BalanceRaised(ctx, a.ID)
		return
	}
	n.AccountInactive(ctx, a.ID, a.Status.String())
}

var _ api.Notifier = (*chfHooks)(nil)
