package influxd

import (
	"bytes"
	"cmp"
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

// Version is the InfluxDB 1.x release the project builds and tests
// against; Version2 the 2.x release (`make influxdb2-tools`).
const (
	Version  = "1.8.10"
	Version2 = "2.7.12"
)

// ErrNotFound means no influxd binary was found; ErrNotFound2 no influxd
// of InfluxDB 2.x.
var (
	ErrNotFound  = errors.New("influxd not found: run `make tools` to build it into ./bin")
	ErrNotFound2 = errors.New("influxd 2.x not found: run `make influxdb2-tools` to build it into ./bin/influxd2")
)

// Find locates influxd 1.x: $INFLUXD, then <root>/bin/influxd for each
// root given, then $PATH.
func Find(roots ...string) (string, error) { return find("INFLUXD", "influxd", ErrNotFound, roots) }

// Find2 locates influxd 2.x: $INFLUXD2, then <root>/bin/influxd2 for each
// root given, then influxd2 on $PATH.
func Find2(roots ...string) (string, error) {
	return find("INFLUXD2", "influxd2", ErrNotFound2, roots)
}

// FindMajor is Find for major version 1 and Find2 for 2.
func FindMajor(major int, roots ...string) (string, error) {
	if major == 2 {
		return Find2(roots...)
	}
	return Find(roots...)
}

func find(env, name string, notFound error, roots []string) (string, error) {
	if p := os.Getenv(env); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", env, p, err)
		}
		return p, nil
	}
	for _, r := range roots {
		p := filepath.Join(r, "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", notFound
}

// Server is a running influxd.
type Server struct {
	cmd   *exec.Cmd
	dir   string
	url   string
	major int
	// org and token are a 2.x server's organization and operator token;
	// user and password a 1.x server's admin when it requires
	// authentication.
	org, token     string
	user, password string
	done           chan struct{}
	err            error
	logs           *bytes.Buffer
}

// Start runs influxd 1.x from binary with a generated configuration and
// waits until it answers /ping. It takes every client (auth-enabled =
// false).
func Start(ctx context.Context, binary string) (*Server, error) {
	return start(ctx, binary, "", "")
}

// StartAuth is Start with authentication on, as Sasquatch deploys the
// EFD (auth-enabled = true): an admin user with the password given is
// created as soon as the server answers (InfluxDB 1.x lets the first
// CREATE USER ... WITH ALL PRIVILEGES through without credentials), and
// from then on the server answers no query or write without them. The
// Client carries them.
func StartAuth(ctx context.Context, binary, user, password string) (*Server, error) {
	if user == "" || password == "" {
		return nil, errors.New("influxd: authentication needs a user and a password")
	}
	return start(ctx, binary, user, password)
}

func start(ctx context.Context, binary, user, password string) (*Server, error) {
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
	if err := os.WriteFile(conf, []byte(config(dir, httpPort, rpcPort, user != "")), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("influxd: write config: %w", err)
	}
	s := &Server{dir: dir, url: fmt.Sprintf("http://127.0.0.1:%d", httpPort), major: 1, user: user, password: password}
	if err := s.launch(ctx, binary, "run", "-config", conf); err != nil {
		return nil, err
	}
	if user != "" {
		if err := s.createAdmin(ctx); err != nil {
			s.Stop()
			return nil, err
		}
	}
	return s, nil
}

// createAdmin creates the server's admin user, without credentials (the
// first admin user needs none). The statement holds the password: it is
// posted in the body, never put in a URL, and no error here quotes it.
func (s *Server) createAdmin(ctx context.Context) error {
	quote := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	stmt := fmt.Sprintf("CREATE USER %q WITH PASSWORD '%s' WITH ALL PRIVILEGES", s.user, quote.Replace(s.password))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url+"/query", strings.NewReader(url.Values{"q": {stmt}}.Encode()))
	if err != nil {
		return fmt.Errorf("influxd: create admin user %s: %w", s.user, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("influxd: create admin user %s: %w", s.user, err)
	}
	defer resp.Body.Close()
	var out struct {
		Results []struct {
			Error string `json:"error"`
		} `json:"results"`
		Error string `json:"error"`
	}
	body, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(body, &out)
	msg := out.Error
	for _, r := range out.Results {
		msg = cmp.Or(msg, r.Error)
	}
	if resp.StatusCode != http.StatusOK || msg != "" {
		return fmt.Errorf("influxd: create admin user %s: status %d %s", s.user, resp.StatusCode, msg)
	}
	return nil
}

// launch starts the server's process and waits until it answers /ping; on
// error nothing is left running and the data directory is gone.
func (s *Server) launch(ctx context.Context, binary string, args ...string) error {
	s.done = make(chan struct{})
	s.logs = &bytes.Buffer{}
	if abs, err := filepath.Abs(binary); err == nil {
		binary = abs
	}
	s.cmd = exec.Command(binary, args...)
	// A 2.x influxd reads config.{yaml,toml,json} from its working
	// directory: start it where there is none.
	s.cmd.Dir = s.dir
	s.cmd.Stdout = s.logs
	s.cmd.Stderr = s.logs
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(s.dir)
		return fmt.Errorf("influxd: start %s: %w", binary, err)
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
		return fmt.Errorf("influxd did not start: %w\n%s", err, proc.Tail(s.logs.String(), 2000))
	}
	return nil
}

func config(dir string, httpPort, rpcPort int, auth bool) string {
	return fmt.Sprintf(`reporting-disabled = true
bind-address = "127.0.0.1:%d"

[meta]
  dir = %q

[data]
  dir = %q
  wal-dir = %q
  query-log-enabled = false
  # As Sasquatch deploys the EFD (applications/sasquatch/values.yaml):
  # writes within 100 ms share an fsync, and neither the cache nor the
  # series of a database are capped.
  wal-fsync-delay = "100ms"
  cache-max-memory-size = 0
  max-series-per-database = 0

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:%d"
  auth-enabled = %t
  # ping-auth-enabled stays false: /ping answers anyone, as readiness
  # checks need.
  log-enabled = false
  # Flux takes seconds to initialise and nothing here queries with it:
  # the sink writes through /api/v2/write and taps query with InfluxQL.
  flux-enabled = false

[logging]
  level = "warn"
  suppress-logo = true

[continuous_queries]
  enabled = false
`, rpcPort, filepath.Join(dir, "meta"), filepath.Join(dir, "data"), filepath.Join(dir, "wal"), httpPort, auth)
}

// URL is the HTTP endpoint, http://127.0.0.1:port.
func (s *Server) URL() string { return s.url }

// Major is the server's major version, 1 or 2.
func (s *Server) Major() int { return s.major }

// Client returns a client of the server with its credentials (2.x: the
// organization and operator token; 1.x with authentication: the admin
// user and password).
func (s *Server) Client() *Client {
	return &Client{URL: s.url, Org: s.org, Token: s.token, Username: s.user, Password: s.password}
}

// Auth reports whether the server answers only clients with
// credentials: a 2.x server always does, a 1.x one when started with
// StartAuth.
func (s *Server) Auth() bool { return s.major == 2 || s.user != "" }

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

// Client reads a server with InfluxQL over HTTP and creates and drops its
// databases. With a Token it speaks to InfluxDB 2.x: queries carry the
// token, and a database is a bucket of Org with a DBRP mapping.
type Client struct {
	URL string
	// Token and Org select InfluxDB 2.x.
	Token, Org string
	// Username and Password authenticate to an InfluxDB 1.x with
	// authentication on (an EFD's INFLUXDB_USER and INFLUXDB_PASSWORD).
	Username, Password string
	HTTP               *http.Client
}

// V2 reports whether the client speaks to InfluxDB 2.x.
func (c *Client) V2() bool { return c.Token != "" }

// Exec runs an InfluxQL statement that returns no rows.
func (c *Client) Exec(ctx context.Context, stmt string) error {
	_, err := c.do(ctx, "", stmt, http.MethodPost)
	return err
}

// CreateDatabase creates a database (2.x: a bucket and its DBRP mapping),
// empty: one already there is dropped first.
func (c *Client) CreateDatabase(ctx context.Context, name string) error {
	if err := c.DropDatabase(ctx, name); err != nil {
		return err
	}
	if c.V2() {
		return c.createBucket(ctx, name)
	}
	return c.Exec(ctx, fmt.Sprintf("CREATE DATABASE %q", name))
}

// DropDatabase drops a database (2.x: a bucket and its DBRP mappings); a
// missing one is no error.
func (c *Client) DropDatabase(ctx context.Context, name string) error {
	if c.V2() {
		return c.dropBucket(ctx, name)
	}
	return c.Exec(ctx, fmt.Sprintf("DROP DATABASE %q", name))
}

// Databases lists the server's databases (2.x: its organization's buckets).
func (c *Client) Databases(ctx context.Context) ([]string, error) {
	if c.V2() {
		bs, err := c.buckets(ctx, "")
		if err != nil {
			return nil, err
		}
		var out []string
		for _, b := range bs {
			out = append(out, b.Name)
		}
		return out, nil
	}
	series, err := c.Query(ctx, "", "SHOW DATABASES")
	if err != nil {
		return nil, err
	}
	return firstColumn(series), nil
}

// firstColumn is every row's first value, as text (what SHOW queries
// list).
func firstColumn(series []Series) []string {
	var out []string
	for _, s := range series {
		for _, v := range s.Values {
			if len(v) > 0 {
				out = append(out, fmt.Sprint(v[0]))
			}
		}
	}
	return out
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
	c.authorize(req)
	resp, err := c.httpClient().Do(req)
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
	if resp.StatusCode >= 300 && resp.StatusCode != http.StatusBadRequest {
		// 1.x answers a bad statement with 400 and an "error"; anything
		// else (a 401 for missing or wrong credentials, say) is the
		// server's refusal.
		return nil, &StatusError{What: fmt.Sprintf("influxdb query %q", q), Code: resp.StatusCode, Body: proc.Tail(string(body), 300)}
	}
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("influxdb query %q: status %d: %s", q, resp.StatusCode, proc.Tail(string(body), 300))
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

// StatusError is a server's answer with a status that is neither
// success nor, for a query, a statement's error: Code 401 is a refusal
// for want of credentials (or for wrong ones).
type StatusError struct {
	// What names the request (a query with its statement, an API call).
	What string
	Code int
	// Body is the end of what the server answered.
	Body string
}

func (e *StatusError) Error() string { return fmt.Sprintf("%s: status %d: %s", e.What, e.Code, e.Body) }

// Unauthorized reports whether err is a server's 401.
func Unauthorized(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == http.StatusUnauthorized
}

// Anonymous is a client of the same server without credentials.
func (c *Client) Anonymous() *Client { return &Client{URL: c.URL, Org: c.Org, HTTP: c.HTTP} }

// Write posts line protocol with nanosecond times to a database (2.x: a
// bucket of Org) through /api/v2/write, as the sink writes.
func (c *Client) Write(ctx context.Context, db, lines string) error {
	q := url.Values{"bucket": {db}, "precision": {"ns"}}
	if c.Org != "" {
		q.Set("org", c.Org)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL+"/api/v2/write?"+q.Encode(), strings.NewReader(lines))
	if err != nil {
		return err
	}
	c.authorize(req)
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return fmt.Errorf("influxdb write to %s: %w", db, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		body, _ := io.ReadAll(resp.Body)
		return &StatusError{What: "influxdb write to " + db, Code: resp.StatusCode, Body: proc.Tail(string(body), 300)}
	}
	return nil
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

func (c *Client) authorize(req *http.Request) {
	switch {
	case c.Token != "":
		req.Header.Set("Authorization", "Token "+c.Token)
	case c.Username != "":
		req.SetBasicAuth(c.Username, c.Password)
	}
}
