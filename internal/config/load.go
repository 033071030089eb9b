package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ParseError is a problem in a configuration file, with its position
// (STYLE habit 8).
type ParseError struct {
	File string // file name as given to Load or Parse
	Line int    // 1-based line, 0 when unknown
	Key  string // dotted key path such as "http.read_timeout", "" when unknown
	Msg  string
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Load reads the YAML file at path over [Default]. Decoding is strict: an
// unknown key, a value of the wrong type or a bad duration is an error. All
// such problems are returned at once, joined, each a *ParseError naming the
// file and line, e.g. `config.yaml:7: unknown key "htpp" (did you mean "http"?)`.
//
// Load does not call [Config.Resolve] or [Config.Validate]: environment and
// flags are usually applied first.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse is [Load] on bytes already read; name is used in error messages.
// An empty document yields [Default].
//
// When some values have the wrong type or are unknown keys, the returned
// Config still holds every value that did decode (over the defaults), so a
// caller such as `tollgate config check` can validate it and report all
// problems in one run. On a YAML syntax error it is [Default].
func Parse(name string, data []byte) (cfg Config, err error) {
	// The YAML library is not ours: make sure no input can crash the process.
	defer func() {
		if r := recover(); r != nil {
			cfg, err = Default(), &ParseError{File: name, Msg: fmt.Sprintf("malformed YAML (decoder panic: %v)", r)}
		}
	}()

	cfg = Default()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return Default(), nil
		}
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			cfg = Default()
		}
		return cfg, decodeError(name, data, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return cfg, decodeError(name, data, err)
	default:
		return cfg, &ParseError{File: name, Line: extra.Line, Msg: "more than one YAML document (remove the \"---\")"}
	}
	return cfg, nil
}

var (
	reLine       = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	reUnknown    = regexp.MustCompile(`^field (.+) not found in type (\S+)$`)
	reDuplicate  = regexp.MustCompile(`^mapping key "(.*)" already defined at line (\d+)$`)
	reCannot     = regexp.MustCompile("^cannot unmarshal (!!\\w+|\\S+)(?: `(.*)`)? into (.+)$")
	reYAMLPrefix = regexp.MustCompile(`^yaml: `)
)

// decodeError turns a yaml.v3 error into joined *ParseErrors with positions
// and key paths.
func decodeError(name string, data []byte, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		// Syntax error: "yaml: line 3: mapping values are not allowed in this context".
		pe := &ParseError{File: name, Msg: reYAMLPrefix.ReplaceAllString(err.Error(), "")}
		if m := reLine.FindStringSubmatch(err.Error()); m != nil {
			pe.Line, _ = strconv.Atoi(m[1])
			pe.Msg = m[2]
		}
		return pe
	}
	paths := keyPaths(data)
	errs := make([]error, 0, len(te.Errors))
	for _, s := range te.Errors {
		pe := &ParseError{File: name, Msg: s}
		if m := reLine.FindStringSubmatch(s); m != nil {
			pe.Line, _ = strconv.Atoi(m[1])
			pe.Msg = m[2]
		}
		key := paths.at(pe.Line)
		switch {
		case reUnknown.MatchString(pe.Msg):
			m := reUnknown.FindStringSubmatch(pe.Msg)
			field, typ := m[1], m[2]
			if key == "" || !strings.HasSuffix("."+key, "."+field) {
				key = field
			}
			pe.Msg = fmt.Sprintf("unknown key %q", key)
			if s := suggest(field, knownKeys[typ]); s != "" {
				pe.Msg += fmt.Sprintf(" (did you mean %q?)", strings.TrimSuffix(key, field)+s)
			}
		case reDuplicate.MatchString(pe.Msg):
			m := reDuplicate.FindStringSubmatch(pe.Msg)
			pe.Key = key
			pe.Msg = fmt.Sprintf("duplicate key %q (first at line %s)", m[1], m[2])
		case reCannot.MatchString(pe.Msg):
			m := reCannot.FindStringSubmatch(pe.Msg)
			pe.Key = key
			if m[1] == "!!map" {
				// The line is the mapping's first key; the error is about its parent.
				if k, ok := paths.mapValues[pe.Line]; ok {
					pe.Key = k
				}
			}
			pe.Msg = fmt.Sprintf("expected %s, got %s", describeType(m[3]), describeValue(m[1], m[2]))
		default:
			pe.Key = key
		}
		errs = append(errs, pe)
	}
	return errors.Join(errs...)
}

func describeType(goType string) string {
	switch {
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "an integer"
	case goType == "bool":
		return "true or false"
	case goType == "string":
		return "a string"
	case strings.HasPrefix(goType, "config."):
		return "a mapping of keys"
	default:
		return "a value of type " + goType
	}
}

func describeValue(tag, value string) string {
	switch tag {
	case "!!map":
		return "a mapping"
	case "!!seq":
		return "a list"
	case "!!null":
		return "an empty value"
	}
	return strconv.Quote(value)
}

// linePaths maps a line of the file to the dotted key path that line holds:
// the deepest one, or none when two keys of the same depth share the line.
type linePaths struct {
	lines map[int]lineEntry
	// mapValues maps the line where a mapping value starts to its key path.
	mapValues map[int]string
}

type lineEntry struct {
	path      string
	depth     int
	ambiguous bool
}

func (p linePaths) at(line int) string {
	e := p.lines[line]
	if e.ambiguous {
		return ""
	}
	return e.path
}

func (p linePaths) add(line int, path string, depth int) {
	e, ok := p.lines[line]
	switch {
	case !ok || depth > e.depth:
		e.path, e.depth, e.ambiguous = path, depth, false
	case depth == e.depth && path != e.path:
		e.ambiguous = true
	}
	p.lines[line] = e
}

func keyPaths(data []byte) linePaths {
	var doc yaml.Node
	p := linePaths{lines: map[int]lineEntry{}, mapValues: map[int]string{}}
	if yaml.Unmarshal(data, &doc) != nil {
		return p
	}
	var walk func(n *yaml.Node, prefix string, depth int)
	walk = func(n *yaml.Node, prefix string, depth int) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, prefix, depth)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				path := k.Value
				if prefix != "" {
					path = prefix + "." + k.Value
				}
				p.add(k.Line, path, depth+1)
				if v.Kind == yaml.MappingNode {
					if _, dup := p.mapValues[v.Line]; !dup {
						p.mapValues[v.Line] = path
					}
					walk(v, path, depth+1)
				} else {
					p.add(v.Line, path, depth+1)
				}
			}
		}
	}
	walk(&doc, "", 0)
	return p
}

// knownKeys maps the Go type name of each config section ("config.HTTP", as
// the YAML decoder names it) to its YAML keys, for "did you mean" hints.
var knownKeys = func() map[string][]string {
	m := map[string][]string{}
	var visit func(t reflect.Type)
	visit = func(t reflect.Type) {
		var keys []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			keys = append(keys, name)
			if f.Type.Kind() == reflect.Struct {
				visit(f.Type)
			}
		}
		m[t.String()] = keys
	}
	visit(reflect.TypeFor[Config]())
	return m
}()

// suggest returns the candidate closest to s by edit distance, or "" when
// none is close enough to be a likely typo.
func suggest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), c); d < bestD && d < len(c) {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
