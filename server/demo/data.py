"""Demo data: Fengqing County (凤庆县, Lincang, Yunnan) joint-review cases, people and meetings.

Plain typed data for the loader (record types: server.demo.records; the meeting events are the
record's, with people named by username and display name: server.demo.record_events).
Top-level constants: DIVISIONS, FENGQING_TOWNS, DEPARTMENTS, ORGANISATIONS, USERS, COMMISSIONS,
CASES (items and suspensions nested), MEETINGS (sites, invitations, agenda, events), and
DATA_AS_OF, the day the data describes (between the ended and the scheduled meeting). This is the
reference world: the loader takes it moved to the day it is loaded (server.demo.as_of).

What is real and what is not:
- Division codes, town names, departments' names and the legal references are real.
- Every person, company, project, project code, credit code, phone number and document number is
  invented. Credit codes pass GB 32100-2015 (and their organisation-code part GB 11714); project
  codes have the right shape and division but no real check digit. The fish-processing company
  and its deputy manager 张峰 come from the 2014 article; the rest of their data is invented.
- Dates are 2026 working days (chinesecalendar); every decided item was decided within its promised
  limit, counting working days after acceptance and skipping suspensions (start..end inclusive).
- Document numbers follow local styles: 凤发改备〔2026〕86号 (no leading zeros), 用字第/地字第/建字第
  530921 2026 00031号 for planning certificates, 临环凤审〔2026〕41号 for the Lincang ecology
  bureau's Fengqing branch.
- 备案 has no review period (企业投资项目核准和备案管理条例 §13); it is recorded with a limit of 1
  working day because the domain requires promised limits of at least 1.
- Fixed offset UTC+08:00 is used for meeting times (China has no daylight saving time).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from record.vocab import OpinionKind, remedy_notice
from server.demo.records import (
    AgendaRef,
    ApprovalItem,
    Case,
    Commission,
    Department,
    Division,
    Event,
    Invitation,
    Meeting,
    Organisation,
    OtherAttendee,
    Site,
    Suspension,
    User,
)

UTC8 = timezone(timedelta(hours=8), "UTC+08:00")

DATA_AS_OF = date(2026, 12, 1)

# ---------------------------------------------------------------------------------------------
# Divisions (GB/T 2260)
# ---------------------------------------------------------------------------------------------

DIVISIONS: tuple[Division, ...] = (
    Division("530000", "云南省", "province", None),
    Division("530900", "临沧市", "city", "530000"),
    Division("530902", "临翔区", "county", "530900"),
    Division("530921", "凤庆县", "county", "530900"),
)

# The 8 towns and 5 townships of Fengqing County (乡镇).
FENGQING_TOWNS: tuple[str, ...] = (
    "凤山镇", "鲁史镇", "小湾镇", "营盘镇", "三岔河镇", "勐佑镇", "雪山镇", "洛党镇",
    "诗礼乡", "新华彝族苗族乡", "大寺乡", "腰街彝族乡", "郭大寨彝族白族乡",
)

# ---------------------------------------------------------------------------------------------
# Departments: 16 county units stationed at the centre, 3 city and 4 province departments that
# join by video (三级联动). FQ-BLB, the 投资项目并联审批办公室, is modelled as a department of kind
# "office": it is the chairs' unit and can receive tasks, but has no chief representatives.
# ---------------------------------------------------------------------------------------------

DEPARTMENTS: tuple[Department, ...] = (
    Department("FQ-BLB", "凤庆县投资项目并联审批办公室", "县并联审批办", "530921", "office", True),
    Department("FQ-ZWJ", "凤庆县政务服务管理局", "县政务服务局", "530921", "service", True),
    Department("FQ-FGJ", "凤庆县发展和改革局", "县发改局", "530921", "approval", True),
    Department("FQ-ZRJ", "凤庆县自然资源局", "县自然资源局", "530921", "approval", True),
    Department("FQ-ZJJ", "凤庆县住房和城乡建设局", "县住建局", "530921", "approval", True),
    Department("FQ-STJ", "临沧市生态环境局凤庆分局", "凤庆生态环境分局", "530921", "approval", True),
    Department("FQ-LCJ", "凤庆县林业和草原局", "县林草局", "530921", "approval", True),
    Department("FQ-SWJ", "凤庆县水务局", "县水务局", "530921", "approval", True),
    Department("FQ-JTJ", "凤庆县交通运输局", "县交通运输局", "530921", "approval", True),
    Department("FQ-YJJ", "凤庆县应急管理局", "县应急局", "530921", "approval", True),
    Department("FQ-XFDD", "凤庆县消防救援大队", "县消防救援大队", "530921", "approval", True),
    Department("FQ-SJJ", "凤庆县市场监督管理局", "县市场监管局", "530921", "approval", True),
    Department("FQ-GXJ", "凤庆县工业和信息化局", "县工信局", "530921", "approval", True),
    Department("FQ-WLJ", "凤庆县文化和旅游局", "县文旅局", "530921", "approval", True),
    Department("FQ-RFB", "凤庆县人民防空办公室", "县人防办", "530921", "approval", True),
    Department("FQ-QXJ", "凤庆县气象局", "县气象局", "530921", "approval", True),
    Department("LC-FGW", "临沧市发展和改革委员会", "市发改委", "530900", "approval", False),
    Department("LC-ZGJ", "临沧市自然资源和规划局", "市自然资源和规划局", "530900", "approval", False),
    Department("LC-STJ", "临沧市生态环境局", "市生态环境局", "530900", "approval", False),
    Department("YN-FGW", "云南省发展和改革委员会", "省发改委", "530000", "approval", False),
    Department("YN-NYJ", "云南省能源局", "省能源局", "530000", "approval", False),
    Department("YN-LCJ", "云南省林业和草原局", "省林草局", "530000", "approval", False),
    Department("YN-ZRT", "云南省自然资源厅", "省自然资源厅", "530000", "approval", False),
)

# ---------------------------------------------------------------------------------------------
# Applicant organisations (credit codes synthetic, valid)
# ---------------------------------------------------------------------------------------------

XWYY = "915309210861732515"  # 凤庆县小湾生态渔业有限公司
DHCY = "9153092177552183X8"  # 凤庆县滇红茶业有限责任公司
LDHT = "91530921MA6PB4H18D"  # 凤庆县洛党山核桃食品开发有限公司
MYZF = "11530921015204639R"  # 凤庆县勐佑镇人民政府
LCNT = "91530902MA6P0C9U6Q"  # 临沧能投新能源开发有限公司

ORGANISATIONS: tuple[Organisation, ...] = (
    Organisation(
        credit_code=XWYY,
        name="凤庆县小湾生态渔业有限公司",
        kind="enterprise",
        division_code="530921",
        address="云南省临沧市凤庆县小湾镇小湾库区渔业码头综合楼",
        legal_representative="李国富",
        contact="张峰",
        contact_title="副总经理",
        phone="0883-4261538",
    ),
    Organisation(
        credit_code=DHCY,
        name="凤庆县滇红茶业有限责任公司",
        kind="enterprise",
        division_code="530921",
        address="云南省临沧市凤庆县凤山镇滇红生态产业园区B区",
        legal_representative="杨春茂",
        contact="茶志刚",
        contact_title="生产技术部经理",
        phone="0883-4217726",
    ),
    Organisation(
        credit_code=LDHT,
        name="凤庆县洛党山核桃食品开发有限公司",
        kind="enterprise",
        division_code="530921",
        address="云南省临沧市凤庆县洛党镇集镇工业片区",
        legal_representative="罗正清",
        contact="罗海涛",
        contact_title="办公室主任",
        phone="0883-4283105",
    ),
    Organisation(
        credit_code=MYZF,
        name="凤庆县勐佑镇人民政府",
        kind="government",
        division_code="530921",
        address="云南省临沧市凤庆县勐佑镇集镇",
        legal_representative="俸志华",
        contact="杨文斌",
        contact_title="勐佑镇村镇规划建设服务中心主任",
        phone="0883-4271012",
    ),
    Organisation(
        credit_code=LCNT,
        name="临沧能投新能源开发有限公司",
        kind="enterprise",
        division_code="530902",
        address="云南省临沧市临翔区忙畔街道新能源大厦8楼",
        legal_representative="马骏",
        contact="胡晓林",
        contact_title="工程前期部经理",
        phone="0883-2158860",
    ),
)

# ---------------------------------------------------------------------------------------------
# People. Password pattern: "Demo-2026!" + username (printed in demo.json and the README).
# ---------------------------------------------------------------------------------------------


def _rep(username: str, name: str, title: str, department: str, post: str, phone: str) -> User:
    return User(username, f"Demo-2026!{username}", "chief_rep", name, title,
                department_code=department, post=post, phone=phone)


USERS: tuple[User, ...] = (
    User("admin", "Demo-2026!admin", "admin", "王晓东", "凤庆县政务服务管理局信息化股工程师",
         phone="0883-4210016"),
    User("archivist", "Demo-2026!archivist", "archivist", "鲁翠华",
         "凤庆县政务服务管理局档案管理员", phone="0883-4210019"),
    User("chair_a", "Demo-2026!chair_a", "chair", "杨国强", "凤庆县投资项目并联审批办公室主任",
         department_code="FQ-BLB", phone="0883-4210101"),
    User("chair_b", "Demo-2026!chair_b", "chair", "李春燕", "凤庆县投资项目并联审批办公室副主任",
         department_code="FQ-BLB", phone="0883-4210102"),
    User("xwyy", "Demo-2026!xwyy", "applicant", "张峰", "凤庆县小湾生态渔业有限公司副总经理",
         organisation_credit_code=XWYY, phone="0883-4261538"),
    User("dhcy", "Demo-2026!dhcy", "applicant", "茶志刚",
         "凤庆县滇红茶业有限责任公司生产技术部经理", organisation_credit_code=DHCY,
         phone="0883-4217726"),
    User("daiban_ld", "Demo-2026!daiban_ld", "agent", "字丽琼", "洛党镇为民服务中心代办员",
         phone="0883-4283012"),
    # The scheduled meeting's applicant (the wind farm's developer) and the agent it commissioned.
    User("lcnt", "Demo-2026!lcnt", "applicant", "胡晓林", "临沧能投新能源开发有限公司工程前期部经理",
         organisation_credit_code=LCNT, phone="0883-2158860"),
    User("daiban_xs", "Demo-2026!daiban_xs", "agent", "茶丽萍", "雪山镇为民服务中心代办员",
         phone="0883-4291023"),
    # County chief representatives (首席代表), A post and B post (AB工作制).
    _rep("zwj_a", "黄建荣", "政务服务管理局窗口管理股股长", "FQ-ZWJ", "A", "0883-4210111"),
    _rep("zwj_b", "邱丽萍", "政务服务管理局窗口管理股副股长", "FQ-ZWJ", "B", "0883-4210112"),
    _rep("fgj_a", "李建华", "发展和改革局投资股股长（首席代表）", "FQ-FGJ", "A", "0883-4210201"),
    _rep("fgj_b", "罗艳", "发展和改革局投资股副股长", "FQ-FGJ", "B", "0883-4210202"),
    _rep("zrj_a", "杨志刚", "自然资源局行政审批股股长（首席代表）", "FQ-ZRJ", "A", "0883-4210211"),
    _rep("zrj_b", "段雪梅", "自然资源局行政审批股副股长", "FQ-ZRJ", "B", "0883-4210212"),
    _rep("zjj_a", "赵德明", "住房和城乡建设局行政审批股股长（首席代表）", "FQ-ZJJ", "A",
         "0883-4210221"),
    _rep("zjj_b", "施晓燕", "住房和城乡建设局行政审批股副股长", "FQ-ZJJ", "B", "0883-4210222"),
    _rep("stj_a", "周俊", "凤庆分局环境影响评价股股长（首席代表）", "FQ-STJ", "A", "0883-4210231"),
    _rep("stj_b", "鲁文静", "凤庆分局环境影响评价股科员", "FQ-STJ", "B", "0883-4210232"),
    _rep("lcj_a", "张永福", "林业和草原局资源管理股股长（首席代表）", "FQ-LCJ", "A", "0883-4210241"),
    _rep("lcj_b", "何丽", "林业和草原局资源管理股副股长", "FQ-LCJ", "B", "0883-4210242"),
    _rep("swj_a", "字云龙", "水务局水政水资源股股长（首席代表）", "FQ-SWJ", "A", "0883-4210251"),
    _rep("swj_b", "刘春梅", "水务局水土保持站副站长", "FQ-SWJ", "B", "0883-4210252"),
    _rep("jtj_a", "陈光明", "交通运输局路政审批股股长（首席代表）", "FQ-JTJ", "A", "0883-4210261"),
    _rep("jtj_b", "马丽娟", "交通运输局路政审批股科员", "FQ-JTJ", "B", "0883-4210262"),
    _rep("yjj_a", "苏永刚", "应急管理局安全生产综合股股长（首席代表）", "FQ-YJJ", "A",
         "0883-4210271"),
    _rep("yjj_b", "毕海燕", "应急管理局安全生产综合股科员", "FQ-YJJ", "B", "0883-4210272"),
    _rep("xfdd_a", "董磊", "消防救援大队防火监督员（首席代表）", "FQ-XFDD", "A", "0883-4210281"),
    _rep("xfdd_b", "穆春生", "消防救援大队防火监督员", "FQ-XFDD", "B", "0883-4210282"),
    _rep("sjj_a", "胡玉芬", "市场监督管理局登记注册股股长（首席代表）", "FQ-SJJ", "A",
         "0883-4210291"),
    _rep("sjj_b", "俸建国", "市场监督管理局登记注册股副股长", "FQ-SJJ", "B", "0883-4210292"),
    _rep("gxj_a", "吴国华", "工业和信息化局投资与技术改造股股长（首席代表）", "FQ-GXJ", "A",
         "0883-4210301"),
    _rep("gxj_b", "查丽芳", "工业和信息化局投资与技术改造股科员", "FQ-GXJ", "B", "0883-4210302"),
    _rep("wlj_a", "郭晓婷", "文化和旅游局文物与市场股股长（首席代表）", "FQ-WLJ", "A",
         "0883-4210311"),
    _rep("wlj_b", "尹志强", "文化和旅游局文物与市场股科员", "FQ-WLJ", "B", "0883-4210312"),
    _rep("rfb_a", "孙建平", "人民防空办公室工程股股长（首席代表）", "FQ-RFB", "A", "0883-4210321"),
    _rep("rfb_b", "熊艳琼", "人民防空办公室工程股科员", "FQ-RFB", "B", "0883-4210322"),
    _rep("qxj_a", "彭云", "气象局防灾减灾股股长（首席代表）", "FQ-QXJ", "A", "0883-4210331"),
    _rep("qxj_b", "蒋丽梅", "气象局防灾减灾股科员", "FQ-QXJ", "B", "0883-4210332"),
    # City (临沧市) contacts for video consultation.
    _rep("lc_fgw_a", "王振宇", "临沧市发展和改革委员会固定资产投资科科长", "LC-FGW", "A",
         "0883-2121306"),
    _rep("lc_fgw_b", "钱丽", "临沧市发展和改革委员会固定资产投资科副科长", "LC-FGW", "B",
         "0883-2121307"),
    _rep("lc_zgj_a", "汤建明", "临沧市自然资源和规划局行政审批科科长", "LC-ZGJ", "A",
         "0883-2125510"),
    _rep("lc_zgj_b", "左丽君", "临沧市自然资源和规划局行政审批科副科长", "LC-ZGJ", "B",
         "0883-2125511"),
    _rep("lc_stj_a", "段志勇", "临沧市生态环境局环境影响评价与排放管理科科长", "LC-STJ", "A",
         "0883-2146620"),
    _rep("lc_stj_b", "温晓霞", "临沧市生态环境局环境影响评价与排放管理科副科长", "LC-STJ", "B",
         "0883-2146621"),
    # Province (云南省) contacts for video consultation.
    _rep("yn_fgw_a", "高建新", "云南省发展和改革委员会固定资产投资处副处长", "YN-FGW", "A",
         "0871-63100201"),
    _rep("yn_fgw_b", "沈静", "云南省发展和改革委员会固定资产投资处四级调研员", "YN-FGW", "B",
         "0871-63100202"),
    _rep("yn_nyj_a", "范卫东", "云南省能源局新能源处副处长", "YN-NYJ", "A", "0871-63100311"),
    _rep("yn_nyj_b", "潘婷", "云南省能源局新能源处一级主任科员", "YN-NYJ", "B", "0871-63100312"),
    _rep("yn_lcj_a", "柏永红", "云南省林业和草原局森林资源管理处副处长", "YN-LCJ", "A",
         "0871-63100421"),
    _rep("yn_lcj_b", "龚丽", "云南省林业和草原局森林资源管理处一级主任科员", "YN-LCJ", "B",
         "0871-63100422"),
    _rep("yn_zrt_a", "蔡明辉", "云南省自然资源厅国土空间用途管制处副处长", "YN-ZRT", "A",
         "0871-63100531"),
    _rep("yn_zrt_b", "冯雪", "云南省自然资源厅国土空间用途管制处一级主任科员", "YN-ZRT", "B",
         "0871-63100532"),
)

# ---------------------------------------------------------------------------------------------
# Cases. Item names are unique within a case; meetings refer to items by (project_code, name).
# ---------------------------------------------------------------------------------------------

FISH = "2610-530921-04-01-382715"
TEA = "2608-530921-07-02-516093"
WALNUT = "2607-530921-04-01-274580"
SEWAGE = "2020-530921-46-01-031742"  # old format (2016-2020): year-division-industry-type-serial
WIND = "2609-530921-04-01-651208"

# Item names (official matter names, 政务服务事项).
FILING = "企业投资项目备案"
TECH_FILING = "工业企业技术改造投资项目备案"
RATIFICATION = "企业投资项目核准"
PROPOSAL = "政府投资项目建议书审批"
FEASIBILITY = "政府投资项目可行性研究报告审批"
PRELIM_DESIGN = "政府投资项目初步设计审批"
ENERGY = "固定资产投资项目节能审查"
LAND_SITE = "建设项目用地预审与选址意见书核发"
LAND_PLAN = "建设用地规划许可证核发"
WORKS_PLAN = "建设工程规划许可证核发"
EIA_TABLE = "建设项目环境影响报告表审批"
SOIL = "生产建设项目水土保持方案审批"
WATER_DRAW = "取水许可"
FOREST = "建设项目使用林地审核审批"
FIRE = "特殊建设工程消防设计审查"
CONSTRUCTION = "建筑工程施工许可证核发"
DRAINAGE = "城镇污水排入排水管网许可"
LIGHTNING = "雷电防护装置设计审核"
ROAD_WORKS = "公路涉路施工许可"

CASES: tuple[Case, ...] = (
    # 1. The article's own example (备案制): the fish-processing plant of 小湾生态渔业.
    Case(
        project_code=FISH,
        name="凤庆县小湾生态渔业有限公司鱼制品加工厂建设项目",
        organisation_credit_code=XWYY,
        division_code="530921",
        town="小湾镇",
        address="凤庆县小湾镇小湾库区渔业码头东侧地块",
        total_investment="4860.00",
        scale_content=(
            "新建鱼制品加工厂一座，总用地面积约1.91公顷（约28.6亩），总建筑面积12600平方米。"
            "主要建设原料预处理车间、鱼制品加工车间（鱼干、鱼糜制品、即食休闲鱼制品生产线各1条）、"
            "库容1500吨冷库（液氨制冷）、成品库、综合楼及日处理能力300立方米的污水处理站等配套设施，"
            "购置加工设备86台（套）。项目建成后年加工小湾库区鲜鱼5000吨，年产各类鱼制品约2200吨，"
            "可带动库区周边渔户约600户增收，新增就业岗位120个。"
        ),
        category="filing",
        industry="农副食品加工业（水产品加工）",
        investor_type="enterprise",
        funding_source="企业自筹2860万元，银行贷款2000万元",
        planned_start=date(2027, 3, 1),
        planned_finish=date(2028, 6, 30),
        lead_department_code="FQ-FGJ",
        items=(
            ApprovalItem(
                name=FILING, department_code="FQ-FGJ", level="county",
                accepted_on=date(2026, 10, 12), statutory_limit_wd=1, promised_limit_wd=1,
                status="approved",
                result="项目信息完整，予以备案，项目代码2610-530921-04-01-382715。",
                decided_on=date(2026, 10, 12), document_no="凤发改备〔2026〕86号",
            ),
            ApprovalItem(
                name=LAND_SITE, department_code="FQ-ZRJ", level="county",
                accepted_on=date(2026, 11, 13), statutory_limit_wd=20, promised_limit_wd=12,
                status="approved",
                result=(
                    "按并联审批会议议定事项，核减原拟设弃渣场用地后，核定项目用地面积1.68公顷，"
                    "不占用永久基本农田，不涉及生态保护红线，予以核发用地预审与选址意见书。"
                ),
                decided_on=date(2026, 11, 30), document_no="用字第530921202600058号",
            ),
            ApprovalItem(
                name=EIA_TABLE, department_code="FQ-STJ", level="county",
                accepted_on=date(2026, 11, 2), statutory_limit_wd=30, promised_limit_wd=15,
                status="approved",
                result=(
                    "同意项目按环境影响报告表所列性质、规模、地点和环境保护措施建设，"
                    "并落实并联审批会议所提废水处理、副产物综合利用、液氨环境风险防范和恶臭治理要求。"
                ),
                decided_on=date(2026, 11, 27), document_no="临环凤审〔2026〕41号",
                suspensions=(
                    Suspension(
                        start=date(2026, 11, 5), end=date(2026, 11, 20),
                        reason="需补充小湾库区项目排口附近地表水水质现状监测数据，中止审查。",
                        suspend_notice_no="临环凤审中〔2026〕5号",
                        resume_notice_no="临环凤审复〔2026〕5号",
                    ),
                ),
            ),
            ApprovalItem(
                name=SOIL, department_code="FQ-SWJ", level="county",
                accepted_on=date(2026, 11, 9), statutory_limit_wd=20, promised_limit_wd=10,
                status="suspended",
                result="",
                suspensions=(
                    Suspension(
                        start=date(2026, 11, 20), end=None,
                        reason=(
                            "并联审批会议县水务局不同意水土保持方案（送审稿），项目单位须取消库区岸坡弃渣场、"
                            "修改方案并补充弃渣场选址论证，自2026年11月20日起中止审查。"
                        ),
                        suspend_notice_no="凤水保中〔2026〕4号",
                    ),
                ),
            ),
            ApprovalItem(
                name=FIRE, department_code="FQ-ZJJ", level="county",
                accepted_on=date(2026, 11, 16), statutory_limit_wd=15, promised_limit_wd=10,
                status="approved",
                result="消防设计审查合格。氨制冷机房按乙类火灾危险性设计，设置泄漏报警及事故排风设施。",
                decided_on=date(2026, 11, 27), document_no="凤住建消审字〔2026〕第38号",
            ),
            ApprovalItem(
                name=LIGHTNING, department_code="FQ-QXJ", level="county",
                accepted_on=None, statutory_limit_wd=20, promised_limit_wd=10, status="pending",
                note="液氨储存区域属易燃易爆场所，雷电防护装置设计须经气象部门审核。",
            ),
            ApprovalItem(
                name=LAND_PLAN, department_code="FQ-ZRJ", level="county",
                accepted_on=None, statutory_limit_wd=20, promised_limit_wd=10, status="pending",
                note="待土地出让后申请。",
            ),
            ApprovalItem(
                name=CONSTRUCTION, department_code="FQ-ZJJ", level="county",
                accepted_on=None, statutory_limit_wd=7, promised_limit_wd=3, status="pending",
            ),
        ),
    ),
    # 2. Tea factory expansion (备案制, as an industrial technical-renovation project: 工信局 files it).
    Case(
        project_code=TEA,
        name="凤庆县滇红茶业有限责任公司滇红茶加工厂扩建项目",
        organisation_credit_code=DHCY,
        division_code="530921",
        town="凤山镇",
        address="凤庆县凤山镇滇红生态产业园区B区（公司现有厂区内）",
        total_investment="3280.00",
        scale_content=(
            "在公司现有厂区内实施扩建改造：新建精制车间4800平方米、拼配仓储车间3200平方米，"
            "改造初制车间2600平方米；新增自动化萎凋、揉捻、发酵、干燥设备及滇红茶精制拼配生产线2条，"
            "以生物质颗粒热风炉替代原燃煤烘干设施。项目建成后新增滇红茶精制加工能力2000吨/年，"
            "全厂加工能力由1500吨/年提高到3500吨/年。"
        ),
        category="filing",
        industry="酒、饮料和精制茶制造业（精制茶加工）",
        investor_type="enterprise",
        funding_source="企业自筹1780万元，申请省级工业和信息化发展专项资金300万元，银行贷款1200万元",
        planned_start=date(2026, 12, 15),
        planned_finish=date(2027, 10, 31),
        lead_department_code="FQ-GXJ",
        items=(
            ApprovalItem(
                name=TECH_FILING, department_code="FQ-GXJ", level="county",
                accepted_on=date(2026, 8, 17), statutory_limit_wd=1, promised_limit_wd=1,
                status="approved", result="项目信息完整，予以技术改造投资项目备案。",
                decided_on=date(2026, 8, 17), document_no="凤工信技改备〔2026〕9号",
            ),
            ApprovalItem(
                name=ENERGY, department_code="FQ-FGJ", level="county",
                accepted_on=date(2026, 8, 24), statutory_limit_wd=20, promised_limit_wd=10,
                status="approved",
                result="同意该项目节能报告。项目年综合能源消费量约1260吨标准煤（当量值），须落实报告提出的节能措施。",
                decided_on=date(2026, 9, 3), document_no="凤发改能审〔2026〕5号",
            ),
            ApprovalItem(
                name=EIA_TABLE, department_code="FQ-STJ", level="county",
                accepted_on=date(2026, 8, 31), statutory_limit_wd=30, promised_limit_wd=15,
                status="approved",
                result="同意项目按环境影响报告表所列内容建设，"
                       "生物质热风炉烟气执行《锅炉大气污染物排放标准》（GB 13271-2014）。",
                decided_on=date(2026, 9, 18), document_no="临环凤审〔2026〕33号",
            ),
            ApprovalItem(
                name=WORKS_PLAN, department_code="FQ-ZRJ", level="county",
                accepted_on=date(2026, 9, 14), statutory_limit_wd=20, promised_limit_wd=10,
                status="approved", result="准予核发建设工程规划许可证（精制车间、拼配仓储车间）。",
                decided_on=date(2026, 9, 24), document_no="建字第530921202600047号",
            ),
            ApprovalItem(
                name=DRAINAGE, department_code="FQ-ZJJ", level="county",
                accepted_on=date(2026, 10, 19), statutory_limit_wd=15, promised_limit_wd=7,
                status="rejected",
                result=(
                    "经现场核查，排水户预处理设施尚未建成，排水水质检测报告显示化学需氧量超过"
                    "《污水排入城镇下水道水质标准》（GB/T 31962-2015）B级限值，不予许可。"
                    "申请人可在预处理设施建成并检测达标后重新申请；如不服，可依法申请行政复议或者提起行政诉讼。"
                ),
                decided_on=date(2026, 10, 28), document_no="凤住建排许不〔2026〕2号",
            ),
            ApprovalItem(
                name=CONSTRUCTION, department_code="FQ-ZJJ", level="county",
                accepted_on=date(2026, 11, 27), statutory_limit_wd=7, promised_limit_wd=3,
                status="accepted",
            ),
        ),
    ),
    # 3. Walnut deep processing (备案制), applied for by the 洛党镇 agent under commission.
    Case(
        project_code=WALNUT,
        name="凤庆县洛党山核桃食品开发有限公司年加工1万吨核桃深加工建设项目",
        organisation_credit_code=LDHT,
        division_code="530921",
        town="洛党镇",
        address="凤庆县洛党镇集镇工业片区",
        total_investment="6500.00",
        scale_content=(
            "新建核桃深加工生产基地，总用地面积约2.4公顷（约36亩，其中使用林地0.86公顷），"
            "总建筑面积16800平方米。建设核桃脱青皮及烘干车间、破壳取仁车间、核桃油压榨精炼车间、"
            "核桃乳饮料车间、原料及成品仓库、综合楼及污水处理站等，购置压榨、精炼、灌装及核桃乳生产设备"
            "126台（套）。项目建成后年加工干核桃1万吨，年产核桃油1200吨、核桃乳3万吨、核桃仁及休闲食品1500吨。"
        ),
        category="filing",
        industry="农副食品加工业（核桃加工）",
        investor_type="enterprise",
        funding_source="企业自筹3500万元，银行贷款3000万元",
        planned_start=date(2027, 2, 1),
        planned_finish=date(2028, 5, 31),
        lead_department_code="FQ-FGJ",
        agent_username="daiban_ld",
        items=(
            ApprovalItem(
                name=FILING, department_code="FQ-FGJ", level="county",
                accepted_on=date(2026, 7, 15), statutory_limit_wd=1, promised_limit_wd=1,
                status="approved",
                result="项目信息完整，予以备案，项目代码2607-530921-04-01-274580。",
                decided_on=date(2026, 7, 15), document_no="凤发改备〔2026〕54号",
            ),
            ApprovalItem(
                name=LAND_SITE, department_code="FQ-ZRJ", level="county",
                accepted_on=date(2026, 7, 20), statutory_limit_wd=20, promised_limit_wd=12,
                status="approved", result="符合洛党镇国土空间规划，不占用永久基本农田，予以核发。",
                decided_on=date(2026, 8, 4), document_no="用字第530921202600031号",
            ),
            ApprovalItem(
                name=FOREST, department_code="FQ-LCJ", level="county",
                accepted_on=date(2026, 7, 22), statutory_limit_wd=20, promised_limit_wd=12,
                status="approved",
                result="同意使用集体商品林地0.86公顷，须依法缴纳森林植被恢复费。",
                decided_on=date(2026, 8, 6), document_no="凤林草许准〔2026〕14号",
            ),
            ApprovalItem(
                name=EIA_TABLE, department_code="FQ-STJ", level="county",
                accepted_on=date(2026, 8, 3), statutory_limit_wd=30, promised_limit_wd=15,
                status="approved",
                result="同意项目按环境影响报告表所列内容建设，核桃青皮须综合利用，生产废水经处理达标后接入集镇污水管网。",
                decided_on=date(2026, 9, 1), document_no="临环凤审〔2026〕30号",
                suspensions=(
                    Suspension(
                        start=date(2026, 8, 10), end=date(2026, 8, 24),
                        reason="需补充核桃青皮废水处理工艺可行性论证，中止审查。",
                        suspend_notice_no="临环凤审中〔2026〕3号",
                        resume_notice_no="临环凤审复〔2026〕3号",
                    ),
                ),
            ),
            ApprovalItem(
                name=SOIL, department_code="FQ-SWJ", level="county",
                accepted_on=date(2026, 8, 3), statutory_limit_wd=20, promised_limit_wd=10,
                status="approved", result="同意水土保持方案报告表，水土流失防治责任范围2.62公顷。",
                decided_on=date(2026, 8, 14), document_no="凤水保许〔2026〕15号",
            ),
            ApprovalItem(
                name=WATER_DRAW, department_code="FQ-SWJ", level="county",
                accepted_on=date(2026, 8, 5), statutory_limit_wd=45, promised_limit_wd=20,
                status="withdrawn",
                result="申请人书面申请撤回：项目用水改由洛党镇集镇供水管网供给，不再自建取水工程。",
                decided_on=date(2026, 8, 20),
            ),
            ApprovalItem(
                name=ENERGY, department_code="FQ-FGJ", level="county",
                accepted_on=date(2026, 8, 10), statutory_limit_wd=20, promised_limit_wd=10,
                status="approved", result="同意该项目节能报告，年综合能源消费量约2350吨标准煤（当量值）。",
                decided_on=date(2026, 8, 21), document_no="凤发改能审〔2026〕4号",
            ),
            ApprovalItem(
                name=LAND_PLAN, department_code="FQ-ZRJ", level="county",
                accepted_on=date(2026, 9, 21), statutory_limit_wd=20, promised_limit_wd=10,
                status="approved", result="准予核发建设用地规划许可证，用地面积2.4公顷。",
                decided_on=date(2026, 9, 30), document_no="地字第530921202600019号",
            ),
            ApprovalItem(
                name=WORKS_PLAN, department_code="FQ-ZRJ", level="county",
                accepted_on=date(2026, 11, 23), statutory_limit_wd=20, promised_limit_wd=10,
                status="in_review",
            ),
            ApprovalItem(
                name=CONSTRUCTION, department_code="FQ-ZJJ", level="county",
                accepted_on=None, statutory_limit_wd=7, promised_limit_wd=3, status="pending",
            ),
        ),
    ),
    # 4. Township sewage plant (审批制, government investment); old-format code from the project
    #    reserve (项目储备库) of 2020.
    Case(
        project_code=SEWAGE,
        name="凤庆县勐佑镇污水处理厂及配套管网工程",
        organisation_credit_code=MYZF,
        division_code="530921",
        town="勐佑镇",
        address="凤庆县勐佑镇集镇东南侧勐佑河右岸",
        total_investment="2236.00",
        scale_content=(
            "新建勐佑镇污水处理厂一座，设计规模1500立方米/日，采用“预处理+A²/O+高效沉淀+滤布滤池+紫外消毒”"
            "工艺，出水执行《城镇污水处理厂污染物排放标准》（GB 18918-2002）一级A标准；新建DN300～DN500"
            "配套污水收集管网12.6公里、一体化提升泵站1座，同步建设污泥浓缩脱水间及在线监测设施。"
            "项目用地约0.65公顷（约9.8亩）。"
        ),
        category="approval",
        industry="水的生产和供应业（污水处理及其再生利用）",
        investor_type="government",
        funding_source="中央预算内投资1200万元，地方政府专项债券800万元，县级财政配套236万元",
        planned_start=date(2027, 3, 1),
        planned_finish=date(2028, 3, 31),
        lead_department_code="FQ-FGJ",
        items=(
            ApprovalItem(
                name=PROPOSAL, department_code="FQ-FGJ", level="county",
                accepted_on=date(2026, 1, 12), statutory_limit_wd=20, promised_limit_wd=10,
                status="approved", result="同意开展项目前期工作，估算总投资2236万元。",
                decided_on=date(2026, 1, 22), document_no="凤发改投资〔2026〕6号",
            ),
            ApprovalItem(
                name=LAND_SITE, department_code="FQ-ZRJ", level="county",
                accepted_on=date(2026, 2, 2), statutory_limit_wd=20, promised_limit_wd=12,
                status="approved", result="选址符合勐佑镇国土空间规划，以划拨方式供地，予以核发。",
                decided_on=date(2026, 2, 13), document_no="用字第530921202600004号",
            ),
            ApprovalItem(
                name=EIA_TABLE, department_code="FQ-STJ", level="county",
                accepted_on=date(2026, 3, 9), statutory_limit_wd=30, promised_limit_wd=15,
                status="approved", result="同意项目建设，尾水排入勐佑河须执行一级A标准并安装在线监测设施。",
                decided_on=date(2026, 3, 27), document_no="临环凤审〔2026〕9号",
            ),
            ApprovalItem(
                name=FEASIBILITY, department_code="FQ-FGJ", level="county",
                accepted_on=date(2026, 4, 7), statutory_limit_wd=20, promised_limit_wd=15,
                status="approved", result="同意可行性研究报告，核定总投资2236万元。",
                decided_on=date(2026, 4, 24), document_no="凤发改投资〔2026〕31号",
            ),
            ApprovalItem(
                name=LAND_PLAN, department_code="FQ-ZRJ", level="county",
                accepted_on=date(2026, 6, 1), statutory_limit_wd=20, promised_limit_wd=10,
                status="approved", result="准予核发建设用地规划许可证（划拨），用地面积0.65公顷。",
                decided_on=date(2026, 6, 10), document_no="地字第530921202600011号",
            ),
            ApprovalItem(
                name=PRELIM_DESIGN, department_code="FQ-FGJ", level="county",
                accepted_on=date(2026, 11, 16), statutory_limit_wd=20, promised_limit_wd=12,
                status="in_review",
            ),
            ApprovalItem(
                name=WORKS_PLAN, department_code="FQ-ZRJ", level="county",
                accepted_on=None, statutory_limit_wd=20, promised_limit_wd=10, status="pending",
            ),
            ApprovalItem(
                name=CONSTRUCTION, department_code="FQ-ZJJ", level="county",
                accepted_on=None, statutory_limit_wd=7, promised_limit_wd=3, status="pending",
            ),
        ),
    ),
    # 5. Wind farm (核准制; onshore wind is in the government ratification catalogue, ratified at
    #    province level in Yunnan), with province- and city-level items: the 三级联动 case.
    Case(
        project_code=WIND,
        name="凤庆县雪山风电场项目",
        organisation_credit_code=LCNT,
        division_code="530921",
        town="雪山镇",
        address="凤庆县雪山镇与大寺乡交界山脊一带",
        total_investment="58000.00",
        scale_content=(
            "建设总装机容量100兆瓦，拟安装16台单机容量6.25兆瓦的风力发电机组，配套新建110千伏升压站1座、"
            "场内35千伏集电线路约38公里，新建检修道路26.5公里、改扩建进场道路12.3公里。"
            "永久用地约4.9公顷，临时用地约31.2公顷。项目建成后年均上网电量约2.46亿千瓦时，"
            "年等效满负荷利用小时数约2460小时。送出线路工程另行核准。"
        ),
        category="ratification",
        industry="电力、热力生产和供应业（风力发电）",
        investor_type="enterprise",
        funding_source="项目资本金11600万元（占20%，企业自有资金），银行贷款46400万元",
        planned_start=date(2027, 4, 1),
        planned_finish=date(2028, 6, 30),
        lead_department_code="FQ-FGJ",
        agent_username="daiban_xs",
        items=(
            ApprovalItem(
                name=LAND_SITE, department_code="YN-ZRT", level="province",
                accepted_on=date(2026, 9, 21), statutory_limit_wd=20, promised_limit_wd=15,
                status="approved",
                result="原则同意项目用地预审，永久用地4.9公顷，不占用永久基本农田，不涉及生态保护红线。",
                decided_on=date(2026, 10, 16), document_no="用字第530000202600187号",
            ),
            ApprovalItem(
                name=RATIFICATION, department_code="YN-NYJ", level="province",
                accepted_on=date(2026, 11, 23), statutory_limit_wd=20, promised_limit_wd=15,
                status="in_review",
            ),
            ApprovalItem(
                name=EIA_TABLE, department_code="LC-STJ", level="city",
                accepted_on=date(2026, 11, 16), statutory_limit_wd=30, promised_limit_wd=20,
                status="in_review",
            ),
            ApprovalItem(
                name=FOREST, department_code="YN-LCJ", level="province",
                accepted_on=date(2026, 11, 30), statutory_limit_wd=20, promised_limit_wd=15,
                status="accepted",
                note="永久及临时使用林地合计约29.7公顷，由省林业和草原局审核。",
            ),
            ApprovalItem(
                name=ROAD_WORKS, department_code="FQ-JTJ", level="county",
                accepted_on=None, statutory_limit_wd=20, promised_limit_wd=10, status="pending",
                note="进场道路改扩建涉及县道，风机叶片大件运输须同步制定通行方案。",
            ),
        ),
    ),
)

# ---------------------------------------------------------------------------------------------
# Agent commission (委托代办)
# ---------------------------------------------------------------------------------------------

COMMISSIONS: tuple[Commission, ...] = (
    Commission(
        document_no="凤代办委〔2026〕7号",
        agent_username="daiban_ld",
        organisation_credit_code=LDHT,
        granted_on=date(2026, 7, 6),
        revoked_on=None,
        project_code=WALNUT,
        scope=(
            "委托洛党镇为民服务中心代办员全程免费代办年加工1万吨核桃深加工建设项目的备案、用地、林地、"
            "环评、水保、节能、规划及施工许可等投资项目审批事项，代为提交材料、领取批文和参加并联审批会议。"
        ),
    ),
    Commission(
        document_no="凤代办委〔2026〕11号",
        agent_username="daiban_xs",
        organisation_credit_code=LCNT,
        granted_on=date(2026, 9, 14),
        revoked_on=None,
        project_code=WIND,
        scope=(
            "委托雪山镇为民服务中心代办员代办雪山风电场项目的核准、环评、林地、涉路施工等投资项目审批事项，"
            "代为提交材料、领取批文和参加并联审批会议。"
        ),
    ),
)

# ---------------------------------------------------------------------------------------------
# Meetings
# ---------------------------------------------------------------------------------------------

PLACE = "凤庆县政务服务中心三楼会商室"


def _joined(username: str | None, display_name: str, unit_name: str, capacity: str,
            site_key: str, department_code: str | None = None, post: str | None = None,
            organisation_credit_code: str | None = None,
            stands_in_for: str | None = None) -> dict[str, Any]:
    return {
        "username": username, "display_name": display_name, "unit_name": unit_name,
        "capacity": capacity, "department_code": department_code,
        "organisation_credit_code": organisation_credit_code, "post": post,
        "stands_in_for": stands_in_for, "site_key": site_key,
    }


def _left(username: str | None, display_name: str, reason: str | None = None) -> dict[str, Any]:
    return {"username": username, "display_name": display_name, "reason": reason}


def _said(speaker_name: str, summary: str, site_key: str = "fq-hall") -> dict[str, Any]:
    return {"speaker_name": speaker_name, "site_key": site_key, "summary": summary}


def _opinion(opinion_id: str, item_name: str, department_code: str, post: str, kind: str,
             text: str, conditions: tuple[str, ...] = (), reasons: str = "",
             legal_basis: str = "", revision: int = 1) -> dict[str, Any]:
    return {
        "opinion_id": opinion_id, "revision": revision, "project_code": FISH,
        "item_name": item_name, "department_code": department_code, "post": post, "kind": kind,
        "text": text, "conditions": list(conditions), "reasons": reasons,
        "legal_basis": legal_basis, "remedy_notice": remedy_notice(OpinionKind(kind)),
        "refer_to": None,
    }


def _agenda(event: str, item_name: str, position: int, outcome: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"project_code": FISH, "item_name": item_name, "position": position}
    if event == "closed":
        payload["outcome"] = outcome
    return payload


FISH_MEETING_EVENTS: tuple[Event, ...] = (
    Event(0, "chair_a", "meeting_status_changed", {"from": "scheduled", "to": "live", "note": ""}),
    Event(0, "chair_a", "participant_joined", _joined(
        "chair_a", "杨国强", "凤庆县投资项目并联审批办公室", "chair", "fq-hall", "FQ-BLB")),
    Event(25, "fgj_a", "participant_joined", _joined(
        "fgj_a", "李建华", "凤庆县发展和改革局", "member", "fq-hall", "FQ-FGJ", "A")),
    Event(40, "zrj_a", "participant_joined", _joined(
        "zrj_a", "杨志刚", "凤庆县自然资源局", "member", "fq-hall", "FQ-ZRJ", "A")),
    Event(55, "zjj_b", "participant_joined", _joined(
        "zjj_b", "施晓燕", "凤庆县住房和城乡建设局", "member", "fq-hall", "FQ-ZJJ", "B",
        stands_in_for="zjj_a")),
    Event(70, "stj_a", "participant_joined", _joined(
        "stj_a", "周俊", "临沧市生态环境局凤庆分局", "member", "fq-hall", "FQ-STJ", "A")),
    Event(85, "swj_a", "participant_joined", _joined(
        "swj_a", "字云龙", "凤庆县水务局", "member", "fq-hall", "FQ-SWJ", "A")),
    Event(100, "zwj_a", "participant_joined", _joined(
        "zwj_a", "黄建荣", "凤庆县政务服务管理局", "observer", "fq-hall", "FQ-ZWJ", "A")),
    Event(120, "lc_fgw_a", "participant_joined", _joined(
        "lc_fgw_a", "王振宇", "临沧市发展和改革委员会", "observer", "lc-fgw", "LC-FGW", "A")),
    Event(140, "xwyy", "participant_joined", _joined(
        "xwyy", "张峰", "凤庆县小湾生态渔业有限公司", "applicant", "fq-hall",
        organisation_credit_code=XWYY)),
    Event(150, None, "participant_joined", _joined(
        None, "鲁志明", "凤庆县小湾镇人民政府", "observer", "fq-hall")),
    Event(160, None, "participant_joined", _joined(
        None, "段成林", "云南滇西环境科技有限公司", "observer", "fq-hall")),
    Event(175, "lc_fgw_a", "chat_message", {
        "text": "临沧市发展和改革委员会视频会商点已接入，图像、声音正常。", "to": None}),
    Event(190, "chair_a", "chat_message", {
        "text": "收到，县政务服务中心会商室图像、声音正常。", "to": None}),
    Event(240, "chair_a", "recording_started", {
        "recording_key": "FQ-20261120-R1",
        "consent_notice": "本次会议全程录音录像，录像及会议记录作为项目审批档案保存。",
    }),
    Event(250, "chair_a", "speaking_started", _said("杨国强", (
        "宣布会议开始。说明会议议程：听取项目单位汇报，逐项审查用地预审与选址意见书、环境影响报告表、"
        "水土保持方案、消防设计审查四个事项，各部门当场发表意见；通报县应急管理局请假、"
        "县住建局由B岗施晓燕代行首席代表职责。"))),
    Event(600, "xwyy", "presentation_started", {
        "title": "凤庆县小湾生态渔业有限公司鱼制品加工厂建设项目情况汇报",
        "file_name": "鱼制品加工厂项目情况汇报.pdf", "page_count": 18,
    }),
    Event(605, "xwyy", "speaking_started", _said("张峰", (
        "汇报项目建设背景、选址、建设内容和投资：项目利用小湾库区鲜鱼资源，总投资4860万元，"
        "用地约1.91公顷，建设鱼干、鱼糜、即食鱼制品三条生产线和1500吨液氨制冷冷库，"
        "计划2027年3月开工，希望年内完成用地、环评、水保和消防设计手续。"))),
    Event(1500, "xwyy", "presentation_stopped", {
        "title": "凤庆县小湾生态渔业有限公司鱼制品加工厂建设项目情况汇报"}),
    Event(1510, "fgj_a", "speaking_started", _said("李建华", (
        "作为牵头部门说明：项目已于2026年10月12日备案（凤发改备〔2026〕86号），"
        "不属于《产业结构调整指导目录（2024年本）》限制类、淘汰类，符合县农产品精深加工产业发展方向。"))),
    Event(1680, "chair_a", "agenda_item_opened", _agenda("opened", LAND_SITE, 1)),
    Event(1690, "zrj_a", "speaking_started", _said("杨志刚", (
        "项目选址位于小湾镇国土空间总体规划确定的集镇产业用地范围，不占用永久基本农田，不涉及生态保护红线；"
        "用地规模基本符合工业项目建设用地控制指标，红线东侧约0.23公顷为水土保持方案拟设弃渣场。"))),
    Event(2050, "swj_a", "hand_raised", {"purpose": "就弃渣场选址与用地范围提出意见"}),
    Event(2070, "swj_a", "speaking_started", _said("字云龙", (
        "拟设弃渣场位于库区岸坡，坡脚临水，方案未做稳定性分析和比选论证，县水务局不同意在该位置设置弃渣场，"
        "建议用地范围同步调整。"))),
    Event(2300, "xwyy", "speaking_started", _said("张峰", (
        "说明弃方约1.2万立方米，可优化场内土石方平衡，余方运至小湾镇建筑垃圾消纳场处置，"
        "同意取消红线东侧弃渣场。"))),
    Event(2480, "zrj_a", "opinion_submitted", _opinion(
        "op-01", LAND_SITE, "FQ-ZRJ", "A", "agree_in_principle",
        "原则同意项目选址及用地规模，用地红线以最终确定的总平面布置为准。")),
    Event(2500, "fgj_a", "opinion_submitted", _opinion(
        "op-02", LAND_SITE, "FQ-FGJ", "A", "agree", "同意。项目选址与备案内容一致。")),
    Event(2515, "zjj_b", "opinion_submitted", _opinion(
        "op-03", LAND_SITE, "FQ-ZJJ", "B", "agree",
        "同意。项目选址与小湾镇集镇道路、给排水设施衔接可行。")),
    Event(2530, "stj_a", "opinion_submitted", _opinion(
        "op-04", LAND_SITE, "FQ-STJ", "A", "agree_in_principle",
        "原则同意。选址不涉及饮用水水源保护区，污水处理站排口不得设在小湾库区水域。")),
    Event(2550, "swj_a", "opinion_submitted", _opinion(
        "op-05", LAND_SITE, "FQ-SWJ", "A", "conditional", "附条件同意项目选址。",
        conditions=(
            "用地范围内不得设置弃渣场，原拟设于库区岸坡的弃渣场予以取消；",
            "场区挖填方原则上场内平衡，确需外运的余方运至小湾镇建筑垃圾消纳场处置。",
        ))),
    Event(2700, "zrj_a", "opinion_amended", {
        **_opinion(
            "op-01", LAND_SITE, "FQ-ZRJ", "A", "conditional", "附条件同意项目选址及用地。",
            conditions=(
                "核减用地红线东侧原拟设弃渣场用地约0.23公顷，项目用地面积调整为约1.68公顷；",
                "调整后的用地红线图及勘测定界报告报县自然资源局审核后，核发用地预审与选址意见书。",
            ),
            revision=2),
        "amendment_reason": "采纳县水务局关于弃渣场选址的意见及项目单位取消弃渣场的说明，相应调整用地范围。",
    }),
    Event(2760, "zrj_a", "material_requested", {
        "request_id": "mr-01", "opinion_id": "op-01", "project_code": FISH,
        "item_name": LAND_SITE, "department_code": "FQ-ZRJ",
        "material": "调整后的项目用地红线图及勘测定界报告",
        "detail": "核减东侧原拟设弃渣场用地约0.23公顷后重新编制，附界址点坐标电子文件。",
        "due_working_days": 5,
    }),
    Event(2790, "chair_a", "agenda_item_closed", _agenda(
        "closed", LAND_SITE, 1,
        "附条件通过：核减弃渣场用地后，由县自然资源局核发用地预审与选址意见书。")),
    Event(2810, "chair_a", "agenda_item_opened", _agenda("opened", EIA_TABLE, 2)),
    Event(2820, "stj_a", "clock_resumed", {
        "project_code": FISH, "item_name": EIA_TABLE, "department_code": "FQ-STJ",
        "notice_no": "临环凤审复〔2026〕5号", "effective_date": "2026-11-20",
        "reason": "建设单位已于2026年11月19日提交小湾库区地表水水质现状监测报告，中止情形消除，恢复审查。",
    }),
    Event(2830, "stj_a", "speaking_started", _said("周俊", (
        "通报环境影响报告表技术审查情况：补充监测数据表明库区水质满足Ⅱ类标准；"
        "主要问题是加工废水处理、鱼类加工副产物去向和液氨泄漏环境风险防范。"))),
    Event(3100, None, "speaking_started", _said("段成林", (
        "（环评报告表编制单位）说明废水处理采用“隔油+气浮+A/O”工艺，设计规模300立方米/日，"
        "出水优先回用于厂区绿化和地面冲洗。"))),
    Event(3300, "xwyy", "chat_message", {
        "text": "液氨制冷系统设计说明及突发环境事件应急预案（初稿）已上传会议资料区，请各部门查阅。",
        "to": None}),
    Event(3400, "zjj_b", "speaking_started", _said("施晓燕", (
        "提示氨制冷机房应与冷库分开布置，事故排风和泄漏报警须与消防设计、环境风险措施一致。"))),
    Event(3600, "stj_a", "opinion_submitted", _opinion(
        "op-06", EIA_TABLE, "FQ-STJ", "A", "conditional", "附条件同意环境影响报告表。",
        conditions=(
            "厂区污水处理站出水须达到《污水综合排放标准》（GB 8978-1996）一级标准，优先回用，"
            "外排口不得设在小湾库区水域；",
            "鱼鳞、鱼骨、内脏等加工副产物全部综合利用，不得随意丢弃或倾倒入库；",
            "编制液氨制冷系统突发环境事件应急预案并报生态环境部门备案，配套建设事故废水收集池；",
            "原料预处理车间及污水处理站恶臭气体收集处理，厂界执行《恶臭污染物排放标准》（GB 14554-93）二级标准。",
        ))),
    Event(3620, "fgj_a", "opinion_submitted", _opinion(
        "op-07", EIA_TABLE, "FQ-FGJ", "A", "agree", "同意。")),
    Event(3635, "zrj_a", "opinion_submitted", _opinion(
        "op-08", EIA_TABLE, "FQ-ZRJ", "A", "agree", "同意。")),
    Event(3650, "zjj_b", "opinion_submitted", _opinion(
        "op-09", EIA_TABLE, "FQ-ZJJ", "B", "agree_in_principle",
        "原则同意。氨制冷机房事故排风、泄漏报警设施须与消防设计同步落实。")),
    Event(3665, "swj_a", "opinion_submitted", _opinion(
        "op-10", EIA_TABLE, "FQ-SWJ", "A", "agree", "同意。")),
    Event(3700, "stj_a", "material_requested", {
        "request_id": "mr-02", "opinion_id": "op-06", "project_code": FISH,
        "item_name": EIA_TABLE, "department_code": "FQ-STJ",
        "material": "液氨泄漏环境风险专项分析及事故废水收集池设计说明",
        "detail": "明确液氨最大存量、泄漏情景、影响范围、事故废水收集池容积计算和应急物资配备。",
        "due_working_days": 5,
    }),
    Event(3730, "chair_a", "agenda_item_closed", _agenda(
        "closed", EIA_TABLE, 2,
        "附条件通过：补充环境风险专项说明后，由临沧市生态环境局凤庆分局作出审批决定。")),
    Event(3750, "chair_a", "agenda_item_opened", _agenda("opened", SOIL, 3)),
    Event(3760, "swj_a", "speaking_started", _said("字云龙", (
        "通报水土保持方案（送审稿）技术审查意见：弃渣场设于库区岸坡，未做稳定性分析和选址比选；"
        "防治标准执行等级偏低；土石方平衡和综合利用论证不足。"))),
    Event(4200, "xwyy", "hand_raised", {"purpose": "询问水土保持方案能否附条件通过"}),
    Event(4300, "xwyy", "speaking_started", _said("张峰", (
        "请求县水务局附条件通过，项目单位承诺取消库区岸坡弃渣场。"))),
    Event(4500, "chair_a", "speaking_started", _said("杨国强", (
        "请县水务局依据审查结论明确表态；方案需重大修改的，应说明理由和依据，并一次性告知修改要求。"))),
    Event(4620, "swj_a", "opinion_submitted", _opinion(
        "op-11", SOIL, "FQ-SWJ", "A", "disagree",
        "不同意该水土保持方案（送审稿），请项目单位修改后重新报审。",
        reasons=(
            "一、方案将弃渣场设于小湾库区正常蓄水位以上岸坡，坡脚直接临水，未开展弃渣场稳定性分析和选址比选论证，"
            "存在弃渣入库和诱发滑塌的风险；二、项目区紧邻小湾水电站库区，方案确定的水土流失防治标准执行等级偏低，"
            "未按要求提高防治标准；三、土石方平衡未考虑场内调配和综合利用，弃方量测算依据不足。"
            "上述问题涉及弃渣场位置和防治标准的重大调整，不属于可附条件通过的情形。"
        ),
        legal_basis=(
            "《中华人民共和国水土保持法》第二十四条、第二十五条、第二十八条；"
            "《生产建设项目水土保持方案管理办法》（水利部令第53号）"
        ))),
    Event(4640, "fgj_a", "opinion_submitted", _opinion(
        "op-12", SOIL, "FQ-FGJ", "A", "agree_in_principle",
        "原则同意项目建设，水土保持方案以县水务局审查意见为准。")),
    Event(4655, "zrj_a", "opinion_submitted", _opinion(
        "op-13", SOIL, "FQ-ZRJ", "A", "agree_in_principle",
        "原则同意，弃渣场调整须与用地红线调整相衔接。")),
    Event(4670, "zjj_b", "opinion_submitted", _opinion(
        "op-14", SOIL, "FQ-ZJJ", "B", "agree_in_principle",
        "原则同意，以县水务局审查意见为准。")),
    Event(4685, "stj_a", "opinion_submitted", _opinion(
        "op-15", SOIL, "FQ-STJ", "A", "agree_in_principle",
        "原则同意，弃渣处置方式调整后应在环境保护措施中同步落实。")),
    Event(4720, "swj_a", "material_requested", {
        "request_id": "mr-03", "opinion_id": "op-11", "project_code": FISH,
        "item_name": SOIL, "department_code": "FQ-SWJ",
        "material": "修改后的水土保持方案报告书（报批稿）",
        "detail": (
            "取消库区岸坡弃渣场，优化土石方平衡，余方运至小湾镇建筑垃圾消纳场或另选弃渣场并附稳定性分析"
            "和选址比选论证；按提高后的防治标准重新计算防治指标和投资。"
        ),
        "due_working_days": 10,
    }),
    Event(4740, "swj_a", "clock_suspended", {
        "project_code": FISH, "item_name": SOIL, "department_code": "FQ-SWJ",
        "notice_no": "凤水保中〔2026〕4号", "effective_date": "2026-11-20",
        "reason": (
            "项目单位须修改水土保持方案并补充弃渣场选址论证，自2026年11月20日起中止审查，"
            "自收到补正材料之日起恢复，中止期间不计入审批时限。"
        ),
    }),
    Event(4770, "chair_a", "agenda_item_closed", _agenda(
        "closed", SOIL, 3, "不同意现方案：项目单位按县水务局意见修改后重新报审，审查时限中止。")),
    Event(4790, "chair_a", "agenda_item_opened", _agenda("opened", FIRE, 4)),
    Event(4800, "zjj_b", "speaking_started", _said("施晓燕", (
        "通报消防设计审查情况：冷库耐火等级、防火分区和安全疏散符合规范，氨制冷机房按乙类火灾危险性设计，"
        "设泄漏报警和事故排风，审查合格。"))),
    Event(5200, "stj_a", "chat_message", {
        "text": "氨制冷机房事故排风口位置请与环评风险防范措施保持一致。", "to": "zjj_b"}),
    Event(5300, "zjj_b", "opinion_submitted", _opinion(
        "op-16", FIRE, "FQ-ZJJ", "B", "agree",
        "同意。消防设计文件符合《建筑设计防火规范》（GB 50016-2014，2018年版）和《冷库设计标准》"
        "（GB 50072-2021）要求，会后按程序出具特殊建设工程消防设计审查意见书。")),
    Event(5315, "fgj_a", "opinion_submitted", _opinion(
        "op-17", FIRE, "FQ-FGJ", "A", "agree", "同意。")),
    Event(5330, "zrj_a", "opinion_submitted", _opinion(
        "op-18", FIRE, "FQ-ZRJ", "A", "agree", "同意。")),
    Event(5345, "stj_a", "opinion_submitted", _opinion(
        "op-19", FIRE, "FQ-STJ", "A", "agree", "同意。")),
    Event(5360, "swj_a", "opinion_submitted", _opinion(
        "op-20", FIRE, "FQ-SWJ", "A", "agree", "同意。")),
    Event(5400, "chair_a", "agenda_item_closed", _agenda(
        "closed", FIRE, 4, "通过：由县住房和城乡建设局出具特殊建设工程消防设计审查意见书。")),
    Event(5450, "lc_fgw_a", "speaking_started", _said("王振宇", (
        "市发展改革委表示该项目已纳入市级重点项目调度，请县级各部门按会议意见加快办理，"
        "需市级协调的事项及时报送。"), site_key="lc-fgw")),
    Event(5700, "lc_fgw_a", "participant_left", _left(
        "lc_fgw_a", "王振宇", "另有公务，提前退出视频会商")),
    Event(5760, "chair_a", "speaking_started", _said("杨国强", (
        "归纳各部门意见，宣读议定事项和任务分工。"))),
    Event(6000, "chair_a", "decision_recorded", {
        "decision_id": "d-01", "project_code": FISH, "item_name": None,
        "text": (
            "项目符合国家产业政策和凤庆县农产品精深加工产业发展方向，已依法备案（凤发改备〔2026〕86号），"
            "会议同意按并联审批方式推进项目前期审批。"
        ),
    }),
    Event(6040, "chair_a", "decision_recorded", {
        "decision_id": "d-02", "project_code": FISH, "item_name": LAND_SITE,
        "text": (
            "用地预审与选址意见书附条件通过：项目单位核减原拟设弃渣场用地约0.23公顷、用地面积调整为约1.68公顷后，"
            "由县自然资源局按程序核发。"
        ),
    }),
    Event(6080, "chair_a", "decision_recorded", {
        "decision_id": "d-03", "project_code": FISH, "item_name": EIA_TABLE,
        "text": (
            "环境影响报告表附条件通过：项目单位补充液氨泄漏环境风险专项说明后，"
            "由临沧市生态环境局凤庆分局按会议所提条件作出审批决定。"
        ),
    }),
    Event(6120, "chair_a", "decision_recorded", {
        "decision_id": "d-04", "project_code": FISH, "item_name": SOIL,
        "text": (
            "水土保持方案：县水务局不同意现方案（送审稿）。项目单位取消库区岸坡弃渣场、修改方案后重新报审；"
            "审查时限自2026年11月20日起中止，自收到补正材料之日起恢复。"
        ),
    }),
    Event(6160, "chair_a", "decision_recorded", {
        "decision_id": "d-05", "project_code": FISH, "item_name": FIRE,
        "text": "消防设计审查通过，由县住房和城乡建设局出具审查意见书。",
    }),
    Event(6200, "chair_a", "decision_recorded", {
        "decision_id": "d-06", "project_code": FISH, "item_name": None,
        "text": (
            "县应急管理局请假，按本中心规定视为同意本次会议审议事项。冷库液氨制冷系统安全设施由项目单位"
            "同步设计、同步施工、同步投入使用，县应急管理局在建设和试生产阶段依法监管。"
        ),
    }),
    Event(6240, "chair_a", "decision_recorded", {
        "decision_id": "d-07", "project_code": FISH, "item_name": None,
        "text": "各部门提出的补正材料由县并联审批办公室汇总，形成一次性告知书，于会后1个工作日内送达项目单位。",
    }),
    Event(6400, "chair_a", "task_assigned", {
        "task_id": "t-01", "department_code": "FQ-BLB", "project_code": FISH, "item_name": None,
        "text": "汇总各部门补正材料要求，出具一次性告知书并送达项目单位。", "due_working_days": 1,
    }),
    Event(6430, "chair_a", "task_assigned", {
        "task_id": "t-02", "department_code": "FQ-BLB", "project_code": FISH, "item_name": None,
        "text": "起草会议纪要，送参会部门确认后印发。", "due_working_days": 2,
    }),
    Event(6490, "chair_a", "task_assigned", {
        "task_id": "t-03", "department_code": "FQ-ZRJ", "project_code": FISH,
        "item_name": LAND_SITE,
        "text": "收到调整后的用地红线图及勘测定界报告后核发建设项目用地预审与选址意见书。",
        "due_working_days": 8,
    }),
    Event(6520, "chair_a", "task_assigned", {
        "task_id": "t-04", "department_code": "FQ-STJ", "project_code": FISH,
        "item_name": EIA_TABLE, "text": "收到环境风险专项说明后作出环境影响报告表审批决定。",
        "due_working_days": 7,
    }),
    Event(6550, "chair_a", "task_assigned", {
        "task_id": "t-05", "department_code": "FQ-SWJ", "project_code": FISH, "item_name": SOIL,
        "text": "指导项目单位修改水土保持方案，收到报批稿后重新组织审查。",
        "due_working_days": 15,
    }),
    Event(6580, "chair_a", "task_assigned", {
        "task_id": "t-06", "department_code": "FQ-ZJJ", "project_code": FISH, "item_name": FIRE,
        "text": "出具特殊建设工程消防设计审查意见书。", "due_working_days": 5,
    }),
    Event(6610, "chair_a", "task_assigned", {
        "task_id": "t-07", "department_code": "FQ-QXJ", "project_code": FISH,
        "item_name": LIGHTNING,
        "text": "提前介入指导液氨储存区域雷电防护装置设计，项目单位申报后按承诺时限办结。",
        "due_working_days": 10,
    }),
    Event(7000, "xwyy", "speaking_started", _said("张峰", (
        "表示按会议意见抓紧修改水土保持方案、调整用地红线并补充环境风险说明，按期报送补正材料。"))),
    Event(7300, "chair_a", "speaking_started", _said("杨国强", (
        "会议小结：请各部门按分工和时限办理，县并联审批办公室跟踪督办，办理情况纳入限时办结考核。"))),
    Event(7680, "chair_a", "recording_stopped", {"recording_key": "FQ-20261120-R1"}),
    Event(7700, "xwyy", "participant_left", _left("xwyy", "张峰")),
    Event(7705, None, "participant_left", _left(None, "鲁志明")),
    Event(7710, None, "participant_left", _left(None, "段成林")),
    Event(7720, "swj_a", "participant_left", _left("swj_a", "字云龙")),
    Event(7730, "stj_a", "participant_left", _left("stj_a", "周俊")),
    Event(7740, "zjj_b", "participant_left", _left("zjj_b", "施晓燕")),
    Event(7750, "zrj_a", "participant_left", _left("zrj_a", "杨志刚")),
    Event(7760, "zwj_a", "participant_left", _left("zwj_a", "黄建荣")),
    Event(7770, "fgj_a", "participant_left", _left("fgj_a", "李建华")),
    Event(7800, "chair_a", "participant_left", _left("chair_a", "杨国强")),
    Event(7800, "chair_a", "meeting_status_changed", {
        "from": "live", "to": "ended",
        "note": "会议审查4个事项：2项附条件通过，1项通过，1项不同意现方案并中止审查。"}),
)

MEETINGS: tuple[Meeting, ...] = (
    Meeting(
        key="FQ-20261120",
        title="凤庆县小湾生态渔业有限公司鱼制品加工厂建设项目并联审批会议",
        status="ended",
        scheduled_start=datetime(2026, 11, 20, 9, 30, tzinfo=UTC8),
        scheduled_end=datetime(2026, 11, 20, 11, 30, tzinfo=UTC8),
        place=PLACE,
        chair_username="chair_a",
        lead_department_code="FQ-FGJ",
        created_by_username="chair_b",
        sites=(
            Site("fq-hall", PLACE, "county", "530921", "FQ-ZWJ", is_host=True),
            Site("lc-fgw", "临沧市发展和改革委员会视频会商点", "city", "530900", "LC-FGW"),
        ),
        invitations=(
            Invitation("member", "fq-hall", department_code="FQ-FGJ", attended_by="fgj_a"),
            Invitation("member", "fq-hall", department_code="FQ-ZRJ", attended_by="zrj_a"),
            Invitation("member", "fq-hall", department_code="FQ-ZJJ", attended_by="zjj_b"),
            Invitation("member", "fq-hall", department_code="FQ-STJ", attended_by="stj_a"),
            Invitation("member", "fq-hall", department_code="FQ-SWJ", attended_by="swj_a"),
            Invitation(
                "member", "fq-hall", department_code="FQ-YJJ",
                excused_reason=(
                    "A岗首席代表苏永刚随县安委会赴小湾镇开展冷库液氨使用安全专项检查，B岗毕海燕在窗口值守办件，"
                    "经会议主持人同意请假。"
                ),
            ),
            Invitation("observer", "fq-hall", department_code="FQ-ZWJ", attended_by="zwj_a"),
            Invitation("observer", "lc-fgw", department_code="LC-FGW", attended_by="lc_fgw_a"),
            Invitation("applicant", "fq-hall", organisation_credit_code=XWYY, attended_by="xwyy"),
        ),
        other_attendees=(
            OtherAttendee("凤庆县小湾镇人民政府", "鲁志明", "副镇长", "fq-hall"),
            OtherAttendee("云南滇西环境科技有限公司", "段成林", "环境影响报告表编制项目负责人",
                          "fq-hall"),
        ),
        agenda=(
            AgendaRef(FISH, LAND_SITE),
            AgendaRef(FISH, EIA_TABLE),
            AgendaRef(FISH, SOIL),
            AgendaRef(FISH, FIRE),
        ),
        actual_start=datetime(2026, 11, 20, 9, 30, tzinfo=UTC8),
        actual_end=datetime(2026, 11, 20, 11, 40, tzinfo=UTC8),
        minutes_no="凤联审纪〔2026〕1号",
        events=FISH_MEETING_EVENTS,
    ),
    Meeting(
        key="FQ-20261208",
        title="凤庆县雪山风电场项目并联审批会议（省市县三级视频会商）",
        status="scheduled",
        scheduled_start=datetime(2026, 12, 8, 9, 30, tzinfo=UTC8),
        scheduled_end=datetime(2026, 12, 8, 12, 0, tzinfo=UTC8),
        place=PLACE,
        chair_username="chair_a",
        lead_department_code="FQ-FGJ",
        created_by_username="chair_b",
        sites=(
            Site("fq-hall", PLACE, "county", "530921", "FQ-ZWJ", is_host=True),
            Site("lc-fgw", "临沧市发展和改革委员会视频会商点", "city", "530900", "LC-FGW"),
            Site("yn-nyj", "云南省能源局视频会商点", "province", "530000", "YN-NYJ"),
            Site("yn-lcj", "云南省林业和草原局视频会商点", "province", "530000", "YN-LCJ"),
        ),
        invitations=(
            Invitation("member", "fq-hall", department_code="FQ-FGJ"),
            Invitation("member", "fq-hall", department_code="FQ-ZRJ"),
            Invitation("member", "fq-hall", department_code="FQ-LCJ"),
            Invitation("member", "fq-hall", department_code="FQ-SWJ"),
            Invitation("member", "fq-hall", department_code="FQ-JTJ"),
            Invitation("member", "fq-hall", department_code="FQ-YJJ"),
            Invitation("member", "lc-fgw", department_code="LC-STJ"),
            Invitation("member", "yn-nyj", department_code="YN-NYJ"),
            Invitation("member", "yn-lcj", department_code="YN-LCJ"),
            Invitation("observer", "lc-fgw", department_code="LC-FGW"),
            Invitation("observer", "fq-hall", department_code="FQ-ZWJ"),
            Invitation("applicant", "fq-hall", organisation_credit_code=LCNT),
        ),
        other_attendees=(
            OtherAttendee("凤庆县雪山镇人民政府", "茶建勋", "镇长", "fq-hall"),
        ),
        agenda=(
            AgendaRef(WIND, RATIFICATION),
            AgendaRef(WIND, EIA_TABLE),
            AgendaRef(WIND, FOREST),
            AgendaRef(WIND, ROAD_WORKS),
        ),
    ),
)
