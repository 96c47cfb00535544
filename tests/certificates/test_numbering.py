"""Numbers AK-YYYY-NNNNNN: per year, atomic, never duplicated under concurrency; codes."""

import re
import threading

import pytest
import sqlalchemy as sa

from app.certificates import numbering
from app.certificates.models import CertificateCounter
from app.extensions import db


def test_number_format():
    assert numbering.format_number(2026, 123) == "AK-2026-000123"
    assert numbering.NUMBER.match(numbering.format_number(2026, 1_234_567))


def test_each_year_counts_from_one(app):
    assert numbering.allocate_number(2030) == "AK-2030-000001"
    assert numbering.allocate_number(2030) == "AK-2030-000002"
    assert numbering.allocate_number(2031) == "AK-2031-000001"
    db.session.commit()


def test_a_rolled_back_claim_gives_its_number_back(app):
    numbering.allocate_number(2032)
    db.session.commit()
    numbering.allocate_number(2032)
    db.session.rollback()
    assert numbering.allocate_number(2032) == "AK-2032-000002"
    db.session.commit()


def test_concurrent_allocations_never_share_a_number(app):
    threads, per_thread = 6, 5
    numbers: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(threads)
    lock = threading.Lock()

    def work():
        try:
            with app.app_context():
                start.wait()
                for _ in range(per_thread):
                    number = numbering.allocate_number(2033)
                    db.session.commit()
                    with lock:
                        numbers.append(number)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert errors == []
    assert len(numbers) == len(set(numbers)) == threads * per_thread
    assert sorted(numbers) == [f"AK-2033-{n:06d}" for n in range(1, threads * per_thread + 1)]
    assert db.session.get(CertificateCounter, 2033).last_number == threads * per_thread


def test_codes_are_long_random_and_typo_tolerant():
    codes = {numbering.new_code() for _ in range(200)}
    assert len(codes) == 200
    code = codes.pop()
    assert re.fullmatch(r"([0-9A-HJKMNP-TV-Z]{5}-){3}[0-9A-HJKMNP-TV-Z]{5}", code)
    typed = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert numbering.normalize_code(typed) == code


@pytest.mark.parametrize(
    "value", ["", "ABC", "AK-2026-000001", "!" * 20, "<script>", "ABCDE-FGHJK-MNPQR-STVWXY"]
)
def test_malformed_codes_normalise_to_none(value):
    assert numbering.normalize_code(value) is None


def test_counter_table_is_one_row_per_year(app):
    numbering.allocate_number(2034)
    numbering.allocate_number(2035)
    db.session.commit()
    years = db.session.scalars(
        sa.select(CertificateCounter.year).where(CertificateCounter.year >= 2034)
    ).all()
    assert sorted(years) == [2034, 2035]
