"""Ed25519 signatures on the payload a certificate's QR code carries.

A token is `<payload>.<signature>`, both base64url without padding; the payload is compact
JSON (UTF-8, sorted keys) and the signature covers exactly its bytes, so a verifier needs no
canonical form: decode, check, read. Anyone can check a token offline with the public key
published at /certificates/public-key.pem (or .json, a JWK for WebCrypto), with
`python -m app.certificates.verify_cli` or in the browser at /verify/offline.

The private key comes from CERT_SIGNING_KEY (PEM) or a file in the instance folder, created
on first use with mode 0600. The functions that only verify import nothing from Flask, so
the command-line verifier runs without the app.
"""

import base64
import binascii
import hashlib
import json
import logging
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

log = logging.getLogger(__name__)

PAYLOAD_VERSION = 1
KEY_FILE = "certificate_signing_key.pem"
MAX_TOKEN_LENGTH = 4000


class InvalidToken(ValueError):
    """The text is not a token, or its signature does not match the key."""


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64u(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise InvalidToken("The payload is not valid base64url.") from error


def raw_public_bytes(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short fingerprint of the public key, carried in every payload it signs."""
    return hashlib.sha256(raw_public_bytes(public_key)).hexdigest()[:16]


def canonical(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def sign(private_key: Ed25519PrivateKey, payload: dict) -> str:
    body = canonical(payload)
    return f"{b64u(body)}.{b64u(private_key.sign(body))}"


def extract_token(text: str) -> str:
    """The token in what a person pasted: the token itself, or the QR code's whole URL."""
    text = (text or "").strip()
    if "#" in text:
        text = text.rsplit("#", 1)[1]
    return "".join(text.split())


def decode(token: str) -> tuple[dict, bytes, bytes]:
    token = extract_token(token)
    if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        raise InvalidToken("This is not a certificate payload.")
    body_part, signature_part = token.split(".")
    body, signature = unb64u(body_part), unb64u(signature_part)
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise InvalidToken("The payload is not valid JSON.") from error
    if not isinstance(payload, dict) or payload.get("v") != PAYLOAD_VERSION:
        raise InvalidToken("Unknown payload version.")
    return payload, body, signature


def verify(token: str, public_key: Ed25519PublicKey) -> dict:
    """The payload if the signature is the key's; raises InvalidToken otherwise."""
    payload, body, signature = decode(token)
    try:
        public_key.verify(signature, body)
    except InvalidSignature as error:
        raise InvalidToken(
            "The signature does not match: the payload was altered or forged."
        ) from error
    return payload


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("Not an Ed25519 public key.")
    return key


def public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def public_jwk(public_key: Ed25519PublicKey) -> dict:
    """The key as a JWK (RFC 8037), which WebCrypto imports as Ed25519."""
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64u(raw_public_bytes(public_key)),
        "kid": key_id(public_key),
        "use": "sig",
        "alg": "EdDSA",
    }


# --- The app's key --------------------------------------------------------------------------


def _load_private(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("The certificate signing key must be an Ed25519 private key.")
    return key


def _load_or_create(path: Path) -> Ed25519PrivateKey:
    try:
        return _load_private(path.read_bytes())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        # O_EXCL: two processes starting at once keep the first key, never a mix of both.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _load_private(path.read_bytes())
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
        handle.flush()
        os.fsync(handle.fileno())
    log.info("Created the certificate signing key %s", path)
    return key


def key_path(app) -> Path:
    return Path(app.config.get("CERT_SIGNING_KEY_PATH") or Path(app.instance_path, KEY_FILE))


def private_key(app=None) -> Ed25519PrivateKey:
    """The signing key: CERT_SIGNING_KEY (PEM), else the instance file (made on first use)."""
    from flask import current_app

    app = app or current_app._get_current_object()
    pem = app.config.get("CERT_SIGNING_KEY")
    source = pem or str(key_path(app))
    cached = app.extensions.get("certificate_signing_key")
    if cached is not None and cached[0] == source:
        return cached[1]
    key = (
        _load_private(pem.replace("\\n", "\n").encode()) if pem else _load_or_create(key_path(app))
    )
    app.extensions["certificate_signing_key"] = (source, key)
    return key


def public_key(app=None) -> Ed25519PublicKey:
    return private_key(app).public_key()
