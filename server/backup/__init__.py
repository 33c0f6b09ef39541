"""Backup and restore of a whole Lianshen installation: the database and the data directory.

A backup is a BagIt bag (`bagit`, SHA-256 payload and tag manifests), so any BagIt tool can check
it without Lianshen:

    bag-info.txt        Lianshen-Backup-Format, which database, when, unfinished recordings
    data/database/      lianshen.sqlite3 (SQLite online backup) or lianshen.pgdump (pg_dump -Fc)
    data/files/         the data directory as it was: recordings, materials, minutes renderings,
                        the token secret, the event-log spool, demo.json

The database is taken first and the files after it, so every file a database row names (a
material's PDF, stored before its row is committed) is in the copy. See `create.py` and
`restore.py`; `database.py` and `files.py` hold the two halves, `manifest.py` the bag.
"""
