// Package harness brings a test stand up from its YAML definition, drives
// mock SAL traffic through it, observes every hop with taps that never take
// messages from the stack, and turns what it saw into verdicts and reports.
//
// It is the top of a stack of packages, each with one job:
//
//   - harness/stand: the stand model, its loading and validation;
//   - harness/backend: what runs a stand's sites (the Backend interface,
//     its registry, its capabilities), one package per backend;
//   - harness/observe: ledgers, taps, Target and verdicts;
//   - harness/netfault: the fault layer between a stand's parts (Toxiproxy
//     proxies on loopback) that network fault steps act on;
//   - harness (this package): the running stand (Env: sites, components
//     with one lifecycle, Up's phases in env.go, one file per concern),
//     scenarios, the godog step library (steps.go, the table of patterns,
//     and the *_steps.go files by area) and Run (sharding, parallel
//     copies, progress, reports).
//
// The harness API is usable without Gherkin: Load a stand, Up brings it
// up (an Env), NewScenario starts observing, Publish writes traffic into
// the ledger, WaitDelivered and Verdict judge it at a Target,
// UnexpectedPoints finds what no writer wrote, Run shares features out
// among copies of stands and writes the reports. The steps parse their
// arguments and call that API, package observe and package wait; they
// build no Kafka clients and run no poll loops of their own (a test of
// this package checks it). The harness sits on top of every component
// and nothing but cmd/ and tests imports it.
package harness
