package push

// This file is the device protocol's wire format, shared by the server side
// (api.go) and the device client (device.go). Standard library only.

import (
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// APIPrefix is where the device API lives.
const APIPrefix = "/push/v1"

// Paths of the device API, under APIPrefix.
const (
	EnrolPath      = APIPrefix + "/enrol"
	ChallengesPath = APIPrefix + "/challenges"
)

// Headers of a signed device request.
const (
	HeaderDevice    = "X-Push-Device"    // the device ID; absent on enrolment
	HeaderTimestamp = "X-Push-Timestamp" // Unix seconds
	HeaderNonce     = "X-Push-Nonce"     // 16 random bytes, base64url
	HeaderSignature = "X-Push-Signature" // Ed25519 over SigningString, base64url
)

// signingLabel starts every signed string, so a signature made for this
// protocol cannot be taken for anything else the key might sign.
const signingLabel = "portcullis-push-v1"

// MaxWait is the longest a challenge poll is held open.
const MaxWait = 25 * time.Second

// Decisions a device sends back.
const (
	Approve = "approve"
	Deny    = "deny"
)

// Challenge states, as the browser's status poll and answers report them.
const (
	StatePending  = "pending"
	StateApproved = "approved"
	StateDenied   = "denied"
	StateFailed   = "failed" // a wrong number came back
	StateExpired  = "expired"
	StateDone     = "done" // the approval completed a step-up
)

// Error codes in ErrorResponse.
const (
	CodeBadRequest   = "bad_request"
	CodeUnauthorized = "unauthorized"  // unknown device, bad signature, replayed request
	CodeClockSkew    = "clock_skew"    // the timestamp is outside the window
	CodeNotConfirmed = "not_confirmed" // enrolment not yet finished in the browser
	CodeInvalidLink  = "invalid_link"  // unknown, expired or used enrolment link
	CodeNotFound     = "not_found"     // no such challenge for this device's user
	CodeAnswered     = "answered"      // the challenge was already answered
	CodeExpired      = "expired"
	CodeWrongNumber  = "wrong_number"
	CodeUnavailable  = "unavailable"
)

// SigningString is what a device signs for one request: the label, the
// method, the path from APIPrefix on with its query, the timestamp, the
// device ID ("" on enrolment), the nonce and the SHA-256 of the body, one
// per line. The path is taken from APIPrefix on so that a gateway published
// under a path prefix (a proxy that strips it) verifies the same string.
func SigningString(method, path string, timestamp int64, deviceID, nonce string, body []byte) []byte {
	if i := strings.Index(path, APIPrefix+"/"); i > 0 {
		path = path[i:]
	}
	sum := sha256.Sum256(body)
	var b strings.Builder
	for _, part := range []string{signingLabel, method, path, strconv.FormatInt(timestamp, 10), deviceID, nonce,
		base64.RawURLEncoding.EncodeToString(sum[:])} {
		b.WriteString(part)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// Challenge is what a device sees of a push: who signs in where, from
// which address, when, and until when. Never the number: the user must
// read it from the browser they are signing in with.
type Challenge struct {
	ID      string    `json:"id"`
	User    string    `json:"user"`
	App     string    `json:"app,omitempty"`
	IP      string    `json:"ip,omitempty"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
}

// EnrolRequest is the body of POST /push/v1/enrol.
type EnrolRequest struct {
	Token     string `json:"token"`      // from the enrolment link
	Name      string `json:"name"`       // what the devices page calls it
	PublicKey string `json:"public_key"` // Ed25519, 32 bytes, base64url
}

// EnrolResponse answers an enrolment.
type EnrolResponse struct {
	DeviceID string `json:"device_id"`
	User     string `json:"user"` // the account's email
	Name     string `json:"name"`
	Server   string `json:"server"` // the gateway's base URL
	// Confirmed is false until the browser that showed the link finishes
	// the enrolment, which its page does by itself within a second or two.
	Confirmed bool `json:"confirmed"`
}

// ChallengesResponse answers GET /push/v1/challenges: the pending pushes of
// the device's user, oldest first.
type ChallengesResponse struct {
	Challenges []Challenge `json:"challenges"`
}

// AnswerRequest is the body of POST /push/v1/challenges/{id}.
type AnswerRequest struct {
	Decision string `json:"decision"`         // Approve or Deny
	Number   int    `json:"number,omitempty"` // the number shown in the browser; required to approve
}

// AnswerResponse reports the challenge's state after an answer.
type AnswerResponse struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// ErrorResponse is the body of every device API error.
type ErrorResponse struct {
	Code  string `json:"code"`
	Error string `json:"error"`
}
