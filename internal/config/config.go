package config

import (
	"log/slog"
	"path/filepath"
	"strings"
	"time"
)

// Config is the whole tollgate configuration: one typed section per subsystem.
// The zero value is not useful; start from [Default] or [Load].
type Config struct {
	// DataDir holds everything tollgate stores locally: the SQLite file, the
	// embedded JetStream store, spool files. Default "./tollgate-data" (DESIGN §6).
	DataDir string `yaml:"data_dir"`

	Log     Log     `yaml:"log"`
	HTTP    HTTP    `yaml:"http"`
	SBI     SBI     `yaml:"sbi"`
	NATS    NATS    `yaml:"nats"`
	Store   Store   `yaml:"store"`
	Rating  Rating  `yaml:"rating"`
	Balance Balance `yaml:"balance"`
	CHF     CHF     `yaml:"chf"`
}

// Log configures the process logger (log/slog).
type Log struct {
	// Level is one of debug, info, warn, error. Default info.
	Level string `yaml:"level"`
	// Format is text or json. Default text.
	Format string `yaml:"format"`
}

// Log levels and formats accepted by [Log].
const (
	LevelDebug = "debug"
	LevelInfo  = "info"
	LevelWarn  = "warn"
	LevelError = "error"

	FormatText = "text"
	FormatJSON = "json"
)

// SlogLevel returns the slog level for l.Level; an unknown level yields
// slog.LevelInfo ([Config.Validate] rejects unknown levels).
func (l Log) SlogLevel() slog.Level {
	switch strings.ToLower(l.Level) {
	case LevelDebug:
		return slog.LevelDebug
	case LevelWarn:
		return slog.LevelWarn
	case LevelError:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// HTTP configures the admin listener: admin API (/api/v1/), /metrics, /healthz.
type HTTP struct {
	// Addr is host:port. Default 127.0.0.1:8080. Port 0 picks a free port.
	Addr              string   `yaml:"addr"`
	ReadHeaderTimeout Duration `yaml:"read_header_timeout"`
	ReadTimeout       Duration `yaml:"read_timeout"`
	WriteTimeout      Duration `yaml:"write_timeout"`
	IdleTimeout       Duration `yaml:"idle_timeout"`
	// ShutdownTimeout bounds the graceful shutdown of the HTTP server, and
	// separately the stop of each subsystem after it.
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	// Pprof serves the Go runtime's profiles at /debug/pprof/ (CPU, heap,
	// goroutines, execution trace). Off by default: a profile exposes
	// internals, so enable it on a listener only operators reach.
	Pprof bool `yaml:"pprof"`
}

// SBI configures the Nchf service-based-interface listener (HTTP/2).
type SBI struct {
	// Addr is host:port. Default 127.0.0.1:8081.
	Addr string `yaml:"addr"`
	// TLSCert and TLSKey are PEM files; when both are set the listener
	// speaks HTTP/2 over TLS, otherwise cleartext HTTP/2 (h2c, prior
	// knowledge) and HTTP/1.1.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
}

// CHF configures online charging (Nchf_ConvergedCharging, S0).
type CHF struct {
	// RatingGroups maps the rating groups an SMF or SMSF reports to tariff
	// services and quota sizes. A rating group not listed is answered with
	// resultCode RATING_FAILED. Default: 10 data, 20 voice, 30 sms.
	RatingGroups []RatingGroup `yaml:"rating_groups"`
	// ValidityTime is the validityTime of every grant: the consumer reports
	// and asks again before it ends. Default 1h.
	ValidityTime Duration `yaml:"validity_time"`
	// QuotaHoldingTime, when set, is sent as quotaHoldingTime: the consumer
	// returns a quota unused for this long. Default 0 (not sent).
	QuotaHoldingTime Duration `yaml:"quota_holding_time"`
	// ThresholdPercent of a grant is sent as the volume/time/unit quota
	// threshold: the consumer asks for more when this much is left. 0 sends
	// none. Default 20.
	ThresholdPercent int `yaml:"threshold_percent"`
	// IdleTimeout closes a session that received nothing for this long: its
	// reservations are released and a final record is written. Default 2h.
	IdleTimeout Duration `yaml:"idle_timeout"`
	// TombstoneTTL is how long a released (or idle-closed) session is
	// remembered, so that a retransmitted release gets its 204 and a late
	// update a 404 rather than a new charge. A tombstone is small (its
	// reference, sequence number and last answer). Default 1m.
	TombstoneTTL Duration `yaml:"tombstone_ttl"`
	// FinalUnitAction is sent in finalUnitIndication with the last grant a
	// balance allows: TERMINATE, REDIRECT or RESTRICT_ACCESS. Default
	// TERMINATE.
	FinalUnitAction string `yaml:"final_unit_action"`
	// RedirectAddress is the top-up portal URL for REDIRECT.
	RedirectAddress string `yaml:"redirect_address"`
	// FilterID names the restriction filter for RESTRICT_ACCESS.
	FilterID string `yaml:"filter_id"`
	// CDRDir holds the CHF-CDR files. Default <data_dir>/cdr/chf.
	CDRDir string `yaml:"cdr_dir"`
	// PartialRecordVolume and PartialRecordTime close a partial CHF-CDR
	// of a session after this much volume (bytes) or time. Defaults 1 GiB
	// and 1h; 0 disables the limit.
	PartialRecordVolume uint64   `yaml:"partial_record_volume"`
	PartialRecordTime   Duration `yaml:"partial_record_time"`
	// Notify configures the notifications to consumers' notifyUri
	// (REAUTHORIZATION, ABORT_CHARGING).
	Notify CHFNotify `yaml:"notify"`
}

// CHFNotify configures the CHF's notifications.
type CHFNotify struct {
	// Workers is the number of notifications sent at once. Default 4.
	Workers int `yaml:"workers"`
	// QueueSize bounds the notifications waiting; beyond it they are
	// dropped (and counted): consumers ask again at validityTime anyway.
	// Default 65536.
	QueueSize int `yaml:"queue_size"`
	// MaxAttempts is how often one notification is tried. Default 6.
	MaxAttempts int `yaml:"max_attempts"`
	// Timeout bounds one attempt. Default 5s.
	Timeout Duration `yaml:"timeout"`
	// HTTP1 sends to http:// notifyUris over HTTP/1.1 instead of h2c, for
	// consumers that only speak HTTP/1.1. Default false.
	HTTP1 bool `yaml:"http1"`
}

// RatingGroup is the charging of one 3GPP rating group.
type RatingGroup struct {
	// ID is the rating group number.
	ID uint32 `yaml:"id"`
	// Service is the tariff service its usage is rated as ("data", "voice",
	// "sms" or a plan's own service).
	Service string `yaml:"service"`
	// Units is what the consumer measures: volume (bytes), time (seconds)
	// or units (service specific units, e.g. messages).
	Units string `yaml:"units"`
	// Quota is the grant when the consumer asks without a size, in Units.
	Quota uint64 `yaml:"quota"`
	// Offline rating groups get no quota: their usage is rated and recorded
	// in CHF-CDRs only (resultCode QUOTA_MANAGEMENT_NOT_APPLICABLE).
	Offline bool `yaml:"offline"`
}

// Rating group unit kinds accepted by [RatingGroup.Units].
const (
	UnitsVolume = "volume"
	UnitsTime   = "time"
	UnitsUnits  = "units"
)

// NATS configures the cluster-state connection (DESIGN §3, S0.5 "cluster
// shared memory").
type NATS struct {
	// URL of an external NATS JetStream cluster (comma-separated list allowed).
	// Empty runs the embedded server in-process.
	URL      string       `yaml:"url"`
	Embedded EmbeddedNATS `yaml:"embedded"`
	// ConnectTimeout bounds connecting to NATS and, for the embedded server,
	// waiting for it to become ready.
	ConnectTimeout Duration `yaml:"connect_timeout"`
}

// EmbeddedNATS configures the NATS server run inside the tollgate process when
// [NATS.URL] is empty.
type EmbeddedNATS struct {
	// Listen is host:port for client connections. Empty opens no TCP port at
	// all: tollgate connects in-process. Port 0 picks a free port.
	Listen string `yaml:"listen"`
	// StoreDir is the NATS store directory, with the same meaning as
	// nats-server's store_dir: JetStream keeps its files in a "jetstream"
	// subdirectory of it. Default <data_dir>/nats.
	StoreDir string `yaml:"store_dir"`
	// ServerName names this node in a NATS cluster. Default "tollgate".
	ServerName string `yaml:"server_name"`
	// MaxMemory and MaxStore limit JetStream memory and disk use; 0 lets NATS
	// choose (75% of system memory, 1 TiB or 75% of the disk).
	MaxMemory ByteSize `yaml:"max_memory"`
	MaxStore  ByteSize `yaml:"max_store"`
	// Sync is the fsync policy of the JetStream store, which holds the
	// balance journal (docs/operations.md, "Durability"):
	//
	//   - always (default): every write is fsynced before JetStream
	//     acknowledges it, so an acknowledged record survives power loss.
	//   - interval: writes reach the operating system (write(2)) before the
	//     acknowledgement and are fsynced every SyncInterval. An acknowledged
	//     record survives a crash of the tollgate process (even SIGKILL), but
	//     up to SyncInterval of them can be lost on power loss or a kernel
	//     crash.
	//
	// It applies to the embedded server only; an external cluster has its own.
	Sync string `yaml:"sync"`
	// SyncInterval is the fsync period with sync: interval. Default 1s.
	SyncInterval Duration `yaml:"sync_interval"`
}

// Fsync policies accepted by [EmbeddedNATS.Sync].
const (
	SyncPolicyAlways   = "always"
	SyncPolicyInterval = "interval"
)

// Store drivers accepted by [Store].
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Store configures the records database (DESIGN §3).
type Store struct {
	// Driver is sqlite or postgres. Empty means postgres when DSN is a
	// postgres:// or postgresql:// URL, sqlite otherwise.
	Driver string `yaml:"driver"`
	// DSN is the data source name. For sqlite it defaults to the file
	// <data_dir>/tollgate.db; postgres requires one. It may hold a password:
	// print the config with [Config.Redacted].
	DSN string `yaml:"dsn"`
	// MaxOpenConns caps the connection pool; 0 lets the driver choose.
	MaxOpenConns int `yaml:"max_open_conns"`
	// Migrate applies schema migrations at start. Default true.
	Migrate bool `yaml:"migrate"`
}

// Rating configures the rating engine.
type Rating struct {
	// PlansDir is an optional directory of YAML tariff plan files imported at
	// start and on every reload.
	PlansDir string `yaml:"plans_dir"`
	// ReloadInterval re-imports PlansDir periodically; 0 reloads only on
	// SIGHUP or an API call.
	ReloadInterval Duration `yaml:"reload_interval"`
}

// Balance configures the balance engine: partitioned account state in
// memory, journaled to NATS JetStream (cluster state) before every answer.
type Balance struct {
	// Partitions is the number of partitions accounts are hashed into. It is
	// part of the data layout: every node must use the same value and it
	// cannot change once balances exist. Default 32.
	Partitions int `yaml:"partitions"`
	// NodeID names this node as the owner of partition leases. Empty: an id
	// generated once and kept in <data_dir>/node.id.
	NodeID string `yaml:"node_id"`
	// LeaseTTL is how long a partition lease lasts unrenewed; the partitions
	// of a dead node move to another after it. Default 5s.
	LeaseTTL Duration `yaml:"lease_ttl"`
	// MaxBatch bounds the operations of one journal append (group commit).
	// Default 1024.
	MaxBatch int `yaml:"max_batch"`
	// SnapshotEvery snapshots a partition after this many journaled
	// operations, bounding the journal tail a recovery replays. Default 20000.
	SnapshotEvery int `yaml:"snapshot_every"`
	// IdempotencyWindow is how long an operation's idempotency key is
	// remembered: a retry within it returns the original result. Default 1h.
	// Memory bounds it too (IdempotencyMaxKeys): under sustained load the
	// effective window is min(window, max_keys × partitions / ops per second).
	IdempotencyWindow Duration `yaml:"idempotency_window"`
	// IdempotencyMaxKeys caps the remembered keys per partition (oldest
	// forgotten first); about 150 bytes each. Default 65536.
	IdempotencyMaxKeys int `yaml:"idempotency_max_keys"`
	// LedgerLinger is how long the ledger projection gathers journal
	// records before it writes them to the SQL ledger in one transaction:
	// larger transactions cost much less CPU per entry, and an operation
	// reaches the SQL ledger at most about this much (plus one
	// transaction) after it was journaled. 0 writes whatever is available
	// at once. Default 200ms; at most 10s.
	LedgerLinger Duration `yaml:"ledger_linger"`
	// LedgerProjection runs the SQL ledger projection in this process.
	// false leaves it to another process — `tollgate ledger`, on this
	// machine at a lower CPU priority or on another one — which reads the
	// same journal (the engine still never truncates what the projection
	// has not read). Default true.
	LedgerProjection bool `yaml:"ledger_projection"`
}

// Default values.
const (
	DefaultDataDir    = "./tollgate-data"
	DefaultHTTPAddr   = "127.0.0.1:8080"
	DefaultSBIAddr    = "127.0.0.1:8081"
	DefaultServerName = "tollgate"

	// DefaultLedgerLinger is the default of balance.ledger_linger.
	DefaultLedgerLinger = 200 * time.Millisecond
)

// Default returns the configuration used when nothing else is given.
// Derived values (store DSN, NATS store directory, store driver) stay empty
// until [Config.Resolve] fills them in from DataDir.
func Default() Config {
	return Config{
		DataDir: DefaultDataDir,
		Log:     Log{Level: LevelInfo, Format: FormatText},
		HTTP: HTTP{
			Addr:              DefaultHTTPAddr,
			ReadHeaderTimeout: Duration(10 * time.Second),
			ReadTimeout:       Duration(30 * time.Second),
			WriteTimeout:      Duration(60 * time.Second),
			IdleTimeout:       Duration(2 * time.Minute),
			ShutdownTimeout:   Duration(15 * time.Second),
		},
		SBI: SBI{Addr: DefaultSBIAddr},
		NATS: NATS{
			Embedded: EmbeddedNATS{
				ServerName:   DefaultServerName,
				Sync:         SyncPolicyAlways,
				SyncInterval: Duration(time.Second),
			},
			ConnectTimeout: Duration(10 * time.Second),
		},
		Store: Store{Migrate: true},
		Balance: Balance{
			Partitions:         32,
			LeaseTTL:           Duration(5 * time.Second),
			MaxBatch:           1024,
			SnapshotEvery:      20000,
			IdempotencyWindow:  Duration(time.Hour),
			IdempotencyMaxKeys: 1 << 16,
			LedgerLinger:       Duration(DefaultLedgerLinger),
			LedgerProjection:   true,
		},
		CHF: CHF{
			RatingGroups: []RatingGroup{
				{ID: 10, Service: "data", Units: UnitsVolume, Quota: 10 << 20},
				{ID: 20, Service: "voice", Units: UnitsTime, Quota: 300},
				{ID: 30, Service: "sms", Units: UnitsUnits, Quota: 1},
			},
			ValidityTime:        Duration(time.Hour),
			ThresholdPercent:    20,
			IdleTimeout:         Duration(2 * time.Hour),
			TombstoneTTL:        Duration(time.Minute),
			FinalUnitAction:     "TERMINATE",
			PartialRecordVolume: 1 << 30,
			PartialRecordTime:   Duration(time.Hour),
			Notify:              CHFNotify{Workers: 4, QueueSize: 1 << 16, MaxAttempts: 6, Timeout: Duration(5 * time.Second)},
		},
	}
}

// Resolve fills in the values derived from others: the store driver (inferred
// from the DSN), the SQLite file and the embedded NATS store directory under
// DataDir. Call it once every source (file, environment, flags) has been
// applied, before [Config.Validate]. Resolve is idempotent.
func (c *Config) Resolve() {
	if c.Store.Driver == "" {
		if isPostgresURL(c.Store.DSN) {
			c.Store.Driver = DriverPostgres
		} else {
			c.Store.Driver = DriverSQLite
		}
	}
	if c.Store.DSN == "" && strings.EqualFold(c.Store.Driver, DriverSQLite) && c.DataDir != "" {
		c.Store.DSN = filepath.Join(c.DataDir, "tollgate.db")
	}
	if c.CHF.CDRDir == "" && c.DataDir != "" {
		c.CHF.CDRDir = filepath.Join(c.DataDir, "cdr", "chf")
	}
	if c.NATS.URL == "" && c.NATS.Embedded.StoreDir == "" && c.DataDir != "" {
		c.NATS.Embedded.StoreDir = filepath.Join(c.DataDir, "nats")
	}
}

func isPostgresURL(dsn string) bool {
	l := strings.ToLower(dsn)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}
