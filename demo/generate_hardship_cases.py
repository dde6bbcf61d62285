# Generates demo/hardship_cases.toml: a year of Jiangshan's hardship cases (`python3 demo/generate_hardship_cases.py`; the output is committed).
import random
random.seed(2026)
W = [7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2]
C = "10X98765432"
def idno(i, birth):
    body = "330881" + birth + f"{(i*7)%1000:03d}"
    s = sum(int(d)*w for d, w in zip(body, W))
    return body + C[s % 11]
surn = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
given = ["建华","秀英","国平","丽娟","志刚","美玲","海涛","桂芳","永强","春燕","德明","玉兰","卫东","小红","文斌","淑珍","立新","金凤","红军","巧云","伟","静","敏","磊","芳","军"]
units = ["江山市化工厂","江山市第二人民医院","浙江江山变压器有限公司","江山市环卫处","江山市纺织有限公司","江山市建筑工程公司","江山市贺村镇中学","江山市物流园"]
sources = ["worker","unit_union","civil_affairs","medical_insurance","human_resources"]
out = ['# A year of Jiangshan\'s hardship cases for `serve --demo` (generated once by a script, kept as data).',
       '# Each case starts on `day` (days after day 0, 365 days before the demo is seeded) and takes its',
       '# steps on the days given after its start; "@day" is the date a step is taken. The timers',
       '# (monthly calls, quarterly visits, the follow-up after leaving) fire in between as they would.',
       '', 'process = "hardship_case"', 'days_ago = 365', 'actor = { name = "ye.lan", roles = ["caseworker"] }', '']
def q(v):
    if isinstance(v, bool): return "true" if v else "false"
    if isinstance(v, int): return str(v)
    return '"' + v + '"'
def table(d):
    return "{ " + ", ".join(f"{k} = {q(v)}" for k, v in d.items()) + " }"
kinds = ["deep"]*8 + ["relative"]*8 + ["accident"]*4 + ["none"]*3 + ["migrant"]*1
random.shuffle(kinds)
for i, kind in enumerate(kinds):
    day = 5 + i * 14 + random.randint(0, 6)
    name = surn[i % len(surn)] + given[(i*5) % len(given)]
    birth = f"19{random.randint(66,95)}{random.randint(1,12):02d}{random.randint(1,28):02d}"
    src = sources[i % 5]
    city = "江山市" if i % 6 else "衢州市"
    start = {"applicant": name, "id_number": idno(i, birth), "city": city, "source": src,
             "reported_on": "@day", "unit": units[i % len(units)], "phone": f"139{random.randint(10000000, 99999999)}"}
    if kind == "deep":
        n = random.choice([2,3,4]); inc = random.choice([1800,2200,2600,3000]); exp = random.choice([300,500,800])
        while (inc - exp) / n >= 1130: inc -= 400
    elif kind == "relative":
        n = random.choice([3,4]); inc = random.choice([5200,6000,6800]); exp = random.choice([400,600])
        while (inc - exp) / n < 1180: inc += 400
        while (inc - exp) / n >= 2260: inc -= 300
    elif kind == "accident":
        n = 2; inc = random.choice([6200, 6800, 7400]); exp = 500
        start["crisis_costs"] = str(int(inc * 12 * 0.8) + random.choice([2000, 15000, 40000]))
    else:
        n = 2; inc = 8600; exp = 500
    start.update({"household_size": n, "monthly_income": str(inc), "rigid_expenses": str(exp)})
    if kind == "migrant":
        start.update({"migrant": True, "employed_since": "@day"})
    if src in ("civil_affairs", "medical_insurance", "human_resources"):
        start["signal_figures"] = {"civil_affairs": f"民政低收入核对：家庭月收入 {inc} 元，{n} 人", "medical_insurance": f"医保推送：本年度个人自付医疗费用 {start.get('crisis_costs', '42000')} 元", "human_resources": "人社推送：本人于上月解除劳动合同，领取失业保险金"}[src]
    steps = []
    remaining = 360 - day
    if kind in ("none", "migrant"):
        steps.append({"day": 2, "event": "screen_out", "data": {"decision_note": "按家庭收支测算不符合帮扶条件，已告知申请人" if kind == "none" else "外来务工人员在本地就业未满一年，暂不符合条件，一年后可再申请"}})
    else:
        steps.append({"day": 4, "event": "visit_home", "data": {"visited_on": "@day", "visit_findings": random.choice(["住房简陋，家中有长期病患，收入来源单一", "配偶无固定收入，子女在读，靠本人工资维持", "本人因病手术，家庭积蓄已用尽", "家庭收支与推送数据一致，生活确有困难"])}})
        rejected = (i == 7)
        vote = {"committee_size": 7, "present": 6, "yes": 2 if rejected else 5, "no": 4 if rejected else 1, "abstain": 0}
        steps.append({"day": 11, "event": "record_committee_vote", "data": vote})
        if rejected:
            steps.append({"day": 12, "event": "reject", "data": {"decision_note": "家庭另有经营收入未申报，审批小组未同意纳入"}})
        elif remaining > 11:
            steps.append({"day": 12, "event": "register"})
            # Assistance, calls and visits while on the register; some leave it.
            leave = 120 if i % 5 == 2 and remaining > 130 else None
            end = min(remaining, leave or remaining)
            steps.append({"day": 15, "event": "give_assistance", "data": {"measure_date": "@day", "measure_kind": "cash", "measure_amount": random.choice(["800", "1000", "1200"]), "measure_note": "首次生活救助"}})
            d = 12 + 31
            k = 0
            while d < end:
                k += 1
                kind_c = "visit" if k % 3 == 0 else "call"
                # Some households are not called every month: their calls fall overdue.
                if not (i % 4 == 1 and kind_c == "call" and k % 2 == 0):
                    steps.append({"day": d, "event": "record_contact", "data": {"contact_date": "@day", "contact_kind": kind_c, "contact_note": random.choice(["情况稳定", "子女学费已落实", "病情好转，已复工", "需继续关注医疗支出", "已转介民政临时救助"])}})
                if k % 4 == 2:
                    steps.append({"day": d + 1, "event": "give_assistance", "data": {"measure_date": "@day", "measure_kind": random.choice(["medical", "education", "in_kind", "employment"]), "measure_amount": random.choice(["500", "1500", "2000", "3000"])}})
                d += random.choice([30, 31, 33])
            if leave:
                steps.append({"day": leave, "event": "leave_register", "data": {"exit_reason": "家庭收入已稳定在低保标准两倍以上，经复核退出"}})
                if remaining > leave + 95:
                    steps.append({"day": leave + 95, "event": "record_follow_up", "data": {"follow_up_note": "退出后回访：本人已稳定就业，家庭无新的困难"}})
    out.append("[[case]]")
    out.append(f"day = {day}")
    out.append(f"start = {table(start)}")
    out.append("steps = [")
    for s in steps:
        line = f'  {{ day = {s["day"]}, event = "{s["event"]}"'
        if s.get("data"): line += f', data = {table(s["data"])}'
        out.append(line + " },")
    out.append("]")
    out.append("")
open(__import__("os").path.join(__import__("os").path.dirname(__file__), "hardship_cases.toml"), "w").write("\n".join(out))
