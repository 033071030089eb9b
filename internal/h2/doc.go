// Package h2 is a lean HTTP/2 (RFC 9113) server and client for
// request/response APIs with small bodies: the 5G service-based interface
// (Nchf_ConvergedCharging) that SMFs and SMSFs call, and the load generator
// that plays them.
//
// Why not net/http's HTTP/2: it costs about 40 µs of CPU per request on
// the CHF's path (a serve loop, a goroutine switch and a write syscall per
// response, header maps), a third of what the CHF does per request. Here a
// connection has one reader goroutine that decodes frames and one writer
// goroutine that writes every response that became ready while the previous
// write was in flight with one syscall; handlers get the whole request
// body and fill a Response.
//
// The client (ClientConn, client.go) is the load generator's: the same
// design (one reader, one writer that sends every queued request with one
// write), per-request values such as :path as never-indexed HPACK literals
// so that they do not churn the dynamic table, and ErrNotProcessed for the
// failures a caller may safely retry (GOAWAY, REFUSED_STREAM). It costs
// about 22 µs of CPU per CHF request where net/http's client cost ~53 µs.
//
// The frames and HPACK are golang.org/x/net/http2's Framer and
// golang.org/x/net/http2/hpack. Not supported (none is used by the SBI):
// server push (never sent), CONNECT, the h2c Upgrade from HTTP/1.1 (RFC 9113
// removed it; prior knowledge is the SBI's way), priorities (ignored, as
// RFC 9113 allows), streaming bodies. HTTP/1.1 on the same port goes to a
// fallback net/http server (Server.Fallback).
package h2
