"""Generate locked template workbooks from specs.

The writer (and XlsxWriter) is imported on first use, so that the checker can use the layout
without paying for the writer at start-up.
"""

from typing import TYPE_CHECKING, Any

from .layout import Layout, layout_spec

if TYPE_CHECKING:
    from .writer import generate_template

__all__ = ["Layout", "generate_template", "layout_spec"]


def __getattr__(name: str) -> Any:
    if name == "generate_template":
        from .writer import generate_template

        return generate_template
    raise AttributeError(name)
