"""Display formatters for the `e2b/data`, `e2b/chart` and `application/json` MIME types."""
import datetime
import math
import sys

from IPython.core.formatters import BaseFormatter, JSONFormatter
from traitlets import ObjectName, Unicode


def plain(value, strict=False):
    """A JSON-safe copy of value: numpy values unwrapped, dates as ISO strings, NaN and NaT as null.

    Other objects become their str(), or raise TypeError when strict."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key if isinstance(key, str) else str(key): plain(item, strict) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item, strict) for item in value]
    if type(value).__name__ in ("NaTType", "NAType"):  # pandas' missing values (NaT is a datetime)
        return None
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):  # arrays and scalars
        if getattr(value, "dtype", None) is not None and value.dtype.kind in "mM":  # datetime64
            return plain(str(value), strict) if value.ndim == 0 else [plain(str(v), strict) for v in value]
        return plain(value.tolist(), strict)
    isoformat = getattr(value, "isoformat", None)  # pandas.Timestamp and friends
    if callable(isoformat):
        try:
            return isoformat()
        except (TypeError, ValueError):
            pass
    if strict:
        raise TypeError(f"{type(value).__name__} is not plain data")
    return str(value)


class DataFrameFormatter(BaseFormatter):
    """`e2b/data`: a DataFrame as {column: [values...]}, what `Result.data` carries."""

    format_type = Unicode("e2b/data")
    print_method = ObjectName("_repr_e2b_data_")
    _return_type = (dict, str)

    def __call__(self, obj):
        pandas = sys.modules.get("pandas")
        if pandas is not None and isinstance(obj, pandas.DataFrame):
            try:
                return plain(obj.to_dict(orient="list"))
            except Exception:  # noqa: BLE001 - a display must never fail the cell
                return None
        return super().__call__(obj)


class ChartFormatter(BaseFormatter):
    """`e2b/chart`: a matplotlib Figure described as a chart, what `Result.chart` carries."""

    format_type = Unicode("e2b/chart")
    print_method = ObjectName("_repr_e2b_chart_")
    _return_type = (dict, str)

    def __call__(self, obj):
        if "matplotlib.figure" in sys.modules:
            from matplotlib.figure import Figure

            if isinstance(obj, Figure):
                from .charts import figure_to_chart

                try:
                    return plain(figure_to_chart(obj))
                except Exception:  # noqa: BLE001
                    return {}
        return super().__call__(obj)


class PlainJSONFormatter(JSONFormatter):
    """`application/json` for lists and dicts that are plain data."""

    def __call__(self, obj):
        if type(obj) in (list, dict):
            try:
                return plain(obj, strict=True), {"expanded": True}
            except (TypeError, ValueError, RecursionError):
                pass
        return super().__call__(obj)


def install(ipython):
    formatters = ipython.display_formatter.formatters
    formatters["e2b/data"] = DataFrameFormatter(parent=ipython.display_formatter)
    formatters["e2b/chart"] = ChartFormatter(parent=ipython.display_formatter)
    formatters["application/json"] = PlainJSONFormatter(parent=ipython.display_formatter)
