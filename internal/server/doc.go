// Package server runs `tollgate serve`: the process lifecycle that ties the
// configuration, the cluster state and the subsystems to the HTTP listener.
//
// # Lifecycle
//
// [New] resolves and validates the configuration, sets up log/slog, creates
// and locks the data directory (two processes never share one) and binds the
// HTTP listener. [Server.Run] then, under one errgroup (STYLE habit 17):
//
//  1. serves HTTP: /healthz answers 503 {"status":"starting","subsystem":…}
//     while the rest comes up;
//  2. opens the cluster state (package clusterstate: embedded NATS JetStream
//     or an external cluster, DESIGN §3, S0.5);
//  3. starts each [Subsystem] in order, running those that are a [Runner];
//  4. closes [Server.Ready]; /healthz answers 200 {"status":"ok"} while the
//     cluster state and every [HealthChecker] report healthy;
//  5. on each value from [Options.ReloadSignals] (SIGHUP), calls
//     [Options.OnReload] and every [Reloader];
//  6. when its context is cancelled (SIGTERM/SIGINT), shuts HTTP down
//     gracefully within http.shutdown_timeout, stops the subsystems in
//     reverse order, and closes the cluster state last.
//
// # HTTP
//
//	GET /healthz   readiness and health, JSON
//	GET /metrics   Prometheus metrics from a private registry ([Server.Registry]):
//	               Go and process collectors, tollgate_build_info,
//	               tollgate_http_requests_total and
//	               tollgate_http_request_duration_seconds {method, route, code}
//	/api/v1/…      [Options.API], the admin API; 503 until ready
//
// Every request is logged at debug level.
//
// # Plugging in
//
// A store, the rating engine or the Nchf listener implement [Subsystem]
// (Name, Start, Stop) and optionally [Runner], [HealthChecker], [Reloader];
// they are passed in [Options.Subsystems] or added with [Server.Add] before
// Run. A subsystem that needs the cluster state calls [Server.Cluster] from
// its Start; one that exports metrics registers them on [Server.Registry] or
// on a registry passed in [Options.Registry].
package server
