"""Who people are in the system, and the AB post system (AB工作制)."""

from record.vocab import Post
from server.domain.labels import LabelledEnum

__all__ = ["Post", "Role"]


class Role(LabelledEnum):
    """What a person may do; one role per account."""

    ADMIN = "admin", "系统管理员", "administrator"
    CHAIR = "chair", "会议主持人", "chair"
    CHIEF_REP = "chief_rep", "首席代表", "chief representative"
    APPLICANT = "applicant", "申请人", "applicant"
    AGENT = "agent", "代办员", "agent"
    ARCHIVIST = "archivist", "档案管理员", "archivist"
