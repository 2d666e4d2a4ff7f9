package harness

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/lsst-ts/teststand/internal/every"
)

// Progress counts what a run has done, for a status line on a terminal.
type Progress struct {
	Scenarios    int // to run
	StandsTotal  int
	StandsUp     atomic.Int64
	StandsDone   atomic.Int64
	Done, Failed atomic.Int64 // scenarios
	Sent         atomic.Int64 // samples written
}

func (p *Progress) line() string {
	return fmt.Sprintf("stands %d up, %d/%d done · scenarios %d/%d done, %d failed · %d samples written",
		p.StandsUp.Load(), p.StandsDone.Load(), p.StandsTotal, p.Done.Load(), p.Scenarios, p.Failed.Load(), p.Sent.Load())
}

// isTerminal reports whether w is a character device (a terminal): the
// status line is drawn only there, never into CI logs.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// show redraws the status line on w every interval until ctx ends, then
// clears it.
func (p *Progress) show(ctx context.Context, w io.Writer, interval time.Duration) {
	every.Run(ctx, interval, func(context.Context) { fmt.Fprintf(w, "\r\033[K%s", p.line()) })
	fmt.Fprint(w, "\r\033[K")
}
