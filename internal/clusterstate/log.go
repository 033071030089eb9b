package clusterstate

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/nats-io/nats-server/v2/server"
)

// LevelTrace is the slog level of the embedded server's trace output (below
// Debug). Trace is only enabled when the logger accepts this level.
const LevelTrace = slog.LevelDebug - 4

// slogAdapter implements the NATS server's Logger on top of slog.
type slogAdapter struct {
	l *slog.Logger
	// lastFatal keeps the most recent Fatalf message: the server calls Fatalf
	// (and, with its own logger, exits) when it cannot start, for example
	// when its port is taken or JetStream cannot use the store directory. We
	// never exit; Open reports the message instead.
	lastFatal atomic.Pointer[string]
}

var _ server.Logger = (*slogAdapter)(nil)

func (a *slogAdapter) log(level slog.Level, format string, v []any) {
	if !a.l.Enabled(context.Background(), level) {
		return
	}
	a.l.Log(context.Background(), level, fmt.Sprintf(format, v...))
}

// Noticef logs at debug level: the server's notices (its start-up banner,
// configuration summary, connection events) are detail for tollgate's
// operators, who get one info line when the cluster state is ready.
func (a *slogAdapter) Noticef(format string, v ...any) { a.log(slog.LevelDebug, format, v) }
func (a *slogAdapter) Warnf(format string, v ...any)   { a.log(slog.LevelWarn, format, v) }
func (a *slogAdapter) Errorf(format string, v ...any)  { a.log(slog.LevelError, format, v) }
func (a *slogAdapter) Debugf(format string, v ...any)  { a.log(slog.LevelDebug, format, v) }
func (a *slogAdapter) Tracef(format string, v ...any)  { a.log(LevelTrace, format, v) }

func (a *slogAdapter) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	a.lastFatal.Store(&msg)
	a.l.Error(msg, "fatal", true)
}

func (a *slogAdapter) fatal() string {
	if p := a.lastFatal.Load(); p != nil {
		return *p
	}
	return ""
}
