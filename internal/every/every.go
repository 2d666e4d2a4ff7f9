package every

import (
	"context"
	"time"
)

// Run calls f every d until ctx ends; the first call is after d. It
// returns when ctx ends, after f returns.
func Run(ctx context.Context, d time.Duration, f func(ctx context.Context)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f(ctx)
		}
	}
}
