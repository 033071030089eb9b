package config

import (
	"net/url"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Mask replaces secrets in [Config.Redacted].
const Mask = "xxxxx"

// Redacted returns a copy of c with secrets masked: passwords in the store DSN
// (URL or key=value form) and credentials in the NATS URL.
func (c Config) Redacted() Config {
	c.Store.DSN = redactDSN(c.Store.DSN)
	if c.NATS.URL != "" {
		parts := strings.Split(c.NATS.URL, ",")
		for i, p := range parts {
			parts[i] = redactURL(strings.TrimSpace(p), true)
		}
		c.NATS.URL = strings.Join(parts, ",")
	}
	return c
}

// String formats the redacted configuration as YAML, in the form [Load] reads.
func (c Config) String() string {
	b, err := yaml.Marshal(c.Redacted())
	if err != nil {
		return "config: " + err.Error()
	}
	return string(b)
}

var reKVPassword = regexp.MustCompile(`(?i)\b((?:ssl)?password)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)`)

func redactDSN(dsn string) string {
	if strings.Contains(dsn, "://") {
		return redactURL(dsn, false)
	}
	return reKVPassword.ReplaceAllString(dsn, "${1}="+Mask)
}

var secretParams = []string{"password", "sslpassword", "pass", "token", "secret"}

// redactURL masks the password of u and secret query parameters. With
// loneUserIsSecret, a user name without password is masked too: NATS takes a
// token in that position.
func redactURL(s string, loneUserIsSecret bool) string {
	u, err := url.Parse(s)
	if err != nil {
		// Unparseable: mask anything between "://" and "@".
		if i, j := strings.Index(s, "://"), strings.LastIndex(s, "@"); i >= 0 && j > i {
			return s[:i+3] + Mask + s[j:]
		}
		return s
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), Mask)
		} else if loneUserIsSecret {
			u.User = url.User(Mask)
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		changed := false
		for k := range q {
			for _, p := range secretParams {
				if strings.EqualFold(k, p) {
					q.Set(k, Mask)
					changed = true
				}
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}
