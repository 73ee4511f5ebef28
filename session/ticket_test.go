package session

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func mustTicket(t *testing.T) ticket {
	t.Helper()
	tk, err := newTicket(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestSealOpen(t *testing.T) {
	tk := mustTicket(t)
	s := &Session{UserID: 1, Email: "alice@example.com", CreatedAt: time.Unix(1e9, 0).UTC()}
	data, err := tk.seal(rand.Reader, s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tk.open(data)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if got.ID != tk.id || got.Email != s.Email || !got.CreatedAt.Equal(s.CreatedAt) {
		t.Errorf("open = %+v", got)
	}
	again, _ := tk.seal(rand.Reader, s)
	if bytes.Equal(data, again) {
		t.Error("two seals of one record are equal: the nonce is not fresh")
	}
}

func TestOpenRejects(t *testing.T) {
	tk := mustTicket(t)
	data, err := tk.seal(rand.Reader, &Session{UserID: 1})
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(data)
	flipped[len(flipped)-1] ^= 1
	version := bytes.Clone(data)
	version[0] = 2
	tests := map[string]struct {
		tk   ticket
		data []byte
	}{
		"other ticket":  {mustTicket(t), data},
		"flipped bit":   {tk, flipped},
		"other version": {tk, version},
		"truncated":     {tk, data[:10]},
		"empty":         {tk, nil},
	}
	for name, tc := range tests {
		if s, err := tc.tk.open(tc.data); !errors.Is(err, errBadRecord) {
			t.Errorf("%s: open = %+v, %v; want errBadRecord", name, s, err)
		}
	}
}

func TestParseTicket(t *testing.T) {
	tk := mustTicket(t)
	if got, ok := parseTicket(tk.id); !ok || got != tk {
		t.Fatalf("parseTicket(%q) = %v, %v", tk.id, got, ok)
	}
	bad := []string{
		"",
		tk.id[:42],
		tk.id + "A",
		base64.URLEncoding.EncodeToString(tk.raw[:]),   // padded
		base64.StdEncoding.EncodeToString(tk.raw[:31]), // short
		strings.Repeat("!", 43),
	}
	for _, id := range bad {
		if _, ok := parseTicket(id); ok {
			t.Errorf("parseTicket(%q) accepted", id)
		}
	}
}

func TestStorageKey(t *testing.T) {
	tk := mustTicket(t)
	key := tk.storageKey()
	if !strings.HasPrefix(key, "s:") || len(key) != 2+64 || strings.Contains(key, tk.id) {
		t.Errorf("storage key %q", key)
	}
	if key == mustTicket(t).storageKey() {
		t.Error("two IDs share a storage key")
	}
}

func FuzzParseTicket(f *testing.F) {
	f.Add("")
	f.Add(strings.Repeat("A", 43))
	f.Add(strings.Repeat("_", 43) + "=")
	f.Fuzz(func(t *testing.T, id string) {
		tk, ok := parseTicket(id)
		if ok && base64.RawURLEncoding.EncodeToString(tk.raw[:]) != id {
			t.Fatalf("parseTicket(%q) accepted a non-canonical ID", id)
		}
	})
}
