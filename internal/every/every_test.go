package every

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunStopsWithItsContext(t *testing.T) {
	cases := []struct {
		name     string
		interval time.Duration
		wait     time.Duration
		min      int64
	}{
		{"called on the interval", 5 * time.Millisecond, 60 * time.Millisecond, 3},
		{"not called before the interval", time.Hour, 20 * time.Millisecond, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), c.wait)
			defer cancel()
			var n atomic.Int64
			done := make(chan struct{})
			go func() { Run(ctx, c.interval, func(context.Context) { n.Add(1) }); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not return after its context ended")
			}
			got := n.Load()
			if got < c.min || (c.min == 0 && got != 0) {
				t.Errorf("f called %d times, want at least %d", got, c.min)
			}
			after := n.Load()
			time.Sleep(3 * c.interval % time.Second)
			if n.Load() != after {
				t.Error("f called after Run returned")
			}
		})
	}
}
