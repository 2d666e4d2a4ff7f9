package influxd

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestDatabasesOnBothMajors runs the same administration and reads
// against a real influxd 1.x and 2.x: a database (2.x: bucket with its
// DBRP mapping) is created empty, written through /api/v2/write, read with
// InfluxQL, listed, recreated empty, and dropped.
func TestDatabasesOnBothMajors(t *testing.T) {
	for _, major := range []int{1, 2} {
		t.Run(fmt.Sprintf("influxdb%d", major), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			bin, err := FindMajor(major, "../..")
			if err != nil {
				t.Fatal(err)
			}
			start := Start
			if major == 2 {
				start = StartV2
			}
			srv, err := start(ctx, bin)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Stop()
			c := srv.Client()
			if c.V2() != (major == 2) || srv.Major() != major {
				t.Fatalf("client V2()=%v, server major %d, want major %d", c.V2(), srv.Major(), major)
			}
			const db = "s1_efd"
			if err := c.CreateDatabase(ctx, db); err != nil {
				t.Fatal(err)
			}
			write(t, ctx, c, db, "m,csc=ATDome x=1.5,n=3i 1700000000000000000\nm,csc=ATDome x=2.5,n=4i 1700000000000001000\n")
			points, err := c.Points(ctx, db, "m")
			if err != nil {
				t.Fatal(err)
			}
			if len(points) != 2 || fmt.Sprint(points[1]["x"]) != "2.5" || fmt.Sprint(points[1]["n"]) != "4" ||
				fmt.Sprint(points[0]["time"]) != "1700000000000000" || points[0]["csc"] != "ATDome" {
				t.Fatalf("points %v", points)
			}
			dbs, err := c.Databases(ctx)
			if err != nil || !slices.Contains(dbs, db) {
				t.Fatalf("databases %v, %v: want %s among them", dbs, err, db)
			}
			// Creating again empties it.
			if err := c.CreateDatabase(ctx, db); err != nil {
				t.Fatal(err)
			}
			if points, err := c.Points(ctx, db, "m"); err != nil || len(points) != 0 {
				t.Fatalf("recreated database: points %v, %v", points, err)
			}
			write(t, ctx, c, db, "m x=7 1700000000000000000\n")
			if points, err := c.Points(ctx, db, "m"); err != nil || len(points) != 1 {
				t.Fatalf("after rewrite: points %v, %v", points, err)
			}
			if err := c.DropDatabase(ctx, db); err != nil {
				t.Fatal(err)
			}
			if err := c.DropDatabase(ctx, db); err != nil {
				t.Fatalf("dropping a missing database: %v", err)
			}
			if dbs, err := c.Databases(ctx); err != nil || slices.Contains(dbs, db) {
				t.Fatalf("after drop: databases %v, %v", dbs, err)
			}
			if major == 2 {
				bad := &Client{URL: c.URL, Org: c.Org, Token: "wrong"}
				if _, err := bad.Points(ctx, db, "m"); err == nil {
					t.Fatal("a wrong token read the server")
				}
			}
		})
	}
}

// write posts line protocol (ns) as the sink does, through /api/v2/write.
func write(t *testing.T, ctx context.Context, c *Client, db, lines string) {
	t.Helper()
	u := c.URL + "/api/v2/write?precision=ns&bucket=" + db
	if c.V2() {
		u += "&org=" + c.Org
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(lines))
	if err != nil {
		t.Fatal(err)
	}
	c.authorize(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("write: status %d", resp.StatusCode)
	}
}
