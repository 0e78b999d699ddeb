"""Long tables rendered in Python: hundreds of rows through the template engine cost more
than every query of the page together; format_html_join escapes each value the same way."""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString


def trend_table_rows(rows: list[dict]) -> SafeString:
    return format_html_join(
        "\n",
        '<tr{}><td>{}</td><td>{}</td><td{}>{}</td><td>{}</td><td>{}</td><td><a href="{}">open</a></td></tr>',
        (
            (
                format_html(' class="{}"', "uncertain") if r["flagged"] else "",
                r["date"],
                r["side"] or "—",
                format_html(' class="{}"', "flag") if r["flagged"] else "",
                r["peak_text"],
                r["spread_text"],
                r["u_text"],
                r["url"],
            )
            for r in rows
        ),
    )
