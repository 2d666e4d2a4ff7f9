package kafkaproc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/lsst-ts/teststand/harness/standsec"
	"github.com/lsst-ts/teststand/harness/wait"
)

// Security secures a cluster as Sasquatch's Strimzi secures its clusters'
// external listeners: every client listener takes SASL/SCRAM-SHA-512
// only, over TLS with the given certificate when TLS, and the brokers
// enforce ACLs (KRaft's StandardAuthorizer, nothing allowed that no ACL
// grants). Users are created with their SCRAM credentials and ACLs once
// the cluster runs, before Start returns.
//
// The nodes talk to each other and to their controllers on listeners of
// their own (INTERNAL and CONTROLLER, SASL/PLAIN as standsec.BrokerUser,
// a superuser), which are never a client's seeds: no listener of a
// secured cluster answers a client that does not authenticate.
type Security struct {
	// TLS makes the client listeners SASL_SSL; else SASL_PLAINTEXT.
	TLS bool
	// CertFile and KeyFile are the certificate the listeners present and
	// its key (PEM, PKCS #8), with TLS.
	CertFile, KeyFile string
	// BrokerPassword is the nodes' own password (standsec.BrokerUser's).
	BrokerPassword string
	// Users are the cluster's SCRAM users with their ACLs; a Super user
	// bypasses ACLs.
	Users []*standsec.User
}

func (s *Security) protocol() string {
	if s.TLS {
		return "SASL_SSL"
	}
	return "SASL_PLAINTEXT"
}

// properties are a node's security settings: clients listeners by SCRAM,
// the nodes' own by PLAIN, the authorizer and its superusers. The PEM
// keystore (key and certificate in one file) is written into dir.
func (s *Security) properties(dir string, clientListeners []string) (string, error) {
	if s.BrokerPassword == "" {
		return "", errors.New("kafka: a secured cluster needs its brokers' password")
	}
	supers := []string{"User:" + standsec.BrokerUser}
	for _, u := range s.Users {
		if u.Super {
			supers = append(supers, "User:"+u.Name)
		}
	}
	plainJAAS := fmt.Sprintf(`org.apache.kafka.common.security.plain.PlainLoginModule required username="%s" password="%s" user_%s="%s";`,
		standsec.BrokerUser, s.BrokerPassword, standsec.BrokerUser, s.BrokerPassword)
	var b strings.Builder
	fmt.Fprintf(&b, `authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=%s
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.controller.protocol=PLAIN
sasl.mechanism.inter.broker.protocol=PLAIN
`, strings.Join(supers, ";"))
	for _, l := range []string{"controller", "internal"} {
		fmt.Fprintf(&b, "listener.name.%s.sasl.enabled.mechanisms=PLAIN\nlistener.name.%s.plain.sasl.jaas.config=%s\n", l, l, plainJAAS)
	}
	var keystore string
	if s.TLS {
		key, err := os.ReadFile(s.KeyFile)
		if err != nil {
			return "", fmt.Errorf("kafka: TLS key: %w", err)
		}
		cert, err := os.ReadFile(s.CertFile)
		if err != nil {
			return "", fmt.Errorf("kafka: TLS certificate: %w", err)
		}
		keystore = filepath.Join(dir, "keystore.pem")
		if err := os.WriteFile(keystore, append(key, cert...), 0o600); err != nil {
			return "", err
		}
	}
	for _, l := range clientListeners {
		l = strings.ToLower(l)
		fmt.Fprintf(&b, "listener.name.%s.sasl.enabled.mechanisms=SCRAM-SHA-512\nlistener.name.%s.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;\n", l, l)
		if keystore != "" {
			fmt.Fprintf(&b, "listener.name.%s.ssl.keystore.type=PEM\nlistener.name.%s.ssl.keystore.location=%s\n", l, l, keystore)
		}
	}
	return b.String(), nil
}

// brokerOpts are a client's options as the brokers' own user, for the
// inter-broker listeners.
func (s *Security) brokerOpts() []kgo.Opt {
	return []kgo.Opt{kgo.SASL(plain.Auth{User: standsec.BrokerUser, Pass: s.BrokerPassword}.AsMechanism())}
}

func listenerNames(ls []Listener) []string {
	out := make([]string, 0, len(ls))
	for _, l := range ls {
		out = append(out, l.Name)
	}
	return out
}

// secure creates the users' SCRAM credentials and ACLs through the
// inter-broker listeners, and waits until every broker knows them all: a
// component started next is neither refused its login nor a topic its
// user may use because a broker had not caught up with the controller.
func (c *Cluster) secure(ctx context.Context) error {
	sec := c.cfg.Security
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.internal...)}, sec.brokerOpts()...)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	var upserts []kadm.UpsertSCRAM
	for _, u := range sec.Users {
		upserts = append(upserts, kadm.UpsertSCRAM{User: u.Name, Mechanism: kadm.ScramSha512, Iterations: 4096, Password: u.Password})
	}
	altered, err := adm.AlterUserSCRAMs(ctx, nil, upserts)
	if err == nil {
		err = altered.Error()
	}
	if err != nil {
		return fmt.Errorf("SCRAM users: %w", err)
	}
	want := 0
	for _, u := range sec.Users {
		for _, a := range u.ACLs {
			b := kadm.NewACLs().Allow("User:" + u.Name).AllowHosts("*").
				Operations(a.Operations()...).ResourcePatternType(a.Pattern())
			switch a.ResourceType() {
			case kmsg.ACLResourceTypeTopic:
				b.Topics(a.Name)
			case kmsg.ACLResourceTypeGroup:
				b.Groups(a.Name)
			case kmsg.ACLResourceTypeCluster:
				b.Clusters()
			default:
				return fmt.Errorf("user %s: ACL on resource %q", u.Name, a.Resource)
			}
			res, err := adm.CreateACLs(ctx, b)
			if err != nil {
				return fmt.Errorf("user %s: ACLs: %w", u.Name, err)
			}
			for _, r := range res {
				if r.Err != nil {
					return fmt.Errorf("user %s: ACL %s %s: %w", u.Name, a.Resource, a.Name, r.Err)
				}
			}
			want += len(a.Ops)
		}
	}
	names := make([]string, 0, len(sec.Users))
	for _, u := range sec.Users {
		names = append(names, u.Name)
	}
	slices.Sort(names)
	cond := wait.ForCondition("every broker has the users and their ACLs", func(ctx context.Context) error {
		md, err := adm.BrokerMetadata(ctx)
		if err != nil {
			return err
		}
		for _, b := range md.Brokers {
			if err := brokerKnows(ctx, cl.Broker(int(b.NodeID)), names, want); err != nil {
				return fmt.Errorf("broker %d: %w", b.NodeID, err)
			}
		}
		return nil
	}).WithTimeout(time.Minute)
	cond.Interval = 50 * time.Millisecond
	return cond.WaitUntilReady(ctx)
}

// brokerKnows asks broker b alone for its users and ACLs.
func brokerKnows(ctx context.Context, b *kgo.Broker, users []string, acls int) error {
	sreq := kmsg.NewPtrDescribeUserSCRAMCredentialsRequest()
	sresp, err := sreq.RequestWith(ctx, b)
	if err != nil {
		return err
	}
	var have []string
	for _, r := range sresp.Results {
		if r.ErrorCode == 0 && len(r.CredentialInfos) > 0 {
			have = append(have, r.User)
		}
	}
	slices.Sort(have)
	if !slices.Equal(have, users) {
		return fmt.Errorf("SCRAM users %v, want %v", have, users)
	}
	areq := kmsg.NewPtrDescribeACLsRequest()
	areq.ResourceType = kmsg.ACLResourceTypeAny
	areq.ResourcePatternType = kmsg.ACLResourcePatternTypeAny
	areq.Operation = kmsg.ACLOperationAny
	areq.PermissionType = kmsg.ACLPermissionTypeAny
	aresp, err := areq.RequestWith(ctx, b)
	if err != nil {
		return err
	}
	n := 0
	for _, r := range aresp.Resources {
		n += len(r.ACLs)
	}
	if n != acls {
		return fmt.Errorf("%d ACLs, want %d", n, acls)
	}
	return nil
}
