"""The archive: search over what was said and decided, a dossier per case, integrity checks and
BagIt packages that outlive this software (brief §6, issue 7).

Layout: `passages` (what in an event or a minutes version is worth finding, pure), `indexer`
(keeps archive_entries in step with the event log and final minutes), `search`, `dossier` (one
case's record and the catalogue of its files; its shapes in `dossier_out`), `recordings`
(reading recording directories), `integrity` (`lianshen archive verify`), `bag` (export and
offline validation), `access` (the access log).
"""
