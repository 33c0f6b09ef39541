"""An investment case's categories, its items' statuses, and checks on its plain fields.

These checks guard what every later document repeats (the minutes, the 一次性告知书, the archive):
a wrong amount or an impossible schedule entered once would be printed everywhere.
"""

from datetime import date
from decimal import Decimal, InvalidOperation

from server.domain.labels import LabelledEnum

_CENTS = Decimal("0.01")


class ManagementCategory(LabelledEnum):
    """管理类别: which procedure the project follows, and so which promised total applies."""

    APPROVAL = "approval", "审批制", "approval"
    RATIFICATION = "ratification", "核准制", "ratification"
    FILING = "filing", "备案制", "filing"


class InvestorType(LabelledEnum):
    """Who invests: it decides whether 审批制 or one of 核准制/备案制 applies."""

    GOVERNMENT = "government", "政府", "government"
    ENTERPRISE = "enterprise", "企业", "enterprise"


class ItemStatus(LabelledEnum):
    """Status of one approval item; approved, rejected and withdrawn are also its result."""

    PENDING = "pending", "待受理", "pending"
    ACCEPTED = "accepted", "已受理", "accepted"
    IN_REVIEW = "in_review", "审查中", "in review"
    SUSPENDED = "suspended", "已中止", "suspended"
    APPROVED = "approved", "准予许可", "approved"
    REJECTED = "rejected", "不予许可", "rejected"
    WITHDRAWN = "withdrawn", "已撤回", "withdrawn"


# Statuses that decide an item: its clock stops on the decision date.
FINAL_STATUSES = frozenset({ItemStatus.APPROVED, ItemStatus.REJECTED, ItemStatus.WITHDRAWN})


class PeriodKind(LabelledEnum):
    """Why an item's clock stands still for a period. Both stop the statutory and the promised
    clock alike; they differ in law and in the notice the applicant receives."""

    SUSPENSION = "suspension", "中止办理（补正）", "suspension (supplementation)"
    EXCLUDED = (
        "excluded",
        "不计入期限（听证、检验、检测、检疫、鉴定、专家评审、中介评估，行政许可法第四十五条）",
        "not counted (hearing, test, expert review, evaluation; Administrative Licensing Law §45)",
    )


class ClockState(LabelledEnum):
    """Where a clock stands: an item's (not_started, running, suspended, excluded, decided) or a
    case's, which also waits when no item is with the administration and none is stopped (the
    applicant has not filed the next item yet)."""

    NOT_STARTED = "not_started", "未受理，未计时", "not accepted, no clock"
    RUNNING = "running", "计时中", "running"
    SUSPENDED = "suspended", "中止计时（补正）", "stopped: supplementation"
    EXCLUDED = "excluded", "暂停计时（不计入期限的程序）", "stopped: a period not counted (§45)"
    WAITING = "waiting", "暂停计时（等待申请人报送其余事项）", "stopped: waiting for the applicant's next item"
    DECIDED = "decided", "已办结", "decided"


class CaseFieldError(ValueError):
    """A case field that cannot be right; `field` names it so a form can mark it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def validate_total_investment(amount: Decimal | int | str) -> Decimal:
    """Total investment in 万元: positive, at most 2 decimals (0.01 万元 = 100 yuan, the precision
    of the case form and of the Numeric(14, 2) column); returned with exactly 2 decimals.

    Floats are refused: a binary float cannot hold most decimal amounts exactly, and the figure is
    printed in official documents.
    """
    if isinstance(amount, float):
        raise CaseFieldError(
            "total_investment",
            "总投资须以十进制数给出，不接受浮点数 / "
            "total investment must be a decimal, not a float",
        )
    try:
        value = Decimal(amount)
    except InvalidOperation:
        raise CaseFieldError(
            "total_investment", f"总投资不是数字: {amount!r} / total investment is not a number"
        ) from None
    if not value.is_finite() or value <= 0:
        raise CaseFieldError(
            "total_investment", f"总投资须大于0: {amount} / total investment must be positive"
        )
    if value != value.quantize(_CENTS):
        raise CaseFieldError(
            "total_investment",
            f"总投资（万元）最多保留两位小数: {amount} / "
            "total investment (10k yuan) allows at most 2 decimals",
        )
    return value.quantize(_CENTS)


def validate_category(category: ManagementCategory, investor: InvestorType) -> None:
    """审批制 is for government investment only; 核准制 and 备案制 for enterprise investment only
    (政府投资条例; 企业投资项目核准和备案管理条例 §2-3)."""
    if (category is ManagementCategory.APPROVAL) != (investor is InvestorType.GOVERNMENT):
        raise CaseFieldError(
            "category",
            f"{investor.label_zh}投资项目不适用{category.label_zh} / "
            f"{category.label_en} does not apply to {investor.label_en} investment",
        )


def validate_schedule(planned_start: date, planned_finish: date) -> None:
    """Finishing on the start day is allowed (small works); finishing before it is a typo."""
    if planned_finish < planned_start:
        raise CaseFieldError(
            "planned_finish",
            f"计划竣工日期早于计划开工日期: {planned_finish} < {planned_start} / "
            "planned finish is before planned start",
        )


def validate_promised_limit(promised_wd: int, statutory_wd: int) -> None:
    """A promised limit (承诺时限) is a promise to be faster than the law, never slower."""
    if promised_wd < 1:
        raise CaseFieldError(
            "promised_limit_wd",
            f"承诺时限须至少1个工作日: {promised_wd} / "
            "promised limit must be at least 1 working day",
        )
    if promised_wd > statutory_wd:
        raise CaseFieldError(
            "promised_limit_wd",
            f"承诺时限{promised_wd}个工作日超过法定时限{statutory_wd}个工作日 / "
            f"promised limit {promised_wd} WD exceeds the statutory {statutory_wd} WD",
        )
