// features.go shares a run's feature files out among stands: by the
// @stand: tag they ask for, then among parallel copies of each stand.

package harness

import (
	"cmp"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/lsst-ts/teststand/harness/backend"
)

// featureGroup is the feature files that run on one stand.
type featureGroup struct {
	stand *Stand
	paths []string
	// suffix names the shard's junit and cucumber files; label names it
	// in reports; first marks the first shard of a stand file.
	suffix, label string
	first         bool
}

// shardGroups shares each group's feature files out among up to
// cfg.Parallel copies of its stand. Each copy is loaded again from its
// file, so that what a scenario changes in one (a hot-added CSC) stays
// in it.
func shardGroups(groups []featureGroup, cfg RunConfig) []featureGroup {
	var out []featureGroup
	for gi, g := range groups {
		base := ""
		if gi > 0 {
			base = "-" + strings.TrimSuffix(filepath.Base(g.stand.File), filepath.Ext(g.stand.File))
		}
		n := 1
		if cfg.Parallel > 1 && !cfg.KeepUp {
			n = min(cfg.Parallel, len(g.paths))
		}
		for k := range n {
			sh := featureGroup{stand: g.stand, suffix: base, first: k == 0}
			if n > 1 {
				sh.suffix += fmt.Sprintf("-%d", k+1)
				sh.label = fmt.Sprintf(" #%d", k+1)
			}
			if k > 0 {
				if st, err := Load(g.stand.File, cfg.loadOptions()); err == nil {
					sh.stand = st
				}
			}
			for i := k; i < len(g.paths); i += n {
				sh.paths = append(sh.paths, g.paths[i])
			}
			out = append(out, sh)
		}
	}
	return out
}

// needsInflux is the set of InfluxDB major versions the groups' stands
// start.
func needsInflux(groups []featureGroup) map[int]bool {
	out := map[int]bool{}
	for _, g := range groups {
		if !backend.Has[backend.SharedInflux](g.stand.Backend) || g.stand.Security != nil {
			continue // its sites get InfluxDB of their own
		}
		for _, site := range g.stand.Sites {
			if site.InfluxDB != nil {
				out[site.InfluxDB.Major()] = true
			}
		}
	}
	return out
}

var standTag = regexp.MustCompile(`(?m)^\s*@[^\n]*@stand:(\S+)|^\s*@stand:(\S+)`)

// groupFeatures sorts feature files by the stand they ask for with a
// feature-level tag @stand:NAME (scenarios/NAME.yaml beside the main
// stand); untagged features run on the main stand. Every stand is loaded
// here, so a bad one is reported before anything starts.
func groupFeatures(main *Stand, paths []string, opts LoadOptions) ([]featureGroup, error) {
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("features: %w", err)
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(path, ".feature") {
				files = append(files, path)
			}
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("features: %w", err)
		}
	}
	groups := []featureGroup{{stand: main}}
	byStand := map[string]int{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("features: %w", err)
		}
		head := string(data)
		if i := strings.Index(head, "Feature:"); i >= 0 {
			head = head[:i]
		}
		m := standTag.FindStringSubmatch(head)
		if m == nil {
			groups[0].paths = append(groups[0].paths, f)
			continue
		}
		name := cmp.Or(m[1], m[2])
		path := name
		if !strings.ContainsRune(name, '/') {
			path = filepath.Join(filepath.Dir(main.File), name+".yaml")
		}
		i, ok := byStand[path]
		if !ok {
			st, err := Load(path, opts)
			if err != nil {
				return nil, fmt.Errorf("%s asks for @stand:%s: %w", f, name, err)
			}
			i = len(groups)
			byStand[path] = i
			groups = append(groups, featureGroup{stand: st})
		}
		groups[i].paths = append(groups[i].paths, f)
	}
	if len(groups[0].paths) == 0 {
		groups = groups[1:]
	}
	return groups, nil
}
