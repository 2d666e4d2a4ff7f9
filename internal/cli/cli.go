// Package cli holds the small helpers every command's main shares: list
// flags and the log handler. It never holds logic of a component.
package cli

import (
	"log/slog"
	"os"
	"strings"
)

// List splits a comma-separated flag value, dropping blanks.
func List(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Logger is a text logger on stderr at info, or debug when asked.
func Logger(debug bool) *slog.Logger {
	lvl := slog.LevelInfo
	if debug {
		lvl = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
}
