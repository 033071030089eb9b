package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/tollgate-billing/tollgate/internal/balance"
	"github.com/tollgate-billing/tollgate/internal/cdr"
	"github.com/tollgate-billing/tollgate/internal/chf"
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
	sessions, err := chf.OpenKVStore(ctx, conn.JS(), "", 1)
	if err != nil {
		return err
	}
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
		Balances:  balance.Mirror{Engine: eng, Account: st.GetAccount},
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
	ln, err := net.Listen("tcp", c.cfg.SBI.Addr)
	if err != nil {
		return fmt.Errorf("chf: sbi listener: %w", err)
	}
	srv := &http.Server{
		Handler:           svc.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       5 * time.Minute,
		ErrorLog:          nil,
	}
	var protos http.Protocols
	protos.SetHTTP1(true)
	protos.SetHTTP2(true)
	if c.cfg.SBI.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(c.cfg.SBI.TLSCert, c.cfg.SBI.TLSKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("chf: sbi TLS: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, srv.TLSConfig)
		srv.TLSConfig.NextProtos = []string{"h2", "http/1.1"}
	} else {
		protos.SetUnencryptedHTTP2(true)
	}
	srv.Protocols = &protos
	c.chf = &chfRun{svc: svc, cdr: w, srv: srv, ln: ln}
	c.log.Info("sbi listening", "addr", ln.Addr().String(), "tls", c.cfg.SBI.TLSCert != "")
	return nil
}

// Run serves the SBI, sweeps idle sessions and writes CDRs until ctx ends;
// then it stops accepting requests, waits for those in flight, and drains
// the CDR queue into finished files.
func (c *chfSub) Run(ctx context.Context) error {
	r := c.chf
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := r.srv.Serve(r.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
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
	if c.chf == nil {
		return nil
	}
	return c.chf.cdr.Close(ctx)
}

// chfRun is what a started chfSub runs.
type chfRun struct {
	svc *chf.Service
	cdr *cdr.Writer
	srv *http.Server
	ln  net.Listener
}
