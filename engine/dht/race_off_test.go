//go:build !race

package dht

// raceDetector is set when the tests run under the race detector, which
// makes the in-process simulation several times slower.
const raceDetector = false
