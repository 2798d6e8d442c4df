# narrascope service image (CPU). Build: docker build -t narrascope .
# Run:   docker run -p 8000:8000 -v narrascope-models:/models -e NARRASCOPE_API_KEYS="KEY:score,feedback" narrascope
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    NARRASCOPE_HOME=/models \
    NARRASCOPE_DATA_DIR=/app/data \
    NARRASCOPE_MODEL_DIR=/models/models/default

WORKDIR /app

# Dependencies first, in their own layer, read from pyproject.toml, so code edits do not reinstall torch.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
COPY pyproject.toml ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
extras = p['optional-dependencies']; print('\n'.join(p['dependencies'] + extras['distributed'] + extras['postgres']))" \
    > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt

# The code: one package, narrascope, whose layers keep their folders (pyproject.toml maps them).
COPY . .
RUN pip install --no-deps . \
    && useradd --create-home --uid 10001 narrascope \
    && mkdir -p /models && chown narrascope /models

USER narrascope
VOLUME ["/models"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"

# The model folder lives on the volume: train it once with
#   docker run -v narrascope-models:/models narrascope train
# A container binds 0.0.0.0, so API keys are required (NARRASCOPE_API_KEYS) unless NARRASCOPE_ALLOW_UNAUTHENTICATED=1.
ENTRYPOINT ["narrascope"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
