"""Search benchmark: Whoosh vs Tantivy on a synthetic customer-file corpus.

    .venv/bin/python bench/search.py --sizes 2000            # quick
    .venv/bin/python bench/search.py --sizes 10000,30000 --backends whoosh,tantivy
    .venv/bin/python bench/search.py --sizes 2000 --no-unigrams   # cost of unigram terms

Each (backend, size) runs in its own process (clean peak RSS). Prints a table and
Tantivy/Whoosh ratios. Corpus: forms with 户号, names, addresses, business words and
contract clauses, 1.5% character noise; planted phrases (exact and with one garbled
character) and account numbers on known pages give recall figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import multiprocessing as mp
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from dangan.indexing.backends import open_backend
from dangan.indexing.schema import IndexDoc
from dangan.indexing.search import search

SEED = 20240601
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = "建国秀英伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰华红玉梅文辉鹏飞宇浩然志刚海燕春生德福祥瑞光荣兴旺晓东"
CITIES = [
    "合肥市蜀山区",
    "合肥市包河区",
    "芜湖市镜湖区",
    "蚌埠市龙子湖区",
    "安庆市迎江区",
    "黄山市屯溪区",
    "阜阳市颍州区",
]
ROADS = ["人民路", "长江西路", "黄山路", "望江东路", "金寨路", "淮河路", "胜利路", "解放路", "建设大道", "工业园一路"]
BUSINESS = [
    ("ZT", "暂停"),
    ("ZTHF", "暂停恢复"),
    ("JR", "减容"),
    ("JRHF", "减容恢复"),
    ("GM", "更名"),
    ("GH", "过户"),
    ("YB", "移表"),
    ("QZ", "迁址"),
    ("GY", "改压"),
    ("GL", "改类"),
    ("ZR", "增容"),
    ("XH", "销户"),
    ("ZH", "暂换"),
    ("ZC", "暂拆"),
]
DOC_TYPES = [
    ("SQ", "用电申请书"),
    ("HT", "供用电合同"),
    ("GD", "业务工单"),
    ("JL", "现场勘查记录"),
    ("ZM", "身份证明"),
    ("FP", "电费结清证明"),
]
CLAUSES = [
    "供电方式：供电人向用电人提供单电源供电，供电电压为{kv}千伏。",
    "用电人申请{biz}，经现场勘查，同意自{date}起执行，变压器容量{cap}千伏安。",
    "计量方式：高供低计，计量装置安装于用电人产权分界点处，电能表编号{meter}。",
    "电费结算：按月抄表结算，用电人应于每月{day}日前结清当月电费及违约金。",
    "双方签订本供用电合同，合同有效期为五年，期满后双方无异议自动续签。",
    "用电人应当安全用电，不得擅自改变用电类别，不得私自增加用电容量。",
    "变压器封停日期为{date}，启封日期为{date2}，运行容量{cap}千伏安。",
    "经核实，该户欠费已全部结清，同意办理{biz}业务，工单号{wo}。",
    "现场勘查意见：线路走向合理，计量装置完好，具备送电条件。",
    "用电人对供电企业的服务如有异议，可拨打服务热线进行投诉和咨询。",
    "本合同一式两份，双方各执一份，自双方签字盖章之日起生效。",
    "产权分界点以用电人进线电缆头为界，分界点电源侧产权属供电人。",
]
PLANTED_EXACT_PAGES = 3
PLANTED_GARBLED_PAGES = 2
NOISE_RATE = 0.015


def cjk_pool(rng: random.Random) -> str:
    text = "".join(CLAUSES) + SURNAMES + GIVEN + "".join(CITIES + ROADS) + "".join(b for _, b in BUSINESS)
    return "".join(sorted({c for c in text if "\u4e00" <= c <= "\u9fff"}))


def add_noise(text: str, rng: random.Random, pool: str, rate: float = NOISE_RATE) -> str:
    chars = list(text)
    for i, ch in enumerate(chars):
        if "\u4e00" <= ch <= "\u9fff" and rng.random() < rate:
            chars[i] = rng.choice(pool)
    return "".join(chars)


def garble_one(phrase: str, rng: random.Random, pool: str) -> str:
    k = rng.randrange(len(phrase))
    wrong = rng.choice([c for c in pool if c != phrase[k]])
    return phrase[:k] + wrong + phrase[k + 1 :]


def make_corpus(size: int, seed: int = SEED):
    """-> (docs, truth). truth: planted phrases with their exact and garbled pages, and
    account numbers with their page."""
    rng = random.Random(seed)
    pool = cjk_pool(rng)
    rare = "".join(chr(c) for c in range(0x5000, 0x6000))  # characters the templates never use
    n_planted = max(20, min(200, size // 100))
    planted = {}
    for _ in range(n_planted):
        phrase = "".join(rng.choice(rare) for _ in range(rng.choice([4, 5, 6])))
        pages = rng.sample(range(size), PLANTED_EXACT_PAGES + PLANTED_GARBLED_PAGES)
        planted[phrase] = (pages[:PLANTED_EXACT_PAGES], pages[PLANTED_EXACT_PAGES:])
    inserts: dict[int, list[str]] = {}
    garbled_truth: dict[str, list[int]] = {}
    for phrase, (exact_pages, garbled_pages) in planted.items():
        for p in exact_pages:
            inserts.setdefault(p, []).append(phrase)
        for p in garbled_pages:
            inserts.setdefault(p, []).append(garble_one(phrase, rng, rare))
        garbled_truth[phrase] = garbled_pages

    docs, accounts = [], {}
    record, page_in_record = 0, 0
    for i in range(size):
        if page_in_record == 0:
            record += 1
            pages_in_this_record = rng.randint(2, 8)
            biz = rng.choice(BUSINESS)
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))
            address = f"{rng.choice(CITIES)}{rng.choice(ROADS)}{rng.randint(1, 999)}号"
            account = f"34{rng.randrange(10**8):08d}"
            year = rng.choice([2019, 2020, 2021, 2022, 2023, 2024])
            date = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))
            wo = f"GD{year}{rng.randrange(10**9):09d}"
            number = f"GD01-KH·{year}-{record:07d}"
            location = f"K{rng.randint(1, 3)}-{rng.choice('ABCD')}{rng.randint(1, 20):02d}-{rng.randint(1, 6):02d}"
        page_in_record += 1
        dtype = rng.choice(DOC_TYPES)
        lines = [
            f"{dtype[1]}",
            f"户号：{account}  户名：{name}",
            f"用电地址：{address}",
            f"业务类型：{biz[1]}  工单号：{wo}  档号：{number}",
        ]
        for _ in range(rng.randint(8, 20)):
            clause = rng.choice(CLAUSES).format(
                kv=rng.choice([10, 35, 0.4]),
                biz=biz[1],
                date=date.isoformat(),
                date2=(date + dt.timedelta(days=90)).isoformat(),
                cap=rng.choice([80, 160, 315, 630, 1250]),
                meter=f"{rng.randrange(10**10):010d}",
                day=rng.randint(10, 25),
                wo=wo,
            )
            lines.append(clause)
        for phrase in inserts.get(i, []):
            lines.insert(rng.randint(4, len(lines)), f"特别约定：{phrase}。")
        text = add_noise("\n".join(lines), rng, pool)
        docs.append(
            IndexDoc(
                page_id=f"pg{i:07d}",
                record_number=number,
                document_id=f"doc{record:07d}-{page_in_record}",
                page_no=page_in_record,
                text=text,
                account_numbers=[account],
                customer_name=name,
                address=address,
                business_type=biz[0],
                business_name=biz[1],
                doc_type=dtype[0],
                doc_type_name=dtype[1],
                work_orders=[wo],
                date=date,
                location=location,
                qa_status="passed",
                retention="D30",
            )
        )
        accounts.setdefault(account, set()).add(f"pg{i:07d}")
        if page_in_record >= pages_in_this_record:
            page_in_record = 0
    # Planted phrases are inserted before noise; re-derive truth from the final text so
    # recall is measured against what is really on the page.
    # (rare characters: a planted phrase appears nowhere but where it was planted)
    exact_truth = {p: {docs[i].page_id for i in planted[p][0] if p in docs[i].text} for p in planted}
    garbled_pages = {
        p: {docs[i].page_id for i in garbled_truth[p] if compact_has_garbled(docs[i].text, p)} for p in planted
    }
    return docs, {"exact": exact_truth, "garbled": garbled_pages, "accounts": accounts}


def compact_has_garbled(text: str, phrase: str) -> bool:
    """Noise may have hit the planted garbled copy a second time: only count pages
    where the phrase really is there with exactly one wrong character."""
    from dangan.indexing.analyzer import compact
    from dangan.indexing.search import find_garbled

    return bool(find_garbled(compact(text), phrase))


def make_queries(truth: dict, rng: random.Random) -> dict[str, list]:
    phrases = list(truth["exact"])
    accounts = list(truth["accounts"])
    plain = [f'"{p}"' for p in phrases[:100]]
    plain += [a for a in rng.sample(accounts, min(60, len(accounts)))]
    plain += [f"{a[:6]}*" for a in rng.sample(accounts, min(20, len(accounts)))]
    plain += ["暂停 用电", "供用电合同", "变压器 封停", "计量装置", "王", "电费 结清"] * 4
    filtered = []
    for i in range(200):
        biz = BUSINESS[i % len(BUSINESS)]
        year = 2019 + i % 6
        base = ["变压器", "供用电合同", "结清", "计量 装置", "现场勘查"][i % 5]
        filtered.append(f"{base} 业务:{biz[0] if i % 2 else biz[1]} 日期:{year}-01-01..{year}-06-30")
    return {"plain": plain, "filtered": filtered}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def disable_unigrams() -> None:
    from dangan.indexing import analyzer, tantivy_backend, whoosh_backend

    tantivy_backend.tokenize = functools.partial(analyzer.tokenize, unigrams=False)
    whoosh_backend.BigramTokenizer = functools.partial(analyzer.BigramTokenizer, unigrams=False)


def run_one(backend_name: str, size: int, workdir: str, no_unigrams: bool, out) -> None:
    if no_unigrams:
        disable_unigrams()
    docs, truth = make_corpus(size)
    rss_before = rss_mb()
    path = Path(workdir) / f"{backend_name}-{size}"
    index = open_backend(path, backend_name)
    start = time.perf_counter()
    index.add(iter(docs), batch_size=2000)
    build_s = time.perf_counter() - start
    del docs
    rng = random.Random(SEED + 1)
    queries = make_queries(truth, rng)
    index.search("预热")  # open files, warm caches
    lat = {}
    for kind, qs in queries.items():
        times = []
        for q in qs:
            t = time.perf_counter()
            index.search(q, limit=20)
            times.append(time.perf_counter() - t)
        lat[kind] = times
    exact_found = exact_total = garbled_found = garbled_total = 0
    tol_times = []
    for phrase, pages in truth["exact"].items():
        t = time.perf_counter()
        res = search(index, phrase, per_page=100)
        tol_times.append(time.perf_counter() - t)
        got_exact = {h.page_id for g in res.groups if not g.tolerant for h in g.hits}
        got_tol = {h.page_id for g in res.groups if g.tolerant for h in g.hits}
        exact_found += len(pages & got_exact)
        exact_total += len(pages)
        garbled_found += len(truth["garbled"][phrase] & got_tol)
        garbled_total += len(truth["garbled"][phrase])
    acc_found = 0
    sample_accounts = list(truth["accounts"].items())[:100]
    for account, pages in sample_accounts:
        acc_found += pages <= {h.page_id for h in index.search(f"户号:{account}", limit=50).hits}
    out.put(
        {
            "backend": backend_name,
            "size": size,
            "docs_per_s": size / build_s,
            "build_s": build_s,
            "index_mb": dir_size(path) / 2**20,
            "rss_before_mb": rss_before,
            "peak_rss_mb": rss_mb(),
            "p50_plain_ms": 1000 * percentile(lat["plain"], 0.5),
            "p95_plain_ms": 1000 * percentile(lat["plain"], 0.95),
            "p50_filter_ms": 1000 * percentile(lat["filtered"], 0.5),
            "p95_filter_ms": 1000 * percentile(lat["filtered"], 0.95),
            "p95_tolerant_ms": 1000 * percentile(tol_times, 0.95),
            "n_queries": len(lat["plain"]) + len(lat["filtered"]),
            "recall_exact": exact_found / max(1, exact_total),
            "recall_garbled": garbled_found / max(1, garbled_total),
            "recall_account": acc_found / max(1, len(sample_accounts)),
        }
    )
    index.close()
    shutil.rmtree(path, ignore_errors=True)


COLUMNS = [
    ("backend", "{}"),
    ("size", "{}"),
    ("docs_per_s", "{:.0f}"),
    ("index_mb", "{:.1f}"),
    ("peak_rss_mb", "{:.0f}"),
    ("p50_plain_ms", "{:.1f}"),
    ("p95_plain_ms", "{:.1f}"),
    ("p50_filter_ms", "{:.1f}"),
    ("p95_filter_ms", "{:.1f}"),
    ("p95_tolerant_ms", "{:.1f}"),
    ("recall_exact", "{:.3f}"),
    ("recall_garbled", "{:.3f}"),
    ("recall_account", "{:.3f}"),
]


def print_table(rows: list[dict]) -> None:
    header = [name for name, _ in COLUMNS]
    body = [[fmt.format(row[name]) for name, fmt in COLUMNS] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(header)]
    print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
    for r in body:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)))
    by = {(r["backend"], r["size"]): r for r in rows}
    for size in sorted({r["size"] for r in rows}):
        w, t = by.get(("whoosh", size)), by.get(("tantivy", size))
        if w and t:
            print(
                f"tantivy/whoosh at {size}: build speed x{t['docs_per_s'] / w['docs_per_s']:.1f}, "
                f"index size x{t['index_mb'] / w['index_mb']:.2f}, "
                f"p95 plain x{t['p95_plain_ms'] / w['p95_plain_ms']:.3f}, "
                f"p95 filtered x{t['p95_filter_ms'] / w['p95_filter_ms']:.3f}, "
                f"p95 tolerant x{t['p95_tolerant_ms'] / w['p95_tolerant_ms']:.3f}"
            )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,30000", help="comma-separated page counts")
    parser.add_argument("--backends", default="whoosh,tantivy")
    parser.add_argument("--no-unigrams", action="store_true", help="index bigrams only (to measure unigram cost)")
    parser.add_argument("--workdir", default=None, help="where to build indexes (local disk)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    workdir = args.workdir or tempfile.mkdtemp(prefix="dangan-bench-")
    ctx = mp.get_context("spawn")
    rows = []
    for size in sizes:
        for name in args.backends.split(","):
            queue = ctx.Queue()
            proc = ctx.Process(target=run_one, args=(name, size, workdir, args.no_unigrams, queue))
            started = time.perf_counter()
            proc.start()
            row = queue.get()
            proc.join()
            rows.append(row)
            print(
                f"# {name} {size}: done in {time.perf_counter() - started:.0f} s: "
                + ", ".join(f"{k}={fmt.format(row[k])}" for k, fmt in COLUMNS[2:]),
                file=sys.stderr,
                flush=True,
            )
    print(f"unigrams: {'off' if args.no_unigrams else 'on'}; cpu count {os.cpu_count()}")
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
