package kafkasec

import (
	"errors"
	"flag"
	"os"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Flags are the Kafka security flags of a command, named, documented and
// defaulted from the environment as the SAL Kafka producer takes them
// (ts_salkafka's and Kafka-era salobj's LSST_KAFKA_SECURITY_*), so that
// every command that reads or writes a site's Kafka is configured the
// same way. AddFlags registers them; Config reads them after parsing.
type Flags struct {
	username, password, protocol, mechanism *string
	ca, cert, key                           *string
}

// AddFlags registers --username, --password, --security-protocol,
// --sasl-mechanism, --tls-ca, --tls-cert and --tls-key on fs.
func AddFlags(fs *flag.FlagSet) *Flags {
	return &Flags{
		username:  fs.String("username", os.Getenv("LSST_KAFKA_SECURITY_USERNAME"), "Kafka SASL username (with --password: SASL_PLAINTEXT SCRAM-SHA-512)"),
		password:  fs.String("password", os.Getenv("LSST_KAFKA_SECURITY_PASSWORD"), "Kafka SASL password, or @FILE to read it from a file"),
		protocol:  fs.String("security-protocol", os.Getenv("LSST_KAFKA_SECURITY_PROTOCOL"), "PLAINTEXT, SASL_PLAINTEXT, SSL or SASL_SSL"),
		mechanism: fs.String("sasl-mechanism", envOr("LSST_KAFKA_SECURITY_MECHANISM", "SCRAM-SHA-512"), "SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN"),
		ca:        fs.String("tls-ca", "", "CA certificate file (SSL, SASL_SSL)"),
		cert:      fs.String("tls-cert", "", "client certificate file"),
		key:       fs.String("tls-key", "", "client key file"),
	}
}

// Config is the configuration the parsed flags give, its password read
// from its file when given as @FILE, and checked (Opts succeeds on it).
func (f *Flags) Config() (Config, error) {
	if (*f.username == "") != (*f.password == "") {
		return Config{}, errors.New("--username and --password go together")
	}
	pass, err := Secret(*f.password)
	if err != nil {
		return Config{}, err
	}
	c := Config{Protocol: *f.protocol, Mechanism: *f.mechanism, Username: *f.username, Password: pass,
		CAFile: *f.ca, CertFile: *f.cert, KeyFile: *f.key}
	if _, err := c.Opts(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// ClientFlags are a Kafka and registry client's security flags: Flags
// and RegistryFlags together, for a command that reads or writes a site
// through its registry (the sink, the REST proxy).
type ClientFlags struct {
	kafka    *Flags
	registry *RegistryFlags
}

// AddClientFlags registers Flags' and RegistryFlags' flags on fs.
func AddClientFlags(fs *flag.FlagSet) *ClientFlags {
	return &ClientFlags{kafka: AddFlags(fs), registry: AddRegistryFlags(fs)}
}

// Client is what the parsed flags give: the franz-go options (see
// Config) and the registry's basic auth, passwords read from their files.
func (f *ClientFlags) Client() (opts []kgo.Opt, registryUser, registryPassword string, err error) {
	c, err := f.kafka.Config()
	if err == nil {
		opts, err = c.Opts()
	}
	if err == nil {
		registryUser, registryPassword, err = f.registry.Auth()
	}
	return opts, registryUser, registryPassword, err
}

// RegistryFlags are a schema registry's basic-auth flags, as the SAL
// Kafka producer takes them (LSST_SCHEMA_REGISTRY_USERNAME and
// _PASSWORD).
type RegistryFlags struct{ username, password *string }

// AddRegistryFlags registers --registry-username and --registry-password
// on fs.
func AddRegistryFlags(fs *flag.FlagSet) *RegistryFlags {
	return &RegistryFlags{
		username: fs.String("registry-username", os.Getenv("LSST_SCHEMA_REGISTRY_USERNAME"), "schema registry basic-auth user"),
		password: fs.String("registry-password", os.Getenv("LSST_SCHEMA_REGISTRY_PASSWORD"), "schema registry basic-auth password, or @FILE"),
	}
}

// Auth is the user and password the parsed flags give, the password read
// from its file when given as @FILE.
func (f *RegistryFlags) Auth() (user, password string, err error) {
	password, err = Secret(*f.password)
	return *f.username, password, err
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
