"""The report's one style sheet: readable on screen (WCAG AA contrast, visible focus) and on paper."""

STYLE = """\
:root { color-scheme: light; --ink: #1b1b1b; --muted: #4a4a4a; --link: #0b4fa6; --line: #c8c8c8;
  --ins-bg: #d4f4dc; --ins-ink: #0a3d1a; --del-bg: #fbe0e0; --del-ink: #6b0d0d; --mark: #0b4fa6; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 72rem; padding: 0 1rem 2rem; color: var(--ink); background: #fff;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; }
a { color: var(--link); }
a:focus-visible, summary:focus-visible { outline: 3px solid #b35c00; outline-offset: 2px; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .5rem; z-index: 1; }
header.site, footer.site { color: var(--muted); font-size: .9rem; padding: .75rem 0; }
footer.site { border-top: 1px solid var(--line); margin-top: 2rem; }
h1 { font-size: 1.8rem; margin: .5rem 0; }
h2 { font-size: 1.25rem; margin: 1.5rem 0 .5rem; }
.lead, .legend { color: var(--muted); }
table.documents { border-collapse: collapse; width: 100%; }
table.documents caption { text-align: left; color: var(--muted); padding: .5rem 0; }
table.documents th, table.documents td { border-bottom: 1px solid var(--line); padding: .5rem; text-align: left;
  vertical-align: top; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
td.picture { width: 30%; min-width: 10rem; }
.key { color: var(--muted); font-size: .85rem; font-weight: normal; }
svg.timeline { display: block; width: 100%; height: 1.5rem; }
svg.timeline line { stroke: var(--line); stroke-width: 2; }
svg.timeline rect { fill: var(--mark); }
ol.versions { columns: 2 18rem; padding-left: 1.5rem; }
article.version { border-top: 2px solid var(--line); margin-top: 1.5rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .5rem 0 1rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.diff p, .text p { white-space: pre-wrap; margin: 0 0 .75rem; }
.diff p.same { color: var(--muted); }
.diff p.folded, .diff p.note { color: var(--muted); font-style: italic; }
ins { background: var(--ins-bg); color: var(--ins-ink); text-decoration: underline; }
del { background: var(--del-bg); color: var(--del-ink); text-decoration: line-through; }
details.fulltext summary { cursor: pointer; color: var(--link); }
nav.pages ul { list-style: none; display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; padding: 0; margin: 1rem 0; }
ol.pages { columns: 2 18rem; padding-left: 2rem; }
@media print {
  body { max-width: none; font-size: 11pt; }
  .skip, header.site, svg.timeline, nav.pages { display: none; }
  ins, del { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  article.version { break-inside: auto; }
  h2 { break-after: avoid; }
  a[href^="http"]::after { content: " <" attr(href) ">"; font-size: .85em; overflow-wrap: anywhere; }
  dl.facts a[href^="http"]::after { content: ""; }
  details.fulltext > :not(summary) { display: block; }
}
"""
