// Package standsec makes a secured stand's secrets for one run: a
// certificate authority and a certificate for loopback, and a
// SCRAM-SHA-512 Kafka user per role with a random password and the ACLs
// Sasquatch's KafkaUsers grant that role (phalanx's strimzi-kafka,
// control-system, rest-proxy and schema-registry charts), and a password
// for each registry and InfluxDB user. Secrets are made fresh for every
// run so that none outlives it or can be found in the repository; the
// PEM files are written mode 0600 into the directory given, and nothing
// here logs or formats a secret into an error.
package standsec

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/lsst-ts/teststand/internal/kafkasec"
)

// Role is what a Kafka user is for, named as Sasquatch names its
// KafkaUser.
type Role string

const (
	// Admin is the superuser (Sasquatch's kafka-admin): the harness's own
	// observers and its topic administration.
	Admin Role = "kafka-admin"
	// Producer writes SAL topics (the SAL Kafka producer, Kafka-era
	// writers, SAL transforms): ts-salkafka.
	Producer Role = "ts-salkafka"
	// Replicator reads a source and writes a target (MirrorMaker 2, the
	// replicator, heartbeats).
	Replicator Role = "replicator"
	// Sink reads topics into the EFD (Telegraf, the sink): read only.
	Sink Role = "telegraf"
	// Registry is the schema registry's user of its storage topic.
	Registry Role = "sasquatch-schema-registry"
	// RestProxy writes through the REST proxy.
	RestProxy Role = "rest-proxy"
)

// Roles are the Kafka users of a secured site, in a fixed order.
var Roles = []Role{Admin, Producer, Replicator, Sink, Registry, RestProxy}

// ACL is one access control entry a KafkaUser grants (always allow).
type ACL struct {
	// Resource is topic, group or cluster.
	Resource string
	// Name is the resource's name ("*" for all), a prefix when Prefix.
	Name   string
	Prefix bool
	// Ops are Kafka operations: All, Read, Write, Create, Describe,
	// DescribeConfigs.
	Ops []string
}

// ResourceType is the ACL's resource as Kafka's protocol names it.
func (a ACL) ResourceType() kmsg.ACLResourceType {
	switch a.Resource {
	case "topic":
		return kmsg.ACLResourceTypeTopic
	case "group":
		return kmsg.ACLResourceTypeGroup
	case "cluster":
		return kmsg.ACLResourceTypeCluster
	}
	return kmsg.ACLResourceTypeUnknown
}

// Pattern is the ACL's resource pattern type: prefixed or literal.
func (a ACL) Pattern() kmsg.ACLResourcePatternType {
	if a.Prefix {
		return kmsg.ACLResourcePatternTypePrefixed
	}
	return kmsg.ACLResourcePatternTypeLiteral
}

// Operations are the ACL's operations as Kafka's protocol names them.
func (a ACL) Operations() []kmsg.ACLOperation {
	out := make([]kmsg.ACLOperation, 0, len(a.Ops))
	for _, op := range a.Ops {
		out = append(out, aclOps[op])
	}
	return out
}

var aclOps = map[string]kmsg.ACLOperation{
	"All": kmsg.ACLOperationAll, "Read": kmsg.ACLOperationRead, "Write": kmsg.ACLOperationWrite,
	"Create": kmsg.ACLOperationCreate, "Describe": kmsg.ACLOperationDescribe, "DescribeConfigs": kmsg.ACLOperationDescribeConfigs,
}

// User is one Kafka user.
type User struct {
	Role     Role
	Name     string
	Password string
	// Super users bypass ACLs.
	Super bool
	ACLs  []ACL
}

// grants are the ACLs of each role's KafkaUser; registryTopics are the
// storage topics a site's registries read and write.
func grants(role Role, registryTopics []string) []ACL {
	anyGroup := ACL{Resource: "group", Name: "*", Ops: []string{"All"}}
	switch role {
	case Producer:
		// control-system's ts-salkafka.
		return []ACL{anyGroup,
			{Resource: "topic", Name: "lsst.sal", Prefix: true, Ops: []string{"All"}},
			{Resource: "topic", Name: "lsst.s3", Prefix: true, Ops: []string{"All"}},
			{Resource: "cluster", Name: "kafka-cluster", Ops: []string{"Describe", "DescribeConfigs"}}}
	case Replicator:
		return []ACL{anyGroup, {Resource: "topic", Name: "*", Ops: []string{"All"}}}
	case Sink:
		return []ACL{anyGroup, {Resource: "topic", Name: "*", Ops: []string{"Read"}}}
	case RestProxy:
		return []ACL{anyGroup, {Resource: "topic", Name: "lsst.", Prefix: true, Ops: []string{"All"}}}
	case Registry:
		var out []ACL
		for _, t := range registryTopics {
			out = append(out, ACL{Resource: "topic", Name: t, Ops: []string{"Read", "Write", "DescribeConfigs"}})
		}
		return append(out, ACL{Resource: "group", Name: "schema-registry", Ops: []string{"All"}},
			ACL{Resource: "topic", Name: "__consumer_offsets", Ops: []string{"Describe"}})
	}
	return nil
}

// Secrets are one run's secrets.
type Secrets struct {
	// CAFile, CertFile and KeyFile are the PEM files: the authority, and
	// the certificate (for 127.0.0.1 and localhost) every server of the
	// stand presents, with its key.
	CAFile, CertFile, KeyFile string
	pool                      *x509.CertPool
	cert                      tls.Certificate
	users                     map[Role]*User
	// RegistryUser and RegistryPassword are the registries' basic auth;
	// InfluxUser and InfluxPassword the InfluxDB's admin.
	RegistryUser, RegistryPassword string
	InfluxUser, InfluxPassword     string
	// BrokerPassword is what a real Kafka's nodes authenticate to each
	// other and to their controllers with (SASL/PLAIN as BrokerUser, a
	// superuser), on listeners no component is given.
	BrokerPassword string
}

// BrokerUser is the name a real Kafka's nodes authenticate to each other
// as.
const BrokerUser = "kafka-broker"

// New makes a run's secrets, writing the PEM files into dir (created
// 0700). registryTopics are the storage topics the registry user may use.
func New(dir string, registryTopics []string) (*Secrets, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("standsec: %w", err)
	}
	s := &Secrets{CAFile: filepath.Join(dir, "ca.pem"), CertFile: filepath.Join(dir, "server.pem"), KeyFile: filepath.Join(dir, "server-key.pem"),
		users: map[Role]*User{}, RegistryUser: "teststand", InfluxUser: "teststand"}
	if err := s.makeCerts(); err != nil {
		return nil, err
	}
	for _, r := range Roles {
		p, err := password()
		if err != nil {
			return nil, err
		}
		s.users[r] = &User{Role: r, Name: string(r), Password: p, Super: r == Admin, ACLs: grants(r, registryTopics)}
	}
	var err error
	if s.RegistryPassword, err = password(); err != nil {
		return nil, err
	}
	if s.InfluxPassword, err = password(); err != nil {
		return nil, err
	}
	if s.BrokerPassword, err = password(); err != nil {
		return nil, err
	}
	return s, nil
}

// password is 24 random bytes, base64url: a SCRAM password no test could
// guess and a grep finds only where it leaked.
func password() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("standsec: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// makeCerts makes the authority and the loopback certificate, valid for
// a day, and writes them.
func (s *Secrets) makeCerts() error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("standsec: CA key: %w", err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "teststand run CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("standsec: CA: %w", err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("standsec: key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("standsec: certificate: %w", err)
	}
	// PKCS #8: the one form of an unencrypted key Kafka's PEM keystore reads.
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("standsec: key: %w", err)
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	for f, b := range map[string][]byte{s.CAFile: caPEM, s.CertFile: certPEM, s.KeyFile: keyPEM} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			return fmt.Errorf("standsec: %w", err)
		}
	}
	if s.cert, err = tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return fmt.Errorf("standsec: %w", err)
	}
	s.pool = x509.NewCertPool()
	s.pool.AppendCertsFromPEM(caPEM)
	return nil
}

// ServerTLS is the configuration every TLS server of the stand listens
// with.
func (s *Secrets) ServerTLS() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{s.cert}, MinVersion: tls.VersionTLS12}
}

// ClientTLS trusts the run's authority only.
func (s *Secrets) ClientTLS() *tls.Config {
	return &tls.Config{RootCAs: s.pool, MinVersion: tls.VersionTLS12}
}

// User is the Kafka user of a role.
func (s *Secrets) User(r Role) *User { return s.users[r] }

// Users are every Kafka user, in the order of Roles.
func (s *Secrets) Users() []*User {
	out := make([]*User, 0, len(Roles))
	for _, r := range Roles {
		out = append(out, s.users[r])
	}
	return out
}

// Kafka is the client security of a role: SASL_SSL with SCRAM-SHA-512,
// trusting the run's authority.
func (s *Secrets) Kafka(r Role) kafkasec.Config {
	u := s.users[r]
	return kafkasec.Config{Protocol: "SASL_SSL", Mechanism: "SCRAM-SHA-512", Username: u.Name, Password: u.Password, CAFile: s.CAFile}
}

// KafkaOn is the client security of a role at a site that speaks TLS or
// not.
func (s *Secrets) KafkaOn(r Role, withTLS bool) kafkasec.Config { return onSite(s.Kafka(r), withTLS) }

// Opts are the franz-go options of a client configuration, the protocol
// SASL_PLAINTEXT when the stand's Kafka speaks no TLS.
func Opts(c kafkasec.Config, withTLS bool) ([]kgo.Opt, error) {
	return onSite(c, withTLS).Opts()
}

// OptsVia is Opts with every connection dialed by dial.
func OptsVia(c kafkasec.Config, withTLS bool, dial kafkasec.Dial) ([]kgo.Opt, error) {
	return onSite(c, withTLS).OptsVia(dial)
}

// onSite is c as a site that speaks no TLS takes it.
func onSite(c kafkasec.Config, withTLS bool) kafkasec.Config {
	if !withTLS {
		c.Protocol, c.CAFile = "SASL_PLAINTEXT", ""
	}
	return c
}

// Values are every secret of the run (passwords and the private key's
// PEM body), for a test to look for in what the run wrote.
func (s *Secrets) Values() []string {
	var out []string
	for _, u := range s.Users() {
		out = append(out, u.Password)
	}
	out = append(out, s.RegistryPassword, s.InfluxPassword, s.BrokerPassword)
	if b, err := os.ReadFile(s.KeyFile); err == nil {
		if blk, _ := pem.Decode(b); blk != nil {
			out = append(out, base64.StdEncoding.EncodeToString(blk.Bytes)[:40])
		}
	}
	return slices.Clip(out)
}
