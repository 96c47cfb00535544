"""Check a certificate's signed payload offline, with only the published public key.

    python -m app.certificates.verify_cli PAYLOAD_OR_QR_URL --key akademia-certificates.pem

Needs the `cryptography` package and nothing of the app (no database, no configuration).
Exit status: 0 genuine, 1 not genuine, 2 not a payload or no usable key.
"""

import argparse
import sys
from pathlib import Path

from app.certificates.signing import InvalidToken, key_id, load_public_key, verify

FIELDS = [
    ("no", "Number"),
    ("name", "Name"),
    ("course", "Course"),
    ("hours", "Hours"),
    ("from", "From"),
    ("to", "To"),
    ("issued", "Issued on"),
    ("type", "Type"),
    ("programme", "Programme"),
    ("issuer", "Issued by"),
    ("code", "Verification code"),
]


def report(payload: dict) -> str:
    width = max(len(label) for _key, label in FIELDS)
    return "\n".join(f"{label:<{width}}  {payload[key]}" for key, label in FIELDS if key in payload)


def check(text: str, pem: bytes) -> tuple[int, str]:
    """(exit status, message) for a payload or QR address checked against a PEM public key."""
    try:
        public_key = load_public_key(pem)
    except ValueError as error:
        return 2, f"Unusable public key: {error}"
    try:
        payload = verify(text, public_key)
    except InvalidToken as error:
        status = 1 if "signature" in str(error) else 2
        return status, f"NOT GENUINE: {error}"
    note = ""
    if payload.get("kid") not in (None, key_id(public_key)):
        note = "\n(note: the payload names another key id than this key's)"
    return 0, "GENUINE: signed by the holder of this key.\n" + report(payload) + note


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("payload", help="the payload, or the whole address read from the QR code")
    parser.add_argument(
        "--key", required=True, type=Path, help="the public key (PEM) published by the issuer"
    )
    args = parser.parse_args(argv)
    try:
        pem = args.key.read_bytes()
    except OSError as error:
        print(f"Cannot read the key: {error}", file=sys.stderr)
        return 2
    status, message = check(args.payload, pem)
    print(message, file=sys.stdout if status == 0 else sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
