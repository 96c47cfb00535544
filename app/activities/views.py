"""What the activity pages show, formatted in the reader's language and Europe/Belgrade time."""

from flask_babel import gettext as _

from app.attendance.schedule_views import local_day, local_span

from .models import Activity


def activity_facts(activity: Activity) -> list[tuple[str, str]]:
    """Label and value pairs for the activity's page."""
    place = activity.venue
    if activity.municipality:
        place = f"{place}, {activity.municipality.display_name}"
    return [
        (_("Type"), activity.type_label),
        (_("Date"), local_day(activity.starts_at)),
        (_("Time"), local_span(activity.starts_at, activity.ends_at)),
        (_("Where"), place),
        (_("Programme"), f"{activity.programme.code} · {activity.programme.name}"),
    ]
