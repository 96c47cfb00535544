"""The Digital Agenda Observatory: the national strategy's measures and milestones, municipal
e-government indicators, recommendations, and the annual report made from them.

The blueprint lives here so that the view modules (routes.py, indicator_routes.py,
recommendation_routes.py, report_routes.py) can each add their views to it without importing
one another; routes.py imports them all and is what the app registers.
"""

from flask import Blueprint

bp = Blueprint("observatory", __name__, url_prefix="/observatory")
