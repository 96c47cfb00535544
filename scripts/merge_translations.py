"""Fill the sq and sr_Latn catalogues from JSON files of {msgid: {"sq": ..., "sr_Latn": ...}}.

Used after `make messages` when new strings were written together with their translations:
    .venv/bin/python scripts/merge_translations.py new-strings.json [more.json ...]
Only empty or fuzzy entries are filled; a translation already reviewed is never overwritten.
"""

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOGUES = {
    "sq": "app/translations/sq/LC_MESSAGES/messages.po",
    "sr_Latn": "app/translations/sr_Latn/LC_MESSAGES/messages.po",
}


def main(paths: list[str]) -> int:
    texts: dict[str, dict] = {}
    for path in paths:
        texts.update(json.loads(Path(path).read_text(encoding="utf-8")))
    for locale, po_path in CATALOGUES.items():
        with open(po_path, "rb") as handle:
            catalogue = read_po(handle, locale=locale)
        filled = 0
        for message in catalogue:
            key = message.id[0] if isinstance(message.id, tuple) else message.id
            given = texts.get(key, {}).get(locale)
            if not key or given is None:
                continue
            empty = not message.string or (
                isinstance(message.string, tuple) and not all(message.string)
            )
            if not (empty or message.fuzzy):
                continue
            message.string = tuple(given) if isinstance(message.id, tuple) else given
            message.flags.discard("fuzzy")
            filled += 1
        with open(po_path, "wb") as handle:
            write_po(handle, catalogue)
        print(f"{locale}: filled {filled}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
