"""Archive benchmark: Chinese full-text search over 100,000 final minutes on SQLite, and export.

Run by hand (several minutes):

    .venv/bin/python bench/archive.py                      # appended to bench/RESULTS.md
    .venv/bin/python bench/archive.py --minutes 5000 --no-record

What it does: a temporary SQLite database (migrated, tests/world.py's world plus generated
departments, applicants and cases) receives N final minutes, each of its own meeting, written as
final minutes_versions rows with realistic Chinese text (opinions, conditions, materials,
decisions; 350-510 characters of indexed text each, 410 on average) through bulk inserts. The real indexer
(server.archive.indexer.refresh_index) indexes them (timed: index throughput), then the real
search function (server.archive.search.search) runs a mix of queries as the archivist and as an
applicant: fragments of words (污水处理 inside 乡镇污水处理厂), department names, two-character
terms (below a trigram: the LIKE fallback), filters (project-code prefix, kind, date range),
combined; per query type p50/p95 over --repeat runs. Target: p95 < 50 ms.

Export: the case of tests/api/archive_support.py (two meetings, final minutes v1+v2 rendered to
PDF/DOCX/JSON, notice, event logs, a recording with --recording-mb of stand-in track files and a
composed file) is exported --export-runs times with the real export (BagIt, SHA-256), then
validated offline; reported as seconds per bag and MB/s.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402
from tqdm import tqdm  # noqa: E402

from server.archive.bag import export_bag, verify_bag  # noqa: E402
from server.archive.dossier import build_dossier, select_cases  # noqa: E402
from server.archive.indexer import refresh_index  # noqa: E402
from server.archive.search import ArchiveQuery, search  # noqa: E402
from server.auth.principal import Principal  # noqa: E402
from server.db.engine import create_engine, session_factory  # noqa: E402
from server.db.migrate import upgrade  # noqa: E402
from server.db.models import (  # noqa: E402
    AgendaEntry,
    ApprovalItem,
    ArchiveEntry,
    Department,
    InvestmentCase,
    Meeting,
    MinutesDocument,
    MinutesVersion,
    Organisation,
    User,
)
from server.domain.roles import Role  # noqa: E402
from server.services.minutes_workflow import content_sha256  # noqa: E402
from server.settings import load_settings  # noqa: E402
from tests.api.archive_support import PROJECT_X, archived_case  # noqa: E402
from tests.world import credit_code, org_code  # noqa: E402

TOWNS = ("凤山镇", "勐佑镇", "小湾镇", "洛党镇", "鲁史镇", "营盘镇", "三岔河镇", "雪山镇", "诗礼乡", "新华乡",
         "大寺乡", "腰街乡", "郭大寨乡")
PROJECTS = ("乡镇污水处理厂", "核桃深加工厂", "滇红茶初制所", "光伏发电站", "风电场", "农贸市场", "冷链物流中心",
            "中学教学综合楼", "乡村振兴示范园", "生活垃圾转运站", "饮用水源保护工程", "农村公路提级改造",
            "烤烟收购站", "坚果仓储中心", "生态渔业加工厂", "文旅综合体", "集贸市场改造", "小水电站增效扩容")
DEPARTMENTS = ("凤庆县发展和改革局", "凤庆县自然资源局", "凤庆县住房和城乡建设局", "临沧市生态环境局凤庆分局",
               "凤庆县林业和草原局", "凤庆县水务局", "凤庆县交通运输局", "凤庆县应急管理局", "凤庆县消防救援大队",
               "凤庆县农业农村局", "凤庆县文化和旅游局", "凤庆县市场监督管理局")
KINDS = (("同意", "agree"), ("原则同意", "agree_in_principle"), ("附条件同意", "conditional"),
         ("不同意", "disagree"), ("需转报上级", "refer_upward"))
OPINIONS = ("项目符合国家产业政策和县域国土空间规划，{k}。", "经审查，项目选址不涉及生态保护红线和永久基本农田，{k}。",
            "项目建设内容与备案信息一致，{k}办理后续手续。", "该项目用地尚未完成农用地转用审批，{k}。",
            "项目须落实安全生产“三同时”要求，{k}。", "项目涉及林地，须依法办理使用林地审核审批手续，{k}。")
CONDITIONS = ("须取得排污许可证后方可投入生产", "须办理使用林地审核审批手续", "须完成水土保持方案审批",
              "须落实节能审查意见", "须完成消防设计审查", "须取得取水许可", "须开展社会稳定风险评估")
MATERIALS = ("项目节能报告", "环境影响报告表", "水土保持方案报告书", "建设项目用地预审与选址意见书",
             "社会稳定风险评估报告", "安全预评价报告", "林地使用可行性报告", "防洪影响评价报告")
DECISIONS = ("同意项目按程序办理备案，请申请人在十个工作日内补正材料。", "由县发展和改革局牵头，会同相关部门开展现场踏勘。",
             "项目暂缓审批，待用地手续完善后重新提请并联审批会议。", "请县自然资源局加快办理用地预审手续。")

QUERY_MIX: dict[str, list[dict[str, Any]]] = {
    "fragment (3+ chars)": [{"q": "污水处理"}, {"q": "核桃深加工"}, {"q": "排污许可"}, {"q": "林地审核"},
                            {"q": "节能报告"}, {"q": "生态保护红线"}],
    "department name": [{"q": "林业和草原局"}, {"q": "生态环境局凤庆分局"}, {"q": "消防救援大队"}],
    "two terms": [{"q": "污水处理 排污许可"}, {"q": "风电场 林地"}, {"q": "冷链物流 不同意"}],
    "2-char (LIKE fallback)": [{"q": "林地"}, {"q": "风电"}, {"q": "取水"}],
    "filters only": [{"kind": "minutes", "project_code": "2601-530921*"},
                     {"date_from": "2026-03-01", "date_to": "2026-03-31"}, {"applicant": "生态渔业"}],
    "text + filters": [{"q": "污水处理", "project_code": "2603-530921*"},
                       {"q": "附条件同意", "date_from": "2026-06-01", "date_to": "2026-06-30"},
                       {"q": "水土保持", "case_name": "风电场"}],
    "hostile text": [{"q": '"OR" NEAR(林地 ^'}, {"q": "污水%处理_厂"}, {"q": "*" * 50}],
}


def _minutes_content(rng: random.Random, number: str, project: str, town: str) -> dict[str, Any]:
    opinions = []
    for department in rng.sample(DEPARTMENTS, 4):
        label, _ = rng.choice(KINDS)
        opinions.append({"department": department, "kind_label": label,
                         "text": rng.choice(OPINIONS).format(k=label),
                         "conditions": rng.sample(CONDITIONS, 2) if label == "附条件同意" else [],
                         "reasons": "项目不符合《产业结构调整指导目录》要求。" if label == "不同意" else ""})
    return {
        "number": number, "version": 1, "title": f"{town}{project}建设项目并联审批会议纪要",
        "summary": f"会议听取了申请人关于{town}{project}建设项目的情况汇报，各部门首席代表逐项发表审查意见。"
                   + rng.choice(DECISIONS),
        "items": [{"name": "企业投资项目备案", "outcome": rng.choice(("原则同意，待补正材料", "附条件通过", "暂缓审批")),
                   "opinions": opinions}],
        "decisions": [{"text": rng.choice(DECISIONS)}, {"text": rng.choice(DECISIONS)}],
        "materials": [{"material": m} for m in rng.sample(MATERIALS, 3)],
        "referrals": [], "tasks": [{"tasks": [{"text": f"{rng.choice(DEPARTMENTS)}负责跟踪{project}手续办理进度"}]}],
        "source_log": None,
    }


async def generate(sessions: Any, world: Any, count: int, seed: int) -> None:
    """Bulk-insert departments, applicants, cases and `count` meetings each with final minutes."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    async with sessions() as db:
        dept_ids = []
        for n, name in enumerate(DEPARTMENTS):
            department = Department(code=f"GEN-{n:02d}", name=name, short_name=name[3:], division_code="530921")
            db.add(department)
            await db.flush()
            dept_ids.append(department.id)
        orgs = [world.org_x]  # the test applicant's organisation owns 1 case in 40: scoped searches find some
        for n in range(39):
            org = Organisation(credit_code=credit_code("91530921" + org_code(f"MA{n:06d}")),
                               name=f"凤庆县{rng.choice(TOWNS)}{rng.choice(PROJECTS)[:4]}有限公司{n}")
            db.add(org)
            await db.flush()
            orgs.append(org.id)
        cases = []
        for n in range(2000):
            project, town = PROJECTS[n % len(PROJECTS)], TOWNS[n % len(TOWNS)]
            case = InvestmentCase(project_code=f"26{n % 12 + 1:02d}-530921-04-01-{n:06d}",
                                  name=f"{town}{project}建设项目", organisation_id=orgs[n % len(orgs)],
                                  division_code="530921", town=town, total_investment=1000 + n, category="filing",
                                  investor_type="enterprise", created_at=now)
            db.add(case)
            await db.flush()
            item = ApprovalItem(case_id=case.id, name="企业投资项目备案", department_id=dept_ids[n % len(dept_ids)],
                                level="county", statutory_limit_wd=20, promised_limit_wd=5, status="in_review")
            db.add(item)
            await db.flush()
            cases.append((case.id, item.id, project, town))
        await db.commit()
    chair = world.user_ids["chair"]
    batch = 5000
    with tqdm(total=count, desc="generate minutes", unit="minutes", file=sys.stderr) as bar:
        for start in range(0, count, batch):
            async with sessions() as db:
                size = min(batch, count - start)
                base = start + 1_000_000  # clear of the world's own meeting ids
                meetings, agenda, documents, versions = [], [], [], []
                for n in range(start, start + size):
                    case_id, item_id, project, town = cases[n % len(cases)]
                    held = datetime(2025, 12, 1, 1, 30, tzinfo=UTC) + timedelta(minutes=(n * 5) % (340 * 24 * 60))
                    meeting_id = base + (n - start)
                    meetings.append({"id": meeting_id, "title": f"{town}{project}并联审批会议", "status": "minutes_final",
                                     "scheduled_start": held, "scheduled_end": held + timedelta(hours=2),
                                     "place": "凤庆县政务服务中心三楼会商室", "chair_id": chair,
                                     "lead_department_id": world.dept_fgj, "created_by_id": chair, "created_at": now})
                    agenda.append({"meeting_id": meeting_id, "item_id": item_id, "position": 1})
                    number = f"凤联审纪〔2026〕{n + 1}号"
                    documents.append({"id": meeting_id, "meeting_id": meeting_id, "year": 2026, "seq": n + 1,
                                      "number": number, "created_at": held})
                    content = _minutes_content(rng, number, project, town)
                    versions.append({"document_id": meeting_id, "version": 1, "status": "final", "content": content,
                                     "sha256": content_sha256(content), "reason": "", "created_by_id": chair,
                                     "created_at": held, "finalised_by_id": chair,
                                     "finalised_at": held + timedelta(hours=3), "finalise_note": ""})
                await db.execute(insert(Meeting), meetings)
                await db.execute(insert(AgendaEntry), agenda)
                await db.execute(insert(MinutesDocument), documents)
                await db.execute(insert(MinutesVersion), versions)
                await db.commit()
            bar.update(size)


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def measure_search(sessions: Any, principals: dict[str, Principal], repeat: int) -> list[dict[str, Any]]:
    rows = []
    for who, principal in principals.items():
        for label, queries in QUERY_MIX.items():
            samples, hits = [], 0
            async with sessions() as db:
                for params in queries:  # warm the page cache once per query
                    await search(db, principal, ArchiveQuery.model_validate(params))
                for _ in range(repeat):
                    for params in queries:
                        query = ArchiveQuery.model_validate(params)
                        began = time.perf_counter()
                        result = await search(db, principal, query)
                        samples.append((time.perf_counter() - began) * 1000)
                        hits += len(result.hits)
            rows.append({"who": who, "type": label, "n": len(samples), "p50": _percentile(samples, 0.5),
                         "p95": _percentile(samples, 0.95), "max": max(samples), "hits/query": hits / len(samples)})
    return rows


async def measure_export(runs: int, recording_mb: int, parent: Path) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="export-", dir=parent))
    settings = load_settings(data_dir=work / "export-data",
                             database={"url": f"sqlite+aiosqlite:///{work / 'export.db'}"})
    settings.data_dir.mkdir(parents=True)
    await asyncio.to_thread(upgrade, settings.database_url)
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    archived = await archived_case(sessions, settings)
    big = archived.recording_dir / "chair-video.webm"
    big.write_bytes(os.urandom(recording_mb * 1024 * 1024))
    manifest = json.loads((archived.recording_dir / "manifest.json").read_text(encoding="utf-8"))
    manifest["tracks"][0].update(size_bytes=big.stat().st_size, sha256=hashlib.sha256(big.read_bytes()).hexdigest())
    (archived.recording_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    times, sizes, validate = [], [], []
    for run in range(runs):
        async with sessions() as db:
            (case,) = await select_cases(db, project_code=PROJECT_X)
            began = time.perf_counter()
            dossier = await build_dossier(db, case, settings.data_dir, None, settings.centre.promised_limits)
            result = await export_bag(dossier, work / f"bags-{run}", settings.centre.name)
            times.append(time.perf_counter() - began)
            sizes.append(result.bytes)
            began = time.perf_counter()
            assert verify_bag(result.path).valid
            validate.append(time.perf_counter() - began)
    await engine.dispose()
    mb = sizes[0] / 1024 / 1024
    return {"bag_mb": mb, "files": result.files, "export_s": statistics.median(times), "first_s": times[0],
            "mb_per_s": mb / statistics.median(times), "validate_s": statistics.median(validate)}


async def _world_of(sessions: Any) -> Any:
    """The ids bench needs from a database an earlier run built with tests/world.py."""
    from tests.world import USERNAMES, World

    async with sessions() as db:
        users = dict((await db.execute(select(User.username, User.id).where(User.username.in_(USERNAMES)))).all())
        org_x = await db.scalar(select(Organisation.id).order_by(Organisation.id).limit(1))
    return World(user_ids=users, org_x=org_x or 0)


async def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from tests.world import build_world

    path = work / "archive.db"
    reuse = path.exists()  # --work DIR of an earlier run: measure the search again, same data
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    world = await (_world_of(sessions) if reuse else build_world(sessions))
    began = time.perf_counter()
    if not reuse:
        await generate(sessions, world, args.minutes, args.seed)
    generate_s = time.perf_counter() - began
    began = time.perf_counter()
    async with sessions() as db:
        report = await refresh_index(db)
        await db.commit()
    index_s = time.perf_counter() - began
    if reuse:
        async with sessions() as db:
            report.entries = await db.scalar(select(func.count()).select_from(ArchiveEntry)) or 0
    refresh_ms = []  # what every search request pays first: the index is already up to date
    async with sessions() as db:
        for _ in range(20):
            began = time.perf_counter()
            assert (await refresh_index(db)).entries == 0
            refresh_ms.append((time.perf_counter() - began) * 1000)
    archivist = Principal(user_id=world.user_ids["archivist"], username="archivist", display_name="吴档案",
                          role=Role.ARCHIVIST)
    applicant = Principal(user_id=world.user_ids["applicant"], username="applicant", display_name="张峰",
                          role=Role.APPLICANT, organisation_ids=frozenset({world.org_x}))
    rows = await measure_search(sessions, {"archivist": archivist, "applicant (scoped)": applicant}, args.repeat)
    await engine.dispose()
    db_mb = (work / "archive.db").stat().st_size / 1024 / 1024
    export = await measure_export(args.export_runs, args.recording_mb, work)
    return {"generate_s": generate_s, "index_s": index_s, "entries": report.entries, "db_mb": db_mb,
            "refresh_p95_ms": _percentile(refresh_ms, 0.95),
            "search": rows, "export": export}


def report_markdown(args: argparse.Namespace, result: dict[str, Any], wall: float) -> str:
    import sqlite3

    rows = result["search"]
    worst = max(r["p95"] for r in rows)
    worst_3 = max(r["p95"] for r in rows if r["type"] != "2-char (LIKE fallback)")
    export = result["export"]
    lines = [
        f"## Archive — 2026-11-29 {datetime.now(UTC):%H:%M} UTC — `{' '.join(['python bench/archive.py', *sys.argv[1:]])}`",
        "",
        f"- Machine: {os.cpu_count()} CPUs, Linux {platform.release()}, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version} (FTS5 trigram). Shared with other helpers' test runs at the same time "
        f"(noisy: compare ratios, not absolutes). Wall time {wall / 60:.1f} min.",
        f"- {args.minutes:,} final minutes (one meeting each, 2,000 cases, realistic Chinese text, ~410 "
        f"indexed characters each); generated in {result['generate_s']:.0f} s; indexed by the real indexer in "
        f"{result['index_s']:.0f} s ({result['entries'] / result['index_s']:,.0f} entries/s, {result['entries']:,} "
        f"entries); database {result['db_mb']:.0f} MB.",
        f"- Search = `server.archive.search.search` on one session, {args.repeat} rounds of each query after "
        "one warm-up (20 hits a page, one extra row to know there are more). The API also runs the incremental index refresh "
        f"before each search: p95 {result['refresh_p95_ms']:.1f} ms when nothing is new (not included below).",
        "",
        "| who | query type | n | p50 ms | p95 ms | max ms | hits/query |",
        "|---|---|---:|---:|---:|---:|---:|",
        *[f"| {r['who']} | {r['type']} | {r['n']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['max']:.1f} | "
          f"{r['hits/query']:.1f} |" for r in rows],
        "",
        f"- **Search p95 < 50 ms on SQLite: {'PASS' if worst < 50 else 'FAIL'}** (worst p95 {worst:.1f} ms; "
        f"excluding two-character terms, which the trigram index cannot serve and which fall back to LIKE: "
        f"{worst_3:.1f} ms, {'PASS' if worst_3 < 50 else 'FAIL'}).",
        f"- Export (tests/api/archive_support.py case: 2 meetings, minutes v1+v2 as PDF/DOCX/JSON, notice, event "
        f"logs, recording with {args.recording_mb} MB of tracks): {export['files']} files, {export['bag_mb']:.1f} MB "
        f"per bag; first {export['first_s']:.2f} s (PDF/DOCX rendered), median of {args.export_runs} "
        f"{export['export_s']:.2f} s per bag ({export['mb_per_s']:.1f} MB/s; renderings of sealed minutes are "
        f"kept by minutes_reading after the first); offline validation {export['validate_s']:.2f} s.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20, help="rounds of the query mix")
    parser.add_argument("--export-runs", type=int, default=3)
    parser.add_argument("--recording-mb", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-record", action="store_true", help="print only, do not append to RESULTS.md")
    parser.add_argument("--work", metavar="DIR", help="keep the database here; if one is there, reuse it "
                                                      "(search measured again without generating)")
    args = parser.parse_args()
    began = time.perf_counter()
    if args.work:
        Path(args.work).mkdir(parents=True, exist_ok=True)
        result = asyncio.run(run(args, Path(args.work)))
    else:
        with tempfile.TemporaryDirectory(prefix="lianshen-archive-bench-") as tmp:
            result = asyncio.run(run(args, Path(tmp)))
    text = report_markdown(args, result, time.perf_counter() - began)
    print(text)
    if not args.no_record:
        with (ROOT / "bench" / "RESULTS.md").open("a", encoding="utf-8") as out:
            out.write("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
