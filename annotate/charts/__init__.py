"""Small server-rendered SVG charts: no JavaScript, no inline style, every text escaped.

Each builder returns a SafeString holding one <svg role="img"> with an aria-label and a
<title>. Colours and sizes are SVG presentation attributes, so a strict
Content-Security-Policy (no 'unsafe-inline' styles) leaves them alone. Titles, article
titles and source names are user data: they only ever pass through format_html.

One module a kind of chart (bars, heat_map, lines, strip) on the primitives of svg.
"""
