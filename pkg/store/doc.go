// Package store is the node agent's embedded trace store: an SQLite file
// (modernc.org/sqlite, pure Go) holding the traces this node captured, so the
// HTTP API can search them and Grafana can show them.
//
// # One row per trace, spans as one blob
//
// Every read the product does is either "list requests matching these
// filters" or "show me this one request with everything inside it". Nothing
// ever searches for an individual PHP function span. So a trace is stored as
// one row of summary fields, the columns searches filter on, indexed, and
// its spans travel together as a single compact blob (see codec.go) in a
// row of their own, written and read in one piece. That keeps a write at two
// rows and a handful of index entries per request instead of ~20 rows, and
// lets retention drop a whole request with one delete. The blob lives apart
// from the summary (schema.go, migration 5) so that searches reading many
// summaries read only summaries: ~25 to a page, not 1-2.
//
// # Writes never block PHP
//
// [Store.Add] only appends to a bounded in-memory queue; when the queue is
// full the trace is counted as dropped, never waited for. One writer
// goroutine owns every write to the file: it inserts batches in one
// transaction each (BatchSize traces or FlushInterval, whichever comes
// first) and runs retention, so writers never contend for SQLite's lock.
// Searches use a separate pool of read-only connections; WAL mode lets them
// read while the writer writes.
//
// # Failure is counted, logged once, and retried
//
// A batch that fails to write (disk full, I/O error) stays in memory and is
// retried on the next flush; the error is logged once per distinct error,
// counted, and shown in [Stats]. A file that is not a database, or fails
// SQLite's quick check at open, is renamed aside and replaced by a fresh
// one: the agent keeps tracing rather than refusing to start.
package store
