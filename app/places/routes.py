from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.admin import services as admin_services
from app.auth.roles import Role
from app.errors import DomainError, show_error
from app.extensions import db
from app.security import role_required

from .forms import MunicipalityForm
from .models import Municipality
from .queries import regions_with_municipalities

bp = Blueprint("places", __name__)


def _variants(municipality: Municipality) -> list[str]:
    return [v for v in (municipality.variants or "").split("|") if v.strip()]


@bp.route("/places")
@role_required(Role.MANAGER)
def index():
    regions = [
        {"region": region, "municipalities": [(m, _variants(m)) for m in region.municipalities]}
        for region in regions_with_municipalities()
    ]
    return render_template(
        "places/index.html",
        regions=regions,
        municipality_count=sum(len(item["municipalities"]) for item in regions),
        can_edit=current_user.is_admin,
    )


@bp.route("/places/<int:municipality_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit(municipality_id):
    municipality = db.get_or_404(Municipality, municipality_id)
    form = MunicipalityForm(
        data={"name_en": municipality.name_en, "variants": "\n".join(_variants(municipality))}
    )
    if form.validate_on_submit():
        try:
            admin_services.update_municipality(
                municipality=municipality, name_en=form.name_en.data, variants=form.variant_list()
            )
        except DomainError as error:
            show_error(form, error, "variants")
        else:
            db.session.commit()
            flash(_("%(name)s is saved.", name=municipality.display_name), "success")
            return redirect(url_for("places.index") + f"#municipality-{municipality.id}")
    return render_template("places/edit.html", form=form, municipality=municipality)
