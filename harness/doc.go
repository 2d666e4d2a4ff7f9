// Package harness brings a test stand up from its YAML definition, drives
// mock SAL traffic through it, observes every hop with taps that never take
// messages from the stack, and turns what it saw into verdicts and reports.
//
// The stand model (its types, loading and validation) is package
// harness/stand; the harness names its types for its callers. The harness
// API is usable without Gherkin: Load a stand, Up brings it up (an Env),
// NewScenario starts observing, Publish writes traffic into the ledger,
// WaitDelivered and Verdict judge it at a target, UnexpectedPoints finds
// what no writer wrote, Run shares features out among copies of stands
// and writes the reports. The godog step definitions (steps.go and the
// *_steps.go files) parse their arguments and call that API. The harness
// sits on top of every component and nothing but cmd/ and tests imports
// it.
package harness
