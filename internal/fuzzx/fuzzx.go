// Package fuzzx holds what the project's fuzz targets share.
package fuzzx

import (
	"fmt"
	"time"
)

// Within runs fn and crashes the process when fn has not returned after d.
// An input that hangs the code under fuzzing is as much a defect as one
// that panics, and a crashed worker makes Go's fuzzer keep the input under
// testdata/fuzz, where it becomes a regression test.
func Within(d time.Duration, fn func()) {
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
		case <-time.After(d):
			panic(fmt.Sprintf("fuzz input still running after %s: it hangs", d))
		}
	}()
	fn()
	close(done)
}
