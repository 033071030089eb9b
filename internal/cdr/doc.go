// Package cdr holds the CHF charging record (CHF-CDR, TS 32.298
// ChargingRecord) that tollgate's CHF produces for every charging session —
// partial records, a final record at release, event records for one-time
// events — and the Writer that writes them, off the request path, to
// rotating JSON Lines files in the data directory, from which the offline
// mediation pipeline collects them like any other CDR source.
// docs/cdr.md describes the record and the files for their consumers.
//
// # Record
//
// Record is flat, with lowerCamelCase JSON names after 3GPP. Money is never
// binary floating point: an amount is an exact decimal string ("0.1234")
// with its ISO 4217 currency. Record.Validate reports every problem at once;
// AppendJSON is the hand-written encoder (no reflection, no allocation),
// kept equal to encoding/json's output by a differential test.
//
// # Files
//
// The open file is <prefix>-<UTC open time yyyymmddThhmmss.sss>-<seq>.jsonl.part
// (seq: six digits or more). A file is completed — flushed, fsynced,
// closed, renamed to .jsonl, directory fsynced — when it reaches
// Config.MaxBytes or Config.MaxAge, and at Close; a collector takes only
// *.jsonl, which are complete and never change again. Files are opened only
// to receive a record, so none is empty. seq grows by one per file across
// restarts (the highest of the names in the directory and of the hidden
// file .<prefix>.seq). NewWriter completes the .part files a crash left:
// it cuts an incomplete last line and renames them; one without a complete
// line is removed.
//
// # Durability
//
// A record accepted by Write is in memory until the writing goroutine has
// written it, and in the page cache until the next fsync: at most
// Config.FsyncEvery later, when its file is completed, on Flush and on
// Close. A crash of the process or machine loses the records not yet
// fsynced, and nothing else; records once fsynced survive, and the file
// holding them is completed at the next start.
//
// # Concurrency and lock order
//
// Write is safe for concurrent use; it validates and encodes in the
// caller's goroutine, then sends the line to a bounded queue (back-pressure:
// Write waits when it is full). Run is the one goroutine that writes files.
// The open file belongs to the holder of Writer.sem: Run for its whole
// life, or Flush and Close when no Run is active. Writer.mu (an RWMutex,
// shared by Write, exclusive once in Close as a barrier) is never held while
// acquiring sem, and the holder of sem never takes mu, so they do not nest.
package cdr
