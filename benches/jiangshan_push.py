#!/usr/bin/env python3
"""A month of Jiangshan's departments' hardship signals, played against a running unionflow.

Each month civil affairs (its low-income verification list), medical insurance (large personal
medical spends), human resources (jobs lost) and the units' unions push their rows to the union
(DESIGN.md §1.4: about 2,000 rows a year in one county, so about 170 a month). This script makes
such a month, deterministically from --seed and --month, and POSTs each row to the JSON API as the
department's system would:

    POST /api/v1/processes/hardship_case/instances
    {"data": {...the row...}, "on_duplicate": "add_signal"}

A row opens a case (201), or adds its signal to the household's open case (200: the same
id_number, never two open cases), or is refused (4xx problem document). Most rows do not qualify
on their figures (a medical bill well below 80 % of the household's yearly income, an income above
twice the 低保); some do; some are a second department's signal for a household another one sent
earlier in the month; a few are malformed (a city outside the reference table, a negative income,
a missing field, an ID number too long, a date that does not exist). The definition opens a case
in `screening` whatever its tier (a caseworker screens it out), so the record gives the tier the
case computed (`data.tier`): `none` is a row that does not qualify on its figures.

Re-running is safe. Every row carries an `Idempotency-Key` made of the month and the row number,
so a row that was answered before is answered again with the same case as it is now (`replayed`
in the record; its tier may have moved with later signals) and opens nothing; a refused row was never kept and is simply refused again. Row N of a
month is the same whatever --rows is (--rows 40 is the first 40 rows of the 170), so a longer
run after a shorter one only adds the new rows. The server keeps keys for a day: a month played
again later still opens nothing for a household whose case is open (its signal is added again).
Playing a month again with another --seed reuses the keys with other rows: those are refused
with `idempotency_key_reused`.

Output: one record per row, CSV on stdout (or --out FILE): row, department, id_number, intended
(what the row was made to be), result (opened / added / refused / error), instance, tier, status,
reason, detail, replayed. A summary goes to stderr. Exit status 0 when every row has a result
(refusals included), 1 when some row got no answer (a server error or the network), 2 when the
token is refused.

    unionflow serve --demo &
    export UNIONFLOW_TOKEN=$(unionflow token add civil_affairs_push --role department)
    python3 benches/jiangshan_push.py --month 2026-03 --out march.csv

Python 3 standard library only.
"""

import argparse
import calendar
import csv
import datetime
import json
import os
import random
import sys
import time
import urllib.error
import urllib.request

PROCESS = "hardship_case"

# The monthly 低保 per person (hardship_case.toml's reference table). Used only to aim each row's
# figures at the tier it is meant to have; the server computes the real tier from its own table.
DIBAO = {("江山市", 2024): 1030, ("江山市", 2025): 1130, ("江山市", 2026): 1180,
         ("衢州市", 2025): 1130, ("衢州市", 2026): 1180}

# Who pushes (weights for a new row) and on which day of the month their batch is dated.
DEPARTMENTS = {"civil_affairs": 35, "medical_insurance": 35, "human_resources": 20, "unit_union": 10}
PUSH_DAY = {"civil_affairs": 5, "medical_insurance": 10, "human_resources": 15}

# What a row is made to be (weights out of 100).
KINDS = [("not_eligible", 63), ("deep", 4), ("relative", 5), ("accident", 3), ("migrant_new", 3),
         ("second_signal", 12), ("malformed", 6)]
MALFORMED = ["unknown_city", "negative_income", "missing_field", "id_too_long", "no_such_date"]

# The county's households: a row's household is one of these, the same across months.
HOUSEHOLDS = 5000

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗毛郑谢徐姜"
GIVEN = ["建华", "秀英", "国平", "丽娟", "志刚", "美玲", "海涛", "桂芳", "永强", "春燕", "德明",
         "玉兰", "卫东", "小红", "文斌", "淑珍", "立新", "金凤", "红军", "巧云", "伟", "静", "敏",
         "磊", "芳", "军", "雪梅", "建国", "晓东", "丽萍"]
UNITS = ["江山市化工厂", "江山市第二人民医院", "浙江江山变压器有限公司", "江山市环卫处",
         "江山市纺织有限公司", "江山市建筑工程公司", "江山市贺村镇中学", "江山市物流园",
         "江山市木业有限公司", "江山市峡口镇卫生院", "衢州市公交集团", "江山市蜂业合作社"]
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"


def id_number(area, birth, seq):
    """An 18-character resident ID number with its check character."""
    body = f"{area}{birth}{seq:03d}"
    return body + CHECK[sum(int(d) * w for d, w in zip(body, WEIGHTS)) % 11]


def household(seed, h):
    """Household h of the county: who, where, how many; the same in every month."""
    rng = random.Random(f"{seed}:household:{h}")
    city = "衢州市" if rng.random() < 0.12 else "江山市"
    area = "330802" if city == "衢州市" else "330881"
    birth = f"{rng.randint(1962, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    return {
        "applicant": rng.choice(SURNAMES) + rng.choice(GIVEN),
        "id_number": id_number(area, birth, h % 1000),
        "city": city,
        "household_size": rng.choice([1, 2, 2, 3, 3, 3, 4, 4, 5]),
        "unit": rng.choice(UNITS),
        "phone": f"13{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}",
        "migrant": rng.random() < 0.08,
    }


def money(x):
    return f"{x:.2f}".removesuffix(".00")


def figures(rng, dept, kind, size, dibao, year, month, known=None):
    """Income, rigid expenses, crisis costs and the signal's words for a row aimed at `kind` (or
    for a household whose income and expenses are `known`)."""
    rigid = rng.choice([200, 300, 400, 500, 600, 800])
    if kind == "deep":
        per = rng.uniform(0.3, 0.95) * dibao
    elif kind == "relative":
        per = rng.uniform(1.05, 1.9) * dibao
    else:  # above twice the 低保: not eligible on income
        per = rng.uniform(2.1, 3.8) * dibao
    income = round(per * size + rigid, -1)
    if known:
        income, rigid = known
    crisis = None
    if dept == "medical_insurance":
        annual = income * 12
        if kind == "accident":
            crisis = round(annual * rng.uniform(0.85, 1.6), 2)
        else:  # a reimbursement well below the threshold
            crisis = round(rng.uniform(2000, 0.6 * annual), 2)
    prev = (month - 2) % 12 + 1
    words = {
        "civil_affairs": f"民政低收入核对：家庭月收入 {money(income)} 元，{size} 人，刚性支出 {rigid} 元",
        "medical_insurance": f"医保推送：{year} 年个人自付医疗费用累计 {money(crisis or 0)} 元",
        "human_resources": f"人社推送：本人于 {prev} 月解除劳动合同，领取失业保险金，家庭现月收入 {money(income)} 元",
        "unit_union": rng.choice(["基层工会报送：本人工伤停工，家庭收入下降", "基层工会报送：配偶重病，家庭负担重",
                                  "基层工会报送：子女上学，单职工家庭"]),
    }[dept]
    return income, rigid, crisis, words


def pick(rng, weighted):
    items = list(weighted.items()) if isinstance(weighted, dict) else weighted
    return rng.choices([k for k, _ in items], weights=[w for _, w in items])[0]


def make_rows(seed, month, n):
    """The month's rows, in the order they are sent. Row i depends only on rows before it."""
    year, mon = (int(p) for p in month.split("-"))
    last_day = calendar.monthrange(year, mon)[1]
    rows, used = [], set()
    for i in range(1, n + 1):
        rng = random.Random(f"{seed}:{month}:row:{i}")
        kind = pick(rng, KINDS)
        earlier = [r for r in rows if r["intended"] not in ("malformed", "second_signal")]
        if kind == "second_signal" and not earlier:
            kind = "not_eligible"
        if kind == "second_signal":
            first = rng.choice(earlier)
            h = first["household"]
            dept = pick(rng, {d: w for d, w in DEPARTMENTS.items() if d != first["department"]})
            aim = rng.choice(["not_eligible", "not_eligible", "not_eligible", "accident"])
        else:
            h = rng.randrange(HOUSEHOLDS)
            while h in used:
                h = rng.randrange(HOUSEHOLDS)
            dept = pick(rng, DEPARTMENTS)
            if kind == "accident":
                dept = "medical_insurance"
            aim = kind
        used.add(h)
        hh = household(seed, h)
        day = PUSH_DAY.get(dept) or rng.randint(1, last_day)
        if kind == "second_signal":  # a union's report comes after the department's push
            day = max(day, int(first["data"]["reported_on"][-2:]))
        reported = datetime.date(year, mon, min(day, last_day))
        dibao = DIBAO.get((hh["city"], year), 1180)
        if kind == "second_signal":
            # The same household this month: its figures as the first department sent them, less a
            # wage when human resources reports the job lost.
            income, rigid = float(first["data"]["monthly_income"]), float(first["data"]["rigid_expenses"])
            if dept == "human_resources":
                income = round(income * rng.uniform(0.35, 0.7), -1)
            income, rigid, crisis, words = figures(rng, dept, aim, hh["household_size"], dibao, year, mon,
                                                   (income, rigid))
        else:
            income, rigid, crisis, words = figures(rng, dept, aim, hh["household_size"], dibao, year, mon)
        data = {
            "applicant": hh["applicant"], "id_number": hh["id_number"], "city": hh["city"], "source": dept,
            "reported_on": reported.isoformat(), "household_size": hh["household_size"],
            "monthly_income": money(income), "rigid_expenses": money(rigid), "signal_figures": words,
        }
        if rng.random() < 0.8:
            data["unit"] = hh["unit"]
        if rng.random() < 0.6:
            data["phone"] = hh["phone"]
        if crisis is not None:
            data["crisis_costs"] = money(crisis)
        if kind == "migrant_new" or hh["migrant"]:
            # Employed here for less than a year (migrant_new), or long enough.
            months = rng.randint(1, 4) if kind == "migrant_new" else rng.randint(18, 120)
            y, m = divmod(year * 12 + mon - 1 - months, 12)
            data["migrant"] = True
            data["employed_since"] = datetime.date(y, m + 1, 1).isoformat()
        if kind == "migrant_new":
            data["monthly_income"] = money(round(rng.uniform(0.5, 0.9) * dibao * hh["household_size"] + rigid, -1))
        if kind == "malformed":
            flaw = rng.choice(MALFORMED)
            if flaw == "unknown_city":
                data["city"] = rng.choice(["杭州市", "上饶市", "江山"])
            elif flaw == "negative_income":
                data["monthly_income"] = money(-income)
            elif flaw == "missing_field":
                del data[rng.choice(["household_size", "rigid_expenses", "reported_on"])]
            elif flaw == "id_too_long":
                data["id_number"] = data["id_number"] + "0"
            else:
                data["reported_on"] = f"{year}-{mon:02d}-{last_day + 1}"
            kind = f"malformed:{flaw}"
        rows.append({"row": i, "department": dept, "intended": kind, "household": h, "data": data})
    return rows


class Unauthorized(Exception):
    pass


def post(base, token, key, body, lang, timeout=30):
    """POSTs a start; answers (status, json, replayed). Waits out 429s and retries lost answers."""
    payload = json.dumps(body, ensure_ascii=False).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
               "Accept": "application/json", "Idempotency-Key": key}
    if lang:
        headers["Accept-Language"] = lang
    failures, last = 0, None
    while True:
        req = urllib.request.Request(f"{base}/api/v1/processes/{PROCESS}/instances", data=payload,
                                     headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, json.load(resp), resp.headers.get("Idempotent-Replayed") == "true"
        except urllib.error.HTTPError as e:
            text = e.read()
            try:
                answer = json.loads(text)
            except ValueError:
                answer = {"detail": text.decode(errors="replace")[:300]}
            if e.code == 401:
                raise Unauthorized(answer.get("title") or "401") from None
            if e.code == 429:
                time.sleep(max(float(e.headers.get("Retry-After") or 1), 0.1))
                continue
            if e.code < 500:
                return e.code, answer, False
            last = (e.code, answer, False)
        except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
            last = (None, {"detail": str(e)}, False)
        # A server error or no answer: the key makes a retry safe.
        failures += 1
        if failures > 4:
            return last
        time.sleep(0.5 * 2 ** failures)


FIELDS = ["row", "department", "id_number", "intended", "result", "instance", "tier", "status", "reason",
          "detail", "replayed"]


def record_of(row, status, answer, replayed):
    rec = {"row": row["row"], "department": row["department"], "id_number": row["data"].get("id_number", ""),
           "intended": row["intended"], "status": status or "", "replayed": "true" if replayed else "",
           "instance": "", "tier": "", "reason": "", "detail": ""}
    if status in (200, 201):
        rec["result"] = "opened" if status == 201 else "added"
        rec["instance"] = answer.get("id", "")
        rec["tier"] = (answer.get("data") or {}).get("tier", "")
    elif status is not None and status < 500:
        rec["result"] = "refused"
        rec["reason"] = answer.get("reason") or answer.get("code") or ""
        detail = answer.get("detail") or answer.get("title") or ""
        issues = [f"{e.get('label') or e.get('field')}: {e.get('problem')}" for e in answer.get("errors") or []]
        rec["detail"] = " ".join([detail] + issues).strip()
    else:
        rec["result"] = "error"
        rec["detail"] = answer.get("detail") or answer.get("title") or ""
    return rec


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default="http://127.0.0.1:3000", help="the server (default %(default)s)")
    ap.add_argument("--token", default=os.environ.get("UNIONFLOW_TOKEN"),
                    help="a bearer token with the department role (default: $UNIONFLOW_TOKEN)")
    ap.add_argument("--month", default="2026-03", help="the month pushed, YYYY-MM (default %(default)s)")
    ap.add_argument("--rows", type=int, default=170, help="rows in the month (default %(default)s)")
    ap.add_argument("--seed", default="jiangshan", help="makes the rows (default %(default)s)")
    ap.add_argument("--out", help="write the record here instead of stdout")
    ap.add_argument("--lang", help="Accept-Language for the refusals' words (zh or en; default the server's)")
    ap.add_argument("--dry-run", action="store_true", help="print the rows as JSON lines, send nothing")
    args = ap.parse_args()
    try:
        datetime.date.fromisoformat(args.month + "-01")
    except ValueError:
        ap.error(f"--month {args.month!r}: YYYY-MM")
    if args.rows < 1:
        ap.error("--rows: 1 or more")
    rows = make_rows(args.seed, args.month, args.rows)
    if args.dry_run:
        for r in rows:
            print(json.dumps({k: r[k] for k in ("row", "department", "intended", "data")}, ensure_ascii=False))
        return 0
    if not args.token:
        ap.error("--token or UNIONFLOW_TOKEN: a token of `unionflow token add NAME --role department`")
    base = args.base.rstrip("/")

    out = open(args.out, "w", newline="", encoding="utf-8") if args.out else sys.stdout
    writer = csv.DictWriter(out, fieldnames=FIELDS)
    writer.writeheader()
    counts = {"opened": 0, "added": 0, "refused": 0, "error": 0}
    tiers, reasons, replayed = {}, {}, 0
    started = time.monotonic()
    try:
        for row in rows:
            key = f"jiangshan-push:{args.month}:row:{row['row']:04d}"
            body = {"data": row["data"], "on_duplicate": "add_signal"}
            status, answer, again = post(base, args.token, key, body, args.lang)
            rec = record_of(row, status, answer, again)
            writer.writerow(rec)
            counts[rec["result"]] += 1
            replayed += again
            if rec["result"] == "opened":
                tiers[rec["tier"]] = tiers.get(rec["tier"], 0) + 1
            if rec["result"] == "refused":
                reasons[rec["reason"]] = reasons.get(rec["reason"], 0) + 1
    except Unauthorized as e:
        print(f"jiangshan_push: the token is refused ({e}); make one with "
              "`unionflow token add NAME --role department`", file=sys.stderr)
        return 2
    finally:
        if out is not sys.stdout:
            out.close()
    elapsed = time.monotonic() - started
    order = ["deep", "relative", "accident", "none"]
    rank = {t: i for i, t in enumerate(order)}
    by_tier = ", ".join(f"{t} {n}" for t, n in sorted(tiers.items(), key=lambda t: rank.get(t[0], len(order))))
    by_reason = ", ".join(f"{r} {n}" for r, n in sorted(reasons.items()))
    print(f"jiangshan_push {args.month}: {len(rows)} rows to {base}", file=sys.stderr)
    print(f"  opened  {counts['opened']:4d}  (tier: {by_tier or '-'})", file=sys.stderr)
    print(f"  added   {counts['added']:4d}  (a signal to the household's open case)", file=sys.stderr)
    print(f"  refused {counts['refused']:4d}  ({by_reason or '-'})", file=sys.stderr)
    if counts["error"]:
        print(f"  errors  {counts['error']:4d}  (no answer: see the record)", file=sys.stderr)
    if replayed:
        print(f"  replayed {replayed} answers of an earlier run (same Idempotency-Key): nothing new", file=sys.stderr)
    print(f"  {elapsed:.2f} s, {len(rows) / elapsed if elapsed else 0:.0f} rows/s", file=sys.stderr)
    return 1 if counts["error"] else 0


if __name__ == "__main__":
    sys.exit(main())
