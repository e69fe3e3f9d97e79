"""Letters: the fixtures (an approved application, a letter of each kind, a timestamp
authority) are in ``tests/fixtures/letters.py``; the PDF readers in ``tests/fixtures/pdf.py``."""
