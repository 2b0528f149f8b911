"""Every component id, once: callbacks, client-side code and tests use these names.

The browser's code never types an id: the server hands it :func:`browser` with the page's
initial state (the home page's ``INIT`` store, the briefing's plan).
"""

# Page structure
PAGE = "page"
NOTICES = "notices"
FRESHNESS = "freshness"
INIT = "init-state"          # validated state from the URL, read by the map on load
VIEW_STATE = "view-state"    # what the map shows; set by client-side code on every change
PANEL_KEY = "panel-key"      # the compare date and town: a change runs the server-side panels
MAP = "map"
MAP_SLOT = "map-slot"        # the map's place in the home page's layout (the map is in the page's HTML)
MAP_ERROR = "map-error"
MAP_SYNC = "map-sync"        # dummy output of the client-side callbacks
PERMALINK = "permalink"
COPY_LINK = "copy-link"      # copies the permalink to the clipboard
COPY_STATUS = "copy-status"  # its confirmation ("Link copied"), announced to screen readers

# Timeline
DATE_DISPLAY = "date-display"
SLIDER = "timeline-slider"
BTN_BACK_WEEK = "btn-back-week"
BTN_BACK_DAY = "btn-back-day"
BTN_PLAY = "btn-play"
BTN_FWD_DAY = "btn-fwd-day"
BTN_FWD_WEEK = "btn-fwd-week"
SPEED = "play-speed"
DATE_PICKER = "date-picker"
COMPARE_PICKER = "compare-picker"
UNKNOWN_STRIP = "unknown-strip"

# Side panels
TABS = "panel-tabs"          # the tab list (role=tablist); its tabs are buttons, tab_id(key)
PANEL_TAB = "panel-tab"      # the selected tab's key ("area", "town", "claims"), kept by the browser
UNITS = "units"
AREA_SUMMARY = "area-summary"
AREA_CHART = "area-chart"
WEEKLY_CHART = "weekly-chart"
AREA_CHART_TEXT = "area-chart-text"      # the charts' text alternatives
WEEKLY_CHART_TEXT = "weekly-chart-text"
WINDOW = "change-window"
WINDOW_SUMMARY = "window-summary"
TOWN_SEARCH = "town-search"
TOWN_PANEL = "town-panel"
TOWN_STRIP = "town-strip"
NOTES_LIST = "notes-list"
NOTES_ALL = "notes-all"
CLAIMS = "claims-view"
# Figures inside the panels (tests read them)
AREA_TOTAL = "area-total"
WINDOW_GAINED = "window-gained"
WINDOW_LOST = "window-lost"
WINDOW_NET = "window-net"
WINDOW_REVISION = "window-revision"
TOWN_STATUS = "town-status"
TOWN_FIRST_OCCUPIED = "town-first-occupied"
TOWN_DISTANCE = "town-distance"
#: Pattern-matching id type of every clickable note element (``{"type": NOTE, "index": key}``).
NOTE = "note"

# Briefing-room mode (/briefing); the map is MAP and its errors go to MAP_ERROR there too
BRIEFING = "briefing"
BRIEFING_PLAN = "briefing-plan"
BRIEFING_POLL = "briefing-poll"
BRIEFING_SYNC = "briefing-sync"
BRIEFING_STATUS = "briefing-status"
BRIEFING_FRESH = "briefing-fresh"
BRIEFING_NOTICES = "briefing-notices"
BRIEFING_KICKER = "briefing-kicker"
BRIEFING_SCENE_TITLE = "briefing-scene-title"
BRIEFING_DATE = "briefing-date"
BRIEFING_RANGE = "briefing-range"
BRIEFING_CHANGE = "briefing-change"
BRIEFING_CAPTION = "briefing-caption"
BRIEFING_PROGRESS = "briefing-progress"
BRIEFING_PAUSED = "briefing-paused"


def export_button(fmt: str) -> str:
    """The id of the Export menu's button for format ``fmt``."""
    return f"export-{fmt}"


def tab_id(key: str) -> str:
    """The id of the side panels' tab ``key`` (its panel is ``tab_panel_id(key)``)."""
    return f"tab-{key}"


def tab_panel_id(key: str) -> str:
    return f"tabpanel-{key}"


def browser() -> dict[str, str]:
    """Every id above by its name (``{"MAP": "map", …}``), for the browser's code."""
    return {k: v for k, v in globals().items() if k.isupper() and isinstance(v, str)}
