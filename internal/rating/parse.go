package rating

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/tollgate-billing/tollgate/internal/money"
	"go.yaml.in/yaml/v3"
)

// maxPlanBytes bounds the size of a plan document.
const maxPlanBytes = 8 << 20

// maxWalk bounds the nodes visited while checking a document (aliases can
// make a small document expand exponentially).
const maxWalk = 1 << 20

// ParsePlan decodes a plan from YAML or JSON strictly (an unknown key is an
// error) and validates it, reporting every problem at once with its field
// path and line: unknown keys together with validation problems (see
// Plan.Validate). Malformed values (a price that is not a decimal, a list
// where a mapping belongs, a syntax error) are reported alone, all of
// them, since the document cannot be decoded further. Every error wraps
// ErrInvalidPlan.
func ParsePlan(data []byte) (*Plan, error) {
	if len(data) > maxPlanBytes {
		return nil, &FieldError{Msg: fmt.Sprintf("document is larger than %d bytes", maxPlanBytes)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &FieldError{Msg: "empty document"}
		}
		return nil, yamlError(err, nil)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, &FieldError{Line: extra.Line, Msg: "a plan file holds exactly one YAML document"}
	}

	w := walker{lines: make(map[string]int), qtext: make(map[string]string)}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	w.walk(doc, reflect.TypeFor[Plan](), "")
	if w.hard > 0 {
		return nil, errors.Join(w.errs...)
	}

	// Only unknown or repeated keys (if anything) so far: decode the rest
	// and validate it too, so that a typo and a bad value are reported
	// together. The strict decoder is the authority when the walk found
	// nothing.
	p := new(Plan)
	sd := yaml.NewDecoder(bytes.NewReader(data))
	sd.KnownFields(len(w.errs) == 0)
	if err := sd.Decode(p); err != nil {
		return nil, errors.Join(append(w.errs, yamlError(err, w.lines))...)
	}
	p.lines, p.qtext = w.lines, w.qtext
	if err := p.Validate(); err != nil {
		return nil, errors.Join(append(w.errs, err)...)
	}
	if len(w.errs) > 0 {
		return nil, errors.Join(w.errs...)
	}
	return p, nil
}

// ParsePlanFiles parses every *.yaml, *.yml and *.json file in dir of fsys,
// in name order. Problems of all files are reported together; each is
// prefixed with its file name.
func ParsePlanFiles(fsys fs.FS, dir string) ([]*Plan, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("rating: read plans: %w", err)
	}
	var plans []*Plan
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") {
			continue
		}
		switch path.Ext(name) {
		case ".yaml", ".yml", ".json":
		default:
			continue
		}
		full := path.Join(dir, name)
		data, err := fs.ReadFile(fsys, full)
		if err != nil {
			errs = append(errs, fmt.Errorf("rating: %s: %w", full, err))
			continue
		}
		p, err := ParsePlan(data)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", full, err))
			continue
		}
		plans = append(plans, p)
	}
	return plans, errors.Join(errs...)
}

// yamlError converts a decoder error into FieldErrors with lines (and, when
// lines is known, field paths).
func yamlError(err error, lines map[string]int) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		errs := make([]error, 0, len(te.Errors))
		for _, s := range te.Errors {
			errs = append(errs, lineError(s, lines))
		}
		return errors.Join(errs...)
	}
	return lineError(strings.TrimPrefix(err.Error(), "yaml: "), lines)
}

func lineError(s string, lines map[string]int) *FieldError {
	fe := &FieldError{Msg: s}
	if rest, ok := strings.CutPrefix(s, "line "); ok {
		if i := strings.Index(rest, ": "); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				fe.Line, fe.Msg = n, rest[i+2:]
			}
		}
	}
	if fe.Line > 0 && lines != nil {
		// The first path recorded at that line (the innermost for block
		// style, since parents are on earlier lines).
		var best string
		for p, l := range lines {
			if l == fe.Line && (best == "" || len(p) > len(best) || (len(p) == len(best) && p < best)) {
				best = p
			}
		}
		fe.Path = best
	}
	return fe
}

// walker checks a YAML node tree against the Go types of Plan before
// decoding: unknown keys, duplicate keys, wrong node kinds and malformed
// decimals and quantities are all collected with their paths and lines,
// where the decoder would stop at the first. It also records the line of
// every field path for later validation errors.
type walker struct {
	lines  map[string]int
	qtext  map[string]string // path → text of a quantity written with a unit
	errs   []error
	hard   int // problems that stop decoding (bad values, wrong kinds)
	visits int
}

var (
	decimalType  = reflect.TypeFor[money.Decimal]()
	quantityType = reflect.TypeFor[Quantity]()
)

func (w *walker) fail(path string, line int, format string, args ...any) {
	w.errs = append(w.errs, &FieldError{Path: path, Line: line, Msg: fmt.Sprintf(format, args...)})
	w.hard++
}

// soft records a problem after which the document still decodes.
func (w *walker) soft(path string, line int, format string, args ...any) {
	w.errs = append(w.errs, &FieldError{Path: path, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (w *walker) walk(n *yaml.Node, t reflect.Type, p string) {
	w.visits++
	if w.visits > maxWalk {
		if w.visits == maxWalk+1 {
			w.fail(p, n.Line, "document is too complex (too many aliased nodes)")
		}
		return
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias != nil {
			w.walk(n.Alias, t, p)
		}
		return
	}
	if _, ok := w.lines[p]; !ok && p != "" {
		w.lines[p] = n.Line
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	switch {
	case t == decimalType:
		if n.Kind != yaml.ScalarNode {
			w.fail(p, n.Line, "want a decimal number such as \"0.09\"")
			return
		}
		if _, err := money.Parse(n.Value); err != nil {
			w.fail(p, n.Line, "invalid decimal %q (want a plain decimal such as \"0.09\")", n.Value)
		}
		return
	case t == quantityType:
		if n.Kind != yaml.ScalarNode {
			w.fail(p, n.Line, "want a quantity")
			return
		}
		if _, err := ParseQuantityText(n.Value); err != nil {
			w.fail(p, n.Line, "%v", err)
		} else if strings.TrimLeft(strings.TrimSpace(n.Value), "0123456789") != "" {
			// A quantity with a unit ("10MiB", "1m"): validation checks
			// the unit against the service's once services are known.
			w.qtext[p] = n.Value
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			w.fail(p, n.Line, "want a mapping (key: value)")
			return
		}
		w.walkStruct(n, t, p, map[string]int{})
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			w.fail(p, n.Line, "want a list")
			return
		}
		for i, c := range n.Content {
			ip := p + "[" + strconv.Itoa(i) + "]"
			if c.Kind == yaml.ScalarNode && c.ShortTag() == "!!null" {
				w.fail(ip, c.Line, "empty list item")
				continue
			}
			w.walk(c, t.Elem(), ip)
		}
	default:
		if n.Kind != yaml.ScalarNode {
			w.fail(p, n.Line, "want a single value, not a %s", kindName(n.Kind))
		}
	}
}

func (w *walker) walkStruct(n *yaml.Node, t reflect.Type, p string, seen map[string]int) {
	fields := yamlFields(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge" {
			switch v.Kind {
			case yaml.AliasNode, yaml.MappingNode:
				m := v
				if m.Kind == yaml.AliasNode {
					m = m.Alias
				}
				if m != nil && m.Kind == yaml.MappingNode {
					w.walkStruct(m, t, p, map[string]int{})
				}
			case yaml.SequenceNode:
				for _, c := range v.Content {
					if c.Kind == yaml.AliasNode {
						c = c.Alias
					}
					if c != nil && c.Kind == yaml.MappingNode {
						w.walkStruct(c, t, p, map[string]int{})
					}
				}
			}
			continue
		}
		if k.Kind != yaml.ScalarNode {
			w.fail(p, k.Line, "keys must be plain names")
			continue
		}
		fp := k.Value
		if p != "" {
			fp = p + "." + k.Value
		}
		ft, ok := fields[k.Value]
		if !ok {
			w.soft(fp, k.Line, "unknown field %q%s", k.Value, suggest(k.Value, fields))
			continue
		}
		if prev, dup := seen[k.Value]; dup {
			w.fail(fp, k.Line, "field %q is already set on line %d", k.Value, prev)
			continue
		}
		seen[k.Value] = k.Line
		w.lines[fp] = k.Line
		w.walk(v, ft, fp)
	}
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "value"
}

// yamlFields maps the yaml key names of struct t to the field types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	m := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = f.Type
	}
	return m
}

// suggest returns ` (did you mean "x"?)` for a near miss.
func suggest(key string, fields map[string]reflect.Type) string {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if editDistance(key, n) <= 2 {
			return fmt.Sprintf(" (did you mean %q?)", n)
		}
	}
	return "; known fields: " + strings.Join(names, ", ")
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
