// observe.go names package observe's types for the harness's callers.

package harness

import "github.com/lsst-ts/teststand/harness/observe"

type (
	// Traffic is one writer's ledger (see package observe).
	Traffic = observe.Traffic
	// Tap follows one place for a writer's samples.
	Tap = observe.Tap
	// Target is a place verdicts are made at.
	Target = observe.Target
)
