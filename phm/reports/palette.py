"""The NHS identity colours (england.nhs.uk/nhsidentity) and the chart style every profile uses."""

from __future__ import annotations

NHS_BLUE = "#005EB8"
NHS_DARK_BLUE = "#003087"
NHS_BRIGHT_BLUE = "#0072CE"
NHS_LIGHT_BLUE = "#41B6E6"
NHS_AQUA_GREEN = "#00A499"
NHS_WARM_YELLOW = "#FFB81C"
NHS_ORANGE = "#ED8B00"
NHS_RED = "#DA291C"
NHS_DARK_PINK = "#7C2855"
NHS_DARK_GREY = "#425563"
NHS_MID_GREY = "#768692"
NHS_PALE_GREY = "#E8EDEE"
BLACK = "#231F20"

THIS_AREA = NHS_BLUE  # the PCN / place the page is about
COMPARATOR = NHS_MID_GREY  # the LLR average beside it
HIGHER = NHS_DARK_PINK
LOWER = NHS_BRIGHT_BLUE
SIMILAR = NHS_MID_GREY
KAISER = {3: NHS_DARK_PINK, 2: NHS_ORANGE, 1: NHS_AQUA_GREEN}
COST_BANDS = (NHS_DARK_BLUE, NHS_BLUE, NHS_LIGHT_BLUE, NHS_PALE_GREY)

# matplotlib settings, applied with rc_context while charts are drawn (never globally).
# text.parse_math off: a label is never read as mathtext, whatever characters it holds.
CHART_STYLE = {
    "font.family": "sans-serif",
    "font.sans-serif": ["Arial", "Liberation Sans", "DejaVu Sans"],
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "axes.edgecolor": NHS_DARK_GREY,
    "axes.labelcolor": BLACK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": NHS_DARK_GREY,
    "ytick.color": NHS_DARK_GREY,
    "legend.frameon": False,
    "legend.fontsize": 8,
    "text.parse_math": False,
    "svg.fonttype": "none",
}
