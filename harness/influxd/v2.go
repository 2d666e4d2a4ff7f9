package influxd

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"

	"github.com/lsst-ts/teststand/internal/proc"
)

// Org is the organization a started 2.x server is onboarded with.
const Org = "teststand"

// StartV2 runs influxd 2.x from binary, waits until it answers /ping and
// onboards it: organization Org, an operator with a random token (Client
// carries both). The UI, telemetry and pprof are off, and nothing is read
// from the user's ~/.influxdbv2.
func StartV2(ctx context.Context, binary string) (*Server, error) {
	dir, err := os.MkdirTemp("", "teststand-influxd2-")
	if err != nil {
		return nil, fmt.Errorf("influxd: temp dir: %w", err)
	}
	port, err := proc.FreePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	token := make([]byte, 24)
	_, _ = rand.Read(token)
	s := &Server{dir: dir, url: fmt.Sprintf("http://127.0.0.1:%d", port), major: 2, org: Org, token: hex.EncodeToString(token)}
	err = s.launch(ctx, binary, "run",
		"--http-bind-address", fmt.Sprintf("127.0.0.1:%d", port),
		"--bolt-path", filepath.Join(dir, "influxd.bolt"),
		"--sqlite-path", filepath.Join(dir, "influxd.sqlite"),
		"--engine-path", filepath.Join(dir, "engine"),
		"--reporting-disabled", "--ui-disabled", "--pprof-disabled",
		"--log-level", "warn", "--storage-wal-fsync-delay", "100ms") // as the EFD is deployed (see config)
	if err != nil {
		return nil, err
	}
	// Onboarding needs an initial bucket; the stand's buckets are made
	// by Client.CreateDatabase.
	setup := map[string]any{"username": "teststand", "password": s.token, "org": Org, "bucket": "teststand", "token": s.token}
	if err := (&Client{URL: s.url}).api(ctx, http.MethodPost, "/api/v2/setup", nil, setup, nil); err != nil {
		s.Stop()
		return nil, fmt.Errorf("influxd 2: onboarding: %w", err)
	}
	return s, nil
}

type bucket struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	OrgID string `json:"orgID"`
}

// buckets lists the organization's buckets, or the one named name.
func (c *Client) buckets(ctx context.Context, name string) ([]bucket, error) {
	q := url.Values{"org": {c.Org}, "limit": {"100"}}
	if name != "" {
		q.Set("name", name)
	}
	var out struct {
		Buckets []bucket `json:"buckets"`
	}
	if err := c.api(ctx, http.MethodGet, "/api/v2/buckets", q, nil, &out); err != nil {
		return nil, err
	}
	return out.Buckets, nil
}

func (c *Client) orgID(ctx context.Context) (string, error) {
	var out struct {
		Orgs []struct {
			ID string `json:"id"`
		} `json:"orgs"`
	}
	if err := c.api(ctx, http.MethodGet, "/api/v2/orgs", url.Values{"org": {c.Org}}, nil, &out); err != nil {
		return "", err
	}
	if len(out.Orgs) == 0 {
		return "", fmt.Errorf("influxdb %s: no organization %q", c.URL, c.Org)
	}
	return out.Orgs[0].ID, nil
}

// createBucket creates bucket name, kept forever, and maps database name
// with retention policy autogen to it, so InfluxQL reads it as db=name.
func (c *Client) createBucket(ctx context.Context, name string) error {
	org, err := c.orgID(ctx)
	if err != nil {
		return err
	}
	var b bucket
	if err := c.api(ctx, http.MethodPost, "/api/v2/buckets", nil, map[string]any{"orgID": org, "name": name, "retentionRules": []any{}}, &b); err != nil {
		return fmt.Errorf("create bucket %q: %w", name, err)
	}
	dbrp := map[string]any{"orgID": org, "bucketID": b.ID, "database": name, "retention_policy": "autogen", "default": true}
	if err := c.api(ctx, http.MethodPost, "/api/v2/dbrps", nil, dbrp, nil); err != nil {
		return fmt.Errorf("map database %q to its bucket: %w", name, err)
	}
	return nil
}

// dropBucket deletes bucket name and the DBRP mappings onto it.
func (c *Client) dropBucket(ctx context.Context, name string) error {
	bs, err := c.buckets(ctx, name)
	if err != nil {
		return err
	}
	for _, b := range bs {
		var maps struct {
			Content []struct {
				ID string `json:"id"`
			} `json:"content"`
		}
		if err := c.api(ctx, http.MethodGet, "/api/v2/dbrps", url.Values{"orgID": {b.OrgID}, "bucketID": {b.ID}}, nil, &maps); err != nil {
			return err
		}
		for _, m := range maps.Content {
			if err := c.api(ctx, http.MethodDelete, "/api/v2/dbrps/"+m.ID, url.Values{"orgID": {b.OrgID}}, nil, nil); err != nil {
				return err
			}
		}
		if err := c.api(ctx, http.MethodDelete, "/api/v2/buckets/"+b.ID, nil, nil, nil); err != nil {
			return fmt.Errorf("drop bucket %q: %w", name, err)
		}
	}
	return nil
}

// api makes one call to the 2.x HTTP API; a status of 300 or more is an
// error carrying the server's message. A 404 for a bucket looked up by
// name is an empty list, not an error.
func (c *Client) api(ctx context.Context, method, path string, q url.Values, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	u := c.URL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.authorize(req)
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return fmt.Errorf("influxdb %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("influxdb %s %s: %w", method, path, err)
	}
	if resp.StatusCode == http.StatusNotFound && path == "/api/v2/buckets" && method == http.MethodGet {
		return nil
	}
	if resp.StatusCode >= 300 {
		return &StatusError{What: fmt.Sprintf("influxdb %s %s", method, path), Code: resp.StatusCode, Body: proc.Tail(string(data), 300)}
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("influxdb %s %s: %w", method, path, err)
		}
	}
	return nil
}
