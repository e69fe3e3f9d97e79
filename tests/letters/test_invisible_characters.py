"""A letter certifies what it prints: no direction override or invisible character in its facts,
even when one reached the database some other way (an import, an old row)."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import text

from portal.extensions import db
from portal.letters import letter_html, letter_kind
from portal.plaintext import INVISIBLE


def test_the_facts_and_the_letter_carry_no_invisible_characters(app, approved_application):
    application = approved_application()
    db.session.execute(text("UPDATE conferences SET name = :name WHERE id = :id"),
                       {"name": "EHA \u202eCongress\u202c\u200b", "id": application.conference_id})
    db.session.execute(text("UPDATE users SET passport_full_name = :name WHERE id = :id"),
                       {"name": "ANNA\u2067 SOKOLOVA\ufeff", "id": application.beneficiary_id})
    db.session.commit()
    db.session.expire_all()
    kind = letter_kind("visa_support")
    facts = kind.facts(application)
    written = json.dumps(facts, ensure_ascii=False)
    assert not INVISIBLE.search(written)
    assert "EHA Congress" in written and "ANNA SOKOLOVA" in written
    html = letter_html(kind, facts, reference="EP-2026-0001", token="t", issued_on=dt.date(2026, 12, 1))
    assert not INVISIBLE.search(html)
