"""The web process's entry point (Procfile `web:`): Django under gunicorn's asyncio worker; see renderowl.serving."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renderowl.settings")
django.setup(set_prefix=False)

from django.conf import settings  # noqa: E402 - only once Django is set up

from renderowl.serving import RenderowlASGIHandler  # noqa: E402

application = RenderowlASGIHandler(threads=settings.WEB_THREADS)
