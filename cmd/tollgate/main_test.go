package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tollgate-billing/tollgate/internal/config"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// parse runs the config flags of a command over args and loads the config.
func parse(t *testing.T, args []string, lookup func(string) (string, bool)) (config.Config, error) {
	t.Helper()
	fs, cf := newConfigFlagSet("test", "", io.Discard)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return loadConfig(cf, lookup)
}

func TestConfigPrecedence(t *testing.T) {
	file := writeFile(t, "tollgate.yaml", `
data_dir: /from/file
http: {addr: "127.0.0.1:1001"}
sbi: {addr: "127.0.0.1:1002"}
log: {level: warn}
store: {dsn: "postgres://file@db/x"}
`)
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(c config.Config) string // returns a problem or ""
	}{
		{"defaults only", nil, nil, func(c config.Config) string {
			if c.DataDir != config.DefaultDataDir || c.HTTP.Addr != config.DefaultHTTPAddr || c.Store.Driver != "sqlite" {
				return "not defaults"
			}
			return ""
		}},
		{"file over defaults", []string{"--config", file}, nil, func(c config.Config) string {
			if c.DataDir != "/from/file" || c.HTTP.Addr != "127.0.0.1:1001" || c.Log.Level != "warn" ||
				c.Store.Driver != "postgres" || c.Log.Format != "text" {
				return "file values not applied"
			}
			return ""
		}},
		{"TOLLGATE_CONFIG names the file", nil, map[string]string{"TOLLGATE_CONFIG": file}, func(c config.Config) string {
			if c.DataDir != "/from/file" {
				return "TOLLGATE_CONFIG ignored"
			}
			return ""
		}},
		{"--config beats TOLLGATE_CONFIG", []string{"--config", file},
			map[string]string{"TOLLGATE_CONFIG": "/does/not/exist.yaml"}, func(c config.Config) string {
				if c.DataDir != "/from/file" {
					return "wrong file"
				}
				return ""
			}},
		{"env over file", []string{"--config", file},
			map[string]string{"TOLLGATE_HTTP_ADDR": "127.0.0.1:2001", "TOLLGATE_DATA_DIR": "/from/env"}, func(c config.Config) string {
				if c.HTTP.Addr != "127.0.0.1:2001" || c.DataDir != "/from/env" || c.SBI.Addr != "127.0.0.1:1002" {
					return "env did not override the file"
				}
				return ""
			}},
		{"flag over env over file", []string{"--config", file, "--http-addr", "127.0.0.1:3001", "--log-level=debug"},
			map[string]string{"TOLLGATE_HTTP_ADDR": "127.0.0.1:2001", "TOLLGATE_LOG_LEVEL": "error", "TOLLGATE_SBI_ADDR": "127.0.0.1:2002"},
			func(c config.Config) string {
				if c.HTTP.Addr != "127.0.0.1:3001" || c.Log.Level != "debug" || c.SBI.Addr != "127.0.0.1:2002" {
					return "flags did not override env"
				}
				return ""
			}},
		{"last flag wins", []string{"--data-dir", "/a", "--data-dir", "/b"}, nil, func(c config.Config) string {
			if c.DataDir != "/b" {
				return "last flag did not win"
			}
			return ""
		}},
		{"derived values follow the final data dir", []string{"--data-dir", "/flag/dir"},
			map[string]string{"TOLLGATE_DATA_DIR": "/env/dir"}, func(c config.Config) string {
				if c.Store.DSN != filepath.Join("/flag/dir", "tollgate.db") || c.NATS.Embedded.StoreDir != filepath.Join("/flag/dir", "nats") {
					return "derived paths not under the flag's data dir"
				}
				return ""
			}},
		{"every flag", []string{"--data-dir", "/d", "--http-addr", "127.0.0.1:1", "--sbi-addr", "127.0.0.1:2",
			"--log-level", "error", "--log-format", "json", "--nats-url", "nats://n:4222", "--store-driver", "postgres",
			"--store-dsn", "host=db", "--store-migrate=false", "--plans-dir", "/p", "--plans-reload-interval", "1m"}, nil,
			func(c config.Config) string {
				want := config.Default()
				want.DataDir, want.HTTP.Addr, want.SBI.Addr = "/d", "127.0.0.1:1", "127.0.0.1:2"
				want.Log = config.Log{Level: "error", Format: "json"}
				want.NATS.URL = "nats://n:4222"
				want.Store = config.Store{Driver: "postgres", DSN: "host=db", Migrate: false}
				want.Rating = config.Rating{PlansDir: "/p", ReloadInterval: config.Duration(time.Minute)}
				want.CHF.CDRDir = filepath.Join("/d", "cdr", "chf")
				if !reflect.DeepEqual(c, want) {
					return "got " + c.String()
				}
				return ""
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parse(t, tt.args, env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if p := tt.check(c); p != "" {
				t.Error(p)
			}
		})
	}
}

func TestConfigAllProblems(t *testing.T) {
	file := writeFile(t, "bad.yaml", "log:\n  level: loud\nhttp:\n  adr: x\n")
	_, err := parse(t, []string{"--config", file, "--sbi-addr", "nope"}, env(map[string]string{"TOLLGATE_STORE_MIGRATE": "perhaps"}))
	for _, w := range []string{
		file + `:4: unknown key "http.adr"`,
		`TOLLGATE_STORE_MIGRATE: invalid boolean "perhaps"`,
		`log.level: must be one of`,
		`sbi.addr: missing port in address "nope"`,
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v lacks %q", err, w)
		}
	}
	if n := len(flatten(err)); n != 4 {
		t.Errorf("%d problems, want 4: %v", n, err)
	}
}

func TestBadFlagValue(t *testing.T) {
	fs, _ := newConfigFlagSet("test", "", io.Discard)
	if err := fs.Parse([]string{"--plans-reload-interval", "soon"}); err == nil || !strings.Contains(err.Error(), "plans-reload-interval") {
		t.Errorf("Parse = %v", err)
	}
	if err := fs.Parse([]string{"-h"}); err != flag.ErrHelp {
		t.Errorf("-h = %v", err)
	}
}

func TestCommands(t *testing.T) {
	bad := writeFile(t, "bad.yaml", "data_dir: x\nhtpp:\n  addr: 1\n")
	good := writeFile(t, "good.yaml", "store:\n  dsn: postgres://tollgate:hunter2@db/tollgate\n")
	tests := []struct {
		args      []string
		code      int
		stdout    string
		stderr    string
		notStdout string
	}{
		{nil, exitUsage, "", "Usage:", ""},
		{[]string{"bogus"}, exitUsage, "", `unknown command "bogus"`, ""},
		{[]string{"help"}, exitOK, "TOLLGATE_HTTP_ADDR", "", ""},
		{[]string{"--help"}, exitOK, "tollgate serve", "", ""},
		{[]string{"help", "serve"}, exitOK, "--http-addr ADDR", "", ""},
		{[]string{"help", "config"}, exitOK, "--store-dsn DSN", "", ""},
		{[]string{"help", "nope"}, exitUsage, "", "unknown command", ""},
		{[]string{"version"}, exitOK, "tollgate ", "", ""},
		{[]string{"version", "x"}, exitUsage, "", "unexpected argument", ""},
		{[]string{"config"}, exitUsage, "", "tollgate config check", ""},
		{[]string{"config", "check", "--config", bad}, exitError, "", bad + `:2: unknown key "htpp" (did you mean "http"?)`, ""},
		{[]string{"config", "check", "--config", good}, exitOK, "dsn: postgres://tollgate:xxxxx@db/tollgate", "", "hunter2"},
		{[]string{"config", "check", "--http-addr", "x", "--sbi-addr", "y"}, exitError, "", "2 problems", ""},
		{[]string{"config", "check", "stray"}, exitUsage, "", `unexpected argument "stray"`, ""},
		{[]string{"serve", "--http-addr", "nope"}, exitError, "", `http.addr: missing port`, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr, env(nil))
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, &stdout, &stderr)
			}
			if !strings.Contains(stdout.String(), tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, &stdout)
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, &stderr)
			}
			if tt.notStdout != "" && strings.Contains(stdout.String(), tt.notStdout) {
				t.Errorf("stdout contains %q", tt.notStdout)
			}
		})
	}
	// The printed configuration is itself a valid config file.
	var stdout bytes.Buffer
	run([]string{"config", "check", "--data-dir", "/srv/tg"}, &stdout, io.Discard, env(nil))
	printed := writeFile(t, "printed.yaml", stdout.String())
	if code := run([]string{"config", "check", "--config", printed}, io.Discard, io.Discard, env(nil)); code != exitOK {
		t.Errorf("printed config does not check: exit %d\n%s", code, &stdout)
	}
}

// buildBinary compiles tollgate into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	bin := filepath.Join(t.TempDir(), "tollgate")
	cmd := exec.Command(goBin, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestEndToEnd builds the binary, serves, checks /healthz, and shuts down
// with SIGTERM; then checks `config check` on a bad file.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)

	t.Run("serve and SIGTERM", func(t *testing.T) {
		dataDir := filepath.Join(t.TempDir(), "data")
		addr := freePort(t)
		var stderr bytes.Buffer
		cmd := exec.Command(bin, "serve", "--data-dir", dataDir, "--http-addr", addr, "--sbi-addr", "127.0.0.1:0")
		cmd.Env = append(os.Environ(), "TOLLGATE_LOG_LEVEL=debug")
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		t.Cleanup(func() {
			if cmd.ProcessState == nil {
				_ = cmd.Process.Kill()
				<-exited
			}
		})

		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					if strings.TrimSpace(string(body)) != `{"status":"ok"}` {
						t.Errorf("/healthz body %q", body)
					}
					break
				}
			}
			select {
			case err := <-exited:
				t.Fatalf("tollgate exited early: %v\n%s", err, &stderr)
			case <-ctx.Done():
				t.Fatalf("/healthz never answered 200\n%s", &stderr)
			case <-time.After(50 * time.Millisecond):
			}
		}

		if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond) // SIGHUP must not kill it
		t0 := time.Now()
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-exited:
			if err != nil {
				t.Fatalf("exit after SIGTERM: %v\n%s", err, &stderr)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no exit within 10s of SIGTERM\n%s", &stderr)
		}
		if d := time.Since(t0); d > 5*time.Second {
			t.Errorf("shutdown took %v", d)
		}
		for _, w := range []string{"tollgate ready", "reload requested", "shutting down", "tollgate stopped"} {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("log lacks %q:\n%s", w, &stderr)
			}
		}
		if _, err := os.Stat(filepath.Join(dataDir, "nats", "jetstream")); err != nil {
			t.Errorf("no JetStream store in the data dir: %v", err)
		}
	})

	t.Run("config check bad file", func(t *testing.T) {
		bad := writeFile(t, "tollgate.yaml", "data_dir: /srv\nhttp:\n  addr: 127.0.0.1:8080\n  read_timeout: 10x\n")
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(bin, "config", "check", "--config", bad)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Fatalf("exit = %v; want code 1\n%s", err, &stderr)
		}
		if want := bad + `:4: http.read_timeout: invalid duration "10x"`; !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, &stderr)
		}
	})
}
