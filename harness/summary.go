// summary.go holds a run's text summary, and Hold, which keeps a stand
// up for an engineer's own tools.

package harness

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Summary renders a short text summary of results.
func Summary(r *RunResult) string {
	var b strings.Builder
	verdict := "PASS"
	if !r.Passed {
		verdict = "FAIL"
	}
	fmt.Fprintf(&b, "%s  stand %s, %d scenarios, boot %s\n", verdict, r.Results.Stand, len(r.Results.Scenarios), r.BootTime.Round(time.Millisecond))
	for _, sc := range r.Results.Scenarios {
		if sc.Stand != "" {
			fmt.Fprintf(&b, "  %-8s %s  (stand %s)\n", sc.Status, sc.Name, sc.Stand)
		} else {
			fmt.Fprintf(&b, "  %-8s %s\n", sc.Status, sc.Name)
		}
		for _, t := range sc.Topics {
			line := fmt.Sprintf("           %s: sent %d, delivered %d, lost %d, dup %d", t.Label(), t.Sent, t.Delivered, t.Lost, t.Duplicated)
			for _, h := range t.Hops {
				if h.Name == "end-to-end" && h.Count > 0 {
					line += fmt.Sprintf(", e2e p50 %.1f ms p99 %.1f ms", h.P50, h.P99)
				}
			}
			b.WriteString(line + "\n")
		}
		for _, f := range sc.Faults {
			line := fmt.Sprintf("           fault: %s on %s for %.1f s", f.Fault, f.Target, f.Healed.Sub(f.Set).Seconds())
			if f.Measured {
				line += fmt.Sprintf(", catch-up %.1f s, %d samples held, %d duplicated", f.CatchUpMS/1e3, f.Held, f.Duplicated)
			}
			b.WriteString(line + "\n")
		}
		if sc.Error != "" {
			fmt.Fprintf(&b, "           %s\n", sc.Error)
		}
	}
	fmt.Fprintf(&b, "report: %s\n", filepath.Join(r.ReportDir, "index.html"))
	return b.String()
}

// HoldConfig configures Hold.
type HoldConfig struct {
	Stand         string
	InterfacesDir string
	// StateFile, when set, is where the stand's endpoints are written
	// once it is up (see Held), for the commands that work on a held
	// stand; it is removed when the stand goes down.
	StateFile string
	Output    io.Writer
	Logger    *slog.Logger
}

// Hold brings a stand up, prints its endpoints, and keeps it up until ctx
// ends (Ctrl-C), then tears it down: for engineers who point their own
// tools at a stand.
func Hold(ctx context.Context, cfg HoldConfig) error {
	st, err := Load(cfg.Stand, LoadOptions{InterfacesDir: cfg.InterfacesDir})
	if err != nil {
		return &BadInputError{Err: err}
	}
	env, err := Up(ctx, st, UpOptions{Logger: cfg.Logger})
	if err != nil {
		return fmt.Errorf("stand %s did not come up: %w", st.File, err)
	}
	defer env.Down(context.WithoutCancel(ctx))
	out := cfg.Output
	if out == nil {
		out = os.Stdout
	}
	if cfg.StateFile != "" {
		if err := os.MkdirAll(filepath.Dir(cfg.StateFile), 0o755); err != nil {
			return err
		}
		if err := env.writeHeld(cfg.StateFile); err != nil {
			return fmt.Errorf("stand %s: state file: %w", st.File, err)
		}
		defer os.Remove(cfg.StateFile)
	}
	fmt.Fprintf(out, "stand %s is up (boot %s); Ctrl-C tears it down\n%s", st.File, env.BootTime.Round(time.Millisecond), env.Endpoints())
	if cfg.StateFile != "" {
		fmt.Fprintf(out, "  state     %s\n", cfg.StateFile)
	}
	<-ctx.Done()
	return nil
}
