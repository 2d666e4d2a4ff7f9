// Package atomicfile writes a file so that it appears whole or not at
// all: into a temporary file beside it, renamed over the path once
// everything was written and closed. A run that fails half-way (bad
// input, an unreachable server, Ctrl-C) leaves no partial file behind,
// and a reader never sees one being written.
package atomicfile
