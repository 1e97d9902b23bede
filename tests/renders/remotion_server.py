"""A stand-in renderowl-remotion server: the protocol of DESIGN.md ("Render engines"), with ffmpeg for a renderer.

`POST /renders` takes a job and answers `{jobId}`; a thread then plays the job's `behaviour`:

- `render`: fetch every http(s) prop (the signed asset URLs), send progress callbacks, draw a colour
  card of the asked size, fps and frames with the imageio-ffmpeg binary, PUT it to `output.uploadUrl`
  with `output.method` and `output.headers`, send the success callback;
- `error`: fail and send an error callback; `fail-silently`: fail without one (only GET tells);
- `silent`: render and upload, but send no callback (only GET tells);
- `forget`: answer GET with 404 from the start; `hang`: stay in-progress at 10 % and say nothing;
- `refuse`: answer the POST itself with 422 and an error;
- `queue`: stay `queued` for QUEUE_SECONDS, then play `silent`.

`GET /renders/{jobId}` and `DELETE /renders/{jobId}` behave as Remotion's render-server template's do.
Callbacks are signed `sha512=<hex HMAC-SHA512(webhook.secret, body)>` (or with `wrong_secret`, to be refused).
Every request is recorded with its headers, every callback with the platform's answer.
"""

import hashlib
import hmac
import itertools
import json
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import imageio_ffmpeg
import requests

QUEUE_SECONDS = 2.5
EXTENSIONS = {"h264": "mp4", "vp8": "webm", "gif": "gif", "png": "png", "jpeg": "jpg"}


@dataclass
class Job:
    id: str
    spec: dict
    behaviour: str
    status: str = "queued"
    progress: float = 0.0
    error: str | None = None
    fetched: dict = field(default_factory=dict)  # prop name -> (HTTP status, sha256 of the body)
    callbacks: list = field(default_factory=list)  # (X-Remotion-Status, the platform's HTTP status)
    uploaded: int | None = None  # the upload's HTTP status


@dataclass
class Request:
    method: str
    path: str
    headers: dict


class RemotionServer:
    """Start with `with RemotionServer(behaviours=[...]) as server:`; each POST takes the next behaviour."""

    def __init__(self, *, behaviours=("render",), wrong_secret=False):
        self.behaviours = list(behaviours)
        self.wrong_secret = wrong_secret
        self.jobs: dict[str, Job] = {}
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self.workers: list[threading.Thread] = []
        self.ids = itertools.count(1)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                server._record(self)
                if self.path != "/renders":
                    return self._answer(404, {"error": "Not found"})
                spec = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                missing = [name for name in ("serveUrl", "composition", "inputProps", "codec", "width", "height",
                                             "fps", "durationInFrames", "output", "webhook") if name not in spec]
                if missing:
                    return self._answer(400, {"error": f"Missing {', '.join(missing)}"})
                if server.behaviours[0] == "refuse":
                    return self._answer(422, {"error": f"No composition {spec['composition']!r} in {spec['serveUrl']}"})
                job = server._start(spec)
                self._answer(200, {"jobId": job.id})

            def do_GET(self):
                server._record(self)
                job = server._job(self.path)
                if job is None or job.behaviour == "forget":
                    return self._answer(404, {"error": "Job not found"})
                body = {"status": job.status, "progress": job.progress}
                if job.error:
                    body["error"] = {"message": job.error}
                self._answer(200, body)

            def do_DELETE(self):
                server._record(self)
                job = server._job(self.path)
                if job is None:
                    return self._answer(404, {"error": "Job not found"})
                job.status = "cancelled"
                self._answer(200, {"cancelled": True})

            def _answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="remotion-stand-in", daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        for worker in self.workers:
            worker.join(timeout=10)

    def requests_of(self, method):
        return [request for request in self.requests if request.method == method]

    def _record(self, handler):
        with self.lock:
            self.requests.append(Request(handler.command, handler.path, dict(handler.headers)))

    def _job(self, path):
        return self.jobs.get(path.removeprefix("/renders/"))

    def _start(self, spec):
        with self.lock:
            behaviour = self.behaviours.pop(0) if len(self.behaviours) > 1 else self.behaviours[0]
            job = Job(id=f"job-{next(self.ids)}", spec=spec, behaviour=behaviour)
            self.jobs[job.id] = job
        worker = threading.Thread(target=self._play, args=(job,), name=f"remotion-{job.id}", daemon=True)
        self.workers.append(worker)
        worker.start()
        return job

    def _play(self, job):
        if job.behaviour in ("forget",):
            return
        if job.behaviour == "queue":  # a busy server: the job waits its turn, then renders without callbacks
            time.sleep(QUEUE_SECONDS)
            job.behaviour = "silent"
        job.status = "in-progress"
        if job.behaviour == "hang":
            job.progress = 0.1
            return
        if job.behaviour in ("error", "fail-silently"):
            job.status, job.error = "failed", "Composition Promo threw: Cannot read properties of undefined"
            if job.behaviour == "error":
                self._callback(job, "error", errors=[{"message": job.error, "name": "Error", "stack": "at Promo"}])
            return
        talk = job.behaviour == "render"
        for name, value in job.spec["inputProps"].items():
            if isinstance(value, str) and value.startswith("http"):
                response = requests.get(value, timeout=10)
                job.fetched[name] = (response.status_code, hashlib.sha256(response.content).hexdigest())
        job.progress = 0.3
        if talk:
            self._callback(job, "progress", progress=0.3)
        data = self._rendered(job.spec)
        job.progress = 0.8
        if talk:
            self._callback(job, "progress", progress=0.8)
        output = job.spec["output"]
        job.uploaded = requests.request(
            output["method"], output["uploadUrl"], data=data, headers=output["headers"], timeout=30
        ).status_code
        if job.status == "cancelled":
            return
        job.status, job.progress = "completed", 1.0
        if talk:
            self._callback(job, "success", outputFile=output["uploadUrl"].split("?")[0], timeToFinish=1234)

    def _rendered(self, spec):
        seconds = spec["durationInFrames"] / spec["fps"]
        extension = EXTENSIONS[spec["codec"]]
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / f"out.{extension}"
            frames = ["-frames:v", "1"] if extension in ("png", "jpg") else ["-t", f"{seconds:.3f}"]
            codec = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"] if extension == "mp4" else []
            subprocess.run(
                [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i",
                 f"color=c=blue:s={spec['width']}x{spec['height']}:r={spec['fps']}", *frames, *codec, str(path)],
                check=True, capture_output=True, timeout=60,
            )
            return path.read_bytes()

    def _callback(self, job, status, **fields):
        webhook = job.spec["webhook"]
        body = json.dumps({"type": status, "renderId": job.id, "customData": webhook["customData"], **fields}).encode()
        secret = ("not-" + webhook["secret"]) if self.wrong_secret else webhook["secret"]
        signature = "sha512=" + hmac.new(secret.encode(), body, hashlib.sha512).hexdigest()
        response = requests.post(webhook["url"], data=body, timeout=10, headers={
            "Content-Type": "application/json", "X-Remotion-Status": status, "X-Remotion-Signature": signature,
        })
        job.callbacks.append((status, response.status_code))

