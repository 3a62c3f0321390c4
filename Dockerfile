FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 OCPO_STATE_DIR=/var/lib/ocpo
COPY pyproject.toml README.md alembic.ini ./
COPY ocpo_coord ./ocpo_coord
COPY migrations ./migrations
COPY seed ./seed
# Editable install: the CLI finds alembic.ini, migrations/ and seed/ beside the package.
RUN pip install --no-cache-dir -e .
# The service runs as an unprivileged user that owns its state directory and nothing
# else: the code it runs is root's and read-only to it.
RUN useradd --system --uid 10001 --home-dir /var/lib/ocpo --shell /usr/sbin/nologin ocpo \
    && mkdir -p /var/lib/ocpo && chown ocpo:ocpo /var/lib/ocpo
USER ocpo
EXPOSE 8000
CMD ["ocpo-coord", "serve", "--host", "0.0.0.0", "--port", "8000"]
