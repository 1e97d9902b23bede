"""A closed-loop HTTP load generator: each connection sends its next request as soon as the last is answered."""

import http.client
import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

# How every throughput scenario runs, the projects API's (bench/run.py) and the renders API's
# (bench/render_api.py) alike: gunicorn processes, client connections, warm-up, rounds.
WORKERS = 2
CONNECTIONS = 4
WARMUP_SECONDS = 1.0
ROUNDS = 8
SLICE_SECONDS = 2.0
THROUGHPUT_HEADERS = [
    "scenario", "requests", "req/s", "p50 ms", "p99 ms", "p50 ms by round", "req/s ÷ base", "÷ base by round",
    "p50 ÷ base", "p99 ÷ base",
]


class UnexpectedResponse(RuntimeError):
    """The server answered a benchmark request with something other than 200."""


@dataclass
class Sample:
    """Latencies (seconds) of the requests answered within a measured stretch of `elapsed` seconds."""

    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0

    def add(self, other):
        self.latencies.extend(other.latencies)
        self.elapsed += other.elapsed

    @property
    def requests_per_second(self):
        return len(self.latencies) / self.elapsed

    def percentile_ms(self, fraction):
        """The nearest-rank percentile, in milliseconds."""
        ordered = sorted(self.latencies)
        rank = max(1, round(fraction * len(ordered)))
        return ordered[rank - 1] * 1000


@dataclass(frozen=True)
class Scenario:
    name: str
    paths: list[str]
    headers: dict[str, str]
    port: int


@dataclass
class Measurement:
    """All requests of one scenario, with each round's p50 and req/s kept to show the noise."""

    sample: Sample
    round_p50s_ms: list[float]
    round_rates: list[float] = field(default_factory=list)


def round_ratios(measured, baseline):
    """Each round's req/s over the baseline's in the same round (both ran in it, side by side)."""
    return [rate / base for rate, base in zip(measured.round_rates, baseline.round_rates, strict=True)]


def ratio_extra(measured, baseline):
    """What `latest.json` keeps beside a read's ratio: the median of its per-round ratios and their range."""
    ratios = round_ratios(measured, baseline)
    return {
        "round_median": round(statistics.median(ratios), 3),
        "range": [round(min(ratios), 3), round(max(ratios), 3)],
        "requests_per_second": round(measured.sample.requests_per_second, 1),
        "baseline_requests_per_second": round(baseline.sample.requests_per_second, 1),
        "p50_ms": round(measured.sample.percentile_ms(0.50), 2),
        "baseline_p50_ms": round(baseline.sample.percentile_ms(0.50), 2),
    }


def measure(scenarios):
    """Warm every scenario up, then run ROUNDS rounds that each give every scenario one slice of load."""
    for scenario in scenarios:
        run_slice(scenario, WARMUP_SECONDS)
    measurements = {scenario.name: Measurement(Sample(), []) for scenario in scenarios}
    for round_number in range(ROUNDS):
        # Rotate the order so that no scenario always runs first or right after the same neighbour.
        shift = round_number % len(scenarios)
        for scenario in scenarios[shift:] + scenarios[:shift]:
            sample = run_slice(scenario, SLICE_SECONDS)
            measurements[scenario.name].sample.add(sample)
            measurements[scenario.name].round_p50s_ms.append(sample.percentile_ms(0.50))
            measurements[scenario.name].round_rates.append(sample.requests_per_second)
    return measurements


def run_slice(scenario, seconds):
    return generate_load(
        port=scenario.port, paths=scenario.paths, headers=scenario.headers, duration=seconds, connections=CONNECTIONS
    )


def throughput_rows(measurements, *, baseline):
    """One THROUGHPUT_HEADERS row per measurement, with its ratios to the measurement named `baseline`."""
    base = measurements[baseline].sample
    rows = []
    for name, measurement in measurements.items():
        sample = measurement.sample
        by_round = round_ratios(measurement, measurements[baseline])
        rows.append(
            [
                name,
                f"{len(sample.latencies):,}",
                f"{sample.requests_per_second:.0f}",
                f"{sample.percentile_ms(0.50):.2f}",
                f"{sample.percentile_ms(0.99):.2f}",
                f"{min(measurement.round_p50s_ms):.2f}-{max(measurement.round_p50s_ms):.2f}",
                f"{sample.requests_per_second / base.requests_per_second:.2f}",
                f"{min(by_round):.2f}-{max(by_round):.2f}",
                f"{sample.percentile_ms(0.50) / base.percentile_ms(0.50):.2f}",
                f"{sample.percentile_ms(0.99) / base.percentile_ms(0.99):.2f}",
            ]
        )
    return rows


def generate_load(*, port, paths, headers, duration, connections):
    """GET `paths` round-robin over `connections` concurrent connections for `duration` seconds."""
    deadline = time.perf_counter() + duration
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=connections) as pool:
        # Each connection starts at another offset, so that they do not ask for the same row in lockstep.
        futures = [
            pool.submit(_send_until, port=port, paths=paths[start:] + paths[:start], headers=headers, deadline=deadline)
            for start in range(connections)
        ]
        results = [future.result() for future in futures]
    sample = Sample(elapsed=max(finished for _, finished in results) - started)
    for latencies, _ in results:
        sample.latencies.extend(latencies)
    return sample


def get_json(*, port, path, headers):
    """One GET answered with 200; returns the decoded JSON body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        return json.loads(_get(connection, path, headers))
    finally:
        connection.close()


def _send_until(*, port, paths, headers, deadline):
    # HTTPConnection reconnects by itself when gunicorn's sync workers close the connection after a response.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies = []
    try:
        while time.perf_counter() < deadline:
            path = paths[len(latencies) % len(paths)]
            started = time.perf_counter()
            _get(connection, path, headers)
            latencies.append(time.perf_counter() - started)
    finally:
        connection.close()
    return latencies, time.perf_counter()


def _get(connection, path, headers):
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    if response.status != 200:
        raise UnexpectedResponse(f"GET {path} answered {response.status}: {body[:300]!r}")
    return body
