"""Every component id, once: callbacks, client-side code and tests use these names."""

# Page structure
PAGE = "page"
NOTICES = "notices"
FRESHNESS = "freshness"
INIT = "init-state"          # validated state from the URL, read by the map on load
VIEW_STATE = "view-state"    # what the map shows; set by client-side code, drives the panels
MAP = "map"
MAP_ERROR = "map-error"
MAP_SYNC = "map-sync"        # dummy output of the client-side callbacks
PERMALINK = "permalink"

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
TABS = "panel-tabs"
UNITS = "units"
AREA_SUMMARY = "area-summary"
AREA_CHART = "area-chart"
WEEKLY_CHART = "weekly-chart"
WINDOW = "change-window"
WINDOW_SUMMARY = "window-summary"
TOWN_SEARCH = "town-search"
TOWN_PANEL = "town-panel"
TOWN_STRIP = "town-strip"
NOTES_LIST = "notes-list"
NOTES_ALL = "notes-all"
CLAIMS = "claims-view"
