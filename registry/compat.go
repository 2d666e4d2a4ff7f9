package registry

import (
	"fmt"
	"strings"

	"github.com/hamba/avro/v2"
)

// Compatibility levels, as Confluent names them.
var levels = map[string]bool{
	"BACKWARD": true, "BACKWARD_TRANSITIVE": true, "FORWARD": true, "FORWARD_TRANSITIVE": true,
	"FULL": true, "FULL_TRANSITIVE": true, "NONE": true,
}

// DefaultCompatibility is Confluent's default level.
const DefaultCompatibility = "BACKWARD"

// checkCompatible checks schema against a subject's earlier schemas
// (oldest first) under level, with hamba/avro's checker. BACKWARD: the new
// schema reads what the latest wrote; FORWARD: the latest reads what the
// new one writes; FULL: both; _TRANSITIVE: against every earlier version,
// not just the latest. It returns the reasons it is not.
func checkCompatible(level, schema string, earlier []string) ([]string, error) {
	if level == "NONE" || len(earlier) == 0 {
		return nil, nil
	}
	newS, err := avro.ParseWithCache(schema, "", &avro.SchemaCache{})
	if err != nil {
		return nil, err
	}
	against := earlier[len(earlier)-1:]
	if strings.HasSuffix(level, "_TRANSITIVE") {
		against = earlier
	}
	base := strings.TrimSuffix(level, "_TRANSITIVE")
	sc := avro.NewSchemaCompatibility()
	var reasons []string
	for i, old := range against {
		oldS, err := avro.ParseWithCache(old, "", &avro.SchemaCache{})
		if err != nil {
			return nil, fmt.Errorf("stored schema does not parse: %w", err)
		}
		which := "the latest schema"
		if len(against) > 1 {
			which = fmt.Sprintf("schema %d of %d", i+1, len(against))
		}
		if base == "BACKWARD" || base == "FULL" {
			if err := sc.Compatible(newS, oldS); err != nil {
				reasons = append(reasons, fmt.Sprintf("%s: the new schema cannot read data written with %s: %v", level, which, err))
			}
		}
		if base == "FORWARD" || base == "FULL" {
			if err := sc.Compatible(oldS, newS); err != nil {
				reasons = append(reasons, fmt.Sprintf("%s: %s cannot read data written with the new schema: %v", level, which, err))
			}
		}
	}
	return reasons, nil
}
