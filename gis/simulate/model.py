"""What simulated stations measure: a daily cycle, noise, and now and then an episode or an outage.

Pure functions of a numpy Generator and the simulated clock, so one seed gives one history.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from gis.demo.history import AIR_POLLUTANTS, OUTLET_POLLUTANTS, WATER_POLLUTANTS

MODELS = {"air": AIR_POLLUTANTS, "water": WATER_POLLUTANTS, "outlet": OUTLET_POLLUTANTS}
ST_CODES = {"air": "22", "water": "32", "outlet": "31"}  # HJ 212 system codes: air, surface water, flue gas
EPISODE_PER_HOUR = 0.01   # per station and simulated hour, times --rate: a pollution episode starts
OUTAGE_PER_HOUR = 0.002   # … a station goes silent (power, network) for a few hours
FAULT_SHARE = 0.002       # share of readings flagged D (故障)


@dataclass(slots=True)
class SimStation:
    id: int
    mn: str
    kind: str
    bias: float
    episode_until: datetime | None = None
    episode_factor: float = 1.0
    silent_until: datetime | None = None

    def silent(self, at: datetime) -> bool:
        return self.silent_until is not None and at < self.silent_until


def new_hour(station: SimStation, at: datetime, rng: np.random.Generator, rate: float) -> None:
    """Roll the dice for an episode or an outage starting this hour."""
    if station.episode_until is not None and at >= station.episode_until:
        station.episode_until, station.episode_factor = None, 1.0
    if station.episode_until is None and rng.random() < EPISODE_PER_HOUR * rate:
        station.episode_until = at + timedelta(hours=int(rng.integers(2, 7)))
        station.episode_factor = float(rng.uniform(2.5, 5.0))
    if not station.silent(at) and rng.random() < OUTAGE_PER_HOUR * rate:
        station.silent_until = at + timedelta(hours=int(rng.integers(3, 7)))


def measure(station: SimStation, at: datetime, rng: np.random.Generator) -> dict[str, tuple[float, str]]:
    """code → (value, flag) at ``at``: daily cycle peaking in the afternoon, noise, episode factor."""
    phase = np.sin((at.hour + at.minute / 60 - 8) / 24 * 2 * np.pi)
    factor = station.episode_factor if station.episode_until is not None and at < station.episode_until else 1.0
    values = {}
    for code, (base, swing, noise) in MODELS[station.kind].items():
        value = max(0.0, station.bias * (base + swing * phase) * factor + rng.normal(0, noise))
        flag = "D" if rng.random() < FAULT_SHARE else "N"
        values[code] = (round(float(value), 3), flag)  # a numpy float would print as "np.float64(…)" in a frame
    return values
