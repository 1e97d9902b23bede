"""The web process's entry point (Procfile `web:`): Django under gunicorn's asyncio worker; see renderowl.serving."""

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renderowl.settings")
django.setup(set_prefix=False)

from django.conf import settings  # noqa: E402 - only once Django is set up

from renderowl.serving import RenderowlASGIHandler  # noqa: E402

# The event loop hands every request to a request thread and takes its response back: both wait for
# the GIL while the other side runs Python. CPython's default switch interval (5 ms) makes each such
# wait up to 5 ms; 0.5 ms measured 7-20% more requests per second on the read path (bench/run.py projects,
# with this line and without it side by side through BENCH_COMPARE_WEB_COMMAND).
sys.setswitchinterval(0.0005)

application = RenderowlASGIHandler(threads=settings.WEB_THREADS)
