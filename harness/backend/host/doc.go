// Package host is what the embedded and process backends share, and what
// the harness itself runs on the host: the project's binaries (built from
// the source tree, or found beside the running program or on PATH) as
// processes, influxd servers of either major version, and Backend, the
// registries-in-this-process, influxd-on-the-host, binaries-as-processes
// half of a backend that the two embed.
package host
