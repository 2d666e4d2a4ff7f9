//go:build cyclonedds

package producer

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lsst-ts/teststand/dds"
	"github.com/lsst-ts/teststand/dds/cyclonedds"
	"github.com/lsst-ts/teststand/internal/ddstest"
	"github.com/lsst-ts/teststand/internal/pyenv"
	"github.com/lsst-ts/teststand/mocksal"
	"github.com/lsst-ts/teststand/sal"
)

// peerRevcode is the revcode the Python peer's topics carry: not the one
// this project's writers compute, so a reader that forwards them must have
// learned it from the domain.
const peerRevcode = "feedf00d"

// The topics both directions exchange: an indexed telemetry topic with
// every scalar type, its arrays, an event (TRANSIENT) and a plain one.
var peerTopics = []struct {
	csc, name string
	index     int32
}{
	{"Test", "scalars", 1}, {"Test", "arrays", 1}, {"Test", "logevent_scalars", 1}, {"ATDome", "position", 0},
}

type peerMember struct {
	Name  string `json:"name"`
	IDL   string `json:"idl"`
	Count int    `json:"count"`
}

type peerTopic struct {
	TopicName string           `json:"topic_name"`
	TypeName  string           `json:"type_name"`
	Partition string           `json:"partition"`
	Kind      string           `json:"kind"`
	Key       bool             `json:"key"`
	Members   []peerMember     `json:"members"`
	Samples   []map[string]any `json:"samples,omitempty"`
	Count     int              `json:"count,omitempty"`
}

func peerSpec(l *cyclonedds.Layout) peerTopic {
	p := peerTopic{TopicName: l.TopicName(), TypeName: l.TypeName(), Partition: dds.Partition("summit", l.Topic),
		Kind: l.Topic.Kind.String(), Key: l.Topic.Indexed}
	for _, m := range l.Members {
		p.Members = append(p.Members, peerMember{m.Name, m.IDL, m.Count})
	}
	return p
}

// peer starts the Python peer with a spec on stdin and returns its output
// lines; closing stdin (at cleanup) lets a writer exit.
func peer(t *testing.T, mode string, base int, topics []peerTopic) (<-chan string, io.Closer) {
	t.Helper()
	py := pyenv.Python(t, []string{"cyclonedds"}, "cyclonedds==11.0.1")
	spec, err := json.Marshal(map[string]any{"domain": 0, "topics": topics})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "testdata/ddspeer.py", mode)
	cmd.Env = append(os.Environ(), "CYCLONEDDS_URI="+cyclonedds.Config(base))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := stdin.Write(append(spec, '\n')); err != nil {
		t.Fatal(err)
	}
	if mode == "read" {
		stdin.Close()
	}
	lines := make(chan string, 1000)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil || t.Failed() {
				t.Errorf("python peer %s: exit %v\n%s", mode, err, stderr.String())
			}
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("python peer %s did not exit\n%s", mode, stderr.String())
		}
	})
	return lines, stdin
}

func expectLine(t *testing.T, lines <-chan string, want string) {
	t.Helper()
	select {
	case l, ok := <-lines:
		if !ok || l != want {
			t.Fatalf("python peer said %q (open %v), want %q", l, ok, want)
		}
	case <-time.After(90 * time.Second):
		t.Fatalf("python peer did not say %q", want)
	}
}

// ddsRig is a producer test rig whose bus is on real DDS domain 0, on a
// base port of its own.
func ddsRig(t *testing.T) (*rig, int) {
	t.Helper()
	r := newRig(t)
	base := ddstest.BasePort(t, 0)
	l, err := dds.Connect(context.Background(), dds.CycloneDDS, r.bus, dds.LinkConfig{Domain: 0, Interfaces: r.ifaces, BasePort: base})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return r, base
}

// TestPythonPeerWritesProducerForwards: PyPI's cyclonedds writes samples
// under revcodes of its own; the producer, on a participant of its own,
// learns them from the domain, forwards every sample to Kafka, and each
// record holds, field by field, what Python wrote.
func TestPythonPeerWritesProducerForwards(t *testing.T) {
	r, base := ddsRig(t)
	r.start(t, Config{Components: []string{"Test:1", "ATDome"}, PartitionPrefix: "summit"})
	const n = 5
	var specs []peerTopic
	sent := map[string][]*sal.Sample{}
	for _, pt := range peerTopics {
		tp := r.ifaces.Topic(pt.csc, pt.name)
		lay, err := cyclonedds.NewLayout(tp)
		if err != nil {
			t.Fatal(err)
		}
		lay = lay.WithRevcode(peerRevcode)
		spec := peerSpec(lay)
		for i := 0; i < n; i++ {
			s := ddstest.EdgeSample(tp, pt.index, i)
			s.Set("private_revCode", peerRevcode)
			sent[tp.Name] = append(sent[tp.Name], s)
			spec.Samples = append(spec.Samples, membersOf(lay, s))
		}
		specs = append(specs, spec)
	}
	lines, _ := peer(t, "write", base, specs)
	expectLine(t, lines, "written")
	for _, pt := range peerTopics {
		tp := r.ifaces.Topic(pt.csc, pt.name)
		recs := consume(t, r.cluster.ListenAddrs(), tp.KafkaTopic(""), n)
		for i, rec := range recs {
			got, err := tp.DecodeAvro(rec.Value[5:])
			if err != nil {
				t.Fatal(err)
			}
			if rev := got.Get("private_revCode"); rev != peerRevcode {
				t.Errorf("%s #%d: private_revCode %v, want the peer's %s", tp.Name, i, rev, peerRevcode)
			}
			if d := ddstest.Diff(sent[tp.Name][i], got, true); d != "" {
				t.Errorf("%s #%d: %s", tp.Name, i, d)
			}
		}
	}
}

// TestPythonPeerReadsMocksal: what mocksal writes on real DDS, PyPI's
// cyclonedds reads, field by field, under mocksal's own revcodes.
func TestPythonPeerReadsMocksal(t *testing.T) {
	r, base := ddsRig(t)
	const n = 5
	var specs []peerTopic
	layouts := map[string]*cyclonedds.Layout{}
	for _, pt := range peerTopics {
		lay, err := cyclonedds.NewLayout(r.ifaces.Topic(pt.csc, pt.name))
		if err != nil {
			t.Fatal(err)
		}
		layouts[lay.TopicName()] = lay
		spec := peerSpec(lay)
		spec.Count = n
		specs = append(specs, spec)
	}
	lines, _ := peer(t, "read", base, specs)
	expectLine(t, lines, "ready")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	written := map[string][]*sal.Sample{}
	for _, pt := range peerTopics {
		tp := r.ifaces.Topic(pt.csc, pt.name)
		wc := mocksal.WriterConfig{Topic: tp, Index: pt.index, Count: n, RateHz: 100, PartitionPrefix: "summit", Seed: 7,
			Publish: func(ctx context.Context, s *sal.Sample) (int, error) {
				written[tp.Name] = append(written[tp.Name], s.Clone())
				return r.bus.Publish(ctx, 0, "summit", s)
			}}
		if _, err := mocksal.Run(ctx, r.bus, wc, nil); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]int{}
	for total := 0; total < n*len(peerTopics); total++ {
		var line string
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("python peer stopped after %d samples: %v", total, got)
			}
			line = l
		case <-ctx.Done():
			t.Fatalf("python peer read %d samples: %v", total, got)
		}
		var msg struct {
			Topic  string         `json:"topic"`
			Sample map[string]any `json:"sample"`
		}
		if err := json.Unmarshal([]byte(line), &msg); err != nil {
			t.Fatalf("python peer: %q: %v", line, err)
		}
		lay := layouts[msg.Topic]
		i := got[msg.Topic]
		got[msg.Topic]++
		want := membersOf(lay, written[lay.Topic.Name][i])
		want["private_revCode"] = lay.Revcode
		for _, m := range lay.Members {
			if !sameJSON(want[m.Name], msg.Sample[m.Name]) {
				t.Errorf("%s #%d %s: mocksal wrote %v, python read %v", msg.Topic, i, m.Name, want[m.Name], msg.Sample[m.Name])
			}
		}
	}
}

// membersOf is a sample's DDS members by name, as JSON values.
func membersOf(l *cyclonedds.Layout, s *sal.Sample) map[string]any {
	out := map[string]any{}
	for _, m := range l.Members {
		out[m.Name] = s.Values[m.Field]
	}
	out["private_revCode"] = l.Revcode
	return out
}

// sameJSON compares a Go value with its JSON round trip through Python
// (float32 values compared as float32).
func sameJSON(want, got any) bool {
	b, _ := json.Marshal(want)
	var w any
	json.Unmarshal(b, &w)
	if wf, ok := w.(float64); ok {
		if gf, ok := got.(float64); ok {
			if _, is32 := want.(float32); is32 {
				return float32(wf) == float32(gf)
			}
			return wf == gf
		}
	}
	if ws, ok := w.([]any); ok {
		gs, ok := got.([]any)
		if !ok || len(gs) != len(ws) {
			return false
		}
		_, is32 := want.([]float32)
		for i := range ws {
			wf, ok1 := ws[i].(float64)
			gf, ok2 := gs[i].(float64)
			if ok1 && ok2 && is32 {
				if float32(wf) != float32(gf) {
					return false
				}
				continue
			}
			if !reflect.DeepEqual(ws[i], gs[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(w, got)
}
