"""Backups that restore: `flask backup` and `flask restore` (docs/backup.md).

An archive is one gzip-compressed tar file:

    database/akademia.sqlite3 | database/akademia.pgdump   a consistent snapshot
    files/<area>/<path>                                    the instance files (see files.py)
    manifest.json                                          written last, once every checksum is known

The manifest holds the format version, the database's migration revision and kind, when the
backup was made, the row count of every table in the snapshot and the sha256 of every file.
A restore checks all of it before it changes anything.
"""
