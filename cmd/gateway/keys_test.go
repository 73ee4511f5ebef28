package main

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/internal/server"
	"github.com/portcullis/portcullis/keys"
)

func TestKeysRotate(t *testing.T) {
	e := dataEnv(t)
	var list []keyView
	decode(t, mustRun(t, e, "", "keys", "list", "--json").stdout, &list)
	if len(list) != 0 {
		t.Fatalf("keys before any start: %+v", list)
	}
	var rotated map[string]any
	decode(t, mustRun(t, e, "", "keys", "rotate", "--json").stdout, &rotated)
	decode(t, mustRun(t, e, "", "keys", "list", "--json").stdout, &list)
	if len(list) != 2 || list[0].State != "active" || list[1].State != "next" || !list[1].Published ||
		list[1].Fingerprint != rotated["sha256_fingerprint"] {
		t.Fatalf("after rotate: %+v (rotated %v)", list, rotated)
	}
	if fp := dataDirFingerprint(t, e); list[0].Fingerprint != fp {
		t.Errorf("the active key is not the data dir's: %s vs %s", list[0].Fingerprint, fp)
	}

	r := gw(t, e, "", "keys", "rotate")
	if r.code != 1 || !strings.Contains(r.stderr, "already pending") || !strings.Contains(r.stderr, "--force") {
		t.Errorf("second rotate: %+v", r)
	}
	decode(t, mustRun(t, e, "", "keys", "rotate", "--force", "--json").stdout, &rotated)
	if ids, _ := rotated["replaced"].([]any); len(ids) != 1 {
		t.Errorf("forced rotate replaced %v", rotated["replaced"])
	}
	out := mustRun(t, e, "", "keys", "rotate", "--now", "--force").stdout
	if !strings.Contains(out, "signs now") {
		t.Errorf("rotate --now said:\n%s", out)
	}
	decode(t, mustRun(t, e, "", "keys", "list", "--json").stdout, &list)
	if len(list) != 2 || list[0].State != "retired" || !list[0].Published || list[0].PublishedUntil == "" ||
		list[1].State != "active" {
		t.Errorf("after rotate --now: %+v", list)
	}
	if out := mustRun(t, e, "", "keys", "list").stdout; !strings.Contains(out, "published until") {
		t.Errorf("keys list:\n%s", out)
	}
	if n, c := eventCount(t, e, server.EventKeyRotated), eventCount(t, e, server.EventKeyCreated); n != 3 || c != 1 {
		t.Errorf("%d key.rotated and %d key.created events, want 3 and 1", n, c)
	}
}

func dataDirFingerprint(t *testing.T, environ []string) string {
	t.Helper()
	var dir string
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "GATEWAY_DATA_DIR="); ok {
			dir = v
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "keys", "signing.crt"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return keys.Fingerprint(cert)
}
