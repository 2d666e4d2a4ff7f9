package stand

import (
	"fmt"

	"github.com/lsst-ts/teststand/replication"
)

// Warnings are what a stand does that is valid but known to hurt in
// production, so that a stand meant to show the trap says so and one that
// falls into it by accident is told.
func (s *Stand) Warnings() []string {
	var out []string
	for _, f := range s.Replication {
		src, dst := s.Sites[f.Source.Value], s.Sites[f.Target.Value]
		if src == nil || dst == nil || src.Registry == nil || dst.Registry == nil {
			continue
		}
		flow, err := replication.NewFlow(f.Source.Value, f.Target.Value, f.Topics, f.Exclude, f.Policy, f.Separator)
		if err != nil || !flow.Replicates(src.Registry.Topic) {
			continue
		}
		if flow.RemoteTopic(src.Registry.Topic) == dst.Registry.Topic {
			out = append(out, fmt.Sprintf("%s: replication flow %q copies %s's registry storage %q onto %s's own registry topic %q: two registries allocate the same schema ids, which will conflict (the %s registry refuses and reports the copies)",
				s.pos(f.Source.Line), f.Name, f.Source.Value, src.Registry.Topic, f.Target.Value, dst.Registry.Topic, f.Target.Value))
		}
	}
	return out
}
