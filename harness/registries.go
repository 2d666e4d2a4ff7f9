// registries.go holds the sites' schema registries: starting their own
// and remote ones, and stopping and starting them again in a scenario.

package harness

import (
	"context"
	"fmt"
	"io"
	"net/http"
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
	if e.sec != nil && !req.ReadOnly {
		// On a secured site the registry's user may not create topics:
		// its storage topic is made for it, as Strimzi's KafkaTopic is.
		if err := e.createStorageTopic(ctx, site, req.Topic); err != nil {
			return err
		}
	}
	srv, url, err := e.backend.StartRegistry(ctx, req)
	if err != nil {
		return err
	}
	se := e.Sites[site]
	if alias == "" {
		se.ownURL = url
		if level := e.Stand.Sites[site].Registry.Compatibility; level != "" && !e.deployment() {
			if err := e.setCompatibility(ctx, url, level); err != nil {
				return fmt.Errorf("site %s: registry: %w", site, err)
			}
		}
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

// setCompatibility sets a registry's global compatibility level, as
// Sasquatch's StrimziSchemaRegistry does (compatibilityLevel).
func (e *Env) setCompatibility(ctx context.Context, url, level string) error {
	body := strings.NewReader(`{"compatibility":"` + strings.ToUpper(level) + `"}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url+"/config", body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	if u, p := e.registryAuth(); u != "" {
		req.SetBasicAuth(u, p)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 500))
		return fmt.Errorf("compatibility %s: %s: %s", level, resp.Status, msg)
	}
	return nil
}
