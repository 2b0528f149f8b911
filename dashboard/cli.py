"""The ``frontline`` command: sync | doctor | serve | area | change | town | compare-sources | notes | export | bench.

Each sub-command is a thin wrapper: parse arguments, call the library, print a
human summary or ``--json``. Errors a user can cause (unknown town, date out of
range, unreadable store) print one clear line on stderr and exit with status 2.
"""
from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

import orjson

from .settings import Settings, load_settings
from .vocab import BASE_KEYS, FORMATS

#: Namesakes an ambiguous town name lists.
MAX_CANDIDATES = 25


class UserError(Exception):
    """A problem with what the user asked for; printed without a traceback."""


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (expected YYYY-MM-DD)") from None


def _emit(obj: dict, as_json: bool, text: str) -> None:
    if as_json:
        sys.stdout.write(orjson.dumps(obj, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print(text)


def _settings(args) -> Settings:
    return load_settings(data_dir=Path(args.data_dir) if getattr(args, "data_dir", None) else None)


def _store(settings: Settings):
    from .store.layout import StoreError
    from .store.reader import Store

    try:
        return Store.open(settings.data_dir)
    except StoreError as exc:
        raise UserError(str(exc)) from None


def _gazetteer(settings: Settings):
    from .sources.settlements import Gazetteer

    if not Path(settings.gazetteer).is_file():
        raise UserError(f"gazetteer {settings.gazetteer} is missing")
    return Gazetteer.load(settings.gazetteer)


# --- sync -----------------------------------------------------------------------------------

def cmd_sync(args) -> int:
    from .sources.fetch import Location
    from .store import layout
    from .store.layout import StoreError
    from .store.sync import SyncOptions, first_run, sync

    s = _settings(args)
    only_second = args.liveuamap and not (args.deepstate_api or args.deepstate_daily or args.boundaries)
    if args.liveuamap and args.check:
        raise UserError("--check reports on DeepState's sources only: run it without --liveuamap")
    if only_second:
        return _sync_liveuamap(args, s)
    opts = SyncOptions(
        data_dir=s.data_dir,
        api=Location(args.deepstate_api or s.deepstate_api, s.http_timeout),
        daily=Location(args.deepstate_daily or s.deepstate_daily, s.http_timeout),
        boundaries=Location(args.boundaries or s.boundaries, s.http_timeout),
        gazetteer=s.gazetteer,
        workers=args.workers or s.workers,
        progress=not args.quiet and sys.stderr.isatty(),
        until=args.until,
        check=args.check,
        accept_changes=frozenset(args.accept_change or ()),
    )
    echo = (lambda *a: None) if args.quiet else print
    try:
        if args.check or layout.current_target(s.data_dir) is not None:
            report = sync(opts, echo=echo)
        else:  # a first run: the newest days first, then the history behind them
            first, report = first_run(opts, echo=echo, on_published=lambda r: print(r.summary()))
            report = report or first
    except StoreError as exc:
        raise UserError(str(exc)) from None
    except KeyboardInterrupt:
        print("Interrupted: the store was left as it was; parsed files are cached, so the next sync resumes.",
              file=sys.stderr)
        return 130
    print(report.summary())
    if args.check:
        return 1 if report.refused or report.repaired else 0
    return _sync_liveuamap(args, s) if args.liveuamap else 0


def _sync_liveuamap(args, s: Settings) -> int:
    """``sync --liveuamap``: add Liveuamap's days to the store DeepState's sync built."""
    from .sources.fetch import Location
    from .store.layout import StoreError
    from .store.second import sync_liveuamap

    try:
        report = sync_liveuamap(s.data_dir, Location(args.liveuamap, s.http_timeout), workers=args.workers or s.workers,
                                until=args.until, accept_changes=frozenset(args.accept_change or ()),
                                echo=(lambda *a: None) if args.quiet else print)
    except StoreError as exc:
        raise UserError(str(exc)) from None
    except KeyboardInterrupt:
        print("Interrupted: the store was left as it was.", file=sys.stderr)
        return 130
    print(report.summary())
    return 0


def cmd_doctor(args) -> int:
    """Check the store against its manifest's checksums, then open it as the app does."""
    from .store import layout
    from .store.reader import Store

    s = _settings(args)
    gen = layout.current_target(s.data_dir)
    if gen is None:
        raise UserError(f"No store in {s.data_dir}: build it with `frontline sync`.")
    problems = layout.verify(gen)
    if not problems:
        try:
            store = Store(gen)
        except Exception as exc:  # noqa: BLE001 - any failure to open is a finding, not a crash
            problems = [f"{gen.name}: cannot be opened ({type(exc).__name__}: {exc})"]
    res = {"data_dir": str(s.data_dir), "generation": gen.name, "ok": not problems, "problems": problems}
    if problems:
        lines = [f"The store in {s.data_dir} ({gen.name}) is damaged:"]
        lines += [f"  - {p}" for p in problems]
        lines.append("Run `frontline sync`: it verifies the store and rebuilds what is damaged from the sources.")
    else:
        files = store.manifest.get("files")
        res.update(days=len(store.day_list), first_day=str(store.first_day), last_day=str(store.last_day))
        lines = [f"The store in {s.data_dir} ({gen.name}) is sound: "
                 + (f"{len(files)} files match their checksums; " if files else "every file reads (no checksums yet: "
                    "the next sync that publishes adds them); ")
                 + f"{len(store.day_list)} days from {store.first_day} to {store.last_day}."]
    _emit(res, args.json, "\n".join(lines))
    return 0 if not problems else 1


# --- analytics ------------------------------------------------------------------------------

def _fmt(v) -> str:
    return "unknown" if v is None else f"{v:,.1f} km²"


def _out_of_range(store, exc: Exception, requested: date) -> UserError:
    """A DeepState command asked about a day it lacks: say which source has it."""
    from .analytics.sources import who_has

    hint = who_has(store, requested)
    return UserError(hint if hint else str(exc))


def cmd_area(args) -> int:
    from .analytics.control import area_on
    from .store.reader import DateOutOfRange

    store = _store(_settings(args))
    if args.source == "liveuamap":
        return _area_liveuamap(args, store)
    try:
        res = area_on(store, args.date)
    except DateOutOfRange as exc:
        raise _out_of_range(store, exc, args.date) from None
    lines = [f"Control zones on {res['date']}" + (f"  ({res['note']})" if res["note"] else "")]
    for k, v in res["layers_km2"].items():
        lines.append(f"  {k:<22} {_fmt(v)}")
    lines.append(f"  {'Russian-held total':<22} {res['occupied_total_km2']:,.1f} km²  = "
                 f"{res['occupied_share_pct']:.2f}% of Ukraine "
                 f"(of its official {res['ukraine_official_km2']:,.0f} km², as DeepState counts it)")
    if not res["complete"]:
        lines.append("  Grey-zone and liberated layers are unknown on this day (occupied-only data).")
    lines.append(f"  Source: {res['source']} snapshot {res['snapshot_id']} ({res['snapshot_taken']})")
    _emit(res, args.json, "\n".join(lines))
    return 0


def _area_liveuamap(args, store) -> int:
    from .analytics import sources

    try:
        res = sources.area_on(store, args.date)
    except sources.SourceError as exc:
        raise UserError(str(exc)) from None
    p = res["provenance"]
    lines = [f"Russian-held on {res['date']} according to Liveuamap via NZZ"
             + (f"  ({res['note']})" if res["note"] else "")]
    lines.append(f"  {'Russian-held total':<22} {res['occupied_total_km2']:,.1f} km²  = "
                 f"{res['occupied_share_pct']:.2f}% of Ukraine "
                 f"(of its official {res['ukraine_official_km2']:,.0f} km²)")
    lines.append(f"    drawn by Liveuamap   {res['drawn_km2']:,.1f} km²;  held before 2022 (Crimea, ORDLO; "
                 f"DeepState's outline, Liveuamap does not draw it) {res['added_before_2022_km2']:,.1f} km²")
    for o in res["per_oblast"][:8]:
        lines.append(f"    {o['oblast']:<32} {o['russian_held_km2']:,.1f} km²")
    lines.append("  Grey-zone and liberated layers: Liveuamap has none.")
    lines.append(f"  Source: Liveuamap via NZZ, file {p['file']} "
                 f"(period {p['period'][0] or 'start'} … {p['period'][1]})")
    lines.append(f"  {res['credit']}")
    _emit(res, args.json, "\n".join(lines))
    return 0


def cmd_change(args) -> int:
    from .analytics import sources
    from .analytics.control import change_between
    from .store.reader import DateOutOfRange

    store = _store(_settings(args))
    liveuamap = args.source == "liveuamap"
    try:
        ch = (sources.change_between if liveuamap else change_between)(store, args.date_from, args.date_to)
    except DateOutOfRange as exc:
        raise _out_of_range(store, exc, min(args.date_from, args.date_to)) from None
    except ValueError as exc:  # SourceError among them
        raise UserError(str(exc)) from None
    res = ch.to_dict()
    res["source"] = "liveuamap-nzz" if liveuamap else "deepstate"
    lines = [f"Russian-held territory, {res['from']} → {res['to']}"
             + ("  (Liveuamap via NZZ)" if liveuamap else "")]
    lines += [f"  note: {n}" for n in res["notes"]]
    lines.append(f"  gained {res['gained_km2']:,.1f} km²   lost {res['lost_km2']:,.1f} km²   "
                 f"net {res['net_km2']:+,.1f} km²   "
                 + ("(totals)" if liveuamap else "(totals, as DeepState counts them)"))
    fr, rv = res["front_line"], res["map_revision"]
    lines.append(f"    at the front line: +{fr['gained_km2']:,.1f} / -{fr['lost_km2']:,.1f} km²")
    lines.append(f"    map revision:      +{rv['gained_km2']:,.1f} / -{rv['lost_km2']:,.1f} km²"
                 "   (redrawn away from both days' front lines: coast, lagoon, border)")
    for o in res["per_oblast"]:
        rev = o["revision_gained_km2"] + o["revision_lost_km2"]
        lines.append(f"    {o['oblast']:<32} +{o['gained_km2']:,.1f}  -{o['lost_km2']:,.1f}  net {o['net_km2']:+,.1f}"
                     + (f"  (map revision +{o['revision_gained_km2']:,.1f} / -{o['revision_lost_km2']:,.1f})"
                        if rev >= 0.05 else ""))
    _emit(res, args.json, "\n".join(lines))
    return 0


def cmd_town(args) -> int:
    from .analytics.control import town_timeline
    from .sources.settlements import UnknownTownError

    s = _settings(args)
    gaz = _gazetteer(s)
    query = args.name if not args.oblast else f"{args.name}, {args.oblast}"
    try:
        match = gaz.lookup(query)
    except UnknownTownError as exc:
        raise UserError(str(exc)) from None
    if not match.clear:
        shown = match.candidates[:MAX_CANDIDATES]
        more = len(match.candidates) - len(shown)
        raise UserError(
            f"'{args.name}' is {len(match.candidates)} places; say which: a code, "
            "'Name, Hromada', 'Name, Raion' or --oblast:\n"
            + "\n".join(f"  {c.id}  {c.name} ({c.place})" + (f", {c.population:,} people" if c.population else "")
                        for c in shown)
            + (f"\n  … and {more} more" if more > 0 else ""))
    town = match.place
    store = _store(s)
    if town.id not in store.settlement_pos:
        why = ("it has no coordinates in the register, so it cannot be placed on the map"
               if not town.has_point else "the store predates it: run `frontline sync`")
        raise UserError(f"{town.name} ({town.place}; {town.id}) has no status: {why}")
    if args.source == "liveuamap":
        from .analytics import sources

        try:
            res = sources.town_timeline(store, town)
        except sources.SourceError as exc:
            raise UserError(str(exc)) from None
    else:
        res = town_timeline(store, town)
    t = res["town"]
    lines = [f"{t['name']} ({town.place}; {t['id']}; {t['lat']:.4f}N {t['lon']:.4f}E)"
             + (f" — matched from {query!r}" if match.how not in ("name", "code") else "")]
    if args.source == "liveuamap":
        lines.append("  according to Liveuamap via NZZ (occupied or not: it marks no grey zone)")
    lines.append(f"  first occupied: {res['first_occupied'] or 'never in the record'}")
    for sp in res["spans"]:
        lines.append(f"  {sp['from']} → {sp['to']}  {sp['status']}")
    _emit(res, args.json, "\n".join(lines))
    return 0


def cmd_compare_sources(args) -> int:
    from .analytics import sources

    s = _settings(args)
    store = _store(s)
    if args.series:
        try:
            sources.liveuamap(store)
        except sources.SourceError as exc:
            raise UserError(str(exc)) from None
        rows = sources.disagreement_series(store)
        lines = ["Where DeepState and Liveuamap via NZZ disagree (km² only one of them calls Russian-held), "
                 "on the first day of each month both cover (--json: every day):",
                 f"  {'day':<11} {'only DeepState':>15} {'only Liveuamap':>15} {'together':>10}"]
        seen = set()
        for r in rows:
            if r["date"][:7] not in seen:
                seen.add(r["date"][:7])
                lines.append(f"  {r['date']:<11} {r['deepstate_only_km2']:>15,.1f} {r['liveuamap_only_km2']:>15,.1f} "
                             f"{r['deepstate_only_km2'] + r['liveuamap_only_km2']:>10,.1f}")
        _emit({"series": rows}, args.json, "\n".join(lines))
        return 0
    if args.date is None:
        raise UserError("say which day: --date YYYY-MM-DD (or --series for every day)")
    gaz = _gazetteer(s)
    try:
        res = sources.compare_on(store, args.date, gaz)
    except sources.SourceError as exc:
        raise UserError(str(exc)) from None
    lines = [f"DeepState and Liveuamap via NZZ on {res['date']}" + (f"  ({res['note']})" if res["note"] else "")]
    lines.append(f"  Russian-held: DeepState {res['deepstate_km2']:,.1f} km², "
                 f"Liveuamap {res['liveuamap_km2']:,.1f} km²")
    lines.append(f"  They disagree on {res['disagree_km2']:,.1f} km²: only DeepState calls "
                 f"{res['deepstate_only_km2']:,.1f} km² Russian-held, "
                 f"only Liveuamap {res['liveuamap_only_km2']:,.1f} km²")
    for o in res["per_oblast"]:
        lines.append(f"    {o['oblast']:<32} only DeepState {o['deepstate_only_km2']:>9,.1f}   "
                     f"only Liveuamap {o['liveuamap_only_km2']:>9,.1f} km²")
    towns = res["towns"]
    lines.append(f"  {len(towns)} settlement(s) whose status differs" + (" (largest first):" if towns else "."))
    for t in towns[: args.limit]:
        lines.append(f"    {t.get('name', t['id'])} ({t.get('oblast', '')}; {t['id']}): DeepState {t['deepstate']}, "
                     f"Liveuamap {t['liveuamap']}")
    if len(towns) > args.limit:
        lines.append(f"    … and {len(towns) - args.limit} more (--json lists them all)")
    lines.append(f"  {sources.lm.CREDIT}")
    _emit(res, args.json, "\n".join(lines))
    return 0


# --- serve ----------------------------------------------------------------------------------

def cmd_serve(args) -> int:
    from .app import create_app

    s = load_settings(data_dir=Path(args.data_dir) if args.data_dir else None)
    app = create_app(s)
    app.run(host=args.host or s.host, port=args.port or s.port, debug=False)
    return 0


# --- notes ------------------------------------------------------------------------------------

def cmd_notes(args) -> int:
    from .sources.notes import check_notes

    s = _settings(args)
    gaz = _gazetteer(s)
    notes_dir = Path(args.dir) if args.dir else s.notes_dir
    if args.action == "check":
        problems = check_notes(notes_dir, lambda name: gaz.resolve(name).name)
        for p in problems:
            print(str(p))
        if problems:
            print(f"{len(problems)} problem(s) in {notes_dir}", file=sys.stderr)
            return 1
        print(f"All notes in {notes_dir} are valid.")
        return 0
    from .analytics.claims import notes_report
    from .sources.notes import load_notes

    store = _store(s)
    notes, _problems = load_notes(notes_dir)  # `frontline notes check` reports the problems
    rows = notes_report(store, gaz, notes)
    if args.json:
        _emit({"notes": rows}, True, "")
    else:
        for r in rows:
            print(f"{r['verdict']:<14} {r['id']}: {r['detail']}")
    return 0


# --- export and bench ---------------------------------------------------------------------------

def cmd_export(args) -> int:
    from .export.cli import run_export

    return run_export(args, _settings(args))


def cmd_bench(args) -> int:
    """Run ``perf.bench``, the benchmark of a source checkout (``perf/`` is not installed)."""
    from .settings import ROOT

    if not (ROOT / "perf" / "bench.py").is_file():
        raise UserError("the benchmark is only available from a source checkout (perf/ beside dashboard/): "
                        "clone the repository and run ./dev bench there")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from perf.bench import main as bench_main

    return bench_main(args.bench_args, prog="frontline bench", settings=_settings(args))


# --- entry point --------------------------------------------------------------------------------

def _source_arg(sp) -> None:
    sp.add_argument("--source", choices=["deepstate", "liveuamap"], default="deepstate",
                    help="whose map: DeepState (default, from 2022-04-03) or Liveuamap via NZZ (from 2022-02-24; "
                         "needs `frontline sync --liveuamap`)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="frontline", description="Front-line map of the war in Ukraine (DeepState data).")
    p.add_argument("--data-dir", help="store folder (default: $FRONTLINE_DATA_DIR or geodata/store)")
    sub = p.add_subparsers(dest="command", required=True)

    sp = sub.add_parser("sync", help="download what is new upstream into the local store")
    sp.add_argument("--deepstate-api", metavar="URL|DIR", help="API history base URL or folder of <id>.geojson")
    sp.add_argument("--deepstate-daily", metavar="URL|DIR", help="daily archive base URL or folder")
    sp.add_argument("--boundaries", metavar="URL|DIR", help="boundaries base URL or folder")
    sp.add_argument("--liveuamap", metavar="URL|DIR",
                    help="also add the second source, Liveuamap via NZZ: its upstream URL, a mirror folder of "
                         "nzz-liveuamap-YYYY.tar.xz archives or a folder of YYYY-MM-DD.json files (alone: only "
                         "the second source is synced, into the store DeepState's sync built)")
    sp.add_argument("--workers", type=int, help="worker processes (default 2)")
    sp.add_argument("--until", type=_date, help="last daily-archive file date to ask a URL for (default today)")
    sp.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    sp.add_argument("--check", action="store_true",
                    help="write nothing: report what a sync would add, refuse and repair (exit 1 if anything "
                         "would be refused or the store is damaged)")
    sp.add_argument("--accept-change", type=_date, action="append", metavar="DAY",
                    help="accept DAY's change of the Russian-held area even beyond the believable bound "
                         "(a real extraordinary day); repeatable")
    sp.set_defaults(func=cmd_sync)

    sp = sub.add_parser("doctor", help="check the store's files against their checksums; exit 1 if damaged")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_doctor)

    sp = sub.add_parser("area", help="km² per layer on a date")
    sp.add_argument("--date", type=_date, required=True)
    _source_arg(sp)
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_area)

    sp = sub.add_parser("change", help="km² gained and lost between two dates")
    sp.add_argument("--from", dest="date_from", type=_date, required=True)
    sp.add_argument("--to", dest="date_to", type=_date, required=True)
    _source_arg(sp)
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_change)

    sp = sub.add_parser("town", help="a settlement's control-status timeline")
    sp.add_argument("name", help="a name ('Bakhmut', 'Zaporizke, Velykomykhailivka', 'Lyman, Kharkiv') "
                                 "or a KATOTTG code (UA14020010010059145)")
    sp.add_argument("--oblast", help="only places in this oblast (or raion, or hromada)")
    _source_arg(sp)
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_town)

    sp = sub.add_parser("compare-sources",
                        help="where DeepState and Liveuamap disagree on a day: km², per oblast, settlements")
    sp.add_argument("--date", type=_date)
    sp.add_argument("--series", action="store_true", help="the disagreement on every day both sources cover, "
                                                          "instead of one day")
    sp.add_argument("--limit", type=int, default=30, help="settlements listed in the text output (default 30)")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_compare_sources)

    sp = sub.add_parser("serve", help="run the dashboard locally")
    sp.add_argument("--host")
    sp.add_argument("--port", type=int)
    sp.set_defaults(func=cmd_serve)

    sp = sub.add_parser("notes", help="validate or cross-check the sourced notes")
    sp.add_argument("action", choices=["check", "report"])
    sp.add_argument("--dir", help="notes folder (default geodata/notes)")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_notes)
    sp = sub.add_parser("export", help="export a snapshot: " + " | ".join(FORMATS))
    sp.add_argument("--date", type=_date, help="day to export (default: the newest)")
    sp.add_argument("--compare", type=_date, help="compare date: draw what was gained and lost since")
    sp.add_argument("--town", help="town to frame and describe")
    sp.add_argument("--briefing", help="a briefing name: export each of its scenes")
    sp.add_argument("--range", nargs=2, type=_date, metavar=("FROM", "TO"), help="batch: a date range")
    sp.add_argument("--step", type=int, default=7, help="batch: days between exports in --range (default 7)")
    sp.add_argument("--format", required=True, choices=list(FORMATS))
    sp.add_argument("--out", required=True, help="output file (single) or folder (batch)")
    sp.add_argument("--force", action="store_true", help="overwrite files that already exist (default: refuse)")
    sp.add_argument("--view", help="the map's view as the dashboard's view=: lat,lon,zoom (default: the town, "
                                   "or all of Ukraine)")
    sp.add_argument("--view-size", help="the map's size on screen the view is read at, WxH px (default 1000x620)")
    sp.add_argument("--layers", help="map layers to draw, as the dashboard's layers= (default: all)")
    sp.add_argument("--base", metavar="GROUPS",
                    help="base map groups to draw, as the dashboard's base=: comma-separated of "
                         f"{','.join(BASE_KEYS)}; an empty value draws none (default: all)")
    sp.add_argument("--base-url", default=None,
                    help="where the dashboard is served, for the caption's permalink (default: "
                         "FRONTLINE_PUBLIC_URL, else a relative ?date=… link)")
    sp.set_defaults(func=cmd_export)

    # The benchmark's own options (perf/bench.py) are passed on as they are: see main().
    sp = sub.add_parser("bench", add_help=False, help="print the benchmark figures (from a source checkout)")
    sp.set_defaults(func=cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if args.command == "bench":
        args.bench_args = rest
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    from .store.layout import StoreError

    try:
        return args.func(args)
    except (UserError, StoreError) as exc:
        print(f"frontline: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
