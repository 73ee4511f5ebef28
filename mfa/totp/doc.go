// Package totp is the "Authenticator app" second factor: time-based
// one-time passwords (RFC 6238) from any authenticator app, built on
// github.com/pquerna/otp and the MFA core (package mfa).
//
// Pages: GET /mfa/totp/enrol shows a new key (QR code, the key as text and
// the otpauth:// link) and POST /mfa/totp/enrol confirms it with a first
// code; GET and POST /mfa/totp?c=TOKEN ask for a code during a step-up.
//
// Decisions:
//   - Keys are what every authenticator app supports: a 160-bit random
//     secret (RFC 4226 §4), HMAC-SHA1, 6 digits, 30-second steps. The
//     otpauth:// URI names the issuer (config mfa.totp.issuer) and the
//     user's email; the QR code is drawn here as a PNG data: URL, so the
//     secret never leaves the gateway.
//   - The secret is sealed at rest with keys.SealFor under the label
//     "mfa totp", bound to "user <id>": a database dump reveals nothing, and
//     a sealed secret copied onto another user's row does not open.
//   - A code is accepted for the current step and one step either side
//     (±30 s of clock drift, RFC 6238 §5.2), from any of the user's
//     confirmed TOTP enrolments; comparisons are constant-time.
//   - Each time step is usable once per user, across all their apps and all
//     nodes: an accepted code claims "totp:<user id>:<step>" in the session backend
//     (mfa.Handler.Replay) for four steps, which outlasts the step's
//     acceptance window plus clock differences between nodes. A second use
//     is refused and audited as "code already used" (RFC 6238 §5.2: the
//     verifier must not accept the second attempt of an OTP).
//   - Wrong or replayed codes count as failed attempts (mfa.Handler.Fail),
//     so the core's per-user and per-IP throttle bounds guessing. Input that
//     cannot be a code (not six digits once spaces are removed) is refused
//     with a hint and not counted: it guesses nothing.
//   - Enrolment stores an unconfirmed enrolment first; it counts for
//     nothing until a code from the app confirms it, and confirming counts
//     as presenting the factor. Visiting the page again within 30 minutes
//     shows the same pending key (a reload does not break what was just
//     scanned); older pending keys of the user, and any beyond the newest,
//     are deleted on that visit. A confirmation posted for a key that is
//     gone shows a fresh key and says so. There is no background sweep: a
//     pending key someone abandons stays sealed until their next visit.
//   - A wrong confirmation code is a failed attempt and changes nothing;
//     the same key is shown again. The confirming code claims its step like
//     any other, so it cannot pass a step-up straight after; the app's next
//     code can.
//
// totp is layer 2 under mfa: it imports mfa, policy, keys, session, store and
// web, and no other domain package.
package totp
