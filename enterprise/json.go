package enterprise

import (
	"bytes"
	"encoding/json"
)

// Object is a JSON object whose members keep their order, as LastPass's
// responses do (clients compare bytes: `{"status":"OK"}`). An empty
// Object encodes as [], the way PHP encodes an empty array
// (lastpass-apis.md §1.3).
type Object []Field

// Field is one member of an Object.
type Field struct {
	Key   string
	Value any
}

// obj builds an Object from alternating keys and values.
func obj(kv ...any) Object {
	o := make(Object, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		o = append(o, Field{kv[i].(string), kv[i+1]})
	}
	return o
}

// MarshalJSON writes the members in order, compactly.
func (o Object) MarshalJSON() ([]byte, error) {
	if len(o) == 0 {
		return []byte("[]"), nil
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := marshal(f.Key)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		v, err := marshal(f.Value)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshal encodes compactly without HTML escaping (emails and URLs stay
// readable, as in LastPass's output).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
