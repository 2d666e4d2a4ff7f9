// tags.go holds the tags that leave scenarios out on stands that cannot
// run them, and the counting of scenarios in feature files.

package harness

import (
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/lsst-ts/teststand/harness/backend"
)

// EmbeddedOnlyTag marks scenarios that need the embedded backend's Kafka
// (kfake's fault hooks, such as refused offset commits): other backends
// leave them out, and the report says how many.
const EmbeddedOnlyTag = "@embedded"

// OwnReplicatorTag marks scenarios that hold for the project's replicator
// and not for MirrorMaker 2 (exactly-once copies across a SIGKILL): a run
// with --replicator mirrormaker2 leaves them out, and the report says how
// many.
const OwnReplicatorTag = "@own-replicator"

// ContainersOnlyTag marks scenarios that act on containers (pause, stop,
// restart a site's Kafka): other backends leave them out.
const ContainersOnlyTag = "@containers"

// BrokerFaultsTag marks scenarios that kill and restart a site's brokers:
// backends that cannot leave them out.
const BrokerFaultsTag = "@broker-faults"

// NetworkFaultsTag marks scenarios that put TCP faults on links and
// services (package netfault): backends without the fault layer leave
// them out.
const NetworkFaultsTag = "@network-faults"

// leftOut are the tags a stand's run leaves out, with why.
func leftOut(st *Stand) map[string]string {
	out := map[string]string{}
	if !backend.Has[backend.CommitFaulter](st.Backend) {
		out[EmbeddedOnlyTag] = "they use the embedded Kafka's fault hooks, which the " + string(st.Backend) + " backend has not"
	}
	if len(st.MM2Flows()) > 0 {
		out[OwnReplicatorTag] = "they hold for the project's replicator, not for MirrorMaker 2, which the stand runs"
	}
	if !backend.Has[backend.BrokerFaulter](st.Backend) {
		out[BrokerFaultsTag] = "they kill and restart brokers, which the " + string(st.Backend) + " backend cannot"
	}
	if !backend.Has[backend.NetworkFaulter](st.Backend) {
		out[NetworkFaultsTag] = "they put network faults between the parts, which the " + string(st.Backend) + " backend runs where the fault layer cannot reach"
	}
	if !backend.Has[backend.ContainerActor](st.Backend) {
		out[ContainersOnlyTag] = "they pause, stop and restart containers, which only the containers backend runs"
	}
	return out
}

// standTags adds to the user's tag expression what the stand leaves out.
func standTags(tags string, st *Stand) string {
	for _, tag := range slices.Sorted(maps.Keys(leftOut(st))) {
		if tags == "" {
			tags = "~" + tag
		} else {
			tags += " && ~" + tag // godog: "&&" binds looser than ","
		}
	}
	return tags
}

// countTagged counts the scenarios tagged tag (directly or through their
// feature) in the shards' feature files; tag "" counts every scenario.
func countTagged(shards []featureGroup, tag string) int {
	n := 0
	for _, sh := range shards {
		for _, p := range sh.paths {
			data, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			featureTagged, pending := false, false
			for _, line := range strings.Split(string(data), "\n") {
				t := strings.TrimSpace(line)
				switch {
				case strings.HasPrefix(t, "@"):
					pending = pending || slices.Contains(strings.Fields(t), tag)
				case strings.HasPrefix(t, "Feature:"):
					featureTagged, pending = pending, false
				case strings.HasPrefix(t, "Scenario:") || strings.HasPrefix(t, "Scenario Outline:"):
					if tag == "" || featureTagged || pending {
						n++
					}
					pending = false
				}
			}
		}
	}
	return n
}

// countScenarios counts the scenario lines of the shards' feature files
// (scenario outlines count once), for the status line.
func countScenarios(shards []featureGroup) int { return countTagged(shards, "") }
