package balance

import "context"

// Crash stops an engine the way a dying node does: no final snapshot, and
// its leases are left to expire.
func Crash(e *Engine) { _ = e.Halt(context.Background()) }
