"""How the core's own records read on timelines: accounts, clinics, conferences, letters,
background jobs and the organisation's settings. Given through ``portal_labels`` like any module's."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_pgettext

from ...hookspecs import LabelKey, timeline_labels


def audit_labels() -> dict[LabelKey, Any]:
    return {
        **timeline_labels("users", states={
            "active": lazy_pgettext("account state", "active"),
            "inactive": lazy_pgettext("account state", "deactivated"),
        }, actions={
            "account_registered": lazy_pgettext("account action", "Account registered"),
            "registration_attempted": lazy_pgettext("account action",
                                                    "Someone tried to register again with this address"),
            "account_created": lazy_pgettext("account action", "Account created"),
            "account_invited": lazy_pgettext("account action", "Invited to the portal"),
            "invitation_accepted": lazy_pgettext("account action", "Invitation accepted: password chosen"),
            "password_reset_requested": lazy_pgettext("account action", "Password reset requested"),
            "password_reset": lazy_pgettext("account action", "Password reset by e-mailed link"),
            "password_changed": lazy_pgettext("account action", "Password changed"),
            "profile_updated": lazy_pgettext("account action", "Profile updated"),
            "roles_changed": lazy_pgettext("account action", "Roles changed"),
            "account_deactivated": lazy_pgettext("account action", "Account deactivated"),
            "account_reactivated": lazy_pgettext("account action", "Account reactivated"),
            "person_erased": lazy_pgettext("account action", "Personal data erased: a pseudonym from now on"),
            "bank_details_changed": lazy_pgettext("account action", "Bank details changed"),
            "passport_purged": lazy_pgettext("account action",
                                             "Passport details removed after the retention period"),
        }),
        **timeline_labels("history_imports", actions={
            "history_imported": lazy_pgettext("history import action", "Past trips or visits imported"),
            "import_file_purged": lazy_pgettext("history import action",
                                                "File removed after the retention period"),
        }),
        **timeline_labels("donation_imports", actions={  # the core's purge, on the donors' uploads
            "import_file_purged": lazy_pgettext("donation import action",
                                                "File removed after the retention period"),
        }),
        **timeline_labels("data_exports", actions={
            "data_export_requested": lazy_pgettext("data export action", "Personal data export asked for"),
        }),
        **timeline_labels("clinics", actions={
            "clinic_created": lazy_pgettext("clinic action", "Clinic added"),
            "clinic_updated": lazy_pgettext("clinic action", "Clinic updated"),
        }),
        **timeline_labels("conferences", states={
            "proposed": lazy_pgettext("conference state", "proposed"),
            "confirmed": lazy_pgettext("conference state", "confirmed"),
        }, actions={
            "conference_added": lazy_pgettext("conference action", "Conference added"),
            "conference_proposed": lazy_pgettext("conference action", "Conference proposed"),
            "conference_confirmed": lazy_pgettext("conference action", "Conference confirmed"),
            "conference_updated": lazy_pgettext("conference action", "Conference updated"),
        }),
        **timeline_labels("letters", states={
            "valid": lazy_pgettext("letter state", "valid"),
            "superseded": lazy_pgettext("letter state", "superseded"),
            "revoked": lazy_pgettext("letter state", "revoked"),
        }, actions={
            "letter_issued": lazy_pgettext("letter action", "Letter issued"),
            "letter_superseded": lazy_pgettext("letter action", "Letter superseded by a newer one"),
            "letter_revoked": lazy_pgettext("letter action", "Letter revoked"),
            "letter_purged": lazy_pgettext("letter action",
                                           "Document and passport details removed after the retention period"),
        }),
        **timeline_labels("jobs", states={
            "queued": lazy_pgettext("job state", "queued"),
            "running": lazy_pgettext("job state", "running"),
            "done": lazy_pgettext("job state", "done"),
            "failed": lazy_pgettext("job state", "failed"),
        }, actions={
            "job_queued": lazy_pgettext("job action", "Started in the background"),
            "job_started": lazy_pgettext("job action", "Work began"),
            "job_finished": lazy_pgettext("job action", "Finished"),
            "job_failed": lazy_pgettext("job action", "Stopped by an error"),
            "job_resumed": lazy_pgettext("job action", "Resumed"),
        }),
        **timeline_labels("organisation_settings", actions={
            "organisation_updated": lazy_pgettext("organisation action", "Organisation settings changed"),
        }),
    }
