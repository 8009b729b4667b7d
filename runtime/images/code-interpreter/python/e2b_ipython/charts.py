"""Describes a matplotlib figure as the chart structure E2B's clients expose as `Result.chart`.

Chart kinds and their fields (all charts have `type`, `title` and `elements`):
  line, scatter      x_label, y_label, x_unit, y_unit, x_ticks, x_tick_labels, x_scale,
                     y_ticks, y_tick_labels, y_scale; elements [{label, points: [[x, y], ...]}]
  bar                x_label, y_label, x_unit, y_unit; elements [{label, group, value}]
  pie                elements [{label, angle, radius}]
  box_and_whisker    x_label, y_label, x_unit, y_unit; elements [{label, min, first_quartile,
                     median, third_quartile, max, outliers}]
  superchart         one chart per axes in elements
  unknown            no elements
"""
import datetime
import math
import re

from matplotlib.collections import PathCollection
from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch, Rectangle, Wedge
from matplotlib.text import Text

_UNIT = re.compile(r"\s\((.*?)\)|\[(.*?)\]")


def figure_to_chart(figure):
    axes = figure.get_axes()
    if not axes or not any(ax.has_data() for ax in axes):
        return {}
    if len(axes) == 1:
        return axes_to_chart(axes[0])
    return {
        "type": "superchart",
        "title": _suptitle(figure),
        "elements": [axes_to_chart(ax) for ax in axes],
    }


def axes_to_chart(ax):
    kind = _kind_of(ax)
    if kind == "line":
        return _line_chart(ax)
    if kind == "scatter":
        return _scatter_chart(ax)
    if kind == "bar":
        return _bar_chart(ax)
    if kind == "pie":
        return _pie_chart(ax)
    if kind == "box_and_whisker":
        return _box_chart(ax)
    return {"type": "unknown", "title": _text_or_none(ax.get_title()), "elements": []}


def _kind_of(ax):
    artists = [a for a in getattr(ax, "_children", None) or ax.get_children() if not isinstance(a, Text)]
    if all(isinstance(a, Line2D) for a in artists):
        return "line"
    if all(isinstance(a, (PathPatch, Line2D)) for a in artists):
        return "box_and_whisker"
    artists = [a for a in artists if not (isinstance(a, Line2D) and _is_axis_parallel(a))]
    if all(isinstance(a, PathCollection) for a in artists):
        return "scatter"
    if all(isinstance(a, Wedge) for a in artists):
        return "pie"
    if all(isinstance(a, Rectangle) for a in artists):
        return "bar"
    return "unknown"


def _is_axis_parallel(line):
    """Reference lines (axhline, axvline, grids drawn as lines) are not data."""
    xs, ys = line.get_xdata(), line.get_ydata()
    return len(xs) == 2 and len(ys) == 2 and (xs[0] == xs[1] or ys[0] == ys[1])


# --- common parts ---------------------------------------------------------------------------

def _text_or_none(text):
    return text if text else None


def _suptitle(figure):
    getter = getattr(figure, "get_suptitle", None)
    if getter is not None:
        return getter()
    title = getattr(figure, "_suptitle", None)
    return title.get_text() if title is not None else ""


def _unit(label):
    if not label:
        return None
    match = _UNIT.search(label)
    return (match.group(1) or match.group(2)) if match else None


def _base(kind, ax):
    return {"type": kind, "title": _text_or_none(ax.get_title()), "elements": []}


def _with_axis_labels(chart, ax, swapped=False):
    x_label, y_label = _text_or_none(ax.get_xlabel()), _text_or_none(ax.get_ylabel())
    if swapped:
        x_label, y_label = y_label, x_label
    chart.update({"x_label": x_label, "y_label": y_label, "x_unit": _unit(x_label), "y_unit": _unit(y_label)})
    return chart


def _significant(number):
    """Rounds away float noise: about 8 significant digits, fewer decimals for large numbers."""
    number = float(number)
    if number == 0 or not math.isfinite(number):
        return number
    exponent = math.floor(math.log10(abs(number)))
    digits = max(1, 8 - exponent)
    return float(f"{number:.{digits}g}")


def _is_date_axis(axis):
    converter = getattr(axis, "converter", None)
    if converter is None and hasattr(axis, "get_converter"):
        converter = axis.get_converter()
    return converter is not None and type(converter).__module__ == "matplotlib.dates"


def _ticks(axis, ticks):
    if _is_date_axis(axis):
        from matplotlib.dates import num2date

        return [num2date(tick).isoformat() for tick in ticks]
    return [float(tick) if isinstance(tick, (int, float)) or hasattr(tick, "dtype") else tick for tick in ticks]


def _scale(axis, scale, ticks, labels):
    if _is_date_axis(axis):
        return "datetime"
    if scale != "linear":
        return scale
    # Ticks 0..n-1 labelled with something else than their number: categories.
    for index, (tick, label) in enumerate(zip(ticks, labels)):
        if not (isinstance(tick, float) and tick == index and label != str(index)):
            return "linear"
    return "categorical"


def _point(value):
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if type(value).__name__ == "datetime64":
        return str(value.astype("datetime64[s]"))
    if hasattr(value, "item"):
        value = value.item()
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


# --- line and scatter -----------------------------------------------------------------------

def _point_chart(kind, ax):
    chart = _with_axis_labels(_base(kind, ax), ax)
    x_labels = [label.get_text() for label in ax.get_xticklabels()]
    y_labels = [label.get_text() for label in ax.get_yticklabels()]
    x_ticks = _ticks(ax.xaxis, ax.get_xticks())
    y_ticks = _ticks(ax.yaxis, ax.get_yticks())
    chart.update({
        "x_ticks": x_ticks,
        "x_tick_labels": x_labels,
        "x_scale": _scale(ax.xaxis, ax.get_xscale(), x_ticks, x_labels),
        "y_ticks": y_ticks,
        "y_tick_labels": y_labels,
        "y_scale": _scale(ax.yaxis, ax.get_yscale(), y_ticks, y_labels),
    })
    return chart


def _line_chart(ax):
    chart = _point_chart("line", ax)
    for line in ax.get_lines():
        if _is_axis_parallel(line):
            continue
        label = line.get_label()
        if label.startswith("_child"):
            label = f"Line {label[len('_child'):]}"
        points = [[_point(x), _point(y)] for x, y in zip(line.get_xdata(), line.get_ydata())]
        chart["elements"].append({"label": label, "points": points})
    return chart


def _scatter_chart(ax):
    chart = _point_chart("scatter", ax)
    for collection in ax.collections:
        points = [[_point(x), _point(y)] for x, y in collection.get_offsets()]
        chart["elements"].append({"label": collection.get_label(), "points": points})
    return chart


# --- bars -----------------------------------------------------------------------------------

def _bar_chart(ax):
    chart = _base("bar", ax)
    swapped = False
    for container in ax.containers:
        rects = list(container)
        if not rects:
            continue
        group = container.get_label() or ""
        if group.startswith("_container"):
            group = f"Group {group[len('_container'):]}"
        heights = [rect.get_height() for rect in rects]
        orientation = getattr(container, "orientation", None)
        if orientation in ("horizontal", "vertical"):
            horizontal = orientation == "horizontal"
        else:
            horizontal = len(rects) > 1 and all(h == heights[0] for h in heights)
        swapped = swapped or horizontal
        values = [rect.get_width() for rect in rects] if horizontal else heights
        labels = _bar_labels(ax, rects, horizontal)
        for label, value in zip(labels, values):
            chart["elements"].append({"label": label, "group": group, "value": float(value)})
    return _with_axis_labels(chart, ax, swapped)


def _bar_labels(ax, rects, horizontal):
    """The category of each bar: the tick labels in order, or the label of the tick at its centre."""
    axis_labels = ax.get_yticklabels() if horizontal else ax.get_xticklabels()
    texts = [label.get_text() for label in axis_labels]
    if len(texts) == len(rects):
        return texts
    ticks = list(ax.get_yticks() if horizontal else ax.get_xticks())
    labels = []
    for rect in rects:
        if horizontal:
            centre, half = rect.get_y() + rect.get_height() / 2, abs(rect.get_height()) / 2
        else:
            centre, half = rect.get_x() + rect.get_width() / 2, abs(rect.get_width()) / 2
        match = next((text for tick, text in zip(ticks, texts) if abs(tick - centre) <= half and text), None)
        labels.append(match if match is not None else f"{_significant(centre):g}")
    return labels


# --- pie ------------------------------------------------------------------------------------

def _pie_chart(ax):
    chart = _base("pie", ax)
    for wedge in ax.patches:
        if not isinstance(wedge, Wedge):
            continue
        chart["elements"].append({
            "label": wedge.get_label(),
            "angle": abs(_significant(float(wedge.theta2) - float(wedge.theta1))),
            "radius": float(wedge.r),
        })
    return chart


# --- box and whisker ------------------------------------------------------------------------

def _box_chart(ax):
    chart = _base("box_and_whisker", ax)
    labels = [label.get_text() for label in ax.get_xticklabels()]
    boxes = []
    for label, patch in zip(labels, ax.patches):
        vertices = patch.get_path().vertices
        xs = [_significant(x) for x in vertices[:, 0]]
        ys = [_significant(y) for y in vertices[:, 1]]
        boxes.append({"label": label, "x": min(xs), "y": min(ys), "width": max(xs) - min(xs),
                      "height": max(ys) - min(ys), "outliers": []})
    if not boxes:
        return _with_axis_labels(chart, ax)

    # Boxes of one height are horizontal (vert=False): work in swapped coordinates.
    if len(boxes) > 1:
        swapped = all(box["height"] == boxes[0]["height"] for box in boxes)
    else:  # one box: it sits on a tick of the category axis
        box = boxes[0]
        swapped = not _near_tick(box["x"] + box["width"] / 2, ax.get_xticks()) and _near_tick(
            box["y"] + box["height"] / 2, ax.get_yticks())
    if swapped:
        labels = [label.get_text() for label in ax.get_yticklabels()]
        for box, label in zip(boxes, labels):
            box.update({"label": label, "x": box["y"], "y": box["x"], "width": box["height"], "height": box["width"]})

    def box_at(x):  # noqa: E306
        return next((box for box in boxes if box["x"] <= x <= box["x"] + box["width"]), None)

    for line in ax.lines:
        xs = [_significant(v) for v in line.get_xdata()]
        ys = [_significant(v) for v in line.get_ydata()]
        if swapped:
            xs, ys = ys, xs
        if not xs:
            continue
        if line.get_linestyle() in ("None", "", " ") or len(xs) == 1:  # fliers
            for x, y in zip(xs, ys):
                box = box_at(x)
                if box is not None:
                    box["outliers"].append(y)
            continue
        if len(xs) != 2:
            continue
        box = box_at(xs[0])
        if box is None or not xs[1] <= box["x"] + box["width"]:
            continue
        low, high = min(ys), max(ys)
        if ys[0] == ys[1]:
            if box["y"] <= ys[0] <= box["y"] + box["height"]:
                box["median"] = ys[0]
        elif high == box["y"]:
            box["whisker_low"] = low
        elif low == box["y"] + box["height"]:
            box["whisker_high"] = high

    chart["elements"] = [{
        "label": box["label"],
        "min": box.get("whisker_low", box["y"]),
        "first_quartile": box["y"],
        "median": box.get("median"),
        "third_quartile": _significant(box["y"] + box["height"]),
        "max": box.get("whisker_high", _significant(box["y"] + box["height"])),
        "outliers": box["outliers"],
    } for box in boxes]
    return _with_axis_labels(chart, ax, swapped)


def _near_tick(value, ticks):
    return any(abs(float(tick) - value) < 1e-9 for tick in ticks)
