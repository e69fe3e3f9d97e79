"""The two baselines ``bench/pages.py`` serves beside the portal, each under the same gunicorn
(two sync workers) in the same run, so the machine's speed cancels out of the ratios:

- ``hello()``: a bare Flask app answering "Hello, world!";
- ``table()``: a bare Flask + SQLAlchemy app rendering a 50-row HTML table (the 50 newest
  applications with their doctor, conference, date and state: three joins, ``LIMIT 50``)
  from the benchmark's own database (``BENCH_DATABASE_URL``), through a Jinja template.

Served as ``gunicorn --pythonpath bench 'baselines:hello()'`` (or ``'baselines:table()'``).
"""

from __future__ import annotations

import os

from flask import Flask, render_template_string
from sqlalchemy import create_engine, text

TABLE_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Applications</title></head>
<body><main><h1>Applications</h1>
<table>
<thead><tr><th>#</th><th>Doctor</th><th>Conference</th><th>Submitted</th><th>State</th></tr></thead>
<tbody>
{% for row in rows %}<tr><td>{{ row.id }}</td><td>{{ row.doctor }}</td><td>{{ row.conference }}</td>
<td>{{ row.submitted_at or "—" }}</td><td>{{ row.status }}</td></tr>
{% endfor %}</tbody>
</table></main></body></html>
"""

TABLE_QUERY = text(
    "SELECT a.id, u.name AS doctor, c.name AS conference, a.submitted_at, f.status "
    "FROM applications a JOIN funded_items f ON f.id = a.id JOIN users u ON u.id = f.beneficiary_id "
    "JOIN conferences c ON c.id = a.conference_id ORDER BY a.id DESC LIMIT 50")


def hello() -> Flask:
    app = Flask("hello")

    @app.get("/")
    def index() -> str:
        return "Hello, world!"

    return app


def table() -> Flask:
    url = os.environ["BENCH_DATABASE_URL"]
    if url.startswith(("postgres://", "postgresql://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    engine = create_engine(url)
    app = Flask("table")

    @app.get("/")
    def index() -> str:
        with engine.connect() as connection:
            rows = connection.execute(TABLE_QUERY).all()
        return render_template_string(TABLE_TEMPLATE, rows=rows)

    return app
