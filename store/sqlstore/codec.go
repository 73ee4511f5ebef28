package sqlstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// timeLayout is fixed-width UTC with microseconds, so that in SQLite, where
// times are text, comparing strings compares times.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// now is the current time as the store keeps it.
func now() time.Time { return normTime(time.Now()) }

// normTime is t as it reads back: UTC, to the microsecond.
func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// timeArg encodes t as a query argument: NULL for the zero time.
func timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeLayout)
}

// timeCol scans a nullable timestamp column: text (SQLite) or a time.Time
// (PostgreSQL).
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.t = time.Time{}
		return nil
	case time.Time:
		*c.t = normTime(v)
		return nil
	case string:
		return c.parse(v)
	case []byte:
		return c.parse(string(v))
	}
	return fmt.Errorf("timestamp column: unsupported type %T", src)
}

func (c timeCol) parse(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("timestamp column: %w", err)
	}
	*c.t = normTime(t)
	return nil
}

// text returns the bytes of a text or blob column value.
func text(src any) ([]byte, error) {
	switch v := src.(type) {
	case nil:
		return nil, nil
	case string:
		return []byte(v), nil
	case []byte:
		return v, nil
	}
	return nil, fmt.Errorf("text column: unsupported type %T", src)
}

// mapArg encodes a string map as JSON; nil is the empty object. HTML is not
// escaped, so that searching the text finds what was written.
func mapArg(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(m) // a map[string]string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// mapCol scans JSON text into a map that is never nil.
type mapCol struct{ m *map[string]string }

func (c mapCol) Scan(src any) error {
	b, err := text(src)
	if err != nil {
		return err
	}
	m := map[string]string{}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("map column: %w", err)
		}
	}
	*c.m = m
	return nil
}

// normMap is m as it reads back: never nil.
func normMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// listArg encodes a string list as a JSON array; nil is the empty array.
func listArg(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l) // a []string always marshals
	return string(b)
}

// listCol scans a JSON array; the empty array reads as nil.
type listCol struct{ l *[]string }

func (c listCol) Scan(src any) error {
	b, err := text(src)
	if err != nil {
		return err
	}
	var l []string
	if len(b) > 0 {
		if err := json.Unmarshal(b, &l); err != nil {
			return fmt.Errorf("list column: %w", err)
		}
	}
	*c.l = normList(l)
	return nil
}

// normList is l as it reads back: nil when empty.
func normList(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return l
}

var errBadJSON = errors.New("settings are not valid JSON")

// rawArg checks and encodes a JSON document; an empty one is NULL.
func rawArg(raw json.RawMessage) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	if !json.Valid(raw) {
		return nil, errBadJSON
	}
	return string(raw), nil
}

// rawCol scans a nullable JSON document byte for byte.
type rawCol struct{ r *json.RawMessage }

func (c rawCol) Scan(src any) error {
	b, err := text(src)
	if err != nil {
		return err
	}
	*c.r = normBytes(b)
	return nil
}

// bytesArg encodes a byte slice for a NOT NULL column.
func bytesArg(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// bytesCol scans a blob column into a copy; the empty blob reads as nil.
type bytesCol struct{ b *[]byte }

func (c bytesCol) Scan(src any) error {
	b, err := text(src)
	if err != nil {
		return err
	}
	*c.b = normBytes(b)
	return nil
}

// normBytes is b as it reads back: a copy, nil when empty.
func normBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

// nullString stores "" as NULL, for optional columns that are unique when
// set.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// key is the case-folded form of a name or email that uniqueness and
// lookups use.
func key(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// likeArg is a LIKE pattern matching s anywhere, case-folded, with the
// pattern characters of s escaped (queries use ESCAPE '\').
func likeArg(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}
