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
	proto := strings.ToUpper(cmp.Or(c.Protocol, c.defaultProtocol()))
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
	sec, err := Config{Protocol: strings.Replace(strings.ToUpper(cmp.Or(c.Protocol, c.defaultProtocol())), "SSL", "PLAINTEXT", 1), Mechanism: c.Mechanism,
		Username: c.Username, Password: c.Password}.Opts()
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(strings.ToUpper(cmp.Or(c.Protocol, c.defaultProtocol())), "SSL") {
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
