"""Bilingual labels carried by the domain's enums.

Screens and minutes speak Chinese, logs and error messages carry English too. The generic
``LabelledEnum`` belongs to the meeting record (``record.vocab``), whose vocabularies (opinion
kinds, posts, capacities, meeting statuses) are labelled the same way; the server's own enums
(levels, case categories, roles, ...) build on the same class.
"""

from record.vocab import LabelledEnum

__all__ = ["LabelledEnum"]
