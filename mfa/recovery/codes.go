package recovery

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Count is how many codes a set has.
const Count = 10

const (
	// alphabet has no look-alikes: no 0/o, 1/l/i. 31 symbols, so a code of
	// codeLen carries log2(31^10) ≈ 49.5 bits.
	alphabet = "23456789abcdefghjkmnpqrstuvwxyz"
	codeLen  = 10
	// hashLabel names the master-derived key of the code hashes.
	hashLabel = "mfa recovery codes"
)

// set is what a recovery enrolment's Data holds, as JSON: the hashes of its
// codes, each with when it was used (zero: unused).
type set struct {
	Codes []entry `json:"codes"`
}

type entry struct {
	Hash []byte    `json:"h"`
	Used time.Time `json:"u,omitzero"`
}

func decodeSet(b []byte) (set, error) {
	var s set
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("recovery: codes: %w", err)
	}
	if len(s.Codes) == 0 {
		return s, errors.New("recovery: codes: empty set")
	}
	return s, nil
}

func (s set) encode() []byte {
	b, _ := json.Marshal(s) // hashes and times: cannot fail
	return b
}

// unused counts the codes not yet used.
func (s set) unused() int {
	n := 0
	for _, c := range s.Codes {
		if c.Used.IsZero() {
			n++
		}
	}
	return n
}

// find returns the index of the code whose hash is h, or -1. It compares
// every entry in constant time and does not stop at a match.
func (s set) find(h []byte) int {
	i := -1
	for j, c := range s.Codes {
		if hmac.Equal(c.Hash, h) {
			i = j
		}
	}
	return i
}

// hash is the stored form of a normalised code of the user.
func (f *Factor) hash(userID int64, code string) []byte {
	m := hmac.New(sha256.New, f.hashKey)
	m.Write([]byte("user " + strconv.FormatInt(userID, 10) + "\x00" + code))
	return m.Sum(nil)
}

// newCodes draws n codes from r, each symbol uniformly from alphabet (a
// byte's low five bits, rejecting the one value past the alphabet).
func newCodes(r io.Reader, n int) ([]string, error) {
	codes := make([]string, 0, n)
	buf := make([]byte, 64)
	var code []byte
	for len(codes) < n {
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("recovery: new codes: %w", err)
		}
		for _, b := range buf {
			if v := b & 31; int(v) < len(alphabet) {
				code = append(code, alphabet[v])
			}
			if len(code) == codeLen {
				codes = append(codes, string(code))
				code = code[:0]
				if len(codes) == n {
					break
				}
			}
		}
	}
	return codes, nil
}

// display writes a normalised code as people read it: xxxxx-xxxxx.
func display(code string) string { return code[:codeLen/2] + "-" + code[codeLen/2:] }

// normalise reads what a user typed: case-insensitive, dashes and spaces
// ignored. ok is false when the rest cannot be a code.
func normalise(s string) (string, bool) {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == ' ' || r == '\t':
			return -1
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		}
		return r
	}, s)
	if len(s) != codeLen || strings.ContainsFunc(s, func(r rune) bool { return !strings.ContainsRune(alphabet, r) }) {
		return "", false
	}
	return s, true
}
