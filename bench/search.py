"""Search benchmark: the index backends side by side on a synthetic customer-file corpus.

    .venv/bin/python bench/search.py --sizes 2000                       # quick
    .venv/bin/python bench/search.py --sizes 100000,300000 --backends tantivy,whoosh
    .venv/bin/python bench/search.py --sizes 100000 --backends tantivy,postgresql \\
        --db postgresql+psycopg://dangan:dangan@127.0.0.1:5432/bench     # a database to fill

Each (backend, size) runs in its own process (clean peak RSS); pages are generated as they
are indexed, so a million pages never sit in memory. Prints, per backend and size: pages
indexed per second (the time to make them up not counted) and the CPU time the process
spent per page (all its threads; less sensitive than wall time to a busy shared machine),
index size, peak RSS of the indexing process, p50/p95 latency of plain queries (the backend's
first 20 hits; "user": the same queries as the CLI and web run them, grouped by record with
snippets and the tolerant pass), filtered (户号, business type, dates; sorted by date, 户号 or
business type) and tolerant queries (the user's search of a planted phrase with its
one-garbled-character pass), and recall of planted phrases (exact,
garbled) and 户号; then ratios against the first backend, measured in the same run.
Corpus: forms with 户号, names, addresses, business words and contract clauses, 1.5%
character noise. For postgresql, --db names a database whose search tables are emptied
(peak RSS and CPU are this process's, not the server's).
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from queue import Empty

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
ACCOUNT_SAMPLE = 200  # records whose 户号 recall is checked
YEARS = (2019, 2020, 2021, 2022, 2023, 2024)
BATCH = 10_000  # pages per commit, as a rebuild commits
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


class Corpus:
    """SIZE synthetic pages, generated one at a time (a million never sit in memory), and
    what a search should find in them, filled in as the pages go by: the pages of each
    planted phrase (exact and with one garbled character) and of a sample of 户号."""

    def __init__(self, size: int, seed: int = SEED):
        self.size, self.seed = size, seed
        rng = random.Random(seed)
        self.pool = cjk_pool(rng)
        self.rare = "".join(chr(c) for c in range(0x5000, 0x6000))  # characters the templates never use
        self.planted: dict[str, tuple[list[int], list[int]]] = {}
        self.inserts: dict[int, list[str]] = {}
        for _ in range(max(20, min(200, size // 100))):
            phrase = "".join(rng.choice(self.rare) for _ in range(rng.choice([4, 5, 6])))
            pages = rng.sample(range(size), PLANTED_EXACT_PAGES + PLANTED_GARBLED_PAGES)
            self.planted[phrase] = (pages[:PLANTED_EXACT_PAGES], pages[PLANTED_EXACT_PAGES:])
            for p in pages[:PLANTED_EXACT_PAGES]:
                self.inserts.setdefault(p, []).append(phrase)
            for p in pages[PLANTED_EXACT_PAGES:]:
                self.inserts.setdefault(p, []).append(garble_one(phrase, rng, self.rare))
        self.account_every = max(1, size // 5 // ACCOUNT_SAMPLE)  # every n-th record's 户号 is checked
        # truth, re-derived from the final text (noise may hit a planted phrase too)
        self.exact: dict[str, set[str]] = {p: set() for p in self.planted}
        self.garbled: dict[str, set[str]] = {p: set() for p in self.planted}
        self.accounts: dict[str, set[str]] = {}
        self._planted_on = {i: p for p, (e, g) in self.planted.items() for i in e + g}

    def __iter__(self):
        """The pages; `seconds` adds up the time spent making them (not indexing them)."""
        rng = random.Random(self.seed + 7)
        record, page_in_record, pages_in_this_record = 0, 0, 0
        clock, cpu = time.perf_counter, time.thread_time
        self.seconds = self.cpu_seconds = 0.0
        for i in range(self.size):
            started, started_cpu = clock(), cpu()
            if page_in_record == 0:
                record += 1
                pages_in_this_record = rng.randint(2, 8)
                biz = rng.choice(BUSINESS)
                name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))
                address = f"{rng.choice(CITIES)}{rng.choice(ROADS)}{rng.randint(1, 999)}号"
                account = f"34{rng.randrange(10**8):08d}"
                year = rng.choice(YEARS)
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
            for phrase in self.inserts.get(i, []):
                lines.insert(rng.randint(4, len(lines)), f"特别约定：{phrase}。")
            text = add_noise("\n".join(lines), rng, self.pool)
            page_id = f"pg{i:07d}"
            if i in self._planted_on:
                self._truth(i, page_id, text)
            if record % self.account_every == 0:
                self.accounts.setdefault(account, set()).add(page_id)
            doc = IndexDoc(
                page_id=page_id,
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
            if page_in_record >= pages_in_this_record:
                page_in_record = 0
            self.seconds += clock() - started
            self.cpu_seconds += cpu() - started_cpu
            yield doc

    def _truth(self, i: int, page_id: str, text: str) -> None:
        for phrase, (exact_pages, garbled_pages) in self.planted.items():
            if i in exact_pages and phrase in text:
                self.exact[phrase].add(page_id)
            if i in garbled_pages and compact_has_garbled(text, phrase):
                self.garbled[phrase].add(page_id)


def compact_has_garbled(text: str, phrase: str) -> bool:
    """Noise may have hit the planted garbled copy a second time: only count pages
    where the phrase really is there with exactly one wrong character."""
    from dangan.indexing.analyzer import compact
    from dangan.indexing.search import find_garbled

    return bool(find_garbled(compact(text), phrase))


def make_queries(corpus: Corpus, rng: random.Random) -> dict[str, list]:
    phrases = list(corpus.exact)
    accounts = sorted(corpus.accounts)
    plain = [f'"{p}"' for p in phrases[:100]]
    plain += rng.sample(accounts, min(60, len(accounts)))
    plain += [f"{a[:6]}*" for a in rng.sample(accounts, min(20, len(accounts)))]
    plain += ["暂停 用电", "供用电合同", "变压器 封停", "计量装置", "王", "电费 结清"] * 4
    filtered = []
    for i in range(200):
        biz = BUSINESS[i % len(BUSINESS)]
        year = YEARS[i % len(YEARS)]
        base = ["变压器", "供用电合同", "结清", "计量 装置", "现场勘查"][i % 5]
        if i % 4 == 3:  # a 户号 range with a business type
            query = f"{base} 户号:34{rng.randrange(100):02d}* 业务:{biz[1]}"
        else:
            query = f"{base} 业务:{biz[0] if i % 2 else biz[1]} 日期:{year}-01-01..{year}-06-30"
        filtered.append((query, ("relevance", "date", "account", "business")[i % 4]))
    return {"plain": [(q, "relevance") for q in plain], "filtered": filtered}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def open_bench_index(name: str, path: Path, db: str | None):
    if name != "postgresql":
        return open_backend(path, name)
    if not db:
        raise SystemExit("--backends postgresql needs --db postgresql+psycopg://… (a database to fill)")
    from dangan.archive.db import upgrade

    upgrade(db)
    index = open_backend(None, name, database=db)
    index.clear()
    return index


def index_mb(index, path: Path) -> float:
    if index.name != "postgresql":
        return dir_size(path) / 2**20
    from sqlalchemy import text

    with index.engine.connect() as conn:
        return conn.execute(text("SELECT pg_total_relation_size('search_page')")).scalar() / 2**20


def settle(index) -> None:
    """What a running database does by itself after a bulk load (autovacuum): statistics."""
    if index.name == "postgresql":
        from sqlalchemy import text

        with index.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE search_page"))


def timed(fn, items) -> list[float]:
    times = []
    for item in items:
        t = time.perf_counter()
        fn(item)
        times.append(time.perf_counter() - t)
    return times


def run_one(backend_name: str, size: int, workdir: str, db: str | None, keep: bool, reuse: bool, out) -> None:
    corpus = Corpus(size)
    path = Path(workdir) / f"{backend_name}-{size}"
    if reuse:  # an index --keep left: only the truth is needed from the corpus
        index = (
            open_backend(path, backend_name)
            if backend_name != "postgresql"
            else open_backend(None, backend_name, database=db)
        )
        for _page in corpus:
            pass
        build_s = build_cpu = peak_rss = float("nan")
    else:
        index = open_bench_index(backend_name, path, db)
        start, start_cpu = time.perf_counter(), cpu_seconds()
        index.add(iter(corpus), batch_size=BATCH)
        build_s = time.perf_counter() - start - corpus.seconds  # indexing only, not making up the pages
        build_cpu = cpu_seconds() - start_cpu - corpus.cpu_seconds  # every thread of this process
        peak_rss = rss_mb()
        settle(index)
    queries = make_queries(corpus, random.Random(SEED + 1))
    index.search("预热")  # open files, warm caches
    lat = {kind: timed(lambda qs: index.search(qs[0], limit=20, sort=qs[1]), qs) for kind, qs in queries.items()}
    # the same queries as the CLI and the web run them: grouped by record, snippets, tolerant pass
    lat["user"] = timed(lambda qs: search(index, qs[0], sort=qs[1]), queries["plain"])
    exact_found = exact_total = garbled_found = garbled_total = 0
    tol_times = []
    for phrase, pages in corpus.exact.items():
        t = time.perf_counter()
        res = search(index, phrase, per_page=100)
        tol_times.append(time.perf_counter() - t)
        got_exact = {h.page_id for g in res.groups if not g.tolerant for h in g.hits}
        got_tol = {h.page_id for g in res.groups if g.tolerant for h in g.hits}
        exact_found += len(pages & got_exact)
        exact_total += len(pages)
        garbled_found += len(corpus.garbled[phrase] & got_tol)
        garbled_total += len(corpus.garbled[phrase])
    acc_found = 0
    sample_accounts = sorted(corpus.accounts.items())[:100]
    for account, pages in sample_accounts:
        acc_found += pages <= {h.page_id for h in index.search(f"户号:{account}", limit=50).hits}
    out.put(
        {
            "backend": backend_name,
            "size": size,
            "pages_per_s": size / build_s,
            "cpu_ms_per_page": 1000 * build_cpu / size,
            "build_s": build_s,
            "index_mb": index_mb(index, path),
            "peak_rss_mb": peak_rss,
            "p50_plain_ms": 1000 * percentile(lat["plain"], 0.5),
            "p95_plain_ms": 1000 * percentile(lat["plain"], 0.95),
            "p50_user_ms": 1000 * percentile(lat["user"], 0.5),
            "p95_user_ms": 1000 * percentile(lat["user"], 0.95),
            "p50_filter_ms": 1000 * percentile(lat["filtered"], 0.5),
            "p95_filter_ms": 1000 * percentile(lat["filtered"], 0.95),
            "p50_tolerant_ms": 1000 * percentile(tol_times, 0.5),
            "p95_tolerant_ms": 1000 * percentile(tol_times, 0.95),
            "recall_exact": exact_found / max(1, exact_total),
            "recall_garbled": garbled_found / max(1, garbled_total),
            "recall_account": acc_found / max(1, len(sample_accounts)),
        }
    )
    if backend_name == "postgresql" and not keep:
        index.clear()
    index.close()
    if not keep:
        shutil.rmtree(path, ignore_errors=True)


COLUMNS = [
    ("backend", "{}"),
    ("size", "{}"),
    ("pages_per_s", "{:.0f}"),
    ("cpu_ms_per_page", "{:.2f}"),
    ("index_mb", "{:.0f}"),
    ("peak_rss_mb", "{:.0f}"),
    ("p50_plain_ms", "{:.1f}"),
    ("p95_plain_ms", "{:.1f}"),
    ("p50_user_ms", "{:.1f}"),
    ("p95_user_ms", "{:.1f}"),
    ("p50_filter_ms", "{:.1f}"),
    ("p95_filter_ms", "{:.1f}"),
    ("p50_tolerant_ms", "{:.1f}"),
    ("p95_tolerant_ms", "{:.1f}"),
    ("recall_exact", "{:.3f}"),
    ("recall_garbled", "{:.3f}"),
    ("recall_account", "{:.3f}"),
]
RATIOS = ["pages_per_s", "index_mb", "peak_rss_mb", "p95_plain_ms", "p95_user_ms", "p95_filter_ms", "p95_tolerant_ms"]


def print_table(rows: list[dict]) -> None:
    header = [name for name, _ in COLUMNS]
    body = [[fmt.format(row[name]) for name, fmt in COLUMNS] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(header)]
    print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
    for r in body:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)))
    by = {(r["backend"], r["size"]): r for r in rows}
    names = list(dict.fromkeys(r["backend"] for r in rows))
    for size in sorted({r["size"] for r in rows}):
        base = by.get((names[0], size))
        for name in names[1:]:
            other = by.get((name, size))
            if base and other:
                ratios = ", ".join(f"{k} x{other[k] / base[k]:.2f}" for k in RATIOS if base[k])
                print(f"{name}/{names[0]} at {size}: {ratios}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,30000", help="comma-separated page counts")
    parser.add_argument("--backends", default="tantivy,whoosh", help="comma-separated; the first is the baseline")
    parser.add_argument("--db", help="PostgreSQL URL for --backends postgresql (its search tables are emptied)")
    parser.add_argument("--workdir", default=None, help="where to build embedded indexes (local disk)")
    parser.add_argument("--keep", action="store_true", help="keep the indexes (to study queries on them)")
    parser.add_argument("--reuse", action="store_true", help="query the indexes an earlier --keep run left")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    workdir = args.workdir or tempfile.mkdtemp(prefix="dangan-bench-")
    ctx = mp.get_context("spawn")
    rows = []
    for size in sizes:
        for name in args.backends.split(","):
            queue = ctx.Queue()
            proc = ctx.Process(
                target=run_one, args=(name, size, workdir, args.db, args.keep or args.reuse, args.reuse, queue)
            )
            started = time.perf_counter()
            proc.start()
            row = None
            while row is None:
                try:
                    row = queue.get(timeout=5)
                except Empty:
                    if not proc.is_alive():
                        raise SystemExit(f"{name} at {size} pages failed (exit status {proc.exitcode})") from None
            proc.join()
            rows.append(row)
            print(
                f"# {name} {size}: done in {time.perf_counter() - started:.0f} s: "
                + ", ".join(f"{k}={fmt.format(row[k])}" for k, fmt in COLUMNS[2:]),
                file=sys.stderr,
                flush=True,
            )
    print(f"cpu count {os.cpu_count()}; load average at the end {os.getloadavg()[0]:.1f}")
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
