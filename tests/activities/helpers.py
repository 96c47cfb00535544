from datetime import datetime

from app.activities import services
from app.activities.models import ActivityType
from app.extensions import db

# 10:00–12:00 in Belgrade (CET) on 5 March 2026.
STARTS = datetime(2026, 3, 5, 9, 0)
ENDS = datetime(2026, 3, 5, 11, 0)


def create_activity(programme, **values):
    fields = dict(
        type=ActivityType.TALKDIGITAL,
        title="TalkDigital: open data and the media",
        description="With CSOs and journalists.",
        starts_at=STARTS,
        ends_at=ENDS,
        venue="Salla e Kuvendit",
        municipality_id=None,
    )
    fields.update(values)
    activity = services.save_activity(
        None, programme=programme, values=services.ActivityFields(**fields)
    )
    db.session.commit()
    return activity
