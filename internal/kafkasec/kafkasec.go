package kafkasec

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Config is how a client authenticates to Kafka.
type Config struct {
	// Protocol is PLAINTEXT, SASL_PLAINTEXT, SSL or SASL_SSL; "" means
	// SASL_PLAINTEXT when a username is set (ts_salkafka's behaviour), else
	// PLAINTEXT.
	Protocol string
	// Mechanism is SCRAM-SHA-512 (default, as Sasquatch), SCRAM-SHA-256 or
	// PLAIN.
	Mechanism          string
	Username, Password string
	// CAFile, CertFile and KeyFile configure TLS (SSL, SASL_SSL).
	CAFile, CertFile, KeyFile string
}

// Opts returns the franz-go options for c.
func (c Config) Opts() ([]kgo.Opt, error) {
	proto := c.EffectiveProtocol()
	var opts []kgo.Opt
	switch proto {
	case "PLAINTEXT", "SSL":
		if c.Username != "" {
			return nil, fmt.Errorf("security protocol %s takes no username (use SASL_PLAINTEXT or SASL_SSL)", proto)
		}
	case "SASL_PLAINTEXT", "SASL_SSL":
		if c.Username == "" || c.Password == "" {
			return nil, fmt.Errorf("security protocol %s needs a username and a password", proto)
		}
		mech := strings.ToUpper(c.Mechanism)
		switch mech {
		case "", "SCRAM-SHA-512":
			opts = append(opts, kgo.SASL(scram.Auth{User: c.Username, Pass: c.Password}.AsSha512Mechanism()))
		case "SCRAM-SHA-256":
			opts = append(opts, kgo.SASL(scram.Auth{User: c.Username, Pass: c.Password}.AsSha256Mechanism()))
		case "PLAIN":
			opts = append(opts, kgo.SASL(plain.Auth{User: c.Username, Pass: c.Password}.AsMechanism()))
		default:
			return nil, fmt.Errorf("SASL mechanism %q: want SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN", c.Mechanism)
		}
	default:
		return nil, fmt.Errorf("security protocol %q: want PLAINTEXT, SASL_PLAINTEXT, SSL or SASL_SSL", c.Protocol)
	}
	if strings.HasSuffix(proto, "SSL") {
		tc, err := c.tls()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	return opts, nil
}

// Dial dials one connection (a kgo.Dialer's signature).
type Dial func(ctx context.Context, network, address string) (net.Conn, error)

// OptsVia are Opts with every connection dialed by dial (a fault layer's
// link, say), TLS on top of it when the protocol asks for TLS: franz-go
// takes either a dialer or a TLS configuration, so the dialer does both.
func (c Config) OptsVia(dial Dial) ([]kgo.Opt, error) {
	sec, err := Config{Protocol: strings.Replace(c.EffectiveProtocol(), "SSL", "PLAINTEXT", 1), Mechanism: c.Mechanism,
		Username: c.Username, Password: c.Password}.Opts()
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(c.EffectiveProtocol(), "SSL") {
		return append(sec, kgo.Dialer(dial)), nil
	}
	tc, err := c.tls()
	if err != nil {
		return nil, err
	}
	return append(sec, kgo.Dialer(func(ctx context.Context, network, address string) (net.Conn, error) {
		conn, err := dial(ctx, network, address)
		if err != nil {
			return nil, err
		}
		cfg := tc.Clone()
		if host, _, err := net.SplitHostPort(address); err == nil {
			cfg.ServerName = host
		}
		t := tls.Client(conn, cfg)
		if err := t.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, err
		}
		return t, nil
	})), nil
}

// JavaProperties are c as a Java Kafka client takes it (MirrorMaker 2,
// Kafka's tools): security.protocol, sasl.mechanism, sasl.jaas.config and
// the trust store, each key after prefix (a cluster's alias and a dot, or
// ""). The password is in sasl.jaas.config: write them into a file only
// its owner reads.
func (c Config) JavaProperties(prefix string) ([][2]string, error) {
	// Checked as Opts checks it; the files are the Java client's to read.
	if _, err := (Config{Protocol: c.Protocol, Mechanism: c.Mechanism, Username: c.Username, Password: c.Password}).Opts(); err != nil {
		return nil, err
	}
	proto := c.EffectiveProtocol()
	out := [][2]string{{prefix + "security.protocol", proto}}
	if strings.HasPrefix(proto, "SASL_") {
		mech := strings.ToUpper(cmp.Or(c.Mechanism, "SCRAM-SHA-512"))
		module := "org.apache.kafka.common.security.scram.ScramLoginModule"
		if mech == "PLAIN" {
			module = "org.apache.kafka.common.security.plain.PlainLoginModule"
		}
		quote := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
		out = append(out, [2]string{prefix + "sasl.mechanism", mech},
			[2]string{prefix + "sasl.jaas.config", fmt.Sprintf(`%s required username="%s" password="%s";`, module, quote.Replace(c.Username), quote.Replace(c.Password))})
	}
	if strings.HasSuffix(proto, "SSL") && c.CAFile != "" {
		out = append(out, [2]string{prefix + "ssl.truststore.type", "PEM"}, [2]string{prefix + "ssl.truststore.location", c.CAFile})
	}
	if strings.HasSuffix(proto, "SSL") && c.CertFile != "" {
		return nil, errors.New("a Java client's TLS certificate: give it in a PEM keystore (not supported here)")
	}
	return out, nil
}

// EffectiveProtocol is the protocol c speaks, upper case: Protocol, or
// when unset SASL_PLAINTEXT with a username (ts_salkafka's behaviour),
// else PLAINTEXT.
func (c Config) EffectiveProtocol() string {
	return strings.ToUpper(cmp.Or(c.Protocol, c.defaultProtocol()))
}

func (c Config) defaultProtocol() string {
	if c.Username != "" {
		return "SASL_PLAINTEXT"
	}
	return "PLAINTEXT"
}

func (c Config) tls() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("TLS CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TLS CA %s: no certificate found", c.CAFile)
		}
		tc.RootCAs = pool
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return nil, errors.New("TLS: give both a certificate and its key, or neither")
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("TLS certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// Secret reads a secret given inline or, with a "@" prefix, from a file
// (trailing newline dropped), so that secrets need not be on command lines.
func Secret(v string) (string, error) {
	if !strings.HasPrefix(v, "@") {
		return v, nil
	}
	b, err := os.ReadFile(v[1:])
	if err != nil {
		return "", fmt.Errorf("secret file: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}
