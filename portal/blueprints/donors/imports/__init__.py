"""Importing donations from a bank's or an online platform's CSV export.

Upload the file, say which column holds what (guessed from the header row), preview what
becomes of every row, then import. The import reads the file again with the mapping that
was posted (never trusting the preview): duplicates by reference, against the database and
against earlier rows, are skipped and reported; rows with errors are imported only once
someone confirms they are to be left out; and everything is one transaction, so nothing is
ever half-imported.

Each step is a module, and each imports only the steps before it:

- ``parsing``: one cell's value (dates, amounts, methods, currencies, names);
- ``reading``: the uploaded bytes into a ``Table``;
- ``mapping``: which column holds what, guessed from the header;
- ``rows``: one row into a ``Row`` with its problems;
- ``preview``: what becomes of every row, against what the database holds;
- ``service``: the import, in one transaction.

The forms are in ``donors/forms.py`` and the pages in ``donors/import_views.py``.
"""
