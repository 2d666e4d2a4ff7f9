package sasquatch

import (
	"bytes"
	"fmt"
	"maps"

	"github.com/BurntSushi/toml"
)

// Endpoints are what a consumer's telegraf.conf is pointed at when a
// stand runs it: the stand's own Kafka, registry and InfluxDB.
type Endpoints struct {
	Brokers []string
	// Registry is the URL of the stand's registry that serves what the
	// deployment's avro_schema_registry serves.
	Registry string
	// InfluxURL is the InfluxDB 1.x the outputs write to; Database is the
	// stand's name for each database the deployment names.
	InfluxURL string
	Database  func(db string) string
	// InfluxUser and InfluxPassword replace the outputs' username and
	// password (the deployment's ${INFLUXDB_USER} and
	// ${INFLUXDB_PASSWORD}) when the stand's InfluxDB takes credentials.
	InfluxUser, InfluxPassword string
}

// Rewrite is the consumer's rendered telegraf.conf as the stand runs it:
// the agent's settings and the consumer's kafka_consumer input as
// deployed, with the brokers, the registry and the InfluxDB outputs
// pointed at the stand's own (the deployment's InfluxDB credentials
// replaced by the stand's, or dropped when its InfluxDB is open), its
// other inputs and the outputs of Telegraf's own metrics left out.
func (c *Consumer) Rewrite(to Endpoints) (string, error) {
	var conf map[string]any
	if _, err := toml.Decode(c.Conf, &conf); err != nil {
		return "", fmt.Errorf("%s: %w", c.File, err)
	}
	out := map[string]any{}
	if agent, ok := conf["agent"].(map[string]any); ok {
		out["agent"] = agent
	}
	var outputs []map[string]any
	if o, ok := conf["outputs"].(map[string]any); ok {
		for _, t := range tables(o["influxdb"]) {
			if onlyTelegrafMetrics(t) {
				continue
			}
			t = maps.Clone(t)
			db, _ := t["database"].(string)
			t["urls"] = []string{to.InfluxURL}
			t["database"] = to.Database(db)
			delete(t, "username")
			delete(t, "password")
			if to.InfluxUser != "" {
				t["username"], t["password"] = to.InfluxUser, to.InfluxPassword
			}
			delete(t, "namedrop") // the stand runs no inputs.internal
			outputs = append(outputs, t)
		}
	}
	var input map[string]any
	if in, ok := conf["inputs"].(map[string]any); ok {
		if all := tables(in["kafka_consumer"]); c.Input < len(all) {
			input = maps.Clone(all[c.Input])
		}
	}
	if input == nil || len(outputs) == 0 {
		return "", fmt.Errorf("%s: consumer %s: no kafka_consumer input %d, or no output for its metrics", c.File, c.Name, c.Input)
	}
	input["brokers"] = to.Brokers
	input["avro_schema_registry"] = to.Registry
	for _, k := range []string{"sasl_mechanism", "sasl_username", "sasl_password"} {
		delete(input, k)
	}
	out["outputs"] = map[string]any{"influxdb": outputs}
	out["inputs"] = map[string]any{"kafka_consumer": []map[string]any{input}}
	var b bytes.Buffer
	if err := toml.NewEncoder(&b).Encode(out); err != nil {
		return "", fmt.Errorf("%s: %w", c.File, err)
	}
	return b.String(), nil
}
