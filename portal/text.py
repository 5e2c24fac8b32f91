"""Messages translated when shown, whose interpolated values are escaped in HTML.

Flask-Babel's lazy strings declare themselves safe HTML as a whole, so a message such as
"“%(code)s” is not a frequency" would put a visitor's `<img onerror=...>` on the page unescaped
(and a flashed message keeps that claim through the session). Here only the translated text is
trusted; every value put into it is escaped, and Markup values stay as they are.
"""

from __future__ import annotations

from flask_babel import gettext
from flask_babel.speaklater import LazyString
from markupsafe import Markup


class LazyText(LazyString):
    def __init__(self, string: str, **variables):
        super().__init__(gettext, string, **variables)

    def __html__(self) -> Markup:
        (string,) = self._args
        template = Markup(gettext(string))
        return template % self._kwargs if self._kwargs else template


def lazy_text(string: str, **variables) -> LazyText:
    return LazyText(string, **variables)
