// Package config is tollgate's typed configuration: one [Config] struct with a
// section per subsystem, read from a YAML file, the environment and flags.
//
// # Sources and precedence
//
// Later sources override earlier ones (STYLE habit 9):
//
//  1. built-in defaults, [Default];
//  2. the YAML file, [Load] (strict: unknown keys, wrong types and bad
//     durations are errors with file and line, all reported at once);
//  3. TOLLGATE_* environment variables, [Config.ApplyEnv];
//  4. command-line flags (parsed in cmd/tollgate, applied with [Setting.Apply]).
//
// Then [Config.Resolve] fills derived values (store driver inferred from the
// DSN, SQLite file and NATS store directory under data_dir) and
// [Config.Validate] reports every remaining problem with its key path.
// [Settings] lists every key that has an environment variable and a flag.
//
// # File format
//
//	data_dir: /var/lib/tollgate
//	log:
//	  level: info          # debug | info | warn | error
//	  format: json         # text | json
//	http:                  # admin API (/api/v1/), /metrics, /healthz
//	  addr: 127.0.0.1:8080
//	  read_header_timeout: 10s
//	  read_timeout: 30s
//	  write_timeout: 60s
//	  idle_timeout: 2m
//	  shutdown_timeout: 15s
//	sbi:                   # Nchf_ConvergedCharging (HTTP/2)
//	  addr: 127.0.0.1:8081
//	nats:                  # cluster state, DESIGN §3 (S0.5)
//	  url: ""              # empty: run the embedded server in-process
//	  embedded:
//	    listen: ""         # empty: no TCP port; else host:port
//	    store_dir: ""      # default <data_dir>/nats (JetStream data in its jetstream/)
//	    server_name: tollgate
//	    max_memory: 0      # bytes or "512MiB"; 0 = NATS default
//	    max_store: 0
//	    sync: always       # always | interval: fsync policy (docs/operations.md)
//	    sync_interval: 1s  # fsync period with sync: interval
//	  connect_timeout: 10s
//	store:                 # records, DESIGN §3
//	  driver: sqlite       # sqlite | postgres (inferred from a postgres:// DSN)
//	  dsn: ""              # sqlite default <data_dir>/tollgate.db
//	  max_open_conns: 0
//	  migrate: true
//	rating:
//	  plans_dir: ""        # YAML tariff plans imported at start and on reload
//	  reload_interval: 0   # 0 = only on SIGHUP or API call
//
// Printing a Config (its String method, or [Config.Redacted]) masks passwords
// in the store DSN and credentials in the NATS URL.
package config
