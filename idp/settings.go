package idp

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/portcullis/portcullis/policy"
)

// NameID formats an app can ask for, by their short names in settings and
// on the command line.
const (
	NameIDEmail       = "email"
	NameIDPersistent  = "persistent"
	NameIDTransient   = "transient"
	NameIDUnspecified = "unspecified"
)

// Signing choices: what the Response to an app carries a signature on.
const (
	SignAssertion = "assertion"
	SignResponse  = "response"
	SignBoth      = "both"
)

// Encryption choices for assertions to an app that publishes an encryption
// certificate.
const (
	EncryptOff       = "off"
	EncryptAES256GCM = "aes256-gcm"
	EncryptAES128CBC = "aes128-cbc"
)

// AppSettings is what the IdP keeps per SAML app, stored as JSON in
// store.App.Settings. The zero value is valid: email NameID, the standard
// attributes, the assertion signed, no encryption.
type AppSettings struct {
	// NameIDFormat is one of the NameID constants; empty means email.
	NameIDFormat string `json:"nameid_format,omitempty"`
	// NameIDAttribute is the source of the NameID value: "email", "id", or
	// a directory attribute name. Empty means the format's natural source
	// (email for email and unspecified, a stable per-app pseudonym for
	// persistent, a random value per session for transient).
	NameIDAttribute string `json:"nameid_attribute,omitempty"`
	// Attributes are the attributes the assertion carries; empty means
	// DefaultAttributes.
	Attributes []AttributeMapping `json:"attributes,omitempty"`
	// Sign is one of the Sign constants; empty means assertion.
	Sign string `json:"sign,omitempty"`
	// Encrypt is one of the Encrypt constants; empty means off.
	Encrypt string `json:"encrypt,omitempty"`
	// MFAFactors lists the second factors the app accepts (totp, webauthn,
	// push, recovery, upstream_mfa); empty means any.
	MFAFactors []string `json:"mfa_factors,omitempty"`
	// MFAMaxAge is how old (a Go duration) the second factor may be;
	// empty means any age within the session.
	MFAMaxAge string `json:"mfa_max_age,omitempty"`
}

// AttributeMapping is one attribute of the assertion. Exactly one of Source
// and Value is set.
type AttributeMapping struct {
	Name string `json:"name"`
	// Source is "email", "name", "given_name", "family_name", "groups", or
	// "attr:KEY" for a directory attribute.
	Source string `json:"source,omitempty"`
	// Value is a constant.
	Value string `json:"value,omitempty"`
}

// DefaultAttributes is what an app gets when it configures none.
var DefaultAttributes = []AttributeMapping{
	{Name: "email", Source: "email"},
	{Name: "name", Source: "name"},
	{Name: "given_name", Source: "given_name"},
	{Name: "family_name", Source: "family_name"},
	{Name: "groups", Source: "groups"},
}

var sources = map[string]bool{"email": true, "name": true, "given_name": true, "family_name": true, "groups": true}

// ParseSettings decodes and checks stored settings; nil or empty is the zero
// value.
func ParseSettings(raw json.RawMessage) (AppSettings, error) {
	var s AppSettings
	if len(raw) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return s, fmt.Errorf("idp: app settings: %w", err)
		}
	}
	return s, s.Validate()
}

func (s AppSettings) maxAge() (time.Duration, error) {
	if s.MFAMaxAge == "" {
		return 0, nil
	}
	return time.ParseDuration(s.MFAMaxAge)
}

// Validate reports every problem with s at once.
func (s AppSettings) Validate() error {
	var problems []string
	if !oneOf(s.NameIDFormat, "", NameIDEmail, NameIDPersistent, NameIDTransient, NameIDUnspecified) {
		problems = append(problems, fmt.Sprintf("nameid_format %q is not email, persistent, transient or unspecified", s.NameIDFormat))
	}
	if !oneOf(s.Sign, "", SignAssertion, SignResponse, SignBoth) {
		problems = append(problems, fmt.Sprintf("sign %q is not assertion, response or both", s.Sign))
	}
	if !oneOf(s.Encrypt, "", EncryptOff, EncryptAES256GCM, EncryptAES128CBC) {
		problems = append(problems, fmt.Sprintf("encrypt %q is not off, aes256-gcm or aes128-cbc", s.Encrypt))
	}
	for _, f := range s.MFAFactors {
		if !slices.Contains(policy.SecondFactors, f) {
			problems = append(problems, fmt.Sprintf("mfa factor %q is not one of %s", f, strings.Join(policy.SecondFactors, ", ")))
		}
	}
	if d, err := s.maxAge(); err != nil || d < 0 {
		problems = append(problems, fmt.Sprintf("mfa_max_age %q is not a positive duration such as 12h", s.MFAMaxAge))
	}
	seen := map[string]bool{}
	for _, a := range s.Attributes {
		problems = append(problems, a.problems(seen)...)
	}
	if len(problems) > 0 {
		return fmt.Errorf("idp: app settings: %s", strings.Join(problems, "; "))
	}
	return nil
}

func (a AttributeMapping) problems(seen map[string]bool) []string {
	var p []string
	switch {
	case a.Name == "":
		p = append(p, "an attribute has no name")
	case seen[a.Name]:
		p = append(p, fmt.Sprintf("attribute %q is mapped twice", a.Name))
	}
	seen[a.Name] = true
	switch key, isAttr := strings.CutPrefix(a.Source, "attr:"); {
	case (a.Source == "") == (a.Value == ""):
		p = append(p, fmt.Sprintf("attribute %q needs exactly one of a source or a constant value", a.Name))
	case a.Source != "" && !sources[a.Source] && (!isAttr || key == ""):
		p = append(p, fmt.Sprintf("attribute %q: source %q is not email, name, given_name, family_name, groups or attr:KEY", a.Name, a.Source))
	}
	return p
}

// ParseMapping reads NAME=SOURCE or NAME="constant" (the CLI's --attr).
func ParseMapping(s string) (AttributeMapping, error) {
	name, src, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return AttributeMapping{}, fmt.Errorf("attribute %q is not NAME=SOURCE or NAME=\"constant\"", s)
	}
	if len(src) >= 2 && src[0] == '"' && src[len(src)-1] == '"' {
		return AttributeMapping{Name: name, Value: src[1 : len(src)-1]}, nil
	}
	return AttributeMapping{Name: name, Source: src}, nil
}

func oneOf(s string, allowed ...string) bool {
	for _, a := range allowed {
		if s == a {
			return true
		}
	}
	return false
}
