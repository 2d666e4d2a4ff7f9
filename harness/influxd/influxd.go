// Package influxd runs a real InfluxDB 1.8 server as a subprocess for a
// stand, and queries it. The server binds to 127.0.0.1 only, on free ports,
// keeps its data in a temporary directory, and dies with its owner: Stop
// kills it, and the kernel kills it too if the owning process dies first
// (Pdeathsig), so no test run leaves an influxd behind.
package influxd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/lsst-ts/teststand/harness/wait"
	"github.com/lsst-ts/teststand/internal/proc"
)

// Version is the InfluxDB release the project builds and tests against.
const Version = "1.8.10"

// ErrNotFound means no influxd binary was found.
var ErrNotFound = errors.New("influxd not found: run `make tools` to build it into ./bin")

// Find locates influxd: $INFLUXD, then <root>/bin/influxd for each root
// given, then $PATH.
func Find(roots ...string) (string, error) {
	if p := os.Getenv("INFLUXD"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("INFLUXD=%s: %w", p, err)
		}
		return p, nil
	}
	for _, r := range roots {
		p := filepath.Join(r, "bin", "influxd")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("influxd"); err == nil {
		return p, nil
	}
	return "", ErrNotFound
}

// Server is a running influxd.
type Server struct {
	cmd  *exec.Cmd
	dir  string
	url  string
	done chan struct{}
	err  error
	logs *bytes.Buffer
}

// Start runs influxd from binary with a generated configuration and waits
// until it answers /ping.
func Start(ctx context.Context, binary string) (*Server, error) {
	dir, err := os.MkdirTemp("", "teststand-influxd-")
	if err != nil {
		return nil, fmt.Errorf("influxd: temp dir: %w", err)
	}
	httpPort, err := proc.FreePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	rpcPort, err := proc.FreePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	conf := filepath.Join(dir, "influxdb.conf")
	if err := os.WriteFile(conf, []byte(config(dir, httpPort, rpcPort)), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("influxd: write config: %w", err)
	}
	s := &Server{dir: dir, url: fmt.Sprintf("http://127.0.0.1:%d", httpPort), done: make(chan struct{}), logs: &bytes.Buffer{}}
	s.cmd = exec.Command(binary, "run", "-config", conf)
	s.cmd.Stdout = s.logs
	s.cmd.Stderr = s.logs
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("influxd: start %s: %w", binary, err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-wctx.Done():
		}
	}()
	if err := wait.ForHTTP(s.url + "/ping").WithTimeout(30 * time.Second).WaitUntilReady(wctx); err != nil {
		s.Stop()
		return nil, fmt.Errorf("influxd did not start: %w\n%s", err, tail(s.logs.String(), 2000))
	}
	return s, nil
}

func config(dir string, httpPort, rpcPort int) string {
	return fmt.Sprintf(`reporting-disabled = true
bind-address = "127.0.0.1:%d"

[meta]
  dir = %q

[data]
  dir = %q
  wal-dir = %q
  query-log-enabled = false
  wal-fsync-delay = "0s"

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:%d"
  auth-enabled = false
  log-enabled = false
  # Flux takes seconds to initialise and nothing here queries with it:
  # the sink writes through /api/v2/write and taps query with InfluxQL.
  flux-enabled = false

[logging]
  level = "warn"
  suppress-logo = true

[continuous_queries]
  enabled = false
`, rpcPort, filepath.Join(dir, "meta"), filepath.Join(dir, "data"), filepath.Join(dir, "wal"), httpPort)
}

// URL is the HTTP endpoint, http://127.0.0.1:port.
func (s *Server) URL() string { return s.url }

// PID is the influxd process id (to read its CPU time in benchmarks).
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Logs returns what influxd printed so far.
func (s *Server) Logs() string { return s.logs.String() }

// Stop kills influxd, waits for it and removes its data.
func (s *Server) Stop() error {
	if s.cmd.Process != nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	}
	<-s.done
	return os.RemoveAll(s.dir)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// Client speaks InfluxQL to a 1.x server over HTTP.
type Client struct {
	URL  string
	HTTP *http.Client
}

// Exec runs a statement that returns no rows (CREATE/DROP DATABASE).
func (c *Client) Exec(ctx context.Context, stmt string) error {
	_, err := c.do(ctx, "", stmt, http.MethodPost)
	return err
}

// Series is one series of a query result.
type Series struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
	Values  [][]any  `json:"values"`
}

// Query runs a SELECT in db and returns its series; times are epoch µs.
func (c *Client) Query(ctx context.Context, db, q string) ([]Series, error) {
	return c.do(ctx, db, q, http.MethodGet)
}

func (c *Client) do(ctx context.Context, db, q, method string) ([]Series, error) {
	v := url.Values{"q": {q}, "epoch": {"u"}}
	if db != "" {
		v.Set("db", db)
	}
	var req *http.Request
	var err error
	if method == http.MethodPost {
		req, err = http.NewRequestWithContext(ctx, method, c.URL+"/query", strings.NewReader(v.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		req, err = http.NewRequestWithContext(ctx, method, c.URL+"/query?"+v.Encode(), nil)
	}
	if err != nil {
		return nil, err
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("influxdb query %q: %w", q, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("influxdb query %q: %w", q, err)
	}
	var out struct {
		Results []struct {
			Series []Series `json:"series"`
			Error  string   `json:"error"`
		} `json:"results"`
		Error string `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("influxdb query %q: status %d: %s", q, resp.StatusCode, tail(string(body), 300))
	}
	if out.Error != "" {
		return nil, fmt.Errorf("influxdb query %q: %s", q, out.Error)
	}
	var series []Series
	for _, r := range out.Results {
		if r.Error != "" {
			return nil, fmt.Errorf("influxdb query %q: %s", q, r.Error)
		}
		series = append(series, r.Series...)
	}
	return series, nil
}
