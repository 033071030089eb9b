package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDefault(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	if c.DataDir != "./tollgate-data" || c.HTTP.Addr != "127.0.0.1:8080" || c.SBI.Addr != "127.0.0.1:8081" {
		t.Errorf("unexpected defaults: %+v", c)
	}
	if c.Log.Level != "info" || c.Log.Format != "text" || !c.Store.Migrate || c.NATS.Embedded.ServerName != "tollgate" {
		t.Errorf("unexpected defaults: %+v", c)
	}
	c.Resolve()
	if c.Store.Driver != DriverSQLite || c.Store.DSN != filepath.Join("tollgate-data", "tollgate.db") {
		t.Errorf("resolved store = %+v", c.Store)
	}
	if c.NATS.Embedded.StoreDir != filepath.Join("tollgate-data", "nats") {
		t.Errorf("resolved nats store dir = %q", c.NATS.Embedded.StoreDir)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("resolved default Validate() = %v", err)
	}
	before := c
	c.Resolve()
	if !reflect.DeepEqual(c, before) {
		t.Errorf("Resolve is not idempotent")
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name       string
		edit       func(*Config)
		wantDriver string
		wantDSN    string
		wantJSDir  string
	}{
		{"infer postgres", func(c *Config) { c.Store.DSN = "postgres://u:p@db/tollgate" },
			DriverPostgres, "postgres://u:p@db/tollgate", "/d/nats"},
		{"infer postgresql", func(c *Config) { c.Store.DSN = "PostgreSQL://db/x" },
			DriverPostgres, "PostgreSQL://db/x", "/d/nats"},
		{"explicit sqlite file", func(c *Config) { c.Store.DSN = "/x/y.db" },
			DriverSQLite, "/x/y.db", "/d/nats"},
		{"postgres without dsn stays empty", func(c *Config) { c.Store.Driver = DriverPostgres },
			DriverPostgres, "", "/d/nats"},
		{"external nats: no store dir", func(c *Config) { c.NATS.URL = "nats://n:4222" },
			DriverSQLite, "/d/tollgate.db", ""},
		{"explicit store dir kept", func(c *Config) { c.NATS.Embedded.StoreDir = "/js" },
			DriverSQLite, "/d/tollgate.db", "/js"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.DataDir = "/d"
			tt.edit(&c)
			c.Resolve()
			if c.Store.Driver != tt.wantDriver || c.Store.DSN != tt.wantDSN || c.NATS.Embedded.StoreDir != tt.wantJSDir {
				t.Errorf("got driver=%q dsn=%q jsdir=%q; want %q %q %q", c.Store.Driver, c.Store.DSN,
					c.NATS.Embedded.StoreDir, tt.wantDriver, tt.wantDSN, tt.wantJSDir)
			}
		})
	}
}

const fullYAML = `# a full file
data_dir: /var/lib/tollgate
log:
  level: debug
  format: json
http:
  addr: 0.0.0.0:9090
  read_header_timeout: 5s
  read_timeout: 1m
  write_timeout: 1m30s
  idle_timeout: 0
  shutdown_timeout: 20s
sbi:
  addr: ":8443"
  tls_cert: /etc/tollgate/sbi.crt
  tls_key: /etc/tollgate/sbi.key
nats:
  url: ""
  embedded:
    listen: 127.0.0.1:4222
    store_dir: /var/lib/js
    server_name: node-1
    max_memory: 512MiB
    max_store: 10000000000
    sync: interval
    sync_interval: 200ms
  connect_timeout: 3s
store:
  driver: postgres
  dsn: postgres://tollgate:s3cret@db:5432/tollgate?sslmode=disable
  max_open_conns: 20
  migrate: false
rating:
  plans_dir: /etc/tollgate/plans
  reload_interval: 5m
balance:
  partitions: 64
  node_id: chf-1
  lease_ttl: 3s
  max_batch: 512
  snapshot_every: 5000
  idempotency_window: 1h
  idempotency_max_keys: 200000
  ledger_linger: 50ms
  ledger_projection: false
chf:
  rating_groups:
    - {id: 1, service: data, units: volume, quota: 5000000}
    - {id: 2, service: video, units: volume, offline: true}
  validity_time: 30m
  quota_holding_time: 5m
  threshold_percent: 10
  idle_timeout: 1h
  tombstone_ttl: 90s
  final_unit_action: REDIRECT
  redirect_address: https://topup.example.com
  filter_id: ""
  cdr_dir: /var/spool/cdr
  partial_record_volume: 500000000
  partial_record_time: 30m
  notify: {workers: 8, queue_size: 1000, max_attempts: 3, timeout: 2s, http1: true}
`

func TestParseFull(t *testing.T) {
	c, err := Parse("config.yaml", []byte(fullYAML))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		DataDir: "/var/lib/tollgate",
		Log:     Log{Level: "debug", Format: "json"},
		HTTP: HTTP{Addr: "0.0.0.0:9090", ReadHeaderTimeout: Duration(5 * time.Second),
			ReadTimeout: Duration(time.Minute), WriteTimeout: Duration(90 * time.Second),
			IdleTimeout: 0, ShutdownTimeout: Duration(20 * time.Second)},
		SBI: SBI{Addr: ":8443", TLSCert: "/etc/tollgate/sbi.crt", TLSKey: "/etc/tollgate/sbi.key"},
		NATS: NATS{
			Embedded: EmbeddedNATS{Listen: "127.0.0.1:4222", StoreDir: "/var/lib/js", ServerName: "node-1",
				MaxMemory: 512 << 20, MaxStore: 10_000_000_000,
				Sync: SyncPolicyInterval, SyncInterval: Duration(200 * time.Millisecond)},
			ConnectTimeout: Duration(3 * time.Second),
		},
		Store:  Store{Driver: "postgres", DSN: "postgres://tollgate:s3cret@db:5432/tollgate?sslmode=disable", MaxOpenConns: 20, Migrate: false},
		Rating: Rating{PlansDir: "/etc/tollgate/plans", ReloadInterval: Duration(5 * time.Minute)},
		Balance: Balance{Partitions: 64, NodeID: "chf-1", LeaseTTL: Duration(3 * time.Second), MaxBatch: 512,
			SnapshotEvery: 5000, IdempotencyWindow: Duration(time.Hour), IdempotencyMaxKeys: 200000,
			LedgerLinger: Duration(50 * time.Millisecond), LedgerProjection: false},
		CHF: CHF{
			RatingGroups: []RatingGroup{{ID: 1, Service: "data", Units: UnitsVolume, Quota: 5000000},
				{ID: 2, Service: "video", Units: UnitsVolume, Offline: true}},
			ValidityTime: Duration(30 * time.Minute), QuotaHoldingTime: Duration(5 * time.Minute), ThresholdPercent: 10,
			IdleTimeout: Duration(time.Hour), TombstoneTTL: Duration(90 * time.Second), FinalUnitAction: "REDIRECT", RedirectAddress: "https://topup.example.com",
			CDRDir: "/var/spool/cdr", PartialRecordVolume: 500000000, PartialRecordTime: Duration(30 * time.Minute),
			Notify: CHFNotify{Workers: 8, QueueSize: 1000, MaxAttempts: 3, Timeout: Duration(2 * time.Second), HTTP1: true},
		},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Parse:\n got %+v\nwant %+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}

	// The printed form round-trips (with the password masked).
	c2, err := Parse("printed", []byte(c.String()))
	if err != nil {
		t.Fatalf("re-parse of String(): %v\n%s", err, c.String())
	}
	want.Store.DSN = "postgres://tollgate:xxxxx@db:5432/tollgate?sslmode=disable"
	if !reflect.DeepEqual(c2, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", c2, want)
	}
}

func TestParsePartialKeepsDefaults(t *testing.T) {
	c, err := Parse("c.yaml", []byte("http:\n  addr: 127.0.0.1:9999\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.HTTP.Addr = "127.0.0.1:9999"
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got %+v\nwant %+v", c, want)
	}
	for _, empty := range []string{"", "\n# only a comment\n", "---\n", "~\n"} {
		c, err := Parse("c.yaml", []byte(empty))
		if err != nil || !reflect.DeepEqual(c, Default()) {
			t.Errorf("Parse(%q) = %+v, %v; want defaults", empty, c, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // each must appear in the error text
		n    int      // number of joined errors
	}{
		{"unknown top-level key", "data_dir: x\nlog:\n  level: info\n\n\n\nhtpp:\n  addr: x\n",
			[]string{`config.yaml:7: unknown key "htpp" (did you mean "http"?)`}, 1},
		{"unknown nested key", "http:\n  addr: 127.0.0.1:1\n  raed_timeout: 5s\n",
			[]string{`config.yaml:3: unknown key "http.raed_timeout" (did you mean "http.read_timeout"?)`}, 1},
		{"unknown key no suggestion", "nats:\n  embedded:\n    zzzzzzzz: 1\n",
			[]string{`config.yaml:3: unknown key "nats.embedded.zzzzzzzz"`}, 1},
		{"bad duration", "http:\n  read_timeout: 10x\n",
			[]string{`config.yaml:2: http.read_timeout: invalid duration "10x"`}, 1},
		{"duration without unit", "nats:\n  connect_timeout: 10\n",
			[]string{`config.yaml:2: nats.connect_timeout: invalid duration "10" (missing unit, write e.g. "10s")`}, 1},
		{"wrong type int", "store:\n  max_open_conns: lots\n",
			[]string{`config.yaml:2: store.max_open_conns: expected an integer, got "lots"`}, 1},
		{"wrong type bool", "store:\n  migrate: maybe\n",
			[]string{`config.yaml:2: store.migrate: expected true or false, got "maybe"`}, 1},
		{"mapping for string", "http:\n  addr:\n    a: b\n",
			[]string{`config.yaml:3: http.addr: expected a string, got a mapping`}, 1},
		{"scalar for section", "log: loud\n",
			[]string{`config.yaml:1: log: expected a mapping of keys, got "loud"`}, 1},
		{"bad size", "nats:\n  embedded:\n    max_store: 3 parsecs\n",
			[]string{`config.yaml:3: nats.embedded.max_store: invalid size "3 parsecs"`}, 1},
		{"several at once", "htpp: {}\nhttp:\n  idle_timeout: forever\nstore:\n  max_open_conns: x\n",
			[]string{`config.yaml:1: unknown key "htpp"`, `config.yaml:3: http.idle_timeout: invalid duration`,
				`config.yaml:5: store.max_open_conns: expected an integer`}, 3},
		{"duplicate key", "log:\n  level: info\n  level: debug\n",
			[]string{`config.yaml:3: log.level: duplicate key "level" (first at line 2)`}, 1},
		{"syntax error", "http:\n  addr: x\n bad: [\n",
			[]string{`config.yaml:2: did not find expected key`}, 1},
		{"tab indentation", "http:\n\taddr: x\n",
			[]string{`config.yaml:2: found character that cannot start any token`}, 1},
		{"two documents", "log: {level: info}\n---\nlog: {level: debug}\n",
			[]string{`config.yaml:2: more than one YAML document`}, 1},
		{"flow mapping", "http: {addr: x, read_timeout: bad}\n",
			[]string{`config.yaml:1: invalid duration "bad"`}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("config.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			var n int
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				n = len(j.Unwrap())
			} else {
				n = 1
			}
			if n != tt.n {
				t.Errorf("got %d errors, want %d: %v", n, tt.n, err)
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.File != "config.yaml" || pe.Line == 0 {
				t.Errorf("errors.As(*ParseError) = %+v", pe)
			}
		})
	}
}

func TestParseKeepsWhatDecoded(t *testing.T) {
	c, err := Parse("c.yaml", []byte("data_dir: /srv\nlog: {level: loud}\nstore:\n  max_open_conns: many\n"))
	if err == nil {
		t.Fatal("no error")
	}
	if c.DataDir != "/srv" || c.Log.Level != "loud" || c.Store.MaxOpenConns != 0 {
		t.Errorf("partial config = %+v", c)
	}
	if c, err := Parse("c.yaml", []byte("data_dir: [\n")); err == nil || !reflect.DeepEqual(c, Default()) {
		t.Errorf("syntax error: got %+v, %v; want defaults and an error", c, err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tollgate.yaml")
	if err := os.WriteFile(path, []byte("data_dir: /srv\nhttp:\n  adr: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path+`:3: unknown key "http.adr" (did you mean "http.addr"?)`) {
		t.Errorf("Load = %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v; want ErrNotExist", err)
	}
}

func TestApplyEnv(t *testing.T) {
	env := map[string]string{
		"TOLLGATE_DATA_DIR":              "/env/data",
		"TOLLGATE_HTTP_ADDR":             "127.0.0.1:1",
		"TOLLGATE_SBI_ADDR":              "127.0.0.1:2",
		"TOLLGATE_LOG_LEVEL":             "debug",
		"TOLLGATE_LOG_FORMAT":            "json",
		"TOLLGATE_NATS_URL":              "nats://n1:4222",
		"TOLLGATE_NATS_SYNC":             "interval",
		"TOLLGATE_STORE_DRIVER":          "postgres",
		"TOLLGATE_STORE_DSN":             "host=db password=x",
		"TOLLGATE_STORE_MIGRATE":         "false",
		"TOLLGATE_PLANS_DIR":             "/plans",
		"TOLLGATE_PLANS_RELOAD_INTERVAL": "1m",
		"UNRELATED":                      "x",
	}
	c, err := Parse("c.yaml", []byte("data_dir: /file\nhttp: {addr: '127.0.0.1:3'}\nnats: {embedded: {listen: '127.0.0.1:4'}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ApplyEnv(mapLookup(env)); err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.DataDir = "/env/data"
	want.HTTP.Addr = "127.0.0.1:1"
	want.SBI.Addr = "127.0.0.1:2"
	want.Log = Log{Level: "debug", Format: "json"}
	want.NATS.URL = "nats://n1:4222"
	want.NATS.Embedded.Listen = "127.0.0.1:4" // from the file: no env var set
	want.NATS.Embedded.Sync = SyncPolicyInterval
	want.Store = Store{Driver: "postgres", DSN: "host=db password=x", Migrate: false}
	want.Rating = Rating{PlansDir: "/plans", ReloadInterval: Duration(time.Minute)}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}

	// Set-but-empty overrides too: TOLLGATE_NATS_LISTEN= closes the port.
	if err := c.ApplyEnv(mapLookup(map[string]string{"TOLLGATE_NATS_LISTEN": ""})); err != nil {
		t.Fatal(err)
	}
	if c.NATS.Embedded.Listen != "" {
		t.Errorf("empty env did not override: %q", c.NATS.Embedded.Listen)
	}

	// Bad values: all reported, each naming its variable.
	err = c.ApplyEnv(mapLookup(map[string]string{"TOLLGATE_STORE_MIGRATE": "perhaps", "TOLLGATE_PLANS_RELOAD_INTERVAL": "soon"}))
	for _, w := range []string{`TOLLGATE_STORE_MIGRATE: invalid boolean "perhaps"`, `TOLLGATE_PLANS_RELOAD_INTERVAL: invalid duration "soon"`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("ApplyEnv error %v does not contain %q", err, w)
		}
	}
}

func TestSettingsComplete(t *testing.T) {
	seenEnv, seenFlag := map[string]bool{}, map[string]bool{}
	for _, s := range Settings() {
		if !strings.HasPrefix(s.Env, EnvPrefix) || s.Key == "" || s.Usage == "" || s.set == nil {
			t.Errorf("incomplete setting %+v", s)
		}
		if seenEnv[s.Env] || (s.Flag != "" && seenFlag[s.Flag]) {
			t.Errorf("duplicate setting %+v", s)
		}
		seenEnv[s.Env], seenFlag[s.Flag] = true, true
		// The key path must be a real file key.
		parts := strings.Split(s.Key, ".")
		typ := "config.Config"
		for i, p := range parts {
			found := false
			for _, k := range knownKeys[typ] {
				found = found || k == p
			}
			if !found {
				t.Errorf("setting %s: key %q not in the file format", s.Env, s.Key)
				break
			}
			if i < len(parts)-1 {
				typ = sectionType(typ, p)
			}
		}
	}
	for _, env := range []string{"TOLLGATE_DATA_DIR", "TOLLGATE_HTTP_ADDR", "TOLLGATE_SBI_ADDR", "TOLLGATE_LOG_LEVEL",
		"TOLLGATE_LOG_FORMAT", "TOLLGATE_NATS_URL", "TOLLGATE_NATS_LISTEN", "TOLLGATE_NATS_SYNC", "TOLLGATE_STORE_DRIVER",
		"TOLLGATE_STORE_DSN", "TOLLGATE_PLANS_DIR"} {
		if !seenEnv[env] {
			t.Errorf("missing environment variable %s", env)
		}
	}
}

// sectionType maps a section key to the YAML decoder's name of its type.
func sectionType(parent, key string) string {
	return map[string]string{
		"config.Config.log": "config.Log", "config.Config.http": "config.HTTP", "config.Config.sbi": "config.SBI",
		"config.Config.nats": "config.NATS", "config.NATS.embedded": "config.EmbeddedNATS",
		"config.Config.store": "config.Store", "config.Config.rating": "config.Rating",
		"config.Config.balance": "config.Balance",
	}[parent+"."+key]
}

func mapLookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want []string // substrings, one per expected error; nil = valid
	}{
		{"valid default", func(*Config) {}, nil},
		{"port zero ok", func(c *Config) { c.HTTP.Addr = "127.0.0.1:0"; c.SBI.Addr = "127.0.0.1:0" }, nil},
		{"ipv6 ok", func(c *Config) { c.HTTP.Addr = "[::1]:8080" }, nil},
		{"missing port", func(c *Config) { c.HTTP.Addr = "localhost" },
			[]string{`http.addr: missing port in address "localhost"`}},
		{"bad port", func(c *Config) { c.SBI.Addr = "127.0.0.1:99999" },
			[]string{`sbi.addr: invalid port "99999"`}},
		{"empty addr", func(c *Config) { c.SBI.Addr = "" }, []string{`sbi.addr: must not be empty`}},
		{"port clash", func(c *Config) { c.SBI.Addr = "localhost:8080" },
			[]string{`sbi.addr: address "localhost:8080" is also used by http.addr`}},
		{"nats listen clash", func(c *Config) { c.NATS.Embedded.Listen = "127.0.0.1:8081" },
			[]string{`nats.embedded.listen: address "127.0.0.1:8081" is also used by sbi.addr`}},
		{"nats url and listen", func(c *Config) { c.NATS.URL = "nats://a:4222"; c.NATS.Embedded.Listen = ":4222" },
			[]string{`nats.embedded.listen: set, but nats.url selects an external server`}},
		{"nats url list ok", func(c *Config) { c.NATS.URL = "nats://a:4222, tls://b:4222,c:4222" }, nil},
		{"nats url bad scheme", func(c *Config) { c.NATS.URL = "http://a:4222" },
			[]string{`nats.url: unsupported scheme "http"`}},
		{"sync interval ok", func(c *Config) {
			c.NATS.Embedded.Sync = SyncPolicyInterval
			c.NATS.Embedded.SyncInterval = Duration(100 * time.Millisecond)
		}, nil},
		{"sync interval zero", func(c *Config) {
			c.NATS.Embedded.Sync = SyncPolicyInterval
			c.NATS.Embedded.SyncInterval = 0
		}, []string{`nats.embedded.sync_interval: must be positive with sync: interval; got 0s`}},
		{"sync always ignores interval", func(c *Config) { c.NATS.Embedded.SyncInterval = 0 }, nil},
		{"sync unknown", func(c *Config) { c.NATS.Embedded.Sync = "never" },
			[]string{`nats.embedded.sync: must be always or interval; got "never"`}},
		{"postgres without dsn", func(c *Config) { c.Store.Driver = "postgres" },
			[]string{`store.dsn: required when store.driver is postgres`}},
		{"postgres kv dsn ok", func(c *Config) { c.Store.Driver = "postgres"; c.Store.DSN = "host=db user=x" }, nil},
		{"sqlite with postgres url", func(c *Config) { c.Store.Driver = "sqlite"; c.Store.DSN = "postgres://db/x" },
			[]string{`store.dsn: is a PostgreSQL URL but store.driver is sqlite`}},
		{"reload without dir", func(c *Config) { c.Rating.ReloadInterval = Duration(time.Minute) },
			[]string{`rating.reload_interval: set, but rating.plans_dir is empty`}},
		{"no ledger linger ok", func(c *Config) { c.Balance.LedgerLinger = 0 }, nil},
		{"ledger linger negative", func(c *Config) { c.Balance.LedgerLinger = Duration(-time.Millisecond) },
			[]string{`balance.ledger_linger: must be from 0 to 10s; got -1ms`}},
		{"ledger linger too long", func(c *Config) { c.Balance.LedgerLinger = Duration(time.Minute) },
			[]string{`balance.ledger_linger: must be from 0 to 10s; got 1m0s`}},
		{"many at once", func(c *Config) {
			c.DataDir = ""
			c.Log.Level = "verbose"
			c.Log.Format = "xml"
			c.HTTP.Addr = "127.0.0.1"
			c.HTTP.ReadTimeout = Duration(-time.Second)
			c.HTTP.ShutdownTimeout = 0
			c.NATS.Embedded.ServerName = "my node"
			c.NATS.Embedded.MaxStore = -1
			c.NATS.Embedded.SyncInterval = Duration(-time.Second)
			c.NATS.ConnectTimeout = 0
			c.Store.Driver = "mysql"
			c.Store.MaxOpenConns = -2
			c.Rating.ReloadInterval = Duration(time.Millisecond)
		}, []string{
			`data_dir: must not be empty`,
			`log.level: must be one of debug, info, warn, error; got "verbose"`,
			`log.format: must be text or json; got "xml"`,
			`http.addr: missing port in address`,
			`http.read_timeout: must not be negative; got -1s`,
			`http.shutdown_timeout: must be positive; got 0s`,
			`nats.embedded.server_name: must not contain whitespace`,
			`nats.embedded.max_store: must not be negative`,
			`nats.embedded.sync_interval: must not be negative; got -1s`,
			`nats.connect_timeout: must be positive`,
			`store.driver: must be sqlite or postgres; got "mysql"`,
			`store.max_open_conns: must not be negative`,
			`rating.reload_interval: must be 0 or at least 1s`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.edit(&c)
			err := c.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v; want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil; want %q", tt.want)
			}
			errs := err.(interface{ Unwrap() []error }).Unwrap()
			if len(errs) != len(tt.want) {
				t.Errorf("got %d errors, want %d:\n%v", len(errs), len(tt.want), err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("missing %q in:\n%v", w, err)
				}
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Key == "" {
				t.Errorf("errors.As(*FieldError) = %+v", fe)
			}
		})
	}
}

func TestRedacted(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u:secret@db:5432/x?sslmode=disable", "postgres://u:xxxxx@db:5432/x?sslmode=disable"},
		{"postgres://u@db/x", "postgres://u@db/x"},
		{"postgres://db/x?password=secret&sslmode=require", "postgres://db/x?password=xxxxx&sslmode=require"},
		{"host=db user=u password=secret dbname=x", "host=db user=u password=xxxxx dbname=x"},
		{"host=db password='a b\\' c' dbname=x", "host=db password=xxxxx dbname=x"},
		{"host=db PASSWORD = secret", "host=db PASSWORD=xxxxx"},
		{"/var/lib/tollgate/tollgate.db", "/var/lib/tollgate/tollgate.db"},
		{"postgres://u:p%ZZ@db/x", "postgres://xxxxx@db/x"},
	}
	for _, tt := range tests {
		c := Default()
		c.Store.DSN = tt.in
		if got := c.Redacted().Store.DSN; got != tt.want {
			t.Errorf("redact(%q) = %q; want %q", tt.in, got, tt.want)
		}
		if strings.Contains(c.String(), "secret") {
			t.Errorf("String() leaks the secret of %q", tt.in)
		}
		if c.Store.DSN != tt.in {
			t.Errorf("Redacted modified the receiver")
		}
	}
	c := Default()
	c.NATS.URL = "nats://user:pw@a:4222,nats://tok@b:4222,nats://c:4222"
	if got, want := c.Redacted().NATS.URL, "nats://user:xxxxx@a:4222,nats://xxxxx@b:4222,nats://c:4222"; got != want {
		t.Errorf("nats redacted = %q; want %q", got, want)
	}
}

func TestByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want ByteSize
		str  string
	}{
		{"0", 0, "0"}, {"1024", 1024, "1KiB"}, {"1000", 1000, "1KB"}, {"512MiB", 512 << 20, "512MiB"},
		{"1 GiB", 1 << 30, "1GiB"}, {"2gb", 2e9, "2GB"}, {"10KB", 10000, "10KB"}, {"7B", 7, "7"},
		{"1000000000000", 1e12, "1TB"}, {"1025", 1025, "1025"},
	}
	for _, tt := range tests {
		got, err := ParseByteSize(tt.in)
		if err != nil || got != tt.want || got.String() != tt.str {
			t.Errorf("ParseByteSize(%q) = %d (%s), %v; want %d (%s)", tt.in, got, got, err, tt.want, tt.str)
		}
	}
	for _, bad := range []string{"", "GiB", "1.5GiB", "x", "9999999999TiB", "1 G"} {
		if _, err := ParseByteSize(bad); err == nil {
			t.Errorf("ParseByteSize(%q) = nil error", bad)
		}
	}
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte(fullYAML))
	f.Add([]byte(""))
	f.Add([]byte("htpp: {}\nhttp:\n  idle_timeout: forever\n"))
	f.Add([]byte("nats: {embedded: {max_memory: 1GiB}}\n---\nx: 1"))
	f.Add([]byte("a: &a [*a]\nlog: *a\n"))
	f.Add([]byte("log: !!binary aGVsbG8=\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a *ParseError: %v", err)
			}
			return
		}
		// Whatever decoded must survive the rest of the pipeline and print.
		c.Resolve()
		_ = c.Validate()
		if _, err := Parse("printed", []byte(c.String())); err != nil {
			t.Fatalf("printed config does not re-parse: %v\n%s", err, c.String())
		}
	})
}

// TestExampleFile keeps examples/tollgate.yaml (linked from the README) valid
// and equal to the defaults it claims to show.
func TestExampleFile(t *testing.T) {
	path := filepath.Join("..", "..", "examples", "tollgate.yaml")
	if _, err := os.Stat(path); err != nil {
		t.Skip("no examples/tollgate.yaml")
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	c.Resolve()
	want := Default()
	want.Resolve()
	if !reflect.DeepEqual(c, want) {
		t.Errorf("example differs from Default():\n got %s\nwant %s", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}
