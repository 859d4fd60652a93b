// Package termview prints traces for a terminal, for people without
// Grafana: a table of search results (Summaries) and the span tree of one
// trace (Tree). It only formats; fetching is the CLI's.
package termview
