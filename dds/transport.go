package dds

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Transport names. Simulated is the project's own cross-process bus (see
// Join); other transports register themselves (package
// dds/cyclonedds, built with -tags cyclonedds, registers "cyclonedds").
const (
	Simulated  = "simulated"
	CycloneDDS = "cyclonedds"
)

// A Domain is one DDS domain of a Bus carried to other processes by a
// transport. Close leaves the domain.
type Domain interface {
	// Peers is the number of other processes met on the domain.
	Peers() int
	Close() error
}

// Connector joins bus's domain cfg.Domain with a transport and returns once
// the domain can carry samples (or ctx ends).
type Connector func(ctx context.Context, bus *Bus, cfg LinkConfig) (Domain, error)

var transports = struct {
	sync.RWMutex
	m map[string]Connector
}{m: map[string]Connector{
	Simulated: func(ctx context.Context, bus *Bus, cfg LinkConfig) (Domain, error) {
		return Join(ctx, bus, cfg)
	},
}}

// RegisterTransport makes a transport available to Connect under name.
func RegisterTransport(name string, c Connector) {
	transports.Lock()
	defer transports.Unlock()
	transports.m[name] = c
}

// Transports lists the transports this program was built with.
func Transports() []string {
	transports.RLock()
	defer transports.RUnlock()
	var names []string
	for n := range transports.m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// CheckTransport returns an error naming the transports there are when name
// is none of them ("" is Simulated). A known transport this program was
// not built with says how to build it.
func CheckTransport(name string) error {
	if name == "" {
		return nil
	}
	transports.RLock()
	_, ok := transports.m[name]
	transports.RUnlock()
	switch {
	case ok:
		return nil
	case name == CycloneDDS:
		return fmt.Errorf("dds transport %q: this program was built without it (build with -tags cyclonedds and Debian's cyclonedds-dev; make test-dds does)", name)
	}
	return fmt.Errorf("dds transport %q: unknown (known: %s)", name, strings.Join(Transports(), ", "))
}

// Connect joins bus's domain with the named transport ("" is Simulated).
func Connect(ctx context.Context, transport string, bus *Bus, cfg LinkConfig) (Domain, error) {
	if transport == "" {
		transport = Simulated
	}
	if err := CheckTransport(transport); err != nil {
		return nil, err
	}
	transports.RLock()
	c := transports.m[transport]
	transports.RUnlock()
	return c(ctx, bus, cfg)
}
