// Package webauthn is the "Security key or passkey" factor, built on
// github.com/go-webauthn/webauthn. It registers security keys and platform
// authenticators (several per user, each with a name), verifies them as a
// second factor in the step-up flow, and signs a user in with a passkey
// alone from the sign-in page.
//
// Pages and endpoints (every POST carries the CSRF token as the form field
// "_csrf"; the answers of the POSTs are JSON, read by static/webauthn.js):
//
//	GET  /mfa/webauthn?c=TOKEN          step-up page
//	POST /mfa/webauthn/begin            options for navigator.credentials.get
//	POST /mfa/webauthn/finish           the assertion → {"redirect": target}
//	GET  /mfa/webauthn/enrol[?c=TOKEN]  registration page
//	POST /mfa/webauthn/enrol/begin      options for navigator.credentials.create
//	POST /mfa/webauthn/enrol/finish     the attestation → {"redirect": target}
//	POST /mfa/webauthn/passkey/begin    discoverable login, no user yet
//	POST /mfa/webauthn/passkey/finish   the assertion → a new session
//
// A begin answers {"ceremony": ID, "publicKey": options}; the finish posts
// the ceremony ID and the credential (the PublicKeyCredential as JSON, binary
// members base64url) as the form fields "ceremony" and "credential". The
// POSTs are forms rather than JSON bodies so that they pass through the
// same CSRF check and mfa.Handler.Begin as every other form. A failure the
// browser may retry is {"error": message} with 4xx; an answer that is not
// JSON (the core's pages: sign in first, throttled, expired) makes the
// script reload the page, which then shows it.
//
// Each enrolment is a store.Enrolment{Factor: "webauthn", Confirmed: true}
// whose Data is the go-webauthn Credential as JSON: credential ID, COSE
// public key, sign count, transports, flags, AAGUID, attestation.
//
// Decisions:
//   - Passkey sign-ins that anyone may start are bounded per client IP
//     (MaxPasskeyBegins a minute), since each stores a ceremony record in
//     the session backend before anyone is known.
//   - Resident key "preferred": platform authenticators and current security
//     keys create a discoverable credential (a passkey that can sign in
//     alone), while older keys with no slot left, or none at all, can still
//     be registered as a second factor. "required" would turn those keys
//     away for no gain in the step-up.
//   - User verification: "preferred" for registration and the step-up,
//     where the key is the second factor beside a password, so a key with
//     no PIN or biometric still counts as possession; "required" for the
//     passkey sign-in, where the key is the only thing presented: without
//     the UV flag (PIN, fingerprint, face) the assertion is refused,
//     whatever the options said, checked by go-webauthn and again here.
//   - A passkey sign-in with user verification satisfies MFA: it proves
//     possession of the authenticator and something the user knows or is
//     (the PIN or biometric unlocking it), NIST SP 800-63B's multi-factor
//     cryptographic authenticator. The new session records the factor
//     "webauthn" (amr "hwk" and "mfa") and no password.
//   - Sign counter (WebAuthn §7.2 step 21): when the received or the stored
//     count is not zero, the received one must be greater than the stored
//     one, else go-webauthn sets CloneWarning and the assertion is refused,
//     audited as mfa.webauthn.counter_regression, and the stored count is
//     left as it was. Authenticators that keep no counter (both zero, as
//     synced passkeys do) pass. The check is repeated against the record
//     read inside the transaction that stores the new count, so two
//     assertions racing with a cloned key cannot both advance it.
//   - Attestation "none" is asked for and accepted (as is any statement
//     go-webauthn can verify): the gateway keeps no list of approved
//     authenticator models, and the trust decision is the user's own
//     registration behind a signed-in session (and a recent second factor
//     once they have one), not the make of the key. Asking for none also
//     spares users the browser's "see the make and model" prompt.
//   - Ceremony state (go-webauthn's SessionData: challenge, RP ID, allowed
//     credentials, UV requirement) lives server-side in the session
//     backend (mfa.Handler.Replay) under a random ID for CeremonyTTL (5
//     minutes; the browser is told 2), so any node can finish what another
//     began. It is single-use: the finish claims the ID before reading it,
//     so a replayed or concurrent finish is refused, and a failed finish
//     uses it up too. Step-up and registration ceremonies are bound to the
//     user and to the session that began them (a hash of its ID); the
//     passkey ceremony has no session yet, and the assertion itself, bound
//     to our origin by the browser, is the proof.
//   - RP ID: base_url's host unless mfa.webauthn.rp_id names a parent
//     domain (config checks it), so credentials work across a family of
//     hosts; the origin is always base_url's, exactly. A base_url whose host
//     is an IP address cannot be an RP ID: the factor then reports Err, is
//     not offered (Usable is false) and its routes answer 503.
//   - User handle: 16 bytes, the user's ID encrypted with AES-256 under a
//     key derived from the master secret (one block, so it is stable and
//     reversible without a lookup table, and reveals nothing about the
//     user). A passkey sign-in reads the user from it. Rotating the master
//     secret would orphan every passkey, as it already would every TOTP
//     secret.
//   - Credential records are stored as plain JSON, not sealed: they hold
//     only public data, and the store is trusted with integrity as it is
//     with password hashes. A credential ID is refused when the user has it
//     already; IDs are not compared across users, since a passkey sign-in
//     looks the credential up under the user its handle names.
//   - Passkey sign-in failures are throttled like the step-up (the "mfa"
//     budget): per user and IP once the user handle names a user, per IP
//     (under a per-IP pseudo-user) while it names no one. Unknown
//     credentials, bad assertions and disabled users get one message; the
//     audit trail (login.failed, method passkey) has the reason. A user who
//     must reset their password is told, once the assertion has verified,
//     to sign in with it instead (not counted as a failure). The return
//     target is a local path or one mfa.Handler.AllowReturn accepts, else
//     "/".
//   - The JSON endpoints reuse the core's Begin, BeginEnrol, Succeed and
//     EnrolDone; the redirect those answer with is handed to the script as
//     {"redirect": URL}, since fetch cannot read a redirect's target.
//
// webauthn is layer 2, inside the mfa family: it imports mfa, policy, web,
// session, store and audit, and no other domain package.
package webauthn
