"""R's random number stream, so a bootstrap can be reproduced draw for draw.

SparseMSE's ``estimatepopulation(zdat, iseed=1234)`` calls ``set.seed(1234)``
and then ``rmultinom`` once per replicate. Published intervals come from that
exact stream; with any other generator a 1,000-replicate BCa interval moves by
several per cent (the upper tail of the bootstrap distribution is long), so a
user comparing tipsom with a published R result could not tell a real
difference from Monte Carlo noise. This module regenerates R's stream:

* ``set.seed``: R's default Mersenne-Twister, seeded by R's linear
  congruential scrambling (``RNG_Init``); the twister itself is numpy's
  ``MT19937``, which is the same generator, given R's state;
* ``unif_rand``: the 32-bit output times 2^-32, kept inside (0, 1);
* ``rbinom``: Kachitvichyanukul and Schmeiser's BTPE algorithm (1988) with
  inversion below a mean of 30, as R's ``nmath`` implements it;
* ``rmultinom``: sequential conditional binomials, with the remaining
  probability kept in extended precision as R does on x86-64.

Checked against R's documented first uniforms for seeds 1, 42 and 1234, and,
end to end, against SparseMSE's published BCa interval for UKdat_5.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

_LCG_MULTIPLIER = 69069
_MASK32 = 0xFFFFFFFF
_TWO_POW_MINUS_32 = 2.3283064365386963e-10
#: R keeps uniforms strictly inside (0, 1) with this margin (``fixup`` in RNG.c).
_EDGE = 0.5 * 2.328306437080797e-10
_BLOCK = 4096


class RStream:
    """Uniform, binomial and multinomial draws identical to R after ``set.seed(seed)``."""

    def __init__(self, seed: int) -> None:
        state = seed & _MASK32
        for _ in range(50):  # R's initial scrambling
            state = (_LCG_MULTIPLIER * state + 1) & _MASK32
        words = []
        for _ in range(625):  # the first word is R's position counter, overwritten below
            state = (_LCG_MULTIPLIER * state + 1) & _MASK32
            words.append(state)
        self._twister = np.random.MT19937()
        self._twister.state = {
            "bit_generator": "MT19937",
            "state": {"key": np.array(words[1:], dtype=np.uint32), "pos": 624},
        }
        self._buffer: list[float] = []
        self._next = 0

    def unif_rand(self) -> float:
        if self._next == len(self._buffer):
            self._buffer = (self._twister.random_raw(_BLOCK) * _TWO_POW_MINUS_32).tolist()
            self._next = 0
        u = self._buffer[self._next]
        self._next += 1
        if u <= 0.0:
            return _EDGE
        if 1.0 - u <= 0.0:
            return 1.0 - _EDGE
        return u

    def rbinom(self, n: int, pp: float) -> int:
        """One binomial draw with R's algorithm and consumption of uniforms."""
        if n == 0 or pp == 0.0:
            return 0
        if pp == 1.0:
            return n
        p = min(pp, 1.0 - pp)
        q = 1.0 - p
        np_ = n * p
        r = p / q
        g = r * (n + 1)
        ix = self._small_mean(n, q, g, r) if np_ < 30.0 else self._btpe(n, p, q, np_, g, r)
        return n - ix if pp > 0.5 else ix

    def _small_mean(self, n: int, q: float, g: float, r: float) -> int:
        """Inversion of the cdf, restarted after 110 steps as in R."""
        qn = _pow_di(q, n)
        while True:
            ix = 0
            f = qn
            u = self.unif_rand()
            while True:
                if u < f:
                    return ix
                if ix > 110:
                    break
                u -= f
                ix += 1
                f *= g / ix - r

    def _btpe(self, n: int, p: float, q: float, np_: float, g: float, r: float) -> int:
        """Triangle, parallelogram and exponential tails with squeeze tests."""
        ffm = np_ + p
        m = int(ffm)
        fm = float(m)
        npq = np_ * q
        p1 = int(2.195 * math.sqrt(npq) - 4.6 * q) + 0.5
        xm = fm + 0.5
        xl = xm - p1
        xr = xm + p1
        c = 0.134 + 20.5 / (15.3 + fm)
        al = (ffm - xl) / (ffm - xl * p)
        xll = al * (1.0 + 0.5 * al)
        al = (xr - ffm) / (xr * q)
        xlr = al * (1.0 + 0.5 * al)
        p2 = p1 * (1.0 + c + c)
        p3 = p2 + c / xll
        p4 = p3 + c / xlr
        while True:
            u = self.unif_rand() * p4
            v = self.unif_rand()
            if u <= p1:  # triangle: accept at once
                return int(xm - p1 * v + u)
            if u <= p2:  # parallelogram
                x = xl + (u - p1) / c
                v = v * c + 1.0 - abs(xm - x) / p1
                if v > 1.0 or v <= 0.0:
                    continue
                ix = int(x)
            elif u > p3:  # right exponential tail
                ix = int(xr - math.log(v) / xlr)
                if ix > n:
                    continue
                v = v * (u - p3) * xlr
            else:  # left exponential tail
                ix = int(xl + math.log(v) / xll)
                if ix < 0:
                    continue
                v = v * (u - p2) * xll
            if _accept(ix, m, fm, n, v, npq, xm, p, q, g, r):
                return ix

    def rmultinom(self, size: int, prob: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        """One multinomial vector: ``rmultinom(1, size, prob)`` with ``prob`` normalised as R does."""
        weights = [float(w) for w in prob / float(np.sum(prob[prob > 0]))]
        out = np.zeros(len(weights), dtype=np.int64)
        remaining_p = np.longdouble(0.0)
        for w in weights:
            remaining_p += np.longdouble(w)
        left = size
        for k, w in enumerate(weights[:-1]):
            if w > 0.0:
                share = float(np.longdouble(w) / remaining_p)
                drawn = self.rbinom(left, share) if share < 1.0 else left
                out[k] = drawn
                left -= drawn
            if left <= 0:
                return out
            remaining_p -= np.longdouble(w)
        out[-1] = left
        return out


def _accept(ix: int, m: int, fm: float, n: int, v: float, npq: float, xm: float,
            p: float, q: float, g: float, r: float) -> bool:
    """BTPE's acceptance test: exact ratio near the mode, squeeze and Stirling further out."""
    k = abs(ix - m)
    if k <= 20 or k >= npq / 2 - 1:
        f = 1.0
        if m < ix:
            for i in range(m + 1, ix + 1):
                f *= g / i - r
        elif m != ix:
            for i in range(ix + 1, m + 1):
                f /= g / i - r
        return v <= f
    amaxp = k / npq * ((k * (k / 3.0 + 0.625) + 0.1666666666666) / npq + 0.5)
    ynorm = -k * k / (2.0 * npq)
    alv = math.log(v)
    if alv < ynorm - amaxp:
        return True
    if alv > ynorm + amaxp:
        return False
    x1 = ix + 1.0
    f1 = fm + 1.0
    z = n + 1.0 - fm
    w = n - ix + 1.0
    bound = (xm * math.log(f1 / x1) + (n - m + 0.5) * math.log(z / w) + (ix - m) * math.log(w * p / (x1 * q))
             + _stirling_tail(f1) + _stirling_tail(z) + _stirling_tail(x1) + _stirling_tail(w))
    return alv <= bound


def _stirling_tail(x: float) -> float:
    x2 = x * x
    return (13860.0 - (462.0 - (132.0 - (99.0 - 140.0 / x2) / x2) / x2) / x2) / x / 166320.0


def _pow_di(x: float, n: int) -> float:
    """``x ** n`` by repeated squaring, rounding as R's ``R_pow_di`` does."""
    result = 1.0
    while True:
        if n & 1:
            result *= x
        n >>= 1
        if not n:
            return result
        x *= x
