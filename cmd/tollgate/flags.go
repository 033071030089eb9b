package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/tollgate-billing/tollgate/internal/config"
)

// configFlags are the flags every command that reads the configuration takes:
// --config and one flag per config.Setting.
type configFlags struct {
	path string
	set  []flagValue // in command-line order; the last one wins
	args map[string]string
	envs map[string]string
}

type flagValue struct {
	setting config.Setting
	value   string
}

func addConfigFlags(fs *flag.FlagSet) *configFlags {
	cf := &configFlags{
		args: map[string]string{"config": "FILE"},
		envs: map[string]string{"config": "TOLLGATE_CONFIG"},
	}
	fs.StringVar(&cf.path, "config", "", "YAML configuration file")
	for _, s := range config.Settings() {
		if s.Flag == "" {
			continue
		}
		cf.args[s.Flag], cf.envs[s.Flag] = s.Arg, s.Env
		fs.Func(s.Flag, s.Usage, func(v string) error {
			var scratch config.Config // reject bad values at parse time, naming the flag
			if err := s.Apply(&scratch, v); err != nil {
				return err
			}
			cf.set = append(cf.set, flagValue{s, v})
			return nil
		})
	}
	return cf
}

// loadConfig builds the effective configuration. Precedence, lowest first:
// defaults, the file (--config, else TOLLGATE_CONFIG), TOLLGATE_* environment
// variables, flags. The result is resolved and validated. The error lists
// every problem: those in the file, then those found by validation.
func loadConfig(cf *configFlags, lookup func(string) (string, bool)) (config.Config, error) {
	path := cf.path
	if path == "" {
		path, _ = lookup("TOLLGATE_CONFIG")
	}
	cfg := config.Default()
	var errs []error
	if path != "" {
		loaded, err := config.Load(path)
		var pe *config.ParseError
		switch {
		case err == nil:
			cfg = loaded
		case errors.As(err, &pe):
			// Keep going with what did decode so that one run also reports
			// the problems validation finds.
			cfg = loaded
			errs = append(errs, err)
		default:
			return config.Config{}, err // unreadable file
		}
	}
	if err := cfg.ApplyEnv(lookup); err != nil {
		errs = append(errs, err)
	}
	for _, fv := range cf.set {
		if err := fv.setting.Apply(&cfg, fv.value); err != nil {
			errs = append(errs, fmt.Errorf("--%s: %w", fv.setting.Flag, err))
		}
	}
	cfg.Resolve()
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return config.Config{}, errors.Join(errs...)
	}
	return cfg, nil
}

// parseFlags parses args; it returns false with the exit code when the
// command should not go on (-h, or a usage error already reported).
func parseFlags(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "tollgate %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return exitUsage, false
	}
	return 0, true
}

// newConfigFlagSet returns a flag set with the configuration flags and a
// usage message that names each flag's value and environment variable.
func newConfigFlagSet(name, synopsis string, w io.Writer) (*flag.FlagSet, *configFlags) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(w)
	cf := addConfigFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(w, "Usage: tollgate %s [flags]\n\n%s\n\nFlags (each also set by its environment variable):\n", name, synopsis)
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(w, "  --%s %s\n      %s [%s]\n", f.Name, cf.args[f.Name], f.Usage, cf.envs[f.Name])
		})
	}
	return fs, cf
}

// printProblems writes every error joined in err, one per line.
func printProblems(w io.Writer, what string, err error) {
	errs := flatten(err)
	noun := "problem"
	if len(errs) > 1 {
		noun = "problems"
	}
	fmt.Fprintf(w, "tollgate: %s: %d %s:\n", what, len(errs), noun)
	for _, e := range errs {
		fmt.Fprintf(w, "  %s\n", e)
	}
}

func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// envHelp lists the environment variables for help output.
func envHelp() string {
	var b strings.Builder
	fmt.Fprintf(&b, "  %-32s %s\n", "TOLLGATE_CONFIG", "configuration file (as --config)")
	for _, s := range config.Settings() {
		fmt.Fprintf(&b, "  %-32s %s\n", s.Env, s.Key)
	}
	return b.String()
}
