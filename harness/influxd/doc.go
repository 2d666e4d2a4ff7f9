// Package influxd runs a real InfluxDB server, 1.8 or 2.x, as a subprocess
// for a stand, and reads and administers it the same way whichever it is.
// The server binds to 127.0.0.1 only, on free ports, keeps its data in a
// temporary directory, and dies with its owner: Stop kills it, and the
// kernel kills it too if the owning process dies first (Pdeathsig), so no
// test run leaves an influxd behind.
//
// A 1.x server takes every client (Start) or, as Sasquatch deploys the
// EFD, only those with credentials (StartAuth: an admin user created as
// it starts, never in a URL or an error); a 2.x server is onboarded when it starts (an organization, an operator
// token) and every database the Client creates there is a bucket with a
// DBRP mapping of the same name, so the InfluxQL reads of taps and
// comparisons run unchanged against either.
package influxd
