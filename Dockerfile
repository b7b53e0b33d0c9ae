# The production image: one image, three roles (web, worker, beat) chosen by the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files are collected at build time, so every container of the image has the manifest
# (STATIC_ROOT/staticfiles.json) that pages need with DJANGO_DEBUG off: gunicorn refuses to start
# without it (marketplace/apps.py). collectstatic needs settings to load; the key is thrown away
# with this build step.
RUN DJANGO_SECRET_KEY=collectstatic-only DJANGO_DEBUG=0 python manage.py collectstatic --noinput \
    && test -f /app/staticfiles/staticfiles.json \
    && useradd --create-home marketplace \
    && mkdir -p /app/var && chown marketplace /app/var
USER marketplace

EXPOSE 8000
CMD ["gunicorn", "marketplace.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4"]
