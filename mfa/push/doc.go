// Package push is the "Push notification" second factor with number
// matching, and the device side of its protocol. A device (a phone app,
// or `gateway authenticator`) holds an Ed25519 key; when a user must step
// up, the browser shows a two-digit number and the device, which is told
// who signs in where but not the number, must send that number back,
// signed. PROTOCOL.md beside this file is the wire reference.
//
// Browser pages (CSRF-protected, built on mfa.Handler):
//
//	GET  /mfa/push/enrol[?c=]         a one-time enrolment link, as text and QR code; waits for the device
//	GET  /mfa/push/enrol/status?l=    the enrolment page's poll (JSON)
//	POST /mfa/push/enrol              the browser confirms the device it showed the link to (mfa.EnrolDone)
//	GET  /mfa/push?c=                 sends a push and shows its number; waits for the answer
//	GET  /mfa/push/status?id=&c=      the push page's poll (JSON)
//	POST /mfa/push                    completes an approved push (mfa.Succeed)
//
// Device API (JSON, no cookies, every request signed by the device key):
//
//	POST /push/v1/enrol               register a public key with a link's token
//	GET  /push/v1/challenges[?wait=]  pending pushes of the device's user (long-poll)
//	POST /push/v1/challenges/{id}     approve with the number, or deny
//
// Enrolment is two-sided: the device's POST creates the enrolment
// unconfirmed, and the page that showed the link (the same browser session,
// through mfa.Handler.BeginEnrol again) confirms it and calls EnrolDone
// with proven=false, so a device becomes active only with the consent of
// the session that asked for it, and its first use is a push. The page
// polls and moves on by itself; static/push.js does the polling for both
// pages and submits the page's form when the server says "done", so the
// server alone decides what happens next.
//
// Everything that must hold across nodes lives in the session backend
// (mfa.Handler.Replay): the challenge records, each user's index of pending
// challenges, enrolment links, and the claims that make approvals, link
// uses, completions and request nonces single-use. A node that makes a
// push also wakes its own held polls at once; other nodes' polls find it
// by reading the backend.
//
// Decisions:
//   - The number is 10 to 99 from crypto/rand: two digits, as the
//     established products show, are quick to type and leave an attacker
//     who guesses one chance in 90; a wrong number kills the challenge, so
//     there is no second guess.
//   - A challenge lives Options.ChallengeTTL (config mfa.push.challenge_ttl,
//     default 60 s, 10 s to 10 min). Its record stays five minutes longer so
//     that the browser and the device learn it expired rather than finding
//     nothing; the first request that sees it past its time (either poll,
//     an answer, the next push) marks it expired and audits
//     mfa.push.expired, once.
//   - At most Options.MaxPending (default 3) unanswered pushes per user,
//     across nodes: the check and the write are one versioned Replace of
//     the user's pending index. Over it the page says to wait (429) and the
//     refusal is audited (mfa.throttled). A reload of the push page shows
//     the same challenge instead of sending another: a challenge is bound
//     to the browser session and the continuation that made it.
//   - A denial (mfa.push.denied) and a wrong number
//     (mfa.push.suspected_fraud) end the challenge and count as failed
//     second-factor attempts in the core throttle, for the user and the
//     browser's address. An answer signed by another user's device is
//     refused as "no such challenge" and audited (mfa.failed).
//   - Only the browser session that made a challenge can complete it,
//     only with the continuation it was made for, and only once: the
//     approval (claim push:answer:ID) and the completion (claim push:done:ID)
//     are each claimed, and every state change is a versioned write.
//   - Signatures: Ed25519 over SigningString, six fields and the body's
//     SHA-256 in lines: label, method, path from /push/v1 on with the query,
//     Unix timestamp, device ID, a 128-bit nonce. Ed25519 because it is in
//     the standard library and every phone platform, with small keys and no
//     parameters to get wrong; the body hash covers the decision and the
//     number, the path the challenge ID.
//   - Clock window: ±60 s (Options.ClockWindow); a request outside it gets
//     "clock_skew" and the offset, so the user can fix the device's clock.
//     Each nonce is claimed for longer than the window on either side, so a
//     captured request cannot be replayed even within it.
//   - Device IDs are "ENROLMENT.RANDOM": the number finds the enrolment,
//     the 128-bit random part is compared in constant time. The enrolment
//     is read from the store on every request, so removing it on the
//     devices page makes the device's next request fail (401).
//   - Enrolment links are https://BASE/push/v1/enrol#TOKEN: the token (256
//     bits) is in the fragment, which browsers never send, so a link opened
//     by mistake leaves no trace in logs. The backend keys the link by the
//     token's SHA-256 and keeps the token only sealed (keys.SealFor, bound
//     to the user), to show the page again. It works once, within 10
//     minutes (LinkTTL). The device proves it holds the key by signing its
//     enrolment request with it.
//   - Delivery: the device long-polls GET /push/v1/challenges, held up to
//     25 s (MaxWait), reading the backend every 250 ms
//     (Options.PollInterval) and woken at once by pushes made on the same
//     node. Polls end at once when the node shuts down (Drain).
//   - Webhook: with Options.WebhookURL set, each new push is POSTed there
//     as JSON (WebhookPayload: type, the challenge as a device sees it, the
//     user's device IDs, the time), in the background within 5 s, signed
//     in the X-Portcullis-Signature header as "t=UNIX,v1=HEX", HEX being
//     HMAC-SHA256 under the webhook secret of "UNIX." and the body (the
//     timestamp stops replays; VerifyWebhook checks it). A failing relay is
//     logged; the device's poll still finds the push.
//   - What the device sees: the challenge ID, the user's email, the app,
//     the browser's IP address, when it was made and when it expires.
//     Never the number (nor does the webhook): the user can only get it
//     from the browser they sign in with, which is the point of matching.
//   - The challenge (number included) sits in the session backend in the
//     clear for at most ChallengeTTL plus five minutes; reading it is no
//     use without a device key, and browser sessions are bound by a hash,
//     never by their ID.
//
// push is layer 2 (under mfa). device.go and protocol.go, the device side,
// use the standard library only.
package push
