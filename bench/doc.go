// Package bench holds the gateway's load and micro benchmarks and the
// fixtures they share. The benchmarks are ordinary `go test -bench` functions
// (bench_test.go here, and those of the packages they measure); nothing in
// the test suite times anything. README.md says how to run them and what the
// figures mean.
//
// bench is layer 3: it assembles flows the way internal/server does, from
// the store, the session backend and the domain packages.
package bench
