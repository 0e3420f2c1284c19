// Package phi implements the mathematics of the φ accrual failure detector
// described by N. Hayashibara, X. Défago, R. Yared and T. Katayama,
// "The φ Accrual Failure Detector", Proc. 23rd IEEE International Symposium
// on Reliable Distributed Systems (SRDS 2004), pp. 66–78.
//
// Instead of a binary up/down verdict, an accrual detector outputs a
// suspicion level φ that grows continuously while a monitored subject stays
// silent. With the inter-arrival times of its heartbeats modelled as a
// normal distribution N(μ, σ²), the probability that the next heartbeat
// arrives later than t = elapsed time since the last one is
//
//	P_later(t) = 1 − Φ((t − μ)/σ) = ½·erfc((t − μ)/(σ√2))
//
// and
//
//	φ(t) = −log10(P_later(t)).
//
// A threshold of φ = 1 therefore means a 10% chance that suspecting the
// subject is a mistake, φ = 2 a 1% chance, φ = 8 a 10⁻⁸ chance, and so on.
//
// This package uses the exact normal tail (math.Erfc), not the logistic
// approximation used by Akka, and evaluates it so that φ is finite, never
// negative, never NaN and non-decreasing in the elapsed time for every
// input: in the far tail, where erfc underflows, log(erfc) is taken from its
// asymptotic expansion. See [Phi] for the precise definition and
// [ElapsedAtPhi] for its inverse, which turns a threshold into a detection
// time.
//
// [History] keeps the bounded window of inter-arrival intervals of one
// subject, with running sums so that the mean and standard deviation are
// O(1), and applies the configuration in [Config]: a first-heartbeat
// estimate while fewer than two samples exist, a floor on the standard
// deviation, and an acceptable heartbeat pause added to the mean.
//
// The package is pure: it never reads the clock, starts no goroutines and
// does no I/O; every instant is passed in by the caller. A History is not
// safe for concurrent use.
package phi
