package harness

// Steps for a stand taken from Sasquatch's deployment: what coverage
// says of the deployment, checked against what the running stand does.

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/lsst-ts/teststand/harness/observe"
	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sasquatch"
	"github.com/lsst-ts/teststand/sasquatch/coverage"
)

// expectedDatabases is, by site, database and topic (at its source),
// whether coverage says the deployment ingests the topic there.
func (e *Env) expectedDatabases() (map[Target]map[string]bool, error) {
	spec := e.Stand.Sasquatch
	if spec == nil {
		return nil, fmt.Errorf("stand %s takes nothing from Sasquatch's deployment (no sasquatch block)", e.Stand.File)
	}
	var deps []*sasquatch.Deployment
	var salAt []string
	siteOf := map[string]string{}
	for _, env := range spec.Environments {
		deps = append(deps, env.Deployment)
		siteOf[env.Env] = env.SiteName()
		if slices.ContainsFunc(e.Stand.Producers, func(p *ProducerSpec) bool { return p.Site.Value == env.SiteName() }) {
			salAt = append(salAt, env.Env)
		}
	}
	r := coverage.Compute(deps, coverage.Options{Interfaces: e.Stand.Loaded, SALAt: salAt})
	out := map[Target]map[string]bool{}
	for site, spec := range e.Stand.Sites {
		if spec.InfluxDB == nil {
			continue
		}
		for _, db := range spec.InfluxDB.Names() {
			out[observe.Influx(site, db)] = map[string]bool{}
		}
	}
	for _, row := range r.Rows {
		for _, in := range row.Ingests {
			for _, db := range in.Databases {
				if m := out[observe.Influx(siteOf[row.Env], db)]; m != nil {
					m[row.Base] = true
				}
			}
		}
	}
	return out, nil
}

// sampleTopics are a CSC's first telemetry topic and first event, by name.
func sampleTopics(c *sal.Component) []*sal.Topic {
	var out []*sal.Topic
	for _, kind := range []sal.Kind{sal.Telemetry, sal.Event} {
		var names []*sal.Topic
		for _, t := range c.Topics {
			if t.Kind == kind {
				names = append(names, t)
			}
		}
		slices.SortFunc(names, func(a, b *sal.Topic) int { return strings.Compare(a.Name, b.Name) })
		if len(names) > 0 {
			out = append(out, names[0])
		}
	}
	return out
}

// coverageHolds publishes a telemetry topic and an event of every CSC
// the stand's producers serve, then checks both ways what coverage says
// of the deployment: every database it says ingests a topic holds every
// sample, field by field as written, and every other database of every
// site holds none.
func (st *Steps) coverageHolds(ctx context.Context, within string) error {
	want, err := st.Env.expectedDatabases()
	if err != nil {
		return err
	}
	s := state(ctx)
	type sent struct {
		tr    *Traffic
		where []Target
	}
	var all []sent
	for _, p := range st.Env.Stand.Producers {
		for _, ref := range p.CSCs {
			name, index, err := sal.ParseCSC(ref.Value)
			if err != nil {
				return err
			}
			comp := st.Env.Stand.Loaded.Component(name)
			for _, t := range sampleTopics(comp) {
				var where []Target
				for at, topics := range want {
					if topics[t.KafkaTopic(p.Subname)] {
						where = append(where, at)
					}
				}
				tr, err := s.sc.Publish(ctx, PublishSpec{CSC: name, Index: index, Topic: t.Name, RateHz: 50, Count: 3, Domain: p.Domain, Databases: where})
				if err != nil {
					return fmt.Errorf("%s %s: %w", ref.Value, t.Name, err)
				}
				all = append(all, sent{tr, where})
			}
		}
	}
	var fails []string
	checked := 0
	for _, x := range all {
		for _, at := range x.where {
			res, err := s.sc.WaitDelivered(ctx, x.tr, at, seconds(within))
			if err != nil {
				return err
			}
			if res.Lost > 0 {
				fails = append(fails, fmt.Sprintf("%s %s: coverage says %s ingests it; lost %d of %d (seqNums %s)", x.tr.Identity(), x.tr.Topic.Name, at, res.Lost, res.Sent, seqList(res.Missing)))
				continue
			}
			diffs, _, err := compareFields(ctx, st.Env.Sites[at.Site].Influx(), st.Env.Database(at.Site, at.Name), x.tr.Topic.FullName(), x.tr, st.Env.precisionAt(s.sc, x.tr, at), 3)
			if err != nil {
				return err
			}
			for _, d := range diffs {
				fails = append(fails, fmt.Sprintf("%s %s at %s: %s", x.tr.Identity(), x.tr.Topic.Name, at, d))
			}
			checked++
		}
	}
	// Whatever was to arrive has: no other database may hold any of it.
	absent := 0
	for _, x := range all {
		for at := range want {
			if slices.Contains(x.where, at) {
				continue
			}
			n, err := st.Env.pointsOf(ctx, at, x.tr)
			if err != nil {
				return err
			}
			if n > 0 {
				fails = append(fails, fmt.Sprintf("%s %s: coverage says %s does not ingest it; it holds %d of its points", x.tr.Identity(), x.tr.Topic.Name, at, n))
			}
			absent++
		}
	}
	if len(fails) > 0 {
		return fmt.Errorf("what the deployment does is not what coverage says (%d checks):\n  %s", len(fails), strings.Join(fails, "\n  "))
	}
	if checked == 0 {
		return fmt.Errorf("coverage says no database ingests any of the %d topics published: nothing was checked", len(all))
	}
	st.Env.log.Info("coverage holds", "topics", len(all), "delivered", checked, "absent", absent)
	return nil
}

// pointsOf counts tr's points in target's database under the sink's
// default measurement.
func (e *Env) pointsOf(ctx context.Context, at Target, tr *Traffic) (int, error) {
	series, err := e.Sites[at.Site].Influx().Query(ctx, e.Database(at.Site, at.Name),
		fmt.Sprintf(`SELECT count("private_seqNum") FROM %q WHERE "private_origin" = %d`, tr.Topic.FullName(), tr.Origin))
	if err != nil {
		return 0, err
	}
	for _, s := range series {
		for _, v := range s.Values {
			if len(v) > 1 {
				if n, ok := observe.Number(v[1]); ok {
					return int(n), nil
				}
			}
		}
	}
	return 0, nil
}
