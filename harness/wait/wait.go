package wait

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Strategy blocks until a thing is ready, ctx ends, or its timeout passes.
type Strategy interface {
	WaitUntilReady(ctx context.Context) error
}

// Watched is a strategy that can end early when what should become
// ready has died: Watch gives it the check (a process's Alive), which it
// runs while it waits. HTTP, File and Condition are.
type Watched interface {
	Strategy
	Watch(alive func() error)
}

// pollInterval is how often strategies look again.
const pollInterval = 25 * time.Millisecond

// HTTP is ready when GET URL answers with one of the status codes.
type HTTP struct {
	URL      string
	Statuses []int         // nil means any 2xx
	Timeout  time.Duration // 0 means 30 s
	// Alive, when set, is checked while waiting: an error ends the wait
	// early (the process that should answer has died).
	Alive func() error
}

// ForHTTP waits for url to answer 2xx.
func ForHTTP(url string) *HTTP { return &HTTP{URL: url} }

// WithTimeout sets the timeout.
func (h *HTTP) WithTimeout(d time.Duration) *HTTP { h.Timeout = d; return h }

// Watch implements Watched.
func (h *HTTP) Watch(alive func() error) { h.Alive = alive }

// WaitUntilReady implements Strategy.
func (h *HTTP) WaitUntilReady(ctx context.Context) error {
	return poll(ctx, h.Timeout, "HTTP "+h.URL, func(ctx context.Context) error {
		if h.Alive != nil {
			if err := h.Alive(); err != nil {
				return &permanent{err}
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if len(h.Statuses) == 0 && resp.StatusCode/100 == 2 {
			return nil
		}
		for _, s := range h.Statuses {
			if s == resp.StatusCode {
				return nil
			}
		}
		return fmt.Errorf("status %d", resp.StatusCode)
	})
}

// KafkaMetadata is ready when the brokers answer a metadata request listing
// at least Brokers brokers.
type KafkaMetadata struct {
	Seeds   []string
	Brokers int
	Timeout time.Duration
	// Opts are the client's options beyond its seeds (a secured
	// cluster's SASL and TLS).
	Opts []kgo.Opt
}

// ForKafkaMetadata waits until seeds answer metadata with n brokers.
func ForKafkaMetadata(seeds []string, n int) *KafkaMetadata {
	return &KafkaMetadata{Seeds: seeds, Brokers: n}
}

// WithOpts sets the client's options beyond its seeds.
func (k *KafkaMetadata) WithOpts(opts ...kgo.Opt) *KafkaMetadata {
	k.Opts = opts
	return k
}

// WaitUntilReady implements Strategy.
func (k *KafkaMetadata) WaitUntilReady(ctx context.Context) error {
	return poll(ctx, k.Timeout, fmt.Sprintf("Kafka metadata from %v", k.Seeds), func(ctx context.Context) error {
		// A client per attempt: a client answers metadata from its cache,
		// which would keep the first, partial, list of brokers.
		cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(k.Seeds...)}, k.Opts...)...)
		if err != nil {
			return err
		}
		defer cl.Close()
		m, err := kadm.NewClient(cl).BrokerMetadata(ctx)
		if err != nil {
			return err
		}
		if len(m.Brokers) < k.Brokers {
			return fmt.Errorf("%d of %d brokers", len(m.Brokers), k.Brokers)
		}
		return nil
	})
}

// All is ready when every strategy is.
type All []Strategy

// ForAll waits for each strategy in turn.
func ForAll(s ...Strategy) All { return All(s) }

// WaitUntilReady implements Strategy.
func (a All) WaitUntilReady(ctx context.Context) error {
	for _, s := range a {
		if err := s.WaitUntilReady(ctx); err != nil {
			return err
		}
	}
	return nil
}

// poll tries until try returns nil, a permanent error, or timeout passes;
// each attempt gets at most attempt, and attempts are every interval.
func poll(ctx context.Context, timeout time.Duration, what string, try func(context.Context) error) error {
	return pollEvery(ctx, timeout, time.Second, pollInterval, what, try)
}

func pollEvery(ctx context.Context, timeout, attempt, interval time.Duration, what string, try func(context.Context) error) error {
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		actx, acancel := context.WithTimeout(ctx, attempt)
		last = try(actx)
		acancel()
		if last == nil {
			return nil
		}
		var perm *permanent
		if errors.As(last, &perm) {
			return fmt.Errorf("%s: %w", what, perm.error)
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("%s not ready after %s: %w", what, timeout, last)
			}
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}

// Condition is ready when Check returns nil: a state the stand reaches
// rather than a thing that starts (replicas created, a consumer group
// assigned, two databases holding the same points). The error of the
// last check says what was still missing.
type Condition struct {
	What     string
	Check    func(ctx context.Context) error
	Timeout  time.Duration // 0 means 30 s
	Interval time.Duration // 0 means 250 ms
	// Alive, when set, is checked while waiting: an error ends the wait
	// early (the process that should bring the state about has died).
	Alive func() error
}

// ForCondition waits until check returns nil.
func ForCondition(what string, check func(ctx context.Context) error) *Condition {
	return &Condition{What: what, Check: check}
}

// WithTimeout sets the timeout.
func (c *Condition) WithTimeout(d time.Duration) *Condition { c.Timeout = d; return c }

// WithAlive ends the wait early when alive fails.
func (c *Condition) WithAlive(alive func() error) *Condition { c.Alive = alive; return c }

// Watch implements Watched.
func (c *Condition) Watch(alive func() error) { c.Alive = alive }

// WaitUntilReady implements Strategy. A check may take up to the whole
// timeout (listing a cluster, comparing databases).
func (c *Condition) WaitUntilReady(ctx context.Context) error {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	interval := c.Interval
	if interval <= 0 {
		interval = 250 * time.Millisecond
	}
	return pollEvery(ctx, timeout, timeout, interval, c.What, func(ctx context.Context) error {
		if c.Alive != nil {
			if err := c.Alive(); err != nil {
				return &permanent{err}
			}
		}
		return c.Check(ctx)
	})
}

// File is ready when a file exists (ts_salkafka's readiness semaphore).
type File struct {
	Path    string
	Timeout time.Duration
	// Alive, when set, is checked while waiting: an error ends the wait
	// early (the process that should create the file has died).
	Alive func() error
}

// ForFile waits until path exists.
func ForFile(path string) *File { return &File{Path: path} }

// WithTimeout sets the timeout.
func (f *File) WithTimeout(d time.Duration) *File { f.Timeout = d; return f }

// Watch implements Watched.
func (f *File) Watch(alive func() error) { f.Alive = alive }

// WaitUntilReady implements Strategy.
func (f *File) WaitUntilReady(ctx context.Context) error {
	return poll(ctx, f.Timeout, "file "+f.Path, func(context.Context) error {
		if f.Alive != nil {
			if err := f.Alive(); err != nil {
				return &permanent{err}
			}
		}
		_, err := os.Stat(f.Path)
		return err
	})
}

// permanent marks an error that ends polling at once.
type permanent struct{ error }

func (p *permanent) Unwrap() error { return p.error }
