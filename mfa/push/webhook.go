package push

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/portcullis/portcullis/store"
)

// WebhookHeader carries a webhook's signature: "t=UNIX,v1=HEX", where HEX
// is HMAC-SHA256 under the webhook secret of "UNIX." followed by the body.
const WebhookHeader = "X-Portcullis-Signature"

// WebhookEvent is the type of the only webhook sent.
const WebhookEvent = "push.challenge"

// WebhookPayload is the JSON body POSTed to Options.WebhookURL when a push is
// made, so that a relay can wake the user's phones. Like the device, the
// relay never learns the number.
type WebhookPayload struct {
	Type      string    `json:"type"`
	Challenge Challenge `json:"challenge"`
	// Devices are the IDs of the user's enrolled devices, for the relay
	// to find their push tokens.
	Devices []string  `json:"devices"`
	Sent    time.Time `json:"sent"`
}

// WebhookSignature returns the WebhookHeader value for body sent at t.
func WebhookSignature(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(webhookMAC(secret, ts, body))
}

func webhookMAC(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	return m.Sum(nil)
}

// VerifyWebhook checks a WebhookHeader value against body, in constant
// time, and that its time is within tolerance of now; relays (and tests)
// use it.
func VerifyWebhook(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, sig := webhookFields(header)
	unix, err := strconv.ParseInt(ts, 10, 64)
	got, herr := hex.DecodeString(sig)
	if err != nil || herr != nil {
		return errors.New("push: malformed webhook signature header")
	}
	if d := now.Sub(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
		return errors.New("push: webhook signature too old or from the future")
	}
	if !hmac.Equal(got, webhookMAC(secret, ts, body)) {
		return errors.New("push: webhook signature does not match")
	}
	return nil
}

// sendWebhook POSTs the new challenge to the webhook, in the background and
// within WebhookTimeout: the browser does not wait for the relay, and a
// relay that is down only costs the phone its wake-up (the device's poll
// still finds the push).
func (f *Factor) sendWebhook(c *challenge, devs []store.Enrolment) {
	if f.opts.WebhookURL == "" {
		return
	}
	p := WebhookPayload{Type: WebhookEvent, Challenge: c.view(), Devices: []string{}, Sent: f.core.NowTime()}
	for _, e := range devs {
		var d deviceData
		if json.Unmarshal(e.Data, &d) == nil {
			p.Devices = append(p.Devices, d.DeviceID)
		}
	}
	body, _ := json.Marshal(p)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), f.opts.WebhookTimeout)
		defer cancel()
		if err := f.postWebhook(ctx, body, p.Sent); err != nil {
			f.logger().Warn("push: webhook failed", "challenge", c.ID, "err", err)
		}
	}()
}

func (f *Factor) postWebhook(ctx context.Context, body []byte, sent time.Time) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.opts.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Portcullis push webhook")
	req.Header.Set(WebhookHeader, WebhookSignature(f.opts.WebhookSecret, sent, body))
	resp, err := f.opts.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}

// webhookFields reads the t and v1 fields of a WebhookHeader value; spacing,
// order and unknown fields do not matter.
func webhookFields(header string) (ts, sig string) {
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	return ts, sig
}
