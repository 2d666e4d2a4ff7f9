package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lsst-ts/teststand/harness/influxd"
	"github.com/lsst-ts/teststand/internal/kafkatest"
	"github.com/lsst-ts/teststand/internal/proc"
)

// TestInfluxCredentials runs the built efdsink against an InfluxDB with
// authentication on: without credentials every write is refused, logged
// and retried, and nothing is written; with the user from INFLUXDB_USER
// and the password from a file (--influxdb-password @FILE, never on the
// command line) every point is written.
func TestInfluxCredentials(t *testing.T) {
	dir := t.TempDir()
	bin := buildEfdsink(t, dir)
	ib, err := influxd.Find("../..")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const password = "Efd-s3cret"
	influx, err := influxd.StartAuth(ctx, ib, "efdwriter", password)
	if err != nil {
		t.Fatal(err)
	}
	defer influx.Stop()
	ic := influx.Client()
	if err := ic.CreateDatabase(ctx, "efd"); err != nil {
		t.Fatal(err)
	}
	site := kafkatest.NewRemoteSite(t, 5)
	secret := filepath.Join(dir, "influxdb-password")
	if err := os.WriteFile(secret, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		env    []string
		points int
		logs   string
	}{
		{name: "no credentials", logs: "InfluxDB refused the sink's credentials; retrying"},
		{name: "user from the environment, password from a file", args: []string{"--influxdb-password", "@" + secret},
			env: []string{"INFLUXDB_USER=efdwriter"}, points: 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port, err := proc.FreePort()
			if err != nil {
				t.Fatal(err)
			}
			metrics := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
			args := append([]string{"--brokers", site.Cluster.ListenAddrs()[0], "--registry", site.Local.URL(), "--influxdb", influx.URL(),
				"--topics", `lsst\.sal\..*`, "--database", "efd", "--group", "g" + fmt.Sprint(len(tc.env)), "--metrics-addr", fmt.Sprintf("127.0.0.1:%d", port)}, tc.args...)
			cmd := exec.Command(bin, args...)
			cmd.Env = append(os.Environ(), tc.env...)
			for _, a := range cmd.Args {
				if strings.Contains(a, password) {
					t.Fatalf("the password is on the command line: %q", cmd.Args)
				}
			}
			p, err := proc.Start("efdsink", cmd)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Kill()
			if tc.points > 0 {
				want := fmt.Sprintf(`efdsink_points_written_total{database="efd"} %d`, tc.points)
				waitFor(t, want, func() bool { return strings.Contains(get(metrics), want+"\n") })
			} else {
				waitFor(t, tc.logs, func() bool { return strings.Contains(p.Tail(1<<20), tc.logs) })
				time.Sleep(200 * time.Millisecond)
			}
			if err := p.Stop(10 * time.Second); err != nil {
				t.Fatalf("after SIGTERM: %v\n%s", err, p.Tail(3000))
			}
			if n := countPoints(t, ic, "efd", ""); n != tc.points {
				t.Errorf("%d points, want %d\n%s", n, tc.points, p.Tail(3000))
			}
			if strings.Contains(p.Tail(1<<20), password) {
				t.Error("efdsink logged the password")
			}
		})
	}
}
