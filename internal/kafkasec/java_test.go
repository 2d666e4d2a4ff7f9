package kafkasec

import (
	"fmt"
	"strings"
	"testing"
)

// TestJavaProperties: a configuration as a Java client's properties, each
// key after the cluster's prefix; what cannot authenticate is refused.
func TestJavaProperties(t *testing.T) {
	cases := []struct {
		c    Config
		want string
		err  string
	}{
		{Config{}, "security.protocol=PLAINTEXT", ""},
		{Config{Protocol: "SASL_SSL", Username: "replicator", Password: `p"w`, CAFile: "/ca.pem"},
			`security.protocol=SASL_SSL sasl.mechanism=SCRAM-SHA-512 sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="replicator" password="p\"w"; ssl.truststore.type=PEM ssl.truststore.location=/ca.pem`, ""},
		{Config{Username: "u", Password: "p", Mechanism: "PLAIN"},
			`security.protocol=SASL_PLAINTEXT sasl.mechanism=PLAIN sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";`, ""},
		{Config{Protocol: "SASL_SSL"}, "", "needs a username and a password"},
		{Config{Protocol: "SSL", CertFile: "c", KeyFile: "k"}, "", "PEM keystore"},
	}
	for _, c := range cases {
		props, err := c.c.JavaProperties("summit.")
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%+v: error %v, want %q", c.c, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%+v: %v", c.c, err)
		}
		var got []string
		for _, kv := range props {
			if !strings.HasPrefix(kv[0], "summit.") {
				t.Errorf("key %s lacks the prefix", kv[0])
			}
			got = append(got, fmt.Sprintf("%s=%s", strings.TrimPrefix(kv[0], "summit."), kv[1]))
		}
		if g := strings.Join(got, " "); g != c.want {
			t.Errorf("%+v:\n got %s\nwant %s", c.c, g, c.want)
		}
	}
}
