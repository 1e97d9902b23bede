"""Settings for benchmarks: the settings under test, plus the baseline view's URL and no DEBUG overhead."""

from renderowl.env import get_from_env
from renderowl.settings import *  # noqa: F403 - benchmark exactly what production configures, then override below

ROOT_URLCONF = "bench.urls"

# Time the service as production runs it: DEBUG would keep every query in memory.
DEBUG = False

# One key sends the whole load; measure what the limiter costs, not its refusals.
RATE_LIMIT_PER_MINUTE = 1_000_000_000

# The organization whose projects the baseline reads: row-level security shows a row only inside its context.
BENCH_ORGANIZATION_ID = get_from_env("BENCH_ORGANIZATION_ID")
