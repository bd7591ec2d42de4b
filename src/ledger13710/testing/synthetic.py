"""A full-size synthetic province, written as node TOML files (for tests and benchmarks).

Shanxi's real scale: 11 cities, 117 counties, about 1,200 townships and 106 provincial
departments. Ids follow the real convention with numbered parts (``sx.c01.k001.t0001``);
county and township numbers run across the whole province. The output is a pure function
of the arguments, ``seed`` included, and every file loads with :func:`load_node_config`.
"""

from __future__ import annotations

import random
from pathlib import Path

import msgspec

from ledger13710.config.dump import dump_node_config
from ledger13710.config.node import (
    ContactEntry,
    NodeConfig,
    NodeSection,
    StoreSection,
    UnitEntry,
)
from ledger13710.domain.directory import ContactRole, UnitKind, parent_government
from ledger13710.domain.errors import InputError
from ledger13710.domain.types import TIER_ORDER, Tier

PROVINCE_ID = "sx"
PROVINCE_NAME = "山西省人民政府"

#: The first provincial departments get real names; the rest are numbered ``unit-NNN``.
PROVINCE_DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("general-office", "省人民政府办公厅"),
    ("drc", "省发展和改革委员会"),
    ("transport", "省交通运输厅"),
    ("public-security", "省公安厅"),
    ("finance", "省财政厅"),
    ("industry", "省工业和信息化厅"),
    ("natural-resources", "省自然资源厅"),
    ("ecology", "省生态环境厅"),
    ("housing", "省住房和城乡建设厅"),
    ("water", "省水利厅"),
    ("agriculture", "省农业农村厅"),
    ("commerce", "省商务厅"),
    ("education", "省教育厅"),
    ("science", "省科学技术厅"),
    ("hrss", "省人力资源和社会保障厅"),
    ("health", "省卫生健康委员会"),
    ("emergency", "省应急管理厅"),
    ("market", "省市场监督管理局"),
    ("energy", "省能源局"),
)
CITY_DEPARTMENTS = (
    ("general-office", "市人民政府办公室"),
    ("transport", "市交通运输局"),
    ("public-security", "市公安局"),
    ("drc", "市发展和改革委员会"),
    ("industry", "市工业和信息化局"),
    ("finance", "市财政局"),
)
COUNTY_DEPARTMENTS = (
    ("general-office", "县人民政府办公室"),
    ("transport", "县交通运输局"),
    ("public-security", "县公安局"),
    ("industry", "县工业和信息化局"),
    ("finance", "县财政局"),
)
TOWNSHIP_DEPARTMENTS = (
    ("office", "党政综合办公室"),
    ("service", "便民服务中心"),
)
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红文斌宇浩凯鹏晓东海燕峰"


class Summary(msgspec.Struct, frozen=True, kw_only=True):
    """What a generation produced."""

    nodes: int
    cities: int
    counties: int
    townships: int
    departments: int  # departments of all tiers
    provincial_departments: int
    contacts: int

    def line(self) -> str:
        """A one-line human summary."""
        return (
            f"{self.nodes} nodes: 1 province, {self.cities} cities, {self.counties} counties, "
            f"{self.townships} townships; {self.departments} departments "
            f"({self.provincial_departments} provincial); {self.contacts} contacts"
        )


class _Builder:
    """Makes units with a head and an operator each; numbers phones province-wide."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.phones = 0

    def person(self, cid: str, role: ContactRole, unit: str) -> ContactEntry:
        self.phones += 1
        name = self.rng.choice(_SURNAMES) + "".join(
            self.rng.choices(_GIVEN, k=self.rng.randint(1, 2))
        )
        return ContactEntry(id=cid, name=name, phone=f"139{self.phones:08d}", role=role, unit=unit)

    def unit(self, uid: str, name: str) -> tuple[UnitEntry, list[ContactEntry]]:
        slug = uid.replace("/", "-").replace(".", "-")
        kind: UnitKind = "department" if "/" in uid else "government"
        people = [
            self.person(f"{slug}-head", "head", uid),
            self.person(f"{slug}-op1", "operator", uid),
        ]
        entry = UnitEntry(id=uid, name=name, kind=kind, head=people[0].id, operators=[people[1].id])
        return entry, people


def _spread(children: int, parents: int, rng: random.Random, what: str) -> list[int]:
    """How many of ``children`` each of ``parents`` gets: at least one each, rest at random."""
    if children < parents:
        raise InputError(f"need at least as many {what} as parents ({children} < {parents})")
    counts = [1] * parents
    for i in rng.choices(range(parents), k=children - parents):
        counts[i] += 1
    return counts


def plan(
    *,
    cities: int = 11,
    counties: int = 117,
    townships: int = 1200,
    departments: int = 106,
    seed: int = 0,
) -> list[NodeConfig]:
    """Build the node configurations in memory, province first, then depth-first."""
    if cities < 1 or departments < 1:
        raise InputError("need at least one city and one provincial department")
    rng = random.Random(seed)
    county_split = _spread(counties, cities, rng, "counties")
    township_split = _spread(townships, counties, rng, "townships")
    wc, wk, wt = (max(w, len(str(n))) for w, n in ((2, cities), (3, counties), (4, townships)))
    names = {PROVINCE_ID: PROVINCE_NAME}
    tree: dict[str, list[str]] = {PROVINCE_ID: []}
    k = t = 0
    for c in range(1, cities + 1):
        city = f"{PROVINCE_ID}.c{c:0{wc}d}"
        names[city] = f"第{c}市人民政府"
        tree[PROVINCE_ID].append(city)
        tree[city] = []
        for _ in range(county_split[c - 1]):
            k += 1
            county = f"{city}.k{k:0{wk}d}"
            names[county] = f"第{k}县人民政府"
            tree[city].append(county)
            tree[county] = []
            for _ in range(township_split[k - 1]):
                t += 1
                township = f"{county}.t{t:0{wt}d}"
                names[township] = f"第{t}乡镇人民政府"
                tree[county].append(township)
                tree[township] = []
    depts = list(PROVINCE_DEPARTMENTS[:departments])
    depts += [(f"unit-{n:03d}", f"省直单位{n:03d}") for n in range(len(depts) + 1, departments + 1)]
    builder = _Builder(seed)
    governments = {gov: builder.unit(gov, names[gov]) for gov in tree}
    configs = []
    for gov, children in tree.items():
        tier = TIER_ORDER[gov.count(".")]
        own = {
            Tier.PROVINCE: depts,
            Tier.CITY: list(CITY_DEPARTMENTS),
            Tier.COUNTY: list(COUNTY_DEPARTMENTS),
            Tier.TOWNSHIP: list(TOWNSHIP_DEPARTMENTS),
        }[tier]
        prefix = names[gov].removesuffix("人民政府")
        units: list[UnitEntry] = []
        contacts = list(governments[gov][1])
        supervisors: list[str] = []
        for dept, label in own:
            uid = f"{gov}/{dept}"
            entry, people = builder.unit(
                uid, label if tier is Tier.PROVINCE else prefix + label[1:]
            )
            units.append(entry)
            contacts += people
            if dept == "general-office":
                slug = uid.replace("/", "-").replace(".", "-")
                contacts.append(builder.person(f"{slug}-sup1", "supervisor", uid))
                supervisors.append(contacts[-1].id)
        units.insert(0, msgspec.structs.replace(governments[gov][0], supervisors=supervisors))
        for child in children:
            units.append(governments[child][0])
            contacts += governments[child][1]
        node = NodeSection(id=gov, name=names[gov], tier=tier, parent=parent_government(gov) or "")
        configs.append(NodeConfig(node=node, store=StoreSection(), units=units, contacts=contacts))
    return configs


def summarise(configs: list[NodeConfig]) -> Summary:
    """Count what ``configs`` describe (units held by two nodes are counted once)."""
    tiers = [c.node.tier for c in configs]
    departments = {u.id for c in configs for u in c.units if u.kind == "department"}
    return Summary(
        nodes=len(configs),
        cities=tiers.count(Tier.CITY),
        counties=tiers.count(Tier.COUNTY),
        townships=tiers.count(Tier.TOWNSHIP),
        departments=len(departments),
        provincial_departments=sum(1 for d in departments if "." not in d.split("/")[0]),
        contacts=len({p.id for c in configs for p in c.contacts}),
    )


def generate(
    out: str | Path,
    *,
    cities: int = 11,
    counties: int = 117,
    townships: int = 1200,
    departments: int = 106,
    seed: int = 0,
) -> Summary:
    """Write one ``<node id>.toml`` per node into ``out`` (created if missing)."""
    configs = plan(
        cities=cities, counties=counties, townships=townships, departments=departments, seed=seed
    )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for cfg in configs:
        (out / f"{cfg.node.id}.toml").write_text(dump_node_config(cfg), encoding="utf-8")
    return summarise(configs)
