package sink

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/sr"
)

// errNotFramed marks a value that is not in the Confluent wire format.
var errNotFramed = errors.New("not in the Confluent wire format (magic byte 0, schema id)")

// maxArrayItems bounds an Avro array's (or map's) block count. goavro
// reads the count from the record and allocates for it before it reads an
// item: a corrupt or hostile record claiming a billion items would take
// the sink's memory. No SAL array comes near (MTM1M3's longest have a few
// hundred items); a record over the bound is refused as undecodable.
const maxArrayItems = 1 << 20

func init() {
	goavro.MaxBlockCount = min(goavro.MaxBlockCount, maxArrayItems)
}

// schema is a registry schema compiled for decoding.
type schema struct {
	codec       *goavro.Codec
	measurement string // namespace.name
}

// schemas fetches schemas by id from one registry and caches them. There
// is one per registry, never one shared: ids are per registry.
type schemas struct {
	url string
	reg *sr.Client
	mu  sync.Mutex
	by  map[int]*schema
}

func newSchemas(url string, auth ...sr.ClientOpt) (*schemas, error) {
	reg, err := sr.NewClient(append([]sr.ClientOpt{sr.URLs(url)}, auth...)...)
	if err != nil {
		return nil, fmt.Errorf("registry client for %s: %w", url, err)
	}
	return &schemas{url: url, reg: reg, by: map[int]*schema{}}, nil
}

// MismatchError is a record the sink refused because the full name of the
// schema its id resolved to does not belong to its topic (SchemaBelongs):
// the id was looked up in another registry than the one it was
// registered in. The record is never written.
type MismatchError struct {
	Topic     string
	Partition int32
	Offset    int64
	Registry  string // the registry the id was resolved in
	SchemaID  int
	Schema    string // the schema's namespace.name
	Implied   string // the name the topic implies
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("topic %s partition %d offset %d: schema id %d in %s is %s, not %s: a schema id resolved in the wrong registry",
		e.Topic, e.Partition, e.Offset, e.SchemaID, e.Registry, e.Schema, e.Implied)
}

// cached reports whether id was fetched already.
func (s *schemas) cached(id int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.by[id]
	return ok
}

func (s *schemas) get(ctx context.Context, id int) (*schema, error) {
	s.mu.Lock()
	sc, ok := s.by[id]
	s.mu.Unlock()
	if ok {
		return sc, nil
	}
	got, err := s.reg.SchemaByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("schema id %d: %w", id, err)
	}
	if sc, err = compileSchema(got.Schema); err != nil {
		return nil, fmt.Errorf("schema id %d: %w", id, err)
	}
	s.mu.Lock()
	s.by[id] = sc
	s.mu.Unlock()
	return sc, nil
}

// compileSchema compiles a registry schema's text for decoding.
func compileSchema(text string) (*schema, error) {
	codec, err := goavro.NewCodec(text)
	if err != nil {
		return nil, fmt.Errorf("does not parse: %w", err)
	}
	var head struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	}
	if err := json.Unmarshal([]byte(text), &head); err != nil {
		return nil, err
	}
	sc := &schema{codec: codec, measurement: head.Name}
	if head.Namespace != "" {
		sc.measurement = head.Namespace + "." + head.Name
	}
	return sc, nil
}

// frameID splits a Confluent-framed value into schema id and Avro body.
func frameID(v []byte) (int, []byte, error) {
	if len(v) < 5 || v[0] != 0 {
		return 0, nil, errNotFramed
	}
	return int(binary.BigEndian.Uint32(v[1:5])), v[5:], nil
}

// unwrapUnion turns goavro's {"type": value} union form into the value.
func unwrapUnion(v any) any {
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		for k, inner := range m {
			switch k {
			case "boolean", "int", "long", "float", "double", "string", "bytes", "array":
				return inner
			}
		}
	}
	return v
}

func asFloat(v any) (float64, bool) {
	switch x := unwrapUnion(v).(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	}
	return 0, false
}

// registryAuth is a registry client's basic auth, none without a user.
func registryAuth(user, password string) []sr.ClientOpt {
	if user == "" {
		return nil
	}
	return []sr.ClientOpt{sr.BasicAuth(user, password)}
}
