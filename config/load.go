package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// EnvPrefix starts every environment override.
const EnvPrefix = "GATEWAY_"

// Error lists every problem found in a configuration.
type Error struct {
	Problems []string // each "key: what is wrong"
}

func (e *Error) Error() string {
	return "invalid configuration:\n  " + strings.Join(e.Problems, "\n  ")
}

// Load reads the file at path (none when path is ""), applies the
// environment overrides found in environ (as os.Environ returns them) on top
// of the defaults, and validates the result. Every problem is reported in
// one *Error.
func Load(path string, environ []string) (*Config, error) {
	cfg := Defaults()
	if path != "" {
		if err := readFile(path, &cfg); err != nil {
			return nil, &Error{Problems: []string{err.Error()}}
		}
	}
	var problems []string
	cfg.Warnings, problems = applyEnv(&cfg, environ)
	problems = append(problems, cfg.Validate()...)
	if len(problems) > 0 {
		return nil, &Error{Problems: problems}
	}
	return &cfg, nil
}

func readFile(path string, cfg *Config) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

// field is one configuration key found by walking Config.
type field struct {
	key string // dotted path, e.g. sessions.redis_url
	v   reflect.Value
}

// Keys lists every configuration key with its environment variable name, in
// a stable order.
func Keys() [][2]string {
	cfg := Defaults()
	var out [][2]string
	for _, f := range fields(reflect.ValueOf(&cfg).Elem(), "") {
		out = append(out, [2]string{f.key, EnvName(f.key)})
	}
	return out
}

// EnvName returns the environment variable that overrides key.
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// fields walks the struct v and returns its leaf keys. Nested structs are
// descended into; slices, maps and scalars are leaves.
func fields(v reflect.Value, prefix string) []field {
	var out []field
	t := v.Type()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		key := prefix + name
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct {
			out = append(out, fields(fv, key+".")...)
			continue
		}
		out = append(out, field{key: key, v: fv})
	}
	return out
}

// applyEnv sets every key that has a GATEWAY_* variable in environ. It
// returns warnings for unknown variables and problems for bad values.
func applyEnv(cfg *Config, environ []string) (warnings, problems []string) {
	env := map[string]string{}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(k, EnvPrefix) && !strings.HasPrefix(k, EnvPrefix+"TEST_") {
			env[k] = v
		}
	}
	for _, f := range fields(reflect.ValueOf(cfg).Elem(), "") {
		name := EnvName(f.key)
		s, ok := env[name]
		if !ok {
			continue
		}
		delete(env, name)
		if err := setValue(f.v, s); err != nil {
			problems = append(problems, fmt.Sprintf("%s (%s): %v", f.key, name, err))
		}
	}
	for k := range env {
		warnings = append(warnings, fmt.Sprintf("%s is not a configuration variable; ignored", k))
	}
	sort.Strings(warnings)
	return warnings, problems
}

var durationType = reflect.TypeFor[Duration]()

// setValue parses s into v according to v's type.
func setValue(v reflect.Value, s string) error {
	if v.Type() == durationType {
		return v.Addr().Interface().(*Duration).parse(s)
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not a boolean", s)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", s)
		}
		v.SetInt(n)
	case reflect.Uint8, reflect.Uint32:
		n, err := strconv.ParseUint(s, 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("%q is not a whole number from 0 to %d", s, uint64(1)<<v.Type().Bits()-1)
		}
		v.SetUint(n)
	case reflect.Slice:
		return setSlice(v, s)
	default:
		return fmt.Errorf("cannot be set from the environment")
	}
	return nil
}

// setSlice sets a list: comma-separated for a list of strings, YAML (or
// JSON, which is YAML) for anything else.
func setSlice(v reflect.Value, s string) error {
	if v.Type().Elem().Kind() == reflect.String {
		var items []string
		for p := range strings.SplitSeq(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				items = append(items, p)
			}
		}
		v.Set(reflect.ValueOf(items))
		return nil
	}
	ptr := reflect.New(v.Type())
	dec := yaml.NewDecoder(strings.NewReader(s))
	dec.KnownFields(true)
	if err := dec.Decode(ptr.Interface()); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("not a valid YAML or JSON list: %v", err)
	}
	v.Set(ptr.Elem())
	return nil
}
