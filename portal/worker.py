"""The portal's task queue for Huey's own consumer command, the app built from the settings:

    huey_consumer portal.worker.huey --workers 2

does what ``flask --app portal consumer`` does (with every ``huey_consumer`` option: ``-k process``,
``-w``, ``-d``/``-m`` for polling …). Run as many as the work needs, on as many machines, against one
``TASK_QUEUE_URL=redis://…``.
"""

from __future__ import annotations

from . import create_app
from .tasks import queue_of

app = create_app()
huey = queue_of(app)
