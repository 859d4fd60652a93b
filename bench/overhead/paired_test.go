package main

import (
	"math"
	"testing"
	"time"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestMeanRatioIsGeometric(t *testing.T) {
	p := meanRatio([]float64{0.9, 1 / 0.9})
	if !near(p.mean, 1) || p.n != 2 {
		t.Fatalf("0.9 and 1/0.9: got %+v, want a mean of 1 over 2", p)
	}
	// logs ±ln(0.9): sd = |ln 0.9|·√2, half-width t(1)·sd/√2 = 12.706·|ln 0.9|.
	if want := math.Exp(12.706 * math.Log(1/0.9)); !near(p.hi, want) || !near(p.lo, 1/want) {
		t.Fatalf("interval %v–%v, want %v–%v", p.lo, p.hi, 1/want, want)
	}
}

func TestPairRatiosLeaveOutEmptyRounds(t *testing.T) {
	p := pairRatios([]float64{2, 0, 3, 4}, []float64{1, 5, -1, 2})
	if p.n != 2 || !near(p.mean, 2) || !near(p.lo, 2) || !near(p.hi, 2) {
		t.Fatalf("got %+v, want 2 rounds of ratio 2 exactly", p)
	}
	if got := pairRatios(nil, nil); got.n != 0 || got.String() != "—" {
		t.Fatalf("no rounds: %+v %q", got, got.String())
	}
}

func TestVerdictsFollowTheInterval(t *testing.T) {
	for _, c := range []struct {
		p           pairedRatio
		least, most string
	}{
		{pairedRatio{mean: 0.98, lo: 0.975, hi: 0.985, n: 6}, "met", "met"},
		{pairedRatio{mean: 0.96, lo: 0.95, hi: 0.965, n: 6}, "MISSED", "met"},
		{pairedRatio{mean: 0.975, lo: 0.965, hi: 0.985, n: 6}, "not shown (the interval holds the goal)", "met"},
		{pairedRatio{mean: 1.05, lo: 1.04, hi: 1.06, n: 6}, "met", "MISSED"},
		{pairedRatio{mean: 1.0, n: 1}, "not shown (one round)", "not shown (one round)"},
	} {
		if got := c.p.atLeast(0.97); got != c.least {
			t.Errorf("%v atLeast(0.97) = %q, want %q", c.p, got, c.least)
		}
		if got := c.p.atMost(1.03); got != c.most {
			t.Errorf("%v atMost(1.03) = %q, want %q", c.p, got, c.most)
		}
	}
	inv := pairedRatio{mean: 1.025, lo: 1.01, hi: 1.04, n: 6}.inverse()
	if !near(inv.mean, 1/1.025) || !near(inv.lo, 1/1.04) || !near(inv.hi, 1/1.01) {
		t.Fatalf("inverse %+v", inv)
	}
}

func TestTQuantile(t *testing.T) {
	if tQuantile975(5) != 2.571 || tQuantile975(40) != 2.00 || tQuantile975(100) != 1.96 || !math.IsInf(tQuantile975(0), 1) {
		t.Fatal("t quantiles off the table")
	}
}

// A stack 3% faster than the other skews each round one way or the other
// with who is traced; pairs of rounds cancel it.
func TestPairsOfRoundsCancelAStackGap(t *testing.T) {
	cost, gap := 1.02, 1.03
	var rs []abRound
	for i := range 6 {
		r := abRound{traced: i % 2}
		traced, control := cost*gap, 1.0 // A traced: A is the slower stack
		if r.traced == 1 {
			traced, control = cost, gap
		}
		r.side[r.traced].requests, r.side[1-r.traced].requests = 1, 1
		r.side[r.traced].workers = time.Duration(traced * 1e6)
		r.side[1-r.traced].workers = time.Duration(control * 1e6)
		rs = append(rs, r)
	}
	perReq := func(s abSide) float64 { return s.perReq(s.workers) }
	if p := ratioOf(rs, perReq); math.Abs(p.mean-cost) > 1e-6 || p.hi-p.lo > 1e-6 {
		t.Fatalf("pairs: %+v, want %v with no spread", p, cost)
	}
	single := eachRound(rs, func(r abRound) float64 { return perReq(r.tracedSide()) / perReq(r.controlSide()) })
	if single.hi-single.lo < 0.02 {
		t.Fatalf("single rounds should carry the gap as spread: %+v", single)
	}
}
