// registries.go holds the sites' schema registries: starting their own
// and remote ones, and stopping and starting them again in a scenario.

package harness

import (
	"context"
	"fmt"
	"strings"

	"github.com/lsst-ts/teststand/harness/backend"
)

// startRegistries starts the sites' writable registries, before
// replication: it copies their storage topics.
func (e *Env) startRegistries(ctx context.Context) error {
	for _, name := range e.Stand.SiteNames() {
		if e.Stand.Sites[name].Registry == nil {
			continue
		}
		if err := e.startRegistry(ctx, name, "", ""); err != nil {
			return err
		}
	}
	return nil
}

// startRemoteRegistries starts the sites' remote registries, once
// replication brings them their storage topics.
func (e *Env) startRemoteRegistries(ctx context.Context) error {
	for _, name := range e.Stand.SiteNames() {
		for _, r := range e.Stand.Sites[name].RemoteRegistries {
			if err := e.startRegistry(ctx, name, r.Alias.Value, ""); err != nil {
				return err
			}
		}
	}
	return nil
}

// startRegistry starts a site's own registry (alias "") or its remote
// registry for alias, on addr ("" for a free port), on the stand's
// backend.
func (e *Env) startRegistry(ctx context.Context, site, alias, addr string) error {
	req := backend.RegistryRequest{Site: site, Alias: alias, Addr: addr, Topic: e.Stand.Sites[site].Registry.StorageTopic()}
	if alias != "" {
		req.ReadOnly = true
		if e.Stand.Sites[site].Remote(alias).URL == "" { // a running one's is its own
			var err error
			if req.Topic, err = e.Stand.RemoteRegistryTopic(site, alias); err != nil {
				return err
			}
		}
	}
	srv, url, err := e.backend.StartRegistry(ctx, req)
	if err != nil {
		return err
	}
	se := e.Sites[site]
	if alias == "" {
		se.ownURL = url
	} else {
		se.Remotes[alias], se.RemoteURLs[alias] = srv, url
	}
	spec := e.Stand.Sites[site]
	if alias == "" || (spec.Registry == nil && spec.RemoteRegistries[0].Alias.Value == alias) {
		se.Registry, se.RegistryURL = srv, url // the site's registry
	}
	return nil
}

// StopRegistry stops a site's registry (a registry outage); StartRegistry
// starts it again on the same address, reading its storage topic anew, as
// a restarted pod does. The site's registry is its own, or its only
// remote one.
func (e *Env) StopRegistry(site string) error {
	se := e.Sites[site]
	if se == nil || se.Registry == nil {
		return fmt.Errorf("site %q has no registry this stand runs", site)
	}
	err := se.Registry.Close()
	for alias, r := range se.Remotes {
		if r == se.Registry {
			se.Remotes[alias] = nil
		}
	}
	se.Registry = nil
	return err
}

// StartRegistry starts a stopped registry again; see StopRegistry.
func (e *Env) StartRegistry(ctx context.Context, site string) error {
	se := e.Sites[site]
	if se == nil || se.RegistryURL == "" || e.deployment() {
		return fmt.Errorf("site %q has no registry this stand runs", site)
	}
	if se.Registry != nil {
		return fmt.Errorf("the registry at %s is running", site)
	}
	alias := ""
	if se.ownURL != se.RegistryURL {
		for a, u := range se.RemoteURLs {
			if u == se.RegistryURL {
				alias = a
			}
		}
	}
	return e.startRegistry(ctx, site, alias, strings.TrimPrefix(se.RegistryURL, "http://"))
}
