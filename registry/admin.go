package registry

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/sr"
)

// Admin runs kafkaefd-style registry commands against any Confluent
// compatible registry (this one or Confluent's own), with franz-go's
// client, writing what a person reads to w.
type Admin struct {
	Client *sr.Client
	Out    io.Writer
}

// NewAdmin connects an Admin to url.
func NewAdmin(url string, out io.Writer) (*Admin, error) {
	cl, err := sr.NewClient(sr.URLs(url))
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", url, err)
	}
	return &Admin{Client: cl, Out: out}, nil
}

// List prints the subjects, with their versions and compatibility levels
// when asked.
func (a *Admin) List(ctx context.Context, versions, compatibility bool) error {
	subjects, err := a.Client.Subjects(ctx)
	if err != nil {
		return err
	}
	for _, s := range subjects {
		line := s
		if versions {
			vs, err := a.Client.SubjectVersions(ctx, s)
			if err != nil {
				return err
			}
			line += fmt.Sprintf("  versions %v", vs)
		}
		if compatibility {
			line += "  " + a.level(ctx, s)
		}
		fmt.Fprintln(a.Out, line)
	}
	return nil
}

func (a *Admin) level(ctx context.Context, subject string) string {
	res := a.Client.Compatibility(sr.WithParams(ctx, sr.DefaultToGlobal), subject)
	if len(res) == 0 || res[0].Err != nil {
		return "compatibility ?"
	}
	return "compatibility " + res[0].Level.String()
}

// Show prints one version (0: the latest) of a subject's schema.
func (a *Admin) Show(ctx context.Context, subject string, version int) error {
	if version == 0 {
		version = -1
	}
	ss, err := a.Client.SchemaByVersion(ctx, subject, version)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.Out, "subject %s version %d id %d\n%s\n", ss.Subject, ss.Version, ss.ID, ss.Schema.Schema)
	return nil
}

// Test says whether the schema in file could be registered under subject
// (against version, 0: the latest), with the registry's reasons.
func (a *Admin) Test(ctx context.Context, subject, file string, version int) (bool, error) {
	schema, err := os.ReadFile(file)
	if err != nil {
		return false, err
	}
	if version == 0 {
		version = -1
	}
	res, err := a.Client.CheckCompatibility(sr.WithParams(ctx, sr.Verbose), subject, version, sr.Schema{Schema: string(schema)})
	if err != nil {
		return false, err
	}
	if res.Is {
		fmt.Fprintf(a.Out, "%s: compatible with %s\n", file, subject)
	} else {
		fmt.Fprintf(a.Out, "%s: NOT compatible with %s\n", file, subject)
		for _, m := range res.Messages {
			fmt.Fprintln(a.Out, "  "+m)
		}
	}
	return res.Is, nil
}

// Upload registers the schema in file under subject.
func (a *Admin) Upload(ctx context.Context, subject, file string) error {
	schema, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	id, err := a.Client.RegisterSchema(ctx, subject, sr.Schema{Schema: string(schema)}, -1, -1)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.Out, "registered %s under %s with id %d\n", file, subject, id)
	return nil
}

// Delete deletes a subject, or one version of it (soft unless permanent).
func (a *Admin) Delete(ctx context.Context, subject string, version int, permanent bool) error {
	how := sr.SoftDelete
	if permanent {
		how = sr.HardDelete
	}
	if version > 0 {
		if err := a.Client.DeleteSchema(ctx, subject, version, how); err != nil {
			return err
		}
		fmt.Fprintf(a.Out, "deleted %s version %d\n", subject, version)
		return nil
	}
	vs, err := a.Client.DeleteSubject(ctx, subject, how)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.Out, "deleted %s versions %v\n", subject, vs)
	return nil
}

// Compat prints, or with level sets, the compatibility of subject (""
// for the global level).
func (a *Admin) Compat(ctx context.Context, subject, level string) error {
	var subjects []string
	if subject != "" {
		subjects = []string{subject}
	}
	if level != "" {
		var l sr.CompatibilityLevel
		if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
			return fmt.Errorf("compatibility level %q: %w", level, err)
		}
		for _, r := range a.Client.SetCompatibility(ctx, sr.SetCompatibility{Level: l}, subjects...) {
			if r.Err != nil {
				return r.Err
			}
		}
	}
	for _, r := range a.Client.Compatibility(sr.WithParams(ctx, sr.DefaultToGlobal), subjects...) {
		if r.Err != nil {
			return r.Err
		}
		name := r.Subject
		if name == "" {
			name = "(global)"
		}
		fmt.Fprintf(a.Out, "%s %s\n", name, r.Level)
	}
	return nil
}
