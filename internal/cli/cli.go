package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/lsst-ts/teststand/internal/exit"
	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sal/sample"
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

// KeyValues is a repeatable KEY=VALUE flag.
type KeyValues map[string]string

// String implements flag.Value.
func (kv KeyValues) String() string {
	parts := make([]string, 0, len(kv))
	for k, v := range kv {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

// Set implements flag.Value.
func (kv KeyValues) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("%q: want KEY=VALUE", s)
	}
	kv[strings.TrimSpace(k)] = v
	return nil
}

// Logger is a text logger on stderr at info, or debug when asked.
func Logger(debug bool) *slog.Logger { return NewLogger(os.Stderr, debug) }

// NewLogger is a text logger on w at info, or debug when asked.
func NewLogger(w io.Writer, debug bool) *slog.Logger {
	lvl := slog.LevelInfo
	if debug {
		lvl = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl}))
}

// Env is $name, or def when unset or empty.
func Env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// EnvInt is $name as an integer, or def.
func EnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

// Interfaces loads a ts_xml sal_interfaces directory, or the project's
// built-in sample interfaces when dir is "".
func Interfaces(dir string) (*sal.Interfaces, error) {
	if dir != "" {
		return sal.LoadDir(dir)
	}
	return sal.Load(sample.FS, sal.Avro(sample.Avro))
}

// RunUntilSignal runs a command's work until it ends or SIGINT/SIGTERM
// cancels its context, and turns its error into one line on stderr
// ("name: error") and the project's exit code.
func RunUntilSignal(stderr io.Writer, name string, run func(ctx context.Context) error) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return exit.Code(err)
	}
	return 0
}
