package producer

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestQueueThresholds(t *testing.T) {
	cases := []struct {
		size int
		want []int
	}{
		{100, []int{10, 50, 90, 100}},
		{1000, []int{10, 500, 900, 1000}},
		{50, []int{5, 25, 45, 50}},
		{10, []int{5, 9, 10}},
	}
	for _, c := range cases {
		got := NewQueueChecker("tel_x", c.size, slog.Default()).Thresholds()
		if d := cmp.Diff(c.want, got); d != "" {
			t.Errorf("size %d:\n%s", c.size, d)
		}
	}
}

func TestQueueCheckerReportsOnceAndRearms(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	q := NewQueueChecker("tel_forceActuatorData", 100, log)
	steps := []struct {
		n    int
		want int
	}{
		{5, 0}, {10, 10}, {12, 0}, {50, 50}, {60, 0}, {91, 90}, {100, 100}, {100, 0},
		{40, 0},  // 90 and 100 re-arm below 45 and 50; 50 needs < 25
		{95, 90}, // reported again after re-arming
		{4, 0},   // everything re-arms
		{10, 10},
	}
	for i, s := range steps {
		if got := q.Check(s.n); got != s.want {
			t.Errorf("step %d: Check(%d) = %d, want %d", i, s.n, got, s.want)
		}
	}
	out := buf.String()
	for _, want := range []string{
		`level=WARN msg="tel_forceActuatorData DDS read queue is filling: 10 of 100 elements"`,
		`level=WARN msg="tel_forceActuatorData DDS read queue is filling: 91 of 100 elements"`,
		`level=ERROR msg="tel_forceActuatorData DDS read queue is full (100 elements); data may be lost"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}
