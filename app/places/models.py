import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.text import normalize_name


class Region(db.Model):
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    name_sq: so.Mapped[str] = so.mapped_column(sa.String(80))
    name_sr: so.Mapped[str] = so.mapped_column(sa.String(80))
    name_en: so.Mapped[str] = so.mapped_column(sa.String(80))

    municipalities: so.Mapped[list["Municipality"]] = so.relationship(
        back_populates="region", order_by="Municipality.name_sq"
    )


class Municipality(db.Model):
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    region_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("region.id"), index=True)
    name_sq: so.Mapped[str] = so.mapped_column(sa.String(80))
    name_sr: so.Mapped[str] = so.mapped_column(sa.String(80))
    name_en: so.Mapped[str] = so.mapped_column(sa.String(80))
    # Other spellings in use (Gllogoc for Drenas, Dardanë for Kamenicë), separated by "|".
    variants: so.Mapped[str] = so.mapped_column(sa.String(300), default="")

    region: so.Mapped[Region] = so.relationship(back_populates="municipalities")

    @property
    def display_name(self) -> str:
        if self.name_sq == self.name_sr:
            return self.name_sq
        return f"{self.name_sq}/{self.name_sr}"

    def all_names(self) -> list[str]:
        names = [self.name_sq, self.name_sr, self.name_en, self.code]
        names += [v for v in (self.variants or "").split("|") if v.strip()]
        return names

    def name_keys(self) -> set[str]:
        keys = {normalize_name(n) for n in self.all_names()}
        keys.add(normalize_name(self.display_name))
        return keys
