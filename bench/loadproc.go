package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"time"
)

// childEnv carries a load job from a benchmark to the child process that
// runs it (Child).
const childEnv = "PORTCULLIS_BENCH_LOAD_JOB"

// Remote is a Load run by a child process, as a reverse proxy in front of
// the gateway is another process: the servers under test then share the
// cores with the load generator, as in production, but not their
// allocator and garbage collector with it. The child is the running test
// binary itself: its TestMain must call Child first.
type Remote struct {
	job job
}

// job is what the child runs.
type job struct {
	URL    string
	Header http.Header
	Conns  int
	Check  string  // the name of the check, in the map Child was given
	N      int     // requests timed
	Rate   float64 // requests a second (Paced); 0: all at once (Run)
}

// report is what the child measured.
type report struct {
	Result Result
	CPU    time.Duration // the child's own CPU time for the N requests
	Err    string
}

// NewRemote returns a Load for target (see NewLoad) run in a child process;
// check names the function that judges each response in the child.
func NewRemote(target string, header http.Header, conns int, check string) *Remote {
	return &Remote{job: job{URL: target, Header: header, Conns: conns, Check: check}}
}

// Run sends n requests from a new child process over r's connections,
// opened and used for 4×conns requests first, untimed: all at once (each
// connection kept busy) when rate is 0, otherwise on a fixed schedule of
// rate a second (Paced). It returns what the child measured and the CPU
// time it spent on the n requests.
func (r *Remote) Run(n int, rate float64) (Result, time.Duration, error) {
	j := r.job
	j.N, j.Rate = n, rate
	raw, err := json.Marshal(j)
	if err != nil {
		return Result{}, 0, err
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(raw))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return Result{}, 0, fmt.Errorf("bench: load process: %w: %s", err, errOut.String())
	}
	var rep report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		return Result{}, 0, fmt.Errorf("bench: load process said %q: %w", out.String(), err)
	}
	if rep.Err != "" {
		return rep.Result, rep.CPU, errors.New(rep.Err)
	}
	return rep.Result, rep.CPU, nil
}

// Child runs the load job its parent (Remote.Run) put in the environment,
// if there is one, prints the report on standard output and exits; without
// one it returns at once. checks are the response checks a job may name.
func Child(checks map[string]func(*http.Response) error) {
	raw := os.Getenv(childEnv)
	if raw == "" {
		return
	}
	rep := runJob(raw, checks)
	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		os.Exit(2)
	}
	os.Exit(0)
}

func runJob(raw string, checks map[string]func(*http.Response) error) report {
	var j job
	if err := json.Unmarshal([]byte(raw), &j); err != nil {
		return report{Err: "bad job: " + err.Error()}
	}
	check, ok := checks[j.Check]
	if !ok {
		return report{Err: fmt.Sprintf("no check named %q", j.Check)}
	}
	l, err := NewLoad(j.URL, j.Header, j.Conns, check)
	if err != nil {
		return report{Err: err.Error()}
	}
	defer l.Close()
	if _, err := Run(4*j.Conns, j.Conns, l.Do); err != nil {
		return report{Err: "warming up: " + err.Error()}
	}
	cpu := CPUTime()
	var res Result
	if j.Rate > 0 {
		res, err = Paced(j.N, j.Conns, j.Rate, l.Do)
	} else {
		res, err = Run(j.N, j.Conns, l.Do)
	}
	rep := report{Result: res, CPU: CPUTime() - cpu}
	if err != nil {
		rep.Err = err.Error()
	}
	return rep
}
