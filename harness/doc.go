// Package harness brings a test stand up from its YAML definition, drives
// mock SAL traffic through it, observes every hop with taps that never take
// messages from the stack, and turns what it saw into verdicts and reports.
//
// The stand model (its types, loading and validation) is package
// harness/stand; the harness names its types for its callers. The harness
// API is usable without Gherkin (Load, Up, Publish, Observe);
// the godog step definitions in steps.go are a thin layer over it. The
// harness sits on top of every component and nothing but cmd/ and tests
// imports it.
package harness
