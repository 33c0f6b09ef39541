"""The scheduled meeting's materials: small PDFs its applicant (and agent) have uploaded, so the
demo's presenter has something to show in the room.

The PDFs are made at seed time with WeasyPrint (already used for the minutes) from the HTML below,
and stored through the materials service like any upload (checked, page-counted, named by hash).
A material is found by its case and title, so loading the demo again adds nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.principal import load_principal
from server.db.models import CaseMaterial, InvestmentCase, User
from server.demo.data import WIND
from server.services.materials import add_material, store_pdf
from server.settings import Settings

PAGE_CSS = """
@page { size: A4; margin: 25mm 22mm; @bottom-center { content: "— " counter(page) " —"; } }
html { font-family: "Noto Serif CJK SC", serif; font-size: 14pt; line-height: 1.7; }
h1 { font-size: 20pt; text-align: center; margin: 0 0 1em; }
h2 { font-size: 15pt; margin: 0 0 .6em; }
section + section { break-before: page; }
table { border-collapse: collapse; width: 100%; font-size: 12pt; }
td, th { border: 1px solid #333; padding: 4pt 6pt; }
"""


@dataclass(frozen=True)
class DemoMaterial:
    project_code: str
    uploader: str
    """Username of the account that uploaded it (the applicant or its agent)."""
    title: str
    file_name: str
    pages: tuple[str, ...]
    """Each page's HTML (a heading and paragraphs); every page starts on a new sheet."""


MATERIALS: tuple[DemoMaterial, ...] = (
    DemoMaterial(
        project_code=WIND, uploader="lcnt", title="雪山风电场项目核准申请报告（摘要）",
        file_name="雪山风电场项目核准申请报告（摘要）.pdf",
        pages=(
            "<h1>凤庆县雪山风电场项目<br>核准申请报告（摘要）</h1><h2>一、项目概况</h2>"
            "<p>项目单位：临沧能投新能源开发有限公司。建设地点：凤庆县雪山镇与大寺乡交界山脊一带。</p>"
            "<p>建设总装机容量100兆瓦，拟安装16台单机容量6.25兆瓦的风力发电机组，配套新建110千伏升压站1座。"
            "项目总投资58000万元，其中项目资本金11600万元，银行贷款46400万元。</p>",
            "<h2>二、建设方案</h2><table><tr><th>工程</th><th>规模</th></tr>"
            "<tr><td>风力发电机组</td><td>16台 × 6.25兆瓦</td></tr>"
            "<tr><td>110千伏升压站</td><td>1座</td></tr>"
            "<tr><td>35千伏集电线路</td><td>约38公里</td></tr>"
            "<tr><td>检修道路（新建）</td><td>26.5公里</td></tr>"
            "<tr><td>进场道路（改扩建）</td><td>12.3公里</td></tr></table>"
            "<p>年均上网电量约2.46亿千瓦时，年等效满负荷利用小时数约2460小时。</p>",
            "<h2>三、用地与生态环境</h2>"
            "<p>永久用地约4.9公顷，临时用地约31.2公顷，不占用永久基本农田，不涉及生态保护红线。"
            "施工结束后临时用地按水土保持方案及时复绿。</p>"
            "<p>风机机位避让集中连片林地，涉及使用林地的部分依法办理使用林地审核审批手续。</p>",
        ),
    ),
    DemoMaterial(
        project_code=WIND, uploader="daiban_xs", title="场址及升压站选址示意说明",
        file_name="场址及升压站选址示意说明.pdf",
        pages=(
            "<h1>雪山风电场场址及升压站选址示意说明</h1>"
            "<p>风电场沿雪山镇与大寺乡交界山脊呈南北向布置，机位海拔2300～2800米。</p>"
            "<p>升压站拟选址于场区中部缓坡地带，靠近既有乡道，便于设备运输和检修。</p>",
            "<h2>进场及检修道路</h2>"
            "<p>进场道路利用既有县乡道路改扩建12.3公里；检修道路新建26.5公里，"
            "涉及公路的路段须取得公路涉路施工许可后方可施工。</p>",
        ),
    ),
)


def render_pdf(material: DemoMaterial) -> bytes:
    """The material as a small A4 PDF, one sheet per page of its text."""
    from weasyprint import HTML  # heavy: imported only when the demo is loaded

    body = "".join(f"<section>{page}</section>" for page in material.pages)
    html = (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{material.title}</title>'
            f"<style>{PAGE_CSS}</style></head><body>{body}</body></html>")
    return HTML(string=html).write_pdf()


async def _once(content: bytes) -> AsyncIterator[bytes]:
    yield content


async def seed_materials(db: AsyncSession, settings: Settings, users: dict[str, int]) -> None:
    """Upload each demo material not yet among its case's materials, as its uploader would."""
    for material in MATERIALS:
        case = await db.scalar(select(InvestmentCase).where(InvestmentCase.project_code == material.project_code))
        if case is None or await db.scalar(select(CaseMaterial.id).where(
                CaseMaterial.case_id == case.id, CaseMaterial.title == material.title)) is not None:
            continue
        stored = await store_pdf(_once(render_pdf(material)), settings.data_dir,
                                 settings.materials.max_mb * 1024 * 1024)
        uploader = await db.get(User, users[material.uploader])
        assert uploader is not None  # the demo's people are loaded first
        await add_material(db, await load_principal(db, uploader), case, stored, material.file_name, material.title)
