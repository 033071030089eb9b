package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// FieldError is a problem with one configuration key found by
// [Config.Validate].
type FieldError struct {
	Key string // dotted key path, e.g. "http.addr"
	Msg string
}

func (e *FieldError) Error() string { return e.Key + ": " + e.Msg }

// Validate reports every problem in c at once (joined with errors.Join), each
// a *FieldError naming its key path, e.g. `http.addr: missing port in address
// "localhost"`. Run [Config.Resolve] first so derived values are checked too;
// Validate does not modify c and does not touch the filesystem.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &FieldError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}

	if strings.TrimSpace(c.DataDir) == "" {
		bad("data_dir", "must not be empty")
	}

	switch c.Log.Level {
	case LevelDebug, LevelInfo, LevelWarn, LevelError:
	default:
		bad("log.level", "must be one of debug, info, warn, error; got %q", c.Log.Level)
	}
	switch c.Log.Format {
	case FormatText, FormatJSON:
	default:
		bad("log.format", "must be text or json; got %q", c.Log.Format)
	}

	// Listeners: each address valid, no two on the same fixed port.
	type listener struct{ key, addr string }
	listeners := []listener{{"http.addr", c.HTTP.Addr}, {"sbi.addr", c.SBI.Addr}}
	if c.NATS.URL == "" && c.NATS.Embedded.Listen != "" {
		listeners = append(listeners, listener{"nats.embedded.listen", c.NATS.Embedded.Listen})
	}
	seen := map[string]string{}
	for _, l := range listeners {
		if err := checkAddr(l.addr); err != nil {
			bad(l.key, "%v", err)
			continue
		}
		host, port, _ := net.SplitHostPort(l.addr)
		if port == "0" {
			continue
		}
		norm := net.JoinHostPort(normHost(host), port)
		if other, dup := seen[norm]; dup {
			bad(l.key, "address %q is also used by %s", l.addr, other)
		}
		seen[norm] = l.key
	}

	for _, d := range []struct {
		key string
		v   Duration
	}{
		{"http.read_header_timeout", c.HTTP.ReadHeaderTimeout},
		{"http.read_timeout", c.HTTP.ReadTimeout},
		{"http.write_timeout", c.HTTP.WriteTimeout},
		{"http.idle_timeout", c.HTTP.IdleTimeout},
	} {
		if d.v < 0 {
			bad(d.key, "must not be negative; got %s", d.v)
		}
	}
	if c.HTTP.ShutdownTimeout <= 0 {
		bad("http.shutdown_timeout", "must be positive; got %s", c.HTTP.ShutdownTimeout)
	}

	// NATS (DESIGN §3, S0.5).
	if c.NATS.URL != "" {
		for _, u := range strings.Split(c.NATS.URL, ",") {
			if err := checkNATSURL(strings.TrimSpace(u)); err != nil {
				bad("nats.url", "%v", err)
			}
		}
		if c.NATS.Embedded.Listen != "" {
			bad("nats.embedded.listen", "set, but nats.url selects an external server; unset one of them")
		}
	}
	e := c.NATS.Embedded
	if e.ServerName == "" {
		bad("nats.embedded.server_name", "must not be empty")
	} else if strings.ContainsAny(e.ServerName, " \t\r\n") {
		bad("nats.embedded.server_name", "must not contain whitespace; got %q", e.ServerName)
	}
	if e.MaxMemory < 0 {
		bad("nats.embedded.max_memory", "must not be negative; got %d", e.MaxMemory)
	}
	if e.MaxStore < 0 {
		bad("nats.embedded.max_store", "must not be negative; got %d", e.MaxStore)
	}
	switch e.Sync {
	case SyncPolicyAlways:
		if e.SyncInterval < 0 {
			bad("nats.embedded.sync_interval", "must not be negative; got %s", e.SyncInterval)
		}
	case SyncPolicyInterval:
		if e.SyncInterval <= 0 {
			bad("nats.embedded.sync_interval", "must be positive with sync: interval; got %s", e.SyncInterval)
		}
	default:
		bad("nats.embedded.sync", "must be always or interval; got %q", e.Sync)
	}
	if c.NATS.ConnectTimeout <= 0 {
		bad("nats.connect_timeout", "must be positive; got %s", c.NATS.ConnectTimeout)
	}

	// Records store (DESIGN §3).
	switch c.Store.Driver {
	case "", DriverSQLite:
		if isPostgresURL(c.Store.DSN) {
			bad("store.dsn", "is a PostgreSQL URL but store.driver is sqlite")
		}
	case DriverPostgres:
		if strings.TrimSpace(c.Store.DSN) == "" {
			bad("store.dsn", "required when store.driver is postgres")
		} else if strings.Contains(c.Store.DSN, "://") {
			if !isPostgresURL(c.Store.DSN) {
				bad("store.dsn", "URL scheme must be postgres:// or postgresql://")
			} else if _, err := url.Parse(c.Store.DSN); err != nil {
				bad("store.dsn", "invalid URL: %v", unwrapURLError(err))
			}
		}
	default:
		bad("store.driver", "must be sqlite or postgres; got %q", c.Store.Driver)
	}
	if c.Store.MaxOpenConns < 0 {
		bad("store.max_open_conns", "must not be negative; got %d", c.Store.MaxOpenConns)
	}

	switch ri := c.Rating.ReloadInterval; {
	case ri < 0:
		bad("rating.reload_interval", "must not be negative; got %s", ri)
	case ri > 0 && ri < Duration(time.Second):
		bad("rating.reload_interval", "must be 0 or at least 1s; got %s", ri)
	case ri > 0 && c.Rating.PlansDir == "":
		bad("rating.reload_interval", "set, but rating.plans_dir is empty")
	}

	b := c.Balance
	if b.Partitions < 1 || b.Partitions > 4096 {
		bad("balance.partitions", "must be from 1 to 4096; got %d", b.Partitions)
	}
	if b.LeaseTTL < Duration(time.Second) {
		bad("balance.lease_ttl", "must be at least 1s; got %s", b.LeaseTTL)
	}
	if b.MaxBatch < 1 || b.MaxBatch > 65536 {
		bad("balance.max_batch", "must be from 1 to 65536; got %d", b.MaxBatch)
	}
	if b.SnapshotEvery < 1 {
		bad("balance.snapshot_every", "must be at least 1; got %d", b.SnapshotEvery)
	}
	if b.IdempotencyWindow < Duration(time.Minute) {
		bad("balance.idempotency_window", "must be at least 1m; got %s", b.IdempotencyWindow)
	}
	if b.IdempotencyMaxKeys < 1024 {
		bad("balance.idempotency_max_keys", "must be at least 1024; got %d", b.IdempotencyMaxKeys)
	}
	if b.LedgerLinger < 0 || b.LedgerLinger > Duration(10*time.Second) {
		bad("balance.ledger_linger", "must be from 0 to 10s; got %s", b.LedgerLinger)
	}

	if (c.SBI.TLSCert == "") != (c.SBI.TLSKey == "") {
		bad("sbi.tls_cert", "sbi.tls_cert and sbi.tls_key must be set together")
	}
	h := c.CHF
	rgSeen := map[uint32]bool{}
	for i, rg := range h.RatingGroups {
		k := fmt.Sprintf("chf.rating_groups[%d]", i)
		if rgSeen[rg.ID] {
			bad(k+".id", "rating group %d is listed twice", rg.ID)
		}
		rgSeen[rg.ID] = true
		if rg.Service == "" {
			bad(k+".service", "must not be empty")
		}
		switch rg.Units {
		case UnitsVolume, UnitsTime, UnitsUnits:
		default:
			bad(k+".units", "must be volume, time or units; got %q", rg.Units)
		}
		if rg.Quota == 0 && !rg.Offline {
			bad(k+".quota", "must be at least 1 for an online rating group")
		}
	}
	if h.ValidityTime < Duration(time.Second) {
		bad("chf.validity_time", "must be at least 1s; got %s", h.ValidityTime)
	}
	if h.QuotaHoldingTime < 0 {
		bad("chf.quota_holding_time", "must not be negative; got %s", h.QuotaHoldingTime)
	}
	if h.ThresholdPercent < 0 || h.ThresholdPercent > 99 {
		bad("chf.threshold_percent", "must be from 0 to 99; got %d", h.ThresholdPercent)
	}
	if h.TombstoneTTL < Duration(time.Second) {
		bad("chf.tombstone_ttl", "must be at least 1s; got %s", h.TombstoneTTL)
	}
	if h.IdleTimeout < h.ValidityTime {
		bad("chf.idle_timeout", "must be at least chf.validity_time (%s); got %s", h.ValidityTime, h.IdleTimeout)
	}
	switch h.FinalUnitAction {
	case "TERMINATE":
	case "REDIRECT":
		if h.RedirectAddress == "" {
			bad("chf.redirect_address", "required with final_unit_action REDIRECT")
		}
	case "RESTRICT_ACCESS":
		if h.FilterID == "" {
			bad("chf.filter_id", "required with final_unit_action RESTRICT_ACCESS")
		}
	default:
		bad("chf.final_unit_action", "must be TERMINATE, REDIRECT or RESTRICT_ACCESS; got %q", h.FinalUnitAction)
	}
	if n := h.Notify; n.Workers < 1 || n.Workers > 1024 {
		bad("chf.notify.workers", "must be from 1 to 1024; got %d", n.Workers)
	}
	if n := h.Notify; n.QueueSize < 1 {
		bad("chf.notify.queue_size", "must be at least 1; got %d", n.QueueSize)
	}
	if n := h.Notify; n.MaxAttempts < 1 {
		bad("chf.notify.max_attempts", "must be at least 1; got %d", n.MaxAttempts)
	}
	if n := h.Notify; n.Timeout < Duration(100*time.Millisecond) {
		bad("chf.notify.timeout", "must be at least 100ms; got %s", n.Timeout)
	}
	if h.PartialRecordTime < 0 {
		bad("chf.partial_record_time", "must not be negative; got %s", h.PartialRecordTime)
	}

	return errors.Join(errs...)
}

// checkAddr checks a host:port listen address with a numeric port.
func checkAddr(addr string) error {
	if addr == "" {
		return errors.New("must not be empty (want host:port)")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) {
			return fmt.Errorf("%s %q (want host:port)", ae.Err, addr)
		}
		return err
	}
	if strings.ContainsAny(host, " \t/") {
		return fmt.Errorf("invalid host %q", host)
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || (port != "0" && p == 0) {
		return fmt.Errorf("invalid port %q in address %q (want 0-65535)", port, addr)
	}
	return nil
}

func normHost(h string) string {
	switch h {
	case "", "0.0.0.0", "::":
		return ""
	case "localhost":
		return "127.0.0.1"
	}
	return h
}

func checkNATSURL(s string) error {
	if s == "" {
		return errors.New("empty URL in list")
	}
	if !strings.Contains(s, "://") {
		s = "nats://" + s // as nats.go does
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("invalid URL: %v", unwrapURLError(err))
	}
	switch u.Scheme {
	case "nats", "tls", "ws", "wss":
	default:
		return fmt.Errorf("unsupported scheme %q (want nats, tls, ws or wss)", u.Scheme)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("missing host in %q", redactURL(s, true))
	}
	return nil
}

// unwrapURLError drops url.Error's echo of the whole URL, which may hold a
// password.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
