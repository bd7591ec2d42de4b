"""Chinese labels of the ledger's codes, for spreadsheets and tables (and back, for import)."""

from __future__ import annotations

from collections.abc import Mapping

SOURCE_ZH = {
    "plenary": "全体会议",
    "executive": "常务会议",
    "governors_office": "省长办公会议",
    "special_topic": "专题会议",
    "leader_instruction": "领导批示/指示",
    "key_work": "重点工作任务",
}
SEVERITY_ZH = {"general": "一般性问题", "major": "重大问题", "complex": "复杂问题"}
TIER_ZH = {"province": "省", "city": "市", "county": "县", "township": "乡"}
STATE_ZH = {
    "registered": "已立项",
    "assigned": "已交办",
    "deployed": "已部署",
    "in_progress": "办理中",
    "planned": "按计划推进",
    "resolved": "已办结待审",
    "closed": "已销号",
    "cancelled": "已撤销",
}
LIGHT_ZH = {"green": "正常", "yellow": "临期", "red": "超期", "done": "完成"}
CLOCK_ZH = {
    "deploy": "部署",
    "feedback": "反馈",
    "resolve": "解决",
    "plan": "方案目标",
    "milestone": "方案节点",
}


def code_of(value: str, labels: Mapping[str, str]) -> str | None:
    """The code whose code or label is ``value`` (None when neither)."""
    value = value.strip()
    if value in labels:
        return value
    return next((code for code, label in labels.items() if label == value), None)
