package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/lsst-ts/teststand/internal/proc"
)

// What the benchmarks and the soak learn of a stand's processes.

// descendants are the processes under root, in pid order.
func descendants(root int) []int {
	entries, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			parent[pid] = proc.ParentOf(pid)
		}
	}
	var out []int
	for pid := range parent {
		for p := parent[pid]; p > 1; p = parent[p] {
			if p == root {
				out = append(out, pid)
				break
			}
		}
	}
	sort.Ints(out)
	return out
}

// processName names a process by what it runs: the project's binaries by
// name, Java by its main class (a Kafka broker, MirrorMaker 2).
func processName(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(data) == 0 {
		return ""
	}
	args := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
	base := filepath.Base(args[0])
	if base == "java" {
		joined := strings.Join(args, " ")
		switch {
		case strings.Contains(joined, "MirrorMaker"):
			return "mirrormaker2"
		case strings.Contains(joined, "kafka.Kafka"):
			return "kafka"
		}
		return "java"
	}
	return base
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
