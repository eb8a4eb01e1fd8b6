"""Smooth, seekable pseudo-random noise: the same value at the same point, whatever is computed.

A per-day RNG cannot make a signal continuous across day boundaries, and a global RNG cannot be
read at an arbitrary instant without replaying everything before it.  Value noise solves both:
each integer knot gets a pseudo-random value from a hash of (seed, channel, knot), and points in
between are smoothly interpolated.  The hash is SplitMix64's finaliser, vectorised with numpy's
wrapping uint64 arithmetic.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_CHANNEL = 0xD6E8FEB86659FD93
_MASK64 = (1 << 64) - 1


def _splitmix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def knot_values(seed: int, channel: int, knots: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """A uniform value in [-1, 1) for every integer knot, fixed by (seed, channel, knot)."""
    # Python ints for the scalar key: numpy warns on scalar overflow, arrays wrap silently.
    key = np.uint64((seed ^ (channel * _CHANNEL)) & _MASK64)
    mixed = _splitmix(_splitmix(knots.astype(np.uint64) ^ key) + key)
    return (mixed >> np.uint64(11)).astype(np.float64) * (2.0 / (1 << 53)) - 1.0


def value_noise(seed: int, channel: int, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Smooth noise in [-1, 1] at real positions `x` (knots at integers, C1-continuous)."""
    if x.size == 0:
        return np.empty(0, dtype=np.float64)
    floor = np.floor(x)
    frac = x - floor
    knots = floor.astype(np.int64)
    # Hash each knot once: a day of samples spans far fewer knots than it has samples.
    first = int(knots.min())
    table = knot_values(seed, channel, np.arange(first, int(knots.max()) + 2, dtype=np.int64))
    index = knots - first
    left = table[index]
    right = table[index + 1]
    blend = frac * frac * (3.0 - 2.0 * frac)
    return left + (right - left) * blend
