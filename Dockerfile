FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md alembic.ini ./
COPY ocpo_coord ./ocpo_coord
COPY migrations ./migrations
COPY seed ./seed
# Editable install: the CLI finds alembic.ini, migrations/ and seed/ beside the package.
RUN pip install --no-cache-dir -e .
EXPOSE 8000
CMD ["ocpo-coord", "serve", "--host", "0.0.0.0", "--port", "8000"]
