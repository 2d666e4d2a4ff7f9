package harness

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	p := &Progress{Scenarios: 23, StandsTotal: 5}
	p.StandsUp.Add(3)
	p.StandsDone.Add(1)
	p.Done.Add(7)
	p.Failed.Add(1)
	p.Sent.Add(1234)
	want := "stands 3 up, 1/5 done · scenarios 7/23 done, 1 failed · 1234 samples written"
	if got := p.line(); got != want {
		t.Errorf("line %q, want %q", got, want)
	}
	var buf bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Millisecond)
	defer cancel()
	p.show(ctx, &buf, 10*time.Millisecond)
	if !strings.Contains(buf.String(), want) || !strings.HasSuffix(buf.String(), "\r\033[K") {
		t.Errorf("drawn %q: want the line redrawn and cleared at the end", buf.String())
	}
	if isTerminal(&buf) {
		t.Error("a buffer is not a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Error("a file (a CI log) is not a terminal")
	}
}

func TestCountScenarios(t *testing.T) {
	n := countScenarios([]featureGroup{{paths: []string{"../features/delivery.feature", "../features/faults.feature"}}})
	if n != 5 {
		t.Errorf("%d scenarios counted in delivery and faults, want 5", n)
	}
}

// TestCountTagged counts the scenarios a tag selects, through the feature
// or the scenario itself.
func TestCountTagged(t *testing.T) {
	sh := []featureGroup{{paths: []string{"../features/replication.feature", "../features/delivery.feature"}}}
	cases := []struct {
		tag  string
		want int
	}{
		{"@embedded", 1},
		{"@own-replicator", 1},
		{"@nothing", 0},
		{"", countScenarios(sh)},
	}
	for _, c := range cases {
		if got := countTagged(sh, c.tag); got != c.want {
			t.Errorf("countTagged(%q) = %d, want %d", c.tag, got, c.want)
		}
	}
	if countScenarios(sh) < 5 {
		t.Errorf("countScenarios = %d, want the scenarios of both files", countScenarios(sh))
	}
}
