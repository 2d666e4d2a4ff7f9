// Command stand brings test stands up from YAML, runs Gherkin features
// against them and writes reports. Exit codes: 0 all passed, 1 a scenario
// failed, 2 bad input; stand admin exits 3 when the cluster accepted a
// write that its brokers did not show within --wait.
package main
