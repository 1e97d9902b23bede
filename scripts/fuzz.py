"""Property-based fuzzing of the live API with schemathesis (`make fuzz`).

    python scripts/fuzz.py [EXTRA SCHEMATHESIS ARGS…]

Needs DATABASE_URL/REDIS_URL naming a migrated database (`make fuzz` runs this through
`scripts/devstack.py exec`, which provides them). It creates a throwaway organization and a test
API key, serves the API with gunicorn on a free loopback port, runs `schemathesis run` with every
check against the live /v1/openapi.json (saved to .run/fuzz/openapi.json), stops gunicorn and exits
with schemathesis's exit code.

The run is reproducible (fixed seed, one worker, no example database) and bounded: at most
FUZZ_MAX_EXAMPLES cases per operation and phase, and FUZZ_TIMEOUT seconds of wall clock.
Reports (JUnit XML, an NDJSON log of every request, a pytest file reproducing each failure), the
schema that was fuzzed and the server log go to .run/fuzz/, which each run empties first.

Environment: FUZZ_SEED (default 20240601), FUZZ_MAX_EXAMPLES (50), FUZZ_TIMEOUT (300),
FUZZ_WORKERS (1; more is faster but no longer reproducible).
"""

import json
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from devstack import free_port, wait_until_answers  # scripts/ is on sys.path when this runs as a script

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
OUT = ROOT / ".run" / "fuzz"

SEED = os.environ.get("FUZZ_SEED", "20240601")
MAX_EXAMPLES = os.environ.get("FUZZ_MAX_EXAMPLES", "50")
TIMEOUT_SECONDS = int(os.environ.get("FUZZ_TIMEOUT", "300"))
WORKERS = os.environ.get("FUZZ_WORKERS", "1")
STARTUP_SECONDS = 30
TIMED_OUT = 124


def log(message):
    print(f"fuzz: {message}", flush=True)


def manage(env, *args):
    """Run a management command; returns the last line it printed."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, text=True, capture_output=True
    )
    if result.returncode != 0:
        raise SystemExit(f"fuzz: manage.py {args[0]} failed:\n{result.stderr.strip()}")
    return result.stdout.strip().splitlines()[-1].strip()


def server_environment():
    env = dict(os.environ)
    if not env.get("DATABASE_URL") or not env.get("REDIS_URL") or not env.get("SECRET_KEY"):
        raise SystemExit(
            "fuzz: set DATABASE_URL, REDIS_URL and SECRET_KEY (`. .run/env` after `make migrate`), "
            "or run `make fuzz`, which starts the servers."
        )
    env.setdefault("DJANGO_ENV", "development")
    # Fuzz what production serves: problem+json from handler404/handler500, not Django's debug pages.
    env["DEBUG"] = "false"
    # Thousands of requests a minute on one key; the limiter would turn the run into 429s.
    env["RATE_LIMIT_PER_MINUTE"] = str(10**9)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def start_server(env, port, log_file):
    return subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "renderowl.wsgi",
            "--workers", "2",
            "--bind", f"127.0.0.1:{port}",
            "--graceful-timeout", "10",
            "--access-logfile", "-",
        ],
        env=env,
        cwd=ROOT,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )


def fetch_schema(base_url, api_key):
    """The live OpenAPI document, saved to .run/fuzz/openapi.json for schemathesis to load.

    Fetched here rather than by schemathesis so that a schema served in another format than the
    URL promises is reported plainly instead of ending the run before it starts.
    """
    url = f"{base_url}/v1/openapi.json"
    headers = {"Authorization": f"Bearer {api_key}"}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
        content_type, body = response.headers.get("Content-Type", ""), response.read()
    try:
        schema = json.loads(body)
    except ValueError:
        log(f"WARNING: /v1/openapi.json is {content_type!r}, not JSON; refetching with Accept: application/json")
        headers["Accept"] = "application/json"
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
            schema = json.loads(response.read())
    path = OUT / "openapi.json"
    path.write_text(json.dumps(schema, indent=2) + "\n")
    return path


def stop(process, name, grace=15):
    """Stop one process we started, by its PID: SIGTERM, then SIGKILL after the grace period."""
    if process is None or process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    log(f"stopped {name} (pid {process.pid})")


# Contract the positive-data check cannot read from a schema, each a documented rule of
# docs/API_CONTRACT.md rather than a bug: an Idempotency-Key reused with another request is 422;
# `cursor` is an opaque token only the API issues (400 otherwise); whether a webhook URL's host is
# a public address is decided by DNS at request time (400 url_not_allowed).
# The first matching entry applies, so the narrower ones come first. Rules across fields or state,
# stated in the schema's prose: an asset's contentType must be one allowed for its type, and its size
# within its type's limit (413); a webhook
# test may leave out projectId only when the endpoint names exactly one project; a project's PATCH
# may repeat its slug but not change it (400 slug_immutable, as the contract specifies).
CONTRACT = """
[[operations]]
include-operation-id-regex = "^(webhooks_create|webhooks_partial_update|webhooks_test_create|projects_assets_create|projects_partial_update)$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "413", "422", "429"]

[[operations]]
include-method = "POST"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422", "429"]

[[operations]]
include-operation-id-regex = "_list$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "429"]
"""


def schemathesis_command(schema_path, base_url, api_key, extra_args):
    config = OUT / "schemathesis.toml"
    config.write_text(CONTRACT)
    return [
        str(BIN / "schemathesis"),
        "--config-file", str(config),
        "run",
        str(schema_path),
        "--url", base_url,
        "--header", f"Authorization: Bearer {api_key}",
        "--checks", "all",
        # A create replayed with a reused Idempotency-Key returns the original response, even when that
        # resource has since been deleted: this stateful check then finds the "created" resource gone.
        "--exclude-checks", "ensure_resource_availability",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", MAX_EXAMPLES,
        "--seed", SEED,
        "--workers", WORKERS,
        "--generation-database", "none",
        "--request-timeout", "10",
        # Strings may not contain U+0000 (PostgreSQL text cannot hold it; documented in API_CONTRACT.md).
        "--generation-allow-x00", "false",
        "--report", "junit,ndjson,pytest",
        "--report-dir", str(OUT),
        "--no-color",
        *extra_args,
    ]


def interrupt(signum, frame):
    raise KeyboardInterrupt  # SIGTERM (make, CI) cleans up like Ctrl-C: gunicorn must not outlive the run


def main(extra_args):
    signal.signal(signal.SIGTERM, interrupt)
    shutil.rmtree(OUT, ignore_errors=True)  # only this run's reports, not a pile of old ones
    OUT.mkdir(parents=True)
    env = server_environment()

    slug = f"fuzz-{secrets.token_hex(4)}"
    organization_id = manage(env, "createorganization", f"Fuzz {slug}", "--slug", slug)
    api_key = manage(env, "createapikey", slug, "--test", "--name", "schemathesis")
    log(f"organization {slug} ({organization_id}) with a test API key")

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = fuzzer = None
    with open(OUT / "gunicorn.log", "w") as server_log:
        try:
            server = start_server(env, port, server_log)
            wait_until_answers(server, f"{base_url}/healthz", seconds=STARTUP_SECONDS, log_path=OUT / "gunicorn.log")
            log(f"API on {base_url} (gunicorn pid {server.pid}); server log in {OUT.relative_to(ROOT)}/gunicorn.log")

            schema_path = fetch_schema(base_url, api_key)
            command = schemathesis_command(schema_path, base_url, api_key, extra_args)
            shown = shlex.join(command).replace(api_key, "$API_KEY")
            log(f"running: {shown}")
            fuzzer = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
            try:
                code = fuzzer.wait(timeout=TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                log(f"schemathesis exceeded FUZZ_TIMEOUT={TIMEOUT_SECONDS}s; stopping it")
                stop(fuzzer, "schemathesis", grace=10)
                code = TIMED_OUT
        except KeyboardInterrupt:
            code = 130
        finally:
            stop(fuzzer, "schemathesis", grace=10)
            stop(server, "gunicorn")
    log(f"reports in {OUT.relative_to(ROOT)}/; exit code {code}")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
