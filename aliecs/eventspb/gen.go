// Package eventspb holds the Go types generated from events.proto (make
// proto regenerates them with protoc and protoc-gen-go).
package eventspb

//go:generate protoc --go_out=. --go_opt=paths=source_relative events.proto
