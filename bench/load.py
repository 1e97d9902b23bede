"""A closed-loop HTTP load generator: each connection sends its next request as soon as the last is answered."""

import http.client
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field


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
