// Package reports turns the figures of one run into files an operator
// reads: index.html, self-contained so that it opens offline (charts are
// inline SVG drawn with gonum/plot, styles inline, no scripts or fonts
// fetched), and results.json, the machine-readable figures
// (schema "teststand/results/v1", documented in results.go).
//
// The package defines its own data types and never imports the harness. It
// never reaches the network, and it never hides a failed verdict: a run
// with any failed scenario is shown as FAIL at the top of the page.
package reports
