package kafkasec

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFlags: the flags give the configuration the producer takes, the
// password read from a file; what cannot authenticate is refused without
// showing the password.
func TestFlags(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("s3cret\n"), 0o600)
	cases := []struct {
		args []string
		want Config
		err  string
	}{
		{nil, Config{Mechanism: "SCRAM-SHA-512"}, ""},
		{[]string{"--username", "u", "--password", "@" + pw}, Config{Mechanism: "SCRAM-SHA-512", Username: "u", Password: "s3cret"}, ""},
		{[]string{"--username", "u"}, Config{}, "--username and --password go together"},
		{[]string{"--username", "u", "--password", "p", "--security-protocol", "SSL"}, Config{}, "takes no username"},
		{[]string{"--username", "u", "--password", "p", "--sasl-mechanism", "GSSAPI"}, Config{}, `SASL mechanism "GSSAPI"`},
		{[]string{"--username", "u", "--password", "@/nonexistent"}, Config{}, "secret file"},
	}
	for _, c := range cases {
		t.Setenv("LSST_KAFKA_SECURITY_MECHANISM", "")
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		f := AddFlags(fs)
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		got, err := f.Config()
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%v: error %v, want %q", c.args, err, c.err)
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("%v: %+v, %v; want %+v", c.args, got, err, c.want)
		case err != nil && strings.Contains(err.Error(), "s3cret"):
			t.Errorf("%v: the error shows the password", c.args)
		}
	}
}
