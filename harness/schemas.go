package harness

import (
	"context"
	"encoding/binary"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing/fstest"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/lsst-ts/teststand/harness/observe"
	"github.com/lsst-ts/teststand/harness/standsec"
	"github.com/lsst-ts/teststand/producer"
	"github.com/lsst-ts/teststand/sal"
	"github.com/lsst-ts/teststand/sal/sample"
)

// SchemaIDs returns the distinct schema ids of the Confluent-framed
// records in topic at site (read from the start, no consumer group).
func (e *Env) SchemaIDs(ctx context.Context, site, topic string) (map[int]int, error) {
	se := e.Sites[site]
	if se == nil {
		return nil, fmt.Errorf("unknown site %q", site)
	}
	ids := map[int]int{}
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := observe.ReadToEnd(rctx, se.Brokers, topic, func(r *kgo.Record) {
		if len(r.Value) >= 5 && r.Value[0] == 0 {
			ids[int(binary.BigEndian.Uint32(r.Value[1:5]))]++
		}
	}, se.KafkaOpts...)
	if err != nil {
		return nil, fmt.Errorf("reading %s at %s: %w", topic, site, err)
	}
	return ids, nil
}

// SchemaAt fetches schema id of topic from the registry at site that
// serves the topic: the site's own for its own topics, the source's
// remote registry for a replica (the site's registry when the stand does
// not know the topic).
func (e *Env) SchemaAt(ctx context.Context, site, topic string, id int) (string, error) {
	se := e.Sites[site]
	if se == nil || se.RegistryURL == "" {
		return "", fmt.Errorf("site %q has no registry", site)
	}
	url := se.RegistryURL
	if name := e.Stand.TopicRegistry(site, topic); name != "" {
		url = se.RegistryFor(name)
	}
	cl, err := sr.NewClient(append([]sr.ClientOpt{sr.URLs(url)}, e.registryClientOpts()...)...)
	if err != nil {
		return "", err
	}
	s, err := cl.SchemaByID(ctx, id)
	return s.Schema, err
}

// TopicEnd is the sum of a topic's end offsets at site (records ever
// written).
func (e *Env) TopicEnd(ctx context.Context, site, topic string) (int64, error) {
	se := e.Sites[site]
	if se == nil {
		return 0, fmt.Errorf("unknown site %q", site)
	}
	cl, err := se.client()
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, err
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			n += o.Offset
		}
	})
	return n, nil
}

// StartChangedProducer starts, at site, a producer for csc whose
// interface differs from the stand's in one field's IDL type — what a new
// ts_xml release does — and returns the error it stops with, or nil when
// it started (and is then stopped again at once).
func (e *Env) StartChangedProducer(ctx context.Context, site, csc, topic, field, idlType string) error {
	se := e.Sites[site]
	if se == nil {
		return fmt.Errorf("unknown site %q", site)
	}
	ifaces, err := changedInterfaces(e.Stand, csc, topic, field, idlType)
	if err != nil {
		return err
	}
	via := e.reach(site)
	ru, rp := e.registryAuth()
	p, err := producer.New(ctx, producer.Config{
		Brokers: se.Brokers, RegistryURL: via.registry(), KafkaOpts: via.kafka(standsec.Producer), Bus: e.Bus, Interfaces: ifaces,
		RegistryUsername: ru, RegistryPassword: rp,
		Components: []string{csc}, Domain: 231, Logger: e.log.With("component", "changed producer"),
	})
	if err != nil {
		return err
	}
	rctx, cancel := context.WithCancel(ctx)
	cancel()
	return p.Run(rctx)
}

// changedInterfaces copies the stand's interface files with one field's
// IDL_Type replaced.
func changedInterfaces(st *Stand, csc, topic, field, idlType string) (*sal.Interfaces, error) {
	var src fs.FS = sample.FS
	if dir := st.InterfacesDir(); dir != "" {
		src = os.DirFS(dir)
	}
	mfs := fstest.MapFS{}
	err := fs.WalkDir(src, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !strings.HasSuffix(path, ".xml") || !(strings.HasPrefix(path, csc+"/") || !strings.Contains(path, "/")) {
			return nil
		}
		b, err := fs.ReadFile(src, path)
		if err != nil {
			return err
		}
		mfs[path] = &fstest.MapFile{Data: b}
		return nil
	})
	if err != nil {
		return nil, err
	}
	kind := "Telemetry"
	switch {
	case strings.HasPrefix(topic, "logevent_"):
		kind = "Events"
	case strings.HasPrefix(topic, "command_"):
		kind = "Commands"
	}
	name := csc + "/" + csc + "_" + kind + ".xml"
	f := mfs[name]
	if f == nil {
		return nil, fmt.Errorf("no %s in the interfaces", name)
	}
	re := regexp.MustCompile(`(?s)(<EFDB_Name>` + regexp.QuoteMeta(field) + `</EFDB_Name>.*?<IDL_Type>)[^<]*(</IDL_Type>)`)
	if !re.Match(f.Data) {
		return nil, fmt.Errorf("%s has no field %s", name, field)
	}
	f.Data = re.ReplaceAll(f.Data, []byte("${1}"+idlType+"${2}"))
	return sal.Load(mfs)
}
