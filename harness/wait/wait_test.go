package wait

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCondition(t *testing.T) {
	cases := []struct {
		name      string
		readyAt   int   // the check passes from this attempt on; 0: never
		aliveErr  error // what Alive says from the second attempt on
		timeout   time.Duration
		wantErr   string // "" means ready
		wantTries int    // attempts made, at least
	}{
		{"ready at once", 1, nil, time.Second, "", 1},
		{"ready on the third check", 3, nil, time.Second, "", 3},
		{"never: the last check's error is told", 0, nil, 100 * time.Millisecond, "replicas not ready after 100ms: still missing 3", 2},
		{"the process died", 0, errors.New("mm2 exited"), time.Minute, "replicas: mm2 exited", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tries := 0
			cond := ForCondition("replicas", func(context.Context) error {
				tries++
				if c.readyAt > 0 && tries >= c.readyAt {
					return nil
				}
				return errors.New("still missing 3")
			}).WithTimeout(c.timeout)
			cond.Interval = 5 * time.Millisecond
			cond.WithAlive(func() error {
				if tries >= 1 {
					return c.aliveErr
				}
				return nil
			})
			start := time.Now()
			err := cond.WaitUntilReady(context.Background())
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("error %v, want ready", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("error %v, want %q", err, c.wantErr)
			}
			if tries < c.wantTries {
				t.Errorf("%d checks, want at least %d", tries, c.wantTries)
			}
			if c.aliveErr != nil && time.Since(start) > 10*time.Second {
				t.Errorf("a dead process did not end the wait early (%s)", time.Since(start))
			}
		})
	}
}
