package kafkaadmin

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/lsst-ts/teststand/sal"
)

// ConvertOptions say what ConvertSchemas does with each topic's schema.
type ConvertOptions struct {
	// CSCs limits the conversion (default: every CSC).
	CSCs []string
	// Subname is the topic name part after "lsst." (default "sal").
	Subname string
	// WriteDir, if set, receives one <kafka topic>.avsc per topic.
	WriteDir string
	// RegistryURL, if set, gets each schema registered under its
	// subject "<kafka topic>-value".
	RegistryURL string
}

// ConvertSchemas turns SAL interfaces into the Avro schemas the producer
// writes with (kafkaefd's salschema convert), writing and/or uploading
// them, and prints one line per topic to out. It returns how many topics
// it converted.
func ConvertSchemas(ctx context.Context, ifs *sal.Interfaces, o ConvertOptions, out io.Writer) (int, error) {
	cscs := o.CSCs
	if len(cscs) == 0 {
		cscs = ifs.Names()
	}
	var reg *sr.Client
	if o.RegistryURL != "" {
		var err error
		if reg, err = sr.NewClient(sr.URLs(o.RegistryURL)); err != nil {
			return 0, err
		}
	}
	if o.WriteDir != "" {
		if err := os.MkdirAll(o.WriteDir, 0o755); err != nil {
			return 0, err
		}
	}
	n := 0
	for _, name := range cscs {
		c := ifs.Component(name)
		if c == nil {
			return n, fmt.Errorf("CSC %q is not among the interfaces (%d CSCs)", name, len(ifs.Components))
		}
		for _, t := range c.Topics {
			topic := t.KafkaTopic(o.Subname)
			line := topic
			if o.WriteDir != "" {
				path := filepath.Join(o.WriteDir, topic+".avsc")
				if err := os.WriteFile(path, []byte(t.Schema()+"\n"), 0o644); err != nil {
					return n, err
				}
				line += "\t" + path
			}
			if reg != nil {
				ss, err := reg.CreateSchema(ctx, t.Subject(o.Subname), sr.Schema{Schema: t.Schema(), Type: sr.TypeAvro})
				if err != nil {
					return n, fmt.Errorf("register %s: %w", t.Subject(o.Subname), err)
				}
				line += fmt.Sprintf("\tid %d version %d", ss.ID, ss.Version)
			}
			fmt.Fprintln(out, line)
			n++
		}
	}
	return n, nil
}
