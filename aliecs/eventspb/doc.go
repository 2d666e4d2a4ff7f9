// Package eventspb holds the Go types generated from events.proto (make
// proto regenerates them with protoc and protoc-gen-go).
package eventspb
