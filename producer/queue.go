package producer

import (
	"log/slog"
	"strconv"
)

// QueueChecker warns as a DDS read queue fills, exactly as salobj's
// QueueCapacityChecker: for a queue of N elements the thresholds are
// min(10, max(5, N/10)), N/2 (only when N ≥ 20), 9N/10 and N; each is
// reported once when the queue reaches it, and re-armed when the queue
// falls below half of it. Below N the report is a WARNING
// "<attr_name> DDS read queue is filling: <n> of <N> elements"; at N an
// ERROR "<attr_name> DDS read queue is full (<N> elements); data may be
// lost".
type QueueChecker struct {
	attr       string
	size       int
	thresholds []int
	armed      []bool
	log        *slog.Logger
}

// NewQueueChecker checks a queue of size elements of the topic whose
// salobj attribute name is attr (tel_x, evt_x, cmd_x).
func NewQueueChecker(attr string, size int, log *slog.Logger) *QueueChecker {
	var th []int
	add := func(t int) {
		if t > 0 && (len(th) == 0 || t > th[len(th)-1]) {
			th = append(th, t)
		}
	}
	add(min(10, max(5, size/10)))
	if size >= 20 {
		add(size / 2)
	}
	add(size * 9 / 10)
	add(size)
	armed := make([]bool, len(th))
	for i := range armed {
		armed[i] = true
	}
	return &QueueChecker{attr: attr, size: size, thresholds: th, armed: armed, log: log}
}

// Thresholds are the queue lengths that are reported.
func (q *QueueChecker) Thresholds() []int { return append([]int(nil), q.thresholds...) }

// Check looks at the queue's current length n and reports a threshold
// reached for the first time since it was last re-armed. It returns the
// threshold reported, or 0.
func (q *QueueChecker) Check(n int) int {
	reported := 0
	for i, t := range q.thresholds {
		switch {
		case q.armed[i] && n >= t:
			q.armed[i] = false
			reported = t
		case !q.armed[i] && n < t/2:
			q.armed[i] = true
		}
	}
	if reported == 0 {
		return 0
	}
	if n >= q.size {
		q.log.Error(q.attr + " DDS read queue is full (" + itoa(q.size) + " elements); data may be lost")
	} else {
		q.log.Warn(q.attr + " DDS read queue is filling: " + itoa(n) + " of " + itoa(q.size) + " elements")
	}
	return reported
}

func itoa(n int) string { return strconv.Itoa(n) }
