"""Who people are in the system, and the AB post system (AB工作制)."""

from server.domain.labels import LabelledEnum


class Role(LabelledEnum):
    """What a person may do; one role per account."""

    ADMIN = "admin", "系统管理员", "administrator"
    CHAIR = "chair", "会议主持人", "chair"
    CHIEF_REP = "chief_rep", "首席代表", "chief representative"
    APPLICANT = "applicant", "申请人", "applicant"
    AGENT = "agent", "代办员", "agent"
    ARCHIVIST = "archivist", "档案管理员", "archivist"


class Post(LabelledEnum):
    """A department's A post and its backup B, who acts with A's authority when A is away;
    the minutes record which of them attended."""

    A = "A", "A岗", "post A"
    B = "B", "B岗", "post B (backup)"
