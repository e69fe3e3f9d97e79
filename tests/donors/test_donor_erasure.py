"""Erasing a donor: their name, address and e-mail replaced by a pseudonym, their letters
revoked and emptied, every money total and the Gift Aid schedule unchanged; a donor whose Gift
Aid HMRC may still audit keeps their name until the six years pass, and the nightly task then
erases them; an admin can export a donor's data."""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import zipfile
from pathlib import Path

from sqlalchemy import func, select, text

from portal import privacy
from portal.blueprints.donors import claims, services
from portal.extensions import db
from portal.models import Donation, Donor, Letter
from tests.conftest import POSTGRES_URL
from tests.fixtures.tasks import run_queued_tasks

TODAY = dt.date.today()


def totals() -> tuple:
    return (db.session.scalar(select(func.sum(Donation.amount))), db.session.scalar(select(func.count(Donation.id))),
            db.session.scalar(text("SELECT coalesce(sum(amount), 0) FROM donation_allocations")))


def schedule(client) -> claims.Waiting:
    """What the next Gift Aid claim would hold (the page must open too)."""
    assert client.get("/donors/gift-aid").status_code == 200
    return claims.waiting(TODAY)


def test_an_admin_erases_a_donor_and_every_total_stays(app, client, login, make_user, make_donor, make_donation):
    admin = make_user(roles=["admin"], name="Sarah Mitchell")
    erased = make_donor(first_name="Margaret", last_name="Thornbury", email="margaret@example.org",
                        house="Rose Cottage", postcode="OX1 2AB")
    kept = make_donor(first_name="Henry", last_name="Kept", declared_on=TODAY - dt.timedelta(days=400))
    for donor in (erased, kept):
        make_donation(donor, 5000, TODAY - dt.timedelta(days=30))
    services.acknowledge(list(erased.donations), by=admin)  # a thank-you letter with her name and address
    db.session.commit()
    letter = db.session.scalars(select(Letter).order_by(Letter.id.desc())).first()
    before = totals()
    login(admin)
    gift_aid_before = schedule(client)

    page = client.get(f"/donors/{erased.id}").get_data(as_text=True)
    assert "Export their data (ZIP)" in page
    done = client.post(f"/donors/{erased.id}/erase", data={"confirm": "yes"}, follow_redirects=True)
    assert f"Former donor #{erased.id}" in done.get_data(as_text=True)
    db.session.expire_all()
    donor = db.session.get(Donor, erased.id)
    assert (donor.display_name, donor.email, donor.address, donor.postcode) == (
        f"Former donor #{erased.id}", None, None, None)
    assert totals() == before and schedule(client) == gift_aid_before
    gone = db.session.get(Letter, letter.id)
    assert gone.status == "revoked" and gone.revoked_reason == "erased" and gone.pdf is None

    for path in ("/donors/", "/donors/donations?status=all", f"/donors/{erased.id}", "/donors/export.csv",
                 "/donors/donations.csv?status=all", f"/verify/{gone.token}"):
        response = client.get(path)
        assert response.status_code == 200, path
        body = response.get_data(as_text=True)
        assert "Thornbury" not in body and "Margaret" not in body and "Rose Cottage" not in body, path
    if not POSTGRES_URL:
        db.session.remove()
        db.engine.dispose()
        with db.engine.connect() as connection:
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        database = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
        content = b"".join(f.read_bytes() for f in (database, database.with_name(database.name + "-wal"))
                           if f.exists())
        assert b"Thornbury" not in content and b"margaret@example.org" not in content
        assert b"Rose Cottage" not in content and b"Henry" in content


def test_a_donor_with_gift_aid_keeps_their_name_until_hmrcs_six_years_are_over(client, login, make_user,
                                                                             make_donor, make_donation):
    admin = make_user(roles=["admin"])
    donor = make_donor(first_name="Edith", last_name="Claimed", declared_on=TODAY - dt.timedelta(days=900))
    make_donation(donor, 2500, TODAY - dt.timedelta(days=200))
    login(admin)
    answer = client.post(f"/donors/{donor.id}/erase", data={"confirm": "yes"}, follow_redirects=True)
    assert "HMRC may still ask about this donor's Gift Aid" in html.unescape(answer.get_data(as_text=True))
    db.session.expire_all()
    donor = db.session.get(Donor, donor.id)
    last_gift = TODAY - dt.timedelta(days=200)
    assert donor.erased_at is None and donor.last_name == "Claimed"
    assert donor.erasure_due_on.year == last_gift.year + 6 and abs(
        (donor.erasure_due_on - last_gift.replace(year=last_gift.year + 6, day=min(last_gift.day, 28))).days) <= 3
    assert 'id="erasure-scheduled"' in client.get(f"/donors/{donor.id}").get_data(as_text=True)
    assert privacy.erase_due_donors(today=donor.erasure_due_on - dt.timedelta(days=1)) == 0
    assert privacy.erase_due_donors(today=donor.erasure_due_on) == 1
    db.session.expire_all()
    assert db.session.get(Donor, donor.id).display_name == f"Former donor #{donor.id}"


def test_an_admin_exports_a_donors_data(app, client, login, make_user, make_donor, make_donation):
    admin = make_user(roles=["admin"])
    donor = make_donor(first_name="Alice", last_name="Exported")
    other = make_donor(first_name="Bob", last_name="Elsewhere")
    make_donation(donor, 1000)
    make_donation(other, 2000)
    login(admin)
    response = client.post(f"/donors/{donor.id}/data-export")
    assert response.status_code == 303
    run_queued_tasks(app)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    link = page.split('id="export-download" href="')[1].split('"')[0]
    archive = zipfile.ZipFile(io.BytesIO(client.get(link).data))
    assert sorted(archive.namelist()) == ["acknowledgements.json", "audit_events.json", "donations.json",
                                          "donor.json", "emails.json", "gift_aid_claim_lines.json",
                                          "gift_aid_declarations.json", "letters.json"]
    assert json.loads(archive.read("donor.json"))[0]["last_name"] == "Exported"
    assert [d["amount"] for d in json.loads(archive.read("donations.json"))] == [1000]
    assert b"Elsewhere" not in b"".join(archive.read(name) for name in archive.namelist())
    staff = make_user(roles=["staff"])
    client.post("/logout")
    login(staff)
    assert client.post(f"/donors/{donor.id}/data-export").status_code == 403
    assert client.post(f"/donors/{donor.id}/erase", data={"confirm": "yes"}).status_code == 403


def test_an_imported_donors_name_leaves_the_imports_report_too(app, client, login, make_user):
    from portal.blueprints.donors.imports.mapping import guess_mapping
    from portal.blueprints.donors.imports.reading import read_table
    from portal.blueprints.donors.imports.service import import_donations
    from portal.models import DonationImport

    admin = make_user(roles=["admin"])
    day = (TODAY - dt.timedelta(days=3)).strftime("%d/%m/%Y")
    content = (f"Date,Amount,Reference,Name\r\n{day},25.00,REF-1,Penelope Imported\r\n"
               f"{day},5.00,REF-1,Penelope Imported\r\n")  # the second: a duplicate, named in the report
    upload = DonationImport(filename="bank.csv", content=content, uploaded_by_id=admin.id)
    db.session.add(upload)
    db.session.commit()
    import_donations(upload, guess_mapping(read_table(content)), skip_errors=False, confirmed_errors=None, by=admin)
    donor = db.session.scalars(select(Donor).where(Donor.last_name == "Imported")).one()
    assert "Penelope" in json.dumps(db.session.get(DonationImport, upload.id).result)
    login(admin)
    client.post(f"/donors/{donor.id}/erase", data={"confirm": "yes"})
    db.session.expire_all()
    erased_upload = db.session.get(DonationImport, upload.id)
    assert "Penelope" not in json.dumps(erased_upload.result) and "Penelope" not in erased_upload.content
    assert f"Former donor #{donor.id}" in json.dumps(erased_upload.result)
    page = client.get(f"/donors/imports/{upload.id}").get_data(as_text=True)
    assert "Penelope" not in page
