"""The naive baseline that the benchmark (``perf.bench``) compares the dashboard against.

What the performance targets call "a plain Dash + GeoPandas implementation that reads the day's
GeoJSON and builds a Plotly choropleth map per request". Per request, the one
callback of :func:`create_baseline_app`:

1. picks the raw upstream file that holds the day (the API's last snapshot of that UTC
   day, else the daily-archive file written the next morning) from a file index built
   once at start-up (a directory listing, no parsing);
2. reads it with ``geopandas.read_file`` (pyogrio);
3. keeps the polygons and classifies them with the project's own
   :func:`~dashboard.sources.deepstate.classify_feature` (a few regular expressions),
   dropping territory outside Ukraine — the minimal "clip": no overlay with the outline,
   no union, no simplification; its rings turned clockwise, as Plotly's geo maps want them;
4. builds a ``plotly.express.choropleth`` coloured by layer with
   ``fitbounds="locations"`` and returns the figure.

It is meant to be an honest, idiomatic first implementation, not a straw man: it
does no work the map does not need (no areas, no reprojection), and the app is
served with response compression on, like the dashboard. Plotly would fetch the figure's
basemap from a CDN: the app serves an empty one itself (no internet; the map shows the day's
polygons only). The benchmark times its server side per request, and in the browser the
whole page settling after a new date is typed (beside the dashboard's, on the same days).
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from dashboard.sources.deepstate import DAILY_PREFIX, LAYERS, classify_feature
from dashboard.vocab import COLORS  # the dashboard's palette, so the two maps match

DATE_INPUT = "baseline-date"
MAP = "baseline-map"
#: A CSS selector that matches once the baseline's map is drawn (the bench's browser waits for it).
GRAPH_READY = f"#{MAP} .choroplethlayer path"


def snapshot_index(api_dir: Path | None, daily_dir: Path | None) -> dict[date, Path]:
    """The raw file that holds each UTC day: the API's last snapshot, else the daily archive."""
    out: dict[date, Path] = {}
    if daily_dir is not None and Path(daily_dir).is_dir():
        for p in Path(daily_dir).iterdir():
            name = p.name
            if name.startswith(DAILY_PREFIX) and name.endswith(".geojson"):
                try:
                    file_day = datetime.strptime(name[len(DAILY_PREFIX):-len(".geojson")], "%Y%m%d").date()
                except ValueError:
                    continue
                out[file_day - timedelta(days=1)] = p  # the file of D holds the end of D-1
    if api_dir is not None and Path(api_dir).is_dir():
        last: dict[date, tuple[int, Path]] = {}
        for p in Path(api_dir).iterdir():
            stem = p.name[: -len(".geojson")] if p.name.endswith(".geojson") else ""
            if stem.isdigit():
                ts = int(stem)
                d = datetime.fromtimestamp(ts, tz=UTC).date()
                if d not in last or ts > last[d][0]:
                    last[d] = (ts, p)
        out.update({d: p for d, (_, p) in last.items()})
    return dict(sorted(out.items()))


def day_figure(path: Path):
    """Read one raw snapshot with GeoPandas and build its choropleth (the per-request work)."""
    import geopandas as gpd
    import plotly.express as px
    import shapely

    gdf = gpd.read_file(path)
    gdf = gdf[gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    if "name" in gdf.columns:
        fills = gdf["fill"] if "fill" in gdf.columns else [None] * len(gdf)
        layer = [classify_feature({"name": n, "fill": f}) for n, f in zip(gdf["name"], fills)]
    else:  # the daily archive: one occupied-area polygon
        layer = ["occupied"] * len(gdf)
    gdf = gdf.assign(layer=layer)
    gdf = gdf[gdf["layer"].isin(LAYERS)].reset_index(drop=True)
    # Plotly's geo maps (d3) read a counter-clockwise ring as "everything but": the first try
    # paints the whole world; rings turned clockwise draw the zones.
    gdf = gdf.set_geometry(shapely.orient_polygons(gdf.geometry.values, exterior_cw=True))
    fig = px.choropleth(gdf, geojson=gdf.geometry, locations=gdf.index, color="layer",
                        color_discrete_map=COLORS, category_orders={"layer": list(LAYERS)})
    fig.update_geos(fitbounds="locations", visible=False)
    fig.update_layout(margin={"l": 0, "r": 0, "t": 0, "b": 0}, legend_title_text="")
    return fig


def create_baseline_app(api_dir: Path | None, daily_dir: Path | None):
    """A minimal Dash app: a date box and a choropleth rebuilt from the raw file per request."""
    from dash import Dash, Input, Output, dcc, html, no_update

    index = snapshot_index(api_dir, daily_dir)
    days = list(index)
    app = Dash(__name__, serve_locally=True, compress=True, title="baseline")
    app.layout = html.Div([
        dcc.Input(id=DATE_INPUT, type="text", value=str(days[-1]) if days else "", debounce=True),
        # Plotly's geo maps fetch their basemap (topojson) from a CDN; offline, the app serves an
        # empty one itself, so the map draws the day's polygons and nothing else.
        dcc.Graph(id=MAP, config={"topojsonURL": "/baseline-topojson/"}),
    ])

    @app.server.route("/baseline-topojson/<name>.json")
    def empty_basemap(name: str):
        objects = {k: {"type": "GeometryCollection", "geometries": []}
                   for k in ("coastlines", "land", "ocean", "lakes", "rivers", "countries", "subunits")}
        return {"type": "Topology", "objects": objects, "arcs": []}

    @app.callback(Output(MAP, "figure"), Input(DATE_INPUT, "value"))
    def update_map(value):
        try:
            path = index[date.fromisoformat(value)]
        except (TypeError, ValueError, KeyError):
            return no_update
        return day_figure(path)

    app._baseline_days = days
    return app


#: Where ``gunicorn perf.baseline:server`` finds the raw files (the benchmark sets them).
API_ENV, DAILY_ENV = "FRONTLINE_BASELINE_API", "FRONTLINE_BASELINE_DAILY"
_server = None


def __getattr__(name: str):
    """``server``: the baseline's WSGI app for gunicorn (served as the Procfile serves the
    dashboard), on the folders named by :data:`API_ENV` and :data:`DAILY_ENV`."""
    global _server
    if name == "server":
        if _server is None:
            import os

            def folder(var):
                return Path(os.environ[var]) if os.environ.get(var) else None

            _server = create_baseline_app(folder(API_ENV), folder(DAILY_ENV)).server
        return _server
    raise AttributeError(name)
