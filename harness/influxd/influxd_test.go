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

// TestAuth: a 1.x server started with authentication answers /ping to
// anyone but refuses a query or a write without credentials, or with a
// wrong password, with 401, and answers its admin; its Client carries
// the admin's credentials. A server started without it answers anyone.
func TestAuth(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin, err := Find("../..")
	if err != nil {
		t.Fatal(err)
	}
	const password = `pa'ss\word-1`
	srv, err := StartAuth(ctx, bin, "teststand", password)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	c := srv.Client()
	if !srv.Auth() || c.Username != "teststand" || c.Password != password {
		t.Fatalf("Auth() %v, client user %q: want the admin's credentials", srv.Auth(), c.Username)
	}
	const db = "efd"
	if err := c.CreateDatabase(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := c.Write(ctx, db, "m x=1 1700000000000000000\n"); err != nil {
		t.Fatal(err)
	}
	if points, err := c.Points(ctx, db, "m"); err != nil || len(points) != 1 {
		t.Fatalf("the admin read %v, %v: want the one point", points, err)
	}
	wrong := &Client{URL: c.URL, Username: c.Username, Password: "wrong"}
	for name, cl := range map[string]*Client{"no credentials": c.Anonymous(), "a wrong password": wrong} {
		_, err := cl.Query(ctx, db, `SELECT * FROM "m"`)
		if !Unauthorized(err) {
			t.Errorf("a query with %s: %v, want a 401", name, err)
		}
		if err := cl.Write(ctx, db, "m x=2 1700000000000000001\n"); !Unauthorized(err) {
			t.Errorf("a write with %s: %v, want a 401", name, err)
		}
		if err := cl.Exec(ctx, `CREATE USER "intruder" WITH PASSWORD 'x' WITH ALL PRIVILEGES`); !Unauthorized(err) {
			t.Errorf("creating a second admin with %s: %v, want a 401", name, err)
		}
	}
	if points, err := c.Points(ctx, db, "m"); err != nil || len(points) != 1 {
		t.Fatalf("after the refused writes: %v, %v: want the one point", points, err)
	}
	if strings.Contains(srv.Logs(), password) {
		t.Error("influxd logged the admin's password")
	}

	open, err := Start(ctx, bin)
	if err != nil {
		t.Fatal(err)
	}
	defer open.Stop()
	if open.Auth() {
		t.Error("a server started without authentication says it has it")
	}
	if _, err := open.Client().Anonymous().Databases(ctx); err != nil {
		t.Errorf("an open server refused a client without credentials: %v", err)
	}
}
