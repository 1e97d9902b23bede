# One image for every Renderowl process: the default command is the web server;
# the worker and beat run the same image with another command (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A home directory because gunicorn puts its control socket in ~/.gunicorn.
RUN groupadd --system --gid 10001 renderowl \
 && useradd --system --uid 10001 --gid renderowl --create-home --home-dir /home/renderowl \
        --shell /usr/sbin/nologin renderowl

WORKDIR /app

COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

# The code stays owned by root: the application user can read it, not change it.
COPY . .

# The admin's CSS and JS, gathered and compressed for WhiteNoise. Settings need a
# SECRET_KEY to load; collectstatic touches no database, so a throwaway one will do.
ENV STATIC_ROOT=/app/staticfiles
RUN DJANGO_ENV=development SECRET_KEY=collectstatic-only-not-a-secret \
    python manage.py collectstatic --noinput

ENV DJANGO_ENV=production \
    PORT=8000 \
    ASSET_STORAGE_ROOT=/data/storage
RUN mkdir -p /data/storage && chown renderowl /data/storage

USER renderowl
EXPOSE 8000

# The Procfile's web command on 0.0.0.0: gunicorn's asyncio worker parks slow clients and uploads;
# complete requests run on WEB_THREADS threads per process (renderowl/serving.py).
CMD ["sh", "-c", "exec gunicorn renderowl.asgi --bind 0.0.0.0:${PORT} --workers ${WEB_CONCURRENCY:-2} --worker-class asgi --asgi-lifespan off --graceful-timeout 10"]
