package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// EnvPrefix starts every environment variable tollgate reads.
const EnvPrefix = "TOLLGATE_"

// Setting is one configuration key that can also be set by an environment
// variable and, usually, a command-line flag. Every flag has a variable and a
// file key (DESIGN §6); [Settings] is the single list of them, so that the
// cmd package, the docs and [Config.ApplyEnv] cannot drift apart.
type Setting struct {
	Key   string // YAML key path, e.g. "http.addr"
	Env   string // environment variable, e.g. "TOLLGATE_HTTP_ADDR"
	Flag  string // flag name without dashes, e.g. "http-addr"; "" when there is none
	Arg   string // placeholder for the value in help text, e.g. "ADDR"
	Usage string
	set   func(c *Config, v string) error
}

// Apply sets the setting's key in c from the string v, as given in an
// environment variable or flag.
func (s Setting) Apply(c *Config, v string) error { return s.set(c, v) }

func str(f func(c *Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *f(c) = v; return nil }
}

func boolean(f func(c *Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("invalid boolean %q", v)
		}
		*f(c) = b
		return nil
	}
}

var settings = []Setting{
	{Key: "data_dir", Env: "TOLLGATE_DATA_DIR", Flag: "data-dir", Arg: "DIR",
		Usage: "data directory (default " + DefaultDataDir + ")",
		set:   str(func(c *Config) *string { return &c.DataDir })},
	{Key: "log.level", Env: "TOLLGATE_LOG_LEVEL", Flag: "log-level", Arg: "LEVEL",
		Usage: "log level: debug, info, warn, error",
		set:   str(func(c *Config) *string { return &c.Log.Level })},
	{Key: "log.format", Env: "TOLLGATE_LOG_FORMAT", Flag: "log-format", Arg: "FORMAT",
		Usage: "log format: text, json",
		set:   str(func(c *Config) *string { return &c.Log.Format })},
	{Key: "http.addr", Env: "TOLLGATE_HTTP_ADDR", Flag: "http-addr", Arg: "ADDR",
		Usage: "admin API, metrics and healthz listen address (default " + DefaultHTTPAddr + ")",
		set:   str(func(c *Config) *string { return &c.HTTP.Addr })},
	{Key: "sbi.addr", Env: "TOLLGATE_SBI_ADDR", Flag: "sbi-addr", Arg: "ADDR",
		Usage: "Nchf (HTTP/2) listen address (default " + DefaultSBIAddr + ")",
		set:   str(func(c *Config) *string { return &c.SBI.Addr })},
	{Key: "nats.url", Env: "TOLLGATE_NATS_URL", Flag: "nats-url", Arg: "URL",
		Usage: "external NATS JetStream URL; empty runs the embedded server",
		set:   str(func(c *Config) *string { return &c.NATS.URL })},
	{Key: "nats.embedded.listen", Env: "TOLLGATE_NATS_LISTEN", Flag: "nats-listen", Arg: "ADDR",
		Usage: "host:port for the embedded NATS server; empty opens no port",
		set:   str(func(c *Config) *string { return &c.NATS.Embedded.Listen })},
	{Key: "nats.embedded.sync", Env: "TOLLGATE_NATS_SYNC", Flag: "nats-sync", Arg: "POLICY",
		Usage: "embedded JetStream fsync policy: always (every write; survives power loss), " +
			"interval (every nats.embedded.sync_interval; survives a process crash)",
		set: str(func(c *Config) *string { return &c.NATS.Embedded.Sync })},
	{Key: "store.driver", Env: "TOLLGATE_STORE_DRIVER", Flag: "store-driver", Arg: "DRIVER",
		Usage: "records store driver: sqlite, postgres",
		set:   str(func(c *Config) *string { return &c.Store.Driver })},
	{Key: "store.dsn", Env: "TOLLGATE_STORE_DSN", Flag: "store-dsn", Arg: "DSN",
		Usage: "records store DSN (default <data-dir>/tollgate.db for sqlite)",
		set:   str(func(c *Config) *string { return &c.Store.DSN })},
	{Key: "store.migrate", Env: "TOLLGATE_STORE_MIGRATE", Flag: "store-migrate", Arg: "BOOL",
		Usage: "apply schema migrations at start (true, false)",
		set:   boolean(func(c *Config) *bool { return &c.Store.Migrate })},
	{Key: "balance.ledger_projection", Env: "TOLLGATE_LEDGER_PROJECTION", Flag: "ledger-projection", Arg: "BOOL",
		Usage: "run the SQL ledger projection in this process (true, false: `tollgate ledger` runs it)",
		set:   boolean(func(c *Config) *bool { return &c.Balance.LedgerProjection })},
	{Key: "http.pprof", Env: "TOLLGATE_HTTP_PPROF", Flag: "http-pprof", Arg: "BOOL",
		Usage: "serve Go profiles at /debug/pprof/ on the admin listener (true, false)",
		set:   boolean(func(c *Config) *bool { return &c.HTTP.Pprof })},
	{Key: "rating.plans_dir", Env: "TOLLGATE_PLANS_DIR", Flag: "plans-dir", Arg: "DIR",
		Usage: "directory of YAML tariff plan files imported at start and on reload",
		set:   str(func(c *Config) *string { return &c.Rating.PlansDir })},
	{Key: "rating.reload_interval", Env: "TOLLGATE_PLANS_RELOAD_INTERVAL", Flag: "plans-reload-interval", Arg: "DURATION",
		Usage: "re-import the plans directory this often, e.g. 5m (0 = only on SIGHUP/API)",
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("invalid duration %q", v)
			}
			c.Rating.ReloadInterval = Duration(d)
			return nil
		}},
}

// Settings returns the keys settable from the environment and flags.
func Settings() []Setting { return append([]Setting(nil), settings...) }

// ApplyEnv applies the TOLLGATE_* environment variables found by lookup
// (usually os.LookupEnv) over c. A variable that is set, even to the empty
// string, overrides the file: TOLLGATE_NATS_URL= selects the embedded server.
// Every bad value is reported, each naming its variable.
func (c *Config) ApplyEnv(lookup func(string) (string, bool)) error {
	var errs []error
	for _, s := range settings {
		v, ok := lookup(s.Env)
		if !ok {
			continue
		}
		if err := s.set(c, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.Env, err))
		}
	}
	return errors.Join(errs...)
}
