#!/usr/bin/env bash
# Install ledger13710 into .venv and play the seed's worked example on a provincial node:
# Xinzhou reports that Dingxiang's wind-power flange makers cannot ship; the provincial general
# office registers it, assigns it to transport (lead) and public security (co-unit); the clocks
# run, the toll station is widened within the month, the item is closed out.
# Usage: bash scripts/demo.sh [NODE_DIR]   (default: a fresh temporary directory)
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .

export LEDGER13710_DIR="${1:-$(mktemp -d)/sx}"
L=.venv/bin/ledger13710
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "省级节点初始化 (node init) in $LEDGER13710_DIR"
$L node init --config nodes/sx.toml
N=$($L item register --json --now 2016-10-20T09:30 --actor sx-general-office-sup1 \
  --title "定襄县风电法兰、塔筒企业产品运输受阻" --source key_work --board key-work \
  --severity major --raising-unit sx/general-office --lead-unit sx/transport \
  --co-unit sx/public-security --reference "忻州市重点工作汇报（2016年10月）" \
  --detail "定襄北收费站车道窄，超宽风电法兰、塔筒无法运出" --assign \
  | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["number"])')
step "立项并交办 $N; 台账 at 19:30: the same-day deploy clock is inside its 5h reminder window"
$L ledger --now 2016-10-20T19:30
step "研究部署 (same day)"
$L item deploy "$N" --now 2016-10-20T20:00 --actor sx-transport-head --note "厅务会专题研究部署"
step "反馈 (within 3 days)"
$L item feedback "$N" --now 2016-10-22T10:00 --actor sx-transport-op1 \
  --content "会同公安厅制定定襄北收费站拓宽方案"
$L item progress "$N" --now 2016-11-01T10:00 --actor sx-public-security-head \
  --content "交警部门完成施工期交通组织"
step "台账 on 2016-10-24: deployed and fed back in time, the 1-month clock runs"
$L ledger --now 2016-10-24T09:00
step "落实解决 and 销号"
$L item resolve "$N" --now 2016-11-15T10:00 --actor sx-transport-head \
  --content "定襄北收费站车道已拓宽，企业产品顺利运出"
$L item close-out "$N" --now 2016-11-16T10:00 --actor sx-general-office-sup1 \
  --verdict "经核实问题已解决，予以销号"
$L item show "$N" --now 2016-11-16T10:00
