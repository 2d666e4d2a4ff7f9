package registry

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	"github.com/hamba/avro/v2"
)

// schemaKey is Confluent's storage key for a schema version.
type schemaKey struct {
	KeyType string `json:"keytype"`
	Subject string `json:"subject,omitempty"`
	Version int    `json:"version,omitempty"`
	Magic   int    `json:"magic"`
}

// schemaValue is Confluent's storage value for a schema version.
type schemaValue struct {
	Subject    string `json:"subject"`
	Version    int    `json:"version"`
	ID         int    `json:"id"`
	SchemaType string `json:"schemaType,omitempty"`
	Schema     string `json:"schema"`
	Deleted    bool   `json:"deleted"`
}

type version struct {
	version int
	id      int
	deleted bool
}

// state is what the storage topic says, applied record by record.
type state struct {
	mu        sync.RWMutex
	subjects  map[string][]version // ordered by version
	schemas   map[int]string       // id → schema text as first registered
	idCanon   map[int]string       // id → canonical form of that schema
	conflicts []Conflict
	canonical map[string]int // canonical form → id
	maxID     int
	applied   int64 // next offset to apply
	cond      *sync.Cond

	compat     string            // global compatibility level ("" = default)
	subjCompat map[string]string // per subject
	mode       string            // global mode ("" = READWRITE)
}

// configKey is Confluent's storage key for CONFIG, MODE and DELETE_SUBJECT
// records (subject null for the global setting).
type configKey struct {
	KeyType string  `json:"keytype"`
	Subject *string `json:"subject"`
	Magic   int     `json:"magic"`
}

type configValue struct {
	CompatibilityLevel string `json:"compatibilityLevel"`
}

type modeValue struct {
	Mode string `json:"mode"`
}

// Conflict is a storage record that gave an id already in use to another
// schema. The registry keeps the id's first schema; a reader of records
// written with the other one would decode them with the wrong schema.
type Conflict struct {
	ID, Version int
	Subject     string
	Offset      int64
}

func (c Conflict) Error() string {
	return fmt.Sprintf("schema id conflict: offset %d gives id %d to %s version %d, but id %d is another schema", c.Offset, c.ID, c.Subject, c.Version, c.ID)
}

func newState() *state {
	s := &state{subjects: map[string][]version{}, schemas: map[int]string{}, idCanon: map[int]string{}, canonical: map[string]int{}, subjCompat: map[string]string{}}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// canonicalForm parses an Avro schema and returns its Parsing Canonical
// Form, the form schemas are compared in.
func canonicalForm(schema string) (string, error) {
	sc, err := avro.ParseWithCache(schema, "", &avro.SchemaCache{})
	if err != nil {
		return "", err
	}
	return sc.String(), nil
}

// apply applies one storage record at offset.
func (s *state) apply(key, value []byte, offset int64) error {
	s.mu.Lock()
	defer func() {
		if offset+1 > s.applied {
			s.applied = offset + 1
		}
		s.cond.Broadcast()
		s.mu.Unlock()
	}()
	var k schemaKey
	if err := json.Unmarshal(key, &k); err != nil {
		return fmt.Errorf("offset %d: key: %w", offset, err)
	}
	switch k.KeyType {
	case "SCHEMA":
	case "CONFIG":
		var v configValue
		if value != nil {
			if err := json.Unmarshal(value, &v); err != nil {
				return fmt.Errorf("offset %d: config: %w", offset, err)
			}
		}
		if k.Subject == "" {
			s.compat = v.CompatibilityLevel
		} else if v.CompatibilityLevel == "" {
			delete(s.subjCompat, k.Subject)
		} else {
			s.subjCompat[k.Subject] = v.CompatibilityLevel
		}
		return nil
	case "MODE":
		var v modeValue
		if value != nil {
			if err := json.Unmarshal(value, &v); err != nil {
				return fmt.Errorf("offset %d: mode: %w", offset, err)
			}
		}
		if k.Subject == "" {
			s.mode = v.Mode
		}
		return nil
	default:
		return nil // NOOP and DELETE_SUBJECT (versions carry their own deleted flag)
	}
	if value == nil { // tombstone: permanent delete
		vs := s.subjects[k.Subject]
		for i, v := range vs {
			if v.version == k.Version {
				s.subjects[k.Subject] = append(vs[:i:i], vs[i+1:]...)
				break
			}
		}
		return nil
	}
	var v schemaValue
	if err := json.Unmarshal(value, &v); err != nil {
		return fmt.Errorf("offset %d: value: %w", offset, err)
	}
	canon, err := canonicalForm(v.Schema)
	if err != nil {
		return fmt.Errorf("offset %d: schema of %s v%d: %w", offset, v.Subject, v.Version, err)
	}
	if prev, ok := s.idCanon[v.ID]; ok && prev != canon {
		// Two registries wrote one storage topic (an identity-replicated
		// registry-schemas onto a site with its own registry): the id
		// already means another schema. Keep the first, refuse this one.
		c := Conflict{ID: v.ID, Subject: v.Subject, Version: v.Version, Offset: offset}
		s.conflicts = append(s.conflicts, c)
		return c
	}
	if _, ok := s.schemas[v.ID]; !ok {
		s.schemas[v.ID] = v.Schema
		s.idCanon[v.ID] = canon
	}
	if _, ok := s.canonical[canon]; !ok {
		s.canonical[canon] = v.ID
	}
	if v.ID > s.maxID {
		s.maxID = v.ID
	}
	vs := s.subjects[v.Subject]
	for i := range vs {
		if vs[i].version == v.Version {
			vs[i] = version{version: v.Version, id: v.ID, deleted: v.Deleted}
			return nil
		}
	}
	vs = append(vs, version{version: v.Version, id: v.ID, deleted: v.Deleted})
	sort.Slice(vs, func(i, j int) bool { return vs[i].version < vs[j].version })
	s.subjects[v.Subject] = vs
	return nil
}

// waitApplied blocks until the record at offset has been applied or done
// is closed.
func (s *state) waitApplied(offset int64, done <-chan struct{}) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.applied <= offset {
		select {
		case <-done:
			return false
		default:
		}
		s.cond.Wait()
	}
	return true
}

// compatibility is the level in force for subject.
func (s *state) compatibility(subject string) string {
	if l := s.subjCompat[subject]; l != "" {
		return l
	}
	if s.compat != "" {
		return s.compat
	}
	return DefaultCompatibility
}

// live returns a subject's versions that are not deleted.
func (s *state) live(subject string) []version {
	var out []version
	for _, v := range s.subjects[subject] {
		if !v.deleted {
			out = append(out, v)
		}
	}
	return out
}
