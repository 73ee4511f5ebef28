package password

import (
	"errors"
	"strings"
	"testing"
)

var fast = Params{MemoryKiB: 8 * 1024, Iterations: 1, Parallelism: 1}

func TestHashVerify(t *testing.T) {
	h := &Hasher{Params: fast}
	enc, err := h.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=8192,t=1,p=1$") {
		t.Errorf("hash %q is not a PHC argon2id string with the given params", enc)
	}
	if ok, err := Verify("correct horse battery staple", enc); !ok || err != nil {
		t.Errorf("right password: ok=%v err=%v", ok, err)
	}
	if ok, _ := Verify("correct horse battery stapler", enc); ok {
		t.Error("wrong password verified")
	}
	enc2, _ := h.Hash("correct horse battery staple")
	if enc == enc2 {
		t.Error("two hashes of one password are equal: salt not random")
	}
}

// TestKnownVector checks interop: a hash made by the reference argon2
// command-line tool (Debian package argon2: echo -n password | argon2 somesalt -id -t 2 -m 16 -p 4 -e).
func TestKnownVector(t *testing.T) {
	const ref = "$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo"
	if ok, err := Verify("password", ref); !ok || err != nil {
		t.Fatalf("reference vector: ok=%v err=%v", ok, err)
	}
}

func TestMalformed(t *testing.T) {
	for _, enc := range []string{
		"", "plain", "$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2id$v=16$m=65536,t=2,p=4$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2id$v=19$m=999999999,t=2,p=4$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2id$v=19$m=65536,t=2,p=4$!!!$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
	} {
		if ok, err := Verify("password", enc); ok || !errors.Is(err, ErrMalformed) {
			t.Errorf("Verify(%q) = %v, %v; want false, ErrMalformed", enc, ok, err)
		}
	}
}

func TestNeedsRehash(t *testing.T) {
	h := &Hasher{Params: fast}
	enc, _ := h.Hash("pw")
	if h.NeedsRehash(enc) {
		t.Error("fresh hash needs rehash")
	}
	stronger := &Hasher{Params: Params{MemoryKiB: 8 * 1024, Iterations: 2, Parallelism: 1}}
	if !stronger.NeedsRehash(enc) {
		t.Error("hash with weaker params does not need rehash")
	}
}

func TestDummyIsStable(t *testing.T) {
	h := &Hasher{Params: fast}
	if h.Dummy() == "" || h.Dummy() != h.Dummy() {
		t.Error("dummy hash empty or unstable")
	}
	if ok, _ := Verify("", h.Dummy()); ok {
		t.Error("empty password matches dummy")
	}
}

func BenchmarkHashOWASP(b *testing.B) {
	h := &Hasher{Params: OWASP}
	for b.Loop() {
		if _, err := h.Hash("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
